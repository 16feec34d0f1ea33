//! What a membership can withdraw from a ledger now, and why not more: the
//! program's checks in its order (points, slot, paused, frozen, minimum,
//! circuit breaker, vault), read from the accounts, for `member stats` and
//! the explorer's claim page alike.

use upline::math::decimal::format_fixed;
use upline::state::{label_text, Ledger, Member};

/// What stops a withdrawal, or caps it below the balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimLimit {
    /// Nothing: the whole balance is claimable (or the balance is 0).
    None,
    PointsLedger,
    NoSlot,
    Paused,
    Frozen,
    /// The balance is below the ledger's minimum withdrawal.
    BelowMinimum,
    /// The circuit breaker lets this many base units out in its window.
    Breaker(u64),
    /// The vault holds this many base units for withdrawals.
    Vault(u64),
}

/// One membership's claim on one ledger, in base units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub balance: u64,
    pub claimable: u64,
    pub limit: ClaimLimit,
}

impl Claim {
    /// Why not more, in the member's terms (`below the 5 CLORE minimum`).
    pub fn note(&self, ledger: &Ledger) -> Option<String> {
        let name = label_text(&ledger.name);
        let units = |n: u64| format!("{} {name}", format_fixed(u128::from(n), ledger.decimals));
        Some(match self.limit {
            ClaimLimit::None => return None,
            ClaimLimit::PointsLedger => "points are not withdrawable".into(),
            ClaimLimit::NoSlot => "no slot on this ledger yet: `upline member open-ledgers`".into(),
            ClaimLimit::Paused => "the network is paused".into(),
            ClaimLimit::Frozen => "the membership is frozen".into(),
            ClaimLimit::BelowMinimum => {
                format!("below the {} minimum", units(ledger.min_withdrawal))
            }
            ClaimLimit::Breaker(left) => {
                format!(
                    "the circuit breaker lets {} out in this window",
                    units(left)
                )
            }
            ClaimLimit::Vault(held) => format!("the vault holds {} for withdrawals", units(held)),
        })
    }
}

/// What `member` can withdraw from `ledger` at `now` in a network that is
/// `paused` or not.
pub fn claim(paused: bool, ledger: &Ledger, member: &Member, now: i64) -> Claim {
    let slot = member.ledgers.get(usize::from(ledger.index));
    let balance = slot
        .and_then(|s| s.balance().ok())
        .and_then(|b| b.to_base_units_floor_capped(ledger.decimals).ok())
        .unwrap_or(0);
    let b = ledger.circuit_breaker;
    let breaker_left = if b.window_seconds <= 0 {
        u64::MAX
    } else if now >= b.window_start.saturating_add(b.window_seconds) {
        b.max_outflow
    } else {
        b.max_outflow.saturating_sub(b.window_outflow)
    };
    let held = u64::try_from(ledger.funded.saturating_sub(ledger.withdrawn)).unwrap_or(u64::MAX);
    let stopped = |limit| Claim {
        balance,
        claimable: 0,
        limit,
    };
    if !ledger.is_withdrawable() {
        return stopped(ClaimLimit::PointsLedger);
    }
    if slot.is_none() {
        return stopped(ClaimLimit::NoSlot);
    }
    if paused {
        return stopped(ClaimLimit::Paused);
    }
    if member.is_frozen() {
        return stopped(ClaimLimit::Frozen);
    }
    if balance == 0 {
        return stopped(ClaimLimit::None);
    }
    if balance < ledger.min_withdrawal {
        return stopped(ClaimLimit::BelowMinimum);
    }
    let can = balance.min(breaker_left).min(held);
    let limit = if can == breaker_left && can < balance {
        ClaimLimit::Breaker(breaker_left)
    } else if can == held && can < balance {
        ClaimLimit::Vault(held)
    } else {
        ClaimLimit::None
    };
    Claim {
        balance,
        claimable: if can >= ledger.min_withdrawal { can } else { 0 },
        limit,
    }
}
