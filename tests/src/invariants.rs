//! The stateful fuzz's model of one sequence: what the test itself counts
//! from the events of successful transactions, and the invariants it holds
//! the accounts to after every step (see `tests/fuzz.rs`).

use crate::{Chain, TestNetwork};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::{HashMap, HashSet};
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
    pub funded: Vec<u64>,
    /// (earner, report id) pairs seen in events.
    pub reports: HashSet<(Pubkey, u64)>,
    pub next_id: HashMap<Pubkey, u64>,
    pub destinations: HashMap<(Pubkey, u8), Pubkey>,
    /// Nodes' attested (fingerprint, subnet) labels.
    pub attested: HashMap<Pubkey, (String, String)>,
    /// Transactions that succeeded and that were refused.
    pub outcomes: [u64; 2],
}

impl Run {
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
        keys.extend(self.members.iter().map(|m| self.net.member(&m.pubkey())));
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
                assert_ne!(c.wallet, worker, "{ctx}: a commission on its own work");
                *total += c.amount.0;
            }
            assert!(
                self.reports.insert((earner, id)),
                "{ctx}: report {:?} counted twice",
                (earner, id)
            );
        }
    }

    /// The invariants, from the accounts, against the test's own counts.
    pub async fn check(&self, chain: &mut Chain) {
        let ctx = &self.ctx;
        let mut states: Vec<Member> = Vec::new();
        for m in &self.members {
            states.push(chain.account(&self.net.member(&m.pubkey())).await);
        }
        for l in &self.net.ledgers {
            let i = usize::from(l.index);
            let held: u128 = states
                .iter()
                .filter_map(|s| s.ledgers.get(i))
                .map(|s| s.credited().expect("sums").0)
                .sum();
            let out: u128 = states
                .iter()
                .filter_map(|s| s.ledgers.get(i))
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
                    vault,
                    ledger.funded - ledger.withdrawn,
                    "{ctx}: {} vault != funded - withdrawn",
                    l.name
                );
            }
        }
        let recount = recount_downline(states.iter()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        for s in &states {
            assert_eq!(
                s.downline, recount[&s.wallet],
                "{ctx}: downline of {}",
                s.wallet
            );
        }
    }
}

/// Send `ixs` signed by `signers`; on failure check that nothing changed.
pub async fn attempt(
    chain: &mut Chain,
    run: &mut Run,
    ixs: Vec<Instruction>,
    signers: &[&Keypair],
) -> bool {
    let watched = run.watched();
    let before = chain.snapshot(&watched).await;
    match chain.send(&ixs, signers).await {
        Ok(events) => {
            run.count(&events);
            run.outcomes[0] += 1;
            true
        }
        Err(_) => {
            run.outcomes[1] += 1;
            let after = chain.snapshot(&watched).await;
            assert!(
                before == after,
                "{}: a failed transaction changed an account",
                run.ctx
            );
            false
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
