//! Rates, multipliers and percentages with 6 decimals (DESIGN.md §2).

use super::decimal::{format_fixed, parse_fixed, DecimalError};
use anchor_lang::prelude::*;

/// A rate in parts per million: 1.0× = 100% = `Ppm::ONE` = 1_000_000.
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
pub struct Ppm(pub u64);

impl Ppm {
    /// Decimal places of a rate.
    pub const DECIMALS: u8 = 6;
    /// 1.0× or 100%.
    pub const ONE: Ppm = Ppm(1_000_000);
    /// 0% or 0×.
    pub const ZERO: Ppm = Ppm(0);

    /// True for rates that are a share of something: 0% to 100% inclusive.
    pub fn is_fraction(self) -> bool {
        self <= Ppm::ONE
    }

    /// Parse a decimal rate: "0.15" is 15%, "1.1" is 1.1×.
    pub fn from_decimal_str(text: &str) -> core::result::Result<Ppm, DecimalError> {
        let units = parse_fixed(text, Self::DECIMALS)?;
        u64::try_from(units)
            .map(Ppm)
            .map_err(|_| DecimalError::Overflow)
    }
}

impl core::fmt::Display for Ppm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&format_fixed(u128::from(self.0), Self::DECIMALS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_percentages_as_fractions() {
        assert_eq!(Ppm::from_decimal_str("0.15"), Ok(Ppm(150_000)));
        assert_eq!(Ppm::from_decimal_str("0.025"), Ok(Ppm(25_000)));
        assert_eq!(Ppm::from_decimal_str("1"), Ok(Ppm::ONE));
        assert_eq!(Ppm(500_000).to_string(), "0.5");
        assert!(Ppm(1_000_000).is_fraction());
        assert!(!Ppm(1_000_001).is_fraction());
        assert_eq!(
            Ppm::from_decimal_str("18446744073709.551616"),
            Err(DecimalError::Overflow)
        );
    }
}
