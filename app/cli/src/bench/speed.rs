//! What Upline costs in time on the sandbox, each run against a baseline of
//! plain SPL Token transfers on the same bank: a report costs this many
//! transfers. Wall-clock figures; they depend on the machine and the build
//! (`cargo run --release` for figures comparable across machines).

use crate::demo;
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::time::Instant;
use upline::instructions::UsageReportArgs;
use upline::state::Endpoint;
use upline_sdk::ix;
use upline_sdk::preset::Preset;
use upline_sdk::sandbox::{Chain, SandboxNetwork};

/// Seconds per transaction of `count` plain SPL Token transfers, each its own
/// transaction sent the way Upline's are (simulated for its logs, then processed).
pub async fn spl_baseline(count: usize) -> Result<f64, String> {
    let mut chain = Chain::start().await;
    let mint = chain.create_mint(anchor_spl::token::ID, 6).await;
    let owner = chain.wallet().await;
    let from = chain.token_account(&mint, &owner.pubkey()).await;
    let to = chain.token_account(&mint, &Pubkey::new_unique()).await;
    chain.mint_to(&mint, &from, u64::MAX / 2).await;
    let started = Instant::now();
    for n in 0..count {
        let transfer = anchor_spl::token::spl_token::instruction::transfer(
            &anchor_spl::token::ID,
            &from,
            &to,
            &owner.pubkey(),
            &[],
            1 + n as u64,
        )
        .map_err(|e| e.to_string())?;
        chain
            .send_quiet(&[transfer], &[&owner])
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(started.elapsed().as_secs_f64() / count.max(1) as f64)
}

/// A timed run: seconds, transactions, and the ratio to the baseline.
fn timed(seconds: f64, transactions: usize, baseline: f64) -> Value {
    let per = seconds / transactions.max(1) as f64;
    json!({
        "seconds": round(seconds),
        "transactions": transactions,
        "per_second": round(transactions as f64 / seconds.max(1e-9)),
        "transfers_per_transaction": round(per / baseline.max(1e-12)),
    })
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The Cxmpute document's provider network (7,800 compute reports), as the demo runs it.
pub async fn provider_example(baseline: f64) -> Result<Value, String> {
    let scenario = demo::scenarios()
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|d| d.title.contains("7,800"))
        .ok_or("the demo has no 7,800-report scenario")?;
    let started = Instant::now();
    let (world, _) = crate::simulate_world(&scenario.scenario)
        .await
        .map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(timed(seconds, world.chain.journal.len(), baseline))
}

/// A generated Cxmpute user network: `members` joins, each under a random
/// earlier member (a random tree, so uplines run three deep), then one usage
/// report per member paying up to three levels. Returns the run and the chain.
pub async fn generated_network(members: usize, baseline: f64) -> Result<(Value, Chain), String> {
    let (run, chain, _) = generated_network_with(members, baseline).await?;
    Ok((run, chain))
}

/// What a generated network's chain needs to take one more report.
pub struct Generated {
    pub network: Pubkey,
    pub oracle: Keypair,
    /// The root of the tree (no upline), which has reported once (id 1).
    pub first_member: Pubkey,
}

/// [`generated_network`], with what it takes to report on it again.
pub async fn generated_network_with(
    members: usize,
    baseline: f64,
) -> Result<(Value, Chain, Generated), String> {
    let mut chain = Chain::start().await;
    let preset = Preset::builtin("cxmpute").map_err(|e| e.to_string())?;
    let net = SandboxNetwork::from_preset(&mut chain, &preset)
        .await
        .map_err(|e| e.to_string())?;
    let user = preset.class_index("user").ok_or("no user class")?;
    let payer = chain.payer();
    let oracle = net.oracle.insecure_clone();
    // Each member's account, and its stored upline (member accounts, nearest
    // first, at most three).
    let mut accounts: Vec<Pubkey> = Vec::with_capacity(members);
    let mut uplines: Vec<Vec<Pubkey>> = Vec::with_capacity(members);
    let mut seed = 0x9E37_79B9_u64;
    let started = Instant::now();
    let start_tx = chain.journal.len();
    for n in 0..members {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let referrer = (n > 0).then(|| (seed >> 33) as usize % n);
        let mut upline: Vec<Pubkey> = Vec::with_capacity(3);
        if let Some(i) = referrer {
            upline.push(accounts[i]);
            upline.extend(uplines[i].iter().take(2));
        }
        let wallet = Keypair::new();
        let join = ix::join(&wallet.pubkey(), &payer.pubkey(), &net.key, user, &upline);
        chain
            .send_quiet(&[join], &[&wallet])
            .await
            .map_err(|e| format!("join {n}: {e}"))?;
        accounts.push(net.member(&wallet.pubkey(), user));
        uplines.push(upline);
    }
    let joined = started.elapsed().as_secs_f64();
    let work_time = chain.now;
    for (account, upline) in accounts.iter().zip(&uplines) {
        let args = UsageReportArgs {
            id: 1,
            work_time,
            endpoint: Endpoint::Chat,
            tokens: 1_000,
        };
        let report = ix::report_usage(&oracle.pubkey(), &net.key, account, upline, args);
        chain
            .send_quiet(&[report], &[&oracle])
            .await
            .map_err(|e| format!("report: {e}"))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut run = timed(seconds, chain.journal.len() - start_tx, baseline);
    run["members"] = json!(members);
    run["join_seconds"] = json!(round(joined));
    run["report_seconds"] = json!(round(seconds - joined));
    run["reports_per_second"] = json!(round(members as f64 / (seconds - joined).max(1e-9)));
    let generated = Generated {
        network: net.key,
        oracle,
        first_member: accounts.first().copied().unwrap_or_default(),
    };
    Ok((run, chain, generated))
}
