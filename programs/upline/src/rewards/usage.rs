//! Cxmpute usage points (DESIGN.md §4.2): `points = base + tokens × per_token`.

use crate::math::{MathError, Wad};

/// Points for one API request; exact (no rounding is needed).
pub fn usage_points(base: Wad, per_token: Wad, tokens: u64) -> Result<Wad, MathError> {
    let token_points = per_token
        .0
        .checked_mul(u128::from(tokens))
        .ok_or(MathError::Overflow)?;
    base.checked_add(Wad(token_points))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_1000_token_chat_is_two_points() {
        let base = Wad::from_decimal_str("1").expect("1");
        let per_token = Wad::from_decimal_str("0.001").expect("0.001");
        assert_eq!(
            usage_points(base, per_token, 1000),
            Ok(Wad::from_decimal_str("2").expect("2"))
        );
        assert_eq!(usage_points(base, per_token, 0), Ok(base));
        assert!(usage_points(base, Wad(u128::MAX), 2).is_err());
    }
}
