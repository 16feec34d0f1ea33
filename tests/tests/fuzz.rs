//! A stateful randomized test in the manner of marginfi's fuzz: random
//! sequences of joins, links, reports of every kind, withdrawals, fundings,
//! admin changes and deliberate failures, each on a fresh network of a
//! rotating preset, with the invariants checked after every step:
//!
//! - credits in events = what members hold + what they withdrew, per ledger;
//! - the vault holds funded - withdrawn, and the ledger agrees with the funding;
//! - downline counts = a recount of the stored links;
//! - nobody earns a commission from itself; no report id counts twice;
//! - a failed transaction changes nothing;
//!
//! and, after each sequence, the explorer's independent audit of everything it
//! did. Seeded and reproducible: `UPLINE_FUZZ_SEED`, `UPLINE_FUZZ_SEQUENCES`
//! and `UPLINE_FUZZ_STEPS` override the defaults; every failure names the seed,
//! the sequence and the step.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::{HashMap, HashSet};
use upline::instructions::{AttestNodeArgs, RentalReportArgs};
use upline::math::Ppm;
use upline::state::{CommissionTier, Endpoint, RewardTables, Service};
use upline_sdk::ix::{self, TokenDestination};
use upline_sdk::preset::Preset;
use upline_tests::invariants::{attempt, audit_sequence, Run};
use upline_tests::reports::{bandwidth, compute, hash32, usage};
use upline_tests::rng::{env_number, Rng};
use upline_tests::{Chain, TestNetwork};

const PRESETS: [&str; 3] = ["cxmpute", "clore", "aether"];

/// One random step.
async fn step(chain: &mut Chain, run: &mut Run, rng: &mut Rng) -> &'static str {
    let now = chain.now + rng.below(2 * 86_400) as i64;
    chain.warp_to(now).await;
    let member = rng.pick(&run.members).map(Keypair::insecure_clone);
    let other = rng.pick(&run.members).map(|k| k.pubkey());
    let oracle = run.net.oracle.insecure_clone();
    let admin = run.net.admin.insecure_clone();
    match (rng.below(12), member) {
        (0..=2, _) | (_, None) => {
            let wallet = chain.wallet().await;
            let class = rng.below(u64::from(run.net.state(chain).await.tables.class_count)) as u8;
            let upline = match other.filter(|_| rng.chance(70)) {
                Some(referrer) => {
                    let mut chain_above = vec![referrer];
                    chain_above.extend(run.net.upline(chain, &referrer, 2).await);
                    chain_above
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
            if attempt(chain, run, vec![ix], &[&wallet]).await {
                run.members.push(wallet);
            }
            "join"
        }
        (3, Some(m)) => {
            let referrer = other.unwrap_or_default();
            let mut upline = vec![referrer];
            upline.extend(run.net.upline(chain, &referrer, 2).await);
            if rng.chance(20) {
                upline.truncate(1); // a chain that does not match the stored links
            }
            let ix = ix::set_referrer(&m.pubkey(), &run.net.key, &upline);
            attempt(chain, run, vec![ix], &[&m]).await;
            "set_referrer"
        }
        (4..=7, Some(m)) => report(chain, run, rng, m, other.unwrap_or_default(), oracle).await,
        (8, Some(m)) => {
            let Some(&ledger) = rng.pick(&run.token_ledgers()) else {
                return "withdraw (no token ledger)";
            };
            let key = (m.pubkey(), ledger);
            let mint = run.net.ledgers[usize::from(ledger)].mint();
            let destination = match run.destinations.get(&key) {
                Some(d) => *d,
                None => {
                    let d = chain.token_account(mint, &m.pubkey()).await;
                    run.destinations.insert(key, d);
                    d
                }
            };
            let to = TokenDestination {
                mint: mint.address,
                destination,
                token_program: mint.token_program,
            };
            let amount = rng
                .chance(50)
                .then(|| rng.below(10u64.pow(u32::from(mint.decimals))));
            let ix = ix::withdraw(&m.pubkey(), &run.net.key, ledger, Some(&to), amount);
            attempt(chain, run, vec![ix], &[&m]).await;
            "withdraw"
        }
        (9, _) => {
            let Some(&ledger) = rng.pick(&run.token_ledgers()) else {
                return "fund (no token ledger)";
            };
            let amount = 1 + rng.below(
                10u64.pow(u32::from(
                    run.net.ledgers[usize::from(ledger)].mint().decimals,
                )) * 50,
            );
            let funder = chain.wallet().await;
            if run.net.0.fund(chain, &funder, ledger, amount).await.is_ok() {
                run.funded[usize::from(ledger)] += amount;
            }
            "fund"
        }
        (10, Some(m)) => {
            let tier = *rng
                .pick(&[
                    CommissionTier::Standard,
                    CommissionTier::Premium,
                    CommissionTier::Vip,
                ])
                .expect("tiers");
            let signer = if rng.chance(10) {
                m.insecure_clone()
            } else {
                admin.insecure_clone()
            };
            let ix = ix::set_member_tier(&signer.pubkey(), &run.net.key, &m.pubkey(), tier);
            attempt(chain, run, vec![ix], &[&signer]).await;
            "set_member_tier"
        }
        (_, Some(m)) => {
            let ix = match rng.below(5) {
                0 => ix::open_promotion(
                    &admin.pubkey(),
                    &run.net.key,
                    Ppm(500_000),
                    now - 60,
                    now + rng.below(3 * 86_400) as i64,
                ),
                1 => ix::set_paused(&admin.pubkey(), &run.net.key, rng.chance(30)),
                2 => ix::update_ledger(
                    &admin.pubkey(),
                    &run.net.key,
                    0,
                    rng.below(3) * 10u64.pow(6),
                    None,
                ),
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
                    ix::update_tables(&admin.pubkey(), &run.net.key, tables)
                }
                _ => {
                    let key = upline_sdk::pda::reward_tables(&run.net.key);
                    let mut data = chain.account::<RewardTables>(&key).await.data;
                    data.compute.fast_multiplier = Ppm(1_000_000 + rng.below(500_000));
                    data.usage.endpoints[0].per_token.0 = u128::from(rng.below(10u64.pow(16)));
                    data.bandwidth.base_rate = Ppm(rng.below(data.bandwidth.rate_cap.0 + 1));
                    ix::set_reward_tables(&admin.pubkey(), &run.net.key, data)
                }
            };
            let signer = if rng.chance(10) { m } else { admin };
            attempt(chain, run, vec![ix], &[&signer]).await;
            "admin"
        }
    }
}

/// A work report of a kind this preset pays, about `m`, often with a fresh
/// id, sometimes a replayed or stale one.
async fn report(
    chain: &mut Chain,
    run: &mut Run,
    rng: &mut Rng,
    m: Keypair,
    other: Pubkey,
    oracle: Keypair,
) -> &'static str {
    let wallet = m.pubkey();
    let next = run.next_id.get(&wallet).copied().unwrap_or(1);
    let id = if rng.chance(85) {
        next
    } else {
        rng.below(next + 1)
    };
    let (kind, ix) = match run.preset.name.as_str() {
        "cxmpute" if rng.chance(50) => {
            if rng.chance(30) {
                let vram = 1024 * (2 + rng.below(30)) as u32;
                let ix = ix::attest_provider(&oracle.pubkey(), &run.net.key, &wallet, vram);
                attempt(chain, run, vec![ix], &[&oracle]).await;
                return "attest_provider";
            }
            let models = [
                "llama3-70b",
                "mixtral-8x7b",
                "llama3-13b",
                "llama3-8b",
                "mistral-7b",
                "phi-3-mini",
                "gemma-2b",
            ];
            let model = rng.pick(&models).expect("models");
            let service = *rng
                .pick(&[
                    Service::Chat,
                    Service::Tts,
                    Service::Embeddings,
                    Service::Scrape,
                ])
                .expect("services");
            let args = compute(id, service, rng.below(5_000), rng.below(15_000) as u32);
            (
                "compute",
                run.net.compute_ix(chain, &wallet, model, args).await,
            )
        }
        "cxmpute" => {
            let endpoint = *rng
                .pick(&[
                    Endpoint::Chat,
                    Endpoint::Embeddings,
                    Endpoint::Scrape,
                    Endpoint::Tts,
                ])
                .expect("endpoints");
            (
                "usage",
                run.net
                    .usage_ix(chain, &wallet, usage(id, endpoint, rng.below(5_000)))
                    .await,
            )
        }
        "clore" => {
            let args = RentalReportArgs {
                id,
                ledger: rng.below(2) as u8,
                renter_base_fee: rng.below(10u64.pow(9)),
                renter_extra_fee: rng.below(10u64.pow(8)),
                host_base_fee: rng.below(10u64.pow(9)),
                host_extra_fee: rng.below(10u64.pow(8)),
            };
            (
                "rental",
                run.net.rental_ix(chain, &wallet, &other, args).await,
            )
        }
        _ => {
            let device = (
                format!("dev-{}", rng.below(8)),
                format!("subnet-{}", rng.below(3)),
            );
            if rng.chance(30) {
                let args = AttestNodeArgs {
                    fingerprint: hash32(&device.0),
                    subnet: hash32(&device.1),
                };
                let ix = ix::attest_node(
                    &oracle.pubkey(),
                    &oracle.pubkey(),
                    &run.net.key,
                    &wallet,
                    args,
                );
                if attempt(chain, run, vec![ix], &[&oracle]).await {
                    run.attested.insert(wallet, device);
                }
                return "attest_node";
            }
            let quality = if rng.chance(5) {
                1_000_001
            } else {
                rng.below(1_000_001)
            };
            let spread = if rng.chance(5) { 700_001 } else { 500_001 };
            let demand = 1_000_000 + rng.below(spread);
            let mut args = bandwidth(
                id,
                rng.below(5 * 10u64.pow(9)),
                quality,
                rng.below(1_000_001),
                demand,
            );
            args.suppressed = rng.chance(10);
            let attested = run.attested.get(&wallet).cloned();
            let device = attested.as_ref().map(|(f, s)| (f.as_str(), s.as_str()));
            (
                "bandwidth",
                run.net.bandwidth_ix(chain, &wallet, device, args).await,
            )
        }
    };
    if attempt(chain, run, vec![ix], &[&oracle]).await {
        run.next_id.insert(wallet, id + 1);
    }
    kind
}

#[tokio::test]
async fn random_sequences_keep_every_invariant() {
    let seed = env_number("UPLINE_FUZZ_SEED", 0x5EED_u64);
    let sequences = env_number("UPLINE_FUZZ_SEQUENCES", 1_000);
    let steps = env_number("UPLINE_FUZZ_STEPS", 12);
    let mut rng = Rng(seed);
    let mut chain = Chain::start().await;
    let (mut done, mut kinds, mut reports) = (0u64, HashMap::<&str, u64>::new(), 0usize);
    let mut outcomes = [0u64; 2];
    let started = std::time::Instant::now();
    for sequence in 0..sequences {
        let preset_name = PRESETS[(sequence % 3) as usize];
        let start = chain.journal.len();
        let net = TestNetwork::from_preset(&mut chain, preset_name).await;
        let ledgers = net.ledgers.len();
        let mut run = Run {
            ctx: String::new(),
            preset: Preset::builtin(preset_name).expect("preset"),
            net,
            members: Vec::new(),
            credited: vec![0; ledgers],
            withdrawn: vec![0; ledgers],
            funded: vec![0; ledgers],
            reports: HashSet::new(),
            next_id: HashMap::new(),
            destinations: HashMap::new(),
            attested: HashMap::new(),
            outcomes: [0, 0],
        };
        for n in 0..steps {
            run.ctx = format!("seed {seed:#x}, sequence {sequence} ({preset_name}), step {n}");
            let kind = step(&mut chain, &mut run, &mut rng).await;
            *kinds.entry(kind).or_default() += 1;
            run.check(&mut chain).await;
            done += 1;
        }
        let ctx = format!("seed {seed:#x}, sequence {sequence} ({preset_name})");
        reports += audit_sequence(&mut chain, start, &ctx).await;
        outcomes[0] += run.outcomes[0];
        outcomes[1] += run.outcomes[1];
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort();
    eprintln!(
        "fuzz: seed {seed:#x}, {sequences} sequences, {done} steps ({} transactions succeeded, {} refused and changed nothing), {reports} reports audited, {:.1} s; steps by kind: {kinds:?}",
        outcomes[0],
        outcomes[1],
        started.elapsed().as_secs_f64()
    );
}
