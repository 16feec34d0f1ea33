//! A stateful randomized test in the manner of marginfi's fuzz: random
//! sequences of joins, links, reports of every kind, withdrawals, fundings,
//! admin changes and deliberate failures, each on a fresh network of a
//! rotating preset whose token ledgers use the preset's decimals, 12 or 18,
//! with the invariants checked after every step:
//!
//! - credits in events = what members hold + what they withdrew, per ledger;
//! - the vault holds funded - withdrawn, and the ledger agrees with the funding;
//! - downline counts = a recount of the stored links;
//! - nobody earns a commission from itself; no report id counts twice;
//!
//! and, after each sequence, the explorer's independent audit of everything it
//! did. After a failed transaction the accounts are also compared with their
//! state before, but in solana-program-test that cannot fail (the bank rolls a
//! failed transaction back), so it guards the test and is not coverage.
//!
//! Since issue 13 every network has three oracles, and half the sequences
//! start with a quorum of 2: reports and attestations are approved by a
//! random primary and co-signers, mostly the quorum, sometimes one fewer
//! (`QuorumNotMet` expected) or with a co-signer named twice
//! (`DuplicateCoSigner` expected). The admin changes the quorum, caps
//! oracles' credits per ledger and window (each report is charged to every
//! approver in the model; a report refused with `OracleCapExceeded` is
//! simulated again with the approvers' caps lifted, and the model must say
//! that what it credits passes a cap), freezes and unfreezes members
//! (commissions and bonuses withheld exactly when their member is frozen, a
//! frozen member's balances untouched) and deregisters nodes' devices, which
//! are attested again, sometimes on the same device. The model's caps,
//! quorum, frozen flags and subnet counts are compared with the accounts
//! after every step.
//!
//! The generator is biased so that money moves: vaults are funded generously
//! and the minimum withdrawal is usually lowered, providers and nodes are
//! attested before they report, reports mostly carry fresh increasing ids and
//! models the provider's tier may serve, withdrawals mostly ask for what a
//! member holds and the vault covers, some sequences switch a circuit breaker
//! on, and every sixth sequence funds its vaults with one token only. About
//! one transaction in eight is a deliberate failure (a stale or far-jumping
//! id, a wrong class, signer or chain, a coefficient out of range, an amount
//! beyond the balance or below the minimum, a points ledger, someone else's
//! token account, a wallet that never joined, a work time in the future,
//! beyond the maximum report age or before the member's last). The run prints, per operation, how often it was tried, how often
//! it succeeded and each refusal by name, and fails if too little succeeded:
//! at least half of the reports, a third of the withdrawals, a circuit
//! breaker switched on, and a withdrawal on an 18-decimal mint.
//!
//! Seeded and reproducible: `UPLINE_FUZZ_SEED`, `UPLINE_FUZZ_SEQUENCES` and
//! `UPLINE_FUZZ_STEPS` override the defaults; every failure names the seed,
//! the sequence and the step.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{AccountDeserialize, AccountSerialize};
use solana_account::AccountSharedData;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;
use upline::errors::UplineError;
use upline::instructions::{AttestNodeArgs, OracleCapArgs, RentalReportArgs};
use upline::math::{Ppm, Wad};
use upline::state::{
    CircuitBreakerConfig, CommissionTier, Endpoint, Ledger, Member, Oracle, RewardTables, Service,
};
use upline_sdk::ix::{self, TokenDestination};
use upline_sdk::pda;
use upline_sdk::preset::Preset;
use upline_sdk::sandbox::journal::Recorded;
use upline_tests::invariants::{attempt, audit_sequence, report_credits, Coverage, Run, SUBNETS};
use upline_tests::refusal::Refusal;
use upline_tests::reports::{bandwidth, compute, hash32, usage, WorkedAt};
use upline_tests::rng::{env_number, Rng};
use upline_tests::{Chain, TestNetwork};

const PRESETS: [&str; 3] = ["cxmpute", "clore", "aether"];
/// The token ledgers' decimals, rotating after the presets: the preset's own
/// (8 or 9), 12, 18.
const DECIMALS: [Option<u8>; 3] = [None, Some(12), Some(18)];
const REPORTS: [&str; 4] = [
    "report_compute",
    "report_usage",
    "report_rental",
    "report_bandwidth",
];
/// An id this far past the last one is refused (`ReportIdTooFar`).
const FAR: u64 = (1 << 48) + 1;

/// One whole token of ledger `index`, in base units.
fn whole(run: &Run, index: u8) -> u64 {
    10u64.pow(u32::from(
        run.net.ledgers[usize::from(index)].mint().decimals,
    ))
}

/// The members of `class`.
async fn of_class(chain: &mut Chain, run: &Run, class: u8) -> Vec<Pubkey> {
    let mut out = Vec::new();
    for m in &run.members {
        let state: Member = chain.account(&run.net.member(&m.pubkey())).await;
        if state.class == class {
            out.push(m.pubkey());
        }
    }
    out
}

fn keypair(run: &Run, wallet: &Pubkey) -> Keypair {
    run.members
        .iter()
        .find(|m| m.pubkey() == *wallet)
        .expect("a member")
        .insecure_clone()
}

/// A report id for `wallet`: the next one mostly, sometimes a replayed or
/// stale one, sometimes one too far ahead.
fn report_id(run: &Run, rng: &mut Rng, wallet: &Pubkey) -> u64 {
    let next = run.next_id.get(wallet).copied().unwrap_or(1);
    match rng.below(100) {
        0..=91 => next,
        92..=96 => rng.below(next),
        _ => next + FAR,
    }
}

/// A work time for a report about `wallet`'s membership: mostly between its
/// last work time (or two days ago, the later) and now, so that reports land
/// late; sometimes a deliberate refusal: in the future (`ReportInFuture`),
/// older than the network's maximum report age (`ReportTooOld`), or before the
/// member's last work time (`StaleReport`).
async fn work_time(chain: &mut Chain, run: &Run, rng: &mut Rng, wallet: &Pubkey) -> i64 {
    let now = chain.now;
    let state: Member = chain.account(&run.net.member(wallet)).await;
    let last = state.last_work_time;
    let max_age = run.net.state(chain).await.tables.max_report_age_seconds;
    let earliest = last.max(now - 2 * 86_400);
    match rng.below(100) {
        0..=1 => now + 1 + rng.below(3_600) as i64,
        2..=3 => now - max_age - 1 - rng.below(86_400) as i64,
        4..=5 if last > now - max_age => last - 1,
        _ if earliest >= now => now,
        _ => earliest + rng.below((now - earliest) as u64 + 1) as i64,
    }
}

/// Record a report's outcome: its id is used up if it succeeded.
fn used(run: &mut Run, wallet: Pubkey, id: u64, outcome: &Result<(), Refusal>) {
    if outcome.is_ok() {
        run.next_id.insert(wallet, id + 1);
    }
}

/// Join a new wallet in `class`, linked to `referrer`'s chain if given.
async fn join(
    chain: &mut Chain,
    run: &mut Run,
    class: u8,
    referrer: Option<Pubkey>,
) -> Option<Pubkey> {
    let wallet = chain.wallet().await;
    let upline = match referrer {
        Some(referrer) => {
            let member = run.net.member(&referrer);
            run.net.link_chain(chain, &member).await
        }
        None => vec![],
    };
    let ix = ix::join(
        &wallet.pubkey(),
        &wallet.pubkey(),
        &run.net.key,
        class,
        &upline,
    );
    let outcome = attempt(chain, run, "join", vec![ix], &[&wallet]).await;
    outcome.ok().map(|()| {
        let key = wallet.pubkey();
        run.net.remember(&key, class);
        run.members.push(wallet);
        key
    })
}

/// Mint `amount` base units to a new funder and deposit them into `ledger`,
/// as long as the mint's u64 supply has room.
async fn fund(chain: &mut Chain, run: &mut Run, ledger: u8, amount: u64) {
    let i = usize::from(ledger);
    if run.minted[i] + u128::from(amount) > u128::from(u64::MAX) {
        return;
    }
    run.minted[i] += u128::from(amount);
    let funder = chain.wallet().await;
    let outcome = run.net.0.fund(chain, &funder, ledger, amount).await;
    let refusal = outcome.as_ref().err().map(Refusal::of);
    run.coverage
        .record("fund_vault", refusal.as_ref().map_or(Ok(()), Err));
    if outcome.is_ok() {
        run.funded[i] += u128::from(amount);
        run.outcomes[0] += 1;
    } else {
        run.outcomes[1] += 1;
    }
}

/// `update_ledger` of `ledger`: a minimum withdrawal and maybe a breaker.
async fn update_ledger(
    chain: &mut Chain,
    run: &mut Run,
    signer: &Keypair,
    ledger: u8,
    min_withdrawal: u64,
    breaker: Option<CircuitBreakerConfig>,
) {
    let ix = ix::update_ledger(
        &signer.pubkey(),
        &run.net.key,
        ledger,
        min_withdrawal,
        breaker,
    );
    let op = if breaker.is_some() {
        "update_ledger (breaker on)"
    } else {
        "update_ledger"
    };
    let _ = attempt(chain, run, op, vec![ix], &[signer]).await;
}

/// A fresh network for sequence `sequence`: a preset, its token ledgers'
/// decimals, generous funding, usually a lower minimum withdrawal, sometimes
/// a circuit breaker, and a few members (attested, where the preset's work
/// needs it).
async fn setup(chain: &mut Chain, rng: &mut Rng, sequence: u64) -> Run {
    let preset_name = PRESETS[(sequence % 3) as usize];
    let decimals = DECIMALS[((sequence / 3) % 3) as usize];
    let edit = |p: &mut Preset| {
        for ledger in p.ledgers.iter_mut().filter(|l| l.is_token()) {
            if decimals.is_some() {
                ledger.decimals = decimals;
            }
        }
    };
    let net = TestNetwork::from_preset_with(chain, preset_name, edit).await;
    let mut preset = Preset::builtin(preset_name).expect("preset");
    edit(&mut preset);
    let mut run = Run::new(preset, net);
    let admin = run.net.admin.insecure_clone();
    for ledger in run.token_ledgers() {
        // 1,000 tokens, or 10 where the mint's u64 supply holds only 18.4;
        // one token in every sixth sequence, whose vaults run short.
        let tokens = if sequence % 6 == 5 { 1 } else { 1_000 };
        let amount = whole(&run, ledger)
            .saturating_mul(tokens)
            .min(10 * 10u64.pow(18));
        fund(chain, &mut run, ledger, amount).await;
        if rng.chance(75) {
            let min = (whole(&run, ledger) / 100).max(1);
            let breaker = (sequence % 4 == 1).then(|| CircuitBreakerConfig {
                window_seconds: 86_400,
                max_outflow: whole(&run, ledger) * (2 + rng.below(8)),
            });
            update_ledger(chain, &mut run, &admin, ledger, min, breaker).await;
        }
    }
    // Two more oracles; half the sequences require two approvals from the start.
    for _ in 0..2 {
        let oracle = chain.wallet().await;
        let admin_key = admin.pubkey();
        let add = ix::add_oracle(&admin_key, &admin_key, &run.net.key, &oracle.pubkey());
        if attempt(chain, &mut run, "add_oracle", vec![add], &[&admin])
            .await
            .is_ok()
        {
            run.caps.insert(oracle.pubkey(), Default::default());
            run.oracles.push(oracle);
        }
    }
    if sequence % 2 == 1 {
        set_quorum(chain, &mut run, &admin, 2).await;
    }
    // Two chains of the working class (and one of users on cxmpute).
    let (worker, other) = match preset_name {
        "cxmpute" => (1, Some(0)),
        "clore" => (0, None),
        _ => (1, Some(0)),
    };
    let a = join(chain, &mut run, worker, None).await;
    join(chain, &mut run, worker, a).await;
    let b = join(chain, &mut run, worker, None).await;
    join(chain, &mut run, worker, b).await;
    if let Some(class) = other {
        let u = join(chain, &mut run, class, None).await;
        join(chain, &mut run, class, u).await;
    }
    let workers: Vec<Pubkey> = run.members.iter().map(|m| m.pubkey()).take(4).collect();
    for wallet in workers {
        match preset_name {
            "cxmpute" => attest_provider(chain, &mut run, rng, wallet).await,
            "aether" => attest_node(chain, &mut run, rng, wallet).await,
            _ => {}
        }
    }
    run
}

async fn attest_provider(chain: &mut Chain, run: &mut Run, rng: &mut Rng, wallet: Pubkey) {
    let oracle = run.net.oracle.insecure_clone();
    let vram = 1024 * (2 + rng.below(30)) as u32;
    let member = run.net.member(&wallet);
    let ix = ix::attest_provider(&oracle.pubkey(), &run.net.key, &member, vram);
    if approved_attempt(chain, run, rng, "attest_provider", ix)
        .await
        .is_ok()
    {
        let state: Member = chain.account(&member).await;
        run.tiers.insert(wallet, state.device_tier);
    }
}

/// Attest `wallet`'s device: a fresh fingerprint mostly, sometimes one
/// already registered (`DuplicateDevice`); a node whose device was
/// deregistered half the time on the same device again.
async fn attest_node(chain: &mut Chain, run: &mut Run, rng: &mut Rng, wallet: Pubkey) {
    let oracle = run.net.oracle.insecure_clone();
    let n = if run.devices > 0 && rng.chance(8) {
        rng.below(u64::from(run.devices)) as u32
    } else {
        run.devices
    };
    let subnet = rng.pick(&SUBNETS).expect("subnets").to_string();
    let again = run.deregistered.get(&wallet).cloned();
    let same = again.is_some() && rng.chance(50);
    let device = match again {
        Some((fingerprint, _)) if same => (fingerprint, subnet),
        _ => (format!("dev-{n}"), subnet),
    };
    let args = AttestNodeArgs {
        fingerprint: hash32(&device.0),
        subnet: hash32(&device.1),
    };
    let ix = ix::attest_node(
        &oracle.pubkey(),
        &oracle.pubkey(),
        &run.net.key,
        &run.net.member(&wallet),
        args,
    );
    if approved_attempt(chain, run, rng, "attest_node", ix)
        .await
        .is_ok()
    {
        if !same {
            run.devices += 1;
        }
        if run.deregistered.remove(&wallet).is_some() {
            run.coverage
                .note("nodes attested again after deregistration");
            if same {
                run.coverage.note("nodes attested again on the same device");
            }
        }
        run.attested.insert(wallet, device);
    }
}

/// Deregister an attested node's device (sometimes signed by a member,
/// `NotAdmin`, or naming another subnet, `UnattestedNode`).
async fn deregister(chain: &mut Chain, run: &mut Run, rng: &mut Rng) {
    let nodes: Vec<Pubkey> = run.attested.keys().copied().collect();
    let Some(&wallet) = rng.pick(&nodes) else {
        return;
    };
    let (fingerprint, mut subnet) = run.attested[&wallet].clone();
    if rng.chance(8) {
        subnet = rng.pick(&SUBNETS).expect("subnets").to_string();
    }
    let signer = match rng.pick(&run.members) {
        Some(m) if rng.chance(8) => m.insecure_clone(),
        _ => run.net.admin.insecure_clone(),
    };
    let (f, s) = (hash32(&fingerprint), hash32(&subnet));
    let member = run.net.member(&wallet);
    let ix = ix::deregister_device(&signer.pubkey(), &run.net.key, &member, (&f, &s));
    if attempt(chain, run, "deregister_device", vec![ix], &[&signer])
        .await
        .is_ok()
    {
        let device = run.attested.remove(&wallet).expect("attested");
        run.deregistered.insert(wallet, device);
    }
}

/// One random step.
async fn step(chain: &mut Chain, run: &mut Run, rng: &mut Rng) {
    let now = chain.now + rng.below(2 * 86_400) as i64;
    chain.warp_to(now).await;
    let member = rng.pick(&run.members).map(Keypair::insecure_clone);
    let other = rng.pick(&run.members).map(|k| k.pubkey());
    let admin = run.net.admin.insecure_clone();
    if run.paused && rng.chance(60) {
        let ix = ix::set_paused(&admin.pubkey(), &run.net.key, false);
        if attempt(chain, run, "set_paused", vec![ix], &[&admin])
            .await
            .is_ok()
        {
            run.paused = false;
        }
        return;
    }
    match (rng.below(22), member) {
        (0..=2, _) | (_, None) => {
            let class = rng.below(u64::from(run.net.state(chain).await.tables.class_count)) as u8;
            join(chain, run, class, other.filter(|_| rng.chance(70))).await;
        }
        (3, Some(m)) => {
            let referrer = run.net.member(&other.unwrap_or(m.pubkey()));
            let mut upline = run.net.link_chain(chain, &referrer).await;
            if rng.chance(20) {
                upline.truncate(1); // a chain that does not match the stored links
            }
            let class = run.net.class_of(&m.pubkey());
            let ix = ix::set_referrer(&m.pubkey(), &run.net.key, class, &upline);
            let _ = attempt(chain, run, "set_referrer", vec![ix], &[&m]).await;
        }
        (4..=12, Some(_)) => report(chain, run, rng).await,
        (13..=15, Some(m)) => {
            if !withdraw(chain, run, rng, &m).await {
                report(chain, run, rng).await;
            }
        }
        (16, _) => {
            let Some(&ledger) = rng.pick(&run.token_ledgers()) else {
                return report(chain, run, rng).await;
            };
            let amount = 1 + rng.below(whole(run, ledger).saturating_mul(5));
            fund(chain, run, ledger, amount).await;
        }
        (17, Some(m)) => {
            let tier = *rng.pick(&CommissionTier::ALL).expect("tiers");
            let signer = if rng.chance(10) {
                m.insecure_clone()
            } else {
                admin.insecure_clone()
            };
            let member = run.net.member(&m.pubkey());
            let ix = ix::set_member_tier(&signer.pubkey(), &run.net.key, &member, tier);
            let _ = attempt(chain, run, "set_member_tier", vec![ix], &[&signer]).await;
        }
        (18, Some(m)) => freeze(chain, run, rng, m).await,
        (19, Some(m)) => {
            let signer = if rng.chance(10) { m } else { admin };
            oracle_admin(chain, run, rng, signer).await;
        }
        (_, Some(m)) => {
            let signer = if rng.chance(10) { m } else { admin };
            admin_step(chain, run, rng, now, signer).await;
        }
    }
}

/// How a report or attestation is approved.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Approval {
    /// At least the quorum of distinct oracles.
    Quorum,
    /// One oracle fewer than the quorum (`QuorumNotMet`).
    Under,
    /// An approver named again as a co-signer (`DuplicateCoSigner`).
    Duplicate,
}

/// The primary and co-signers of one approval: a random order of the
/// oracles, mostly the quorum (sometimes one more), sometimes one fewer or
/// with an approver named twice.
fn approval(run: &Run, rng: &mut Rng) -> (Approval, Vec<Keypair>) {
    let mut order: Vec<Keypair> = run.oracles.iter().map(Keypair::insecure_clone).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let quorum = usize::from(run.quorum);
    let kind = match rng.below(100) {
        0..=3 if quorum > 1 => Approval::Under,
        4..=6 => Approval::Duplicate,
        _ => Approval::Quorum,
    };
    let count = match kind {
        Approval::Under => quorum - 1,
        _ => (quorum + usize::from(rng.chance(20))).min(order.len()),
    };
    let mut approvers: Vec<Keypair> = order.drain(..count).collect();
    if kind == Approval::Duplicate {
        let again = rng.below(count as u64) as usize;
        approvers.push(approvers[again].insecure_clone());
    }
    (kind, approvers)
}

/// `ix`, built with the network's own oracle, approved by `approvers`
/// instead: the first as the primary (and payer, where the oracle pays),
/// the others as co-signers.
fn approved(mut ix: Instruction, run: &Run, approvers: &[Keypair]) -> Instruction {
    let key = run.net.key;
    let (own, primary) = (run.net.oracle.pubkey(), approvers[0].pubkey());
    for meta in ix.accounts.iter_mut() {
        if meta.pubkey == own {
            meta.pubkey = primary;
        } else if meta.pubkey == pda::oracle(&key, &own) {
            meta.pubkey = pda::oracle(&key, &primary);
        }
    }
    let co: Vec<Pubkey> = approvers[1..].iter().map(|k| k.pubkey()).collect();
    ix::with_co_signers(ix, &key, &co)
}

/// Send a report or attestation as operation `op`, approved as [`approval`]
/// draws; a deliberate refusal must be the one expected, and a report
/// refused by a cap is checked against the model.
async fn approved_attempt(
    chain: &mut Chain,
    run: &mut Run,
    rng: &mut Rng,
    op: &'static str,
    ix: Instruction,
) -> Result<(), Refusal> {
    let (kind, approvers) = approval(run, rng);
    let ix = approved(ix, run, &approvers);
    let mut signers: Vec<&Keypair> = Vec::new();
    for k in &approvers {
        if !signers.iter().any(|s| s.pubkey() == k.pubkey()) {
            signers.push(k);
        }
    }
    let report = op.starts_with("report");
    let (op, expected) = match (kind, report) {
        (Approval::Quorum, _) => (op, None),
        (Approval::Under, true) => ("report (under quorum)", Some(UplineError::QuorumNotMet)),
        (Approval::Under, false) => ("attest (under quorum)", Some(UplineError::QuorumNotMet)),
        (Approval::Duplicate, true) => (
            "report (co-signer twice)",
            Some(UplineError::DuplicateCoSigner),
        ),
        (Approval::Duplicate, false) => (
            "attest (co-signer twice)",
            Some(UplineError::DuplicateCoSigner),
        ),
    };
    let paused = run.paused;
    let outcome = attempt(chain, run, op, vec![ix.clone()], &signers).await;
    if let Some(error) = expected {
        let error = if paused {
            UplineError::NetworkPaused
        } else {
            error
        };
        assert_eq!(
            outcome,
            Err(Refusal::from(error)),
            "{}: {op} refused otherwise",
            run.ctx
        );
    }
    if outcome == Err(Refusal::from(UplineError::OracleCapExceeded)) {
        let keys: Vec<Pubkey> = approvers.iter().map(|k| k.pubkey()).collect();
        check_cap_refusal(chain, run, &ix, &signers, &keys).await;
    }
    outcome
}

/// A report refused with `OracleCapExceeded`: simulate it again with the
/// approvers' caps lifted (their registrations rewritten on the bank, then
/// restored), and require that what it would credit passes one of the
/// model's caps at this time.
async fn check_cap_refusal(
    chain: &mut Chain,
    run: &mut Run,
    ix: &Instruction,
    signers: &[&Keypair],
    approvers: &[Pubkey],
) {
    let ctx = run.ctx.clone();
    let mut saved = Vec::new();
    for key in approvers {
        let address = pda::oracle(&run.net.key, key);
        let account = chain
            .ctx
            .banks_client
            .get_account(address)
            .await
            .expect("bank")
            .expect("a registration");
        let mut oracle = Oracle::try_deserialize(&mut account.data.as_slice()).expect("oracle");
        for cap in oracle.caps.iter_mut() {
            cap.limit = Wad::ZERO;
        }
        let mut lifted = account.clone();
        lifted.data.clear();
        oracle.try_serialize(&mut lifted.data).expect("serialize");
        assert_eq!(lifted.data.len(), account.data.len());
        chain
            .ctx
            .set_account(&address, &AccountSharedData::from(lifted));
        saved.push((address, account));
    }
    // A new blockhash: the same message was just processed.
    let now = chain.now;
    chain.warp_to(now).await;
    let payer = chain.payer();
    let mut all = vec![&payer];
    all.extend(signers);
    let mut tx = Transaction::new_with_payer(std::slice::from_ref(ix), Some(&payer.pubkey()));
    tx.try_sign(&all, chain.ctx.last_blockhash).expect("sign");
    let tx = VersionedTransaction::from(tx);
    let simulated = chain.simulate(&tx).await.expect("simulate");
    for (address, account) in saved {
        chain
            .ctx
            .set_account(&address, &AccountSharedData::from(account));
    }
    assert_eq!(
        simulated.err, None,
        "{ctx}: uncapped, the report goes through"
    );
    let recorded = Recorded {
        signature: String::new(),
        slot: chain.slot,
        block_time: now,
        transaction: tx,
        err: None,
        logs: simulated.logs,
        inner_instructions: simulated.inner_instructions,
        units_consumed: simulated.units_consumed,
    };
    let (approved, credits) = report_credits(&recorded.events()).expect("a report");
    assert_eq!(
        approved, approvers,
        "{ctx}: the simulated report's approvers"
    );
    assert!(
        run.exceeds(approvers, &credits, now),
        "{ctx}: refused by a cap, but {credits:?} fits every approver's cap in the model"
    );
    run.coverage
        .note("reports refused by a cap (checked against the model)");
}

/// `set_oracle_quorum` to `quorum`, signed by `signer`.
async fn set_quorum(chain: &mut Chain, run: &mut Run, signer: &Keypair, quorum: u8) {
    let ix = ix::set_oracle_quorum(&signer.pubkey(), &run.net.key, quorum);
    if attempt(chain, run, "set_oracle_quorum", vec![ix], &[signer])
        .await
        .is_ok()
    {
        run.quorum = quorum;
    }
}

/// The quorum (sometimes 0 or above the oracles: `QuorumUnreachable`), or
/// a credit cap on one oracle and ledger: a limit of 0 to 20 whole units
/// (0 removes it) per hour, day or week (sometimes an unknown ledger, or no
/// window: `UnknownLedger`, `InvalidCap`).
async fn oracle_admin(chain: &mut Chain, run: &mut Run, rng: &mut Rng, signer: Keypair) {
    let oracles = run.oracles.len() as u64;
    if rng.chance(35) {
        let quorum = match rng.below(10) {
            0 => 0,
            1 => oracles + 1,
            _ => 1 + rng.below(oracles),
        };
        return set_quorum(chain, run, &signer, quorum as u8).await;
    }
    let oracle = rng.pick(&run.oracles).expect("oracles").pubkey();
    let ledgers = run.net.ledgers.len() as u64;
    let ledger = if rng.chance(5) {
        ledgers
    } else {
        rng.below(ledgers)
    } as u8;
    let whole: u64 = *rng.pick(&[0, 0, 1, 1, 2, 5, 20]).expect("limits");
    let limit = Wad(u128::from(whole) * Wad::ONE.0);
    let window_seconds = if rng.chance(5) {
        0
    } else {
        *rng.pick(&[3_600, 86_400, 7 * 86_400, 7 * 86_400])
            .expect("windows")
    };
    let args = OracleCapArgs {
        ledger,
        limit,
        window_seconds,
    };
    let ix = ix::set_oracle_cap(&signer.pubkey(), &run.net.key, &oracle, args);
    if attempt(chain, run, "set_oracle_cap", vec![ix], &[&signer])
        .await
        .is_ok()
    {
        let cap = &mut run.caps.entry(oracle).or_default()[usize::from(ledger)];
        cap.limit = limit;
        cap.window_seconds = if limit == Wad::ZERO {
            0
        } else {
            window_seconds
        };
    }
}

/// Freeze or unfreeze a membership (mostly flipping it; at most two frozen
/// at a time), signed by the admin or sometimes by the member (`NotAdmin`).
async fn freeze(chain: &mut Chain, run: &mut Run, rng: &mut Rng, m: Keypair) {
    let frozen: Vec<Pubkey> = run.frozen.keys().copied().collect();
    let member = match rng.pick(&frozen) {
        Some(f) if rng.chance(50) => *f,
        _ => run.net.member(&m.pubkey()),
    };
    let flip = rng.chance(85);
    let frozen = match (run.is_frozen(&member), flip) {
        (true, flip) => !flip,
        (false, flip) => flip && run.frozen.len() < 2,
    };
    let signer = if rng.chance(10) {
        m
    } else {
        run.net.admin.insecure_clone()
    };
    let ix = ix::set_member_frozen(&signer.pubkey(), &run.net.key, &member, frozen);
    if attempt(chain, run, "set_member_frozen", vec![ix], &[&signer])
        .await
        .is_ok()
    {
        if frozen {
            let state: Member = chain.account(&member).await;
            run.frozen.insert(member, state.ledgers);
        } else {
            run.frozen.remove(&member);
        }
    }
}

/// An admin instruction, signed by `signer` (sometimes not the admin).
async fn admin_step(chain: &mut Chain, run: &mut Run, rng: &mut Rng, now: i64, signer: Keypair) {
    let key = run.net.key;
    let (op, ix) = match rng.below(5) {
        0 => (
            "open_promotion",
            ix::open_promotion(
                &signer.pubkey(),
                &key,
                Ppm(500_000),
                now - 60,
                now + rng.below(3 * 86_400) as i64,
            ),
        ),
        1 => {
            let paused = rng.chance(25);
            let ix = ix::set_paused(&signer.pubkey(), &key, paused);
            if attempt(chain, run, "set_paused", vec![ix], &[&signer])
                .await
                .is_ok()
            {
                run.paused = paused;
            }
            return;
        }
        2 => {
            let Some(&ledger) = rng.pick(&run.token_ledgers()) else {
                return;
            };
            let one = whole(run, ledger);
            let min = *rng.pick(&[0, 1, one / 100, one]).expect("minimums");
            let breaker = rng.chance(40).then(|| CircuitBreakerConfig {
                window_seconds: *rng.pick(&[3_600, 86_400, 7 * 86_400]).expect("windows"),
                max_outflow: one * (1 + rng.below(10)),
            });
            return update_ledger(chain, run, &signer, ledger, min, breaker).await;
        }
        // New rates from now on: the audit must use the tables in force.
        3 => {
            let mut tables = run.net.state(chain).await.tables;
            for class in tables
                .classes
                .iter_mut()
                .take(usize::from(tables.class_count))
            {
                let depth = usize::from(class.referral_depth);
                for rate in class.commission_rates.iter_mut().take(depth) {
                    *rate = Ppm(rng.below(300_000));
                }
            }
            (
                "update_tables",
                ix::update_tables(&signer.pubkey(), &key, tables),
            )
        }
        _ => {
            let tables_key = upline_sdk::pda::reward_tables(&key);
            let mut data = chain.account::<RewardTables>(&tables_key).await.data;
            data.compute.fast_multiplier = Ppm(1_000_000 + rng.below(500_000));
            data.usage.endpoints[0].per_token.0 = u128::from(rng.below(10u64.pow(16)));
            data.bandwidth.base_rate = Ppm(rng.below(data.bandwidth.rate_cap.0 + 1));
            (
                "set_reward_tables",
                ix::set_reward_tables(&signer.pubkey(), &key, data),
            )
        }
    };
    let _ = attempt(chain, run, op, vec![ix], &[&signer]).await;
}

/// A withdrawal by `m`, or by a member that can be paid. Mostly an amount
/// the member holds and the vault covers; sometimes anything. Returns false
/// (nothing sent) when nobody could be paid and the step should do
/// something else.
async fn withdraw(chain: &mut Chain, run: &mut Run, rng: &mut Rng, m: &Keypair) -> bool {
    let ledgers = run.token_ledgers();
    if ledgers.is_empty() {
        return false;
    }
    // Who could be paid, and how much at most.
    let mut payable: Vec<(Pubkey, u8, u64, u64)> = Vec::new();
    for &index in &ledgers {
        let ledger: Ledger = chain
            .account(&run.net.ledgers[usize::from(index)].address)
            .await;
        let vault = chain.token_balance(&ledger.vault).await;
        let accounted = u64::try_from(ledger.funded - ledger.withdrawn).unwrap_or(u64::MAX);
        let available = vault.min(accounted);
        let scale = 10u128.pow(18 - u32::from(ledger.decimals));
        for member in &run.members {
            // A frozen member is refused (`MemberFrozen`): not payable.
            if run.is_frozen(&run.net.member(&member.pubkey())) {
                continue;
            }
            let state: Member = chain.account(&run.net.member(&member.pubkey())).await;
            let Some(slot) = state.ledgers.get(usize::from(index)) else {
                continue;
            };
            let held =
                u64::try_from(slot.balance().expect("balance").0 / scale).unwrap_or(u64::MAX);
            let low = ledger.min_withdrawal.max(1);
            let high = held.min(available);
            if high >= low {
                payable.push((member.pubkey(), index, low, high));
            }
        }
    }
    let mut wrong_destination = false;
    let (wallet, index, amount) = match rng.pick(&payable).copied() {
        Some((wallet, index, low, high)) if rng.chance(82) => {
            let amount = if rng.chance(25) {
                None
            } else {
                Some(low + rng.below(high - low + 1))
            };
            (wallet, index, amount)
        }
        None if rng.chance(80) => return false,
        // Deliberate failures: a points ledger, someone else's token
        // account, or any amount (beyond the balance, below the minimum, 0).
        _ => {
            let points = (0..run.net.ledgers.len() as u8).find(|i| !ledgers.contains(i));
            match (rng.below(10), points) {
                (0..=1, Some(points)) => {
                    let class = run.net.class_of(&m.pubkey());
                    let ix = ix::withdraw(&m.pubkey(), &run.net.key, class, points, None, None);
                    let _ = attempt(chain, run, "withdraw", vec![ix], &[m]).await;
                    return true;
                }
                (2..=3, _) => wrong_destination = true,
                // A wallet that never joined (`UnknownMember`).
                (4, _) => {
                    let stranger = Keypair::new();
                    let index = *rng.pick(&ledgers).expect("a token ledger");
                    let ix = ix::withdraw(&stranger.pubkey(), &run.net.key, 0, index, None, None);
                    let _ = attempt(chain, run, "withdraw", vec![ix], &[&stranger]).await;
                    return true;
                }
                _ => {}
            }
            let index = *rng.pick(&ledgers).expect("a token ledger");
            let amount = rng.chance(70).then(|| rng.below(whole(run, index) * 10));
            (m.pubkey(), index, amount)
        }
    };
    let signer = keypair(run, &wallet);
    // Someone else's token account of the same mint, for a wrong destination.
    let owner = match rng.pick(&run.members) {
        Some(other) if wrong_destination && other.pubkey() != wallet => other.pubkey(),
        _ => wallet,
    };
    let key = (owner, index);
    let mint = run.net.ledgers[usize::from(index)].mint();
    let decimals = mint.decimals;
    let destination = match run.destinations.get(&key) {
        Some(d) => *d,
        None => {
            let d = chain.token_account(mint, &owner).await;
            run.destinations.insert(key, d);
            d
        }
    };
    let mint = run.net.ledgers[usize::from(index)].mint();
    let to = TokenDestination {
        mint: mint.address,
        destination,
        token_program: mint.token_program,
    };
    let class = run.net.class_of(&wallet);
    let ix = ix::withdraw(&wallet, &run.net.key, class, index, Some(&to), amount);
    let paid = attempt(chain, run, "withdraw", vec![ix], &[&signer])
        .await
        .is_ok();
    let counts = run
        .coverage
        .withdrawals_by_decimals
        .entry(decimals)
        .or_default();
    counts.0 += 1;
    counts.1 += u64::from(paid);
    true
}

/// A work report of a kind this preset pays, about a member that can earn,
/// with a fresh id mostly; sometimes an attestation first.
async fn report(chain: &mut Chain, run: &mut Run, rng: &mut Rng) {
    let oracle = run.net.oracle.insecure_clone();
    match run.preset.name.as_str() {
        "cxmpute" if rng.chance(50) => {
            let attested: Vec<Pubkey> = run.tiers.keys().copied().collect();
            if attested.is_empty() || rng.chance(8) {
                let providers = of_class(chain, run, 1).await;
                let wallet = match rng.pick(&providers) {
                    Some(w) => *w,
                    None => match join(chain, run, 1, None).await {
                        Some(w) => w,
                        None => return,
                    },
                };
                return attest_provider(chain, run, rng, wallet).await;
            }
            let mut wallet = *rng.pick(&attested).expect("attested");
            if rng.chance(5) {
                wallet = rng.pick(&run.members).expect("members").pubkey();
            }
            let tier = run.tiers.get(&wallet).copied().unwrap_or(4);
            let models = run.preset.models().expect("models");
            let fitting: Vec<_> = models.iter().filter(|m| m.min_tier <= tier).collect();
            let model = match rng.pick(&fitting) {
                Some(m) if rng.chance(95) => **m,
                _ => *rng.pick(&models).expect("models"),
            };
            let service = *rng
                .pick(&[
                    Service::Chat,
                    Service::Tts,
                    Service::Embeddings,
                    Service::Scrape,
                ])
                .expect("services");
            let id = report_id(run, rng, &wallet);
            let work_time = work_time(chain, run, rng, &wallet).await;
            let args = compute(id, service, rng.below(5_000), rng.below(15_000) as u32)
                .worked_at(work_time);
            let member = run.net.member(&wallet);
            let upline = run.net.upline(chain, &wallet, 3).await;
            let ix = ix::report_compute(
                &oracle.pubkey(),
                &run.net.key,
                &member,
                &model.name,
                &upline,
                args,
            );
            let outcome = approved_attempt(chain, run, rng, "report_compute", ix).await;
            used(run, wallet, id, &outcome);
        }
        "cxmpute" => {
            let users = of_class(chain, run, 0).await;
            let wallet = match rng.pick(&users) {
                Some(w) if rng.chance(95) => *w,
                _ => rng.pick(&run.members).expect("members").pubkey(),
            };
            let endpoint = *rng
                .pick(&[
                    Endpoint::Chat,
                    Endpoint::Embeddings,
                    Endpoint::Scrape,
                    Endpoint::Tts,
                ])
                .expect("endpoints");
            let id = report_id(run, rng, &wallet);
            let work_time = work_time(chain, run, rng, &wallet).await;
            let args = usage(id, endpoint, rng.below(5_000)).worked_at(work_time);
            let ix = run.net.usage_ix(chain, &wallet, args).await;
            let outcome = approved_attempt(chain, run, rng, "report_usage", ix).await;
            used(run, wallet, id, &outcome);
        }
        "clore" => {
            let renter = rng.pick(&run.members).expect("members").pubkey();
            let host = rng.pick(&run.members).expect("members").pubkey();
            let ledger = rng.below(2) as u8;
            let one = whole(run, ledger);
            let id = report_id(run, rng, &renter);
            let args = RentalReportArgs {
                id,
                work_time: work_time(chain, run, rng, &renter).await,
                ledger,
                renter_base_fee: rng.below(one.saturating_mul(20)),
                renter_extra_fee: rng.below(one.saturating_mul(2)),
                host_base_fee: rng.below(one.saturating_mul(20)),
                host_extra_fee: rng.below(one.saturating_mul(2)),
            };
            let ix = run.net.rental_ix(chain, &renter, &host, args).await;
            let outcome = approved_attempt(chain, run, rng, "report_rental", ix).await;
            used(run, renter, id, &outcome);
        }
        _ => {
            if rng.chance(6) {
                return deregister(chain, run, rng).await;
            }
            let attested: Vec<Pubkey> = run.attested.keys().copied().collect();
            if attested.is_empty() || rng.chance(10) {
                let nodes = of_class(chain, run, 1).await;
                let fresh: Vec<Pubkey> = nodes
                    .iter()
                    .filter(|n| !run.attested.contains_key(n))
                    .copied()
                    .collect();
                let wallet = match rng.pick(&fresh) {
                    Some(w) if rng.chance(90) => *w,
                    _ => match rng.pick(&nodes) {
                        Some(w) if rng.chance(50) => *w,
                        _ => match join(chain, run, 1, None).await {
                            Some(w) => w,
                            None => return,
                        },
                    },
                };
                return attest_node(chain, run, rng, wallet).await;
            }
            let mut wallet = *rng.pick(&attested).expect("attested");
            if rng.chance(5) {
                wallet = rng.pick(&run.members).expect("members").pubkey();
            }
            let quality = if rng.chance(3) {
                1_000_001
            } else {
                rng.below(1_000_001)
            };
            let spread = if rng.chance(3) { 700_001 } else { 500_001 };
            let demand = 1_000_000 + rng.below(spread);
            let id = report_id(run, rng, &wallet);
            let work_time = work_time(chain, run, rng, &wallet).await;
            let mut args = bandwidth(
                id,
                rng.below(5 * 10u64.pow(9)),
                quality,
                rng.below(1_000_001),
                demand,
            );
            args.suppressed = rng.chance(10);
            let args = args.worked_at(work_time);
            let device = run.attested.get(&wallet).cloned();
            let device = device.as_ref().map(|(f, s)| (f.as_str(), s.as_str()));
            let ix = run.net.bandwidth_ix(chain, &wallet, device, args).await;
            let outcome = approved_attempt(chain, run, rng, "report_bandwidth", ix).await;
            used(run, wallet, id, &outcome);
        }
    }
}

#[tokio::test]
async fn random_sequences_keep_every_invariant() {
    let seed = env_number("UPLINE_FUZZ_SEED", 0x5EED_u64);
    let sequences = env_number("UPLINE_FUZZ_SEQUENCES", 270);
    let steps = env_number("UPLINE_FUZZ_STEPS", 24);
    let mut rng = Rng(seed);
    let mut chain = Chain::start().await;
    let (mut done, mut reports) = (0u64, 0usize);
    let mut outcomes = [0u64; 2];
    let mut coverage = Coverage::default();
    let started = std::time::Instant::now();
    for sequence in 0..sequences {
        let start = chain.journal.len();
        let mut run = setup(&mut chain, &mut rng, sequence).await;
        let preset_name = run.preset.name.clone();
        let decimals: Vec<u8> = run
            .net
            .ledgers
            .iter()
            .filter_map(|l| l.mint.as_ref().map(|m| m.decimals))
            .collect();
        let label = format!("{preset_name}, decimals {decimals:?}");
        run.ctx = format!("seed {seed:#x}, sequence {sequence} ({label}), set-up");
        run.check(&mut chain).await;
        for n in 0..steps {
            run.ctx = format!("seed {seed:#x}, sequence {sequence} ({label}), step {n}");
            step(&mut chain, &mut run, &mut rng).await;
            run.check(&mut chain).await;
            done += 1;
        }
        let ctx = format!("seed {seed:#x}, sequence {sequence} ({label})");
        reports += audit_sequence(&mut chain, start, &ctx).await;
        outcomes[0] += run.outcomes[0];
        outcomes[1] += run.outcomes[1];
        coverage.merge(&run.coverage);
    }
    eprintln!(
        "fuzz: seed {seed:#x}, {sequences} sequences, {done} steps ({} transactions succeeded, {} refused), {reports} reports audited, {:.1} s; coverage per operation:\n{coverage}",
        outcomes[0],
        outcomes[1],
        started.elapsed().as_secs_f64()
    );
    // The goals: money moves. Checked on runs long enough to cover every
    // preset with every decimals variant (9 sequences) several times.
    if sequences < 27 {
        eprintln!("fuzz: fewer than 27 sequences, coverage goals not checked");
        return;
    }
    let (tried, succeeded) = coverage.totals(&REPORTS);
    assert!(
        2 * succeeded >= tried,
        "only {succeeded} of {tried} reports succeeded (goal: half)"
    );
    let (tried, paid) = coverage.totals(&["withdraw"]);
    assert!(
        3 * paid >= tried,
        "only {paid} of {tried} withdrawals paid out (goal: a third)"
    );
    let (_, breakers) = coverage.totals(&["update_ledger (breaker on)"]);
    assert!(breakers > 0, "no circuit breaker was switched on");
    let (_, paid_18) = coverage
        .withdrawals_by_decimals
        .get(&18)
        .copied()
        .unwrap_or_default();
    assert!(paid_18 > 0, "no withdrawal on an 18-decimal mint paid out");
    // Issue 13: approvals, caps, freezes and devices were exercised.
    for what in [
        "co-signed reports",
        "commissions withheld",
        "reports refused by a cap (checked against the model)",
        "nodes attested again after deregistration",
        "nodes attested again on the same device",
    ] {
        let n = coverage.notes.get(what).copied().unwrap_or_default();
        assert!(n > 0, "no {what}");
    }
    for op in [
        "report (under quorum)",
        "report (co-signer twice)",
        "set_oracle_quorum",
        "set_oracle_cap",
        "set_member_frozen",
        "deregister_device",
    ] {
        let (tried, _) = coverage.totals(&[op]);
        assert!(tried > 0, "{op} was never tried");
    }
}
