//! The explorer on a simulated network: the index, the independent audit
//! (and what it catches in a tampered index), the referral-stats API with
//! exact values, and the same index on PostgreSQL.

mod common;

use anchor_lang::{AnchorDeserialize, AnchorSerialize, Discriminator};
use base64::Engine;
use serde_json::{json, Value};
use solana_signer::Signer;
use upline::events::ComputeReported;
use upline_cli::scenario::Scenario;
use upline_cli::simulate_world;
use upline_cli::world::World;
use upline_explorer::api::route;
use upline_explorer::audit::audit;
use upline_explorer::source::index_sandbox;
use upline_explorer::store::Cell;
use upline_explorer::Store;

/// p0 ← p1 ← p2 ← p3 (providers), u0 ← u1 (users); three requests served by
/// p3, one chat by u1, and p3 withdraws 1 CXPT.
const SCENARIO: &str = r#"{
  "preset": "cxmpute",
  "members": [
    {"name": "p0", "class": "provider", "vram_gb": 24},
    {"name": "p1", "class": "provider", "referrer": "p0", "vram_gb": 24},
    {"name": "p2", "class": "provider", "referrer": "p1", "vram_gb": 24},
    {"name": "p3", "class": "provider", "referrer": "p2", "vram_gb": 24},
    {"name": "u0", "class": "user"},
    {"name": "u1", "class": "user", "referrer": "u0"}
  ],
  "steps": [
    {"at": 60, "op": "compute", "id": 1, "provider": "p3", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000},
    {"at": 120, "op": "compute", "id": 2, "provider": "p3", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000},
    {"at": 180, "op": "compute", "id": 3, "provider": "p3", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000},
    {"at": 240, "op": "usage", "id": 1, "user": "u1", "endpoint": "chat", "tokens": 1000},
    {"at": 300, "op": "fund", "ledger": "CXPT", "amount": "10"},
    {"at": 360, "op": "withdraw", "member": "p3", "ledger": "CXPT", "amount": "1"}
  ]
}"#;

async fn indexed(url: &str) -> (World, Store) {
    let scenario = Scenario::parse(SCENARIO, "explorer test").expect("scenario");
    let (mut world, result) = simulate_world(&scenario).await.expect("runs");
    assert_eq!(result["rejected"], json!([]), "{result}");
    let store = Store::open(url).await.expect("open the index");
    let summary = index_sandbox(&store, &mut world.chain)
        .await
        .expect("index");
    assert!(summary.events > 0 && summary.accounts > 0, "{summary:?}");
    (world, store)
}

fn wallet(world: &World, name: &str) -> String {
    world
        .members
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.wallet.pubkey().to_string())
        .expect("member")
}

async fn get(store: &Store, path: &str) -> (u16, Value) {
    let head = format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n");
    let request = upline_explorer::api::parse_request(&head).expect("request");
    let response = route(store, request).await;
    let body = serde_json::from_str(&response.body).expect("JSON");
    (response.status, body)
}

fn mismatches(verdict: &Value, check: &str) -> Vec<Value> {
    verdict["mismatches"]
        .as_array()
        .expect("mismatches")
        .iter()
        .filter(|m| m["check"] == check)
        .cloned()
        .collect()
}

#[tokio::test]
async fn audit_passes_and_the_api_gives_exact_referral_stats() {
    let (world, store) = indexed(":memory:").await;
    let verdict = audit(&store).await.expect("audit");
    assert!(verdict.passed(), "{}", verdict.render());
    // 3 compute + 1 usage reports recomputed; 6 members; one network.
    assert_eq!(
        (verdict.reports, verdict.members, verdict.networks),
        (4, 6, 1)
    );
    upline_explorer::audit::save(&store, &verdict, 1)
        .await
        .expect("save");

    let p3 = wallet(&world, "p3");
    let (status, stats) = get(&store, &format!("/api/providers/{p3}/referral-stats")).await;
    assert_eq!(status, 200, "{stats}");
    let m = &stats["memberships"][0];
    assert_eq!(m["network_name"], "cxmpute");
    assert_eq!(m["class"], "provider");
    assert_eq!(m["device_tier"], 4);
    assert_eq!(m["referrer"], wallet(&world, "p2"));
    let cxpt = &m["ledgers"][0];
    assert_eq!(cxpt["ledger"], "CXPT");
    assert_eq!(cxpt["totals"]["work"], "1.125");
    assert_eq!(cxpt["totals"]["withdrawn"], "1");
    assert_eq!(cxpt["totals"]["balance"], "0.125");
    assert_eq!(cxpt["totals"]["referral"], "0");
    // The 30-day history ends on the day of the newest event (2026-01-01).
    let history = cxpt["history"].as_array().expect("history");
    assert_eq!(history.len(), 30);
    assert_eq!(
        history[29],
        json!({"day": "2026-01-01", "credited": "1.125"})
    );
    assert_eq!(history[28]["credited"], "0");

    let p0 = wallet(&world, "p0");
    let (_, stats) = get(&store, &format!("/api/providers/{p0}/referral-stats")).await;
    let m = &stats["memberships"][0];
    assert_eq!(
        m["downline"],
        json!({"level1": 1, "level2": 1, "level3": 1, "total": 3})
    );
    assert_eq!(m["ledgers"][0]["rewards_by_level"]["level3"], "0.028125");
    assert_eq!(m["ledgers"][1]["ledger"], "POINTS");
    assert_eq!(m["ledgers"][1]["rewards_by_level"]["direct_bonus"], "50");

    let p2 = wallet(&world, "p2");
    let (_, stats) = get(&store, &format!("/api/providers/{p2}/referral-stats")).await;
    assert_eq!(
        stats["memberships"][0]["ledgers"][0]["totals"]["referral"],
        "0.1125"
    );

    let u0 = wallet(&world, "u0");
    let (status, stats) = get(&store, &format!("/api/user/{u0}/referral-stats")).await;
    assert_eq!(status, 200);
    let points = &stats["memberships"][0]["ledgers"][1];
    assert_eq!(points["rewards_by_level"]["level1"], "0.3");
    assert_eq!(points["rewards_by_level"]["direct_bonus"], "25");
    assert_eq!(points["totals"]["referral"], "25.3");

    // A provider asked for as a user, a stranger, a bad address, a bad network.
    let (status, body) = get(&store, &format!("/api/user/{p0}/referral-stats")).await;
    assert_eq!(status, 404);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("is a provider in cxmpute"),
        "{body}"
    );
    let stranger = anchor_lang::prelude::Pubkey::new_unique();
    let (status, body) = get(&store, &format!("/api/user/{stranger}/referral-stats")).await;
    assert_eq!(
        (
            status,
            body["error"].as_str().map(|e| e.contains("not a member"))
        ),
        (404, Some(true))
    );
    let (status, _) = get(&store, "/api/user/not-a-wallet/referral-stats").await;
    assert_eq!(status, 400);
    let (status, _) = get(
        &store,
        &format!("/api/user/{u0}/referral-stats?network={stranger}"),
    )
    .await;
    assert_eq!(status, 404);

    // Networks and a page of members.
    let (_, networks) = get(&store, "/api/networks").await;
    let network = &networks["networks"][0];
    assert_eq!(network["name"], "cxmpute");
    assert_eq!(network["members"], 6);
    assert_eq!(network["ledgers"][0]["funded"], "10");
    assert_eq!(network["ledgers"][0]["withdrawn"], "1");
    assert_eq!(network["ledgers"][1]["kind"], "points");
    let address = network["address"].as_str().expect("address").to_string();
    let (status, page) = get(
        &store,
        &format!("/api/networks/{address}/members?page=2&per_page=4"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (page["total"].clone(), page["page"].clone()),
        (json!(6), json!(2))
    );
    let names: Vec<&str> = page["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["wallet"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, [wallet(&world, "u0"), wallet(&world, "u1")]);
    assert_eq!(page["members"][1]["balances"]["POINTS"], "2");
    let (status, _) = get(&store, &format!("/api/networks/{address}/members?page=0")).await;
    assert_eq!(status, 400);

    let (status, audit) = get(&store, "/api/audit").await;
    assert_eq!(
        (status, audit["verdict"].clone(), audit["at"].clone()),
        (200, json!("pass"), json!(1))
    );
    let (status, _) = get(&store, "/api/nothing-here").await;
    assert_eq!(status, 404);
}

/// The `n`th compute report's stored row (0-based), decoded.
async fn compute_row(store: &Store, n: i64) -> (String, i64, ComputeReported) {
    let rows = store
        .query(
            "SELECT signature, ordinal, data FROM events WHERE kind = $1 ORDER BY position LIMIT 1 OFFSET $2",
            vec!["ComputeReported".into(), Cell::Int(n)],
        )
        .await
        .expect("query");
    let row = &rows[0];
    let body = base64::engine::general_purpose::STANDARD
        .decode(row[2].text().expect("data"))
        .expect("base64");
    let event = ComputeReported::deserialize(&mut &body[8..]).expect("decodes");
    (
        row[0].text().expect("signature").to_string(),
        row[1].int().expect("ordinal"),
        event,
    )
}

/// Overwrite a stored compute report, as someone with write access to the index could.
async fn rewrite(store: &Store, signature: &str, ordinal: i64, event: &ComputeReported) {
    let mut data = ComputeReported::DISCRIMINATOR.to_vec();
    event.serialize(&mut data).expect("encode");
    store
        .execute(
            "UPDATE events SET data = $1 WHERE signature = $2 AND ordinal = $3",
            vec![
                base64::engine::general_purpose::STANDARD
                    .encode(&data)
                    .into(),
                signature.into(),
                Cell::Int(ordinal),
            ],
        )
        .await
        .expect("tamper");
}

#[tokio::test]
async fn audit_catches_a_corrupted_index_row() {
    let (world, store) = indexed(":memory:").await;
    let (signature, ordinal, mut event) = compute_row(&store, 0).await;
    // One WAD unit more for the provider than its formula gives.
    event.reward.0 += 1;
    rewrite(&store, &signature, ordinal, &event).await;
    let verdict = audit(&store).await.expect("audit").to_json();
    assert_eq!(verdict["verdict"], "fail");
    let rewards = mismatches(&verdict, "rewards");
    assert_eq!(rewards.len(), 1, "{verdict}");
    assert_eq!(rewards[0]["signature"], signature.as_str());
    assert!(
        rewards[0]["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("compute reward"),
        "{verdict}"
    );
    // The provider's member account no longer adds up to the events either.
    let p3 = world.member("p3").expect("p3").account;
    let balances = mismatches(&verdict, "balances");
    assert!(
        balances.iter().any(|m| m["detail"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("{p3} ledger 0 own"))),
        "{verdict}"
    );

    // A withdrawal dropped from the index: the member and the ledger disagree with it.
    store
        .execute(
            "DELETE FROM events WHERE kind = $1",
            vec!["Withdrawn".into()],
        )
        .await
        .expect("drop");
    let verdict = audit(&store).await.expect("audit").to_json();
    let vault = mismatches(&verdict, "vault");
    assert!(
        vault
            .iter()
            .any(|m| m["detail"] == "CXPT: ledger says withdrawn 1000000000, events withdraw 0"),
        "{verdict}"
    );
}

#[tokio::test]
async fn an_index_is_resumed_without_counting_anything_twice() {
    let (mut world, store) = indexed(":memory:").await;
    let before = audit(&store).await.expect("audit");
    let again = index_sandbox(&store, &mut world.chain)
        .await
        .expect("re-index");
    assert_eq!((again.transactions, again.events), (0, 0));
    let after = audit(&store).await.expect("audit");
    assert_eq!(
        (after.events, after.reports),
        (before.events, before.reports)
    );
    assert!(after.passed(), "{}", after.render());
}

/// PostgreSQL (`UPLINE_TEST_POSTGRES`, set by `.ci/run`) holds the same index
/// and gives the same audit and the same answers as SQLite.
#[tokio::test]
async fn postgres_holds_the_same_index_as_sqlite() {
    let Some(url) = common::pg::postgres_url() else {
        return;
    };
    let url = common::pg::fresh_schema_url(&url, "explorer_same_index").await;
    let (mut world, pg) = indexed(&url).await;
    assert_eq!(pg.backend(), "postgresql");
    let sqlite = Store::open(":memory:").await.expect("sqlite");
    index_sandbox(&sqlite, &mut world.chain)
        .await
        .expect("index");
    let on_pg = audit(&pg).await.expect("audit").to_json();
    let on_sqlite = audit(&sqlite).await.expect("audit").to_json();
    assert_eq!(on_pg, on_sqlite);
    assert_eq!(on_pg["verdict"], "pass", "{on_pg}");
    let p0 = wallet(&world, "p0");
    let path = format!("/api/providers/{p0}/referral-stats");
    assert_eq!(get(&pg, &path).await, get(&sqlite, &path).await);
    assert_eq!(
        get(&pg, "/api/networks").await,
        get(&sqlite, "/api/networks").await
    );
    let again = index_sandbox(&pg, &mut world.chain)
        .await
        .expect("re-index");
    assert_eq!(again.transactions, 0);
}

/// Each kind of tampering with a report is named by the check it breaks.
#[tokio::test]
async fn audit_names_each_kind_of_tampering() {
    type Tamper = fn(&mut ComputeReported, &anchor_lang::prelude::Pubkey);
    let cases: [(&str, Tamper, &str); 4] = [
        (
            "commissions",
            |e, _| e.commissions[0].amount.0 += 1,
            "commissions: event says",
        ),
        (
            "self_commission",
            |e, provider| e.commissions[0].member = *provider,
            "earned a commission on its own report",
        ),
        ("report_ids", |e, _| e.id = 1, "counted after report 1"),
        ("rewards", |e, _| e.tokens += 1, "compute reward"),
    ];
    for (check, tamper, needle) in cases {
        let (world, store) = indexed(":memory:").await;
        // The second report: its id can also be made to repeat the first's.
        let (signature, ordinal, mut event) = compute_row(&store, 1).await;
        // Commissions name member accounts, as the report names its provider.
        let provider = world.member("p3").expect("p3").account;
        tamper(&mut event, &provider);
        rewrite(&store, &signature, ordinal, &event).await;
        let verdict = audit(&store).await.expect("audit").to_json();
        let found = mismatches(&verdict, check);
        assert!(
            found.iter().any(|m| m["signature"] == signature.as_str()
                && m["detail"].as_str().unwrap_or("").contains(needle)),
            "{check}: {verdict}"
        );
    }
}
