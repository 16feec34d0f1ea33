//! The network: one deployment of a reward program, with its admin and tables.

use crate::constants::{MAX_CLASSES, MAX_LABEL_LEN, MAX_LEDGERS, MAX_REFERRAL_DEPTH};
use crate::errors::UplineError;
use crate::math::{Ppm, Wad};
use crate::state::{Ledger, LedgerKind};
use anchor_lang::prelude::*;

/// When a class's direct bonus is paid to the referrer.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub enum BonusTrigger {
    /// The class pays no direct bonus.
    #[default]
    Never,
    /// Paid when the link is made (Cxmpute).
    AtLink,
    /// Paid at the referee's first verified work report (sybil resistance);
    /// paid at link instead if the referee has already worked.
    FirstWork,
}

/// A member class (user, provider, account, node...) and what referring into it pays.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct ClassTable {
    /// UTF-8 name, zero-padded ("provider").
    pub name: [u8; MAX_LABEL_LEN],
    /// Levels of upline paid on this class's earnings (0 to 3).
    pub referral_depth: u8,
    /// Commission of level 1, 2 and 3 on the earner's rounded reward; unused levels are 0.
    pub commission_rates: [Ppm; MAX_REFERRAL_DEPTH],
    /// Paid to a referrer of this class for each new referee (DESIGN.md §3.4).
    pub direct_bonus: Wad,
    /// Ledger index the direct bonus is credited to.
    pub direct_bonus_ledger: u8,
    /// When the direct bonus is paid.
    pub direct_bonus_trigger: BonusTrigger,
}

/// Aether's early-participation policy: who counts as an early referee or member.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct EarlyBonusPolicy {
    /// Seconds after network creation during which links count as early (0 = none).
    pub growth_phase_seconds: i64,
    /// A referee is early if it is among its referrer's first N referees of
    /// `early_referee_class` (Aether: the first 10 referred nodes; 0 = none).
    pub early_referee_limit: u32,
    /// A member is early if its join ordinal is at most N (0 = none); fixed at
    /// join, so a later tables update does not change it.
    pub early_member_limit: u32,
    /// The class whose referees take early-referee slots (Aether: node);
    /// referees of other classes never use a slot.
    pub early_referee_class: u8,
}

/// Everything an admin sets when creating a network or updating its tables.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct NetworkTables {
    /// How many entries of `classes` are in use (1 to 4).
    pub class_count: u8,
    /// Member classes, indexed by a member's `class`.
    pub classes: [ClassTable; MAX_CLASSES],
    /// Whether referrer and referee must share a class (Cxmpute: yes).
    pub same_class_referrals: bool,
    /// Commission rate of each commission tier: standard, premium, vip (Clore).
    pub tier_rates: [Ppm; 3],
    /// Early referee and early member policy (Aether).
    pub early_bonus: EarlyBonusPolicy,
    /// Oldest work time a report may carry, in seconds before the clock
    /// (default 7 days): oracles batch and retry, but not forever.
    pub max_report_age_seconds: i64,
}

/// A promotion window: while `start <= now < end`, rental commissions use `rate`.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct PromotionWindow {
    /// Commission rate during the window, for every referrer whatever its tier.
    pub rate: Ppm,
    /// First second of the window (unix time, on-chain clock).
    pub start: i64,
    /// First second after the window.
    pub end: i64,
}

impl PromotionWindow {
    /// Whether the window is open at `time` (a report's work time: "rentals
    /// made during the promotion", whenever the report lands).
    pub fn is_open(&self, time: i64) -> bool {
        self.start <= time && time < self.end
    }
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Network {
    /// Canonical bump of this PDA.
    pub bump: u8,
    /// Wallet that created the network; part of the PDA seeds, never changes.
    pub creator: Pubkey,
    /// UTF-8 name, zero-padded; part of the PDA seeds.
    pub name: [u8; 32],
    /// Wallet allowed to run admin instructions.
    pub admin: Pubkey,
    /// Wallet proposed as the next admin; `Pubkey::default()` when none.
    pub pending_admin: Pubkey,
    /// While true, joins, links, withdrawals and reports are refused.
    pub paused: bool,
    /// Unix time of creation; Aether's growth phase counts from here.
    pub created_at: i64,
    /// Members joined so far; the next member gets `member_count + 1` as join ordinal.
    pub member_count: u32,
    /// Ledgers added so far; ledger indices are `0..ledger_count`.
    pub ledger_count: u8,
    /// Bit `i` set: ledger `i` counts points (so tables can be checked against
    /// ledger kinds without loading the ledger accounts).
    pub points_ledgers: u8,
    /// Incremented by every tables update, so events say which tables applied.
    pub tables_version: u32,
    /// Rate tables in force.
    pub tables: NetworkTables,
    /// The network's one promotion window.
    pub promotion: PromotionWindow,
    /// Registered oracles.
    pub oracle_count: u16,
    /// Distinct registered oracles that must approve each report and
    /// attestation (1 to `oracle_count`; 1 while the network has none).
    pub oracle_quorum: u8,
}

impl Network {
    /// Account size including the discriminator.
    pub const SPACE: usize = 8 + Network::INIT_SPACE;

    /// The class table of `class`, or `UnknownClass`.
    pub fn class(&self, class: u8) -> Result<&ClassTable> {
        if class >= self.tables.class_count {
            return err!(UplineError::UnknownClass);
        }
        self.tables
            .classes
            .get(usize::from(class))
            .ok_or_else(|| error!(UplineError::UnknownClass))
    }

    /// Refuse member and oracle actions while the network is paused.
    pub fn require_active(&self) -> Result<()> {
        require!(!self.paused, UplineError::NetworkPaused);
        Ok(())
    }

    /// Give `ledger` the next ledger index and count it, checking both invariants.
    pub fn append_ledger(&mut self, ledger: &mut Ledger) -> Result<()> {
        ledger.index = self.ledger_count;
        if ledger.kind == LedgerKind::Points {
            self.points_ledgers |= 1 << ledger.index;
        }
        self.ledger_count = self
            .ledger_count
            .checked_add(1)
            .ok_or(UplineError::TooManyLedgers)?;
        ledger.invariant()?;
        self.invariant()
    }

    /// Whether `ledger` is one of this network's ledger indices.
    pub fn has_ledger(&self, ledger: u8) -> bool {
        ledger < self.ledger_count
    }

    /// Whether ledger `ledger` exists and counts points.
    pub fn is_points_ledger(&self, ledger: u8) -> bool {
        self.has_ledger(ledger) && self.points_ledgers & (1 << ledger) != 0
    }

    /// Check `tables` against the ledgers that exist: every direct bonus goes to
    /// an existing ledger (else every join with a referrer would fail), and a
    /// bonus paid at link goes to points, never to withdrawable tokens.
    pub fn validate_bonus_ledgers(&self, tables: &NetworkTables) -> Result<()> {
        let paying = tables
            .active_classes()
            .iter()
            .filter(|class| class.direct_bonus_trigger != BonusTrigger::Never);
        for class in paying {
            let ledger = class.direct_bonus_ledger;
            require!(self.has_ledger(ledger), UplineError::UnknownLedger);
            let at_link = class.direct_bonus_trigger == BonusTrigger::AtLink;
            require!(
                !at_link || self.is_points_ledger(ledger),
                UplineError::LinkBonusOnTokenLedger
            );
        }
        Ok(())
    }

    /// State that must hold after every mutation.
    pub fn invariant(&self) -> Result<()> {
        self.tables.validate()?;
        require!(
            usize::from(self.ledger_count) <= MAX_LEDGERS,
            UplineError::TooManyLedgers
        );
        require!(
            self.pending_admin != self.admin,
            UplineError::NotPendingAdmin
        );
        // A quorum above 1 must stay reachable by the oracles there are.
        let quorum = u16::from(self.oracle_quorum);
        require!(
            quorum >= 1 && (quorum == 1 || quorum <= self.oracle_count),
            UplineError::QuorumUnreachable
        );
        Ok(())
    }
}

impl NetworkTables {
    /// The active classes.
    pub fn active_classes(&self) -> &[ClassTable] {
        let count = usize::from(self.class_count).min(MAX_CLASSES);
        &self.classes[..count]
    }

    /// Check a table set on its own: names, depths, rates, bonuses.
    pub fn validate(&self) -> Result<()> {
        let count = usize::from(self.class_count);
        require!(
            (1..=MAX_CLASSES).contains(&count),
            UplineError::InvalidTables
        );
        for (i, class) in self.active_classes().iter().enumerate() {
            validate_label(&class.name)?;
            let duplicate = self.classes[..i]
                .iter()
                .any(|other| other.name == class.name);
            require!(!duplicate, UplineError::InvalidName);
            class.validate()?;
        }
        // Unused class slots stay zero so that state is canonical.
        let unused_clear = self.classes[count..]
            .iter()
            .all(|class| *class == ClassTable::default());
        require!(unused_clear, UplineError::InvalidTables);
        require!(
            self.tier_rates.iter().all(|rate| rate.is_fraction()),
            UplineError::InvalidTables
        );
        let policy = &self.early_bonus;
        require!(policy.growth_phase_seconds >= 0, UplineError::InvalidTables);
        require!(
            policy.early_referee_class < self.class_count,
            UplineError::InvalidTables
        );
        require!(self.max_report_age_seconds > 0, UplineError::InvalidTables);
        Ok(())
    }

    /// Check that `next` may replace these tables: classes can be added and
    /// re-rated, never removed or renamed, because members keep their class index.
    pub fn validate_update(&self, next: &NetworkTables) -> Result<()> {
        next.validate()?;
        require!(
            next.class_count >= self.class_count,
            UplineError::InvalidTables
        );
        let renamed = self
            .active_classes()
            .iter()
            .zip(next.active_classes())
            .any(|(old, new)| old.name != new.name);
        require!(!renamed, UplineError::InvalidTables);
        Ok(())
    }
}

impl ClassTable {
    /// The commission rates of the levels this class pays.
    pub fn paid_rates(&self) -> &[Ppm] {
        let depth = usize::from(self.referral_depth).min(MAX_REFERRAL_DEPTH);
        &self.commission_rates[..depth]
    }

    fn validate(&self) -> Result<()> {
        let depth = usize::from(self.referral_depth);
        require!(depth <= MAX_REFERRAL_DEPTH, UplineError::InvalidTables);
        let (paid, unused) = self.commission_rates.split_at(depth);
        require!(
            unused.iter().all(|rate| *rate == Ppm::ZERO),
            UplineError::InvalidTables
        );
        // Together the levels may not pay out more than the earner earned.
        // Checked: a rate near u64::MAX must be refused, not overflow the sum.
        let total = paid
            .iter()
            .try_fold(0u64, |total, rate| total.checked_add(rate.0));
        require!(
            total.is_some_and(|total| total <= Ppm::ONE.0),
            UplineError::InvalidTables
        );
        let pays_bonus = self.direct_bonus != Wad::ZERO;
        let has_trigger = self.direct_bonus_trigger != BonusTrigger::Never;
        require!(pays_bonus == has_trigger, UplineError::InvalidTables);
        require!(
            usize::from(self.direct_bonus_ledger) < MAX_LEDGERS,
            UplineError::InvalidTables
        );
        Ok(())
    }
}

/// A label is non-empty UTF-8, zero-padded, with no zero byte inside.
pub fn validate_label(label: &[u8]) -> Result<()> {
    let used = label.iter().position(|b| *b == 0).unwrap_or(label.len());
    require!(used > 0, UplineError::InvalidName);
    require!(
        label[used..].iter().all(|b| *b == 0),
        UplineError::InvalidName
    );
    require!(
        core::str::from_utf8(&label[..used]).is_ok(),
        UplineError::InvalidName
    );
    Ok(())
}

/// Zero-pad `text` into a label of `N` bytes, or `None` if it does not fit.
pub fn label<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > N {
        return None;
    }
    let mut out = [0u8; N];
    out[..bytes.len()].copy_from_slice(bytes);
    Some(out)
}

/// The text of a zero-padded label.
pub fn label_text(label: &[u8]) -> &str {
    let used = label.iter().position(|b| *b == 0).unwrap_or(label.len());
    core::str::from_utf8(&label[..used]).unwrap_or("")
}
