//! Referral stats as DESIGN.md and the Cxmpute document describe them: totals
//! by source, downline size by level, rewards by level, the 30-day history
//! and the tiers, built from a member's account. `upline member stats` and
//! the explorer's referral-stats API give the same object.

use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use upline::constants::HISTORY_DAYS;
use upline::math::decimal::format_fixed;
use upline::state::{label_text, CommissionTier, Ledger, Member, MemberFlags, Network};

/// Which membership the stats are of: its account, and its referrer's wallet
/// where known (the member account stores the referrer's membership).
pub struct StatsSubject {
    pub member: Pubkey,
    pub referrer_wallet: Option<Pubkey>,
}

/// The stats of `member` (see [`StatsSubject`]) in `network` (at `address`,
/// with its `ledgers`), the history window ending on the day of `now`.
pub fn referral_stats(
    address: &Pubkey,
    network: &Network,
    ledgers: &[Ledger],
    (subject, member): (&StatsSubject, &Member),
    now: i64,
) -> Value {
    let wallet = member.wallet;
    let class = network
        .tables
        .classes
        .get(usize::from(member.class))
        .map_or("?", |c| label_text(&c.name));
    let mut per_ledger = Vec::with_capacity(ledgers.len());
    for ledger in ledgers {
        let Some(slot) = member.ledgers.get(usize::from(ledger.index)) else {
            continue;
        };
        let wad = |w: upline::math::Wad| format_fixed(w.0, 18);
        let referral = [slot.level1, slot.level2, slot.level3]
            .iter()
            .try_fold(slot.bonus.0, |sum, w| sum.checked_add(w.0))
            .unwrap_or(u128::MAX);
        let history = member
            .history(ledger.index, now)
            .unwrap_or([0; HISTORY_DAYS]);
        let today = now.div_euclid(86_400);
        let history: Vec<Value> = history
            .iter()
            .enumerate()
            .map(|(age, nano)| {
                let day = today - (HISTORY_DAYS as i64 - 1) + age as i64;
                json!({"day": day_text(day), "credited": format_fixed(u128::from(*nano), 9)})
            })
            .collect();
        per_ledger.push(json!({
            "ledger": label_text(&ledger.name),
            "totals": {
                "work": wad(slot.own),
                "referral": format_fixed(referral, 18),
                "credited": slot.credited().map(wad).unwrap_or_default(),
                "withdrawn": wad(slot.withdrawn),
                "balance": slot.balance().map(wad).unwrap_or_default(),
            },
            "rewards_by_level": {
                "level1": wad(slot.level1),
                "level2": wad(slot.level2),
                "level3": wad(slot.level3),
                "direct_bonus": wad(slot.bonus),
            },
            "history": history,
        }));
    }
    let referrer = (member.referrer != Pubkey::default()).then(|| member.referrer.to_string());
    json!({
        "wallet": wallet.to_string(),
        "member": subject.member.to_string(),
        "network": address.to_string(),
        "network_name": label_text(&network.name),
        "class": class,
        "referrer": subject.referrer_wallet.map(|w| w.to_string()),
        "referrer_member": referrer,
        "tier": match member.commission_tier {
            CommissionTier::Standard => "standard",
            CommissionTier::Premium => "premium",
            CommissionTier::Vip => "vip",
        },
        "device_tier": member.device_tier,
        "attested": member.flags.has(MemberFlags::ATTESTED),
        // Frozen by the admin: earns and withdraws nothing until unfrozen.
        "frozen": member.flags.has(MemberFlags::FROZEN),
        "downline": {
            "level1": member.downline[0],
            "level2": member.downline[1],
            "level3": member.downline[2],
            "total": member.downline.iter().map(|n| u64::from(*n)).sum::<u64>(),
        },
        "ledgers": per_ledger,
    })
}

/// A day number (days since 1970-01-01) as YYYY-MM-DD.
pub fn day_text(day: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::day_text;

    #[test]
    fn day_numbers_print_as_calendar_dates() {
        assert_eq!(day_text(0), "1970-01-01");
        assert_eq!(day_text(1_767_225_600 / 86_400), "2026-01-01");
        assert_eq!(day_text(20_513), "2026-03-01");
        assert_eq!(day_text(19_782), "2024-02-29");
    }
}
