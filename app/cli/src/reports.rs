//! Work-report files for `upline oracle submit`: one JSON object per line,
//! `kind` naming the report and the other fields those of the DESIGN.md §8
//! step of the same name, with wallets as base-58 addresses, plus an optional
//! `work_time`:
//!
//! ```text
//! {"kind": "compute", "id": 1, "provider": "<wallet>", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000, "work_time": "2026-01-01T12:00:00Z"}
//! {"kind": "usage", "id": 2, "user": "<wallet>", "endpoint": "chat", "tokens": 10, "work_time": 1767268800}
//! {"kind": "rental", "id": 3, "currency": "CLORE", "renter": "<wallet>", "host": "<wallet>", "renter_base_fee": "10", "renter_extra_fee": "0", "host_base_fee": "10", "host_extra_fee": "0"}
//! {"kind": "bandwidth", "id": 4, "node": "<wallet>", "device": "<fingerprint>", "subnet": "<subnet>", "bytes": 1000000000, "quality": "1", "stability": "1", "demand": "1"}
//! ```
//!
//! `work_time` is when the work happened (DESIGN.md §5): an RFC 3339 time
//! (`2026-01-01T12:00:00Z`, `2026-01-01T13:00:00+01:00`; a fraction of a
//! second is dropped) or unix seconds (a whole number, as a JSON number or
//! string). Omitted, it is the time the file is sent: the cluster's clock,
//! read once when `oracle submit` starts. The program refuses a work time
//! later than its clock (`ReportInFuture`), older than the network's maximum
//! report age (`ReportTooOld`, 7 days by default) or earlier than the
//! member's last report's (`StaleReport`).
//!
//! A wallet holds one membership per class (DESIGN.md §3 rule 6); a report is
//! about the membership of its kind's class: compute about the provider
//! membership, usage the user membership, bandwidth the node membership (the
//! classes the network's report tables name). A rental names each side's only
//! membership (Clore has one class).

use crate::scenario::Op;
use crate::work_time::work_time;
use crate::world::hash32;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use serde_json::Value;
use std::collections::HashMap;
use std::str::FromStr;
use upline::instructions::RentalReportArgs;
use upline::math::decimal::parse_fixed;
use upline::state::{label, label_text, Ledger, Member, Network, RewardTables};
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
    /// When the work happened (unix seconds); `None`: when the file is sent.
    pub work_time: Option<i64>,
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
            Ok((op, device, work_time)) => reports.push(ReportLine {
                line,
                op,
                device,
                work_time,
            }),
            Err(e) => errors.push(format!("{origin}:{line}: {e}")),
        }
    }
    if errors.is_empty() {
        Ok(reports)
    } else {
        Err(errors)
    }
}

type Parsed = (Op, Option<(String, String)>, Option<i64>);

fn parse_line(raw: &str) -> Result<Parsed, String> {
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
    if fields.contains_key("work_at") {
        return Err(
            "\"work_at\" is a scenario file's field: a reports file gives \"work_time\" \
             (RFC 3339 or unix seconds)"
                .into(),
        );
    }
    let work_time = fields
        .remove("work_time")
        .map(|v| work_time(&v))
        .transpose()?;
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
    Ok((op, device, work_time))
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

/// The wallet whose membership's report-id sequence a report advances (the
/// program keeps the highest id recorded about it and refuses any id not above it).
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

/// The class each report kind is about, from the network's report tables.
#[derive(Debug, Clone, Copy)]
struct KindClasses {
    compute: u8,
    usage: u8,
    bandwidth: u8,
}

/// Builds report instructions for one network, reading what they need (the
/// stored links, the models, the ledgers) once.
pub struct ReportBuilder {
    pub oracle: Pubkey,
    pub network: Pubkey,
    /// The work time of reports that give none: the cluster's clock when the
    /// builder was made (the time the file is sent).
    pub default_work_time: i64,
    /// Ledger index and decimals, by name.
    ledgers: HashMap<String, (u8, u8)>,
    /// The network's class names, by index.
    class_names: Vec<String>,
    kinds: KindClasses,
    /// Stored referrer (a member account) of each member account read so far
    /// (links are permanent once set).
    referrers: HashMap<Pubkey, Pubkey>,
    /// Highest report id recorded about each member account, read once.
    last_ids: HashMap<Pubkey, u64>,
    /// The membership a rental names for each wallet.
    rental_members: HashMap<Pubkey, Pubkey>,
    models: HashMap<String, bool>,
    /// Whether a device account exists, by fingerprint hash.
    devices: HashMap<[u8; 32], bool>,
}

fn wallet(text: &str) -> Pubkey {
    // `parse` checked every wallet.
    Pubkey::from_str(text).unwrap_or_default()
}

impl ReportBuilder {
    /// Read the network's ledgers, classes and report tables, and the clock;
    /// fails if `network` is not an Upline network.
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
        let tables = cluster
            .decode::<RewardTables>(&pda::reward_tables(&network))
            .await?
            .ok_or_else(|| {
                TxFailure::Other(format!(
                    "--network {network}: the network has no report tables"
                ))
            })?
            .data;
        let class_names = state.tables.classes[..usize::from(state.tables.class_count)]
            .iter()
            .map(|c| label_text(&c.name).to_string())
            .collect();
        let default_work_time = cluster.now().await?;
        Ok(ReportBuilder {
            oracle,
            network,
            default_work_time,
            ledgers,
            class_names,
            kinds: KindClasses {
                compute: tables.compute.provider_class,
                usage: tables.usage.user_class,
                bandwidth: tables.bandwidth.node_class,
            },
            referrers: HashMap::new(),
            last_ids: HashMap::new(),
            rental_members: HashMap::new(),
            models: HashMap::new(),
            devices: HashMap::new(),
        })
    }

    fn class_name(&self, class: u8) -> String {
        self.class_names
            .get(usize::from(class))
            .cloned()
            .unwrap_or_else(|| format!("class {class}"))
    }

    /// The membership of `wallet` a rental names: its only one. A wallet
    /// holding several (a network with rentals and several classes) is refused
    /// with the classes it holds.
    async fn rental_member<C: Cluster>(
        &mut self,
        cluster: &mut C,
        wallet: &Pubkey,
    ) -> Result<Pubkey, Unusable> {
        if let Some(m) = self.rental_members.get(wallet) {
            return Ok(*m);
        }
        let classes = u8::try_from(self.class_names.len()).unwrap_or(u8::MAX);
        let member = if classes == 1 {
            pda::member(&self.network, wallet, 0)
        } else {
            let mut held = Vec::new();
            for class in 0..classes {
                let address = pda::member(&self.network, wallet, class);
                if cluster.account(&address).await?.is_some() {
                    held.push((class, address));
                }
            }
            match held.as_slice() {
                [(_, only)] => *only,
                [] => {
                    return Err(Unusable::Rejected(format!(
                        "unknown member {wallet}: it has not joined this network"
                    )))
                }
                several => {
                    let names: Vec<String> =
                        several.iter().map(|(c, _)| self.class_name(*c)).collect();
                    return Err(Unusable::Rejected(format!(
                        "{wallet} holds memberships in {}: a rental names a wallet with one membership",
                        names.join(" and ")
                    )));
                }
            }
        };
        self.rental_members.insert(*wallet, member);
        Ok(member)
    }

    /// The member account a report is about (the one whose report ids and
    /// work times it advances), and that member's class name.
    pub async fn member_of<C: Cluster>(
        &mut self,
        cluster: &mut C,
        op: &Op,
    ) -> Result<(Pubkey, String), Unusable> {
        let network = self.network;
        let of = |class: u8, text: &str| (pda::member(&network, &wallet(text), class), class);
        let (account, class) = match op {
            Op::Compute(c) => of(self.kinds.compute, &c.provider),
            Op::Usage(u) => of(self.kinds.usage, &u.user),
            Op::Bandwidth(b) => of(self.kinds.bandwidth, &b.node),
            Op::Rental(r) => {
                let account = self.rental_member(cluster, &wallet(&r.renter)).await?;
                return Ok((account, String::new()));
            }
            _ => return Err("not a report".into()),
        };
        Ok((account, self.class_name(class)))
    }

    /// The stored referrer (a member account) of the member account `member`
    /// (of `wallet`, a `class` member), or why it cannot report.
    async fn referrer<C: Cluster>(
        &mut self,
        cluster: &mut C,
        member: &Pubkey,
        (wallet, class): (&str, &str),
    ) -> Result<Option<Pubkey>, Unusable> {
        if let Some(r) = self.referrers.get(member) {
            return Ok(Some(*r));
        }
        let state = self.member(cluster, member, (wallet, class)).await?;
        if state.referrer == Pubkey::default() {
            return Ok(None);
        }
        self.referrers.insert(*member, state.referrer);
        Ok(Some(state.referrer))
    }

    async fn member<C: Cluster>(
        &mut self,
        cluster: &mut C,
        member: &Pubkey,
        (wallet, class): (&str, &str),
    ) -> Result<Member, Unusable> {
        let state = cluster.decode::<Member>(member).await?.ok_or_else(|| {
            if class.is_empty() {
                format!("unknown member {wallet}: it has not joined this network")
            } else {
                format!("unknown member {wallet}: it has not joined this network as a {class}")
            }
        })?;
        self.last_ids.entry(*member).or_insert(state.last_report_id);
        Ok(state)
    }

    /// Whether the program already recorded `report` (its id is not above the
    /// highest recorded about its member): a re-run skips it without sending.
    pub async fn already_recorded<C: Cluster>(
        &mut self,
        cluster: &mut C,
        report: &ReportLine,
    ) -> Result<bool, Unusable> {
        let (account, class) = self.member_of(cluster, &report.op).await?;
        let last = match self.last_ids.get(&account) {
            Some(last) => *last,
            None => {
                let named = (subject(&report.op), class.as_str());
                self.member(cluster, &account, named).await?.last_report_id
            }
        };
        Ok(report_id(&report.op) <= last)
    }

    /// The highest report id the chain holds about the member account
    /// `member` now (read afresh; 0 if it is not a member).
    pub async fn recorded_id<C: Cluster>(
        &mut self,
        cluster: &mut C,
        member: &Pubkey,
    ) -> Result<u64, TxFailure> {
        Ok(cluster
            .decode::<Member>(member)
            .await?
            .map_or(0, |m| m.last_report_id))
    }

    /// The member accounts above `member`, referrer first, up to three.
    async fn upline<C: Cluster>(
        &mut self,
        cluster: &mut C,
        member: &Pubkey,
        named: (&str, &str),
    ) -> Result<Vec<Pubkey>, Unusable> {
        let mut out = Vec::with_capacity(3);
        let mut next = self.referrer(cluster, member, named).await?;
        while let Some(r) = next.filter(|_| out.len() < 3) {
            out.push(r);
            next = self.referrer(cluster, &r, ("", "")).await.unwrap_or(None);
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
        let work_time = report.work_time.unwrap_or(self.default_work_time);
        let (account, class) = self.member_of(cluster, &report.op).await?;
        let named = (subject(&report.op), class.as_str());
        match &report.op {
            Op::Compute(c) => {
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
                let upline = self.upline(cluster, &account, named).await?;
                let args = c.args(work_time)?;
                Ok(ix::report_compute(
                    &oracle, &network, &account, &model, &upline, args,
                ))
            }
            Op::Usage(u) => {
                let upline = self.upline(cluster, &account, named).await?;
                let args = u.args(work_time)?;
                Ok(ix::report_usage(&oracle, &network, &account, &upline, args))
            }
            Op::Rental(r) => {
                let host = self.rental_member(cluster, &wallet(&r.host)).await?;
                let (ledger, renter_base_fee) = self.amount(&r.currency, &r.renter_base_fee)?;
                let parties = RentalParties {
                    renter: account,
                    host,
                    renter_referrer: self.referrer(cluster, &account, named).await?,
                    host_referrer: self.referrer(cluster, &host, (&r.host, "")).await?,
                };
                let args = RentalReportArgs {
                    id: r.id,
                    work_time,
                    ledger,
                    renter_base_fee,
                    renter_extra_fee: self.amount(&r.currency, &r.renter_extra_fee)?.1,
                    host_base_fee: self.amount(&r.currency, &r.host_base_fee)?.1,
                    host_extra_fee: self.amount(&r.currency, &r.host_extra_fee)?.1,
                };
                Ok(ix::report_rental(&oracle, &network, &parties, args))
            }
            Op::Bandwidth(b) => {
                let referrer = self.referrer(cluster, &account, named).await?;
                let (device, subnet) = report
                    .device
                    .as_ref()
                    .map(|(d, s)| (hash32(d), hash32(s)))
                    .unwrap_or_default();
                // A device that is not registered (never attested, or
                // deregistered) is left out: the program names the node unattested.
                let exists = match self.devices.get(&device) {
                    Some(known) => *known,
                    None => {
                        let found = cluster
                            .account(&pda::device(&network, &device))
                            .await?
                            .is_some();
                        self.devices.insert(device, found);
                        found
                    }
                };
                let args = b.args(work_time)?;
                Ok(ix::report_bandwidth(
                    &oracle,
                    &network,
                    &account,
                    exists.then_some((&device, &subnet)),
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

    #[test]
    fn a_reports_file_gives_work_times_or_none() {
        let w = Pubkey::new_unique();
        let line = |extra: &str| {
            format!("{{\"kind\": \"usage\", \"id\": 1, \"user\": \"{w}\", \"endpoint\": \"chat\", \"tokens\": 10{extra}}}\n")
        };
        let text = [
            line(", \"work_time\": \"2026-01-01T00:00:00Z\""),
            line(", \"work_time\": 1767225660"),
            line(""),
        ]
        .concat();
        let reports = parse(&text, "r.jsonl").expect("valid");
        let times: Vec<Option<i64>> = reports.iter().map(|r| r.work_time).collect();
        assert_eq!(times, [Some(1_767_225_600), Some(1_767_225_660), None]);

        let text = [
            line(", \"work_time\": \"2026-01-01\""),
            line(""),
            line(", \"work_at\": 5"),
            line(", \"work_time\": \"01/01/2026\""),
        ]
        .concat();
        let errors = parse(&text, "r.jsonl").expect_err("invalid");
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(
            errors[0].starts_with("r.jsonl:1: \"work_time\" \"2026-01-01\": not an RFC 3339 time"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].starts_with("r.jsonl:3: \"work_at\" is a scenario file's field"),
            "{}",
            errors[1]
        );
        assert!(
            errors[2].starts_with("r.jsonl:4: \"work_time\" \"01/01/2026\""),
            "{}",
            errors[2]
        );
    }
}
