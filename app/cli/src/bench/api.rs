//! The explorer's API under load (issue 16's baseline): the index of the
//! generated network served on 127.0.0.1, and requests per second with
//! p50/p99 latency at 1, 10 and 50 concurrent clients (each on one keep-alive
//! connection) for a member's referral stats, a members page, and the
//! dashboard's static page as the baseline of the same server.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use upline_explorer::Store;

/// Concurrent clients measured.
const CLIENTS: [usize; 3] = [1, 10, 50];

/// One endpoint at one concurrency for `seconds`: requests/s, p50, p99 (ms).
/// `gzip`: the clients ask for compressed answers, as browsers do (the
/// server then compresses each answer); otherwise each endpoint's own work
/// is measured.
async fn load(url: &str, clients: usize, seconds: f64, gzip: bool) -> Result<Value, String> {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let url = url.to_string();
        tasks.push(tokio::spawn(async move {
            let builder = reqwest::Client::builder()
                .no_brotli()
                .no_deflate()
                .no_zstd();
            let client = if gzip { builder } else { builder.no_gzip() }
                .build()
                .map_err(|e| e.to_string())?;
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let answer = client.get(&url).send().await.map_err(|e| e.to_string())?;
                let status = answer.status();
                answer.bytes().await.map_err(|e| e.to_string())?;
                if !status.is_success() {
                    return Err(format!("{url}: {status}"));
                }
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.map_err(|e| e.to_string())??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let at = |q: f64| {
        all.get(((all.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(json!({
        "clients": clients,
        "requests": all.len(),
        "requests_per_second": (all.len() as f64 / elapsed.max(1e-9)).round(),
        "p50_ms": (at(0.5) * 100.0).round() / 100.0,
        "p99_ms": (at(0.99) * 100.0).round() / 100.0,
    }))
}

/// Serve `store` and load each endpoint at each concurrency for `seconds`.
pub async fn api_throughput(store: Store, seconds: f64) -> Result<Value, String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| format!("bind: {e}"))?
    );
    let served = tokio::spawn(upline_explorer::api::serve(store, listener));
    // A network and its first member (the root of the generated tree, with
    // the most referees), found through the API itself.
    let get = |path: String| {
        let url = format!("{base}{path}");
        async move {
            let text = reqwest::get(&url)
                .await
                .map_err(|e| e.to_string())?
                .text()
                .await
                .map_err(|e| e.to_string())?;
            serde_json::from_str::<Value>(&text).map_err(|e| format!("{url}: {e}"))
        }
    };
    let networks = get("/api/networks".into()).await?;
    let network = networks[0]["address"]
        .as_str()
        .or_else(|| networks["networks"][0]["address"].as_str())
        .ok_or_else(|| format!("no network in {networks}"))?
        .to_string();
    let members = get(format!("/api/networks/{network}/members?page=1&per_page=1")).await?;
    let wallet = members["members"][0]["wallet"]
        .as_str()
        .ok_or_else(|| format!("no member in {members}"))?
        .to_string();
    let endpoints = [
        ("static page", "/".to_string()),
        (
            "referral stats",
            format!("/api/user/{wallet}/referral-stats?network={network}"),
        ),
        (
            "members page",
            format!("/api/networks/{network}/members?page=2&per_page=50"),
        ),
    ];
    let mut rows = Vec::new();
    for (name, path) in &endpoints {
        for clients in CLIENTS {
            let mut row = load(&format!("{base}{path}"), clients, seconds, false).await?;
            row["endpoint"] = json!(name);
            rows.push(row);
        }
    }
    // As a browser asks: compressed, each answer gzipped as it goes out.
    for (name, path) in endpoints.iter().take(2) {
        let mut row = load(&format!("{base}{path}"), 50, seconds, true).await?;
        row["endpoint"] = json!(format!("{name}, gzip"));
        rows.push(row);
    }
    served.abort();
    let rate = |name: &str, clients: usize| {
        rows.iter()
            .find(|r| r["endpoint"] == name && r["clients"] == clients)
            .and_then(|r| r["requests_per_second"].as_f64())
            .unwrap_or(0.0)
    };
    let share = rate("referral stats", 50) / rate("static page", 50).max(1.0);
    Ok(json!({"rows": rows, "referral_stats_share_at_50": share}))
}

/// The rows as lines.
pub fn render(result: &Value) -> String {
    let mut out = String::from(
        "\nexplorer API on the generated network's index (127.0.0.1, keep-alive clients)\n",
    );
    for r in result["rows"].as_array().into_iter().flatten() {
        out += &format!(
            "  {:<21} {:>2} clients {:>8} requests/s  p50 {:>8} ms  p99 {:>8} ms\n",
            r["endpoint"].as_str().unwrap_or(""),
            r["clients"],
            r["requests_per_second"],
            r["p50_ms"],
            r["p99_ms"],
        );
    }
    out
}
