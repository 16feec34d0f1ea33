//! The stateful fuzz's model of one sequence: what the test itself counts
//! from the events of successful transactions, the invariants it holds the
//! accounts to after every step (see `tests/fuzz.rs`), and its coverage: per
//! operation, how often it was tried, succeeded, and was refused by name.

use crate::refusal::{Histogram, Refusal};
use crate::{Chain, TestNetwork};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use upline::events::Commission;
use upline::state::{Ledger, Member};
use upline_explorer::index::{record, snapshot};
use upline_explorer::source::from_journal;
use upline_sdk::events::UplineEvent;
use upline_sdk::graph::recount_downline;
use upline_sdk::preset::Preset;

/// One sequence's network and what the test itself has counted.
pub struct Run {
    pub ctx: String,
    pub preset: Preset,
    pub net: TestNetwork,
    pub members: Vec<Keypair>,
    /// WAD credited per ledger, from the events of successful transactions.
    pub credited: Vec<u128>,
    /// WAD withdrawn per ledger (events), and base units funded per ledger.
    pub withdrawn: Vec<u128>,
    pub funded: Vec<u128>,
    /// (earner, report id) pairs seen in events.
    pub reports: HashSet<(Pubkey, u64)>,
    pub next_id: HashMap<Pubkey, u64>,
    pub destinations: HashMap<(Pubkey, u8), Pubkey>,
    /// Nodes' attested (fingerprint, subnet) labels.
    pub attested: HashMap<Pubkey, (String, String)>,
    /// Base units minted per ledger (a mint's supply is a u64).
    pub minted: Vec<u128>,
    /// Providers' attested compute tiers (1-based).
    pub tiers: HashMap<Pubkey, u8>,
    /// Devices attested so far (for fresh fingerprints).
    pub devices: u32,
    /// Whether the network is paused (after the last successful `set_paused`).
    pub paused: bool,
    /// Transactions that succeeded and that were refused.
    pub outcomes: [u64; 2],
    /// What each operation did.
    pub coverage: Coverage,
}

/// What one operation did over a run: how often it was tried, how often it
/// succeeded, and each refusal by name.
#[derive(Default, Debug, Clone)]
pub struct OpCount {
    pub tried: u64,
    pub succeeded: u64,
    pub refused: Histogram,
}

/// Per operation, what the fuzz exercised, plus withdrawals by the mint's decimals.
#[derive(Default, Debug, Clone)]
pub struct Coverage {
    pub ops: BTreeMap<&'static str, OpCount>,
    /// Decimals of the ledger → (withdrawals tried, paid out).
    pub withdrawals_by_decimals: BTreeMap<u8, (u64, u64)>,
}

impl Coverage {
    /// Count one try of `op` and its outcome.
    pub fn record(&mut self, op: &'static str, outcome: Result<(), &Refusal>) {
        let count = self.ops.entry(op).or_default();
        count.tried += 1;
        match outcome {
            Ok(()) => count.succeeded += 1,
            Err(refusal) => count.refused.add(refusal.name()),
        }
    }

    pub fn merge(&mut self, other: &Coverage) {
        for (op, count) in &other.ops {
            let mine = self.ops.entry(op).or_default();
            mine.tried += count.tried;
            mine.succeeded += count.succeeded;
            mine.refused.merge(&count.refused);
        }
        for (decimals, (tried, paid)) in &other.withdrawals_by_decimals {
            let mine = self.withdrawals_by_decimals.entry(*decimals).or_default();
            mine.0 += tried;
            mine.1 += paid;
        }
    }

    /// Tried and succeeded, summed over `ops`.
    pub fn totals(&self, ops: &[&str]) -> (u64, u64) {
        ops.iter()
            .filter_map(|op| self.ops.get(op))
            .fold((0, 0), |(t, s), c| (t + c.tried, s + c.succeeded))
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (op, c) in &self.ops {
            let percent = 100.0 * c.succeeded as f64 / c.tried.max(1) as f64;
            write!(
                f,
                "  {op}: tried {}, succeeded {} ({percent:.0}%)",
                c.tried, c.succeeded
            )?;
            if c.refused.total() > 0 {
                write!(f, "; refused: {}", c.refused)?;
            }
            writeln!(f)?;
        }
        let by_decimals: Vec<String> = self
            .withdrawals_by_decimals
            .iter()
            .map(|(d, (tried, paid))| format!("{d} decimals {paid}/{tried}"))
            .collect();
        write!(
            f,
            "  withdrawals paid out by decimals: {}",
            by_decimals.join(", ")
        )
    }
}

impl Run {
    /// A fresh run on `net`, counting nothing yet.
    pub fn new(preset: Preset, net: TestNetwork) -> Run {
        let ledgers = net.ledgers.len();
        Run {
            ctx: String::new(),
            preset,
            net,
            members: Vec::new(),
            credited: vec![0; ledgers],
            withdrawn: vec![0; ledgers],
            funded: vec![0; ledgers],
            reports: HashSet::new(),
            next_id: HashMap::new(),
            destinations: HashMap::new(),
            attested: HashMap::new(),
            minted: vec![0; ledgers],
            tiers: HashMap::new(),
            devices: 0,
            paused: false,
            outcomes: [0, 0],
            coverage: Coverage::default(),
        }
    }

    pub fn token_ledgers(&self) -> Vec<u8> {
        self.net
            .ledgers
            .iter()
            .filter(|l| l.mint.is_some())
            .map(|l| l.index)
            .collect()
    }

    /// Every account whose change a failed transaction must not make.
    pub fn watched(&self) -> Vec<Pubkey> {
        let mut keys = vec![self.net.key, upline_sdk::pda::reward_tables(&self.net.key)];
        for l in &self.net.ledgers {
            keys.push(l.address);
            if l.mint.is_some() {
                keys.push(upline_sdk::pda::vault(&l.address));
            }
        }
        keys.extend(self.member_accounts());
        keys.extend(self.destinations.values());
        keys
    }

    pub fn count(&mut self, events: &[UplineEvent]) {
        let ctx = self.ctx.clone();
        for event in events {
            // A report: (earner, id, ledger, the earner's own credit, and each
            // commission with the member whose work it is paid on).
            let (earner, id, ledger, own, paid): (
                Pubkey,
                u64,
                u8,
                u128,
                Vec<(Pubkey, Commission)>,
            ) = match event {
                UplineEvent::DirectBonusCredited(e) => {
                    assert_ne!(e.referrer, e.referee, "{ctx}: a bonus for referring itself");
                    self.credited[usize::from(e.ledger_index)] += e.amount.0;
                    continue;
                }
                UplineEvent::Withdrawn(e) => {
                    self.withdrawn[usize::from(e.ledger_index)] += e.amount_wad.0;
                    continue;
                }
                UplineEvent::ComputeReported(e) => {
                    let paid = e.commissions.iter().map(|c| (e.provider, *c)).collect();
                    (e.provider, e.id, e.ledger_index, e.reward.0, paid)
                }
                UplineEvent::UsageReported(e) => {
                    let paid = e.commissions.iter().map(|c| (e.user, *c)).collect();
                    (e.user, e.id, e.ledger_index, e.points.0, paid)
                }
                // Each side pays its own referrer, who may be the other party.
                UplineEvent::RentalReported(e) => {
                    let sides = [(e.renter, e.renter_commission), (e.host, e.host_commission)];
                    let paid = sides
                        .iter()
                        .filter_map(|(s, c)| c.map(|c| (*s, c)))
                        .collect();
                    (e.renter, e.id, e.ledger_index, 0, paid)
                }
                UplineEvent::BandwidthReported(e) => {
                    let paid = e.referral.iter().map(|c| (e.node, *c)).collect();
                    (e.node, e.id, e.ledger_index, e.node_reward.0, paid)
                }
                _ => continue,
            };
            let total = &mut self.credited[usize::from(ledger)];
            *total += own;
            for (worker, c) in paid {
                assert_ne!(c.member, worker, "{ctx}: a commission on its own work");
                *total += c.amount.0;
            }
            assert!(
                self.reports.insert((earner, id)),
                "{ctx}: report {:?} counted twice",
                (earner, id)
            );
        }
    }

    /// Every membership of the run's members (member accounts).
    pub fn member_accounts(&self) -> Vec<Pubkey> {
        self.members
            .iter()
            .flat_map(|m| self.net.memberships(&m.pubkey()))
            .collect()
    }

    /// The invariants, from the accounts, against the test's own counts.
    pub async fn check(&self, chain: &mut Chain) {
        let ctx = &self.ctx;
        let mut states: Vec<(Pubkey, Member)> = Vec::new();
        for member in self.member_accounts() {
            states.push((member, chain.account(&member).await));
        }
        for l in &self.net.ledgers {
            let i = usize::from(l.index);
            let held: u128 = states
                .iter()
                .filter_map(|(_, s)| s.ledgers.get(i))
                .map(|s| s.credited().expect("sums").0)
                .sum();
            let out: u128 = states
                .iter()
                .filter_map(|(_, s)| s.ledgers.get(i))
                .map(|s| s.withdrawn.0)
                .sum();
            assert_eq!(
                held, self.credited[i],
                "{ctx}: {} credits in events != balances + withdrawals",
                l.name
            );
            assert_eq!(
                out, self.withdrawn[i],
                "{ctx}: {} withdrawals in events != members'",
                l.name
            );
            let ledger: Ledger = chain.account(&l.address).await;
            assert_eq!(ledger.funded, self.funded[i], "{ctx}: {} funded", l.name);
            if l.mint.is_some() {
                let vault = chain.token_balance(&ledger.vault).await;
                assert_eq!(
                    u128::from(vault),
                    ledger.funded - ledger.withdrawn,
                    "{ctx}: {} vault != funded - withdrawn",
                    l.name
                );
            }
        }
        let recount = recount_downline(states.iter().map(|(a, s)| (a, s)))
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));
        for (member, s) in &states {
            assert_eq!(
                s.downline, recount[member],
                "{ctx}: downline of member {member} (wallet {})",
                s.wallet
            );
        }
    }
}

/// Send `ixs` signed by `signers` as operation `op` (counted in the run's
/// coverage with its outcome); on failure check that nothing changed.
///
/// That check cannot fail in solana-program-test: the bank rolls a failed
/// transaction back as a whole. It guards the fuzz itself and is not counted
/// as coverage.
pub async fn attempt(
    chain: &mut Chain,
    run: &mut Run,
    op: &'static str,
    ixs: Vec<Instruction>,
    signers: &[&Keypair],
) -> Result<(), Refusal> {
    let watched = run.watched();
    let before = chain.snapshot(&watched).await;
    match chain.send(&ixs, signers).await {
        Ok(events) => {
            run.count(&events);
            run.outcomes[0] += 1;
            run.coverage.record(op, Ok(()));
            Ok(())
        }
        Err(failure) => {
            run.outcomes[1] += 1;
            let refusal = Refusal::of(&failure);
            // The bank turns a panic in the (native) program into this.
            assert_ne!(
                refusal,
                Refusal::Runtime("ProgramFailedToComplete".into()),
                "{}: the program panicked on {op}",
                run.ctx
            );
            run.coverage.record(op, Err(&refusal));
            let after = chain.snapshot(&watched).await;
            assert!(
                before == after,
                "{}: a failed transaction changed an account",
                run.ctx
            );
            Err(refusal)
        }
    }
}

/// Index what one sequence did (its slice of the journal) into a fresh
/// in-memory index and run the explorer's audit on it.
pub async fn audit_sequence(chain: &mut Chain, start: usize, ctx: &str) -> usize {
    let fetched = from_journal(&chain.journal[start..]);
    let mut store = upline_explorer::Store::open(":memory:")
        .await
        .expect("index");
    record(&mut store, "fuzz", &fetched).await.expect("record");
    let slot = chain.slot;
    snapshot(&mut store, chain, slot).await.expect("snapshot");
    let verdict = upline_explorer::audit::audit(&mut store)
        .await
        .expect("audit");
    assert!(
        verdict.passed(),
        "{ctx}: the audit disagrees\n{}",
        verdict.render()
    );
    verdict.reports
}
