//! Scenario files: the input format of DESIGN.md §8, parsed with messages that
//! name the file, the member or the step that is wrong, plus an optional
//! `expect` block ([`crate::expect`]).

use crate::expect::Expect;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::fmt;

/// Unix time a scenario starts at when it gives none (2026-01-01 00:00 UTC).
pub const DEFAULT_START: i64 = 1_767_225_600;

/// A scenario file that cannot be run, with what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScenarioError {}

/// A whole scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub preset: String,
    pub start: i64,
    pub members: Vec<MemberEntry>,
    pub steps: Vec<Step>,
    /// The figures the run should show (not part of §8).
    pub expect: Option<Expect>,
}

/// A member: joins at the start (from `members`) or in a `join` step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEntry {
    pub name: String,
    /// The wallet that holds this membership (default: the entry's name).
    /// Entries with one wallet and different classes are that wallet's
    /// memberships (DESIGN.md §3 rule 6); one wallet twice in a class is
    /// refused (`AlreadyMember`).
    #[serde(default)]
    pub wallet: Option<String>,
    /// May be omitted where the preset has one class (Clore's `account`).
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub referrer: Option<String>,
    /// Providers: VRAM in GiB, attested by the oracle after the join.
    #[serde(default, deserialize_with = "opt_u32")]
    pub vram_gb: Option<u32>,
    /// Nodes: device fingerprint and subnet, attested by the oracle after the join.
    #[serde(default)]
    pub fingerprint: Option<String>,
    #[serde(default)]
    pub subnet: Option<String>,
    /// Clore commission tier: standard, premium or vip.
    #[serde(default)]
    pub tier: Option<String>,
}

impl MemberEntry {
    /// The name of the wallet that holds this membership.
    pub fn wallet_name(&self) -> &str {
        self.wallet.as_deref().unwrap_or(&self.name)
    }
}

/// One step at `at` seconds after the start.
#[derive(Debug, Clone)]
pub struct Step {
    pub at: i64,
    pub op: Op,
}

/// The operations of DESIGN.md §8.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Join(MemberEntry),
    SetReferrer(SetReferrer),
    SetTier(SetTier),
    Promotion(Promotion),
    Fund(Fund),
    Withdraw(Withdraw),
    Compute(Compute),
    Usage(Usage),
    Rental(Rental),
    Bandwidth(Bandwidth),
}

impl Op {
    /// A report step's `work_at` (seconds after the start), where it gives one.
    pub fn work_at(&self) -> Option<i64> {
        match self {
            Op::Compute(c) => c.work_at,
            Op::Usage(u) => u.work_at,
            Op::Rental(r) => r.work_at,
            Op::Bandwidth(b) => b.work_at,
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetReferrer {
    pub member: String,
    pub referrer: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetTier {
    pub member: String,
    pub tier: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    /// Decimal fraction ("0.5").
    pub rate: String,
    /// Seconds after the scenario's start.
    #[serde(deserialize_with = "int")]
    pub start: i64,
    #[serde(deserialize_with = "int")]
    pub end: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fund {
    pub ledger: String,
    /// Whole units, decimal.
    pub amount: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Withdraw {
    pub member: String,
    pub ledger: String,
    /// "all" or whole units, decimal.
    pub amount: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compute {
    #[serde(deserialize_with = "u64_value")]
    pub id: u64,
    pub provider: String,
    pub service: String,
    pub model: String,
    #[serde(deserialize_with = "u64_value")]
    pub tokens: u64,
    #[serde(deserialize_with = "u32_value")]
    pub latency_ms: u32,
    /// When the work happened, in seconds after the scenario's start
    /// (default: the step's `at`); the report's work time (DESIGN.md §5).
    #[serde(default, deserialize_with = "opt_int")]
    pub work_at: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    #[serde(deserialize_with = "u64_value")]
    pub id: u64,
    pub user: String,
    pub endpoint: String,
    #[serde(deserialize_with = "u64_value")]
    pub tokens: u64,
    /// When the work happened, in seconds after the scenario's start
    /// (default: the step's `at`); the report's work time (DESIGN.md §5).
    #[serde(default, deserialize_with = "opt_int")]
    pub work_at: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rental {
    #[serde(deserialize_with = "u64_value")]
    pub id: u64,
    /// Ledger name (CLORE, BTC).
    pub currency: String,
    pub renter: String,
    pub host: String,
    /// Whole units of the currency, decimal.
    pub renter_base_fee: String,
    pub renter_extra_fee: String,
    pub host_base_fee: String,
    pub host_extra_fee: String,
    /// When the work happened, in seconds after the scenario's start
    /// (default: the step's `at`); the report's work time (DESIGN.md §5).
    #[serde(default, deserialize_with = "opt_int")]
    pub work_at: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bandwidth {
    #[serde(deserialize_with = "u64_value")]
    pub id: u64,
    pub node: String,
    #[serde(deserialize_with = "u64_value")]
    pub bytes: u64,
    pub quality: String,
    pub stability: String,
    pub demand: String,
    #[serde(default)]
    pub suppressed: bool,
    /// When the work happened, in seconds after the scenario's start
    /// (default: the step's `at`); the report's work time (DESIGN.md §5).
    #[serde(default, deserialize_with = "opt_int")]
    pub work_at: Option<i64>,
}

/// An integer given as a JSON number or a string of digits.
fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i128, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(serde_json::Number),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or(n.as_u64().map(i128::from))
            .ok_or_else(|| de::Error::custom(format!("{n} is not a whole number"))),
        Raw::Text(t) => t
            .trim()
            .parse()
            .map_err(|_| de::Error::custom(format!("{t:?} is not a whole number"))),
    }
}

fn int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let n = integer(deserializer)?;
    i64::try_from(n).map_err(|_| de::Error::custom(format!("{n} is out of range")))
}

fn u64_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let n = integer(deserializer)?;
    u64::try_from(n)
        .map_err(|_| de::Error::custom(format!("{n} is not a non-negative 64-bit number")))
}

fn u32_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let n = integer(deserializer)?;
    u32::try_from(n)
        .map_err(|_| de::Error::custom(format!("{n} is not a non-negative 32-bit number")))
}

fn opt_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    u32_value(deserializer).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    preset: String,
    #[serde(default, deserialize_with = "opt_int")]
    start: Option<i64>,
    #[serde(default)]
    members: Vec<MemberEntry>,
    #[serde(default)]
    steps: Vec<serde_json::Value>,
    #[serde(default)]
    expect: Option<serde_json::Value>,
}

fn opt_int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    int(deserializer).map(Some)
}

impl Scenario {
    /// Parse scenario JSON; `origin` (the file name) starts every message.
    pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let raw: RawScenario =
            serde_json::from_str(text).map_err(|e| ScenarioError(format!("{origin}: {e}")))?;
        let mut steps = Vec::with_capacity(raw.steps.len());
        let mut last_at = 0;
        for (index, value) in raw.steps.into_iter().enumerate() {
            let what = |e: String| ScenarioError(format!("{origin}: step {index}: {e}"));
            let serde_json::Value::Object(mut fields) = value else {
                return Err(what("a step is an object with \"at\" and \"op\"".into()));
            };
            let at = fields
                .remove("at")
                .ok_or_else(|| what("missing \"at\" (seconds after start)".into()))?;
            let at = int(at).map_err(|e: serde_json::Error| what(format!("\"at\": {e}")))?;
            if at < last_at {
                return Err(what(format!(
                    "\"at\" {at} is before the previous step's {last_at}; time only moves forward"
                )));
            }
            last_at = at;
            let op = serde_json::from_value::<Op>(serde_json::Value::Object(fields))
                .map_err(|e| what(e.to_string()))?;
            steps.push(Step { at, op });
        }
        let expect = raw
            .expect
            .map(Expect::parse)
            .transpose()
            .map_err(|e| ScenarioError(format!("{origin}: {e}")))?;
        Ok(Scenario {
            preset: raw.preset,
            start: raw.start.unwrap_or(DEFAULT_START),
            members: raw.members,
            steps,
            expect,
        })
    }

    /// Read and parse a scenario file.
    pub fn load(path: &str) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError(format!("{path}: cannot read: {e}")))?;
        Scenario::parse(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_op_and_names_what_is_wrong() {
        let text = r#"{"preset": "cxmpute", "members": [{"name": "p0", "class": "provider", "vram_gb": 24}],
            "steps": [
              {"at": 0, "op": "compute", "id": 1, "provider": "p0", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000},
              {"at": "60", "op": "usage", "id": "2", "user": "u", "endpoint": "chat", "tokens": 10},
              {"at": 60, "op": "withdraw", "member": "p0", "ledger": "CXPT", "amount": "all"},
              {"at": 61, "op": "bandwidth", "id": 1, "node": "n", "bytes": 5, "quality": "1", "stability": "1", "demand": "1"}
            ]}"#;
        let s = Scenario::parse(text, "s.json").expect("valid");
        assert_eq!(
            (s.start, s.steps.len(), s.steps[1].at),
            (DEFAULT_START, 4, 60)
        );
        assert!(matches!(&s.steps[3].op, Op::Bandwidth(b) if !b.suppressed));
        assert_eq!(s.steps[0].op.work_at(), None);
        assert_eq!(s.members[0].wallet_name(), "p0");

        // `wallet` on members and joins, `work_at` on reports (a number or digits).
        let text = r#"{"preset": "cxmpute",
            "members": [{"name": "a-user", "wallet": "a", "class": "user"}],
            "steps": [
              {"at": 5, "op": "join", "name": "a-provider", "wallet": "a", "class": "provider"},
              {"at": 9, "op": "usage", "id": 1, "user": "a-user", "endpoint": "chat", "tokens": 1, "work_at": "-3"},
              {"at": 9, "op": "rental", "id": 1, "currency": "C", "renter": "r", "host": "h", "renter_base_fee": "1",
               "renter_extra_fee": "0", "host_base_fee": "1", "host_extra_fee": "0", "work_at": 7}
            ]}"#;
        let s = Scenario::parse(text, "w.json").expect("valid");
        assert_eq!(s.members[0].wallet_name(), "a");
        assert!(matches!(&s.steps[0].op, Op::Join(e) if e.wallet_name() == "a"));
        assert_eq!(
            (s.steps[1].op.work_at(), s.steps[2].op.work_at()),
            (Some(-3), Some(7))
        );

        let err = |text: &str| Scenario::parse(text, "bad.json").expect_err("invalid").0;
        assert!(err(r#"{"preset": "cxmpute", "steps": [{"op": "fund"}]}"#)
            .contains("step 0: missing \"at\""));
        assert!(
            err(r#"{"preset": "cxmpute", "steps": [{"at": 1, "op": "fly"}]}"#)
                .starts_with("bad.json: step 0: unknown variant `fly`")
        );
        let typo = err(
            r#"{"preset": "cxmpute", "steps": [{"at": 1, "op": "fund", "ledger": "CXPT", "amount": "1", "amuont": "2"}]}"#,
        );
        assert!(typo.contains("unknown field `amuont`"), "{typo}");
        let backwards = err(
            r#"{"preset": "x", "steps": [{"at": 5, "op": "set_tier", "member": "a", "tier": "vip"}, {"at": 4, "op": "set_tier", "member": "a", "tier": "vip"}]}"#,
        );
        assert!(
            backwards.contains("step 1: \"at\" 4 is before"),
            "{backwards}"
        );
        let line = err("{\"preset\": \"cxmpute\",\n \"members\": [{\"name\": 1}]}");
        assert!(line.contains("line 2"), "{line}");
    }
}
