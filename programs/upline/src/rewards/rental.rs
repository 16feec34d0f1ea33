//! Clore rental commissions (DESIGN.md §4.3): each side's referrer earns
//! `(base fee + extra fee) × rate`, one level, the renter and host nothing.

use crate::math::{MathError, Ppm, Wad};

/// The rate a referrer earns: the promotion's while the window is open,
/// otherwise its commission tier's.
pub fn rental_rate(tier_rate: Ppm, promotion: Option<Ppm>) -> Ppm {
    promotion.unwrap_or(tier_rate)
}

/// The commission on one side's fees (base units of a token with `decimals`).
pub fn rental_commission(
    base_fee: u64,
    extra_fee: u64,
    decimals: u8,
    rate: Ppm,
) -> Result<Wad, MathError> {
    let fees = Wad::from_base_units(base_fee, decimals)?
        .checked_add(Wad::from_base_units(extra_fee, decimals)?)?;
    fees.mul_ppm_floor(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLORE: u64 = 100_000_000; // 8 decimals

    #[test]
    fn seed_example_100_clore_day_with_10_percent_fee() {
        let standard = Ppm(150_000);
        let side = rental_commission(5 * CLORE, 0, 8, rental_rate(standard, None));
        assert_eq!(side, Ok(Wad::from_decimal_str("0.75").expect("0.75")));
        let promo = rental_commission(5 * CLORE, 0, 8, rental_rate(standard, Some(Ppm(500_000))));
        assert_eq!(promo, Ok(Wad::from_decimal_str("2.5").expect("2.5")));
        let with_extra = rental_commission(4 * CLORE, CLORE, 8, Ppm(300_000));
        assert_eq!(with_extra, Ok(Wad::from_decimal_str("1.5").expect("1.5")));
        assert!(rental_commission(1, 1, 19, Ppm::ONE).is_err());
    }
}
