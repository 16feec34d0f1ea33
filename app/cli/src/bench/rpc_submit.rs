//! `oracle submit` over JSON-RPC against the in-process rate: the same
//! reports (compute reports about providers under separate full uplines) sent
//! by [`crate::submit::submit`] straight to a sandbox bank, then to an
//! identical bank served by `upline sandbox`'s JSON-RPC endpoint on
//! 127.0.0.1, each transaction fetched a blockhash for, sent, simulated,
//! processed and confirmed as on a real cluster.

use super::layout::{class, network};
use crate::reports;
use crate::submit::{submit, SubmitSummary};
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::time::Instant;
use upline_sdk::ix;
use upline_sdk::rpc::RpcCluster;
use upline_sdk::sandbox::server::SandboxServer;
use upline_sdk::sandbox::{Chain, SandboxNetwork};

/// Providers, each at the bottom of its own three-level upline.
pub const PROVIDERS: usize = 24;

/// A network with `providers` attested providers under separate full
/// uplines, and `per_provider` compute reports about each (providers taking
/// turns, so that a transaction reports on different providers).
async fn world(
    providers: usize,
    per_provider: u64,
) -> Result<(Chain, SandboxNetwork, Vec<reports::ReportLine>), String> {
    let mut chain = Chain::start().await;
    let (preset, net) = network(&mut chain, "cxmpute").await?;
    let provider = class(&preset, "provider")?;
    let payer = chain.payer();
    let mut wallets: Vec<Pubkey> = Vec::with_capacity(providers);
    for _ in 0..providers {
        let mut upline: Vec<Pubkey> = Vec::new();
        let mut bottom = Pubkey::default();
        for level in 0..4 {
            let wallet = Keypair::new();
            let join = ix::join(
                &wallet.pubkey(),
                &payer.pubkey(),
                &net.key,
                provider,
                &upline,
            );
            chain
                .send_quiet(&[join], &[&wallet])
                .await
                .map_err(|e| format!("join: {e}"))?;
            let member = net.member(&wallet.pubkey(), provider);
            if level < 3 {
                upline.insert(0, member);
            } else {
                bottom = wallet.pubkey();
                let attest =
                    ix::attest_provider(&net.oracle.pubkey(), &net.key, &member, 24 * 1024);
                chain
                    .send_quiet(&[attest], &[&net.oracle])
                    .await
                    .map_err(|e| format!("attest: {e}"))?;
            }
        }
        wallets.push(bottom);
    }
    let mut text = String::new();
    for round in 1..=per_provider {
        for wallet in &wallets {
            text += &format!(
                "{{\"kind\": \"compute\", \"id\": {round}, \"provider\": \"{wallet}\", \"service\": \"chat\", \"model\": \"llama3-70b\", \"tokens\": 1000, \"latency_ms\": 5000}}\n"
            );
        }
    }
    // The endpoint keeps the clock at the wall clock's: so does the in-process bank.
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    chain.warp_to(wall.max(chain.now)).await;
    let lines = reports::parse(&text, "bench").map_err(|e| e.join("; "))?;
    Ok((chain, net, lines))
}

/// One run's figures.
fn figures(summary: &SubmitSummary, seconds: f64) -> Value {
    let transactions = summary.transactions.max(1) as f64;
    json!({
        "reports": summary.recorded,
        "transactions": summary.transactions,
        "seconds": seconds,
        "reports_per_transaction": summary.recorded as f64 / transactions,
        "transactions_per_second": summary.transactions as f64 / seconds,
        "reports_per_second": summary.recorded as f64 / seconds,
    })
}

/// `oracle submit` of the same reports in-process and over JSON-RPC.
pub async fn rpc_vs_in_process(per_provider: u64) -> Result<Value, String> {
    let (mut chain, net, lines) = world(PROVIDERS, per_provider).await?;
    let started = Instant::now();
    let summary = submit(&mut chain, &net.oracle, &[], net.key, &lines, |_| {})
        .await
        .map_err(|e| format!("in-process: {}", e.name()))?;
    let in_process = figures(&summary, started.elapsed().as_secs_f64());
    if !summary.complete() || summary.recorded != lines.len() {
        return Err(format!("in-process submission incomplete: {summary:?}"));
    }

    let (chain, net, lines) = world(PROVIDERS, per_provider).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("bind: {e}"))?
        .port();
    let serving = SandboxServer::new(chain).serve(listener);
    let over_rpc = async {
        let mut cluster = RpcCluster::connect(&format!("http://127.0.0.1:{port}"))
            .await
            .map_err(|e| format!("connect: {}", e.name()))?;
        let started = Instant::now();
        let summary = submit(&mut cluster, &net.oracle, &[], net.key, &lines, |_| {})
            .await
            .map_err(|e| format!("over JSON-RPC: {}", e.name()))?;
        Ok::<_, String>((summary, started.elapsed().as_secs_f64()))
    };
    let (summary, seconds) = tokio::select! {
        stopped = serving => return Err(format!("the sandbox's endpoint stopped: {stopped:?}")),
        measured = over_rpc => measured?,
    };
    if !summary.complete() || summary.recorded != lines.len() {
        return Err(format!("JSON-RPC submission incomplete: {summary:?}"));
    }
    let rpc = figures(&summary, seconds);
    let ratio = rpc["reports_per_second"].as_f64().unwrap_or(0.0)
        / in_process["reports_per_second"]
            .as_f64()
            .unwrap_or(f64::MAX);
    Ok(json!({
        "providers": PROVIDERS,
        "in_process": in_process,
        "json_rpc": rpc,
        "ratio": ratio,
    }))
}

/// The comparison as lines.
pub fn render(result: &Value) -> String {
    if result.is_null() {
        return String::new();
    }
    let row = |name: &str, v: &Value| {
        format!(
            "  {name:<12} {:>5} reports in {:>4} transactions, {:>5.2} per transaction, {:>8.1} transactions/s, {:>8.1} reports/s\n",
            v["reports"],
            v["transactions"],
            v["reports_per_transaction"].as_f64().unwrap_or(0.0),
            v["transactions_per_second"].as_f64().unwrap_or(0.0),
            v["reports_per_second"].as_f64().unwrap_or(0.0),
        )
    };
    format!(
        "\noracle submit: compute reports about {} providers with separate full uplines (legacy transactions)\n{}{}  JSON-RPC / in-process: {:.0}%\n",
        result["providers"],
        row("in-process", &result["in_process"]),
        row("JSON-RPC", &result["json_rpc"]),
        result["ratio"].as_f64().unwrap_or(0.0) * 100.0
    )
}
