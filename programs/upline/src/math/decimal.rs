//! Decimal strings for fixed-point values: "0.375", "5", "0.0005".
//!
//! Parsing is exact and refuses anything it would have to round; formatting
//! prints every significant digit and trims trailing zeros ("0.375", "0").

use core::fmt::Write;

/// Why a decimal string is not a valid fixed-point amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecimalError {
    /// The string is empty, or has nothing before or after the point.
    Empty,
    /// A character other than digits and one '.' appears.
    InvalidCharacter,
    /// More fractional digits than the type holds; rounding would be silent.
    TooPrecise {
        /// How many fractional digits the type holds.
        max_decimals: u8,
    },
    /// The value is too large for the type.
    Overflow,
}

impl core::fmt::Display for DecimalError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecimalError::Empty => f.write_str("empty decimal number"),
            DecimalError::InvalidCharacter => {
                f.write_str("a decimal number is digits with at most one '.'")
            }
            DecimalError::TooPrecise { max_decimals } => {
                write!(f, "more than {max_decimals} digits after the point")
            }
            DecimalError::Overflow => f.write_str("number too large"),
        }
    }
}

/// `10^exp` for `exp <= 38`, the largest power of ten in a u128.
pub const fn pow10(exp: u8) -> u128 {
    let mut value: u128 = 1;
    let mut i = 0;
    while i < exp {
        value *= 10;
        i += 1;
    }
    value
}

/// Parse `text` as a non-negative decimal into units of `10^-decimals`.
pub fn parse_fixed(text: &str, decimals: u8) -> Result<u128, DecimalError> {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty() && fraction.is_empty() || text.ends_with('.') || text.starts_with('.') {
        return Err(DecimalError::Empty);
    }
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits_only(whole) || !digits_only(fraction) {
        return Err(DecimalError::InvalidCharacter);
    }
    let significant = fraction.trim_end_matches('0');
    if significant.len() > usize::from(decimals) {
        return Err(DecimalError::TooPrecise {
            max_decimals: decimals,
        });
    }
    let mut value: u128 = 0;
    for digit in whole.bytes().chain(significant.bytes()) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(digit - b'0')))
            .ok_or(DecimalError::Overflow)?;
    }
    // `significant.len() <= decimals <= 38`, so the cast and the power are in range.
    let scale = pow10(decimals - significant.len() as u8);
    value.checked_mul(scale).ok_or(DecimalError::Overflow)
}

/// Format `value` units of `10^-decimals` as a trimmed decimal string.
pub fn format_fixed(value: u128, decimals: u8) -> String {
    let scale = pow10(decimals);
    let whole = value / scale;
    let fraction = value % scale;
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write!(out, "{whole}");
    if fraction != 0 {
        let mut digits = String::new();
        let _ = write!(digits, "{fraction:0width$}", width = usize::from(decimals));
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_seed_figures() {
        assert_eq!(parse_fixed("0.375", 18), Ok(375 * pow10(15)));
        assert_eq!(parse_fixed("5", 8), Ok(500_000_000));
        assert_eq!(parse_fixed("0.0005", 8), Ok(50_000));
        assert_eq!(parse_fixed("0.15", 6), Ok(150_000));
        assert_eq!(parse_fixed("1.500", 6), Ok(1_500_000));
    }

    #[test]
    fn refuses_what_it_would_have_to_round() {
        assert_eq!(
            parse_fixed("0.0000001", 6),
            Err(DecimalError::TooPrecise { max_decimals: 6 })
        );
        assert_eq!(parse_fixed("", 6), Err(DecimalError::Empty));
        assert_eq!(parse_fixed(".5", 6), Err(DecimalError::Empty));
        assert_eq!(parse_fixed("5.", 6), Err(DecimalError::Empty));
        assert_eq!(parse_fixed("-1", 6), Err(DecimalError::InvalidCharacter));
        assert_eq!(parse_fixed("1.2.3", 6), Err(DecimalError::InvalidCharacter));
        assert_eq!(parse_fixed("1e3", 6), Err(DecimalError::InvalidCharacter));
        assert_eq!(
            parse_fixed("340282366920938463464", 18),
            Err(DecimalError::Overflow)
        );
    }

    #[test]
    fn formats_trimmed() {
        assert_eq!(format_fixed(375 * pow10(15), 18), "0.375");
        assert_eq!(format_fixed(0, 18), "0");
        assert_eq!(format_fixed(185_625 * pow10(15), 18), "185.625");
        assert_eq!(format_fixed(1, 18), "0.000000000000000001");
        assert_eq!(format_fixed(500_000, 6), "0.5");
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(value: u128, decimals in 0u8..=18) {
            prop_assert_eq!(parse_fixed(&format_fixed(value, decimals), decimals), Ok(value));
        }
    }
}
