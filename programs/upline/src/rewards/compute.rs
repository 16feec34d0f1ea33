//! Cxmpute compute rewards (DESIGN.md §4.1).
//!
//! ```text
//! reward = (base × service × complexity + tokens × per_token × service) × perf
//! ```

use super::{PPM, WAD};
use crate::math::wide::{div_floor, product, sum, U256};
use crate::math::{MathError, Ppm, Wad};

/// The latency rule: faster than `fast_below_ms` earns `fast`, slower than
/// `slow_above_ms` earns `slow`, anything between 1.0×.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatencyRule {
    pub fast_below_ms: u32,
    pub fast: Ppm,
    pub slow_above_ms: u32,
    pub slow: Ppm,
}

/// The performance multiplier of a request that took `latency_ms`.
pub fn performance(latency_ms: u32, rule: &LatencyRule) -> Ppm {
    if latency_ms < rule.fast_below_ms {
        rule.fast
    } else if latency_ms > rule.slow_above_ms {
        rule.slow
    } else {
        Ppm::ONE
    }
}

/// The provider's reward for one request, rounded down once.
pub fn compute_reward(
    base: Wad,
    per_token: Wad,
    service: Ppm,
    complexity: Ppm,
    tokens: u64,
    perf: Ppm,
) -> Result<Wad, MathError> {
    let service = u128::from(service.0);
    // Both terms over the common denominator 10^12 (two PPM factors).
    let base_term = product(&[base.0, service, u128::from(complexity.0)])?;
    let token_term = product(&[u128::from(tokens), per_token.0, service, PPM])?;
    let exact = sum(base_term, token_term)?
        .checked_mul(U256::from(perf.0))
        .ok_or(MathError::Overflow)?;
    // Three PPM factors: divide by 10^18 once.
    div_floor(exact, U256::from(WAD)).map(Wad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wad(text: &str) -> Wad {
        Wad::from_decimal_str(text).expect("literal")
    }
    fn ppm(text: &str) -> Ppm {
        Ppm::from_decimal_str(text).expect("literal")
    }
    const RULE: LatencyRule = LatencyRule {
        fast_below_ms: 2_000,
        fast: Ppm(1_100_000),
        slow_above_ms: 10_000,
        slow: Ppm(900_000),
    };

    #[test]
    fn seed_examples() {
        let normal = performance(5_000, &RULE);
        // 70B on Mariana Depth, chat, 1000 tokens.
        let r = compute_reward(
            wad("0.075"),
            wad("0.00015"),
            ppm("1"),
            ppm("3"),
            1000,
            normal,
        );
        assert_eq!(r, Ok(wad("0.375")));
        // 7B on Blue Surge, chat, 1000 tokens.
        let r = compute_reward(
            wad("0.015"),
            wad("0.00003"),
            ppm("1"),
            ppm("1"),
            1000,
            normal,
        );
        assert_eq!(r, Ok(wad("0.045")));
        // Embeddings on Open Ocean, complexity 1.5, 500 tokens.
        let r = compute_reward(
            wad("0.035"),
            wad("0.00007"),
            ppm("0.3"),
            ppm("1.5"),
            500,
            normal,
        );
        assert_eq!(r, Ok(wad("0.02625")));
    }

    #[test]
    fn latency_bounds() {
        assert_eq!(performance(1_999, &RULE), Ppm(1_100_000));
        assert_eq!(performance(2_000, &RULE), Ppm::ONE);
        assert_eq!(performance(10_000, &RULE), Ppm::ONE);
        assert_eq!(performance(10_001, &RULE), Ppm(900_000));
        let fast = compute_reward(
            wad("0.075"),
            wad("0.00015"),
            Ppm::ONE,
            ppm("3"),
            1000,
            performance(10, &RULE),
        );
        assert_eq!(fast, Ok(wad("0.4125")));
        let slow = compute_reward(
            wad("0.075"),
            wad("0.00015"),
            Ppm::ONE,
            ppm("3"),
            1000,
            performance(20_000, &RULE),
        );
        assert_eq!(slow, Ok(wad("0.3375")));
    }

    #[test]
    fn rounds_down_once_and_refuses_overflow() {
        // 1 WAD unit × 0.3 × 1.5 = 0.45 units, rounded down once to 0 (not per term).
        let r = compute_reward(Wad(1), Wad(1), ppm("0.3"), ppm("1.5"), 1, Ppm::ONE);
        assert_eq!(r, Ok(Wad(0)));
        let r = compute_reward(Wad(1), Wad(1), ppm("0.5"), ppm("1"), 1, Ppm::ONE);
        assert_eq!(
            r,
            Ok(Wad(1)),
            "0.5 + 0.5 = 1 exactly when summed before rounding"
        );
        let r = compute_reward(
            Wad(u128::MAX),
            Wad(u128::MAX),
            Ppm(u64::MAX),
            Ppm(u64::MAX),
            u64::MAX,
            Ppm(u64::MAX),
        );
        assert!(r.is_err());
    }
}
