//! The stateful fuzz's model of one sequence: what the test itself counts
//! from the events of successful transactions, the invariants it holds the
//! accounts to after every step (see `tests/fuzz.rs`), and its coverage: per
//! operation, how often it was tried, succeeded, and was refused by name.
//!
//! The model also keeps what issue 13 added: the oracle set and quorum (every
//! report and attestation approved by at least the quorum of distinct
//! registered oracles), each oracle's credit caps with their windows (charged
//! from the events as the program charges them, and compared with the
//! registrations after every step), frozen members (commissions and bonuses
//! withheld exactly when their member is frozen, balances untouched while
//! frozen) and attested devices (each subnet counts the nodes attested in it).

use crate::refusal::{Histogram, Refusal};
use crate::{Chain, TestNetwork};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use upline::constants::MAX_LEDGERS;
use upline::events::Commission;
use upline::math::Wad;
use upline::state::{
    CreditCap, Ledger, Member, MemberFlags, MemberLedger, Network, Oracle, Subnet,
};
use upline_explorer::index::{record, snapshot};
use upline_explorer::source::from_journal;
use upline_sdk::events::UplineEvent;
use upline_sdk::graph::recount_downline;
use upline_sdk::pda;
use upline_sdk::preset::Preset;

/// The subnets the fuzz attests nodes in.
pub const SUBNETS: [&str; 3] = ["subnet-0", "subnet-1", "subnet-2"];

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
    /// The network's oracles: its own first, then those added at set-up.
    pub oracles: Vec<Keypair>,
    /// The quorum after the last successful `set_oracle_quorum`.
    pub quorum: u8,
    /// Every oracle's credit caps per ledger index, as the model counts them.
    pub caps: HashMap<Pubkey, [CreditCap; MAX_LEDGERS]>,
    /// Frozen memberships, with their ledgers when frozen (which must not change).
    pub frozen: HashMap<Pubkey, Vec<MemberLedger>>,
    /// Nodes whose device was deregistered (and not attested since), with its labels.
    pub deregistered: HashMap<Pubkey, (String, String)>,
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

/// Per operation, what the fuzz exercised, plus withdrawals by the mint's
/// decimals and counts of what some operations did (notes).
#[derive(Default, Debug, Clone)]
pub struct Coverage {
    pub ops: BTreeMap<&'static str, OpCount>,
    /// Decimals of the ledger → (withdrawals tried, paid out).
    pub withdrawals_by_decimals: BTreeMap<u8, (u64, u64)>,
    /// What happened how often ("commissions withheld", "co-signed reports"...).
    pub notes: BTreeMap<&'static str, u64>,
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

    /// Count one `what`.
    pub fn note(&mut self, what: &'static str) {
        *self.notes.entry(what).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Coverage) {
        for (what, n) in &other.notes {
            *self.notes.entry(what).or_default() += n;
        }
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
        for (what, n) in &self.notes {
            writeln!(f, "  {what}: {n}")?;
        }
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
        let oracle = net.oracle.insecure_clone();
        Run {
            caps: HashMap::from([(oracle.pubkey(), Default::default())]),
            oracles: vec![oracle],
            quorum: 1,
            frozen: HashMap::new(),
            deregistered: HashMap::new(),
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
        for oracle in &self.oracles {
            keys.push(pda::oracle(&self.net.key, &oracle.pubkey()));
        }
        keys
    }

    /// Whether the membership `member` is frozen.
    pub fn is_frozen(&self, member: &Pubkey) -> bool {
        self.frozen.contains_key(member)
    }

    /// Whether charging `credits` to each of `approvers` at `now` would take
    /// one of them past a cap (the model's caps are left as they are).
    pub fn exceeds(&self, approvers: &[Pubkey], credits: &[(u8, u128)], now: i64) -> bool {
        approvers.iter().any(|key| {
            let mut caps = self.caps.get(key).copied().unwrap_or_default();
            credits.iter().any(|(ledger, amount)| {
                charge(&mut caps[usize::from(*ledger)], *amount, now).is_err()
            })
        })
    }

    /// The approvals of a report or attestation: distinct registered oracles
    /// of the run, at least the quorum.
    fn check_approvers(&self, approvers: &[Pubkey]) {
        let ctx = &self.ctx;
        let distinct: HashSet<&Pubkey> = approvers.iter().collect();
        assert_eq!(
            distinct.len(),
            approvers.len(),
            "{ctx}: an oracle approved twice"
        );
        assert!(
            approvers.len() >= usize::from(self.quorum),
            "{ctx}: {} approvals for a quorum of {}",
            approvers.len(),
            self.quorum
        );
        for key in approvers {
            assert!(
                self.oracles.iter().any(|o| o.pubkey() == *key),
                "{ctx}: {key} approved but is not an oracle"
            );
        }
    }

    /// Count the events of one successful transaction (of one instruction)
    /// that landed at `now`.
    pub fn count(&mut self, events: &[UplineEvent], now: i64) {
        let ctx = self.ctx.clone();
        for event in events {
            match event {
                UplineEvent::ProviderAttested(e) => {
                    self.check_approvers(&approvers(e.oracle, &e.co_signers));
                }
                UplineEvent::NodeAttested(e) => {
                    self.check_approvers(&approvers(e.oracle, &e.co_signers));
                }
                _ => {}
            }
        }
        // What the report credits, charged to each approver's caps.
        if let Some((approvers, credits)) = report_credits(events) {
            self.check_approvers(&approvers);
            if approvers.len() > 1 {
                self.coverage.note("co-signed reports");
            }
            for key in &approvers {
                let caps = self.caps.entry(*key).or_default();
                for (ledger, amount) in &credits {
                    let cap = &mut caps[usize::from(*ledger)];
                    let capped = cap.limit != Wad::ZERO && *amount > 0;
                    if charge(cap, *amount, now).is_err() {
                        panic!("{ctx}: oracle {key} credited past its cap on ledger {ledger}");
                    }
                    if capped {
                        self.coverage.note("report credits counted against a cap");
                    }
                }
            }
        }
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
                    assert_eq!(
                        e.withheld,
                        self.is_frozen(&e.referrer),
                        "{ctx}: a bonus is withheld exactly when its referrer is frozen"
                    );
                    if e.withheld {
                        self.coverage.note("bonuses withheld");
                    } else {
                        self.credited[usize::from(e.ledger_index)] += e.amount.0;
                    }
                    continue;
                }
                UplineEvent::Withdrawn(e) => {
                    assert!(
                        !self.is_frozen(&e.member),
                        "{ctx}: a frozen member withdrew"
                    );
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
                    assert!(!self.is_frozen(&e.host), "{ctx}: a rental of a frozen host");
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
            for (worker, _) in &paid {
                assert!(
                    !self.is_frozen(worker),
                    "{ctx}: a report about a frozen member"
                );
            }
            assert!(
                !self.is_frozen(&earner),
                "{ctx}: a report about a frozen member"
            );
            let mut total = own;
            for (worker, c) in paid {
                assert_ne!(c.member, worker, "{ctx}: a commission on its own work");
                assert_eq!(
                    c.withheld,
                    self.is_frozen(&c.member),
                    "{ctx}: a commission is withheld exactly when its member is frozen"
                );
                if c.withheld {
                    self.coverage.note("commissions withheld");
                } else {
                    total += c.amount.0;
                }
            }
            self.credited[usize::from(ledger)] += total;
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
        self.check_oracles(chain, &states).await;
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

impl Run {
    /// The oracle set, quorum and caps; frozen members; attested devices.
    async fn check_oracles(&self, chain: &mut Chain, states: &[(Pubkey, Member)]) {
        let ctx = &self.ctx;
        let network: Network = chain.account(&self.net.key).await;
        assert_eq!(
            (usize::from(network.oracle_count), network.oracle_quorum),
            (self.oracles.len(), self.quorum),
            "{ctx}: oracles and quorum"
        );
        for oracle in &self.oracles {
            let key = oracle.pubkey();
            let registration: Oracle = chain.account(&pda::oracle(&self.net.key, &key)).await;
            assert_eq!(
                registration.caps,
                self.caps.get(&key).copied().unwrap_or_default(),
                "{ctx}: oracle {key}'s caps and windows"
            );
        }
        for (member, state) in states {
            assert_eq!(
                state.flags.has(MemberFlags::FROZEN),
                self.is_frozen(member),
                "{ctx}: member {member} frozen"
            );
            if let Some(ledgers) = self.frozen.get(member) {
                assert_eq!(
                    &state.ledgers, ledgers,
                    "{ctx}: a frozen member's balances moved"
                );
            }
        }
        if self.preset.name != "aether" {
            return;
        }
        for (wallet, attested) in self
            .attested
            .keys()
            .map(|w| (w, true))
            .chain(self.deregistered.keys().map(|w| (w, false)))
        {
            let member = self.net.member(wallet);
            let state = &states
                .iter()
                .find(|(m, _)| *m == member)
                .expect("a member of the run")
                .1;
            assert_eq!(
                state.flags.has(MemberFlags::ATTESTED),
                attested,
                "{ctx}: node {member} attested"
            );
        }
        for label in SUBNETS {
            let nodes = self.attested.values().filter(|(_, s)| s == label).count();
            let key = pda::subnet(&self.net.key, &crate::reports::hash32(label));
            let stored = match chain.data(&key).await {
                Some(_) => chain.account::<Subnet>(&key).await.nodes,
                None => 0,
            };
            assert_eq!(stored as usize, nodes, "{ctx}: nodes attested in {label}");
        }
    }
}

/// The oracles that approved: the primary, then the co-signers.
pub fn approvers(oracle: Pubkey, co_signers: &[Pubkey]) -> Vec<Pubkey> {
    std::iter::once(oracle)
        .chain(co_signers.iter().copied())
        .collect()
}

/// A credit the model's cap refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastTheCap;

/// A report's approvers, and what it credits per ledger (WAD), in order.
pub type ReportCredits = (Vec<Pubkey>, Vec<(u8, u128)>);

/// The model of a cap: count `amount` credited at `now` (WAD), or `Err` when
/// it would pass the limit. A window starts at the first credit at or after
/// the previous window's end; no limit, or nothing credited, counts nothing.
pub fn charge(cap: &mut CreditCap, amount: u128, now: i64) -> Result<(), PastTheCap> {
    if cap.limit == Wad::ZERO || amount == 0 {
        return Ok(());
    }
    if now >= cap.window_start.saturating_add(cap.window_seconds) {
        cap.window_start = now;
        cap.credited = Wad::ZERO;
    }
    let credited = cap.credited.0.checked_add(amount).ok_or(PastTheCap)?;
    if credited > cap.limit.0 {
        return Err(PastTheCap);
    }
    cap.credited = Wad(credited);
    Ok(())
}

/// The report among the events of one instruction: its approvers, and what
/// it credits per ledger (the earner's own plus the commissions paid on the
/// report's ledger, then each bonus paid), in the order the caps count them.
pub fn report_credits(events: &[UplineEvent]) -> Option<ReportCredits> {
    let paid =
        |c: &[Commission]| -> u128 { c.iter().filter(|c| !c.withheld).map(|c| c.amount.0).sum() };
    let (approvers, credit) = events.iter().find_map(|event| match event {
        UplineEvent::ComputeReported(e) => Some((
            approvers(e.oracle, &e.co_signers),
            (e.ledger_index, e.reward.0 + paid(&e.commissions)),
        )),
        UplineEvent::UsageReported(e) => Some((
            approvers(e.oracle, &e.co_signers),
            (e.ledger_index, e.points.0 + paid(&e.commissions)),
        )),
        UplineEvent::RentalReported(e) => {
            let sides: Vec<Commission> = [e.renter_commission, e.host_commission]
                .into_iter()
                .flatten()
                .collect();
            Some((
                approvers(e.oracle, &e.co_signers),
                (e.ledger_index, paid(&sides)),
            ))
        }
        UplineEvent::BandwidthReported(e) => {
            let referral: Vec<Commission> = e.referral.into_iter().collect();
            Some((
                approvers(e.oracle, &e.co_signers),
                (e.ledger_index, e.node_reward.0 + paid(&referral)),
            ))
        }
        _ => None,
    })?;
    let mut credits = vec![credit];
    for event in events {
        if let UplineEvent::DirectBonusCredited(b) = event {
            if !b.withheld {
                credits.push((b.ledger_index, b.amount.0));
            }
        }
    }
    Some((approvers, credits))
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
            run.count(&events, chain.now);
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
    let store = upline_explorer::Store::open(":memory:")
        .await
        .expect("index");
    record(&store, "fuzz", &fetched).await.expect("record");
    let slot = chain.slot;
    snapshot(&store, chain, slot).await.expect("snapshot");
    let verdict = upline_explorer::audit::audit(&store).await.expect("audit");
    assert!(
        verdict.passed(),
        "{ctx}: the audit disagrees\n{}",
        verdict.render()
    );
    verdict.reports
}
