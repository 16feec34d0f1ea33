//! Property tests of every reward formula (DESIGN.md §4) against the exact
//! rational model the explorer's audit uses: over the whole input range, the
//! program's fixed-point result is the exact value rounded down once, or a
//! named overflow error, never a panic or an off-by-one.

use num_rational::BigRational;
use proptest::prelude::*;
use upline::math::{MathError, Ppm, Wad};
use upline::rewards::bandwidth::{effective_rate, node_reward, referral_reward, RateParts};
use upline::rewards::commission;
use upline::rewards::compute::compute_reward;
use upline::rewards::rental::rental_commission;
use upline::rewards::usage::usage_points;
use upline_explorer::audit::exact::{base_units, floor_wad, int, ppm, wad, Q};

/// The model's answer: `Some` exact floor, or `None` when it exceeds u128.
fn expected(value: &Q) -> Option<Wad> {
    floor_wad(value)
}

/// The program agrees with the model: the same WAD, or an overflow exactly
/// where the model's value (or an intermediate the program must hold) is too large.
fn agrees(program: Result<Wad, MathError>, model: Option<Wad>) -> Result<(), TestCaseError> {
    match (program, model) {
        (Ok(got), Some(want)) => prop_assert_eq!(got, want),
        (Err(MathError::Overflow), None) => {}
        (Err(MathError::Overflow), Some(want)) => {
            // An intermediate may overflow before the result would; only
            // results near the top of u128 may be refused that way.
            prop_assert!(
                want.0 > u128::MAX / 1_000_000_000_000,
                "refused a representable {want:?}"
            );
        }
        (got, want) => prop_assert!(false, "program {got:?}, model {want:?}"),
    }
    Ok(())
}

fn any_wad() -> impl Strategy<Value = Wad> {
    prop_oneof![
        (0u128..=10u128.pow(24)).prop_map(Wad),
        any::<u128>().prop_map(Wad),
    ]
}

fn any_rate() -> impl Strategy<Value = Ppm> {
    prop_oneof![(0u64..=2_000_000).prop_map(Ppm), any::<u64>().prop_map(Ppm)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn compute_reward_is_the_exact_formula_rounded_down(
        base in any_wad(), per_token in any_wad(), service in any_rate(),
        complexity in any_rate(), tokens: u64, perf in any_rate(),
    ) {
        let exact = (wad(base) * ppm(service) * ppm(complexity)
            + int(tokens) * wad(per_token) * ppm(service)) * ppm(perf);
        agrees(compute_reward(base, per_token, service, complexity, tokens, perf), expected(&exact))?;
    }

    #[test]
    fn usage_points_are_exact(base in any_wad(), per_token in any_wad(), tokens: u64) {
        let exact = wad(base) + int(tokens) * wad(per_token);
        agrees(usage_points(base, per_token, tokens), expected(&exact))?;
    }

    #[test]
    fn a_commission_is_the_rate_of_the_rounded_amount_rounded_down(amount in any_wad(), rate in any_rate()) {
        agrees(commission(amount, rate), expected(&(wad(amount) * ppm(rate))))?;
    }

    #[test]
    fn a_rental_commission_is_the_fees_times_the_rate_rounded_down(
        base: u64, extra: u64, decimals in 0u8..=18, rate in any_rate(),
    ) {
        let exact = (base_units(base, decimals) + base_units(extra, decimals)) * ppm(rate);
        agrees(rental_commission(base, extra, decimals, rate), expected(&exact))?;
    }

    #[test]
    fn a_node_reward_is_the_exact_product_rounded_down(
        bytes: u64, q in 0u64..=1_000_000, s in 0u64..=1_000_000,
        ddm in 1_000_000u64..=1_500_000, per_gb in any_wad(),
    ) {
        let exact = int(bytes) / int(1_000_000_000u64) * ppm(Ppm(q)) * ppm(Ppm(s)) * ppm(Ppm(ddm)) * wad(per_gb);
        agrees(node_reward(bytes, Ppm(q), Ppm(s), Ppm(ddm), per_gb), expected(&exact))?;
    }

    #[test]
    fn a_bandwidth_referral_is_reward_times_rate_over_the_subnet(
        reward in any_wad(), rate in 0u64..=1_000_000, nodes in 0u32..=10, limit in 0u32..=5,
    ) {
        let n = nodes.max(1);
        let weight = if n > limit.max(1) { int(0u8) } else { BigRational::new(1.into(), n.into()) };
        let exact = wad(reward) * ppm(Ppm(rate)) * weight;
        agrees(referral_reward(reward, Ppm(rate), nodes, limit), expected(&exact))?;
    }

    #[test]
    fn the_effective_rate_caps_the_growing_part_only(
        base in 0u64..=300_000, stability in 0u64..=100_000, growth in 0u64..=100_000,
        cap in 0u64..=400_000, early_node in 0u64..=50_000, early_member in 0u64..=50_000,
    ) {
        let parts = RateParts {
            base: Ppm(base), stability: Ppm(stability), growth: Ppm(growth),
            cap: Ppm(cap), early_node: Ppm(early_node), early_member: Ppm(early_member),
        };
        let want = (base + stability + growth).min(cap) + early_node + early_member;
        prop_assert_eq!(effective_rate(&parts), Ok(Ppm(want)));
    }
}
