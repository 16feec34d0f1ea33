//! Balances: u128 fixed point with 18 decimals of the ledger's whole unit.

use super::decimal::{format_fixed, parse_fixed, pow10, DecimalError};
use super::wide::mul_div_floor;
use super::{MathError, Ppm};
use anchor_lang::prelude::*;

/// An amount with 18 decimals of a whole unit: 1.0 token = `Wad::ONE` = 10^18.
#[derive(
    AnchorSerialize,
    AnchorDeserialize,
    InitSpace,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
)]
pub struct Wad(pub u128);

impl Wad {
    /// Decimal places of a WAD amount.
    pub const DECIMALS: u8 = 18;
    /// One whole unit.
    pub const ONE: Wad = Wad(pow10(18));
    /// Nothing.
    pub const ZERO: Wad = Wad(0);

    /// `self + other`, refusing overflow.
    pub fn checked_add(self, other: Wad) -> core::result::Result<Wad, MathError> {
        self.0
            .checked_add(other.0)
            .map(Wad)
            .ok_or(MathError::Overflow)
    }

    /// `self - other`, refusing to go below zero.
    pub fn checked_sub(self, other: Wad) -> core::result::Result<Wad, MathError> {
        self.0
            .checked_sub(other.0)
            .map(Wad)
            .ok_or(MathError::Underflow)
    }

    /// `floor(self × rate)`: a commission of `rate` on this amount, rounded down.
    pub fn mul_ppm_floor(self, rate: Ppm) -> core::result::Result<Wad, MathError> {
        mul_div_floor(self.0, u128::from(rate.0), u128::from(Ppm::ONE.0)).map(Wad)
    }

    /// WAD units in one base unit of a token with `decimals` decimals.
    pub fn per_base_unit(decimals: u8) -> core::result::Result<u128, MathError> {
        if decimals > Self::DECIMALS {
            return Err(MathError::UnsupportedDecimals);
        }
        Ok(pow10(Self::DECIMALS - decimals))
    }

    /// The exact WAD value of `amount` base units. Cannot overflow: u64 × 10^18 < 2^128.
    pub fn from_base_units(amount: u64, decimals: u8) -> core::result::Result<Wad, MathError> {
        let scale = Self::per_base_unit(decimals)?;
        u128::from(amount)
            .checked_mul(scale)
            .map(Wad)
            .ok_or(MathError::Overflow)
    }

    /// The whole base units in this amount, rounded down; the fraction is left out.
    pub fn to_base_units_floor(self, decimals: u8) -> core::result::Result<u64, MathError> {
        let scale = Self::per_base_unit(decimals)?;
        u64::try_from(self.0 / scale).map_err(|_| MathError::Overflow)
    }

    /// The whole base units in this amount, rounded down and capped at `u64::MAX`
    /// (the most one token transfer can move). A balance can outgrow u64 base
    /// units on a high-decimal mint (18.45 tokens at 18 decimals); it is then
    /// withdrawn in several transfers.
    pub fn to_base_units_floor_capped(self, decimals: u8) -> core::result::Result<u64, MathError> {
        let scale = Self::per_base_unit(decimals)?;
        Ok(u64::try_from(self.0 / scale).unwrap_or(u64::MAX))
    }

    /// The same amount in nano-units (10^-9 of a whole unit), rounded down and
    /// saturating: for statistics only, never for balances.
    pub fn to_nano_units_saturating(self) -> u64 {
        u64::try_from(self.0 / pow10(9)).unwrap_or(u64::MAX)
    }

    /// Parse a decimal amount of whole units: "0.375" is 375 × 10^15.
    pub fn from_decimal_str(text: &str) -> core::result::Result<Wad, DecimalError> {
        parse_fixed(text, Self::DECIMALS).map(Wad)
    }
}

impl core::fmt::Display for Wad {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&format_fixed(self.0, Self::DECIMALS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use num_rational::BigRational;
    use num_traits::{ToPrimitive, Zero};
    use proptest::prelude::*;

    fn wad(text: &str) -> Wad {
        Wad::from_decimal_str(text).expect("valid literal")
    }

    /// Exact rational value of a WAD amount in whole units.
    fn rational(amount: Wad) -> BigRational {
        BigRational::new(amount.0.into(), BigUint::from(pow10(18)).into())
    }

    #[test]
    fn commissions_of_the_seed_request() {
        let reward = wad("0.375");
        assert_eq!(reward.mul_ppm_floor(Ppm(100_000)), Ok(wad("0.0375")));
        assert_eq!(reward.mul_ppm_floor(Ppm(50_000)), Ok(wad("0.01875")));
        assert_eq!(reward.mul_ppm_floor(Ppm(25_000)), Ok(wad("0.009375")));
    }

    #[test]
    fn commission_rounds_down_once() {
        // 1 WAD unit × 15% is 0.15 units: floor is 0, never 1.
        assert_eq!(Wad(1).mul_ppm_floor(Ppm(150_000)), Ok(Wad(0)));
        assert_eq!(Wad(7).mul_ppm_floor(Ppm(150_000)), Ok(Wad(1)));
    }

    #[test]
    fn base_units_convert_by_decimals() {
        assert_eq!(Wad::from_base_units(5, 0), Ok(wad("5")));
        assert_eq!(Wad::from_base_units(50_000, 8), Ok(wad("0.0005")));
        assert_eq!(
            Wad::from_base_units(u64::MAX, 0).map(|w| w.0),
            Ok(u128::from(u64::MAX) * pow10(18))
        );
        assert_eq!(
            Wad::from_base_units(1, 19),
            Err(MathError::UnsupportedDecimals)
        );
        assert_eq!(wad("1.999999999").to_base_units_floor(9), Ok(1_999_999_999));
        assert_eq!(
            wad("1.9999999999").to_base_units_floor(9),
            Ok(1_999_999_999)
        );
        assert_eq!(
            Wad(u128::MAX).to_base_units_floor(18),
            Err(MathError::Overflow)
        );
    }

    #[test]
    fn add_and_sub_are_checked() {
        assert_eq!(Wad(u128::MAX).checked_add(Wad(1)), Err(MathError::Overflow));
        assert_eq!(Wad(0).checked_sub(Wad(1)), Err(MathError::Underflow));
        assert_eq!(wad("0.75").checked_add(wad("0.75")), Ok(wad("1.5")));
    }

    proptest! {
        #[test]
        fn mul_ppm_is_the_exact_product_rounded_down(amount: u128, rate: u64) {
            let exact = rational(Wad(amount)) * BigRational::new(rate.into(), 1_000_000u32.into());
            let expected = (exact * BigRational::from_integer(BigUint::from(pow10(18)).into())).floor();
            match Wad(amount).mul_ppm_floor(Ppm(rate)) {
                Ok(got) => prop_assert_eq!(BigRational::from_integer(got.0.into()), expected),
                Err(e) => {
                    prop_assert_eq!(e, MathError::Overflow);
                    prop_assert!(expected.to_integer().to_u128().is_none());
                }
            }
        }

        #[test]
        fn withdrawal_floor_never_exceeds_the_balance(amount: u128, decimals in 0u8..=18) {
            let Ok(units) = Wad(amount).to_base_units_floor(decimals) else {
                return Ok(());
            };
            let paid = Wad::from_base_units(units, decimals).expect("u64 base units always fit");
            prop_assert!(paid <= Wad(amount));
            let left = Wad(amount).checked_sub(paid).expect("paid <= amount");
            // What stays behind is less than one base unit: nothing whole is withheld.
            prop_assert!(left.0 < Wad::per_base_unit(decimals).expect("decimals <= 18"));
            prop_assert!(!rational(left).is_zero() || left.0 == 0);
        }
    }
}
