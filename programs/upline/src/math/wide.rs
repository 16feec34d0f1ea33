//! Multiply-then-divide through a 256-bit intermediate.
//!
//! `a × b` of two u128 values can need 256 bits even when `a × b / d` fits in
//! u128 again; forming the product in 256 bits and dividing once keeps the
//! result exact up to the single final rounding.

use super::MathError;

#[allow(
    clippy::manual_div_ceil,
    clippy::assign_op_pattern,
    clippy::ptr_offset_with_cast
)]
mod u256 {
    uint::construct_uint! {
        /// Unsigned 256-bit integer, used only as an intermediate.
        pub struct U256(4);
    }
}
pub use u256::U256;

/// `floor(a × b / d)`, exact. The product of two u128 always fits in 256 bits.
pub fn mul_div_floor(a: u128, b: u128, d: u128) -> Result<u128, MathError> {
    if d == 0 {
        return Err(MathError::DivisionByZero);
    }
    div_floor(product(&[a, b])?, U256::from(d))
}

/// The product of `factors` in 256 bits, refusing overflow (the `*` operator
/// of `U256` panics instead, which the program must never do on input).
pub fn product(factors: &[u128]) -> Result<U256, MathError> {
    factors
        .iter()
        .try_fold(U256::one(), |acc, factor| {
            acc.checked_mul(U256::from(*factor))
        })
        .ok_or(MathError::Overflow)
}

/// `a + b` in 256 bits, refusing overflow.
pub fn sum(a: U256, b: U256) -> Result<U256, MathError> {
    a.checked_add(b).ok_or(MathError::Overflow)
}

/// `floor(numerator / denominator)` narrowed to u128.
pub fn div_floor(numerator: U256, denominator: U256) -> Result<u128, MathError> {
    if denominator.is_zero() {
        return Err(MathError::DivisionByZero);
    }
    to_u128(numerator / denominator)
}

/// Narrow a 256-bit value back to u128, or report overflow.
pub fn to_u128(value: U256) -> Result<u128, MathError> {
    if value.0[2] != 0 || value.0[3] != 0 {
        return Err(MathError::Overflow);
    }
    Ok(u128::from(value.0[0]) | (u128::from(value.0[1]) << 64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use proptest::prelude::*;

    fn exact(a: u128, b: u128, d: u128) -> Option<u128> {
        let q = BigUint::from(a) * BigUint::from(b) / BigUint::from(d);
        u128::try_from(q).ok()
    }

    #[test]
    fn product_wider_than_u128_still_divides_exactly() {
        // (2^127) × 6 / 3 needs 130 bits before the division.
        assert_eq!(mul_div_floor(1 << 127, 6, 12), Ok(1 << 126));
        assert_eq!(
            mul_div_floor(u128::MAX, u128::MAX, u128::MAX),
            Ok(u128::MAX)
        );
    }

    #[test]
    fn rounds_down() {
        assert_eq!(mul_div_floor(10, 1, 3), Ok(3));
        assert_eq!(mul_div_floor(2, 1, 3), Ok(0));
    }

    #[test]
    fn products_refuse_overflow_instead_of_panicking() {
        assert_eq!(product(&[u128::MAX, u128::MAX]).map(|p| p.bits()), Ok(256));
        assert_eq!(
            product(&[u128::MAX, u128::MAX, 2]),
            Err(MathError::Overflow)
        );
        assert_eq!(sum(U256::MAX, U256::one()), Err(MathError::Overflow));
        assert_eq!(
            div_floor(U256::one(), U256::zero()),
            Err(MathError::DivisionByZero)
        );
    }

    #[test]
    fn refuses_zero_divisor_and_overflow() {
        assert_eq!(mul_div_floor(1, 1, 0), Err(MathError::DivisionByZero));
        assert_eq!(mul_div_floor(u128::MAX, 2, 1), Err(MathError::Overflow));
    }

    proptest! {
        #[test]
        fn matches_big_integer_arithmetic(a: u128, b: u128, d in 1u128..) {
            let expected = exact(a, b, d);
            match mul_div_floor(a, b, d) {
                Ok(q) => prop_assert_eq!(Some(q), expected),
                Err(e) => {
                    prop_assert_eq!(e, MathError::Overflow);
                    prop_assert_eq!(expected, None);
                }
            }
        }
    }
}
