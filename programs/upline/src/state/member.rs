//! A member: a wallet in a network, its place in the referral graph and its balances.

use crate::constants::{HISTORY_DAYS, MAX_REFERRAL_DEPTH, SECONDS_PER_DAY};
use crate::errors::{OrMathError, UplineError};
use crate::math::Wad;
use crate::rewards::bandwidth::ACTIVITY_EPOCHS;
use anchor_lang::prelude::*;

/// Commission tier of a referrer (Clore): standard 15%, premium 20%, vip 30% by default.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub enum CommissionTier {
    /// The default tier.
    #[default]
    Standard,
    /// Assigned by the admin.
    Premium,
    /// Assigned by the admin.
    Vip,
}

impl CommissionTier {
    /// Every tier, in `tier_rates` order.
    pub const ALL: [CommissionTier; 3] = [
        CommissionTier::Standard,
        CommissionTier::Premium,
        CommissionTier::Vip,
    ];

    /// Index into `NetworkTables::tier_rates`.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Where a credit came from; each source has its own running total.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreditSource {
    /// The member's own work.
    Own,
    /// Commission on a direct referee's earnings.
    Level1,
    /// Commission on a level-2 referee's earnings.
    Level2,
    /// Commission on a level-3 referee's earnings.
    Level3,
    /// Direct referral bonus.
    Bonus,
}

impl CreditSource {
    /// The commission source of upline level `level` (1 to 3).
    pub fn of_level(level: usize) -> Option<CreditSource> {
        match level {
            1 => Some(CreditSource::Level1),
            2 => Some(CreditSource::Level2),
            3 => Some(CreditSource::Level3),
            _ => None,
        }
    }
}

/// Single-bit facts about a member.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct MemberFlags(pub u8);

impl MemberFlags {
    /// Linked as one of its referrer's first referees during the growth phase (Aether early node).
    pub const EARLY_REFEREE: u8 = 1 << 0;
    /// Its referrer's direct bonus waits for this member's first work report.
    pub const BONUS_DUE: u8 = 1 << 1;
    /// At least one verified work report about this member has been recorded.
    pub const HAS_WORKED: u8 = 1 << 2;
    /// Its device has been attested by an oracle.
    pub const ATTESTED: u8 = 1 << 3;
    /// Among the network's first members (Aether early member), fixed at join.
    pub const EARLY_MEMBER: u8 = 1 << 4;
    /// Frozen by the admin (fraud response): earns, links and withdraws
    /// nothing, and commissions that would reach it are withheld.
    pub const FROZEN: u8 = 1 << 5;

    /// Whether `flag` is set.
    pub fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }

    /// Set or clear `flag`.
    pub fn set(&mut self, flag: u8, on: bool) {
        if on {
            self.0 |= flag;
        } else {
            self.0 &= !flag;
        }
    }
}

/// A member's account on one ledger. The balance is derived, never stored:
/// `balance = own + level1 + level2 + level3 + bonus - withdrawn`, so credits
/// always equal balance plus withdrawals, exactly.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemberLedger {
    /// Credited for the member's own work.
    pub own: Wad,
    /// Credited as level-1 commission.
    pub level1: Wad,
    /// Credited as level-2 commission.
    pub level2: Wad,
    /// Credited as level-3 commission.
    pub level3: Wad,
    /// Credited as direct referral bonuses.
    pub bonus: Wad,
    /// Paid out by withdrawals (whole base units, in WAD).
    pub withdrawn: Wad,
    /// Credits per day for the last 30 days, in nano-units (10^-9 of a whole
    /// unit, each credit rounded down, saturating); slot `day % 30`. For charts only:
    /// the exact amounts are the totals above and the events.
    pub daily_credits: [u64; HISTORY_DAYS],
}

impl MemberLedger {
    /// Serialized size.
    pub const SPACE: usize = 6 * 16 + 8 * HISTORY_DAYS;

    /// Everything ever credited, from every source.
    pub fn credited(&self) -> Result<Wad> {
        [self.level1, self.level2, self.level3, self.bonus]
            .iter()
            .try_fold(self.own, |total, part| total.checked_add(*part))
            .or_math_error()
    }

    /// What the member can still withdraw (or, for points, what it holds).
    pub fn balance(&self) -> Result<Wad> {
        self.credited()?.checked_sub(self.withdrawn).or_math_error()
    }

    fn total_mut(&mut self, source: CreditSource) -> &mut Wad {
        match source {
            CreditSource::Own => &mut self.own,
            CreditSource::Level1 => &mut self.level1,
            CreditSource::Level2 => &mut self.level2,
            CreditSource::Level3 => &mut self.level3,
            CreditSource::Bonus => &mut self.bonus,
        }
    }
}

#[account]
#[derive(Debug)]
pub struct Member {
    /// The network this member belongs to.
    pub network: Pubkey,
    /// The member's wallet; also its referral code. A wallet holds at most one
    /// membership per class of a network (DESIGN.md §3 rule 6).
    pub wallet: Pubkey,
    /// Its referrer's member account (a membership, not a wallet: another
    /// membership of the same wallet can never pass for it); `Pubkey::default()`
    /// until linked. Permanent once set.
    pub referrer: Pubkey,
    /// Canonical bump of this PDA.
    pub bump: u8,
    /// Index into the network's classes.
    pub class: u8,
    /// Commission tier (Clore), set by the admin.
    pub commission_tier: CommissionTier,
    /// Compute tier from the attested device (Cxmpute providers); 0 until attested.
    pub device_tier: u8,
    /// Early referee, bonus due, has worked, attested, early member.
    pub flags: MemberFlags,
    /// Members below this one at levels 1, 2 and 3; level 1 is its number of referees.
    pub downline: [u32; MAX_REFERRAL_DEPTH],
    /// Referees of the network's early-referee class (Aether: nodes) linked to
    /// this member; the first ones linked in the growth phase are early. (The
    /// join ordinal is in the join event; what it decides is the `EARLY_MEMBER` flag.)
    pub early_class_referees: u32,
    /// Highest work report id recorded about this member; reports must exceed it.
    pub last_report_id: u64,
    /// Latest work time of a report about this member (unix time; 0 before
    /// any); a report's work time may not be earlier.
    pub last_work_time: i64,
    /// Work time at which the current stable streak of valid reports began
    /// (Aether), unix seconds; 0 before any. The streak times are u32 (good
    /// until 2106) so that a one-ledger member stays within 512 bytes.
    pub stable_since: u32,
    /// Work time of the last valid (unsuppressed) report about this member,
    /// unix seconds; 0 before any.
    pub last_valid_work_time: u32,
    /// Activity epoch (`epoch_seconds` periods since unix time 0) of `active_referees[0]`.
    pub activity_epoch: u32,
    /// Referees with a valid report in `activity_epoch` and in each of the two
    /// epochs before (saturating; see `rewards::bandwidth::Activity`).
    pub active_referees: [u16; ACTIVITY_EPOCHS],
    /// Last activity epoch in which this member was counted active for its referrer.
    pub last_active_epoch: u32,
    /// Day number (unix time / 86400) of the newest slot in the credit histories.
    pub history_day: u32,
    /// One slot per network ledger, by ledger index.
    pub ledgers: Vec<MemberLedger>,
}

impl Member {
    /// Size of everything but the ledger slots, discriminator and vector length included.
    pub const BASE_SPACE: usize = 8
        + 3 * 32
        + 5
        + 4 * MAX_REFERRAL_DEPTH
        + 4
        + 8
        + 8
        + 4
        + 4
        + 4
        + 2 * ACTIVITY_EPOCHS
        + 4
        + 4
        + 4;

    /// A member that has just joined: no referrer, no downline, nothing credited.
    pub fn new(
        network: Pubkey,
        wallet: Pubkey,
        bump: u8,
        class: u8,
        flags: MemberFlags,
        ledgers: usize,
    ) -> Member {
        Member {
            network,
            wallet,
            referrer: Pubkey::default(),
            bump,
            class,
            commission_tier: CommissionTier::Standard,
            device_tier: 0,
            flags,
            downline: [0; MAX_REFERRAL_DEPTH],
            early_class_referees: 0,
            last_report_id: 0,
            last_work_time: 0,
            stable_since: 0,
            last_valid_work_time: 0,
            activity_epoch: 0,
            active_referees: [0; ACTIVITY_EPOCHS],
            last_active_epoch: 0,
            history_day: 0,
            ledgers: vec![MemberLedger::default(); ledgers],
        }
    }

    /// Account size of a member with `ledgers` ledger slots.
    pub const fn space(ledgers: usize) -> usize {
        Self::BASE_SPACE + ledgers * MemberLedger::SPACE
    }

    /// Refuse what a frozen member may not do.
    pub fn require_not_frozen(&self) -> Result<()> {
        require!(
            !self.flags.has(MemberFlags::FROZEN),
            UplineError::MemberFrozen
        );
        Ok(())
    }

    /// Whether the member is frozen.
    pub fn is_frozen(&self) -> bool {
        self.flags.has(MemberFlags::FROZEN)
    }

    /// Whether the member has a referrer.
    pub fn has_referrer(&self) -> bool {
        self.referrer != Pubkey::default()
    }

    /// The member's slot on `ledger`, or `LedgerNotOpened`.
    pub fn ledger(&self, ledger: u8) -> Result<&MemberLedger> {
        self.ledgers
            .get(usize::from(ledger))
            .ok_or_else(|| error!(UplineError::LedgerNotOpened))
    }

    /// Credit `amount` from `source` on `ledger` for work done at unix time
    /// `time` (the report's work time; a link's time for bonuses paid at link).
    pub fn credit(
        &mut self,
        ledger: u8,
        source: CreditSource,
        amount: Wad,
        time: i64,
    ) -> Result<()> {
        let day = day_number(time);
        self.roll_history(day);
        let slot = self
            .ledgers
            .get_mut(usize::from(ledger))
            .ok_or_else(|| error!(UplineError::LedgerNotOpened))?;
        let total = slot.total_mut(source);
        *total = total.checked_add(amount).or_math_error()?;
        // Work reported late lands on its own day while that day is in the
        // window; older work is only in the exact totals and the events.
        if self.history_day - day < HISTORY_DAYS as u32 {
            let entry = &mut slot.daily_credits[day as usize % HISTORY_DAYS];
            *entry = entry.saturating_add(amount.to_nano_units_saturating());
        }
        Ok(())
    }

    /// Record a withdrawal of `amount` (whole base units, in WAD) from `ledger`.
    pub fn debit(&mut self, ledger: u8, amount: Wad) -> Result<()> {
        let slot = self
            .ledgers
            .get_mut(usize::from(ledger))
            .ok_or_else(|| error!(UplineError::LedgerNotOpened))?;
        require!(amount <= slot.balance()?, UplineError::InsufficientBalance);
        slot.withdrawn = slot.withdrawn.checked_add(amount).or_math_error()?;
        Ok(())
    }

    /// Move the history window forward to `day`, clearing the days it skips;
    /// an earlier day leaves the window where it is.
    fn roll_history(&mut self, day: u32) {
        if day <= self.history_day {
            return;
        }
        let elapsed = (day - self.history_day) as usize;
        for step in 1..=elapsed.min(HISTORY_DAYS) {
            let slot = (self.history_day as usize + step) % HISTORY_DAYS;
            for ledger in self.ledgers.iter_mut() {
                ledger.daily_credits[slot] = 0;
            }
        }
        self.history_day = day;
    }

    /// The last 30 days of credits on `ledger`, oldest first, ending at `today`.
    pub fn history(&self, ledger: u8, now: i64) -> Result<[u64; HISTORY_DAYS]> {
        let slot = self.ledger(ledger)?;
        let today = day_number(now).max(self.history_day);
        let mut out = [0u64; HISTORY_DAYS];
        for (age, entry) in out.iter_mut().rev().enumerate() {
            let Some(day) = today.checked_sub(age as u32) else {
                break;
            };
            // Days after the newest recorded day, or older than 30 days before it, are empty.
            if day <= self.history_day && self.history_day - day < HISTORY_DAYS as u32 {
                *entry = slot.daily_credits[day as usize % HISTORY_DAYS];
            }
        }
        Ok(out)
    }

    /// State that must hold after every mutation.
    pub fn invariant(&self) -> Result<()> {
        // Early-class referees are some of its referees.
        require!(
            self.early_class_referees <= self.downline[0],
            UplineError::UplineMismatch
        );
        for slot in &self.ledgers {
            // Withdrawals can never exceed credits.
            slot.balance()?;
        }
        Ok(())
    }
}

/// Day number of unix time `now`; times before 1970 count as day 0.
pub fn day_number(now: i64) -> u32 {
    u32::try_from(now.max(0) / SECONDS_PER_DAY).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(ledgers: usize) -> Member {
        Member::new(
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            255,
            0,
            MemberFlags::default(),
            ledgers,
        )
    }

    #[test]
    fn space_matches_serialized_size_and_fits_the_budget() {
        for ledgers in [1, 2, 4] {
            let mut bytes = Vec::new();
            member(ledgers)
                .try_serialize(&mut bytes)
                .expect("serializes");
            assert_eq!(bytes.len(), Member::space(ledgers), "{ledgers} ledgers");
        }
        // Issue 7's goal: a one-ledger member, history included, in at most 512 bytes.
        assert!(Member::space(1) <= 512, "{}", Member::space(1));
    }

    #[test]
    fn balance_is_credits_minus_withdrawals() {
        let mut m = member(1);
        let now = 20_000 * SECONDS_PER_DAY;
        m.credit(0, CreditSource::Own, Wad(7), now).expect("credit");
        m.credit(0, CreditSource::Level2, Wad(5), now)
            .expect("credit");
        m.credit(0, CreditSource::Bonus, Wad(3), now)
            .expect("credit");
        m.debit(0, Wad(10)).expect("debit");
        assert_eq!(m.ledgers[0].balance(), Ok(Wad(5)));
        assert!(m.debit(0, Wad(6)).is_err());
        assert_eq!(m.ledgers[0].balance(), Ok(Wad(5)));
        assert!(m.credit(1, CreditSource::Own, Wad(1), now).is_err());
    }

    #[test]
    fn history_rolls_over_thirty_days() {
        let mut m = member(2);
        let day = |d: i64| (20_000 + d) * SECONDS_PER_DAY + 5;
        let one = Wad::ONE;
        m.credit(0, CreditSource::Own, one, day(0)).expect("credit");
        m.credit(0, CreditSource::Own, one, day(0)).expect("credit");
        m.credit(1, CreditSource::Bonus, one, day(3))
            .expect("credit");
        let h = m.history(0, day(3)).expect("history");
        assert_eq!(h[29 - 3], 2_000_000_000);
        assert_eq!(h.iter().sum::<u64>(), 2_000_000_000);
        assert_eq!(m.history(1, day(3)).expect("history")[29], 1_000_000_000);
        // 30 days later day 0 has left the window, even though its slot was reused.
        m.credit(1, CreditSource::Own, one, day(30))
            .expect("credit");
        let h = m.history(0, day(30)).expect("history");
        assert_eq!(h.iter().sum::<u64>(), 0);
        let h = m.history(1, day(31)).expect("history");
        assert_eq!(h[28], 1_000_000_000);
        assert_eq!(h[29], 0);
        assert_eq!(h[29 - 28], 1_000_000_000, "day 3 is 28 days before day 31");
    }

    #[test]
    fn late_work_lands_on_its_own_day_while_in_the_window() {
        let mut m = member(1);
        let day = |d: i64| (20_000 + d) * SECONDS_PER_DAY + 5;
        let one = Wad::ONE;
        m.credit(0, CreditSource::Own, one, day(10))
            .expect("credit");
        // Reported on day 10 about work on day 8: charted on day 8.
        m.credit(0, CreditSource::Level1, one, day(8))
            .expect("credit");
        let h = m.history(0, day(10)).expect("history");
        assert_eq!((h[29], h[27]), (1_000_000_000, 1_000_000_000));
        // Work 40 days old is in the totals but not the chart.
        m.credit(0, CreditSource::Own, one, day(-30))
            .expect("credit");
        assert_eq!(
            m.history(0, day(10)).expect("history").iter().sum::<u64>(),
            2_000_000_000
        );
        assert_eq!(m.ledgers[0].credited(), Ok(Wad(3 * Wad::ONE.0)));
    }
}
