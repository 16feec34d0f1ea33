//! Backfilling a cluster over JSON-RPC when the endpoint misbehaves (issue
//! 16): through a proxy that answers 429 and 5xx, drops connections and
//! stalls past the timeout, the index equals a clean run's; an indexer
//! killed mid-batch (and again while snapshotting a chunk's accounts) and
//! run again leaves the same index; an endpoint that only refuses ends in an error naming the
//! method, the endpoint and its answer, with nothing changed in the store.

mod common;

use common::faulty_rpc::{mix, test_seed, Fault, Faults, FaultyRpc};
use common::{code, index_dump, stderr};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use upline_cli::scenario::Scenario;
use upline_cli::simulate_world;
use upline_explorer::source::{backfill, Backfill, Retry};
use upline_explorer::{ExplorerError, Store};
use upline_sdk::sandbox::server::SandboxServer;

/// Providers and users in two referral chains, each provider reporting work
/// and each user usage several times: a few hundred program transactions.
fn scenario() -> Scenario {
    let mut members = Vec::new();
    for i in 0..30 {
        let referrer = (i > 0).then(|| format!("p{}", i - 1));
        members.push(json!({"name": format!("p{i}"), "class": "provider", "referrer": referrer, "vram_gb": 24}));
        let referrer = (i > 0).then(|| format!("u{}", i - 1));
        members.push(json!({"name": format!("u{i}"), "class": "user", "referrer": referrer}));
    }
    let mut steps = vec![json!({"at": 30, "op": "fund", "ledger": "CXPT", "amount": "1000"})];
    for i in 0..150u64 {
        let at = 60 + i * 10;
        steps.push(json!({"at": at, "op": "compute", "id": i + 1, "provider": format!("p{}", i % 30), "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000}));
        steps.push(json!({"at": at + 1, "op": "usage", "id": i + 1, "user": format!("u{}", i % 30), "endpoint": "chat", "tokens": 1000}));
    }
    for i in 0..10 {
        steps.push(json!({"at": 2000 + i, "op": "withdraw", "member": format!("p{i}"), "ledger": "CXPT", "amount": "1"}));
    }
    let text = json!({"preset": "cxmpute", "members": members, "steps": steps}).to_string();
    Scenario::parse(&text, "backfill test").expect("scenario")
}

/// The scenario's chain served over JSON-RPC in this process: its URL.
async fn served_network() -> String {
    let (world, result) = simulate_world(&scenario()).await.expect("runs");
    assert_eq!(result["rejected"], json!([]), "{result}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(SandboxServer::new(world.chain).serve(listener));
    url
}

/// Tries fast and often: the proxy faults one request at most three times in a row.
fn patient(timeout: Duration) -> Backfill {
    Backfill {
        concurrency: 8,
        chunk: 50,
        retry: Retry {
            attempts: 6,
            first_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(1),
            timeout,
        },
    }
}

/// The index of a clean run straight from the sandbox.
async fn clean_index(url: &str) -> (Vec<String>, i64) {
    let store = Store::open(":memory:").await.expect("open");
    backfill(&store, url, &Backfill::default(), &mut |_, _| {})
        .await
        .expect("a clean backfill");
    let transactions = store
        .number("SELECT COUNT(*) FROM transactions")
        .await
        .expect("count");
    (index_dump(&store).await, transactions)
}

/// `UPLINE_TEST_POSTGRES` with its own empty schema `schema`, if set;
/// required when `UPLINE_REQUIRE_SERVICES` is.
async fn postgres(schema: &str) -> Option<String> {
    let url = common::pg::postgres_url()?;
    Some(common::pg::fresh_schema_url(&url, schema).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backfill_through_a_misbehaving_endpoint_indexes_what_a_clean_one_does() {
    let seed = test_seed();
    let url = served_network().await;
    let (clean, transactions) = clean_index(&url).await;
    assert!(transactions > 300, "{transactions} transactions");
    let mut rows = std::collections::BTreeMap::<&str, usize>::new();
    for line in &clean {
        *rows
            .entry(line.split(':').next().unwrap_or(""))
            .or_default() += 1;
    }
    eprintln!("a clean run's index: {rows:?}");
    let proxy = FaultyRpc::start(&url, Faults::mixed(Duration::from_millis(1_500)), seed).await;
    let dir = std::env::temp_dir().join(format!("upline-backfill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("faulty.sqlite");
    let _ = std::fs::remove_file(&file);
    let mut targets = vec![file.to_str().expect("utf-8").to_string()];
    targets.extend(postgres("upline_backfill_faults").await);
    for target in targets {
        let store = Store::open(&target).await.expect("open");
        let mut heard = (0, 0);
        let summary = backfill(
            &store,
            &proxy.url,
            &patient(Duration::from_secs(1)),
            &mut |done, total| heard = (done, total),
        )
        .await
        .unwrap_or_else(|e| panic!("{} (seed {seed}): {e}", store.backend()));
        let expected = usize::try_from(transactions).expect("count");
        assert_eq!(summary.transactions, expected, "{}", store.backend());
        assert_eq!(heard, (expected, expected), "the last progress report");
        assert!(
            index_dump(&store).await == clean,
            "{}: the index differs from a clean run's (seed {seed})",
            store.backend()
        );
    }
    let counts = proxy.counts();
    eprintln!("{counts:?}");
    for fault in [
        "fault: 429",
        "fault: 429 with Retry-After",
        "fault: 502",
        "fault: 503",
        "fault: dropped",
        "fault: stalled",
    ] {
        assert!(
            counts.get(fault).copied().unwrap_or_default() > 0,
            "{fault} never happened (seed {seed}): {counts:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `upline --url URL explorer index --db DB --concurrency 4`, running.
fn start_indexer(url: &str, db: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_upline"))
        .args(["--url", url, "explorer", "index", "--db", db])
        .args(["--concurrency", "4"])
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the indexer")
}

/// Transactions recorded in the SQLite index at `db` so far (0 before it exists).
fn recorded(db: &str) -> i64 {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let Ok(connection) = rusqlite::Connection::open_with_flags(db, flags) else {
        return 0;
    };
    let _ = connection.busy_timeout(Duration::from_secs(5));
    connection
        .query_row("SELECT COUNT(*) FROM transactions", [], |row| row.get(0))
        .unwrap_or(0)
}

/// Wait until the proxy holds a request of `method`, then SIGKILL `child`:
/// the transactions recorded when it died.
async fn kill_when_held(child: &mut Child, proxy: &FaultyRpc, method: &str, db: &str) -> i64 {
    let held = format!("held: {method}");
    while proxy.count(&held) == 0 {
        if let Some(status) = child.try_wait().expect("the indexer") {
            let mut said = String::new();
            if let Some(err) = child.stderr.as_mut() {
                let _ = std::io::Read::read_to_string(err, &mut said);
            }
            panic!("the indexer ended ({status}) before {method} was held: {said}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL the indexer");
    let _ = child.wait();
    proxy.release();
    recorded(db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_indexer_killed_mid_batch_and_run_again_leaves_a_clean_runs_index() {
    let seed = test_seed();
    let url = served_network().await;
    let (clean, transactions) = clean_index(&url).await;
    // Fast faults only: the CLI waits 30 s for an answer.
    let mut faults = Faults::mixed(Duration::ZERO);
    faults.plan.retain(|(f, _)| *f != Fault::Stalled);
    faults.delay = Duration::from_millis(2);
    let proxy = FaultyRpc::start(&url, faults, seed).await;
    let dir = std::env::temp_dir().join(format!("upline-backfill-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("killed.sqlite");
    let _ = std::fs::remove_file(&db);
    let db = db.to_str().expect("utf-8").to_string();
    let chunk = i64::try_from(Backfill::default().chunk).expect("chunk");
    assert!(transactions > chunk + 1, "{transactions} transactions");

    // Killed while fetching, after `answers` transactions came back: past
    // the first chunk, so at least one chunk is recorded.
    let span = u64::try_from(transactions - chunk).expect("span");
    let answers = chunk + i64::try_from(mix(seed) % span).expect("answers");
    proxy.hold_after("getTransaction", usize::try_from(answers).expect("answers"));
    let mut indexer = start_indexer(&proxy.url, &db);
    let at_kill = kill_when_held(&mut indexer, &proxy, "getTransaction", &db).await;
    eprintln!("seed {seed}: killed mid-batch after {answers} of {transactions} transactions were fetched, {at_kill} recorded");
    assert!(
        at_kill >= chunk && at_kill < transactions && at_kill % chunk == 0,
        "recorded {at_kill} of {transactions}: whole chunks of {chunk}"
    );

    // Killed again while snapshotting the next chunk's accounts, before
    // recording it.
    proxy.hold_after("getMultipleAccounts", 0);
    let mut indexer = start_indexer(&proxy.url, &db);
    let again = kill_when_held(&mut indexer, &proxy, "getMultipleAccounts", &db).await;
    eprintln!("seed {seed}: killed again while snapshotting, {again} recorded");
    assert_eq!(again, at_kill, "nothing recorded before its snapshot");

    let out = start_indexer(&proxy.url, &db)
        .wait_with_output()
        .expect("the indexer");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let store = Store::open(&db).await.expect("open");
    assert!(
        index_dump(&store).await == clean,
        "the index differs from a clean run's (seed {seed})"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_endpoint_that_only_refuses_ends_in_an_error_naming_it_and_changes_nothing() {
    let seed = test_seed();
    let url = served_network().await;
    let store = Store::open(":memory:").await.expect("open");
    backfill(&store, &url, &Backfill::default(), &mut |_, _| {})
        .await
        .expect("a clean backfill");
    let before = index_dump(&store).await;
    let cursors = "SELECT source, signature FROM cursors ORDER BY source";
    let cursors_before = store.query(cursors, vec![]).await.expect("cursors");
    let options = patient(Duration::from_secs(5));

    // Rate-limited on every request: tried `attempts` times, then refused.
    let proxy = FaultyRpc::start(&url, Faults::always(Fault::TooMany(Some(0))), seed).await;
    let error = backfill(&store, &proxy.url, &options, &mut |_, _| {})
        .await
        .expect_err("an endpoint that only answers 429");
    assert_eq!(
        error,
        ExplorerError::Source(format!(
            "getSignaturesForAddress at {}: no usable answer in 6 attempts, the last: HTTP 429 Too Many Requests (Retry-After 0 s) (the endpoint is overloaded, rate-limiting or down: run again later, with a lower --concurrency, or use another --url)",
            proxy.url
        ))
    );
    assert_eq!(proxy.count("getSignaturesForAddress"), 6);

    // Refusing getTransaction for what it is: asked once, not retried.
    let mut faults = Faults::always(Fault::Status(403));
    faults.spared.push("getSignaturesForAddress");
    let refusing = FaultyRpc::start(&url, faults, seed).await;
    let one_at_a_time = Backfill {
        concurrency: 1,
        ..options
    };
    let error = backfill(&store, &refusing.url, &one_at_a_time, &mut |_, _| {})
        .await
        .expect_err("an endpoint that answers 403");
    let ExplorerError::Source(message) = &error else {
        panic!("{error:?}")
    };
    assert!(
        message.starts_with("getTransaction ")
            && message.ends_with(&format!(
                " at {}: HTTP 403 Forbidden (the endpoint refuses the request)",
                refusing.url
            )),
        "{message}"
    );
    assert_eq!(refusing.count("getTransaction"), 1, "asked once");

    assert!(index_dump(&store).await == before, "the index changed");
    let cursors_after = store.query(cursors, vec![]).await.expect("cursors");
    assert_eq!(cursors_after, cursors_before);

    // The CLI says the same and exits 3 (unreachable).
    let out = Command::new(env!("CARGO_BIN_EXE_upline"))
        .args(["--url", &proxy.url, "explorer", "index", "--db", ":memory:"])
        .env("RUST_LOG", "error")
        .output()
        .expect("run upline");
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains(&format!(
            "getSignaturesForAddress at {}: no usable answer in 8 attempts, the last: HTTP 429 Too Many Requests",
            proxy.url
        )),
        "{said}"
    );
}
