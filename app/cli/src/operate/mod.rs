//! The admin's day-to-day commands (issue 14): `upline network show`,
//! `tier`, `promotion open|close`, `pause` / `unpause`, `oracle add|remove`
//! and `admin propose|accept|cancel`. Each prints what it did and what was
//! there before, says "already …" when nothing changes (re-running is safe),
//! and names a refusal by the program's error.

mod members;
mod registry;
mod report_fields;
mod roles;
mod show;
mod switches;
mod tables;

pub use members::{annotate, claims, open_ledgers, withdraw_all, Claim};
pub use registry::{
    add_ledger, parse_breaker, set_model, update_ledger, LedgerRequest, ModelRequest,
};
pub use roles::{accept_admin, add_oracle, propose_admin, remove_oracle};
pub use show::show;
pub use switches::{close_promotion, open_promotion, set_paused, set_tier};
pub use tables::{plan as plan_tables, Change, TablesPlan};

use crate::Failure;
use upline::math::Ppm;
use upline::state::CommissionTier;

/// A tier as the command line names it.
pub fn parse_tier(text: &str) -> Result<CommissionTier, Failure> {
    match text.trim().to_ascii_lowercase().as_str() {
        "standard" => Ok(CommissionTier::Standard),
        "premium" => Ok(CommissionTier::Premium),
        "vip" => Ok(CommissionTier::Vip),
        _ => Err(Failure::input(format!(
            "--tier {text:?}: one of standard, premium, vip"
        ))),
    }
}

/// A tier's name as the command line spells it.
pub fn tier_name(tier: CommissionTier) -> &'static str {
    match tier {
        CommissionTier::Standard => "standard",
        CommissionTier::Premium => "premium",
        CommissionTier::Vip => "vip",
    }
}

/// A time given as RFC 3339 or unix seconds.
pub fn parse_time(text: &str, flag: &str) -> Result<i64, Failure> {
    let text = text.trim();
    text.parse::<i64>()
        .ok()
        .or_else(|| crate::work_time::rfc3339(text))
        .ok_or_else(|| {
            Failure::input(format!(
                "{flag} {text:?}: an RFC 3339 time (2026-12-01T00:00:00Z) or unix seconds"
            ))
        })
}

/// A rate as a percentage: 0.5 is "50%".
pub fn percent(rate: Ppm) -> String {
    let tenths_of_bp = u128::from(rate.0);
    upline::math::decimal::format_fixed(tenths_of_bp, 4) + "%"
}

/// Unix seconds as RFC 3339 (UTC).
pub fn time_text(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| unix.to_string())
}

/// `failure` with `prefix` in front of its message (the command's terms).
pub fn prefixed(failure: Failure, prefix: &str) -> Failure {
    Failure {
        code: failure.code,
        message: format!("{prefix}{}", failure.message),
    }
}

/// "1 oracle", "2 oracles".
pub fn plural(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests;
