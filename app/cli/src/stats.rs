//! `upline member stats`: the referral stats of DESIGN.md and the Cxmpute
//! document, read from the member and network accounts.

use crate::member::{load_member, NetworkView};
use crate::Failure;
use anchor_lang::prelude::Pubkey;
use serde_json::Value;
use upline_sdk::client::Cluster;
use upline_sdk::stats::referral_stats;

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
    Ok(referral_stats(
        &network,
        &view.network,
        &view.ledgers,
        &member,
        now,
    ))
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
