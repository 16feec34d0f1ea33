//! The network page's members table: one page at a time, in join order, by
//! direct referrals, or by an amount on one ledger. Every order is read off
//! an index (`members_by_join`, `members_by_downline`,
//! `member_totals_by_balance` / `_by_referral`), so a page costs the same at
//! 10,000 members as at 1,000,000 (deep pages pay for their offset).

use super::amounts::wad;
use super::args::{self, MemberSort, Page};
use super::network::{ledger_param, network_row};
use super::rows::{self, class_name, class_names, ledgers, totals_of, Row};
use super::{address, failed, Answer};
use crate::http::{Request, Response};
use crate::store::{Cell, Store};
use crate::ExplorerError;
use serde_json::{json, Map, Value};

/// The member columns a listed row is read from.
const COLUMNS: &str = "m.member, m.wallet, m.join_ordinal, m.class, m.referrer, m.referrer_wallet, m.downline1, m.downline2, m.downline3, m.joined_at, m.frozen";

type Rows = Vec<Vec<Cell>>;

/// `GET /api/networks/{network}/members?page=&per_page=&sort=&order=&ledger=`:
/// one page of the members table. The shape of the listing before issue 16
/// (wallet, member, join_ordinal, class, referrer, referrer_member,
/// downline, balances by ledger name), extended with each member's totals
/// per ledger and the sort applied.
pub async fn members_page(store: &Store, network: &str, request: &Request) -> Response {
    match members(store, network, request).await {
        Ok(r) | Err(r) => r,
    }
}

/// One statement's rows.
async fn rows_of(store: &Store, sql: &str, params: Vec<Cell>) -> Result<Rows, ExplorerError> {
    store.query(sql, params).await
}

/// A page ordered by an amount column of `member_totals` on one ledger.
/// Members credited nothing there have no row: they hold 0 and list after
/// the others (before them, ascending), in join order. The credited are read
/// off the amount's index, the others by join order; a page that straddles
/// the two takes the rest from the second part.
async fn by_amount(
    store: &Store,
    network: &str,
    ledger_index: i64,
    column: &str,
    descending: bool,
    page: Page,
) -> Result<Rows, ExplorerError> {
    // Ties in join order (the index gives the amounts' order; the database
    // sorts only within runs of equal amounts).
    let order = if descending {
        format!("{}, m.join_ordinal", store.amount_order_desc(column))
    } else {
        format!("{}, m.join_ordinal", store.amount_order(column))
    };
    let credited = format!("SELECT {COLUMNS} FROM member_totals t JOIN members m ON m.member = t.member WHERE t.network = $1 AND t.ledger_index = $2 ORDER BY {order} LIMIT $3 OFFSET $4");
    let uncredited = format!("SELECT {COLUMNS} FROM members m WHERE m.network = $1 AND NOT EXISTS (SELECT 1 FROM member_totals t WHERE t.member = m.member AND t.ledger_index = $2) ORDER BY m.join_ordinal LIMIT $3 OFFSET $4");
    let (first, second) = if descending {
        (&credited, &uncredited)
    } else {
        (&uncredited, &credited)
    };
    let (limit, offset) = page.limit_offset();
    let params = |limit: i64, offset: i64| {
        vec![
            network.into(),
            ledger_index.into(),
            limit.into(),
            offset.into(),
        ]
    };
    let mut found = rows_of(store, first, params(limit, offset)).await?;
    let short = limit - i64::try_from(found.len()).unwrap_or(limit);
    if short <= 0 {
        return Ok(found);
    }
    // How many rows the first part has: known from this page unless it lies
    // wholly past them (then counted, off the same index).
    let in_first = if found.is_empty() {
        let count = if descending {
            "SELECT COUNT(*) FROM member_totals WHERE network = $1 AND ledger_index = $2"
        } else {
            "SELECT COUNT(*) FROM members m WHERE m.network = $1 AND NOT EXISTS (SELECT 1 FROM member_totals t WHERE t.member = m.member AND t.ledger_index = $2)"
        };
        let rows = rows_of(store, count, vec![network.into(), ledger_index.into()]).await?;
        rows.first().map_or(0, |r| Row(r).int(0))
    } else {
        offset.saturating_add(limit - short)
    };
    let skip = offset.saturating_sub(in_first).max(0);
    found.extend(rows_of(store, second, params(short, skip)).await?);
    Ok(found)
}

async fn members(store: &Store, network: &str, request: &Request) -> Answer<Response> {
    address(network, "a network")?;
    let page = args::page(request)?;
    let (sort, descending) = args::member_sort(request)?;
    let row = network_row(store, network).await?;
    let ledgers = ledgers(store, network).await.map_err(failed)?;
    let by = ledger_param(request, &ledgers)?;
    let decoded = rows::snapshot(store, network, "network")
        .await
        .map_err(failed)?;
    let names = class_names(decoded.as_ref());
    let direction = if descending { " DESC" } else { "" };
    let (limit, offset) = page.limit_offset();
    let plain = |order: String| {
        format!("SELECT {COLUMNS} FROM members m WHERE m.network = $1 ORDER BY {order} LIMIT $2 OFFSET $3")
    };
    let found = match (sort, by) {
        (MemberSort::Referral | MemberSort::Balance, Some(ledger)) => {
            let column = if sort == MemberSort::Referral {
                "t.referral_wad"
            } else {
                "t.balance_wad"
            };
            by_amount(store, network, ledger.index, column, descending, page).await
        }
        (MemberSort::Downline, _) => {
            // The index's order, read either way (ties reversed too).
            let sql = plain(format!("m.downline1{direction}, m.join_ordinal{direction}"));
            rows_of(
                store,
                &sql,
                vec![network.into(), limit.into(), offset.into()],
            )
            .await
        }
        _ => {
            let sql = plain(format!("m.join_ordinal{direction}"));
            rows_of(
                store,
                &sql,
                vec![network.into(), limit.into(), offset.into()],
            )
            .await
        }
    }
    .map_err(failed)?;
    let members: Vec<String> = found.iter().map(|r| Row(r).text(0)).collect();
    let totals = totals_of(store, &members).await.map_err(failed)?;
    let listed: Vec<Value> = found
        .iter()
        .map(|r| {
            let row = Row(r);
            let member = row.text(0);
            let mut balances = Map::new();
            let mut per_ledger = Map::new();
            for l in &ledgers {
                let t = totals
                    .get(&(member.clone(), l.index))
                    .copied()
                    .unwrap_or_default();
                balances.insert(l.name.clone(), json!(wad(t.balance)));
                per_ledger.insert(l.name.clone(), t.json());
            }
            json!({
                "wallet": row.text(1),
                "member": member,
                "join_ordinal": row.int(2),
                "class": class_name(&names, row.int(3)),
                "referrer": row.opt(5),
                "referrer_member": row.opt(4),
                "downline": [row.int(6), row.int(7), row.int(8)],
                "joined_at": row.int(9),
                "frozen": row.int(10) != 0,
                "balances": balances,
                "totals": per_ledger,
            })
        })
        .collect();
    Ok(Response::json(
        200,
        &json!({
            "network": network,
            "page": page.page,
            "per_page": page.per_page,
            "total": row.members,
            "sort": sort.name(),
            "order": if descending { "desc" } else { "asc" },
            "ledger": by.map(|l| l.name.clone()),
            "members": listed,
        }),
    ))
}
