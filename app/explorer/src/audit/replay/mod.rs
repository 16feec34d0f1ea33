//! The audit's replay: every event of a network in chain order, keeping the
//! state an auditor needs (tables and models in force, links, tiers,
//! attestations, streaks, activity) and recomputing each credit from the
//! report's inputs with [`super::exact`]. What disagrees becomes a mismatch.

mod graph;
mod oracles;
mod reports;
pub mod state;

use super::exact::{base_units, floor_wad, ppm, wad};
use super::{Check, Mismatch};
use crate::index::IndexedEvent;
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AnchorDeserialize, AnchorSerialize};
use std::collections::{BTreeMap, HashMap};
use upline::events::*;
use upline::math::{Ppm, Wad};
use upline::state::{
    BonusStep, ClassTable, CommissionTier, NetworkTables, PromotionWindow, RewardTablesData,
};
use upline_sdk::events::UplineEvent;

/// A member (one membership: the replay keys members by member account) as
/// the replay knows it.
#[derive(Default, Clone, AnchorSerialize, AnchorDeserialize)]
struct Known {
    wallet: Pubkey,
    class: u8,
    /// Among the network's first members, decided at join (Aether early member).
    early_member: bool,
    referrer: Option<Pubkey>,
    tier: Option<CommissionTier>,
    device_tier: u8,
    last_report_id: Option<u64>,
    last_work_time: i64,
    early_referee: bool,
    /// Frozen by the admin: its commissions and bonuses are withheld.
    frozen: bool,
    subnet: Option<[u8; 32]>,
    stable_since: i64,
    last_valid_work_time: i64,
    last_active_epoch: Option<u64>,
    activity_epoch: u64,
    /// Referees active in `activity_epoch` and the two epochs before.
    active: [u32; 3],
    bonus_paid: bool,
}

/// Credits by source, in WAD units.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct Credits {
    pub own: u128,
    pub levels: [u128; 3],
    pub bonus: u128,
}

impl Credits {
    pub fn total(&self) -> u128 {
        self.own + self.levels.iter().sum::<u128>() + self.bonus
    }
}

/// What the replay of one network leaves behind for the balance checks.
#[derive(Default)]
pub struct Replayed {
    /// (ledger index, member account) → credits from events.
    pub credits: HashMap<(u8, Pubkey), Credits>,
    /// (ledger index, member account) → WAD withdrawn, from events.
    pub withdrawn: HashMap<(u8, Pubkey), u128>,
    /// Ledger index → base units funded and withdrawn, from events.
    pub funded: BTreeMap<u8, u128>,
    pub paid_out: BTreeMap<u8, u128>,
    /// Member account → its referrer's member account, from the links.
    pub links: HashMap<Pubkey, Pubkey>,
    /// Member accounts, in join order.
    pub members: Vec<Pubkey>,
    pub reports: usize,
}

/// A report's transaction, earners and approvers, kept for the bonus event
/// that may follow it.
#[derive(AnchorSerialize, AnchorDeserialize)]
struct LastReport {
    signature: String,
    earners: Vec<Pubkey>,
    oracle: Pubkey,
    co_signers: Vec<Pubkey>,
    at: i64,
}

/// One network's replay.
#[derive(Default)]
pub struct Replay {
    tables: NetworkTables,
    created_at: i64,
    reward: RewardTablesData,
    reward_version: u32,
    decimals: BTreeMap<u8, u8>,
    models: HashMap<[u8; 32], (Ppm, u8)>,
    members: HashMap<Pubkey, Known>,
    subnets: HashMap<[u8; 32], u32>,
    promotion: PromotionWindow,
    /// Referees linked so far, per referrer.
    referees: HashMap<Pubkey, u32>,
    /// Referees of the early-referee class linked so far, per referrer.
    early_class_referees: HashMap<Pubkey, u32>,
    oracles: oracles::OracleBook,
    /// The last report: a first-work bonus it triggered counts against the
    /// same approvers' caps.
    last_report: Option<LastReport>,
    pub out: Replayed,
    pub mismatches: Vec<Mismatch>,
    signature: String,
    /// Joins replayed before this replay resumed (from a checkpoint).
    pub joined_before: u64,
}

fn steps_bonus(value: u64, steps: &[BonusStep]) -> Ppm {
    steps
        .iter()
        .filter(|s| s.at_least > 0 && value >= s.at_least)
        .map(|s| s.bonus)
        .max()
        .unwrap_or(Ppm::ZERO)
}

impl Replay {
    fn mismatch(&mut self, check: Check, detail: String) {
        self.mismatches.push(Mismatch {
            check,
            signature: Some(self.signature.clone()),
            detail,
        });
    }

    fn expect<T: PartialEq + std::fmt::Debug>(
        &mut self,
        check: Check,
        what: &str,
        got: T,
        want: T,
    ) {
        if got != want {
            self.mismatch(
                check,
                format!("{what}: event says {got:?}, recomputed {want:?}"),
            );
        }
    }

    fn credit(&mut self, ledger: u8, member: Pubkey, amount: Wad, level: Option<u8>) {
        let entry = self.out.credits.entry((ledger, member)).or_default();
        match level {
            None => entry.own += amount.0,
            Some(0) => entry.bonus += amount.0,
            Some(l) => entry.levels[usize::from(l.clamp(1, 3) - 1)] += amount.0,
        }
    }

    /// The table in force for `class` (all zero for a class the network lacks).
    fn class_table(&self, class: u8) -> ClassTable {
        self.tables
            .classes
            .get(usize::from(class))
            .copied()
            .unwrap_or_default()
    }

    /// The stored upline of `member`, nearest first, at most `depth` levels.
    fn upline(&self, member: &Pubkey, depth: usize) -> Vec<Pubkey> {
        let mut out = Vec::new();
        let mut at = *member;
        while out.len() < depth {
            match self.members.get(&at).and_then(|m| m.referrer) {
                Some(next) => {
                    out.push(next);
                    at = next;
                }
                None => break,
            }
        }
        out
    }

    /// A report id must be above the member's last one, and its work time
    /// within the maximum age of its landing, not after it, and not before the
    /// member's last work time (DESIGN.md §5).
    fn report_id(&mut self, member: Pubkey, id: u64, (work_time, at): (i64, i64)) {
        self.out.reports += 1;
        let (last, last_work) = self
            .members
            .get(&member)
            .map_or((None, 0), |m| (m.last_report_id, m.last_work_time));
        if last.is_some_and(|last| id <= last) {
            self.mismatch(
                Check::ReportIds,
                format!(
                    "report {id} about {member} counted after report {}",
                    last.unwrap_or_default()
                ),
            );
        }
        let oldest = at.saturating_sub(self.tables.max_report_age_seconds);
        if work_time > at || work_time < oldest || work_time < last_work {
            self.mismatch(
                Check::ReportIds,
                format!(
                    "report {id} about {member}: work time {work_time} landed at {at} \
                     (oldest allowed {oldest}, member's last work time {last_work})"
                ),
            );
        }
        if let Some(m) = self.members.get_mut(&member) {
            m.last_report_id = Some(id);
            m.last_work_time = work_time;
        }
    }

    fn known(&mut self, member: &Pubkey) -> Option<Known> {
        let found = self.members.get(member).cloned();
        if found.is_none() {
            self.mismatch(
                Check::Graph,
                format!("{member} is named by a report but never joined"),
            );
        }
        found
    }

    /// Commissions up the stored chain on `amount`, by the earner's class schedule.
    fn check_commissions(
        &mut self,
        earner: &Pubkey,
        class: u8,
        ledger: u8,
        amount: Wad,
        paid: &[Commission],
    ) {
        let table = self.class_table(class);
        let rates: Vec<Ppm> =
            table.commission_rates[..usize::from(table.referral_depth.min(3))].to_vec();
        let chain = self.upline(earner, rates.len());
        let want: Vec<Commission> = chain
            .iter()
            .zip(&rates)
            .enumerate()
            .map(|(i, (member, rate))| Commission {
                member: *member,
                level: (i + 1) as u8,
                rate: *rate,
                amount: floor_wad(&(wad(amount) * ppm(*rate))).unwrap_or_default(),
                withheld: self.is_frozen(member),
            })
            .collect();
        let earner_wallet = self.members.get(earner).map(|m| m.wallet);
        let own_wallet = |c: &Commission| {
            *earner == c.member || self.members.get(&c.member).map(|m| m.wallet) == earner_wallet
        };
        if paid.iter().any(own_wallet) {
            self.mismatch(
                Check::SelfCommission,
                format!("{earner} earned a commission on its own report"),
            );
        }
        self.expect(Check::Commissions, "commissions", paid.to_vec(), want);
        for c in paid.iter().filter(|c| !c.withheld) {
            self.credit(ledger, c.member, c.amount, Some(c.level));
        }
    }

    /// Apply one event, checking what it credits.
    pub fn apply(&mut self, indexed: &IndexedEvent) {
        self.signature = indexed.signature.clone();
        match &indexed.event {
            UplineEvent::NetworkCreated(e) => {
                self.tables = e.tables;
                self.created_at = e.created_at;
            }
            UplineEvent::TablesUpdated(e) => self.tables = e.tables,
            UplineEvent::LedgerAdded(e) => {
                self.decimals.insert(e.index, e.decimals);
            }
            UplineEvent::RewardTablesSet(e) => {
                self.reward = e.data;
                self.reward_version = e.version;
            }
            UplineEvent::ModelSet(e) => {
                self.models.insert(e.name, (e.complexity, e.min_tier));
            }
            UplineEvent::PromotionSet(e) => self.promotion = e.window,
            UplineEvent::VaultFunded(e) => {
                *self.out.funded.entry(e.index).or_default() += u128::from(e.amount)
            }
            UplineEvent::MemberJoined(e) => {
                self.out.members.push(e.member);
                // Decided under the tables in force at join, never again.
                let limit = self.tables.early_bonus.early_member_limit;
                let early_member = limit > 0 && e.join_ordinal <= limit;
                self.expect(Check::Graph, "early member", e.early_member, early_member);
                self.members.insert(
                    e.member,
                    Known {
                        wallet: e.wallet,
                        class: e.class,
                        early_member,
                        ..Known::default()
                    },
                );
            }
            UplineEvent::ReferrerLinked(e) => self.link(e),
            UplineEvent::MemberTierSet(e) => {
                if let Some(m) = self.members.get_mut(&e.member) {
                    m.tier = Some(e.tier);
                }
            }
            UplineEvent::DirectBonusCredited(e) => self.bonus(e),
            UplineEvent::Withdrawn(e) => {
                *self
                    .out
                    .withdrawn
                    .entry((e.ledger_index, e.member))
                    .or_default() += e.amount_wad.0;
                *self.out.paid_out.entry(e.ledger_index).or_default() += u128::from(e.amount);
                let decimals = self.decimals.get(&e.ledger_index).copied().unwrap_or(0);
                let want = floor_wad(&base_units(e.amount, decimals)).unwrap_or_default();
                self.expect(Check::Balances, "withdrawal in WAD", e.amount_wad, want);
            }
            UplineEvent::ProviderAttested(e) => {
                self.approved(e.oracle, &e.co_signers, &[], e.at);
                let tiers = &self.reward.compute.tiers;
                let want = tiers
                    .iter()
                    .position(|t| e.vram_mb <= t.max_vram_mb)
                    .unwrap_or(tiers.len() - 1)
                    + 1;
                self.expect(Check::Rewards, "provider tier", e.tier, want as u8);
                if let Some(m) = self.members.get_mut(&e.member) {
                    m.device_tier = e.tier;
                }
            }
            UplineEvent::NodeAttested(e) => {
                self.approved(e.oracle, &e.co_signers, &[], e.at);
                let count = self.subnets.entry(e.subnet).or_default();
                *count += 1;
                let want = *count;
                self.expect(
                    Check::Rewards,
                    "subnet nodes at attestation",
                    e.subnet_nodes,
                    want,
                );
                if let Some(m) = self.members.get_mut(&e.member) {
                    m.subnet = Some(e.subnet);
                }
            }
            UplineEvent::ComputeReported(e) => self.compute(e),
            UplineEvent::UsageReported(e) => self.usage(e),
            UplineEvent::RentalReported(e) => self.rental(e),
            UplineEvent::BandwidthReported(e) => self.bandwidth(e),
            UplineEvent::OracleAdded(e) => self.oracles.added(e.oracle),
            UplineEvent::OracleRemoved(e) => self.oracles.removed(&e.oracle),
            UplineEvent::OracleQuorumSet(e) => self.oracles.quorum_set(e.quorum),
            UplineEvent::OracleCapSet(e) => {
                self.oracles
                    .cap_set(e.oracle, e.ledger_index, e.limit.0, e.window_seconds)
            }
            UplineEvent::MemberFrozenSet(e) => {
                if let Some(m) = self.members.get_mut(&e.member) {
                    m.frozen = e.frozen;
                }
            }
            UplineEvent::DeviceDeregistered(e) => {
                let count = self.subnets.entry(e.subnet).or_default();
                *count = count.saturating_sub(1);
                let want = *count;
                self.expect(
                    Check::Rewards,
                    "subnet nodes after deregistration",
                    e.subnet_nodes,
                    want,
                );
                if let Some(m) = self.members.get_mut(&e.member) {
                    m.subnet = None;
                }
            }
            UplineEvent::LedgerUpdated(_)
            | UplineEvent::MemberLedgersOpened(_)
            | UplineEvent::PauseSet(_)
            | UplineEvent::AdminProposed(_)
            | UplineEvent::AdminAccepted(_) => {}
        }
    }
}
