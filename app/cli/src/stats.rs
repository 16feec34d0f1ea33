//! `upline member stats`: the referral stats of DESIGN.md and the Cxmpute
//! document, read from the member and network accounts.

use crate::member::NetworkView;
use crate::Failure;
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use upline::state::Member;
use upline_sdk::client::Cluster;
use upline_sdk::stats::{referral_stats, StatsSubject};

/// `member stats`: the referral stats of DESIGN.md and the Cxmpute document
/// of every membership `wallet` holds in `network` (one per class, DESIGN.md
/// §3 rule 6), as JSON (the object `--json` prints, shaped as the explorer's
/// referral-stats answer): `{"wallet": W, "memberships": [...]}`.
pub async fn stats<C: Cluster>(
    cluster: &mut C,
    network: Pubkey,
    wallet: Pubkey,
) -> Result<Value, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let held = view.memberships(cluster, &wallet).await?;
    if held.is_empty() {
        return Err(Failure::input(format!(
            "UnknownMember: {wallet} is not a member of network {network}"
        )));
    }
    let now = cluster.now().await.map_err(Failure::from)?;
    let mut memberships = Vec::with_capacity(held.len());
    for m in &held {
        // The member account stores its referrer's membership; the code is its wallet.
        let referrer_wallet = if m.member.has_referrer() {
            cluster
                .decode::<Member>(&m.member.referrer)
                .await
                .map_err(Failure::from)?
                .map(|r| r.wallet)
        } else {
            None
        };
        let subject = StatsSubject {
            member: m.account,
            referrer_wallet,
        };
        let mut one = referral_stats(
            &network,
            &view.network,
            &view.ledgers,
            (&subject, &m.member),
            now,
        );
        crate::operate::annotate(&mut one, &crate::operate::claims(&view, &m.member, now));
        memberships.push(one);
    }
    Ok(json!({"wallet": wallet.to_string(), "memberships": memberships}))
}

/// The stats object as readable text: each membership in turn.
pub fn render_stats(stats: &Value) -> String {
    stats["memberships"]
        .as_array()
        .into_iter()
        .flatten()
        .map(render_membership)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One membership's stats as readable text.
fn render_membership(stats: &Value) -> String {
    let s = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    };
    let mut out = format!(
        "member {} of {} ({})\nclass {} (member account {}), tier {}, device tier {}, referrer {}\n",
        s(&stats["wallet"]),
        s(&stats["network_name"]),
        s(&stats["network"]),
        s(&stats["class"]),
        s(&stats["member"]),
        s(&stats["tier"]),
        s(&stats["device_tier"]),
        stats["referrer"].as_str().unwrap_or("none"),
    );
    let d = &stats["downline"];
    out += &format!(
        "downline: level 1 {}, level 2 {}, level 3 {} (total {})\n",
        d["level1"], d["level2"], d["level3"], d["total"]
    );
    let unopened: Vec<&str> = stats["unopened_ledgers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !unopened.is_empty() {
        out += &format!(
            "no slot yet on {}: `upline member open-ledgers` (anyone may pay)\n",
            unopened.join(", ")
        );
    }
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
        if !ledger["min_withdrawal"].is_null() {
            out += &format!("  {:<16} {:>32}\n", "minimum", s(&ledger["min_withdrawal"]));
        }
        if let Some(claimable) = ledger["claimable"].as_str() {
            let note = ledger["claimable_note"]
                .as_str()
                .map_or(String::new(), |n| format!(" ({n})"));
            out += &format!("  {:<16} {claimable:>32}{note}\n", "claimable now");
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
