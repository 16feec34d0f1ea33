//! `oracle submit` over JSON-RPC against the in-process rate: the same
//! reports (compute reports about providers under separate full uplines)
//! sent by `oracle submit`'s v0 sender to a bank served by `upline
//! sandbox`'s endpoint on 127.0.0.1 (report batches through lookup tables,
//! preflight, confirmation, a bounded number in flight), and the same
//! transactions straight to an identical bank in-process.

use super::layout::{class, network};
use crate::lookup_tables::{lookupable, tables_remembered_in};
use crate::reports;
use crate::sender::{submit_in_flight, MAX_IN_FLIGHT};
use crate::submit::{next_batch_v0, prepare, SubmitSummary, REPORT_COMPUTE_UNITS};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use std::time::Instant;
use upline_sdk::client::Cluster;
use upline_sdk::rpc::{ComputeBudget, RpcCluster};
use upline_sdk::sandbox::server::SandboxServer;
use upline_sdk::sandbox::{Chain, SandboxNetwork};
use upline_sdk::{ix, lookup};

/// Providers, each at the bottom of its own three-level upline: four
/// transactions' worth, so that the sender has several in flight (it never
/// has two about the same member).
pub const PROVIDERS: usize = 96;

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

/// `oracle submit` of the same reports over JSON-RPC (its v0 sender:
/// report batches through lookup tables, a bounded number in flight) and
/// the same transactions straight to an identical bank in-process.
pub async fn rpc_vs_in_process(per_provider: u64) -> Result<Value, String> {
    // The machine is shared and a run lasts seconds: each side is measured
    // `RUNS` times, alternating, and compared at its best.
    let (mut best_rpc, mut best_local): (Option<Value>, Option<Value>) = (None, None);
    let mut ratios = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let rpc = over_json_rpc(per_provider).await?;
        let (mut chain, net, lines) = world(PROVIDERS, per_provider).await?;
        let (summary, seconds) = in_process(&mut chain, &net, &lines).await?;
        let local = figures(&summary, seconds);
        ratios.push(rate(&rpc) / rate(&local));
        if best_rpc.as_ref().is_none_or(|b| rate(&rpc) > rate(b)) {
            best_rpc = Some(rpc);
        }
        if best_local.as_ref().is_none_or(|b| rate(&local) > rate(b)) {
            best_local = Some(local);
        }
    }
    let (rpc, in_process) = (best_rpc.unwrap_or_default(), best_local.unwrap_or_default());
    Ok(json!({
        "providers": PROVIDERS,
        "runs": RUNS,
        "in_process": in_process,
        "json_rpc": rpc,
        "ratio": rate(&rpc) / rate(&in_process),
        "ratios_per_run": ratios,
    }))
}

/// How many times each side is measured.
const RUNS: usize = 3;

/// A run's reports per second.
fn rate(figures: &Value) -> f64 {
    figures["reports_per_second"].as_f64().unwrap_or(0.0)
}

/// `oracle submit` over JSON-RPC: one run's figures.
async fn over_json_rpc(per_provider: u64) -> Result<Value, String> {
    let (chain, net, lines) = world(PROVIDERS, per_provider).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("bind: {e}"))?
        .port();
    let serving = SandboxServer::new(chain).serve(listener);
    let state =
        std::env::temp_dir().join(format!("upline-bench-tables-{}.json", std::process::id()));
    let over_rpc = async {
        let url = format!("http://127.0.0.1:{port}");
        let mut cluster = RpcCluster::connect(&url)
            .await
            .map_err(|e| format!("connect: {}", e.name()))?;
        cluster.budget.units_per_instruction = Some(REPORT_COMPUTE_UNITS);
        let needed = needed_accounts(&mut cluster, &net, &lines).await?;
        let oracle = (&net.oracle, &net.key);
        let tables = tables_remembered_in(&state, &mut cluster, oracle, &needed, &mut |_| {})
            .await
            .map_err(|e| format!("lookup tables: {}", e.name()))?;
        let started = Instant::now();
        let approvers = (&net.oracle, &[][..]);
        let summary = submit_in_flight(
            &mut cluster,
            approvers,
            net.key,
            &lines,
            &tables,
            MAX_IN_FLIGHT,
            |_| {},
        )
        .await
        .map_err(|e| format!("over JSON-RPC: {}", e.name()))?;
        Ok::<_, String>((summary, started.elapsed().as_secs_f64(), tables))
    };
    let (summary, seconds, _tables) = tokio::select! {
        stopped = serving => return Err(format!("the sandbox's endpoint stopped: {stopped:?}")),
        measured = over_rpc => measured?,
    };
    let _ = std::fs::remove_file(&state);
    if !summary.complete() || summary.recorded != lines.len() {
        return Err(format!("JSON-RPC submission incomplete: {summary:?}"));
    }
    Ok(figures(&summary, seconds))
}

/// Every account the reports of `lines` name but the signers, as `oracle
/// submit` puts them in its lookup tables.
async fn needed_accounts<C: Cluster>(
    cluster: &mut C,
    net: &SandboxNetwork,
    lines: &[reports::ReportLine],
) -> Result<Vec<Pubkey>, String> {
    let prepared = prepare(cluster, net.oracle.pubkey(), &[], net.key, lines)
        .await
        .map_err(|e| format!("prepare: {}", e.name()))?;
    let instructions: Vec<Instruction> = prepared.queue.iter().map(|q| q.ix.clone()).collect();
    Ok(lookupable(&instructions))
}

/// The same reports in-process: lookup tables as `oracle submit` makes
/// them (untimed), then the reports checked, packed into the same v0 report
/// batches and each transaction simulated and processed, one after another.
// The in-process bank's blockhash is read from its context, as the sandbox does.
#[allow(deprecated)]
async fn in_process(
    chain: &mut Chain,
    net: &SandboxNetwork,
    lines: &[reports::ReportLine],
) -> Result<(SubmitSummary, f64), String> {
    let payer = chain.payer();
    let needed = needed_accounts(chain, net, lines).await?;
    let mut tables = Vec::new();
    for addresses in needed.chunks(lookup::MAX_ADDRESSES) {
        let hashes = chain
            .data(&lookup::SLOT_HASHES)
            .await
            .ok_or("no SlotHashes")?;
        let slot = lookup::recent_slot(&hashes).ok_or("SlotHashes is empty")?;
        let (create, key) = lookup::create(&payer.pubkey(), &payer.pubkey(), slot);
        chain
            .send_quiet(&[create], &[])
            .await
            .map_err(|e| format!("table: {e}"))?;
        for chunk in addresses.chunks(20) {
            let extend = lookup::extend(&key, &payer.pubkey(), &payer.pubkey(), chunk);
            chain
                .send_quiet(&[extend], &[])
                .await
                .map_err(|e| format!("table: {e}"))?;
        }
        tables.push(AddressLookupTableAccount {
            key,
            addresses: addresses.to_vec(),
        });
        let now = chain.now;
        chain.warp_to(now).await;
    }
    let started = Instant::now();
    let oracle = net.oracle.pubkey();
    let mut prepared = prepare(chain, oracle, &[], net.key, lines)
        .await
        .map_err(|e| format!("in-process: {}", e.name()))?;
    let budget = ComputeBudget {
        units_per_instruction: Some(REPORT_COMPUTE_UNITS),
        ..ComputeBudget::default()
    };
    let mut summary = prepared.summary;
    while !prepared.queue.is_empty() {
        let batch = next_batch_v0(&oracle, &mut prepared.queue, &tables, &budget);
        let singles: Vec<Instruction> = batch.iter().map(|q| q.ix.clone()).collect();
        let mut all = budget.instructions(batch.len());
        all.extend(ix::coalesce(&singles));
        let message = v0::Message::try_compile(&oracle, &all, &tables, chain.ctx.last_blockhash)
            .map_err(|e| format!("v0 message: {e}"))?;
        let tx = VersionedTransaction::try_new(VersionedMessage::V0(message), &[&net.oracle])
            .map_err(|e| format!("signing: {e}"))?;
        chain
            .process(tx)
            .await
            .map_err(|e| format!("in-process: {}", e.name()))?;
        summary.transactions += 1;
        summary.recorded += batch.len();
    }
    Ok((summary, started.elapsed().as_secs_f64()))
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
        "\noracle submit: compute reports about {} providers with separate full uplines (v0 report batches through lookup tables; best of {} runs each)\n{}{}  JSON-RPC / in-process: {:.0}% (per run: {})\n",
        result["providers"],
        result["runs"],
        row("in-process", &result["in_process"]),
        row("JSON-RPC", &result["json_rpc"]),
        result["ratio"].as_f64().unwrap_or(0.0) * 100.0,
        result["ratios_per_run"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| format!("{:.0}%", r.as_f64().unwrap_or(0.0) * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    )
}
