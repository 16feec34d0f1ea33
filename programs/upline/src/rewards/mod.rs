//! Reward formulas of DESIGN.md §4, as pure functions of numbers.
//!
//! No account types: handlers read the tables and members, call these, and
//! credit what they return. Every amount is the exact value of its formula,
//! formed in 256 bits and rounded down once; commissions are computed from the
//! earner's already-rounded amount.

pub mod bandwidth;
pub mod compute;
pub mod rental;
pub mod usage;

use crate::math::{MathError, Ppm, Wad};

/// `floor(amount × rate)`: the commission of one upline level.
pub fn commission(amount: Wad, rate: Ppm) -> Result<Wad, MathError> {
    amount.mul_ppm_floor(rate)
}

/// 10^6 and 10^18 as u128, the PPM and WAD scales.
pub(crate) const PPM: u128 = 1_000_000;
pub(crate) const WAD: u128 = 1_000_000_000_000_000_000;
