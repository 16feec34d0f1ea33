//! The auditor's own arithmetic: exact rationals, rounded down to WAD once at
//! the end, as DESIGN.md §2 says an independent reimplementation must be. It
//! shares nothing with the program's fixed-point code.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{ToPrimitive, Zero};
use upline::math::{Ppm, Wad};

pub type Q = BigRational;

/// A WAD amount as the rational it stands for (whole units).
pub fn wad(w: Wad) -> Q {
    Q::new(BigInt::from(w.0), BigInt::from(10u64.pow(18)))
}

/// A PPM rate as a rational (1.0 = 1).
pub fn ppm(p: Ppm) -> Q {
    Q::new(BigInt::from(p.0), BigInt::from(1_000_000u64))
}

/// A whole number.
pub fn int(n: impl Into<BigInt>) -> Q {
    Q::from_integer(n.into())
}

/// Base units of a mint with `decimals` as whole units.
pub fn base_units(amount: u64, decimals: u8) -> Q {
    Q::new(
        BigInt::from(amount),
        BigInt::from(10u8).pow(u32::from(decimals)),
    )
}

/// `value` rounded down to 18 decimals, as a WAD (`None` if negative or too large).
pub fn floor_wad(value: &Q) -> Option<Wad> {
    let scaled = value * int(10u64.pow(18));
    if scaled < Q::zero() {
        return None;
    }
    scaled.floor().to_integer().to_u128().map(Wad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_down_once() {
        // 0.375 × 2.5% = 0.009375 exactly; a third of 1 WAD unit rounds to 0.
        let commission = wad(Wad(375_000_000_000_000_000)) * ppm(Ppm(25_000));
        assert_eq!(floor_wad(&commission), Some(Wad(9_375_000_000_000_000)));
        assert_eq!(floor_wad(&(wad(Wad(1)) / int(3))), Some(Wad(0)));
        assert_eq!(floor_wad(&(wad(Wad(5)) / int(3))), Some(Wad(1)));
        assert_eq!(floor_wad(&(int(-1))), None);
        assert_eq!(
            floor_wad(&base_units(150, 2)),
            Some(Wad(1_500_000_000_000_000_000))
        );
    }
}
