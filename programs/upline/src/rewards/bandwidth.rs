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

/// A referrer's active-referee counts, moved to `epoch`: `[current, previous]`.
pub fn counts_at(counts_epoch: u64, counts: [u32; 2], epoch: u64) -> [u32; 2] {
    if epoch == counts_epoch {
        counts
    } else if epoch == counts_epoch.saturating_add(1) {
        [0, counts[0]]
    } else {
        [0, 0]
    }
}

/// Active referrals: the larger of the current and previous epochs' counts.
pub fn active_referrals(counts: [u32; 2]) -> u32 {
    counts[0].max(counts[1])
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
    fn activity_epochs_roll() {
        assert_eq!(counts_at(10, [4, 7], 10), [4, 7]);
        assert_eq!(counts_at(10, [4, 7], 11), [0, 4]);
        assert_eq!(counts_at(10, [4, 7], 13), [0, 0]);
        assert_eq!(active_referrals([3, 9]), 9);
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
