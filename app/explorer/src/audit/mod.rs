//! `upline explorer audit`: recompute every credit from the indexed events
//! and the tables in force when each happened, then hold the account
//! snapshots to the events. The verdict is `pass` only if nothing disagrees.
//!
//! Each saved audit leaves a checkpoint of its replay per network; the next
//! [`audit_incremental`] resumes from it, reading only the events indexed
//! since and re-checking only the members they touch, for the same verdict
//! a full audit would give. What it does not do is read again what came
//! before the checkpoint: an index row rewritten since is caught only by a
//! full audit ([`audit`], `upline explorer audit --full`).

mod balances;
mod checkpoint;
pub mod exact;
mod replay;
mod run;
#[cfg(test)]
mod scale_tests;

use crate::store::{Cell, Store};
use crate::ExplorerError;
use anchor_lang::{AnchorDeserialize, AnchorSerialize};
use serde_json::{json, Value};

pub use run::Mode;

/// What the audit checks; each mismatch names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub enum Check {
    Rewards,
    Commissions,
    Bonus,
    SelfCommission,
    ReportIds,
    Graph,
    Balances,
    Vault,
    Downline,
    Oracles,
}

impl Check {
    pub const ALL: [Check; 10] = [
        Check::Rewards,
        Check::Commissions,
        Check::Bonus,
        Check::SelfCommission,
        Check::ReportIds,
        Check::Graph,
        Check::Balances,
        Check::Vault,
        Check::Downline,
        Check::Oracles,
    ];

    /// The check as the verdict lists it.
    pub fn describe(self) -> &'static str {
        match self {
            Check::Rewards => "each report's reward = its formula on the tables in force",
            Check::Commissions => "each commission = the schedule in force on the stored upline",
            Check::Bonus => "each direct bonus = the referrer's class table, once per referee",
            Check::SelfCommission => "nobody earns a commission from itself",
            Check::ReportIds => "no report id counts twice (ids increase per member)",
            Check::Graph => "links: no self-referral, no cycle, uplines as stored",
            Check::Balances => "per member and ledger: credits in events = balance + withdrawn",
            Check::Vault => "per ledger: vault = funded - withdrawn, as the events add up",
            Check::Downline => "downline counts = a recount of the links",
            Check::Oracles => {
                "each report and attestation approved by the quorum of registered oracles, within their caps"
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Check::Rewards => "rewards",
            Check::Commissions => "commissions",
            Check::Bonus => "bonus",
            Check::SelfCommission => "self_commission",
            Check::ReportIds => "report_ids",
            Check::Graph => "graph",
            Check::Balances => "balances",
            Check::Vault => "vault",
            Check::Downline => "downline",
            Check::Oracles => "oracles",
        }
    }
}

/// One disagreement.
#[derive(Clone, Debug, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct Mismatch {
    pub check: Check,
    /// The transaction whose event disagrees, if one does.
    pub signature: Option<String>,
    pub detail: String,
}

/// The audit's result.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    pub networks: usize,
    pub events: usize,
    pub reports: usize,
    pub members: usize,
    pub mismatches: Vec<Mismatch>,
    /// Events this run read and replayed: all of them in a full audit, those
    /// indexed since the checkpoints in an incremental one (not in the JSON:
    /// both give the same verdict).
    pub replayed_events: usize,
    /// The checkpoints [`save`] writes with the verdict.
    pending: Vec<checkpoint::Pending>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }

    /// The verdict as `--json`, `GET /api/audit` and `upline simulate` give it.
    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = Check::ALL
            .iter()
            .map(|c| {
                let failed = self.mismatches.iter().filter(|m| m.check == *c).count();
                json!({"check": c.name(), "rule": c.describe(), "mismatches": failed})
            })
            .collect();
        let mismatches: Vec<Value> = self
            .mismatches
            .iter()
            .map(|m| json!({"check": m.check.name(), "signature": m.signature, "detail": m.detail}))
            .collect();
        json!({
            "verdict": if self.passed() { "pass" } else { "fail" },
            "networks": self.networks,
            "events": self.events,
            "reports": self.reports,
            "members": self.members,
            "checks": checks,
            "mismatches": mismatches,
        })
    }

    /// The verdict as readable text.
    pub fn render(&self) -> String {
        let mut out = format!(
            "audit: {} ({} networks, {} events, {} reports, {} members)\n",
            if self.passed() { "pass" } else { "FAIL" },
            self.networks,
            self.events,
            self.reports,
            self.members
        );
        for c in Check::ALL {
            let failed = self.mismatches.iter().filter(|m| m.check == c).count();
            let mark = if failed == 0 {
                "ok  ".to_string()
            } else {
                format!("{failed:>4}")
            };
            out += &format!("  {mark} {}\n", c.describe());
        }
        for m in &self.mismatches {
            out += &format!(
                "  mismatch [{}] {}{}\n",
                m.check.name(),
                m.detail,
                m.signature
                    .as_ref()
                    .map(|s| format!(" (tx {s})"))
                    .unwrap_or_default()
            );
        }
        out
    }
}

/// Audit every network in the index from its creation (`--full`); saving
/// the verdict rewrites the checkpoints.
pub async fn audit(store: &Store) -> Result<Verdict, ExplorerError> {
    run::run(store, Mode::Full).await
}

/// Audit what was indexed since each network's checkpoint, for the verdict
/// a full audit gives (networks without a usable checkpoint are replayed in
/// full); saving the verdict moves the checkpoints.
pub async fn audit_incremental(store: &Store) -> Result<Verdict, ExplorerError> {
    run::run(store, Mode::Incremental).await
}

/// [`audit`] or [`audit_incremental`].
pub async fn audit_with(store: &Store, mode: Mode) -> Result<Verdict, ExplorerError> {
    run::run(store, mode).await
}

/// Keep `verdict` as the index's latest audit, at unix time `at`, with the
/// checkpoints it leaves: all in one database transaction.
pub async fn save(store: &Store, verdict: &Verdict, at: i64) -> Result<(), ExplorerError> {
    let next = store.number("SELECT MAX(id) FROM audits").await? + 1;
    let mut statements = vec![(
        "INSERT INTO audits (id, at, verdict, report) VALUES ($1, $2, $3, $4)".to_string(),
        vec![
            next.into(),
            at.into(),
            (if verdict.passed() { "pass" } else { "fail" }).into(),
            verdict.to_json().to_string().into(),
        ],
    )];
    statements.extend(checkpoint::statements(&verdict.pending, at));
    let (sql, params): (Vec<String>, Vec<Vec<Cell>>) = statements.into_iter().unzip();
    let batch: Vec<(&str, Vec<Cell>)> = sql.iter().map(String::as_str).zip(params).collect();
    store.atomically(&batch).await
}

/// The latest saved audit, with its time.
pub async fn latest(store: &Store) -> Result<Option<Value>, ExplorerError> {
    let rows = store
        .query(
            "SELECT at, report FROM audits ORDER BY id DESC LIMIT 1",
            vec![],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let at = row.first().and_then(Cell::int).unwrap_or_default();
    let mut report: Value = serde_json::from_str(row.get(1).and_then(Cell::text).unwrap_or("{}"))
        .map_err(|e| ExplorerError::Corrupt(format!("audits: {e}")))?;
    report["at"] = json!(at);
    Ok(Some(report))
}
