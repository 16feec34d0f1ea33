//! Each version of a network's tables, as the network page lists them: the
//! figures people compare between versions, as JSON (rates in ppm, amounts
//! in WAD as exact decimal text).

use super::{int, key, NewTransaction};
use crate::store::{Cell, Statement};
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use upline::state::{label_text, NetworkTables, RewardTablesData};

pub fn network_tables(t: &NetworkTables) -> Value {
    let classes: Vec<Value> = t
        .active_classes()
        .iter()
        .map(|c| {
            json!({
                "name": label_text(&c.name),
                "referral_depth": c.referral_depth,
                "commission_rates_ppm": c.commission_rates.iter().map(|r| r.0).collect::<Vec<_>>(),
                "direct_bonus_wad": c.direct_bonus.0.to_string(),
                "direct_bonus_ledger": c.direct_bonus_ledger,
                "direct_bonus_trigger": format!("{:?}", c.direct_bonus_trigger),
            })
        })
        .collect();
    json!({
        "classes": classes,
        "same_class_referrals": t.same_class_referrals,
        "tier_rates_ppm": t.tier_rates.iter().map(|r| r.0).collect::<Vec<_>>(),
        "growth_phase_seconds": t.early_bonus.growth_phase_seconds,
        "early_referee_limit": t.early_bonus.early_referee_limit,
        "early_member_limit": t.early_bonus.early_member_limit,
        "max_report_age_seconds": t.max_report_age_seconds,
    })
}

pub fn reward_tables(t: &RewardTablesData) -> Value {
    json!({
        "compute": t.compute.enabled,
        "usage": t.usage.enabled,
        "rental": t.rental.enabled,
        "bandwidth": t.bandwidth.enabled,
    })
}

/// The `tables_versions` row of a version.
pub fn version_row(
    network: Pubkey,
    kind: &str,
    version: u32,
    tx: &NewTransaction,
    tables: Value,
) -> Statement {
    (
        "INSERT INTO tables_versions (network, kind, version, signature, position, block_time, tables) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (network, kind, version) DO NOTHING".into(),
        vec![
            key(&network),
            kind.into(),
            int(version),
            Cell::Text(tx.fetched.signature.clone()),
            int(tx.position),
            int(tx.fetched.block_time),
            tables.to_string().into(),
        ],
    )
}
