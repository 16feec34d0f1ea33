//! `upline network show`: the network, its ledgers and its oracles.

use super::{percent, time_text};
use crate::admin::Outcome;
use crate::history;
use crate::member::NetworkView;
use crate::Failure;
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt::Write;
use upline::math::decimal::format_fixed;
use upline::math::Wad;
use upline::state::{label_text, Ledger, LedgerKind, Oracle};
use upline_sdk::client::{Cluster, TxFailure};
use upline_sdk::events::UplineEvent;
use upline_sdk::pda;
use upline_sdk::rpc::RpcCluster;

/// The network's oracle accounts by `getProgramAccounts` (an Oracle's
/// network follows its discriminator and bump); `None` where the cluster
/// does not serve it (the sandbox; some RPC providers).
async fn oracle_accounts(cluster: &RpcCluster, network: &Pubkey) -> Option<BTreeSet<Pubkey>> {
    use anchor_lang::{AccountDeserialize, Discriminator};
    let filters = json!({
        "filters": [
            {"memcmp": {"offset": 0, "bytes": bs58::encode(Oracle::DISCRIMINATOR).into_string(), "encoding": "base58"}},
            {"memcmp": {"offset": Oracle::DISCRIMINATOR.len() + 1, "bytes": network.to_string(), "encoding": "base58"}},
        ],
        "encoding": "base64",
    });
    let config = serde_json::from_value(filters).ok()?;
    let accounts = cluster
        .client()
        .get_program_ui_accounts_with_config(&upline::ID, config)
        .await
        .ok()?;
    Some(
        accounts
            .into_iter()
            .filter_map(|(_, account)| account.data.decode())
            .filter_map(|data| Oracle::try_deserialize(&mut data.as_slice()).ok())
            .filter(|o| o.network == *network)
            .map(|o| o.authority)
            .collect(),
    )
}

/// Every wallet the network's history shows added as an oracle.
async fn oracle_candidates(
    cluster: &RpcCluster,
    network: &Pubkey,
) -> Result<BTreeSet<Pubkey>, TxFailure> {
    let mut found = BTreeSet::new();
    history::newest_first(cluster, network, |events| {
        for event in events {
            if let UplineEvent::OracleAdded(e) = event {
                if e.network == *network {
                    found.insert(e.oracle);
                }
            }
        }
        None::<()>
    })
    .await?;
    Ok(found)
}

/// An oracle and its credit caps (ledgers without one are left out).
fn oracle_json(view: &NetworkView, oracle: &Oracle) -> Value {
    let caps: Vec<Value> = view
        .ledgers
        .iter()
        .filter_map(|l| {
            let cap = oracle.caps.get(usize::from(l.index))?;
            (cap.limit != Wad::ZERO).then(|| {
                json!({"ledger": label_text(&l.name), "limit": cap.limit.to_string(),
                       "window_seconds": cap.window_seconds, "credited_in_window": cap.credited.to_string()})
            })
        })
        .collect();
    json!({"wallet": oracle.authority.to_string(), "added_at": oracle.added_at, "caps": caps})
}

fn units(ledger: &Ledger, base: u128) -> String {
    format_fixed(base, ledger.decimals)
}

/// A token account's balance (SPL Token and Token-2022 keep it at byte 64).
fn token_amount(data: &[u8]) -> Option<u64> {
    data.get(64..72)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
}

async fn ledger_json(cluster: &mut RpcCluster, ledger: &Ledger) -> Result<Value, Failure> {
    let name = label_text(&ledger.name);
    let breaker = &ledger.circuit_breaker;
    let breaker = if breaker.window_seconds > 0 {
        json!({"max_outflow": units(ledger, u128::from(breaker.max_outflow)),
               "window_seconds": breaker.window_seconds,
               "outflow_in_window": units(ledger, u128::from(breaker.window_outflow))})
    } else {
        Value::Null
    };
    let mut value = json!({
        "index": ledger.index, "name": name,
        "kind": if ledger.kind == LedgerKind::Points { "points" } else { "token" },
        "circuit_breaker": breaker,
    });
    if ledger.kind == LedgerKind::Token {
        let vault = cluster
            .account(&ledger.vault)
            .await
            .map_err(Failure::from)?
            .and_then(|a| token_amount(&a.data));
        value["mint"] = json!(ledger.mint.to_string());
        value["vault"] = json!(ledger.vault.to_string());
        value["funded"] = json!(units(ledger, ledger.funded));
        value["withdrawn"] = json!(units(ledger, ledger.withdrawn));
        value["in_vault"] = json!(vault.map(|v| units(ledger, u128::from(v))));
        value["min_withdrawal"] = json!(units(ledger, u128::from(ledger.min_withdrawal)));
    }
    Ok(value)
}

/// `network show`.
pub async fn show(cluster: &mut RpcCluster, network: Pubkey) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let now = cluster.now().await.map_err(Failure::from)?;
    let n = &view.network;
    let candidates = match oracle_accounts(cluster, &network).await {
        Some(found) => found,
        None => oracle_candidates(cluster, &network)
            .await
            .map_err(Failure::from)?,
    };
    let mut oracles = Vec::new();
    for key in candidates {
        let registered = cluster
            .decode::<Oracle>(&pda::oracle(&network, &key))
            .await
            .map_err(Failure::from)?;
        if let Some(oracle) = registered {
            oracles.push(oracle_json(&view, &oracle));
        }
    }
    let mut ledgers = Vec::new();
    for ledger in &view.ledgers {
        ledgers.push(ledger_json(cluster, ledger).await?);
    }
    let promotion = n.promotion;
    let pending = (n.pending_admin != Pubkey::default()).then(|| n.pending_admin.to_string());
    let value = json!({
        "network": network.to_string(), "name": view.name(),
        "admin": n.admin.to_string(), "pending_admin": pending,
        "paused": n.paused, "tables_version": n.tables_version,
        "classes": view.class_names(), "members": n.member_count,
        "promotion": {
            "rate": promotion.rate.to_string(), "start": promotion.start, "end": promotion.end,
            "open_now": promotion.is_open(now),
        },
        "quorum": n.oracle_quorum, "oracle_count": n.oracle_count,
        "oracles": oracles, "ledgers": ledgers,
    });
    Ok(Outcome {
        text: render(&value, &view, now),
        json: value,
    })
}

fn render(v: &Value, view: &NetworkView, now: i64) -> String {
    let n = &view.network;
    let mut t = String::new();
    let _ = writeln!(t, "network {} ({})", view.name(), view.address);
    let _ = writeln!(t, "  admin          {}", n.admin);
    if n.pending_admin != Pubkey::default() {
        let _ = writeln!(t, "  pending admin  {} (has not accepted)", n.pending_admin);
    }
    let state = if n.paused {
        "PAUSED: joins, links, withdrawals and reports are refused"
    } else {
        "active"
    };
    let _ = writeln!(t, "  state          {state}");
    let _ = writeln!(
        t,
        "  tables         version {}; classes {}",
        n.tables_version,
        view.class_names().join(", ")
    );
    let _ = writeln!(t, "  members        {}", n.member_count);
    let p = n.promotion;
    let promotion = if p.end == 0 && p.start == 0 {
        "none".to_string()
    } else {
        let when = if p.is_open(now) {
            "open now"
        } else if now < p.start {
            "not started"
        } else {
            "ended"
        };
        format!(
            "{} from {} to {} ({when})",
            percent(p.rate),
            time_text(p.start),
            time_text(p.end)
        )
    };
    let _ = writeln!(t, "  promotion      {promotion}");
    let _ = writeln!(
        t,
        "  oracles        {} (quorum {} of {})",
        n.oracle_count, n.oracle_quorum, n.oracle_count
    );
    for oracle in v["oracles"].as_array().into_iter().flatten() {
        let caps: Vec<String> = oracle["caps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                format!(
                    "at most {} {} per {} s",
                    c["limit"].as_str().unwrap_or("?"),
                    c["ledger"].as_str().unwrap_or("?"),
                    c["window_seconds"]
                )
            })
            .collect();
        let caps = if caps.is_empty() {
            String::new()
        } else {
            format!("  (caps: {})", caps.join(", "))
        };
        let _ = writeln!(
            t,
            "    {}{caps}",
            oracle["wallet"].as_str().unwrap_or_default()
        );
    }
    let _ = writeln!(t, "  ledgers");
    for l in v["ledgers"].as_array().into_iter().flatten() {
        let name = l["name"].as_str().unwrap_or_default();
        if l["kind"] == "points" {
            let _ = writeln!(t, "    {name}  points (not withdrawable)");
            continue;
        }
        let s = |k: &str| l[k].as_str().unwrap_or("?").to_string();
        let _ = writeln!(
            t,
            "    {name}  funded {}  withdrawn {}  in the vault {}  minimum withdrawal {}",
            s("funded"),
            s("withdrawn"),
            s("in_vault"),
            s("min_withdrawal")
        );
        let breaker = &l["circuit_breaker"];
        let breaker = if breaker.is_null() {
            "off".to_string()
        } else {
            format!(
                "at most {} per {} s ({} out in this window)",
                breaker["max_outflow"].as_str().unwrap_or("?"),
                breaker["window_seconds"],
                breaker["outflow_in_window"].as_str().unwrap_or("?")
            )
        };
        let _ = writeln!(t, "      circuit breaker {breaker}; mint {}", s("mint"));
    }
    t
}
