//! The pages' API against typed tables filled by hand (no projection
//! needed): on SQLite, and on PostgreSQL when `UPLINE_TEST_POSTGRES` is set,
//! so every query is run in both dialects.

use super::route;
use crate::http::{parse_head, Response};
use crate::store::{Cell, Store};
use anchor_lang::prelude::Pubkey;
use base64::Engine;
use serde_json::Value;

const WAD: u128 = 1_000_000_000_000_000_000;

/// Network `network`: a referred b and c; d joined last, on its own, and
/// was never credited (it has no `member_totals` row).
struct Fixture {
    network: String,
    a: String,
    b: String,
    c: String,
    d: String,
}

fn amount(n: u128) -> Cell {
    Cell::Text(n.to_string())
}

async fn fill(store: &Store) -> Fixture {
    let key = || Pubkey::new_unique().to_string();
    let (network, a, b, c, d) = (key(), key(), key(), key(), key());
    let n = || Cell::from(network.as_str());
    let vault = {
        let mut data = vec![0u8; 165];
        data[64..72].copy_from_slice(&100_000_000u64.to_le_bytes());
        base64::engine::general_purpose::STANDARD.encode(data)
    };
    let member = |m: &str,
                  ordinal: i64,
                  referrer: Option<&str>,
                  downline1: i64|
     -> (&'static str, Vec<Cell>) {
        (
            "INSERT INTO members (member, network, wallet, class, join_ordinal, joined_at, referrer, referrer_wallet, linked_at, downline1, downline2, downline3, reports, last_work_time, frozen) VALUES ($1, $2, $3, 0, $4, $5, $6, $7, NULL, $8, 0, 0, 0, 0, 0)",
            vec![m.into(), n(), format!("w{ordinal}").into(), ordinal.into(), (1000 + ordinal).into(),
                referrer.map(str::to_string).into(), referrer.map(|_| "w1".to_string()).into(), downline1.into()],
        )
    };
    // (member, ledger, own, level1, referral, balance)
    let totals = |m: &str, own: u128, level1: u128| -> (&'static str, Vec<Cell>) {
        (
            "INSERT INTO member_totals (member, ledger_index, network, own_wad, level1_wad, level2_wad, level3_wad, bonus_wad, referral_wad, withdrawn_wad, balance_wad) VALUES ($1, 0, $2, $3::text::numeric, $4::text::numeric, 0, 0, 0, $4::text::numeric, 0, $5::text::numeric)",
            vec![m.into(), n(), amount(own * WAD), amount(level1 * WAD), amount((own + level1) * WAD)],
        )
    };
    // Each credit numbered apart: several share a transaction here.
    let numbered = std::cell::Cell::new(0_i64);
    let credit = |m: &str,
                  position: i64,
                  source: &str,
                  origin: &str,
                  whole: u128|
     -> (&'static str, Vec<Cell>) {
        (
            "INSERT INTO credits (signature, ordinal, credit, member, source, network, ledger_index, amount_wad, origin, report_kind, report_id, withheld, position, slot, block_time) VALUES ($1, 0, $10, $2, $3, $4, 0, $5::text::numeric, $6, 'compute', $7::text::numeric, 0, $8, $8, $9)",
            vec![format!("sig{position}").into(), m.into(), source.into(), n(), amount(whole * WAD), origin.into(),
                amount(u128::try_from(position).unwrap_or(0)), position.into(), (86_400 + position).into(),
                {
                    numbered.set(numbered.get() + 1);
                    numbered.get().into()
                }],
        )
    };
    let statements: Vec<(&str, Vec<Cell>)> = vec![
        ("INSERT INTO networks (address, name, admin, created_signature, created_at, members, paused, promotion_start, promotion_end, promotion_rate_ppm, tables_version, reward_tables_version, last_position, last_event_at) VALUES ($1, 'demo', 'admin', 'sig0', 1000, 4, 0, 100, 200, 150000, 2, 1, 9, 5000)", vec![n()]),
        ("INSERT INTO ledgers (network, ledger_index, address, name, kind, mint, vault, decimals, min_withdrawal_base, funded_base, paid_out_base, credited_wad, withdrawn_wad) VALUES ($1, 0, 'L0', 'TOK', 'token', 'MINT', 'VAULT', 6, 1000000, $2::text::numeric, 0, $3::text::numeric, 0)",
            vec![n(), amount(100_000_000), amount(80 * WAD)]),
        ("INSERT INTO ledgers (network, ledger_index, address, name, kind, mint, vault, decimals, min_withdrawal_base, funded_base, paid_out_base, credited_wad, withdrawn_wad) VALUES ($1, 1, 'L1', 'PTS', 'points', NULL, NULL, 0, 0, 0, 0, 0, 0)", vec![n()]),
        ("INSERT INTO accounts (address, kind, network, slot, data) VALUES ('VAULT', 'vault', $1, 1, $2)", vec![n(), vault.into()]),
        ("INSERT INTO tables_versions (network, kind, version, signature, position, block_time, tables) VALUES ($1, 'network', 1, 'sigT', 1, 1000, '{\"x\": 1}')", vec![n()]),
        member(&a, 1, None, 2),
        member(&b, 2, Some(&a), 0),
        member(&c, 3, Some(&a), 0),
        member(&d, 4, None, 0),
        totals(&a, 0, 8),
        totals(&b, 50, 0),
        totals(&c, 22, 0),
        ("INSERT INTO contributions (member, origin, ledger_index, amount_wad) VALUES ($1, $2, 0, $3::text::numeric)", vec![a.as_str().into(), b.as_str().into(), amount(5 * WAD)]),
        ("INSERT INTO contributions (member, origin, ledger_index, amount_wad) VALUES ($1, $2, 0, $3::text::numeric)", vec![a.as_str().into(), c.as_str().into(), amount(3 * WAD)]),
        credit(&b, 4, "work", &b, 20),
        credit(&b, 5, "work", &b, 20),
        credit(&b, 6, "work", &b, 10),
        credit(&a, 6, "level1", &b, 5),
    ];
    store.atomically(&statements).await.expect("the fixture");
    Fixture {
        network,
        a,
        b,
        c,
        d,
    }
}

async fn get(store: &Store, target: &str) -> (u16, Value) {
    let request = parse_head(&format!("GET {target} HTTP/1.1")).expect("a request");
    let Response { status, body, .. } = route(store, &request).await.expect("a page route");
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

async fn check(store: &Store) {
    let f = fill(store).await;
    let (status, s) = get(store, &format!("/api/networks/{}", f.network)).await;
    assert_eq!(status, 200, "{s}");
    let tok = &s["solvency"][0];
    assert_eq!(
        (
            tok["owed"].as_str(),
            tok["vault"].as_str(),
            tok["coverage"].as_str()
        ),
        (Some("80"), Some("100"), Some("1.2500")),
        "{s}"
    );
    assert_eq!(tok["covered"], true);
    assert_eq!(
        (
            s["solvency"][1]["vault"].is_null(),
            s["solvency"][1]["coverage"].as_str()
        ),
        (true, Some("n/a"))
    );
    assert_eq!(
        (
            s["promotion"]["state"].as_str(),
            s["promotion"]["rate_percent"].as_str()
        ),
        (Some("ended"), Some("15"))
    );
    assert_eq!(s["tables_versions"][0]["tables"]["x"], 1);

    let order = |page: &Value| -> Vec<String> {
        page["members"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|x| x["member"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let members = |query: &str| format!("/api/networks/{}/members?{query}", f.network);
    let ids = |page: &Value| order(page).join(" ");
    let line = |members: &[&String]| {
        members
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (_, page) = get(store, &members("")).await;
    assert_eq!(ids(&page), line(&[&f.a, &f.b, &f.c, &f.d]));
    assert_eq!(
        page["members"][1]["referrer_member"].as_str(),
        Some(f.a.as_str())
    );
    assert_eq!(page["members"][1]["balances"]["TOK"], "50");
    assert_eq!(page["members"][3]["balances"]["TOK"], "0", "never credited");
    // By an amount: the credited by the amount's index, then (descending)
    // or first (ascending) the never credited, in join order; pages that
    // straddle the two, or lie wholly in the second, stitch them.
    for (query, expected) in [
        ("sort=balance", line(&[&f.b, &f.c, &f.a, &f.d])),
        ("sort=balance&order=asc", line(&[&f.d, &f.a, &f.c, &f.b])),
        // b and c both earned no referral: ties in join order.
        ("sort=referral", line(&[&f.a, &f.b, &f.c, &f.d])),
        ("sort=balance&per_page=3&page=2", line(&[&f.d])),
        ("sort=balance&per_page=1&page=4", line(&[&f.d])),
        (
            "sort=balance&per_page=3&page=1&order=asc",
            line(&[&f.d, &f.a, &f.c]),
        ),
        ("sort=balance&per_page=1&page=2&order=asc", line(&[&f.a])),
        (
            "sort=balance&per_page=2&page=2&order=asc",
            line(&[&f.c, &f.b]),
        ),
        ("sort=balance&per_page=2&page=3", String::new()),
        ("sort=downline", line(&[&f.a, &f.d, &f.c, &f.b])),
        ("sort=join&order=desc&per_page=2", line(&[&f.d, &f.c])),
    ] {
        let (status, page) = get(store, &members(query)).await;
        assert_eq!((status, ids(&page)), (200, expected), "{query}: {page}");
    }
    let (_, page) = get(store, &members("sort=downline&page=2&per_page=3")).await;
    assert_eq!((order(&page).len(), page["total"].as_i64()), (1, Some(4)));
    let (status, _) = get(store, &members("ledger=NOPE")).await;
    assert_eq!(status, 404);

    let (_, board) = get(store, &format!("/api/networks/{}/leaderboard", f.network)).await;
    assert_eq!(
        board["leaders"].as_array().map(Vec::len),
        Some(1),
        "{board}"
    );
    assert_eq!(
        (
            board["leaders"][0]["referrals"].as_i64(),
            board["leaders"][0]["referral"].as_str()
        ),
        (Some(2), Some("8"))
    );

    let (status, m) = get(store, &format!("/api/members/{}", f.a)).await;
    assert_eq!(status, 200, "{m}");
    let tok = &m["ledgers"][0];
    assert_eq!(
        (
            tok["totals"]["earned"].as_str(),
            tok["totals"]["referral_share"].as_str()
        ),
        (Some("8"), Some("100.00"))
    );
    assert_eq!(
        (
            tok["levels"][0]["referees"].as_i64(),
            tok["levels"][0]["brought"].as_str()
        ),
        (Some(2), Some("8"))
    );
    assert_eq!(
        (tok["empty"].as_bool(), m["ledgers"][1]["empty"].as_bool()),
        (Some(false), Some(true))
    );

    let (_, r) = get(store, &format!("/api/members/{}/referees", f.a)).await;
    let listed: Vec<(&str, &str)> = r["referees"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|x| Some((x["member"].as_str()?, x["contribution"]["TOK"].as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(listed, [(f.b.as_str(), "5"), (f.c.as_str(), "3")]);
    assert_eq!(r["total"], 2);

    let credits = |query: &str| format!("/api/members/{}/credits?{query}", f.b);
    let (_, first) = get(store, &credits("limit=2")).await;
    let positions = |page: &Value| {
        page["credits"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|x| x["position"].as_i64())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert_eq!(positions(&first), [6, 5]);
    let next = first["next"].as_str().expect("more").to_string();
    let (_, rest) = get(store, &credits(&format!("limit=2&before={next}"))).await;
    assert_eq!((positions(&rest), rest["next"].is_null()), (vec![4], true));
    let (_, level) = get(store, &format!("/api/members/{}/credits", f.a)).await;
    assert_eq!(
        (
            level["credits"][0]["level"].as_i64(),
            level["credits"][0]["origin"].as_str()
        ),
        (Some(1), Some(f.b.as_str()))
    );
    let (status, csv) = get(store, &format!("/api/members/{}/credits.csv", f.b)).await;
    let csv = csv.as_str().unwrap_or_default().to_string();
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(
        csv.contains(&format!(
            "1970-01-02T00:00:04Z,sig4,TOK,work,,20,{},w2,compute,4,false,4,4\r\n",
            f.b
        )),
        "{csv}"
    );

    let (status, e) = get(store, "/api/members/nope").await;
    assert_eq!(
        (
            status,
            e["error"]
                .as_str()
                .is_some_and(|t| t.contains("not a member account address"))
        ),
        (400, true)
    );
    let (status, _) = get(store, &format!("/api/members/{}", f.network)).await;
    assert_eq!(status, 404);
    let (status, head) = get(store, "/api/head").await;
    assert_eq!((status, head["position"].as_i64()), (200, Some(0)));
}

#[tokio::test]
async fn the_pages_api_answers_from_the_typed_tables_on_sqlite() {
    let store = Store::open(":memory:").await.expect("open");
    check(&store).await;
}

#[tokio::test]
async fn the_pages_api_answers_from_the_typed_tables_on_postgresql() {
    let Ok(url) = std::env::var("UPLINE_TEST_POSTGRES") else {
        assert!(
            std::env::var_os("UPLINE_REQUIRE_SERVICES").is_none(),
            "UPLINE_REQUIRE_SERVICES is set but UPLINE_TEST_POSTGRES is not"
        );
        eprintln!("PostgreSQL skipped: set UPLINE_TEST_POSTGRES=postgres://… to run it");
        return;
    };
    let admin = Store::open(&url).await.expect("connect to PostgreSQL");
    for sql in [
        "DROP SCHEMA IF EXISTS upline_pages_api CASCADE",
        "CREATE SCHEMA upline_pages_api",
    ] {
        admin.execute(sql, vec![]).await.expect("a fresh schema");
    }
    let joiner = if url.contains('?') { '&' } else { '?' };
    let store = Store::open(&format!(
        "{url}{joiner}options=-c%20search_path%3Dupline_pages_api"
    ))
    .await
    .expect("open the schema");
    check(&store).await;
}

#[tokio::test]
async fn the_csv_downloads_as_a_named_attachment() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let store = Store::open(":memory:").await.expect("open");
    let f = fill(&store).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let at = listener.local_addr().expect("address");
    let app = super::router(store.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut stream = tokio::net::TcpStream::connect(at).await.expect("connect");
    let request = format!(
        "GET /api/members/{}/credits.csv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        f.b
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.starts_with("http/1.1 200"), "{answer}");
    assert!(
        lower.contains("content-type: text/csv; charset=utf-8"),
        "{answer}"
    );
    assert!(
        answer.contains("content-disposition: attachment; filename=\"upline-credits-demo-w2.csv\""),
        "{answer}"
    );
    assert!(answer.contains("time,signature,ledger,source"), "{answer}");
}
