//! The network page's reads: summary, promotion, tables versions, solvency
//! per ledger, the leaderboard and the members table.

use super::amounts::{self, coverage, token_account_amount, wad};
use super::args;
use super::rows::{self, class_name, class_names, ledgers, LedgerRow, Row, Totals};
use super::{address, failed, Answer};
use crate::http::{Request, Response};
use crate::store::{Cell, Store};
use crate::ExplorerError;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use upline::math::decimal::format_fixed;
use upline::state::Network;

/// A network's row in `networks`, the columns the pages use.
pub(super) struct NetworkRow {
    name: String,
    admin: String,
    created_at: i64,
    pub(super) members: i64,
    paused: bool,
    promotion: (i64, i64, i64),
    tables_version: i64,
    reward_tables_version: i64,
    last_position: i64,
    last_event_at: i64,
}

pub(super) async fn network_row(store: &Store, network: &str) -> Answer<NetworkRow> {
    let rows = store
        .query(
            "SELECT name, admin, created_at, members, paused, promotion_start, promotion_end, promotion_rate_ppm, tables_version, reward_tables_version, last_position, last_event_at FROM networks WHERE address = $1",
            vec![network.into()],
        )
        .await
        .map_err(failed)?;
    let Some(row) = rows.first().map(|r| Row(r)) else {
        return Err(Response::error(
            404,
            format!("network {network} is not in the index (see /api/networks for those that are)"),
        ));
    };
    Ok(NetworkRow {
        name: row.text(0),
        admin: row.text(1),
        created_at: row.int(2),
        members: row.int(3),
        paused: row.int(4) != 0,
        promotion: (row.int(5), row.int(6), row.int(7)),
        tables_version: row.int(8),
        reward_tables_version: row.int(9),
        last_position: row.int(10),
        last_event_at: row.int(11),
    })
}

/// The promotion window: its bounds, rate and whether it is open at `now`.
fn promotion((start, end, rate_ppm): (i64, i64, i64), now: i64) -> Value {
    let state = if start == 0 && end == 0 {
        "none"
    } else if now < start {
        "scheduled"
    } else if now < end {
        "open"
    } else {
        "ended"
    };
    json!({
        "start": start,
        "end": end,
        "rate_ppm": rate_ppm,
        "rate_percent": format_fixed(u128::try_from(rate_ppm).unwrap_or(0), 4),
        "open": state == "open",
        "state": state,
        "now": now,
    })
}

/// Solvency of one ledger: funded and paid out (base units), owed to
/// members (credited - withdrawn, WAD), the vault's balance and coverage.
fn solvency(ledger: &LedgerRow, vault: Option<u64>) -> Value {
    let owed = amounts::owed(ledger.credited_wad, ledger.withdrawn_wad);
    let coverage = match (ledger.is_token(), vault, owed) {
        (true, Some(held), Some(owed)) => coverage(u128::from(held), ledger.decimals, owed),
        _ => "n/a".to_string(),
    };
    json!({
        "index": ledger.index,
        "ledger": ledger.name,
        "kind": ledger.kind,
        "decimals": ledger.decimals,
        "funded": ledger.units(ledger.funded_base),
        "paid_out": ledger.units(ledger.paid_out_base),
        "credited": wad(ledger.credited_wad),
        "withdrawn": wad(ledger.withdrawn_wad),
        // None only if the index says more was withdrawn than credited.
        "owed": owed.map(wad),
        "vault": if ledger.is_token() { vault.map(|v| ledger.units(u128::from(v))) } else { None },
        "coverage": coverage,
        // Whether the vault holds at least what members are owed.
        "covered": match (vault, owed) {
            (_, Some(0)) => Some(true),
            (Some(v), Some(o)) if ledger.is_token() => Some(amounts::covers(u128::from(v), ledger.decimals, o)),
            _ => None,
        },
    })
}

/// The vaults' balances of `network`: vault address → base units.
async fn vaults(store: &Store, network: &str) -> Result<HashMap<String, u64>, ExplorerError> {
    let rows = store
        .query(
            "SELECT address, data FROM accounts WHERE network = $1 AND kind = 'vault'",
            vec![network.into()],
        )
        .await?;
    let mut out = HashMap::new();
    for r in &rows {
        let row = Row(r);
        let data = base64::engine::general_purpose::STANDARD
            .decode(row.text(1))
            .map_err(|e| ExplorerError::Corrupt(format!("vault {}: {e}", row.text(0))))?;
        if let Some(amount) = token_account_amount(&data) {
            out.insert(row.text(0), amount);
        }
    }
    Ok(out)
}

/// `GET /api/networks/{network}`: the summary `/api/networks` gives for
/// each network, extended with the promotion, solvency and tables versions.
pub async fn summary(store: &Store, network: &str) -> Answer<Response> {
    address(network, "a network")?;
    let row = network_row(store, network).await?;
    let ledgers = ledgers(store, network).await.map_err(failed)?;
    let vaults = vaults(store, network).await.map_err(failed)?;
    let decoded: Option<Network> = rows::snapshot(store, network, "network")
        .await
        .map_err(failed)?;
    let versions = store
        .query(
            "SELECT kind, version, signature, block_time, tables FROM tables_versions WHERE network = $1 ORDER BY position DESC, kind LIMIT 50",
            vec![network.into()],
        )
        .await
        .map_err(failed)?;
    let versions: Vec<Value> = versions
        .iter()
        .map(|r| {
            let row = Row(r);
            json!({
                "kind": row.text(0),
                "version": row.int(1),
                "signature": row.text(2),
                "time": row.int(3),
                "tables": serde_json::from_str::<Value>(&row.text(4)).unwrap_or(Value::Null),
            })
        })
        .collect();
    let now = rows::now(row.last_event_at);
    let ledger_summaries: Vec<Value> = ledgers
        .iter()
        .map(|l| {
            json!({
                "index": l.index,
                "name": l.name,
                "kind": l.kind,
                "address": l.address,
                "mint": l.mint,
                "vault": l.vault,
                "decimals": l.decimals,
                "min_withdrawal": l.units(l.min_withdrawal_base),
                "funded": l.units(l.funded_base),
                "withdrawn": l.units(l.paid_out_base),
            })
        })
        .collect();
    let solvency: Vec<Value> = ledgers
        .iter()
        .map(|l| solvency(l, l.vault.as_ref().and_then(|v| vaults.get(v)).copied()))
        .collect();
    Ok(Response::json(
        200,
        &json!({
            "address": network,
            "name": row.name,
            "admin": row.admin,
            "paused": row.paused,
            "members": row.members,
            "classes": class_names(decoded.as_ref()),
            "ledgers": ledger_summaries,
            "created_at": row.created_at,
            "tables_version": row.tables_version,
            "reward_tables_version": row.reward_tables_version,
            "last_position": row.last_position,
            "last_event_at": row.last_event_at,
            "promotion": promotion(row.promotion, now),
            "solvency": solvency,
            "tables_versions": versions,
        }),
    ))
}

/// `?ledger=` as a ledger index of the network (default its first).
pub(super) fn ledger_param<'a>(
    request: &Request,
    ledgers: &'a [LedgerRow],
) -> Answer<Option<&'a LedgerRow>> {
    let Some(text) = request.param("ledger").filter(|t| !t.is_empty()) else {
        return Ok(ledgers.first());
    };
    let found = ledgers
        .iter()
        .find(|l| l.name == text || text.parse::<i64>().ok() == Some(l.index));
    let names: Vec<&str> = ledgers.iter().map(|l| l.name.as_str()).collect();
    found.map(Some).ok_or_else(|| {
        Response::error(
            404,
            format!(
                "?ledger={text}: this network's ledgers are {}",
                names.join(", ")
            ),
        )
    })
}

/// `GET /api/networks/{network}/leaderboard?ledger=&limit=`: the members who
/// earned the most referral rewards on a ledger.
pub async fn leaderboard(store: &Store, network: &str, request: &Request) -> Answer<Response> {
    address(network, "a network")?;
    network_row(store, network).await?;
    let limit = args::number(request, "limit", 10, 1)?.min(100);
    let ledgers = ledgers(store, network).await.map_err(failed)?;
    let Some(ledger) = ledger_param(request, &ledgers)? else {
        return Ok(Response::json(
            200,
            &json!({"network": network, "leaders": []}),
        ));
    };
    let names = class_names(
        rows::snapshot(store, network, "network")
            .await
            .map_err(failed)?
            .as_ref(),
    );
    let sql = format!(
        "SELECT m.member, m.wallet, m.class, m.downline1, {} FROM member_totals t JOIN members m ON m.member = t.member WHERE t.network = $1 AND t.ledger_index = $2 AND t.referral_wad <> '0' ORDER BY {}, m.join_ordinal LIMIT $3",
        rows::TOTALS_COLUMNS,
        store.amount_order_desc("t.referral_wad"),
    );
    let found = store
        .query(
            &sql,
            vec![
                network.into(),
                ledger.index.into(),
                Cell::Int(i64::try_from(limit).unwrap_or(100)),
            ],
        )
        .await
        .map_err(failed)?;
    let mut leaders = Vec::new();
    for (rank, r) in found.iter().enumerate() {
        let row = Row(r);
        let totals = Totals::read(&row, 4).map_err(failed)?;
        leaders.push(json!({
            "rank": rank + 1,
            "member": row.text(0),
            "wallet": row.text(1),
            "class": class_name(&names, row.int(2)),
            "referrals": row.int(3),
            "referral": wad(totals.referral),
            "totals": totals.json(),
        }));
    }
    Ok(Response::json(
        200,
        &json!({"network": network, "ledger": ledger.name, "leaders": leaders}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotions_are_open_only_inside_their_window() {
        let window = (100, 200, 150_000);
        assert_eq!(promotion(window, 99)["state"], "scheduled");
        assert_eq!(promotion(window, 100)["open"], true);
        assert_eq!(promotion(window, 199)["state"], "open");
        assert_eq!(promotion(window, 200)["state"], "ended");
        assert_eq!(promotion((0, 0, 0), 5)["state"], "none");
        assert_eq!(promotion(window, 150)["rate_percent"], "15");
    }
}
