//! The explorer at network scale (issue 16): for generated networks of each
//! size, indexing and the full audit in events per second, then one new
//! transaction indexed and audited incrementally (seconds), then the API
//! under load (`api`) on the same index, kept in a SQLite file as an
//! operator would run it.

use super::api;
use super::speed;
use serde_json::{json, Value};
use solana_signer::Signer;
use std::time::Instant;
use upline::instructions::UsageReportArgs;
use upline::state::Endpoint;
use upline_explorer::audit;
use upline_explorer::source::index_sandbox;
use upline_explorer::Store;
use upline_sdk::ix;
use upline_sdk::sandbox::Chain;

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A fresh index file for a run of `members`.
async fn index_file(members: usize) -> Result<(Store, std::path::PathBuf), String> {
    let dir = std::env::temp_dir().join(format!("upline-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("index-{members}.sqlite"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = Store::open(&path.display().to_string())
        .await
        .map_err(|e| e.to_string())?;
    Ok((store, path))
}

/// One more usage report on the generated network (its first member's
/// second report), for the incremental run.
async fn one_more_report(chain: &mut Chain, generated: &speed::Generated) -> Result<(), String> {
    // A new slot and blockhash: indexing a large journal outlasts the last one.
    let now = chain.now;
    chain.warp_to(now).await;
    let args = UsageReportArgs {
        id: 2,
        work_time: chain.now,
        endpoint: Endpoint::Chat,
        tokens: 1_000,
    };
    let report = ix::report_usage(
        &generated.oracle.pubkey(),
        &generated.network,
        &generated.first_member,
        &[],
        args,
    );
    chain
        .send_quiet(&[report], &[&generated.oracle])
        .await
        .map_err(|e| format!("one more report: {e}"))
}

/// Everything measured on one generated network of `members`.
pub async fn run_size(
    members: usize,
    baseline: f64,
    api_seconds: f64,
    progress: &mut dyn FnMut(&str),
) -> Result<Value, String> {
    progress(&format!("explorer at scale: generating {members} members"));
    let (network, mut chain, generated) = speed::generated_network_with(members, baseline).await?;
    let (store, path) = index_file(members).await?;
    progress(&format!("explorer at scale: indexing {members} members"));
    let started = Instant::now();
    let indexed = index_sandbox(&store, &mut chain)
        .await
        .map_err(|e| e.to_string())?;
    let index_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let verdict = audit::audit(&store).await.map_err(|e| e.to_string())?;
    audit::save(&store, &verdict, 0)
        .await
        .map_err(|e| e.to_string())?;
    let audit_seconds = started.elapsed().as_secs_f64();
    // One new transaction: index what is new, audit from the checkpoint.
    one_more_report(&mut chain, &generated).await?;
    let started = Instant::now();
    let again = index_sandbox(&store, &mut chain)
        .await
        .map_err(|e| e.to_string())?;
    let incremental_index = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let after = audit::audit_incremental(&store)
        .await
        .map_err(|e| e.to_string())?;
    audit::save(&store, &after, 0)
        .await
        .map_err(|e| e.to_string())?;
    let incremental_audit = started.elapsed().as_secs_f64();
    progress(&format!("explorer at scale: the API on {members} members"));
    let load = api::api_throughput(store, api_seconds).await?;
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    Ok(json!({
        "members": members,
        "generated_network": network,
        "transactions": indexed.transactions,
        "events": indexed.events,
        "index_bytes": bytes,
        "index_events_per_second": round(indexed.events as f64 / index_seconds.max(1e-9)),
        "audit_events_per_second": round(verdict.events as f64 / audit_seconds.max(1e-9)),
        "verdict": if verdict.passed() && after.passed() { "pass" } else { "fail" },
        "incremental": {
            "transactions": again.transactions,
            "index_seconds": round(incremental_index * 1000.0) / 1000.0,
            "audit_seconds": round(incremental_audit * 1000.0) / 1000.0,
            "seconds": round((incremental_index + incremental_audit) * 1000.0) / 1000.0,
        },
        "api": load,
    }))
}

/// The rate of `endpoint` at `clients` in one size's API rows.
pub fn rate(size: &Value, endpoint: &str, clients: u64) -> f64 {
    size["api"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["endpoint"] == endpoint && r["clients"] == clients)
        .and_then(|r| r["requests_per_second"].as_f64())
        .unwrap_or(0.0)
}

/// Each size as lines.
pub fn render(sizes: &[Value]) -> String {
    let mut out = String::new();
    for s in sizes {
        let i = &s["incremental"];
        out += &format!(
            "\nexplorer at scale: {} members ({} transactions, {} events, index file {} MB)\n  index {} events/s, full audit {} events/s ({}); one new transaction: index {:.3} s + audit {:.3} s\n",
            s["members"],
            s["transactions"],
            s["events"],
            s["index_bytes"].as_u64().unwrap_or(0) / 1_000_000,
            s["index_events_per_second"],
            s["audit_events_per_second"],
            s["verdict"].as_str().unwrap_or("?"),
            i["index_seconds"].as_f64().unwrap_or(f64::NAN),
            i["audit_seconds"].as_f64().unwrap_or(f64::NAN),
        );
        out += &api::render(&s["api"]);
    }
    out
}
