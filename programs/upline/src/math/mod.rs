//! Exact fixed-point money, as DESIGN.md §2 defines it.
//!
//! Pure arithmetic: no account types, no Anchor context. Every operation is
//! checked and says which way it rounds; the program converts [`MathError`]
//! into its own error at the call site (see `crate::errors::math_error`).

pub mod decimal;
pub mod ppm;
pub mod wad;
pub mod wide;

pub use ppm::Ppm;
pub use wad::Wad;

/// Why an arithmetic operation could not produce an exact result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathError {
    /// The exact result does not fit the target type.
    Overflow,
    /// A subtraction would go below zero.
    Underflow,
    /// A division by zero was asked for.
    DivisionByZero,
    /// A token with more decimals than WAD's 18 cannot be represented exactly.
    UnsupportedDecimals,
}

impl core::fmt::Display for MathError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MathError::Overflow => "arithmetic overflow",
            MathError::Underflow => "arithmetic underflow",
            MathError::DivisionByZero => "division by zero",
            MathError::UnsupportedDecimals => "more than 18 decimals",
        })
    }
}
