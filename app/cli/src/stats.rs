//! `upline member stats`: the referral stats of DESIGN.md and the Cxmpute
//! document, read from the member and network accounts.

use crate::member::{load_member, NetworkView};
use crate::Failure;
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use upline::constants::HISTORY_DAYS;
use upline::math::decimal::format_fixed;
use upline::state::{label_text, CommissionTier, MemberFlags};
use upline_sdk::client::Cluster;

/// `member stats`: the referral stats of DESIGN.md and the Cxmpute document,
/// as JSON (the same object `--json` prints).
pub async fn stats<C: Cluster>(
    cluster: &mut C,
    network: Pubkey,
    wallet: Pubkey,
) -> Result<Value, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let member = load_member(cluster, &network, &wallet).await?;
    let now = cluster.now().await.map_err(Failure::from)?;
    let class = view
        .network
        .tables
        .classes
        .get(usize::from(member.class))
        .map_or("?", |c| label_text(&c.name));
    let mut ledgers = Vec::with_capacity(view.ledgers.len());
    for ledger in &view.ledgers {
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
        ledgers.push(json!({
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
    Ok(json!({
        "wallet": wallet.to_string(),
        "network": network.to_string(),
        "network_name": view.name(),
        "class": class,
        "referrer": referrer,
        "tier": match member.commission_tier {
            CommissionTier::Standard => "standard",
            CommissionTier::Premium => "premium",
            CommissionTier::Vip => "vip",
        },
        "device_tier": member.device_tier,
        "attested": member.flags.has(MemberFlags::ATTESTED),
        "downline": {
            "level1": member.downline[0],
            "level2": member.downline[1],
            "level3": member.downline[2],
            "total": member.downline.iter().map(|n| u64::from(*n)).sum::<u64>(),
        },
        "ledgers": ledgers,
    }))
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

/// The stats object as readable text.
pub fn render_stats(stats: &Value) -> String {
    let s = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    };
    let mut out = format!(
        "member {} of {} ({})\nclass {}, tier {}, device tier {}, referrer {}\n",
        s(&stats["wallet"]),
        s(&stats["network_name"]),
        s(&stats["network"]),
        s(&stats["class"]),
        s(&stats["tier"]),
        s(&stats["device_tier"]),
        stats["referrer"].as_str().unwrap_or("none"),
    );
    let d = &stats["downline"];
    out += &format!(
        "downline: level 1 {}, level 2 {}, level 3 {} (total {})\n",
        d["level1"], d["level2"], d["level3"], d["total"]
    );
    for ledger in stats["ledgers"].as_array().into_iter().flatten() {
        let t = &ledger["totals"];
        let r = &ledger["rewards_by_level"];
        out += &format!("\n{}\n", s(&ledger["ledger"]));
        for (label, value) in [
            ("own work", &t["work"]),
            ("referral", &t["referral"]),
            ("  level 1", &r["level1"]),
            ("  level 2", &r["level2"]),
            ("  level 3", &r["level3"]),
            ("  direct bonus", &r["direct_bonus"]),
            ("credited", &t["credited"]),
            ("withdrawn", &t["withdrawn"]),
            ("balance", &t["balance"]),
        ] {
            out += &format!("  {label:<16} {:>32}\n", s(value));
        }
        let days: Vec<String> = ledger["history"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["credited"] != "0")
            .map(|d| format!("    {}  {}", s(&d["day"]), s(&d["credited"])))
            .collect();
        if days.is_empty() {
            out += "  last 30 days: nothing credited\n";
        } else {
            out += "  last 30 days (days with credits):\n";
            out += &days.join("\n");
            out += "\n";
        }
    }
    out
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
