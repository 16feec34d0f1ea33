//! The model's state: memberships (DESIGN.md §3 rule 6: one per wallet and
//! class), the names a scenario uses for them, ledgers and credits.

use super::num::{wad_floor, Wad, Q};
use super::tables::Tables;
use num_traits::Zero;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a member holds on one ledger, per source (§8's member-ledger values).
#[derive(Clone, Default, Debug)]
pub struct Slot {
    pub own: Wad,
    pub levels: [Wad; 3],
    pub bonus: Wad,
    pub withdrawn: Wad,
}

impl Slot {
    pub fn credited(&self) -> Wad {
        &self.own + &self.levels[0] + &self.levels[1] + &self.levels[2] + &self.bonus
    }

    pub fn balance(&self) -> Wad {
        self.credited() - &self.withdrawn
    }
}

/// Where a credit goes in a slot.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    Own,
    Level(usize),
    Bonus,
}

/// A membership: one node of the referral graph.
#[derive(Clone, Debug)]
pub struct Member {
    pub name: String,
    pub wallet: String,
    pub class: usize,
    pub referrer: Option<usize>,
    pub downline: [u64; 3],
    pub slots: Vec<Slot>,
    /// Last recorded report id and work time (both start at 0).
    pub last_id: u64,
    pub last_work: i64,
    /// Providers: attested VRAM in MiB.
    pub vram_mb: Option<u64>,
    /// Nodes: the subnet of its attested device.
    pub subnet: Option<String>,
    /// Clore tier: 0 standard, 1 premium, 2 vip.
    pub tier: usize,
    /// Aether: among the network's first members (fixed at join).
    pub early_member: bool,
    /// Aether: among its referrer's first referred nodes, linked in the growth phase.
    pub early_node: bool,
    /// Aether: referees of the early class linked to it (slots used).
    pub early_referees: u64,
    /// Aether: the current stable streak (its start, the last valid work time).
    pub streak: Option<(i64, i64)>,
    /// Aether, as a referrer: epoch -> referees with a valid report in it
    /// (counted when the report is recorded).
    pub active: BTreeMap<i64, BTreeSet<usize>>,
}

/// What a name in the scenario stands for.
#[derive(Clone, Debug)]
pub struct Name {
    /// `None` when its join failed: it does not exist (§8).
    pub member: Option<usize>,
    pub wallet: String,
    pub class: usize,
}

/// The promotion window (absolute unix times).
#[derive(Clone, Debug)]
pub struct Promotion {
    pub rate: Q,
    pub start: i64,
    pub end: i64,
}

#[derive(Clone)]
pub struct Model {
    pub tables: std::rc::Rc<Tables>,
    pub start: i64,
    pub now: i64,
    pub members: Vec<Member>,
    pub names: HashMap<String, Name>,
    /// (wallet, class) -> member.
    pub held: HashMap<(String, usize), usize>,
    pub fingerprints: BTreeSet<String>,
    pub subnets: HashMap<String, u64>,
    pub promotion: Option<Promotion>,
    /// Per ledger: tokens in the vault (WAD).
    pub vault: Vec<Wad>,
    /// Refusals in the order they happened (§8 `rejected`).
    pub rejected: Vec<serde_json::Value>,
    /// What the run exercised, for the summary ("compute ok", "withdraw BelowMinimum"...).
    pub tally: BTreeMap<String, u64>,
    /// Reports whose growth bonus depends on how "the current epoch" is read
    /// (see `bandwidth.rs`).
    pub epoch_ambiguities: u64,
}

impl Model {
    pub fn new(tables: std::rc::Rc<Tables>, start: i64) -> Model {
        let ledgers = tables.ledgers.len();
        Model {
            tables,
            start,
            now: start,
            members: Vec::new(),
            names: HashMap::new(),
            held: HashMap::new(),
            fingerprints: BTreeSet::new(),
            subnets: HashMap::new(),
            promotion: None,
            vault: vec![Wad::zero(); ledgers],
            rejected: Vec::new(),
            tally: BTreeMap::new(),
            epoch_ambiguities: 0,
        }
    }

    pub fn count(&mut self, what: impl Into<String>) {
        *self.tally.entry(what.into()).or_default() += 1;
    }

    /// The member a step names, or `UnknownMember` (never joined, or its join failed).
    pub fn member(&self, name: &str) -> Result<usize, &'static str> {
        self.names
            .get(name)
            .and_then(|n| n.member)
            .ok_or("UnknownMember")
    }

    /// The memberships `wallet` holds, by class.
    pub fn memberships(&self, wallet: &str) -> Vec<(usize, usize)> {
        let mut held: Vec<(usize, usize)> = self
            .held
            .iter()
            .filter(|((w, _), _)| w == wallet)
            .map(|((_, class), member)| (*class, *member))
            .collect();
        held.sort_unstable();
        held
    }

    /// The referrer up to three levels above `member`.
    pub fn upline(&self, member: usize) -> Vec<usize> {
        let mut chain = Vec::new();
        let mut at = self.members[member].referrer;
        while let Some(r) = at {
            if chain.len() == 3 {
                break;
            }
            chain.push(r);
            at = self.members[r].referrer;
        }
        chain
    }

    pub fn credit(&mut self, member: usize, ledger: usize, source: Source, amount: &Wad) {
        let slot = &mut self.members[member].slots[ledger];
        match source {
            Source::Own => slot.own += amount,
            Source::Level(l) => slot.levels[l] += amount,
            Source::Bonus => slot.bonus += amount,
        }
    }

    /// Credit `earner` its own `amount` and each level of its upline its
    /// class's schedule, computed from the already-rounded amount (§2).
    pub fn credit_with_commissions(&mut self, earner: usize, ledger: usize, amount: &Wad) {
        self.credit(earner, ledger, Source::Own, amount);
        let rates = self.tables.classes[self.members[earner].class]
            .rates
            .clone();
        let own = super::num::wad_q(amount);
        for (level, referrer) in self.upline(earner).into_iter().enumerate() {
            if let Some(rate) = rates.get(level) {
                let value = wad_floor(&(&own * rate));
                self.credit(referrer, ledger, Source::Level(level), &value);
                self.count(format!("commission level{}", level + 1));
            }
        }
    }
}
