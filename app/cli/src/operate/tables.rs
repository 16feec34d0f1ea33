//! `network tables update FILE`: what changes, class by class and field by
//! field, then the update.

use super::{prefixed, report_fields};
use crate::admin::{send_as_admin, Outcome};
use crate::member::NetworkView;
use crate::Failure;
use anchor_lang::prelude::Pubkey;
use serde_json::json;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::state::{label_text, NetworkTables, RewardTablesData};
use upline_sdk::client::Cluster;
use upline_sdk::ix;
use upline_sdk::preset::Preset;

/// One field that changes: where, which, from what to what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub scope: String,
    pub field: String,
    pub was: Option<String>,
    pub now: Option<String>,
}

/// What `network tables update` would send.
pub struct TablesPlan {
    pub network: Pubkey,
    pub changes: Vec<Change>,
    tables: Option<NetworkTables>,
    reports: Option<RewardTablesData>,
}

type Field = (String, String, String);

fn flatten(t: &NetworkTables, ledger_name: &dyn Fn(u8) -> String) -> Vec<Field> {
    let mut out = Vec::new();
    let mut put = |scope: &str, field: &str, value: String| {
        out.push((scope.to_string(), field.to_string(), value));
    };
    for class in t.classes.iter().take(usize::from(t.class_count)) {
        let scope = format!("class {}", label_text(&class.name));
        put(&scope, "referral_depth", class.referral_depth.to_string());
        let rates: Vec<String> = class
            .commission_rates
            .iter()
            .map(ToString::to_string)
            .collect();
        put(&scope, "commission_rates", rates.join(", "));
        put(&scope, "direct_bonus", class.direct_bonus.to_string());
        put(
            &scope,
            "direct_bonus_ledger",
            ledger_name(class.direct_bonus_ledger),
        );
        let trigger = format!("{:?}", class.direct_bonus_trigger);
        put(&scope, "direct_bonus_trigger", trigger);
    }
    let n = "network";
    put(
        n,
        "same_class_referrals",
        t.same_class_referrals.to_string(),
    );
    for (tier, rate) in ["standard", "premium", "vip"].iter().zip(t.tier_rates) {
        put(n, &format!("tier_rates.{tier}"), rate.to_string());
    }
    let e = &t.early_bonus;
    put(
        n,
        "early_bonus.growth_phase_seconds",
        e.growth_phase_seconds.to_string(),
    );
    put(
        n,
        "early_bonus.early_referee_limit",
        e.early_referee_limit.to_string(),
    );
    put(
        n,
        "early_bonus.early_member_limit",
        e.early_member_limit.to_string(),
    );
    put(
        n,
        "early_bonus.early_referee_class",
        e.early_referee_class.to_string(),
    );
    put(
        n,
        "max_report_age_seconds",
        t.max_report_age_seconds.to_string(),
    );
    out
}

fn diff(before: &[Field], after: &[Field]) -> Vec<Change> {
    let find = |list: &[Field], scope: &str, field: &str| {
        list.iter()
            .find(|(s, f, _)| s == scope && f == field)
            .map(|(_, _, v)| v.clone())
    };
    let mut changes = Vec::new();
    for (scope, field, value) in after {
        let was = find(before, scope, field);
        if was.as_ref() != Some(value) {
            changes.push(Change {
                scope: scope.clone(),
                field: field.clone(),
                was,
                now: Some(value.clone()),
            });
        }
    }
    for (scope, field, value) in before {
        if find(after, scope, field).is_none() {
            changes.push(Change {
                scope: scope.clone(),
                field: field.clone(),
                was: Some(value.clone()),
                now: None,
            });
        }
    }
    changes
}

/// Read the network and compare its tables with `preset`'s.
pub async fn plan<C: Cluster>(
    cluster: &mut C,
    network: Pubkey,
    preset: &Preset,
) -> Result<TablesPlan, Failure> {
    let bad = |e: upline_sdk::preset::PresetError| Failure::input(format!("FILE: {}", e.0));
    let tables = preset.tables().map_err(bad)?;
    let reports = preset.reward_tables().map_err(bad)?;
    let view = NetworkView::load(cluster, network).await?;
    let names: Vec<String> = view
        .ledgers
        .iter()
        .map(|l| label_text(&l.name).to_string())
        .collect();
    let ledger_name = |i: u8| {
        names
            .get(usize::from(i))
            .cloned()
            .unwrap_or_else(|| format!("ledger {i}"))
    };
    let mut changes = diff(
        &flatten(&view.network.tables, &ledger_name),
        &flatten(&tables, &ledger_name),
    );
    let table_changes = changes.len();
    let class_names = view.class_names();
    let class_name = |i: u8| {
        class_names
            .get(usize::from(i))
            .map_or_else(|| format!("class {i}"), |n| (*n).to_string())
    };
    let current = view.reports.as_ref().map(|r| r.data).unwrap_or_default();
    changes.extend(diff(
        &report_fields::flatten(&current, &ledger_name, &class_name),
        &report_fields::flatten(&reports, &ledger_name, &class_name),
    ));
    let report_changes = view.reports.as_ref().map(|r| r.data) != Some(reports);
    Ok(TablesPlan {
        network,
        tables: (table_changes > 0).then_some(tables),
        reports: report_changes.then_some(reports),
        changes,
    })
}

impl TablesPlan {
    /// The changes, one a line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for c in &self.changes {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
            out += &format!(
                "  {:<16} {:<34} {} -> {}\n",
                c.scope,
                c.field,
                show(&c.was),
                show(&c.now)
            );
        }
        out
    }

    fn json(&self, applied: bool, version: Option<u32>) -> serde_json::Value {
        let changes: Vec<_> = self
            .changes
            .iter()
            .map(|c| json!({"scope": c.scope, "field": c.field, "was": c.was, "now": c.now}))
            .collect();
        json!({"network": self.network.to_string(), "changes": changes, "applied": applied,
               "tables_version": version, "changed": applied && !self.changes.is_empty()})
    }

    /// Nothing to change: the outcome to print.
    pub fn unchanged(&self) -> Option<Outcome> {
        self.changes.is_empty().then(|| Outcome {
            text: format!(
                "tables of network {} already match the file\n",
                self.network
            ),
            json: self.json(false, None),
        })
    }

    /// Not applied (no confirmation): the outcome to print.
    pub fn not_applied(&self) -> Outcome {
        Outcome {
            text: format!("{}not applied\n", self.text()),
            json: self.json(false, None),
        }
    }

    /// Send the update.
    pub async fn apply<C: Cluster>(
        &self,
        cluster: &mut C,
        admin: &dyn Signer,
    ) -> Result<Outcome, Failure> {
        let network = self.network;
        let view = NetworkView::load(cluster, network).await?;
        let was = view.network.tables_version;
        let me = admin.pubkey();
        let explain = |f: &upline_sdk::client::TxFailure| {
            f.is(UplineError::InvalidTables)
                .then(|| "InvalidTables: the program refuses these tables (a class, ledger or rate out of range)".to_string())
        };
        if let Some(tables) = self.tables {
            let instruction = ix::update_tables(&me, &network, tables);
            send_as_admin(cluster, admin, &view, instruction, explain)
                .await
                .map_err(|f| prefixed(f, "tables update: "))?;
        }
        if let Some(reports) = self.reports {
            let instruction = ix::set_reward_tables(&me, &network, reports);
            send_as_admin(cluster, admin, &view, instruction, explain)
                .await
                .map_err(|f| prefixed(f, "tables update (report tables): "))?;
        }
        let now = NetworkView::load(cluster, network)
            .await?
            .network
            .tables_version;
        Ok(Outcome {
            text: format!(
                "{}updated the tables of network {network}: version {now} (was {was})\n",
                self.text()
            ),
            json: self.json(true, Some(now)),
        })
    }
}
