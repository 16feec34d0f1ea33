//! The oracle node (`upline oracle run`) against `oracle submit` of the same
//! reports: usage reports about users under separate full uplines, each run
//! on its own identical sandbox served over JSON-RPC on 127.0.0.1. The node
//! runs in-process and is posted to over HTTP a request at a time; its
//! figures are the sustained rate (reports over the time from the first
//! POST to the last report settled) and the time from each report's POST to
//! its confirmation (the queue keeps when each was settled). `oracle
//! submit` is handed every report at once; a report's time is from then to
//! the end of the transaction that recorded it.

use super::layout::{class, network};
use crate::lookup_tables;
use crate::oracle_node::{self, Batching, NodeConfig, Sender};
use crate::reports;
use crate::sender::{submit_in_flight, MAX_IN_FLIGHT};
use crate::submit::{prepare, REPORT_COMPUTE_UNITS};
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::time::{Duration, Instant};
use upline_sdk::ix;
use upline_sdk::rpc::RpcCluster;
use upline_sdk::sandbox::server::SandboxServer;
use upline_sdk::sandbox::Chain;

/// Reports per POST.
const PER_REQUEST: usize = 100;

/// A served sandbox with `users` users under separate full uplines, its
/// oracle, and `per_user` usage reports about each (users taking turns).
async fn world(
    users: usize,
    per_user: u64,
) -> Result<(String, Keypair, Pubkey, Vec<String>), String> {
    let mut chain = Chain::start().await;
    let (preset, net) = network(&mut chain, "cxmpute").await?;
    let user = class(&preset, "user")?;
    let payer = chain.payer();
    let mut bottoms = Vec::with_capacity(users);
    for _ in 0..users {
        let mut upline: Vec<Pubkey> = Vec::new();
        let mut last = None;
        for _ in 0..4 {
            let wallet = Keypair::new();
            let join = ix::join(&wallet.pubkey(), &payer.pubkey(), &net.key, user, &upline);
            chain
                .send_quiet(&[join], &[&wallet])
                .await
                .map_err(|e| format!("join: {e}"))?;
            upline.insert(0, net.member(&wallet.pubkey(), user));
            upline.truncate(3);
            last = Some(wallet.pubkey());
        }
        // Only the last joined, under three levels, is reported on.
        bottoms.extend(last);
    }
    let lines = (1..=per_user)
        .flat_map(|id| {
            bottoms.iter().map(move |w| {
                format!("{{\"kind\": \"usage\", \"id\": {id}, \"user\": \"{w}\", \"endpoint\": \"chat\", \"tokens\": 1000}}")
            })
        })
        .collect();
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    chain.warp_to(wall.max(chain.now)).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("bind: {e}"))?
        .port();
    tokio::spawn(SandboxServer::new(chain).serve(listener));
    Ok((
        format!("http://127.0.0.1:{port}"),
        net.oracle,
        net.key,
        lines,
    ))
}

/// p50 and p99 of `seconds`, and their count.
fn percentiles(mut seconds: Vec<f64>) -> Value {
    seconds.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((seconds.len() as f64 - 1.0) * q).round() as usize;
        seconds.get(i).copied().unwrap_or(0.0)
    };
    json!({"p50_seconds": at(0.5), "p99_seconds": at(0.99)})
}

async fn connect(url: &str) -> Result<RpcCluster, String> {
    let mut cluster = RpcCluster::connect(url)
        .await
        .map_err(|e| format!("connect: {}", e.name()))?;
    cluster.budget.units_per_instruction = Some(REPORT_COMPUTE_UNITS);
    Ok(cluster)
}

/// `oracle submit` of `lines` (its lookup tables made first, not timed).
async fn submit_run(users: usize, per_user: u64) -> Result<Value, String> {
    let (url, oracle, network, lines) = world(users, per_user).await?;
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let reports = reports::parse(&text, "bench").map_err(|e| e.join("; "))?;
    let mut cluster = connect(&url).await?;
    let prepared = prepare(&mut cluster, oracle.pubkey(), &[], network, &reports)
        .await
        .map_err(|e| format!("prepare: {}", e.name()))?;
    let instructions: Vec<_> = prepared.queue.iter().map(|q| q.ix.clone()).collect();
    let needed = lookup_tables::lookupable(&instructions);
    let tables = lookup_tables::tables_for(&mut cluster, &oracle, &network, &needed, &mut |_| {})
        .await
        .map_err(|e| format!("lookup tables: {}", e.name()))?;
    let started = Instant::now();
    let mut times = Vec::with_capacity(reports.len());
    let summary = submit_in_flight(
        &mut cluster,
        (&oracle, &[]),
        network,
        &reports,
        &tables,
        MAX_IN_FLIGHT,
        |s| {
            let at = started.elapsed().as_secs_f64();
            times.resize(s.recorded.max(times.len()), at);
        },
    )
    .await
    .map_err(|e| format!("oracle submit: {}", e.name()))?;
    let seconds = started.elapsed().as_secs_f64();
    if summary.recorded != reports.len() {
        return Err(format!(
            "oracle submit recorded {} of {}",
            summary.recorded,
            reports.len()
        ));
    }
    let mut figures = percentiles(times);
    figures["reports"] = json!(reports.len());
    figures["seconds"] = json!(seconds);
    figures["reports_per_second"] = json!(reports.len() as f64 / seconds);
    Ok(figures)
}

/// The node fed the same reports over HTTP.
async fn node_run(users: usize, per_user: u64, dir: &std::path::Path) -> Result<Value, String> {
    let (url, oracle, network, lines) = world(users, per_user).await?;
    let db = dir.join("node.sqlite");
    let _ = std::fs::remove_file(&db);
    let token = "bench".to_string();
    let sender = Sender {
        cluster: connect(&url).await?,
        oracle,
        co_signers: Vec::new(),
        network,
        max_in_flight: MAX_IN_FLIGHT,
    };
    let config = NodeConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        db: db.clone(),
        token: token.clone(),
        batching: Batching {
            age: Duration::from_millis(200),
            size: 256,
            most: 512,
        },
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, address) = tokio::sync::oneshot::channel();
    let intake = connect(&url).await?;
    // In this task beside the posting (the lookup tables' progress
    // callback keeps the node's future on one thread).
    let node = oracle_node::run(
        config,
        intake,
        sender,
        async move {
            let _ = stopped.await;
        },
        move |a| {
            let _ = ready.send(a);
        },
    );
    let drive = post_all(address, token, lines, db, stop);
    let (ran, figures) = tokio::join!(node, drive);
    ran.map_err(|e| format!("the node: {e}"))?;
    figures
}

/// Post `lines` to the node at `address` a request at a time, wait until
/// the queue `db` has settled them all, stop the node; the figures.
async fn post_all(
    address: tokio::sync::oneshot::Receiver<std::net::SocketAddr>,
    token: String,
    lines: Vec<String>,
    db: std::path::PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
) -> Result<Value, String> {
    let address = address
        .await
        .map_err(|_| "the node did not start".to_string())?;
    let client = reqwest::Client::new();
    let mut posted_ms = Vec::new();
    let started = Instant::now();
    let first_ms = oracle_node::now_ms();
    for chunk in lines.chunks(PER_REQUEST) {
        let body: String = chunk.iter().map(|l| format!("{l}\n")).collect();
        let at = oracle_node::now_ms();
        let answer = client
            .post(format!("http://{address}/reports"))
            .bearer_auth(&token)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST /reports: {e}"))?;
        if !answer.status().is_success() {
            let text = answer.text().await.unwrap_or_default();
            return Err(format!("POST /reports: {text}"));
        }
        posted_ms.extend(std::iter::repeat_n(at, chunk.len()));
    }
    let done: Vec<i64> = loop {
        let settled = oracle_node::settled_times(&db)?;
        if settled.len() >= lines.len() && settled.iter().all(Option::is_some) {
            break settled.into_iter().flatten().collect();
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!(
                "the node settled {} of {} in 10 minutes",
                settled.len(),
                lines.len()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = stop.send(());
    // The queue's order is the order posted: the n-th row is the n-th report posted.
    let last = done.iter().copied().max().unwrap_or(first_ms);
    let latencies = done
        .iter()
        .zip(&posted_ms)
        .map(|(d, p)| (d - p) as f64 / 1000.0)
        .collect();
    let seconds = (last - first_ms) as f64 / 1000.0;
    let mut figures = percentiles(latencies);
    figures["reports"] = json!(lines.len());
    figures["seconds"] = json!(seconds);
    figures["reports_per_second"] = json!(lines.len() as f64 / seconds);
    Ok(figures)
}

/// Both runs: `users` users, `per_user` reports each.
pub async fn node_vs_submit(users: usize, per_user: u64) -> Result<Value, String> {
    // The lookup tables of these throwaway networks are remembered under a
    // temporary HOME, not in the operator's ~/.config/upline.
    let dir = std::env::temp_dir().join(format!("upline-bench-node-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let home = std::env::var_os("HOME");
    std::env::set_var("HOME", &dir);
    let submit = submit_run(users, per_user).await;
    let node = node_run(users, per_user, &dir).await;
    match home {
        Some(h) => std::env::set_var("HOME", h),
        None => std::env::remove_var("HOME"),
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(json!({
        "users": users,
        "per_request": PER_REQUEST,
        "oracle_submit": submit?,
        "node": node?,
    }))
}

/// The comparison as lines.
pub fn render(result: &Value) -> String {
    if result.is_null() {
        return String::new();
    }
    let row = |name: &str, v: &Value| {
        format!(
            "  {name:<14} {:>6} reports in {:>7.2} s, {:>8.1} reports/s; POST to confirmed p50 {:>6.2} s, p99 {:>6.2} s\n",
            v["reports"],
            v["seconds"].as_f64().unwrap_or(0.0),
            v["reports_per_second"].as_f64().unwrap_or(0.0),
            v["p50_seconds"].as_f64().unwrap_or(0.0),
            v["p99_seconds"].as_f64().unwrap_or(0.0),
        )
    };
    format!(
        "\noracle node: usage reports about {} users with full uplines, over JSON-RPC (v0 transactions, lookup tables)\n{}{}  (oracle submit is handed every report at once: its times run from the start of the file)\n",
        result["users"],
        row("oracle submit", &result["oracle_submit"]),
        row(&format!("node, {}/POST", result["per_request"]), &result["node"]),
    )
}
