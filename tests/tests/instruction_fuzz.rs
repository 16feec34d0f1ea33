//! Fuzz targets on instructions.
//!
//! `structured_inputs_reach_the_handlers` is structure-aware: on a real chain
//! state (a cxmpute, a clore and an aether network with members, links,
//! attested providers and nodes, funded vaults, oracles and models), each
//! input is one of the 32 instructions with its real discriminator, its real
//! argument types borsh-serialised (`upline::instruction::*`, through the
//! SDK's builders) with field values biased to edges (0, 1, the maximum,
//! values at and around the program's limits), and real accounts of the
//! right types in the right places, mostly signed by the right key. About a
//! third of the inputs are then mutated: bytes of the arguments flipped, the
//! arguments cut short or extended, one account swapped for one of another
//! type, or a signer's signature dropped. Reports and attestations are
//! sometimes co-signed by the network's other registered oracles (the quorum
//! of 2 or more that `set_oracle_quorum` may set needs them). Each input is
//! sent through the bank.
//! The run reports how many inputs reached the program's own checks (they
//! succeeded, or failed with one of Upline's errors, codes 6000 and up:
//! Anchor's dispatcher and account checks let them through) with a histogram
//! of those errors by name, and fails if fewer than half did, or if the
//! program panicked on any input (the bank reports a panic in the native
//! program as `ProgramFailedToComplete`). Seeded
//! (`UPLINE_FUZZ_SEED`) with `UPLINE_FUZZ_INPUTS` inputs (default 6,000).
//!
//! `no_instruction_data_makes_the_program_panic` is the dispatcher-level
//! fuzz: random bytes, and every instruction's discriminator followed by
//! random bytes, against random accounts, straight into the entrypoint. It
//! mostly exercises Anchor's refusals (codes 100 to 3012); every input must
//! come back as an error or a success, never a panic
//! (`UPLINE_FUZZ_NOISE_INPUTS`, default 20,000).
#![allow(deprecated)]

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::Discriminator;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::{BTreeMap, HashMap};
use upline::instruction as ix_data;
use upline::instructions::{
    AttestNodeArgs, BandwidthReportArgs, ComputeReportArgs, ModelArgs, OracleCapArgs,
    RentalReportArgs, UsageReportArgs,
};
use upline::math::{Ppm, Wad};
use upline::state::{
    CircuitBreakerConfig, CommissionTier, Endpoint, Network, NetworkTables, RewardTables, Service,
};
use upline_sdk::ix::{self, RentalParties, TokenDestination, TokenLedgerSpec};
use upline_sdk::pda;
use upline_tests::attack::Kind;
use upline_tests::refusal::{Histogram, Refusal};
use upline_tests::reports::hash32;
use upline_tests::rng::{env_number, Rng};
use upline_tests::tokens::{TestMint, TOKEN};
use upline_tests::{Chain, TestNetwork};

// ---------------------------------------------------------------------------
// Structure-aware fuzz
// ---------------------------------------------------------------------------

/// The instructions, by name, in the order `build` numbers them.
const INSTRUCTIONS: [&str; 32] = [
    "create_network",
    "update_tables",
    "add_token_ledger",
    "add_points_ledger",
    "update_ledger",
    "fund_vault",
    "join",
    "set_referrer",
    "open_member_ledgers",
    "set_member_tier",
    "open_promotion",
    "close_promotion",
    "set_paused",
    "propose_admin",
    "accept_admin",
    "withdraw",
    "add_oracle",
    "remove_oracle",
    "set_reward_tables",
    "register_model",
    "update_model",
    "attest_provider",
    "attest_node",
    "report_compute",
    "report_usage",
    "report_rental",
    "report_bandwidth",
    "set_oracle_quorum",
    "set_oracle_cap",
    "set_member_frozen",
    "deregister_device",
    "report_batch",
];

/// One network of the world and what the fuzz knows about it.
struct Net {
    net: TestNetwork,
    /// Memberships (a wallet and its class), in the order they joined; a
    /// wallet may hold one per class.
    members: Vec<(Keypair, u8)>,
    /// Per token ledger: a funder's token account holding plenty, and the funder.
    sources: HashMap<u8, (Pubkey, Keypair)>,
    /// Members' token accounts, per (wallet, ledger).
    destinations: HashMap<(Pubkey, u8), Pubkey>,
    /// Attested nodes' (fingerprint, subnet) hashes, by member account.
    devices: HashMap<Pubkey, ([u8; 32], [u8; 32])>,
    /// Next fresh report id per member account.
    next_id: HashMap<Pubkey, u64>,
    /// The registered models.
    models: Vec<ModelArgs>,
}

/// The chain, its networks, the keypairs the fuzz may sign with, spare mints
/// and every account it may swap in (with its kind; `None` for a wallet).
struct World {
    chain: Chain,
    nets: Vec<Net>,
    /// Funded wallets that are nobody's yet (proposed admins, oracles, creators).
    spares: Vec<Keypair>,
    mints: Vec<TestMint>,
    pool: Vec<(Pubkey, Option<Kind>)>,
    /// A network made for ledgers to be added to, and its admin.
    fresh: Option<(Pubkey, Keypair)>,
}

/// One membership picked for an input: its wallet, member account and class.
struct Picked {
    wallet: Keypair,
    member: Pubkey,
    class: u8,
}

/// What to remember when an input succeeds.
enum After {
    Nothing,
    Joined(usize, Keypair, u8),
    ReportId(usize, Pubkey, u64),
    /// A batch's reports, each as `ReportId`.
    ReportIds(Vec<(usize, Pubkey, u64)>),
    Attested(usize, Pubkey, ([u8; 32], [u8; 32])),
    Model(usize, ModelArgs),
    Deregistered(usize, Pubkey),
}

/// One generated input.
struct Input {
    ix: Instruction,
    signers: Vec<Keypair>,
    after: After,
}

/// A value of `typical` size mostly, an edge value otherwise.
fn edge_u64(rng: &mut Rng, typical: u64) -> u64 {
    match rng.below(16) {
        0 => 0,
        1 => 1,
        2 => u64::MAX,
        3 => u64::MAX - 1,
        4 => 1 << 48,
        5 => 10u64.pow(rng.below(20) as u32),
        _ => 1 + rng.below(typical.max(1)),
    }
}

fn edge_u32(rng: &mut Rng, typical: u32) -> u32 {
    match rng.below(12) {
        0 => 0,
        1 => 1,
        2 => u32::MAX,
        _ => 1 + rng.below(u64::from(typical.max(1))) as u32,
    }
}

/// A rate: a fraction mostly, 0, 100%, just above, or anything.
fn edge_ppm(rng: &mut Rng) -> Ppm {
    Ppm(match rng.below(12) {
        0 => 0,
        1 => 1_000_000,
        2 => 1_000_001,
        3 => u64::MAX,
        _ => rng.below(1_000_001),
    })
}

/// A report's work time: mostly in the last hour, sometimes in the future,
/// at or just past the default maximum report age, or an extreme.
fn edge_work_time(rng: &mut Rng, now: i64) -> i64 {
    let age = upline::constants::DEFAULT_MAX_REPORT_AGE;
    match rng.below(16) {
        0 => now + 1,
        1 => now - age,
        2 => now - age - 1,
        3 => i64::MIN,
        4 => i64::MAX,
        5 => 0,
        _ => now - rng.below(3_600) as i64,
    }
}

/// A time around `now`, or an extreme.
fn edge_time(rng: &mut Rng, now: i64) -> i64 {
    match rng.below(10) {
        0 => i64::MIN,
        1 => i64::MAX,
        2 => 0,
        3 => -1,
        _ => now - 86_400 + rng.below(4 * 86_400) as i64,
    }
}

/// A name of 1 to 16 bytes mostly; empty, too long, or not UTF-8 sometimes.
fn edge_name(rng: &mut Rng) -> String {
    match rng.below(12) {
        0 => String::new(),
        1 => "x".repeat(17),
        2 => "é".repeat(9),
        _ => format!("N{}", rng.below(1_000_000_000)),
    }
}

/// A 32-byte label: valid and fresh mostly; empty or with a zero inside sometimes.
fn edge_label32(rng: &mut Rng) -> [u8; 32] {
    let mut out = [0u8; 32];
    match rng.below(12) {
        0 => {}
        1 => {
            out[0] = b'a';
            out[2] = b'b';
        }
        2 => out.fill(0xff),
        _ => {
            let text = format!("fz{}", rng.next_u64());
            out[..text.len()].copy_from_slice(text.as_bytes());
        }
    }
    out
}

fn edge_breaker(rng: &mut Rng, one: u64) -> Option<CircuitBreakerConfig> {
    rng.chance(50).then(|| CircuitBreakerConfig {
        window_seconds: match rng.below(8) {
            0 => 0,
            1 => -1,
            2 => i64::MAX,
            _ => 3_600 * (1 + rng.below(48) as i64),
        },
        max_outflow: edge_u64(rng, one.saturating_mul(100)),
    })
}

/// Tables changed in one place, often to an edge value.
fn edge_tables(rng: &mut Rng, mut tables: NetworkTables) -> NetworkTables {
    let count = usize::from(tables.class_count).max(1);
    let class = rng.below(count as u64) as usize;
    match rng.below(9) {
        0 => tables.class_count = rng.below(6) as u8,
        7 => {
            tables.max_report_age_seconds = match rng.below(4) {
                0 => 0,
                1 => -1,
                2 => i64::MAX,
                _ => 3_600 * (1 + rng.below(400) as i64),
            }
        }
        1 => tables.classes[class].referral_depth = rng.below(5) as u8,
        2 => tables.tier_rates[rng.below(3) as usize] = edge_ppm(rng),
        3 => tables.classes[class].direct_bonus = Wad(u128::from(edge_u64(rng, 10u64.pow(18)))),
        4 => tables.classes[class].direct_bonus_ledger = rng.below(5) as u8,
        5 => tables.early_bonus.growth_phase_seconds = edge_time(rng, 0),
        _ => {
            let depth = usize::from(tables.classes[class].referral_depth).min(3);
            if depth > 0 {
                tables.classes[class].commission_rates[rng.below(depth as u64) as usize] =
                    edge_ppm(rng);
            }
        }
    }
    tables
}

impl World {
    async fn new() -> World {
        let mut chain = Chain::start().await;
        let mut nets = Vec::new();
        for preset in ["cxmpute", "clore", "aether"] {
            nets.push(Net::new(&mut chain, preset).await);
        }
        let mut spares = Vec::new();
        for _ in 0..6 {
            spares.push(chain.wallet().await);
        }
        let mut mints = Vec::new();
        for decimals in [0, 6, 9, 18, 19] {
            mints.push(chain.create_mint(TOKEN, decimals).await);
        }
        mints.push(chain.create_mint_with_transfer_fee(6).await);
        mints.push(chain.create_mint_with_metadata_pointer(6).await);
        let mut world = World {
            chain,
            nets,
            spares,
            mints,
            pool: Vec::new(),
            fresh: None,
        };
        world.collect_pool().await;
        world
    }

    /// Every account of the world, with its kind, for swaps.
    async fn collect_pool(&mut self) {
        let mut keys: Vec<Pubkey> = Vec::new();
        for n in &self.nets {
            let net = &n.net;
            keys.push(net.key);
            keys.push(pda::reward_tables(&net.key));
            keys.push(pda::oracle(&net.key, &net.oracle.pubkey()));
            keys.push(net.admin.pubkey());
            for l in &net.ledgers {
                keys.push(l.address);
                if let Some(mint) = &l.mint {
                    keys.push(mint.address);
                    keys.push(pda::vault(&l.address));
                }
            }
            for (wallet, class) in &n.members {
                keys.push(wallet.pubkey());
                keys.push(net.member_in(&wallet.pubkey(), *class));
            }
            for model in &n.models {
                keys.push(pda::model(&net.key, &model.name));
            }
            for (fingerprint, subnet) in n.devices.values() {
                keys.push(pda::device(&net.key, fingerprint));
                keys.push(pda::subnet(&net.key, subnet));
            }
            keys.extend(n.destinations.values());
        }
        keys.extend(self.mints.iter().map(|m| m.address));
        keys.sort();
        keys.dedup();
        for key in keys {
            let account = self
                .chain
                .ctx
                .banks_client
                .get_account(key)
                .await
                .expect("bank");
            self.pool.push((key, account.as_ref().and_then(Kind::of)));
        }
    }

    /// Every keypair the fuzz knows.
    fn keypairs(&self) -> Vec<&Keypair> {
        let mut out: Vec<&Keypair> = self.spares.iter().collect();
        for n in &self.nets {
            out.push(&n.net.admin);
            out.push(&n.net.oracle);
            out.extend(n.members.iter().map(|(wallet, _)| wallet));
        }
        out
    }

    fn keypair(&self, key: &Pubkey) -> Option<Keypair> {
        self.keypairs()
            .into_iter()
            .find(|k| k.pubkey() == *key)
            .map(Keypair::insecure_clone)
    }

    /// The right signer mostly, another known key sometimes.
    fn signer(&self, rng: &mut Rng, right: Option<Keypair>) -> Keypair {
        match right {
            Some(k) if rng.chance(94) => k,
            _ => {
                let all = self.keypairs();
                rng.pick(&all).expect("keypairs").insecure_clone()
            }
        }
    }

    async fn network(&mut self, n: usize) -> Network {
        let key = self.nets[n].net.key;
        self.chain.account(&key).await
    }

    async fn admin(&mut self, rng: &mut Rng, n: usize) -> Keypair {
        let admin = self.network(n).await.admin;
        let right = self.keypair(&admin);
        self.signer(rng, right)
    }

    /// A key with a registered oracle account in network `n`, mostly.
    async fn oracle(&mut self, rng: &mut Rng, n: usize) -> Keypair {
        let net = self.nets[n].net.key;
        let mut candidates = vec![self.nets[n].net.oracle.insecure_clone()];
        candidates.extend(self.spares.iter().map(Keypair::insecure_clone));
        let mut right = None;
        for k in candidates {
            if self
                .chain
                .data(&pda::oracle(&net, &k.pubkey()))
                .await
                .is_some()
            {
                right = Some(k);
                break;
            }
        }
        self.signer(rng, right)
    }

    /// A membership of network `n`: of `class` mostly, if it has one.
    fn member(&self, rng: &mut Rng, n: usize, class: Option<u8>) -> Option<Picked> {
        let net = &self.nets[n];
        let of_class: Vec<&(Keypair, u8)> = net
            .members
            .iter()
            .filter(|(_, c)| class.is_none_or(|wanted| wanted == *c))
            .collect();
        let (wallet, class) = match rng.pick(&of_class) {
            Some(m) if rng.chance(92) => *m,
            _ => rng.pick(&net.members)?,
        };
        Some(Picked {
            wallet: wallet.insecure_clone(),
            member: net.net.member_in(&wallet.pubkey(), *class),
            class: *class,
        })
    }

    fn id(&self, rng: &mut Rng, n: usize, member: &Pubkey) -> u64 {
        let next = self.nets[n].next_id.get(member).copied().unwrap_or(1);
        match rng.below(12) {
            0 => 0,
            1 => u64::MAX,
            2 => next + (1 << 48) + 1,
            3 => next.saturating_sub(1),
            _ => next,
        }
    }

    /// One well-formed input: instruction `which` on network `n`.
    async fn build(&mut self, rng: &mut Rng, which: usize, n: usize) -> Input {
        let now = self.chain.now;
        let net_key = self.nets[n].net.key;
        let state = self.network(n).await;
        let token_ledgers: Vec<u8> = self.nets[n]
            .net
            .ledgers
            .iter()
            .filter(|l| l.mint.is_some())
            .map(|l| l.index)
            .collect();
        let one = |world: &World, ledger: u8| {
            world.nets[n]
                .net
                .ledgers
                .get(usize::from(ledger))
                .and_then(|l| l.mint.as_ref())
                .map_or(1, |m| 10u64.pow(u32::from(m.decimals)))
        };
        let mut after = After::Nothing;
        let (ix, signers): (Instruction, Vec<Keypair>) = match which {
            0 => {
                let creator = rng.pick(&self.spares).expect("spares").insecure_clone();
                let name = edge_label32(rng);
                let admin = if rng.chance(90) {
                    creator.pubkey()
                } else {
                    Pubkey::default()
                };
                let tables = edge_tables(rng, state.tables);
                (
                    ix::create_network(&creator.pubkey(), &name, &admin, tables),
                    vec![creator],
                )
            }
            1 => {
                let admin = self.admin(rng, n).await;
                let tables = if rng.chance(30) {
                    state.tables
                } else {
                    edge_tables(rng, state.tables)
                };
                (
                    ix::update_tables(&admin.pubkey(), &net_key, tables),
                    vec![admin],
                )
            }
            // Ledgers fill a network (at most 4): most of these go to a new
            // network with room, created first.
            2 | 3 if rng.chance(60) => {
                let (network, admin, count) = self.fresh_network(rng, state.tables).await;
                let admin = self.signer(rng, Some(admin));
                let ix = if which == 2 {
                    let mint = rng.pick(&self.mints).expect("mints");
                    let spec = TokenLedgerSpec {
                        name: edge_name(rng),
                        mint: mint.address,
                        token_program: mint.token_program,
                        min_withdrawal: edge_u64(rng, 1_000),
                        circuit_breaker: edge_breaker(rng, 1_000),
                        allow_freeze_authority: rng.chance(50),
                    };
                    ix::add_token_ledger(&admin.pubkey(), &admin.pubkey(), &network, count, &spec)
                } else {
                    let name = edge_name(rng);
                    ix::add_points_ledger(&admin.pubkey(), &admin.pubkey(), &network, count, &name)
                };
                (ix, vec![admin])
            }
            2 => {
                let admin = self.admin(rng, n).await;
                let mint = rng.pick(&self.mints).expect("mints");
                let spec = TokenLedgerSpec {
                    name: edge_name(rng),
                    mint: mint.address,
                    token_program: mint.token_program,
                    min_withdrawal: edge_u64(rng, 1_000),
                    circuit_breaker: edge_breaker(rng, 1_000),
                    allow_freeze_authority: rng.chance(50),
                };
                let index = state.ledger_count;
                (
                    ix::add_token_ledger(&admin.pubkey(), &admin.pubkey(), &net_key, index, &spec),
                    vec![admin],
                )
            }
            3 => {
                let admin = self.admin(rng, n).await;
                let name = edge_name(rng);
                (
                    ix::add_points_ledger(
                        &admin.pubkey(),
                        &admin.pubkey(),
                        &net_key,
                        state.ledger_count,
                        &name,
                    ),
                    vec![admin],
                )
            }
            4 => {
                let admin = self.admin(rng, n).await;
                let index = rng.below(u64::from(state.ledger_count.max(1))) as u8;
                let unit = one(self, index);
                (
                    ix::update_ledger(
                        &admin.pubkey(),
                        &net_key,
                        index,
                        edge_u64(rng, unit),
                        edge_breaker(rng, unit),
                    ),
                    vec![admin],
                )
            }
            5 => {
                let ledger = *rng.pick(&token_ledgers).expect("a token ledger");
                let (source, funder) = &self.nets[n].sources[&ledger];
                let funder = self.signer(rng, Some(funder.insecure_clone()));
                let mint = self.nets[n].net.ledgers[usize::from(ledger)].mint();
                (
                    ix::fund_vault(
                        &funder.pubkey(),
                        &net_key,
                        ledger,
                        &mint.address,
                        source,
                        &mint.token_program,
                        edge_u64(rng, one(self, ledger) * 10),
                    ),
                    vec![funder],
                )
            }
            6 => {
                // A new wallet mostly; a member's wallet joining another
                // class (or its own again) sometimes.
                let wallet = match self.member(rng, n, None) {
                    Some(m) if rng.chance(20) => m.wallet,
                    _ => Keypair::new(),
                };
                let payer = rng.pick(&self.spares).expect("spares").insecure_clone();
                let class = rng.below(u64::from(state.tables.class_count) + 1) as u8;
                let upline = match self.member(rng, n, None) {
                    Some(referrer) if rng.chance(70) => {
                        self.nets[n]
                            .net
                            .link_chain(&mut self.chain, &referrer.member)
                            .await
                    }
                    _ => vec![],
                };
                let ix = ix::join(&wallet.pubkey(), &payer.pubkey(), &net_key, class, &upline);
                after = After::Joined(n, wallet.insecure_clone(), class);
                (ix, vec![wallet, payer])
            }
            7 => {
                let member = self.member(rng, n, None).expect("members");
                let referrer = self.member(rng, n, None).expect("members");
                let mut upline = self.nets[n]
                    .net
                    .link_chain(&mut self.chain, &referrer.member)
                    .await;
                if rng.chance(15) {
                    upline.truncate(1);
                }
                let signer = self.signer(rng, Some(member.wallet));
                (
                    ix::set_referrer(&signer.pubkey(), &net_key, member.class, &upline),
                    vec![signer],
                )
            }
            8 => {
                let payer = rng.pick(&self.spares).expect("spares").insecure_clone();
                let member = self.member(rng, n, None).expect("members");
                (
                    ix::open_member_ledgers(&payer.pubkey(), &net_key, &member.member),
                    vec![payer],
                )
            }
            9 => {
                let admin = self.admin(rng, n).await;
                let member = self.member(rng, n, None).expect("members");
                let tier = *rng.pick(&CommissionTier::ALL).expect("tiers");
                (
                    ix::set_member_tier(&admin.pubkey(), &net_key, &member.member, tier),
                    vec![admin],
                )
            }
            10 => {
                let admin = self.admin(rng, n).await;
                let start = edge_time(rng, now);
                let end = edge_time(rng, now);
                (
                    ix::open_promotion(&admin.pubkey(), &net_key, edge_ppm(rng), start, end),
                    vec![admin],
                )
            }
            11 => {
                let admin = self.admin(rng, n).await;
                (ix::close_promotion(&admin.pubkey(), &net_key), vec![admin])
            }
            12 => {
                let admin = self.admin(rng, n).await;
                let paused = rng.chance(20);
                (
                    ix::set_paused(&admin.pubkey(), &net_key, paused),
                    vec![admin],
                )
            }
            13 => {
                let admin = self.admin(rng, n).await;
                let proposed = match rng.below(10) {
                    0 => Pubkey::default(),
                    1 => state.admin,
                    _ => rng.pick(&self.spares).expect("spares").pubkey(),
                };
                (
                    ix::propose_admin(&admin.pubkey(), &net_key, &proposed),
                    vec![admin],
                )
            }
            14 => {
                let right = self.keypair(&state.pending_admin);
                let pending = self.signer(rng, right);
                (ix::accept_admin(&pending.pubkey(), &net_key), vec![pending])
            }
            15 => {
                let Picked { wallet, class, .. } = self.member(rng, n, None).expect("members");
                let ledger = *rng.pick(&token_ledgers).expect("a token ledger");
                let key = (wallet.pubkey(), ledger);
                let destination = match self.nets[n].destinations.get(&key) {
                    Some(d) => *d,
                    None => {
                        let mint = self.nets[n].net.ledgers[usize::from(ledger)].mint();
                        let d = self.chain.token_account(mint, &wallet.pubkey()).await;
                        self.nets[n].destinations.insert(key, d);
                        d
                    }
                };
                let mint = self.nets[n].net.ledgers[usize::from(ledger)].mint();
                let to = TokenDestination {
                    mint: mint.address,
                    destination,
                    token_program: mint.token_program,
                };
                let amount = match rng.below(4) {
                    0 => None,
                    _ => Some(edge_u64(rng, one(self, ledger) / 10)),
                };
                let signer = self.signer(rng, Some(wallet));
                (
                    ix::withdraw(&signer.pubkey(), &net_key, class, ledger, Some(&to), amount),
                    vec![signer],
                )
            }
            16 | 17 => {
                // Mostly a key whose registration exists (to remove) or does
                // not (to add).
                let admin = self.admin(rng, n).await;
                let mut keys = vec![self.nets[n].net.oracle.pubkey()];
                keys.extend(self.spares.iter().map(|k| k.pubkey()));
                let mut fitting = Vec::new();
                for key in keys {
                    let exists = self
                        .chain
                        .data(&pda::oracle(&net_key, &key))
                        .await
                        .is_some();
                    if exists == (which == 17) {
                        fitting.push(key);
                    }
                }
                let authority = match rng.pick(&fitting) {
                    Some(key) if rng.chance(85) => *key,
                    _ => Pubkey::new_unique(),
                };
                if which == 17 {
                    return Input {
                        ix: ix::remove_oracle(&admin.pubkey(), &net_key, &authority),
                        signers: vec![admin],
                        after,
                    };
                }
                (
                    ix::add_oracle(&admin.pubkey(), &admin.pubkey(), &net_key, &authority),
                    vec![admin],
                )
            }
            18 => {
                let admin = self.admin(rng, n).await;
                let tables: RewardTables = self.chain.account(&pda::reward_tables(&net_key)).await;
                let mut data = tables.data;
                match rng.below(10) {
                    0 => data.compute.ledger = rng.below(5) as u8,
                    1 => data.usage.user_class = rng.below(5) as u8,
                    2 => data.bandwidth.rate_cap = edge_ppm(rng),
                    3 => data.bandwidth.epoch_seconds = edge_time(rng, 3_600),
                    4 => data.compute.fast_multiplier = edge_ppm(rng),
                    5 => {
                        data.compute.tiers[rng.below(4) as usize].max_vram_mb =
                            edge_u32(rng, 30_000)
                    }
                    6 => data.bandwidth.subnet_limit = edge_u32(rng, 5),
                    7 => data.rental.enabled = !data.rental.enabled,
                    _ => {}
                }
                (
                    ix::set_reward_tables(&admin.pubkey(), &net_key, data),
                    vec![admin],
                )
            }
            19 | 20 => {
                let admin = self.admin(rng, n).await;
                let existing = rng.pick(&self.nets[n].models).copied();
                let name = match existing {
                    Some(m) if which == 20 && rng.chance(90) => m.name,
                    _ => edge_label32(rng),
                };
                let args = ModelArgs {
                    name,
                    complexity: match rng.below(8) {
                        0 => Ppm(0),
                        1 => Ppm(u64::MAX),
                        _ => Ppm(1 + rng.below(5_000_000)),
                    },
                    min_tier: match rng.below(8) {
                        0 => 0,
                        1 => 5,
                        _ => 1 + rng.below(4) as u8,
                    },
                };
                if which == 19 {
                    after = After::Model(n, args);
                    (
                        ix::register_model(&admin.pubkey(), &admin.pubkey(), &net_key, args),
                        vec![admin],
                    )
                } else {
                    (
                        ix::update_model(&admin.pubkey(), &net_key, args),
                        vec![admin],
                    )
                }
            }
            21 => {
                let oracle = self.oracle(rng, n).await;
                let member = self.member(rng, n, Some(1)).expect("members").member;
                let vram = match rng.below(8) {
                    0 => 0,
                    1 => u32::MAX,
                    2 => 4096,
                    3 => 22_527,
                    _ => 1024 * (1 + rng.below(40) as u32),
                };
                (
                    ix::attest_provider(&oracle.pubkey(), &net_key, &member, vram),
                    vec![oracle],
                )
            }
            22 => {
                let oracle = self.oracle(rng, n).await;
                let member = self.member(rng, n, Some(1)).expect("members").member;
                let fingerprint =
                    match rng.pick(&self.nets[n].devices.values().copied().collect::<Vec<_>>()) {
                        Some(&(f, _)) if rng.chance(10) => f,
                        _ => hash32(&format!("fz{}", rng.next_u64())),
                    };
                let subnet = hash32(&format!("subnet-{}", rng.below(4)));
                let args = AttestNodeArgs {
                    fingerprint,
                    subnet,
                };
                after = After::Attested(n, member, (fingerprint, subnet));
                (
                    ix::attest_node(&oracle.pubkey(), &oracle.pubkey(), &net_key, &member, args),
                    vec![oracle],
                )
            }
            23 => {
                let oracle = self.oracle(rng, n).await;
                let provider = self.member(rng, n, Some(1)).expect("members").member;
                let model = match rng.pick(&self.nets[n].models) {
                    Some(m) if rng.chance(92) => m.name,
                    _ => edge_label32(rng),
                };
                let id = self.id(rng, n, &provider);
                let args = ComputeReportArgs {
                    id,
                    work_time: edge_work_time(rng, now),
                    service: *rng
                        .pick(&[
                            Service::Chat,
                            Service::Tts,
                            Service::Embeddings,
                            Service::Scrape,
                        ])
                        .expect("services"),
                    tokens: edge_u64(rng, 5_000),
                    latency_ms: edge_u32(rng, 15_000),
                };
                let upline = self.nets[n]
                    .net
                    .upline_of(&mut self.chain, &provider, 3)
                    .await;
                after = After::ReportId(n, provider, id);
                (
                    ix::report_compute(
                        &oracle.pubkey(),
                        &net_key,
                        &provider,
                        &model,
                        &upline,
                        args,
                    ),
                    vec![oracle],
                )
            }
            24 => {
                let oracle = self.oracle(rng, n).await;
                let user = self.member(rng, n, Some(0)).expect("members").member;
                let id = self.id(rng, n, &user);
                let args = UsageReportArgs {
                    id,
                    work_time: edge_work_time(rng, now),
                    endpoint: *rng
                        .pick(&[
                            Endpoint::Chat,
                            Endpoint::Embeddings,
                            Endpoint::Scrape,
                            Endpoint::Tts,
                        ])
                        .expect("endpoints"),
                    tokens: edge_u64(rng, 5_000),
                };
                let upline = self.nets[n].net.upline_of(&mut self.chain, &user, 3).await;
                after = After::ReportId(n, user, id);
                (
                    ix::report_usage(&oracle.pubkey(), &net_key, &user, &upline, args),
                    vec![oracle],
                )
            }
            25 => {
                let oracle = self.oracle(rng, n).await;
                let renter = self.member(rng, n, None).expect("members").member;
                let host = self.member(rng, n, None).expect("members").member;
                let ledger = if rng.chance(90) {
                    *rng.pick(&token_ledgers).expect("a token ledger")
                } else {
                    rng.below(5) as u8
                };
                let unit = one(self, ledger);
                let id = self.id(rng, n, &renter);
                let args = RentalReportArgs {
                    id,
                    work_time: edge_work_time(rng, now),
                    ledger,
                    renter_base_fee: edge_u64(rng, unit * 10),
                    renter_extra_fee: edge_u64(rng, unit),
                    host_base_fee: edge_u64(rng, unit * 10),
                    host_extra_fee: edge_u64(rng, unit),
                };
                let net = &self.nets[n].net;
                let parties = RentalParties {
                    renter,
                    host,
                    renter_referrer: net
                        .upline_of(&mut self.chain, &renter, 1)
                        .await
                        .first()
                        .copied(),
                    host_referrer: net
                        .upline_of(&mut self.chain, &host, 1)
                        .await
                        .first()
                        .copied(),
                };
                after = After::ReportId(n, renter, id);
                (
                    ix::report_rental(&oracle.pubkey(), &net_key, &parties, args),
                    vec![oracle],
                )
            }
            27 => {
                let admin = self.admin(rng, n).await;
                let quorum = match rng.below(10) {
                    0 => 0,
                    1 => u8::MAX,
                    2..=4 => 2 + rng.below(2) as u8,
                    _ => 1,
                };
                (
                    ix::set_oracle_quorum(&admin.pubkey(), &net_key, quorum),
                    vec![admin],
                )
            }
            28 => {
                let admin = self.admin(rng, n).await;
                let oracle = self.oracle(rng, n).await.pubkey();
                let limit = match rng.below(8) {
                    0 => Wad::ZERO,
                    1 => Wad(u128::MAX),
                    2 => Wad(1),
                    _ => Wad(u128::from(rng.below(100)) * Wad::ONE.0),
                };
                let args = OracleCapArgs {
                    ledger: rng.below(5) as u8,
                    limit,
                    window_seconds: edge_time(rng, 86_400),
                };
                (
                    ix::set_oracle_cap(&admin.pubkey(), &net_key, &oracle, args),
                    vec![admin],
                )
            }
            29 => {
                let admin = self.admin(rng, n).await;
                let member = self.member(rng, n, None).expect("members").member;
                (
                    ix::set_member_frozen(&admin.pubkey(), &net_key, &member, rng.chance(40)),
                    vec![admin],
                )
            }
            30 => {
                let admin = self.admin(rng, n).await;
                let nodes: Vec<Pubkey> = self.nets[n].devices.keys().copied().collect();
                let (member, (fingerprint, mut subnet)) = match rng.pick(&nodes) {
                    Some(node) => (*node, self.nets[n].devices[node]),
                    None => (
                        self.member(rng, n, Some(1)).expect("members").member,
                        (edge_label32(rng), edge_label32(rng)),
                    ),
                };
                if rng.chance(10) {
                    subnet = hash32(&format!("subnet-{}", rng.below(4)));
                }
                after = After::Deregistered(n, member);
                (
                    ix::deregister_device(
                        &admin.pubkey(),
                        &net_key,
                        &member,
                        (&fingerprint, &subnet),
                    ),
                    vec![admin],
                )
            }
            26 => {
                let oracle = self.oracle(rng, n).await;
                let node = self.member(rng, n, Some(1)).expect("members").member;
                let id = self.id(rng, n, &node);
                let args = BandwidthReportArgs {
                    id,
                    work_time: edge_work_time(rng, now),
                    bytes: edge_u64(rng, 5_000_000_000),
                    quality: edge_ppm(rng),
                    stability: edge_ppm(rng),
                    demand: match rng.below(10) {
                        0 => Ppm(999_999),
                        1 => Ppm(1_500_001),
                        2 => Ppm(u64::MAX),
                        _ => Ppm(1_000_000 + rng.below(500_001)),
                    },
                    suppressed: rng.chance(10),
                };
                let device = self.nets[n].devices.get(&node).copied();
                let device = device.as_ref().map(|(f, s)| (f, s));
                let referrer = self.nets[n].net.upline_of(&mut self.chain, &node, 1).await;
                after = After::ReportId(n, node, id);
                (
                    ix::report_bandwidth(
                        &oracle.pubkey(),
                        &net_key,
                        &node,
                        device,
                        referrer.first(),
                        args,
                    ),
                    vec![oracle],
                )
            }
            31 => {
                // Two to four compute and usage reports, packed as `oracle
                // submit` packs them: the first run that shares an oracle
                // context and co-signers becomes one `report_batch`.
                let count = 2 + rng.below(3) as usize;
                let mut parts = Vec::with_capacity(count);
                for _ in 0..count {
                    let kind = if rng.chance(50) { 23 } else { 24 };
                    parts.push(Box::pin(self.build(rng, kind, n)).await);
                }
                let singles: Vec<Instruction> = parts.iter().map(|p| p.ix.clone()).collect();
                let coalesced = ix::coalesce(&singles);
                let carried = ix::batch::reports_per_instruction(&coalesced)[0];
                let ids = parts
                    .iter_mut()
                    .take(carried)
                    .filter_map(
                        |part| match std::mem::replace(&mut part.after, After::Nothing) {
                            After::ReportId(n, member, id) => Some((n, member, id)),
                            _ => None,
                        },
                    )
                    .collect();
                after = After::ReportIds(ids);
                let first = parts.swap_remove(0);
                (coalesced[0].clone(), first.signers)
            }
            other => panic!(
                "no instruction {other}: INSTRUCTIONS has {}",
                INSTRUCTIONS.len()
            ),
        };
        let (mut ix, mut signers) = (ix, signers);
        // Reports and attestations: sometimes the other registered oracles co-sign.
        if (21..=26).contains(&which) && rng.chance(30) {
            let primary = ix.accounts[0].pubkey;
            let mut co = Vec::new();
            for k in self.spares.iter().chain([&self.nets[n].net.oracle]) {
                let registered = self
                    .chain
                    .data(&pda::oracle(&net_key, &k.pubkey()))
                    .await
                    .is_some();
                if registered && k.pubkey() != primary && rng.chance(70) {
                    co.push(k.insecure_clone());
                }
            }
            let keys: Vec<Pubkey> = co.iter().map(|k| k.pubkey()).collect();
            ix = ix::with_co_signers(ix, &net_key, &keys);
            signers.extend(co);
        }
        Input { ix, signers, after }
    }

    /// A network with room for ledgers: the last one made here while it has
    /// fewer than 4, else a new one with `tables` (its creator and admin a
    /// spare wallet). Its address, admin and ledger count.
    async fn fresh_network(
        &mut self,
        rng: &mut Rng,
        tables: NetworkTables,
    ) -> (Pubkey, Keypair, u8) {
        if let Some((key, admin)) = &self.fresh {
            let state: Network = self.chain.account(key).await;
            if state.ledger_count < 4 && state.admin == admin.pubkey() {
                return (*key, admin.insecure_clone(), state.ledger_count);
            }
        }
        let admin = rng.pick(&self.spares).expect("spares").insecure_clone();
        let name = upline::state::label(&format!("fresh-{}", rng.next_u64())).expect("name");
        let ix = ix::create_network(&admin.pubkey(), &name, &admin.pubkey(), tables);
        self.chain
            .send(&[ix], &[&admin])
            .await
            .expect("a fresh network");
        let key = pda::network(&admin.pubkey(), &name);
        self.fresh = Some((key, admin.insecure_clone()));
        (key, admin, 0)
    }

    /// Change `input` in one way: flip argument bytes, cut or extend the
    /// arguments, swap one account for one of another type, or drop a signer.
    fn mutate(&self, rng: &mut Rng, input: &mut Input) -> &'static str {
        let ix = &mut input.ix;
        let args = ix.data.len().saturating_sub(8);
        match rng.below(4) {
            0 if args > 0 => {
                for _ in 0..1 + rng.below(3) {
                    let at = 8 + rng.below(args as u64) as usize;
                    ix.data[at] ^= 1 << rng.below(8);
                }
                "argument bytes flipped"
            }
            1 if args > 0 => {
                if rng.chance(50) {
                    ix.data.truncate(8 + rng.below(args as u64) as usize);
                    "arguments cut short"
                } else {
                    let extra = 1 + rng.below(8) as usize;
                    ix.data.extend(rng.bytes(extra));
                    "arguments extended"
                }
            }
            2 => {
                // Positions that hold an account (not the program itself, not an absent optional).
                let positions: Vec<usize> = (0..ix.accounts.len())
                    .filter(|i| ix.accounts[*i].pubkey != upline::ID)
                    .collect();
                let Some(&at) = rng.pick(&positions) else {
                    return "nothing to swap";
                };
                let current = self
                    .pool
                    .iter()
                    .find(|(k, _)| *k == ix.accounts[at].pubkey)
                    .map(|(_, kind)| *kind);
                let others: Vec<Pubkey> = self
                    .pool
                    .iter()
                    .filter(|(_, kind)| Some(*kind) != current)
                    .map(|(k, _)| *k)
                    .collect();
                ix.accounts[at].pubkey = *rng.pick(&others).expect("pool");
                "an account swapped for another type's"
            }
            _ => {
                let signers: Vec<Pubkey> = ix
                    .accounts
                    .iter()
                    .filter(|m| m.is_signer)
                    .map(|m| m.pubkey)
                    .collect();
                let Some(&key) = rng.pick(&signers) else {
                    return "no signer to drop";
                };
                for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == key) {
                    meta.is_signer = false;
                }
                "a signature dropped"
            }
        }
    }

    /// Remember what a successful input created.
    fn remember(&mut self, after: After) {
        match after {
            After::Nothing => {}
            After::Joined(n, wallet, class) => {
                self.nets[n].net.remember(&wallet.pubkey(), class);
                self.nets[n].members.push((wallet, class));
            }
            After::ReportId(n, member, id) => {
                self.nets[n].next_id.insert(member, id.saturating_add(1));
            }
            After::ReportIds(ids) => {
                for (n, member, id) in ids {
                    let next = self.nets[n].next_id.entry(member).or_insert(0);
                    *next = (*next).max(id.saturating_add(1));
                }
            }
            After::Attested(n, member, device) => {
                self.nets[n].devices.insert(member, device);
            }
            After::Model(n, model) => self.nets[n].models.push(model),
            After::Deregistered(n, member) => {
                self.nets[n].devices.remove(&member);
            }
        }
    }
}

impl Net {
    /// A network of `preset` with linked members, attested providers or
    /// nodes, funded vaults, a low minimum withdrawal and members' token accounts.
    async fn new(chain: &mut Chain, preset: &str) -> Net {
        let net = TestNetwork::from_preset(chain, preset).await;
        let p = upline_sdk::preset::Preset::builtin(preset).expect("preset");
        let models = p.models().expect("models");
        let classes = usize::from(net.state(chain).await.tables.class_count);
        let mut members: Vec<(Keypair, u8)> = Vec::new();
        for class in 0..classes as u8 {
            // A chain of three and one alone, per class.
            let a = net.join(chain, class, &[]).await;
            let b = net.join(chain, class, &[&a]).await;
            let c = net.join(chain, class, &[&b, &a]).await;
            let d = net.join(chain, class, &[]).await;
            members.extend([a, b, c, d].map(|k| (k, class)));
        }
        // Where the preset has two classes, the lone member of the first
        // also holds a membership in the second, under the second's chain.
        if classes > 1 {
            let wallet = members[3].0.insecure_clone();
            let referrer = net.member(&members[6].0.pubkey());
            let upline = net.link_chain(chain, &referrer).await;
            net.join_wallet(chain, &wallet, 1, &upline).await;
            members.push((wallet, 1));
        }
        let mut devices = HashMap::new();
        let oracle = net.oracle.insecure_clone();
        for (i, (wallet, class)) in members.iter().enumerate() {
            let member = net.member_in(&wallet.pubkey(), *class);
            let ix = match preset {
                "cxmpute" if *class == 1 => ix::attest_provider(
                    &oracle.pubkey(),
                    &net.key,
                    &member,
                    [4_096, 8_192, 16_384, 32_768][i % 4],
                ),
                "aether" if *class == 1 => {
                    let device = (
                        hash32(&format!("dev-{i}")),
                        hash32(&format!("subnet-{}", i % 2)),
                    );
                    devices.insert(member, device);
                    net.attest_node_ix_at(
                        &member,
                        &format!("dev-{i}"),
                        &format!("subnet-{}", i % 2),
                    )
                }
                _ => continue,
            };
            chain.send(&[ix], &[&oracle]).await.expect("attest");
        }
        let mut sources = HashMap::new();
        let mut destinations = HashMap::new();
        for ledger in net.ledgers.iter().filter(|l| l.mint.is_some()) {
            let mint = ledger.mint();
            let one = 10u64.pow(u32::from(mint.decimals));
            net.fund(chain, ledger.index, one * 1_000_000).await;
            let funder = chain.wallet().await;
            let source = chain.token_account(mint, &funder.pubkey()).await;
            chain.mint_to(mint, &source, one * 1_000_000).await;
            sources.insert(ledger.index, (source, funder));
            let ix = ix::update_ledger(&net.admin.pubkey(), &net.key, ledger.index, 1, None);
            chain
                .send(&[ix], &[&net.admin])
                .await
                .expect("update ledger");
            for (wallet, _) in &members {
                let key = (wallet.pubkey(), ledger.index);
                if let std::collections::hash_map::Entry::Vacant(slot) = destinations.entry(key) {
                    slot.insert(chain.token_account(mint, &wallet.pubkey()).await);
                }
            }
        }
        Net {
            net,
            members,
            sources,
            destinations,
            devices,
            next_id: HashMap::new(),
            models,
        }
    }
}

#[tokio::test]
async fn structured_inputs_reach_the_handlers() {
    let seed = env_number("UPLINE_FUZZ_SEED", 0xF022);
    let inputs = env_number("UPLINE_FUZZ_INPUTS", 6_000);
    let mut rng = Rng(seed);
    let started = std::time::Instant::now();
    let mut world = World::new().await;
    let setup = started.elapsed().as_secs_f64();
    // Per instruction: inputs and how many reached the program's checks.
    let mut per_instruction: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut program_errors = Histogram::default();
    let mut refused_before = Histogram::default();
    let mut mutations = Histogram::default();
    let (mut reached, mut succeeded) = (0u64, 0u64);
    let mut panics: Vec<String> = Vec::new();
    for input_number in 0..inputs {
        if input_number % 200 == 199 {
            let later = world.chain.now + 3_600;
            world.chain.warp_to(later).await;
        }
        let which = rng.below(INSTRUCTIONS.len() as u64) as usize;
        // Work of each kind mostly goes to the network that pays it.
        let home = match INSTRUCTIONS[which] {
            "attest_provider" | "report_compute" | "report_usage" | "report_batch" => Some(0),
            "report_rental" => Some(1),
            "attest_node" | "report_bandwidth" | "deregister_device" => Some(2),
            _ => None,
        };
        let n = match home {
            Some(home) if rng.chance(85) => home,
            _ => rng.below(world.nets.len() as u64) as usize,
        };
        let mut input = world.build(&mut rng, which, n).await;
        if rng.chance(33) {
            let how = world.mutate(&mut rng, &mut input);
            mutations.add(how);
        }
        // Sign with exactly the keys the instruction asks for.
        let wanted: Vec<Pubkey> = input
            .ix
            .accounts
            .iter()
            .filter(|m| m.is_signer)
            .map(|m| m.pubkey)
            .collect();
        for meta in input.ix.accounts.iter_mut() {
            if meta.is_signer && !input.signers.iter().any(|k| k.pubkey() == meta.pubkey) {
                meta.is_signer = false;
            }
        }
        let signers: Vec<&Keypair> = input
            .signers
            .iter()
            .filter(|k| wanted.contains(&k.pubkey()))
            .collect();
        let outcome = world
            .chain
            .send(std::slice::from_ref(&input.ix), &signers)
            .await;
        let entry = per_instruction.entry(INSTRUCTIONS[which]).or_default();
        entry.0 += 1;
        match outcome {
            Ok(_) => {
                reached += 1;
                succeeded += 1;
                entry.1 += 1;
                world.remember(input.after);
            }
            Err(failure) => {
                let refusal = Refusal::of(&failure);
                // The bank turns a panic in the (native) program into this.
                if refusal == Refusal::Runtime("ProgramFailedToComplete".into()) {
                    panics.push(format!(
                        "input {input_number}: {} with data {:02x?} and accounts {:?}",
                        INSTRUCTIONS[which],
                        input.ix.data,
                        input
                            .ix
                            .accounts
                            .iter()
                            .map(|m| m.pubkey)
                            .collect::<Vec<_>>()
                    ));
                }
                if refusal.is_upline() {
                    reached += 1;
                    entry.1 += 1;
                    program_errors.add(refusal.name());
                } else {
                    refused_before.add(refusal.name());
                }
            }
        }
    }
    let per: Vec<String> = per_instruction
        .iter()
        .map(|(name, (n, r))| format!("{name} {r}/{n}"))
        .collect();
    eprintln!(
        "instruction fuzz: seed {seed:#x}, {inputs} inputs ({} mutated: {mutations}) in {:.1} s (set-up {setup:.1} s)\n  \
         reached the program's checks: {reached} ({:.0}%), of which {succeeded} succeeded and {} failed with:\n  {program_errors}\n  \
         refused before (Anchor, runtime): {refused_before}\n  reached per instruction: {}",
        mutations.total(),
        started.elapsed().as_secs_f64(),
        100.0 * reached as f64 / inputs.max(1) as f64,
        program_errors.total(),
        per.join(", ")
    );
    assert!(
        panics.is_empty(),
        "seed {seed:#x}: the program panicked on {} inputs:\n{}",
        panics.len(),
        panics.join("\n")
    );
    assert!(
        2 * reached >= inputs,
        "only {reached} of {inputs} inputs reached the program's checks (goal: half)"
    );
    assert!(
        per_instruction.values().all(|(_, r)| *r > 0),
        "an instruction never reached the program's checks: {per:?}"
    );
}

// ---------------------------------------------------------------------------
// Dispatcher-level noise
// ---------------------------------------------------------------------------

fn discriminators() -> Vec<&'static [u8]> {
    vec![
        ix_data::CreateNetwork::DISCRIMINATOR,
        ix_data::UpdateTables::DISCRIMINATOR,
        ix_data::AddTokenLedger::DISCRIMINATOR,
        ix_data::AddPointsLedger::DISCRIMINATOR,
        ix_data::UpdateLedger::DISCRIMINATOR,
        ix_data::FundVault::DISCRIMINATOR,
        ix_data::Join::DISCRIMINATOR,
        ix_data::SetReferrer::DISCRIMINATOR,
        ix_data::OpenMemberLedgers::DISCRIMINATOR,
        ix_data::SetMemberTier::DISCRIMINATOR,
        ix_data::OpenPromotion::DISCRIMINATOR,
        ix_data::ClosePromotion::DISCRIMINATOR,
        ix_data::SetPaused::DISCRIMINATOR,
        ix_data::ProposeAdmin::DISCRIMINATOR,
        ix_data::AcceptAdmin::DISCRIMINATOR,
        ix_data::Withdraw::DISCRIMINATOR,
        ix_data::AddOracle::DISCRIMINATOR,
        ix_data::RemoveOracle::DISCRIMINATOR,
        ix_data::SetRewardTables::DISCRIMINATOR,
        ix_data::RegisterModel::DISCRIMINATOR,
        ix_data::UpdateModel::DISCRIMINATOR,
        ix_data::AttestProvider::DISCRIMINATOR,
        ix_data::AttestNode::DISCRIMINATOR,
        ix_data::ReportCompute::DISCRIMINATOR,
        ix_data::ReportUsage::DISCRIMINATOR,
        ix_data::ReportRental::DISCRIMINATOR,
        ix_data::ReportBandwidth::DISCRIMINATOR,
        ix_data::SetOracleQuorum::DISCRIMINATOR,
        ix_data::SetOracleCap::DISCRIMINATOR,
        ix_data::SetMemberFrozen::DISCRIMINATOR,
        ix_data::DeregisterDevice::DISCRIMINATOR,
        ix_data::ReportBatch::DISCRIMINATOR,
        // Anchor's event-CPI entry, which only the program itself may call.
        anchor_lang::event::EVENT_IX_TAG_LE,
    ]
}

/// One of `prefixes` (none if empty) followed by up to `max` random bytes.
fn noise_after<P: AsRef<[u8]>>(rng: &mut Rng, prefixes: &[P], max: u64) -> Vec<u8> {
    let mut out = rng
        .pick(prefixes)
        .map(|p| p.as_ref().to_vec())
        .unwrap_or_default();
    let len = rng.below(max) as usize;
    out.extend(rng.bytes(len));
    out
}

/// One account's storage, owned by the test for the call's duration.
struct Stored {
    key: Pubkey,
    owner: Pubkey,
    lamports: u64,
    data: Vec<u8>,
    signer: bool,
    writable: bool,
}

fn random_account(rng: &mut Rng, noise: &[Vec<u8>]) -> Stored {
    let owner = match rng.below(4) {
        0 => anchor_lang::solana_program::system_program::ID,
        1 => anchor_spl::token::ID,
        _ => upline::ID,
    };
    let data = match rng.below(4) {
        0 => Vec::new(),
        // Noise, or a real account discriminator then noise (past the type check).
        1 => noise_after::<&[u8]>(rng, &[], 700),
        _ => noise_after(rng, noise, 600),
    };
    Stored {
        key: Pubkey::new_from_array(rng.bytes(32).try_into().expect("32 bytes")),
        owner,
        lamports: rng.next_u64(),
        data,
        signer: rng.below(2) == 0,
        writable: rng.below(2) == 0,
    }
}

#[test]
fn no_instruction_data_makes_the_program_panic() {
    let seed = env_number("UPLINE_FUZZ_SEED", 0xF022);
    let inputs = env_number("UPLINE_FUZZ_NOISE_INPUTS", 20_000);
    let mut rng = Rng(seed);
    let known = discriminators();
    // Account discriminators, so that some noise passes Anchor's type checks.
    let accounts: Vec<Vec<u8>> = vec![
        upline::state::Network::DISCRIMINATOR.to_vec(),
        upline::state::Member::DISCRIMINATOR.to_vec(),
        upline::state::Ledger::DISCRIMINATOR.to_vec(),
        upline::state::RewardTables::DISCRIMINATOR.to_vec(),
        upline::state::Oracle::DISCRIMINATOR.to_vec(),
        upline::state::Model::DISCRIMINATOR.to_vec(),
    ];
    let program_id = upline::ID;
    let mut outcomes = Histogram::default();
    for input in 0..inputs {
        let data = match rng.below(3) {
            0 => noise_after::<&[u8]>(&mut rng, &[], 300),
            _ => noise_after(&mut rng, &known, 400),
        };
        let mut stored: Vec<Stored> = (0..rng.below(14))
            .map(|_| random_account(&mut rng, &accounts))
            .collect();
        let infos: Vec<AccountInfo> = stored
            .iter_mut()
            .map(|s| {
                AccountInfo::new(
                    &s.key,
                    s.signer,
                    s.writable,
                    &mut s.lamports,
                    &mut s.data[..],
                    &s.owner,
                    false,
                )
            })
            .collect();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            upline::entry(&program_id, &infos, &data)
        }));
        match outcome {
            Ok(Ok(())) => outcomes.add("Ok"),
            Ok(Err(anchor_lang::solana_program::program_error::ProgramError::Custom(code))) => {
                outcomes.add(Refusal::Code(code).name())
            }
            Ok(Err(other)) => outcomes.add(format!("{other:?}")),
            Err(_) => panic!(
                "seed {seed:#x}, input {input}: the program panicked on data {data:02x?} with {} accounts",
                infos.len()
            ),
        }
    }
    eprintln!("instruction noise: seed {seed:#x}, {inputs} inputs, no panic: {outcomes}");
}
