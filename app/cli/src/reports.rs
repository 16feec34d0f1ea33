//! Work-report files for `upline oracle submit`: one JSON object per line,
//! `kind` naming the report and the other fields those of the DESIGN.md §8
//! step of the same name, with wallets as base-58 addresses:
//!
//! ```text
//! {"kind": "compute", "id": 1, "provider": "<wallet>", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000}
//! {"kind": "usage", "id": 2, "user": "<wallet>", "endpoint": "chat", "tokens": 10}
//! {"kind": "rental", "id": 3, "currency": "CLORE", "renter": "<wallet>", "host": "<wallet>", "renter_base_fee": "10", "renter_extra_fee": "0", "host_base_fee": "10", "host_extra_fee": "0"}
//! {"kind": "bandwidth", "id": 4, "node": "<wallet>", "device": "<fingerprint>", "subnet": "<subnet>", "bytes": 1000000000, "quality": "1", "stability": "1", "demand": "1"}
//! ```

use crate::scenario::Op;
use crate::world::hash32;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use serde_json::Value;
use std::collections::HashMap;
use std::str::FromStr;
use upline::instructions::RentalReportArgs;
use upline::math::decimal::parse_fixed;
use upline::state::{label, label_text, Ledger, Network};
use upline_sdk::client::{Cluster, TxFailure};
use upline_sdk::ix::{self, RentalParties};
use upline_sdk::pda;

/// One report of the file, with its line number (1-based).
#[derive(Debug, Clone)]
pub struct ReportLine {
    pub line: usize,
    pub op: Op,
    /// Bandwidth reports: the attested device's fingerprint and subnet, as given at attestation.
    pub device: Option<(String, String)>,
}

/// Parse a reports file. Every malformed line is listed (file:line: what), and
/// nothing is sent while any is.
pub fn parse(text: &str, origin: &str) -> Result<Vec<ReportLine>, Vec<String>> {
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        match parse_line(raw) {
            Ok((op, device)) => reports.push(ReportLine { line, op, device }),
            Err(e) => errors.push(format!("{origin}:{line}: {e}")),
        }
    }
    if errors.is_empty() {
        Ok(reports)
    } else {
        Err(errors)
    }
}

fn parse_line(raw: &str) -> Result<(Op, Option<(String, String)>), String> {
    let Value::Object(mut fields) =
        serde_json::from_str::<Value>(raw).map_err(|e| e.to_string())?
    else {
        return Err("a report is a JSON object".into());
    };
    let kind = fields
        .remove("kind")
        .ok_or("missing \"kind\" (compute, usage, rental or bandwidth)")?;
    let kind = kind.as_str().unwrap_or_default().to_string();
    if !["compute", "usage", "rental", "bandwidth"].contains(&kind.as_str()) {
        return Err(format!(
            "unknown kind {kind:?}: expected compute, usage, rental or bandwidth"
        ));
    }
    let text_field = |fields: &mut serde_json::Map<String, Value>, name: &str| {
        fields
            .remove(name)
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or(format!("\"{name}\" is text"))
            })
            .transpose()
    };
    let device = match kind.as_str() {
        "bandwidth" => {
            let device = text_field(&mut fields, "device")?;
            let subnet = text_field(&mut fields, "subnet")?;
            match (device, subnet) {
                (Some(d), Some(s)) => Some((d, s)),
                _ => return Err("a bandwidth report needs \"device\" and \"subnet\"".into()),
            }
        }
        _ => None,
    };
    fields.insert("op".into(), Value::String(kind));
    let op = serde_json::from_value::<Op>(Value::Object(fields)).map_err(|e| e.to_string())?;
    for wallet in wallets(&op) {
        Pubkey::from_str(wallet)
            .map_err(|_| format!("{wallet:?} is not a base-58 wallet address"))?;
    }
    Ok((op, device))
}

/// The wallets a report names.
fn wallets(op: &Op) -> Vec<&str> {
    match op {
        Op::Compute(c) => vec![&c.provider],
        Op::Usage(u) => vec![&u.user],
        Op::Rental(r) => vec![&r.renter, &r.host],
        Op::Bandwidth(b) => vec![&b.node],
        _ => vec![],
    }
}

/// The member whose report-id sequence a report advances (the program keeps
/// the highest id recorded about it and refuses any id not above it).
pub fn subject(op: &Op) -> &str {
    match op {
        Op::Compute(c) => &c.provider,
        Op::Usage(u) => &u.user,
        Op::Rental(r) => &r.renter,
        Op::Bandwidth(b) => &b.node,
        _ => "",
    }
}

/// The report id of a line.
pub fn report_id(op: &Op) -> u64 {
    match op {
        Op::Compute(c) => c.id,
        Op::Usage(u) => u.id,
        Op::Rental(r) => r.id,
        Op::Bandwidth(b) => b.id,
        _ => 0,
    }
}

/// Why a report cannot be sent: the report itself (rejected with its line),
/// or the cluster stopped answering while it was being checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    Rejected(String),
    Unreachable(String),
}

impl From<String> for Unusable {
    fn from(reason: String) -> Unusable {
        Unusable::Rejected(reason)
    }
}

impl From<&str> for Unusable {
    fn from(reason: &str) -> Unusable {
        Unusable::Rejected(reason.to_string())
    }
}

impl From<TxFailure> for Unusable {
    fn from(failure: TxFailure) -> Unusable {
        match failure {
            TxFailure::Transport(reason) => Unusable::Unreachable(reason),
            other => Unusable::Rejected(other.to_string()),
        }
    }
}

/// Builds report instructions for one network, reading what they need (the
/// stored links, the models, the ledgers) once.
pub struct ReportBuilder {
    pub oracle: Pubkey,
    pub network: Pubkey,
    /// Ledger index and decimals, by name.
    ledgers: HashMap<String, (u8, u8)>,
    /// Stored referrer of each member read so far (links are permanent once set).
    referrers: HashMap<Pubkey, Pubkey>,
    /// Highest report id recorded about each report subject, read once.
    last_ids: HashMap<Pubkey, u64>,
    models: HashMap<String, bool>,
}

fn wallet(text: &str) -> Pubkey {
    // `parse` checked every wallet.
    Pubkey::from_str(text).unwrap_or_default()
}

impl ReportBuilder {
    /// Read the network's ledgers; fails if `network` is not an Upline network.
    pub async fn new<C: Cluster>(
        cluster: &mut C,
        oracle: Pubkey,
        network: Pubkey,
    ) -> Result<ReportBuilder, TxFailure> {
        let state = cluster
            .decode::<Network>(&network)
            .await?
            .ok_or_else(|| TxFailure::Other(format!("--network {network}: no such network")))?;
        let mut ledgers = HashMap::new();
        for index in 0..state.ledger_count {
            if let Some(l) = cluster
                .decode::<Ledger>(&pda::ledger(&network, index))
                .await?
            {
                ledgers.insert(label_text(&l.name).to_string(), (index, l.decimals));
            }
        }
        Ok(ReportBuilder {
            oracle,
            network,
            ledgers,
            referrers: HashMap::new(),
            last_ids: HashMap::new(),
            models: HashMap::new(),
        })
    }

    /// The stored referrer of `wallet`, or why it cannot report.
    async fn referrer<C: Cluster>(
        &mut self,
        cluster: &mut C,
        wallet: &Pubkey,
    ) -> Result<Option<Pubkey>, Unusable> {
        if let Some(r) = self.referrers.get(wallet) {
            return Ok(Some(*r));
        }
        let member = self.member(cluster, wallet).await?;
        if member.referrer == Pubkey::default() {
            return Ok(None);
        }
        self.referrers.insert(*wallet, member.referrer);
        Ok(Some(member.referrer))
    }

    async fn member<C: Cluster>(
        &mut self,
        cluster: &mut C,
        wallet: &Pubkey,
    ) -> Result<upline::state::Member, Unusable> {
        let member = cluster
            .decode::<upline::state::Member>(&pda::member(&self.network, wallet))
            .await?
            .ok_or_else(|| format!("unknown member {wallet}: it has not joined this network"))?;
        self.last_ids
            .entry(*wallet)
            .or_insert(member.last_report_id);
        Ok(member)
    }

    /// Whether the program already recorded `report` (its id is not above the
    /// highest recorded about its member): a re-run skips it without sending.
    pub async fn already_recorded<C: Cluster>(
        &mut self,
        cluster: &mut C,
        report: &ReportLine,
    ) -> Result<bool, Unusable> {
        let subject = wallet(subject(&report.op));
        let last = match self.last_ids.get(&subject) {
            Some(last) => *last,
            None => self.member(cluster, &subject).await?.last_report_id,
        };
        Ok(report_id(&report.op) <= last)
    }

    async fn upline<C: Cluster>(
        &mut self,
        cluster: &mut C,
        wallet: &Pubkey,
    ) -> Result<Vec<Pubkey>, Unusable> {
        let mut out = Vec::with_capacity(3);
        let mut next = self.referrer(cluster, wallet).await?;
        while let Some(r) = next.filter(|_| out.len() < 3) {
            out.push(r);
            next = self.referrer(cluster, &r).await.unwrap_or(None);
        }
        Ok(out)
    }

    fn amount(&self, ledger: &str, text: &str) -> Result<(u8, u64), Unusable> {
        let (index, decimals) = *self.ledgers.get(ledger).ok_or_else(|| {
            format!("unknown currency {ledger:?}: the network has no such ledger")
        })?;
        let units = parse_fixed(text, decimals).map_err(|e| format!("amount {text:?}: {e}"))?;
        let units = u64::try_from(units).map_err(|_| format!("amount {text:?} is too large"))?;
        Ok((index, units))
    }

    /// The instruction for one report, or why it cannot be sent.
    pub async fn build<C: Cluster>(
        &mut self,
        cluster: &mut C,
        report: &ReportLine,
    ) -> Result<Instruction, Unusable> {
        let (oracle, network) = (self.oracle, self.network);
        match &report.op {
            Op::Compute(c) => {
                let provider = wallet(&c.provider);
                let model = label::<32>(&c.model).ok_or(format!("model name {:?}", c.model))?;
                let known = match self.models.get(&c.model) {
                    Some(known) => *known,
                    None => {
                        let found = cluster
                            .account(&pda::model(&network, &model))
                            .await?
                            .is_some();
                        self.models.insert(c.model.clone(), found);
                        found
                    }
                };
                if !known {
                    return Err(Unusable::Rejected(format!(
                        "unknown model {:?}: not registered on this network",
                        c.model
                    )));
                }
                let upline = self.upline(cluster, &provider).await?;
                let args = c.args()?;
                Ok(ix::report_compute(
                    &oracle, &network, &provider, &model, &upline, args,
                ))
            }
            Op::Usage(u) => {
                let user = wallet(&u.user);
                let upline = self.upline(cluster, &user).await?;
                let args = u.args()?;
                Ok(ix::report_usage(&oracle, &network, &user, &upline, args))
            }
            Op::Rental(r) => {
                let (renter, host) = (wallet(&r.renter), wallet(&r.host));
                let (ledger, renter_base_fee) = self.amount(&r.currency, &r.renter_base_fee)?;
                let parties = RentalParties {
                    renter,
                    host,
                    renter_referrer: self.referrer(cluster, &renter).await?,
                    host_referrer: self.referrer(cluster, &host).await?,
                };
                let args = RentalReportArgs {
                    id: r.id,
                    ledger,
                    renter_base_fee,
                    renter_extra_fee: self.amount(&r.currency, &r.renter_extra_fee)?.1,
                    host_base_fee: self.amount(&r.currency, &r.host_base_fee)?.1,
                    host_extra_fee: self.amount(&r.currency, &r.host_extra_fee)?.1,
                };
                Ok(ix::report_rental(&oracle, &network, &parties, args))
            }
            Op::Bandwidth(b) => {
                let node = wallet(&b.node);
                let referrer = self.referrer(cluster, &node).await?;
                let (device, subnet) = report
                    .device
                    .as_ref()
                    .map(|(d, s)| (hash32(d), hash32(s)))
                    .unwrap_or_default();
                let args = b.args()?;
                Ok(ix::report_bandwidth(
                    &oracle,
                    &network,
                    &node,
                    Some((&device, &subnet)),
                    referrer.as_ref(),
                    args,
                ))
            }
            _ => Err("not a report".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_malformed_line_is_named_and_good_lines_parse() {
        let w = Pubkey::new_unique();
        let good = format!(
            "{{\"kind\": \"usage\", \"id\": 2, \"user\": \"{w}\", \"endpoint\": \"chat\", \"tokens\": 10}}\n\n\
             {{\"kind\": \"bandwidth\", \"id\": 3, \"node\": \"{w}\", \"device\": \"d\", \"subnet\": \"s\", \"bytes\": 1, \"quality\": \"1\", \"stability\": \"1\", \"demand\": \"1\"}}\n"
        );
        let reports = parse(&good, "r.jsonl").expect("valid");
        assert_eq!(reports.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(reports[1].device, Some(("d".into(), "s".into())));

        let bad = format!(
            "{{\"kind\": \"usage\", \"id\": 2, \"user\": \"nobody\", \"endpoint\": \"chat\", \"tokens\": 10}}\n\
             not json\n\
             {{\"kind\": \"fly\"}}\n\
             {{\"kind\": \"bandwidth\", \"id\": 3, \"node\": \"{w}\", \"bytes\": 1, \"quality\": \"1\", \"stability\": \"1\", \"demand\": \"1\"}}\n\
             {{\"kind\": \"usage\", \"id\": -1, \"user\": \"{w}\", \"endpoint\": \"chat\", \"tokens\": 10}}\n\
             {good}"
        );
        let errors = parse(&bad, "r.jsonl").expect_err("invalid");
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert!(
            errors[0].starts_with("r.jsonl:1: \"nobody\" is not a base-58"),
            "{}",
            errors[0]
        );
        assert!(errors[1].starts_with("r.jsonl:2: "), "{}", errors[1]);
        assert!(errors[2].contains("unknown kind \"fly\""), "{}", errors[2]);
        assert!(
            errors[3].contains("needs \"device\" and \"subnet\""),
            "{}",
            errors[3]
        );
        assert!(
            errors[4].starts_with("r.jsonl:5: -1 is not"),
            "{}",
            errors[4]
        );
    }
}
