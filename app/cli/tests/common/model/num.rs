//! Exact numbers for the model: decimal strings read as exact rationals,
//! credits rounded down to 18 decimals once (DESIGN.md §2), and the §8 output
//! format (whole units, trailing zeros trimmed).

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

/// An exact rational.
pub type Q = BigRational;
/// An amount in WAD: 10^-18 of a ledger's whole unit.
pub type Wad = BigInt;

pub fn int(n: i64) -> BigInt {
    BigInt::from(n)
}

pub fn q_int(n: i64) -> Q {
    Q::from_integer(int(n))
}

pub fn pow10(n: u32) -> BigInt {
    num_traits::pow(BigInt::from(10), n as usize)
}

/// An exact decimal string ("0.375", "12", "1.0"); `None` if it is not one.
pub fn dec(text: &str) -> Option<Q> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) || (text.contains('.') && frac.is_empty()) {
        return None;
    }
    let all = format!("{whole}{frac}");
    let numerator: BigInt = if all.is_empty() {
        BigInt::zero()
    } else {
        all.parse().ok()?
    };
    Some(Q::new(numerator, pow10(frac.len() as u32)))
}

/// Digits after the point of a decimal string.
pub fn decimals_of(text: &str) -> usize {
    text.split_once('.').map_or(0, |(_, f)| f.len())
}

/// `q` rounded down to a WAD (DESIGN.md §2: once, never up).
pub fn wad_floor(q: &Q) -> Wad {
    assert!(!q.is_negative(), "a credit is never negative: {q}");
    (q * Q::from_integer(pow10(18))).floor().to_integer()
}

/// A WAD as an exact rational of whole units.
pub fn wad_q(w: &Wad) -> Q {
    Q::new(w.clone(), pow10(18))
}

/// A WAD rounded down to whole base units of a ledger with `decimals`, still in WAD.
pub fn floor_units(w: &Wad, decimals: u32) -> Wad {
    let unit = pow10(18 - decimals);
    (w / &unit) * unit
}

/// A WAD in whole units, trailing zeros trimmed ("0.375", "0").
pub fn format_wad(w: &Wad) -> String {
    assert!(!w.is_negative(), "negative amount {w}");
    let scale = pow10(18);
    let whole = w / &scale;
    let frac = w % &scale;
    if frac.is_zero() {
        return whole.to_string();
    }
    let digits = format!("{frac:0>18}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_formatting() {
        assert_eq!(dec("0.375"), Some(Q::new(int(3), int(8))));
        assert_eq!(dec("12"), Some(q_int(12)));
        assert_eq!(dec(".5"), Some(Q::new(int(1), int(2))));
        assert_eq!(dec("1."), None);
        assert_eq!(dec("-1"), None);
        assert_eq!(format_wad(&wad_floor(&dec("0.375").unwrap())), "0.375");
        assert_eq!(format_wad(&wad_floor(&q_int(0))), "0");
        assert_eq!(
            format_wad(&wad_floor(&Q::new(int(1), int(3)))),
            "0.333333333333333333"
        );
        assert_eq!(
            format_wad(&floor_units(&wad_floor(&dec("1.23456789").unwrap()), 2)),
            "1.23"
        );
    }
}
