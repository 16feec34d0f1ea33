//! The audit resumed from its checkpoints: an incremental audit after each
//! slice of a network's history gives the verdict a full audit gives, reads
//! only what was indexed since, survives a restart, replays in full what it
//! cannot resume from, and does not read again what came before its
//! checkpoint (which is what `--full` is for).

use anchor_lang::{AnchorDeserialize, AnchorSerialize, Discriminator};
use base64::Engine;
use serde_json::{json, Value};
use upline::events::ComputeReported;
use upline_cli::scenario::Scenario;
use upline_cli::simulate_world;
use upline_cli::world::World;
use upline_explorer::audit::{audit, audit_incremental, save, Verdict};
use upline_explorer::index;
use upline_explorer::source::{from_journal, SANDBOX};
use upline_explorer::store::Cell;
use upline_explorer::Store;
use upline_sdk::events::{decode_event, UplineEvent};

/// Providers p0 ← p1 ← p2 and users u0 ← u1 at the start; then p3 joins
/// under p2, p4 joins alone and is linked to p3 afterwards, p5 joins under
/// p4; reports paying three levels, a funding and a withdrawal.
const SCENARIO: &str = r#"{
  "preset": "cxmpute",
  "members": [
    {"name": "p0", "class": "provider", "vram_gb": 24},
    {"name": "p1", "class": "provider", "referrer": "p0", "vram_gb": 24},
    {"name": "p2", "class": "provider", "referrer": "p1", "vram_gb": 24},
    {"name": "u0", "class": "user"},
    {"name": "u1", "class": "user", "referrer": "u0"}
  ],
  "steps": [
    {"at": 60, "op": "compute", "id": 1, "provider": "p2", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000},
    {"at": 90, "op": "join", "name": "p3", "class": "provider", "referrer": "p2", "vram_gb": 24},
    {"at": 100, "op": "join", "name": "p4", "class": "provider", "vram_gb": 24},
    {"at": 105, "op": "set_referrer", "member": "p4", "referrer": "p3"},
    {"at": 110, "op": "join", "name": "p5", "class": "provider", "referrer": "p4", "vram_gb": 24},
    {"at": 150, "op": "compute", "id": 1, "provider": "p5", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000},
    {"at": 180, "op": "compute", "id": 2, "provider": "p2", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000},
    {"at": 200, "op": "compute", "id": 3, "provider": "p2", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000},
    {"at": 240, "op": "usage", "id": 1, "user": "u1", "endpoint": "chat", "tokens": 1000},
    {"at": 300, "op": "fund", "ledger": "CXPT", "amount": "10"},
    {"at": 360, "op": "withdraw", "member": "p2", "ledger": "CXPT", "amount": "1"},
    {"at": 420, "op": "compute", "id": 2, "provider": "p5", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000}
  ]
}"#;

async fn world() -> World {
    let scenario = Scenario::parse(SCENARIO, "incremental audit test").expect("scenario");
    let (world, result) = simulate_world(&scenario).await.expect("runs");
    assert_eq!(result["rejected"], json!([]), "{result}");
    world
}

/// Index the world's journal from `from` to `to` (transaction indexes) and
/// snapshot the accounts (as the chain holds them at the end); the number of
/// events indexed.
async fn index_slice(store: &Store, world: &mut World, from: usize, to: usize) -> usize {
    index_slice_as(store, world, SANDBOX, (from, to)).await
}

/// [`index_slice`] under the cursor `source`.
async fn index_slice_as(
    store: &Store,
    world: &mut World,
    source: &str,
    (from, to): (usize, usize),
) -> usize {
    let fetched = from_journal(&world.chain.journal[from..to]);
    let summary = index::record(store, source, &fetched)
        .await
        .expect("record");
    let slot = world.chain.slot;
    index::snapshot(store, &mut world.chain, slot)
        .await
        .expect("snapshot");
    summary.events
}

/// The journal index of the last transaction with a compute report.
fn last_compute(world: &World) -> usize {
    world
        .chain
        .journal
        .iter()
        .rposition(|r| {
            r.event_data()
                .into_iter()
                .any(|data| matches!(decode_event(data), Some(UplineEvent::ComputeReported(_))))
        })
        .expect("a compute report")
}

/// Audit incrementally, check the verdict against a full audit's, save it
/// (moving the checkpoints) and return it.
async fn step(store: &Store, at: &str) -> Verdict {
    let resumed = audit_incremental(store).await.expect("incremental audit");
    let full = audit(store).await.expect("full audit");
    assert_eq!(
        resumed.to_json(),
        full.to_json(),
        "{at}: the incremental audit differs from the full one"
    );
    assert_eq!(full.replayed_events, full.events, "{at}");
    save(store, &resumed, 1).await.expect("save");
    resumed
}

fn mismatches(verdict: &Verdict, check: &str) -> Vec<Value> {
    verdict.to_json()["mismatches"]
        .as_array()
        .expect("mismatches")
        .iter()
        .filter(|m| m["check"] == check)
        .cloned()
        .collect()
}

/// A compute report's stored row, the first or the last, decoded.
async fn compute_row(store: &Store, last: bool) -> (String, i64, ComputeReported) {
    let order = if last { "DESC" } else { "ASC" };
    let rows = store
        .query(
            &format!("SELECT signature, ordinal, data FROM events WHERE kind = $1 ORDER BY position {order} LIMIT 1"),
            vec!["ComputeReported".into()],
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

/// Overwrite a stored compute report with one WAD unit more reward, as
/// someone with write access to the index could.
async fn inflate(store: &Store, last: bool) -> String {
    let (signature, ordinal, mut event) = compute_row(store, last).await;
    event.reward.0 += 1;
    let mut data = ComputeReported::DISCRIMINATOR.to_vec();
    event.serialize(&mut data).expect("encode");
    store
        .execute(
            "UPDATE events SET data = $1 WHERE signature = $2 AND ordinal = $3",
            vec![
                base64::engine::general_purpose::STANDARD
                    .encode(&data)
                    .into(),
                signature.clone().into(),
                Cell::Int(ordinal),
            ],
        )
        .await
        .expect("tamper");
    signature
}

fn names(found: &[Value]) -> Vec<&str> {
    found
        .iter()
        .filter_map(|m| m["signature"].as_str())
        .collect()
}

/// Slice by slice (one slice adds nothing), on `url`.
async fn slices_agree(url: &str) {
    let mut world = world().await;
    let store = Store::open(url).await.expect("open");
    let total = world.chain.journal.len();
    let cuts = [
        total / 4,
        total / 2,
        total / 2,
        2 * total / 3,
        total - 2,
        total,
    ];
    let mut from = 0;
    for to in cuts {
        let events = index_slice(&store, &mut world, from, to).await;
        let verdict = step(
            &store,
            &format!("{}: journal up to {to} of {total}", store.backend()),
        )
        .await;
        // A network without a checkpoint yet is replayed in full; after, only what is new.
        if from > 0 {
            assert_eq!(verdict.replayed_events, events, "slice {from}..{to}");
        }
        from = to;
    }
    let last = audit_incremental(&store).await.expect("audit");
    assert!(last.passed(), "{}", last.render());
    assert_eq!(last.replayed_events, 0);
    assert_eq!((last.networks, last.members), (1, 8));
}

#[tokio::test]
async fn incremental_audits_give_the_full_verdict_slice_by_slice() {
    slices_agree(":memory:").await;
}

/// The demo's networks but the 7,800-report one (rentals, promotions,
/// tiers, attestations, bandwidth with its activity counts, quorums), in one
/// index, each indexed in slices in turn: every incremental audit gives the
/// full verdict.
#[tokio::test]
async fn the_demo_networks_audited_in_slices_give_the_full_verdict() {
    let mut worlds = Vec::new();
    for demo in upline_cli::demo::scenarios().expect("demo") {
        if demo.title.contains("7,800") {
            continue;
        }
        let (world, _) = simulate_world(&demo.scenario).await.expect("runs");
        worlds.push((demo.title, world));
    }
    assert!(worlds.len() >= 4);
    let store = Store::open(":memory:").await.expect("open");
    const SLICES: usize = 5;
    for slice in 1..=SLICES {
        for (n, (title, world)) in worlds.iter_mut().enumerate() {
            let total = world.chain.journal.len();
            let range = (total * (slice - 1) / SLICES, total * slice / SLICES);
            let events = index_slice_as(&store, world, &format!("demo-{n}"), range).await;
            let at = format!("{title}, slice {slice} of {SLICES}");
            let verdict = step(&store, &at).await;
            // Only this slice was replayed (no network fell back to a full replay).
            assert_eq!(verdict.replayed_events, events, "{at}");
        }
    }
    let last = audit_incremental(&store).await.expect("audit");
    assert_eq!(last.networks, worlds.len());
    assert!(last.passed(), "{}", last.render());
}

/// The same on PostgreSQL (`UPLINE_TEST_POSTGRES`), in a schema of its own.
#[tokio::test]
async fn incremental_audits_give_the_full_verdict_on_postgres() {
    let Ok(url) = std::env::var("UPLINE_TEST_POSTGRES") else {
        assert!(
            std::env::var_os("UPLINE_REQUIRE_SERVICES").is_none(),
            "UPLINE_REQUIRE_SERVICES is set but UPLINE_TEST_POSTGRES is not"
        );
        eprintln!("PostgreSQL skipped: set UPLINE_TEST_POSTGRES=postgres://… to run it");
        return;
    };
    let schema = "upline_audit_resume";
    let admin = Store::open(&url).await.expect("connect to PostgreSQL");
    for sql in [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ] {
        admin.execute(&sql, vec![]).await.expect("a fresh schema");
    }
    let joiner = if url.contains('?') { '&' } else { '?' };
    slices_agree(&format!("{url}{joiner}options=-c%20search_path%3D{schema}")).await;
}

/// An incremental audit does not read again what came before its
/// checkpoint: a row rewritten there is caught by the full audit (`--full`)
/// only; a row rewritten after it is caught by both.
#[tokio::test]
async fn a_rewritten_row_before_the_checkpoint_takes_a_full_audit() {
    let mut world = world().await;
    let store = Store::open(":memory:").await.expect("open");
    let cut = last_compute(&world);
    let total = world.chain.journal.len();
    index_slice(&store, &mut world, 0, cut).await;
    step(&store, "before the last report").await;

    let early = inflate(&store, false).await;
    let resumed = audit_incremental(&store).await.expect("audit");
    assert_eq!(resumed.replayed_events, 0);
    assert!(
        mismatches(&resumed, "rewards").is_empty(),
        "{}",
        resumed.render()
    );
    let full = audit(&store).await.expect("full audit");
    assert_eq!(names(&mismatches(&full, "rewards")), [early.as_str()]);

    index_slice(&store, &mut world, cut, total).await;
    let late = inflate(&store, true).await;
    assert_ne!(late, early);
    let resumed = audit_incremental(&store).await.expect("audit");
    assert_eq!(names(&mismatches(&resumed, "rewards")), [late.as_str()]);
    let full = audit(&store).await.expect("full audit");
    assert_eq!(
        names(&mismatches(&full, "rewards")),
        [early.as_str(), late.as_str()]
    );
    // Saving the full audit rewrites the checkpoints: from now on the
    // incremental audit agrees with it again.
    save(&store, &full, 2).await.expect("save");
    let resumed = audit_incremental(&store).await.expect("audit");
    assert_eq!(resumed.to_json(), full.to_json());
}

/// The version byte of a checkpoint's state.
async fn versions(store: &Store, table: &str) -> Vec<u8> {
    let rows = store
        .query(&format!("SELECT state FROM {table}"), vec![])
        .await
        .expect("states");
    rows.iter()
        .map(|row| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(row[0].text().expect("state"))
                .expect("base64");
            bytes[0]
        })
        .collect()
}

/// A checkpoint of another version (of the network's state, or of a
/// member's) is not misread: the network is replayed from its creation and
/// the checkpoint rewritten.
#[tokio::test]
async fn a_checkpoint_of_another_version_is_replayed_in_full() {
    let mut world = world().await;
    let store = Store::open(":memory:").await.expect("open");
    let total = world.chain.journal.len();
    let (a, b) = (total / 3, 2 * total / 3);
    index_slice(&store, &mut world, 0, a).await;
    step(&store, "first third").await;
    assert_eq!(versions(&store, "audit_checkpoints").await, [1]);
    let future = base64::engine::general_purpose::STANDARD.encode([2u8, 0, 0, 0]);
    store
        .execute(
            "UPDATE audit_checkpoints SET state = $1",
            vec![future.clone().into()],
        )
        .await
        .expect("another version");

    index_slice(&store, &mut world, a, b).await;
    let verdict = step(&store, "second third, from a checkpoint of version 2").await;
    assert_eq!(verdict.replayed_events, verdict.events, "replayed in full");
    assert_eq!(versions(&store, "audit_checkpoints").await, [1]);
    let members = versions(&store, "audit_members").await;
    assert!(
        !members.is_empty() && members.iter().all(|v| *v == 1),
        "{members:?}"
    );

    store
        .execute("UPDATE audit_members SET state = $1", vec![future.into()])
        .await
        .expect("another version");
    index_slice(&store, &mut world, b, total).await;
    let verdict = step(&store, "last third, from member rows of version 2").await;
    assert_eq!(verdict.replayed_events, verdict.events, "replayed in full");
    assert!(verdict.passed(), "{}", verdict.render());
}

/// Another process resumes from the checkpoint this one saved.
#[tokio::test]
async fn a_checkpoint_saved_by_another_process_is_resumed() {
    let mut world = world().await;
    let dir = std::env::temp_dir().join(format!("upline-audit-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("index.sqlite");
    let _ = std::fs::remove_file(&file);
    let path = file.to_str().expect("utf-8").to_string();
    let total = world.chain.journal.len();
    {
        let first = Store::open(&path).await.expect("open");
        index_slice(&first, &mut world, 0, total / 2).await;
        let verdict = audit_incremental(&first).await.expect("audit");
        save(&first, &verdict, 1).await.expect("save");
    }
    let second = Store::open(&path).await.expect("reopen");
    let events = index_slice(&second, &mut world, total / 2, total).await;
    assert!(events > 0);
    let verdict = step(&second, "reopened").await;
    assert_eq!(verdict.replayed_events, events);
    assert!(verdict.passed(), "{}", verdict.render());
    let _ = std::fs::remove_dir_all(&dir);
}
