//! The member page's reads: summary cards and levels per ledger, the 30-day
//! chart, the referees with what each brought, the credits and their CSV.

use super::amounts::wad;
use super::args::{self, CreditCursor};
use super::csv::{file_name, Csv};
use super::rows::{self, class_name, class_names, iso_time, ledgers, totals_of, LedgerRow, Row};
use super::{address, failed, Answer};
use crate::http::{Request, Response};
use crate::store::dialect::Dialect;
use crate::store::{Cell, Store};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use upline::constants::HISTORY_DAYS;
use upline::math::decimal::format_fixed;
use upline::state::{Ledger, Member, Network};
use upline_sdk::stats::day_text;

/// The membership's row in `members`, with its network's.
struct MemberRow {
    network: String,
    network_name: String,
    wallet: String,
    class: i64,
    join_ordinal: i64,
    joined_at: i64,
    referrer: Option<String>,
    referrer_wallet: Option<String>,
    linked_at: i64,
    downline: [i64; 3],
    reports: i64,
    last_work_time: i64,
    frozen: bool,
    paused: bool,
    last_event_at: i64,
}

async fn member_row(store: &Store, member: &str) -> Answer<MemberRow> {
    address(member, "a member account")?;
    let rows = store
        .query(
            "SELECT m.network, n.name, m.wallet, m.class, m.join_ordinal, m.joined_at, m.referrer, m.referrer_wallet, m.linked_at, m.downline1, m.downline2, m.downline3, m.reports, m.last_work_time, m.frozen, n.paused, n.last_event_at FROM members m JOIN networks n ON n.address = m.network WHERE m.member = $1",
            vec![member.into()],
        )
        .await
        .map_err(failed)?;
    let Some(row) = rows.first().map(|r| Row(r)) else {
        return Err(Response::error(
            404,
            format!("no membership {member} in the index: a member page takes the member account (the wallet's memberships are listed at /?wallet=WALLET)"),
        ));
    };
    Ok(MemberRow {
        network: row.text(0),
        network_name: row.text(1),
        wallet: row.text(2),
        class: row.int(3),
        join_ordinal: row.int(4),
        joined_at: row.int(5),
        referrer: row.opt(6),
        referrer_wallet: row.opt(7),
        linked_at: row.int(8),
        downline: [row.int(9), row.int(10), row.int(11)],
        reports: row.int(12),
        last_work_time: row.int(13),
        frozen: row.int(14) != 0,
        paused: row.int(15) != 0,
        last_event_at: row.int(16),
    })
}

/// The last 30 days of credits to `member` on ledger `index`, as the member
/// account keeps them (10^-9 units), oldest first, dated.
fn history(member: &Member, index: u8, now: i64) -> Vec<Value> {
    let days = member.history(index, now).unwrap_or([0; HISTORY_DAYS]);
    let today = now.div_euclid(86_400);
    days.iter()
        .enumerate()
        .map(|(age, nano)| {
            let day = today - (HISTORY_DAYS as i64 - 1) + age as i64;
            json!({"day": day_text(day), "credited": format_fixed(u128::from(*nano), 9)})
        })
        .collect()
}

/// What the membership can withdraw from `ledger` now, by the program's
/// rules, from the snapshots (base units of the ledger, and why not more).
fn claimable(
    network: &Network,
    ledger: &Ledger,
    member: &Member,
    now: i64,
    row: &LedgerRow,
) -> Value {
    let claim = upline_sdk::claims::claim(network.paused, ledger, member, now);
    json!({
        "amount": row.units(u128::from(claim.claimable)),
        "note": claim.note(ledger),
    })
}

/// `GET /api/members/{member}`: the cards per ledger (earned, referral
/// share, balance, claimable now), per level the referees and what they
/// brought, the 30-day history. A ledger with nothing on it has
/// `"empty": true` (the page folds it away).
pub async fn summary(store: &Store, member: &str) -> Answer<Response> {
    let m = member_row(store, member).await?;
    let ledgers = ledgers(store, &m.network).await.map_err(failed)?;
    let totals = totals_of(store, &[member.to_string()])
        .await
        .map_err(failed)?;
    let network: Option<Network> = rows::snapshot(store, &m.network, "network")
        .await
        .map_err(failed)?;
    let account: Option<Member> = rows::snapshot(store, member, "member")
        .await
        .map_err(failed)?;
    let now = rows::now(m.last_event_at);
    let mut per_ledger = Vec::with_capacity(ledgers.len());
    for l in &ledgers {
        let t = totals
            .get(&(member.to_string(), l.index))
            .copied()
            .unwrap_or_default();
        let decoded: Option<Ledger> = rows::snapshot(store, &l.address, "ledger")
            .await
            .map_err(failed)?;
        let index = u8::try_from(l.index).unwrap_or(u8::MAX);
        let claim = match (&network, &decoded, &account) {
            (Some(n), Some(ledger), Some(a)) => claimable(n, ledger, a, now, l),
            _ => Value::Null,
        };
        let levels: Vec<Value> = (0..3)
            .map(|i| json!({"level": i + 1, "referees": m.downline[i], "brought": wad(t.level[i])}))
            .collect();
        per_ledger.push(json!({
            "index": l.index,
            "ledger": l.name,
            "kind": l.kind,
            "decimals": l.decimals,
            "empty": t.is_empty(),
            "totals": t.json(),
            "claimable": claim,
            "levels": levels,
            "bonus": wad(t.bonus),
            "history": account.as_ref().map(|a| history(a, index, now)),
        }));
    }
    let names = class_names(network.as_ref());
    Ok(Response::json(
        200,
        &json!({
            "member": member,
            "wallet": m.wallet,
            "network": m.network,
            "network_name": m.network_name,
            "class": class_name(&names, m.class),
            "join_ordinal": m.join_ordinal,
            "joined_at": m.joined_at,
            "referrer": m.referrer_wallet,
            "referrer_member": m.referrer,
            "linked_at": (m.linked_at != 0).then_some(m.linked_at),
            "downline": {
                "level1": m.downline[0],
                "level2": m.downline[1],
                "level3": m.downline[2],
                "total": m.downline.iter().sum::<i64>(),
            },
            "reports": m.reports,
            "last_work_time": m.last_work_time,
            "frozen": m.frozen,
            "paused": m.paused,
            "now": now,
            "ledgers": per_ledger,
        }),
    ))
}

/// `GET /api/members/{member}/referees?page=&per_page=`: the direct
/// referees in join order, each with what its own reports brought this
/// member per ledger.
pub async fn referees(store: &Store, member: &str, request: &Request) -> Answer<Response> {
    let page = args::page(request)?;
    let m = member_row(store, member).await?;
    let ledgers = ledgers(store, &m.network).await.map_err(failed)?;
    let network: Option<Network> = rows::snapshot(store, &m.network, "network")
        .await
        .map_err(failed)?;
    let names = class_names(network.as_ref());
    let (limit, offset) = page.limit_offset();
    let found = store
        .query(
            "SELECT member, wallet, class, join_ordinal, joined_at, downline1, downline2, downline3, frozen FROM members WHERE referrer = $1 ORDER BY join_ordinal LIMIT $2 OFFSET $3",
            vec![member.into(), limit.into(), offset.into()],
        )
        .await
        .map_err(failed)?;
    let total = store
        .query(
            "SELECT COUNT(*) FROM members WHERE referrer = $1",
            vec![member.into()],
        )
        .await
        .map_err(failed)?;
    let total = total.first().map_or(0, |r| Row(r).int(0));
    let origins: Vec<String> = found.iter().map(|r| Row(r).text(0)).collect();
    let mut brought: HashMap<(String, i64), u128> = HashMap::new();
    if !origins.is_empty() {
        let sql = format!(
            "SELECT origin, ledger_index, amount_wad::text FROM contributions WHERE member = $1 AND origin {}",
            Dialect::in_list(2, origins.len())
        );
        let mut params = vec![Cell::from(member)];
        params.extend(origins.iter().map(|o| Cell::from(o.as_str())));
        for r in store.query(&sql, params).await.map_err(failed)? {
            let row = Row(&r);
            let amount = row.amount(2, "contributions.amount_wad").map_err(failed)?;
            brought.insert((row.text(0), row.int(1)), amount);
        }
    }
    let listed: Vec<Value> = found
        .iter()
        .map(|r| {
            let row = Row(r);
            let referee = row.text(0);
            let contribution: Map<String, Value> = ledgers
                .iter()
                .map(|l| {
                    let amount = brought
                        .get(&(referee.clone(), l.index))
                        .copied()
                        .unwrap_or(0);
                    (l.name.clone(), json!(wad(amount)))
                })
                .collect();
            json!({
                "member": referee,
                "wallet": row.text(1),
                "class": class_name(&names, row.int(2)),
                "join_ordinal": row.int(3),
                "joined_at": row.int(4),
                "downline": [row.int(5), row.int(6), row.int(7)],
                "frozen": row.int(8) != 0,
                "contribution": contribution,
            })
        })
        .collect();
    Ok(Response::json(
        200,
        &json!({
            "member": member,
            "page": page.page,
            "per_page": page.per_page,
            "total": total,
            "referees": listed,
        }),
    ))
}

/// The columns a credit is listed with.
const CREDIT_COLUMNS: &str = "c.signature, c.ordinal, c.source, c.ledger_index, c.amount_wad::text, c.origin, o.wallet, c.report_kind, c.report_id::text, c.withheld, c.position, c.slot, c.block_time, c.credit";

/// One credit row as JSON (`ledgers` names its ledger).
fn credit(row: &Row<'_>, ledgers: &[LedgerRow]) -> Result<Value, crate::ExplorerError> {
    let source = row.text(2);
    let level = source
        .strip_prefix("level")
        .and_then(|n| n.parse::<u8>().ok());
    let ledger = ledgers.iter().find(|l| l.index == row.int(3));
    Ok(json!({
        "signature": row.text(0),
        "ordinal": row.int(1),
        "source": source,
        "level": level,
        "ledger_index": row.int(3),
        "ledger": ledger.map(|l| l.name.clone()),
        "amount": wad(row.amount(4, "credits.amount_wad")?),
        "origin": row.text(5),
        "origin_wallet": row.opt(6),
        "report_kind": row.opt(7),
        "report_id": row.opt(8),
        "withheld": row.int(9) != 0,
        "position": row.int(10),
        "slot": row.int(11),
        "time": row.int(12),
    }))
}

/// `GET /api/members/{member}/credits?before=&limit=`: credits newest
/// first; `next` is the `before` of the following page (null at the end).
pub async fn credits(store: &Store, member: &str, request: &Request) -> Answer<Response> {
    let limit = args::number(request, "limit", 25, 1)?.min(200);
    let before = args::credit_cursor(request)?;
    let m = member_row(store, member).await?;
    let ledgers = ledgers(store, &m.network).await.map_err(failed)?;
    let fetch = i64::try_from(limit).unwrap_or(200) + 1;
    let (after, mut params) = match &before {
        None => (String::new(), vec![Cell::from(member), fetch.into()]),
        Some(c) => (
            " AND (c.position < $3 OR (c.position = $3 AND (c.ordinal < $4 OR (c.ordinal = $4 AND c.credit < $5))))".to_string(),
            vec![Cell::from(member), fetch.into(), c.position.into(), c.ordinal.into(), c.credit.into()],
        ),
    };
    let sql = format!(
        "SELECT {CREDIT_COLUMNS} FROM credits c LEFT JOIN members o ON o.member = c.origin WHERE c.member = $1{after} ORDER BY c.position DESC, c.ordinal DESC, c.credit DESC LIMIT $2"
    );
    let mut found = store
        .query(&sql, std::mem::take(&mut params))
        .await
        .map_err(failed)?;
    let more = found.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more
        .then(|| found.last().map(|r| Row(r)))
        .flatten()
        .map(|row| {
            CreditCursor {
                position: row.int(10),
                ordinal: row.int(1),
                credit: row.int(13),
            }
            .text()
        });
    let listed = found
        .iter()
        .map(|r| credit(&Row(r), &ledgers))
        .collect::<Result<Vec<_>, _>>()
        .map_err(failed)?;
    Ok(Response::json(
        200,
        &json!({"member": member, "credits": listed, "next": next}),
    ))
}

/// The CSV's columns.
const CSV_HEADER: [&str; 13] = [
    "time",
    "signature",
    "ledger",
    "source",
    "level",
    "amount",
    "origin",
    "origin_wallet",
    "report_kind",
    "report_id",
    "withheld",
    "slot",
    "position",
];

/// `GET /api/members/{member}/credits.csv`: every credit, oldest first,
/// amounts as exact decimals of the ledger's unit; and the file name to
/// save it as (the page's link names its download the same way).
pub async fn credits_csv(store: &Store, member: &str) -> Answer<(String, Response)> {
    let m = member_row(store, member).await?;
    let ledgers = ledgers(store, &m.network).await.map_err(failed)?;
    let sql = format!(
        "SELECT {CREDIT_COLUMNS} FROM credits c LEFT JOIN members o ON o.member = c.origin WHERE c.member = $1 ORDER BY c.position, c.ordinal, c.credit"
    );
    let found = store
        .query(&sql, vec![member.into()])
        .await
        .map_err(failed)?;
    let mut csv = Csv::default();
    csv.record(&CSV_HEADER);
    for r in &found {
        let c = credit(&Row(r), &ledgers).map_err(failed)?;
        let text = |k: &str| match &c[k] {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        csv.record(&[
            iso_time(c["time"].as_i64().unwrap_or_default()),
            text("signature"),
            text("ledger"),
            text("source"),
            text("level"),
            text("amount"),
            text("origin"),
            text("origin_wallet"),
            text("report_kind"),
            text("report_id"),
            text("withheld"),
            text("slot"),
            text("position"),
        ]);
    }
    let name = file_name(&format!(
        "upline-credits-{}-{}.csv",
        m.network_name, m.wallet
    ));
    Ok((
        name,
        Response {
            status: 200,
            content_type: "text/csv",
            body: csv.finish(),
        },
    ))
}
