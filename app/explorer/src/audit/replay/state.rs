//! The replay's state as a checkpoint keeps it, so that the next audit
//! resumes after the last event replayed instead of starting over. It is cut
//! in two: the network's [`Core`] (tables, models, oracles, subnets, ledger
//! totals, counts, the mismatches found so far), one row per network, and a
//! [`MemberRow`] per member account (what the replay knows of it, its
//! credits, withdrawals, link and downline), so that a run reads and writes
//! only the members its new events touch, not all of a large network's.
//!
//! Both are borsh, base64 in a TEXT column, behind a version byte: a blob of
//! another version is not misread, the network is replayed from its creation.

use super::oracles::OracleBook;
use super::{Credits, Known, LastReport, Replay};
use crate::audit::Mismatch;
use crate::index::{b64, unb64};
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AnchorDeserialize, AnchorSerialize};
use std::collections::{BTreeMap, HashMap};
use upline::math::Ppm;
use upline::state::{NetworkTables, PromotionWindow, RewardTablesData};

/// The layout of [`Core`] and [`MemberRow`]; change it with either struct.
pub const VERSION: u8 = 1;

/// A network's replay state but its members, and the audit's findings.
#[derive(Default, AnchorSerialize, AnchorDeserialize)]
pub struct Core {
    tables: NetworkTables,
    created_at: i64,
    reward: RewardTablesData,
    reward_version: u32,
    decimals: BTreeMap<u8, u8>,
    models: HashMap<[u8; 32], (Ppm, u8)>,
    subnets: HashMap<[u8; 32], u32>,
    promotion: PromotionWindow,
    oracles: OracleBook,
    last_report: Option<LastReport>,
    funded: BTreeMap<u8, u128>,
    paid_out: BTreeMap<u8, u128>,
    pub reports: u64,
    /// Joins replayed (the next join's index).
    pub joined: u64,
    /// The index does not start at the network's creation: nothing replays.
    pub broken: bool,
    /// What the replay found, in event order.
    pub mismatches: Vec<Mismatch>,
    /// What the balance checks found per member, by its join index.
    pub balances: BTreeMap<u64, Vec<Mismatch>>,
    /// Member snapshots that did not decode, by address.
    pub undecodable: BTreeMap<String, Mismatch>,
}

/// One member account (or any key the replay keeps state for) of a network.
#[derive(Default, Clone, AnchorSerialize, AnchorDeserialize)]
pub struct MemberRow {
    known: Option<Known>,
    referees: Option<u32>,
    early_class_referees: Option<u32>,
    credits: Vec<(u8, Credits)>,
    withdrawn: Vec<(u8, u128)>,
    link: Option<Pubkey>,
    /// Its indexes among the network's joins (one, unless the index repeats a join).
    pub joined: Vec<u64>,
    /// Members below it at levels 1 to 3, as a recount of the links gives.
    pub downline: [u32; 3],
    /// The (position, ordinal) of the checkpoint it was saved with.
    pub stamp: (i64, i64),
}

impl Core {
    /// A network whose index does not start at its creation: nothing to
    /// replay, `found` is all there is to say.
    pub fn broken(found: Mismatch) -> Core {
        Core {
            broken: true,
            mismatches: vec![found],
            ..Core::default()
        }
    }
}

impl MemberRow {
    /// The accounts above it: the link, and the referrer the replay knows.
    pub fn uplinks(&self) -> impl Iterator<Item = Pubkey> + '_ {
        self.link
            .into_iter()
            .chain(self.known.as_ref().and_then(|k| k.referrer))
    }
}

/// `value` as a checkpoint's text: the version byte, then borsh, in base64.
pub fn encode<T: AnchorSerialize>(value: &T) -> String {
    let mut bytes = vec![VERSION];
    // Writing into a Vec cannot fail.
    let _ = value.serialize(&mut bytes);
    b64(&bytes)
}

/// A checkpoint's text, if it is of this [`VERSION`] and decodes whole.
pub fn decode<T: AnchorDeserialize>(text: &str) -> Option<T> {
    let bytes = unb64(text).ok()?;
    let (&version, body) = bytes.split_first()?;
    if version != VERSION {
        return None;
    }
    T::try_from_slice(body).ok()
}

impl Replay {
    /// A replay that goes on from `core` (its members are loaded with [`Replay::load`]).
    pub fn resume(core: Core) -> Replay {
        let mut replay = Replay {
            tables: core.tables,
            created_at: core.created_at,
            reward: core.reward,
            reward_version: core.reward_version,
            decimals: core.decimals,
            models: core.models,
            subnets: core.subnets,
            promotion: core.promotion,
            oracles: core.oracles,
            last_report: core.last_report,
            mismatches: core.mismatches,
            joined_before: core.joined,
            ..Replay::default()
        };
        replay.out.funded = core.funded;
        replay.out.paid_out = core.paid_out;
        replay.out.reports = usize::try_from(core.reports).unwrap_or(usize::MAX);
        replay
    }

    /// Take in what a checkpoint kept of `key`.
    pub fn load(&mut self, key: Pubkey, row: &MemberRow) {
        if let Some(known) = &row.known {
            self.members.insert(key, known.clone());
        }
        if let Some(n) = row.referees {
            self.referees.insert(key, n);
        }
        if let Some(n) = row.early_class_referees {
            self.early_class_referees.insert(key, n);
        }
        for (ledger, credits) in &row.credits {
            self.out.credits.insert((*ledger, key), *credits);
        }
        for (ledger, amount) in &row.withdrawn {
            self.out.withdrawn.insert((*ledger, key), *amount);
        }
        if let Some(up) = row.link {
            self.out.links.insert(key, up);
        }
    }

    /// Every key the replay keeps state for, as rows; `joined` holds the
    /// joins replayed here, `downline` and `stamp` are for the caller.
    pub fn rows(&self) -> HashMap<Pubkey, MemberRow> {
        let mut rows: HashMap<Pubkey, MemberRow> = HashMap::new();
        for (key, known) in &self.members {
            rows.entry(*key).or_default().known = Some(known.clone());
        }
        for (key, n) in &self.referees {
            rows.entry(*key).or_default().referees = Some(*n);
        }
        for (key, n) in &self.early_class_referees {
            rows.entry(*key).or_default().early_class_referees = Some(*n);
        }
        for ((ledger, key), credits) in &self.out.credits {
            rows.entry(*key)
                .or_default()
                .credits
                .push((*ledger, *credits));
        }
        for ((ledger, key), amount) in &self.out.withdrawn {
            rows.entry(*key)
                .or_default()
                .withdrawn
                .push((*ledger, *amount));
        }
        for (key, up) in &self.out.links {
            rows.entry(*key).or_default().link = Some(*up);
        }
        for (index, key) in self.out.members.iter().enumerate() {
            let index = self.joined_before + index as u64;
            rows.entry(*key).or_default().joined.push(index);
        }
        for row in rows.values_mut() {
            // A stable order: the same state gives the same bytes.
            row.credits.sort_by_key(|(ledger, _)| *ledger);
            row.withdrawn.sort_by_key(|(ledger, _)| *ledger);
        }
        rows
    }

    /// The network's part of the state, with the balance findings to carry.
    pub fn into_core(
        self,
        balances: BTreeMap<u64, Vec<Mismatch>>,
        undecodable: BTreeMap<String, Mismatch>,
    ) -> Core {
        Core {
            tables: self.tables,
            created_at: self.created_at,
            reward: self.reward,
            reward_version: self.reward_version,
            decimals: self.decimals,
            models: self.models,
            subnets: self.subnets,
            promotion: self.promotion,
            oracles: self.oracles,
            last_report: self.last_report,
            funded: self.out.funded,
            paid_out: self.out.paid_out,
            reports: self.out.reports as u64,
            joined: self.joined_before + self.out.members.len() as u64,
            broken: false,
            mismatches: self.mismatches,
            balances,
            undecodable,
        }
    }
}
