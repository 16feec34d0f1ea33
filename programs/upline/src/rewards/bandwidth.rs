//! Aether bandwidth rewards (DESIGN.md §4.4).
//!
//! ```text
//! node_reward     = B / 10^9 × Q × S × DDM × reward_per_gb
//! referral_reward = node_reward × ER × subnet_weight
//! ER = min(base + stability_bonus + growth_bonus, cap) + early_node + early_member
//! ```

use super::{PPM, WAD};
use crate::math::wide::{div_floor, product};
use crate::math::{MathError, Ppm, Wad};
use anchor_lang::prelude::{AnchorDeserialize, AnchorSerialize};

/// Bytes in the gigabyte `reward_per_gb` is quoted in (10^9, as the formula says).
pub const BYTES_PER_GB: u128 = 1_000_000_000;

/// The node's own reward for `bytes` at quality `q`, stability `s` and demand `ddm`.
pub fn node_reward(
    bytes: u64,
    q: Ppm,
    s: Ppm,
    ddm: Ppm,
    reward_per_gb: Wad,
) -> Result<Wad, MathError> {
    let factors = [
        u128::from(bytes),
        u128::from(q.0),
        u128::from(s.0),
        u128::from(ddm.0),
        reward_per_gb.0,
    ];
    // Three PPM factors (10^18) and bytes per GB (10^9).
    div_floor(product(&factors)?, product(&[WAD, BYTES_PER_GB])?).map(Wad)
}

/// A bonus that applies once a value reaches a threshold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Smallest value that earns `bonus` (0 marks an unused step).
    pub at_least: u64,
    /// Added to the effective rate.
    pub bonus: Ppm,
}

/// The bonus of the highest step reached by `value` (steps in increasing order).
pub fn step_bonus(value: u64, steps: &[Step]) -> Ppm {
    steps
        .iter()
        .filter(|step| step.at_least > 0 && value >= step.at_least)
        .map(|step| step.bonus)
        .max()
        .unwrap_or(Ppm::ZERO)
}

/// Where a node's stable streak starts after a valid report at `now`: a new
/// streak at the first report, or when the gap since the last one exceeds `max_gap`.
pub fn streak_start(stable_since: i64, last_report_at: i64, now: i64, max_gap: i64) -> i64 {
    let first = stable_since == 0 && last_report_at == 0;
    if first || now.saturating_sub(last_report_at) > max_gap {
        now
    } else {
        stable_since
    }
}

/// The activity epoch of unix time `time`: whole `epoch_seconds` periods since
/// unix time 0 (earlier times count as epoch 0). Tables keep epochs at least an
/// hour long, so the u32 cannot overflow before the year 490,000.
pub fn activity_epoch(time: i64, epoch_seconds: i64) -> Result<u32, MathError> {
    if epoch_seconds <= 0 {
        return Err(MathError::DivisionByZero);
    }
    u32::try_from(time.max(0) / epoch_seconds).map_err(|_| MathError::Overflow)
}

/// Epochs of activity counts a referrer keeps, newest first. A report's work
/// is at most `max_report_age` old and its "current or previous epoch" must be
/// known: with 7-day epochs and the default 7-day age a report's epoch is at
/// most one before its referrer's newest, so three epochs answer every report
/// exactly. (Shorter epochs or a longer age can reach further back; the counts
/// of epochs older than these three are no longer kept and count as zero.)
pub const ACTIVITY_EPOCHS: usize = 3;

/// A referrer's activity: its newest epoch and, for it and the epochs before,
/// how many referees had a valid report in each (saturating: the growth table
/// tops out far below `u16::MAX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Activity {
    pub epoch: u64,
    pub counts: [u16; ACTIVITY_EPOCHS],
}

impl Activity {
    /// A valid report of work in `epoch` about a referee; `newly_active` when
    /// it is the referee's first valid report in that epoch (a referee's work
    /// times never decrease, so neither do its epochs). Returns the activity to
    /// store (it never moves back) and the referrer's active referrals for this
    /// report: the larger of the counts of the report's epoch and the one
    /// before (DESIGN.md §4.4: "in the current or the previous epoch"), this
    /// report included.
    pub fn record(self, epoch: u64, newly_active: bool) -> (Activity, u32) {
        let mut next = self;
        if epoch > self.epoch {
            let shift = epoch - self.epoch;
            next.epoch = epoch;
            for (i, count) in next.counts.iter_mut().enumerate() {
                *count = usize::try_from(shift)
                    .ok()
                    .and_then(|shift| i.checked_sub(shift))
                    .map_or(0, |from| self.counts[from]);
            }
        }
        let slot = usize::try_from(next.epoch - epoch).unwrap_or(usize::MAX);
        if newly_active {
            if let Some(count) = next.counts.get_mut(slot) {
                *count = count.saturating_add(1);
            }
        }
        let count = |slot: usize| next.counts.get(slot).copied().map_or(0, u32::from);
        let active = count(slot).max(count(slot.saturating_add(1)));
        (next, active)
    }
}

/// The parts of the effective rate (reported as they are in `BandwidthReported`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateParts {
    pub base: Ppm,
    pub stability: Ppm,
    pub growth: Ppm,
    pub cap: Ppm,
    pub early_node: Ppm,
    pub early_member: Ppm,
}

/// ER = min(base + stability + growth, cap) + early_node + early_member.
pub fn effective_rate(parts: &RateParts) -> Result<Ppm, MathError> {
    let capped = parts
        .base
        .0
        .checked_add(parts.stability.0)
        .and_then(|r| r.checked_add(parts.growth.0))
        .ok_or(MathError::Overflow)?
        .min(parts.cap.0);
    capped
        .checked_add(parts.early_node.0)
        .and_then(|r| r.checked_add(parts.early_member.0))
        .map(Ppm)
        .ok_or(MathError::Overflow)
}

/// The referrer's reward: `floor(node_reward × ER × subnet_weight)`, with
/// subnet_weight = 1 for one node, 1/n for 2 ≤ n ≤ limit, 0 above.
pub fn referral_reward(
    node_reward: Wad,
    rate: Ppm,
    subnet_nodes: u32,
    subnet_limit: u32,
) -> Result<Wad, MathError> {
    let nodes = subnet_nodes.max(1);
    if nodes > subnet_limit.max(1) {
        return Ok(Wad::ZERO);
    }
    let exact = product(&[node_reward.0, u128::from(rate.0)])?;
    div_floor(exact, product(&[PPM, u128::from(nodes)])?).map(Wad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_never_moves_back_and_late_work_counts_in_its_own_epoch() {
        let at = |epoch, counts| Activity { epoch, counts };
        let a = at(10, [3, 2, 5]);
        // The same epoch: counted there; active = max(this epoch, the one before).
        assert_eq!(a.record(10, true), (at(10, [4, 2, 5]), 4));
        assert_eq!(a.record(10, false), (a, 3));
        // Forward: the window moves.
        assert_eq!(a.record(11, true), (at(11, [1, 3, 2]), 3));
        assert_eq!(a.record(12, false), (at(12, [0, 0, 3]), 0));
        assert_eq!(a.record(14, true), (at(14, [1, 0, 0]), 1));
        // Work from the epoch before the newest counts there, against its own previous epoch.
        assert_eq!(a.record(9, true), (at(10, [3, 3, 5]), 5));
        assert_eq!(a.record(9, false), (a, 5));
        // Two before: its own count is kept, the one before it no longer.
        assert_eq!(a.record(8, true), (at(10, [3, 2, 6]), 6));
        // Older still: nothing kept, nothing counted.
        assert_eq!(a.record(7, true), (a, 0));
        assert_eq!(at(0, [0; 3]).record(0, true), (at(0, [1, 0, 0]), 1));
        assert_eq!(at(3, [u16::MAX, 0, 0]).record(3, true).1, 65_535);
    }

    fn wad(text: &str) -> Wad {
        Wad::from_decimal_str(text).expect("literal")
    }
    const DAY: i64 = 86_400;
    const GROWTH: [Step; 4] = [
        Step {
            at_least: 6,
            bonus: Ppm(10_000),
        },
        Step {
            at_least: 21,
            bonus: Ppm(20_000),
        },
        Step {
            at_least: 51,
            bonus: Ppm(30_000),
        },
        Step {
            at_least: 101,
            bonus: Ppm(50_000),
        },
    ];
    const STABILITY: [Step; 2] = [
        Step {
            at_least: 7 * DAY as u64,
            bonus: Ppm(20_000),
        },
        Step {
            at_least: 30 * DAY as u64,
            bonus: Ppm(50_000),
        },
    ];

    #[test]
    fn node_reward_is_the_exact_product() {
        // 2 GB at Q 0.9, S 0.8, DDM 1.25, 1 AETH per GB = 1.8 AETH.
        let r = node_reward(
            2_000_000_000,
            Ppm(900_000),
            Ppm(800_000),
            Ppm(1_250_000),
            wad("1"),
        );
        assert_eq!(r, Ok(wad("1.8")));
        // One byte rounds down to 10^-9 AETH exactly.
        assert_eq!(
            node_reward(1, Ppm::ONE, Ppm::ONE, Ppm::ONE, wad("1")),
            Ok(wad("0.000000001"))
        );
        let huge = node_reward(
            u64::MAX,
            Ppm(u64::MAX),
            Ppm(u64::MAX),
            Ppm(u64::MAX),
            Wad(u128::MAX),
        );
        assert_eq!(huge, Err(MathError::Overflow));
    }

    #[test]
    fn growth_steps() {
        for (active, bonus) in [
            (0, 0),
            (5, 0),
            (6, 10_000),
            (20, 10_000),
            (21, 20_000),
            (50, 20_000),
            (51, 30_000),
            (100, 30_000),
            (101, 50_000),
        ] {
            assert_eq!(step_bonus(active, &GROWTH), Ppm(bonus), "{active} active");
        }
        assert_eq!(step_bonus(7 * DAY as u64 - 1, &STABILITY), Ppm(0));
        assert_eq!(step_bonus(7 * DAY as u64, &STABILITY), Ppm(20_000));
        assert_eq!(step_bonus(30 * DAY as u64, &STABILITY), Ppm(50_000));
    }

    #[test]
    fn streaks_restart_after_a_gap() {
        let t0 = 1_000_000;
        assert_eq!(
            streak_start(0, 0, t0, DAY),
            t0,
            "first report starts a streak"
        );
        assert_eq!(
            streak_start(t0, t0, t0 + DAY, DAY),
            t0,
            "24 h exactly keeps it"
        );
        assert_eq!(
            streak_start(t0, t0 + DAY, t0 + 2 * DAY + 1, DAY),
            t0 + 2 * DAY + 1,
            "more than 24 h restarts"
        );
    }

    #[test]
    fn activity_epochs_of_an_hour_fit_for_ever() {
        assert_eq!(activity_epoch(1_767_225_600, 7 * 86_400), Ok(2_922));
        assert_eq!(activity_epoch(1_767_225_600, 3_600), Ok(490_896));
        assert_eq!(activity_epoch(-5, 3_600), Ok(0));
        // The shortest epoch the tables accept, at the end of i64 time: still a u32.
        let last = activity_epoch(i64::MAX, crate::constants::MIN_EPOCH_SECONDS);
        assert_eq!(last, Err(MathError::Overflow), "year 2.9e11 overflows");
        let year_400k = 400_000 * 365 * 86_400;
        assert!(activity_epoch(year_400k, crate::constants::MIN_EPOCH_SECONDS).is_ok());
        assert_eq!(activity_epoch(5, 0), Err(MathError::DivisionByZero));
    }

    #[test]
    fn effective_rate_caps_before_early_bonuses() {
        let mut parts = RateParts {
            base: Ppm(120_000),
            cap: Ppm(220_000),
            ..RateParts::default()
        };
        assert_eq!(effective_rate(&parts), Ok(Ppm(120_000)));
        parts.stability = Ppm(50_000);
        parts.growth = Ppm(50_000);
        assert_eq!(
            effective_rate(&parts),
            Ok(Ppm(220_000)),
            "12 + 5 + 5 = 22, at the cap"
        );
        parts.growth = Ppm(60_000);
        assert_eq!(effective_rate(&parts), Ok(Ppm(220_000)), "capped");
        parts.early_node = Ppm(30_000);
        parts.early_member = Ppm(20_000);
        assert_eq!(
            effective_rate(&parts),
            Ok(Ppm(270_000)),
            "early bonuses on top of the cap"
        );
    }

    #[test]
    fn subnet_weights() {
        let r = wad("1");
        let rate = Ppm(120_000);
        assert_eq!(referral_reward(r, rate, 1, 3), Ok(wad("0.12")));
        assert_eq!(referral_reward(r, rate, 2, 3), Ok(wad("0.06")));
        assert_eq!(referral_reward(r, rate, 3, 3), Ok(wad("0.04")));
        assert_eq!(referral_reward(r, rate, 4, 3), Ok(Wad::ZERO));
        // 1/3 of 0.12 of 1 WAD unit × 100: rounded down once.
        assert_eq!(referral_reward(Wad(100), rate, 3, 3), Ok(Wad(4)));
    }
}
