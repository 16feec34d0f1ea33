//! Exact arithmetic for the pages: amounts read from the index as decimal
//! text, solvency coverage and referral shares as fixed-point decimal
//! strings, computed in integers (never floats), and a vault's balance read
//! from its token account snapshot.

use num_bigint::BigUint;
use upline::math::decimal::format_fixed;

/// WAD: balances are kept in 10^-18 of a unit.
pub const WAD_DECIMALS: u8 = 18;

/// An amount column read as text (`amount_wad::text`): a whole number of
/// 39 digits at most. `None` when it is not one.
pub fn parse_amount(text: &str) -> Option<u128> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A WAD amount as a decimal string ("1.875").
pub fn wad(amount: u128) -> String {
    format_fixed(amount, WAD_DECIMALS)
}

/// `numerator / denominator` as a decimal string with `places` decimals,
/// rounded down (a coverage of 0.99996 must not read as 1.0000). `None` when
/// the denominator is 0.
pub fn ratio(numerator: &BigUint, denominator: &BigUint, places: u32) -> Option<String> {
    if *denominator == BigUint::ZERO {
        return None;
    }
    let scale = BigUint::from(10u32).pow(places);
    let scaled = numerator * &scale / denominator;
    let whole = &scaled / &scale;
    let fraction = &scaled % &scale;
    if places == 0 {
        return Some(whole.to_string());
    }
    Some(format!(
        "{whole}.{fraction:0>width$}",
        fraction = fraction.to_string(),
        width = places as usize
    ))
}

/// How many times the vault covers what members are owed: vault (base units
/// of a ledger with `decimals`) over owed (WAD), 4 decimals, rounded down;
/// "n/a" when nothing is owed.
pub fn coverage(vault_base: u128, decimals: u8, owed_wad: u128) -> String {
    // vault / 10^decimals over owed / 10^18 = vault * 10^18 / (owed * 10^decimals).
    let ten = BigUint::from(10u32);
    let numerator = BigUint::from(vault_base) * ten.pow(u32::from(WAD_DECIMALS));
    let denominator = BigUint::from(owed_wad) * ten.pow(u32::from(decimals));
    ratio(&numerator, &denominator, 4).unwrap_or_else(|| "n/a".to_string())
}

/// Whether a vault of `vault_base` base units holds at least `owed_wad`.
pub fn covers(vault_base: u128, decimals: u8, owed_wad: u128) -> bool {
    let ten = BigUint::from(10u32);
    BigUint::from(vault_base) * ten.pow(u32::from(WAD_DECIMALS))
        >= BigUint::from(owed_wad) * ten.pow(u32::from(decimals))
}

/// `part` as a percentage of `whole`, 2 decimals, rounded down; "n/a" for
/// a whole of 0 (a member that earned nothing has no referral share).
pub fn percent(part: u128, whole: u128) -> String {
    let numerator = BigUint::from(part) * BigUint::from(100u32);
    ratio(&numerator, &BigUint::from(whole), 2).unwrap_or_else(|| "n/a".to_string())
}

/// Owed to members: what was credited less what they withdrew (WAD).
/// `None` when the index says more was withdrawn than credited.
pub fn owed(credited_wad: u128, withdrawn_wad: u128) -> Option<u128> {
    credited_wad.checked_sub(withdrawn_wad)
}

/// The amount an SPL token account holds (Token and Token-2022 share the
/// base layout: mint, owner, then the amount as a little-endian u64).
pub fn token_account_amount(data: &[u8]) -> Option<u64> {
    data.get(64..72)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
}

/// A sum of amounts, `None` on overflow (which u128 WAD never reaches for
/// real networks; the page says so rather than wrapping).
pub fn sum(amounts: &[u128]) -> Option<u128> {
    amounts.iter().try_fold(0u128, |s, a| s.checked_add(*a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_only_as_whole_numbers() {
        assert_eq!(parse_amount("0"), Some(0));
        assert_eq!(
            parse_amount("340282366920938463463374607431768211455"),
            Some(u128::MAX)
        );
        assert_eq!(
            parse_amount("340282366920938463463374607431768211456"),
            None
        );
        assert_eq!(parse_amount("1.5"), None);
        assert_eq!(parse_amount("-1"), None);
        assert_eq!(parse_amount("1e18"), None);
        assert_eq!(parse_amount(""), None);
    }

    #[test]
    fn coverage_is_exact_and_rounds_down() {
        // 100 tokens of 6 decimals against 80 owed: 1.25.
        assert_eq!(coverage(100_000_000, 6, 80 * 10u128.pow(18)), "1.2500");
        // 2 against 3: 0.66666… reads 0.6666, never 0.6667.
        assert_eq!(coverage(2_000_000, 6, 3 * 10u128.pow(18)), "0.6666");
        // One base unit short of full coverage must not read as 1.0000… when
        // the shortfall is visible at 4 decimals; here it is not, and
        // rounding down keeps it under.
        assert_eq!(coverage(999_999, 6, 10u128.pow(18)), "0.9999");
        assert_eq!(coverage(0, 6, 10u128.pow(18)), "0.0000");
        assert_eq!(coverage(5, 6, 0), "n/a");
        assert!(covers(1_000_000, 6, 10u128.pow(18)));
        assert!(!covers(999_999, 6, 10u128.pow(18)));
        // The largest vault against the smallest debt does not overflow.
        assert_eq!(
            coverage(u128::from(u64::MAX), 0, 1),
            format!("{}{}.0000", u64::MAX, "0".repeat(18))
        );
        // Decimals above 18 scale the other way.
        assert_eq!(coverage(10u128.pow(20), 20, 10u128.pow(18)), "1.0000");
    }

    #[test]
    fn percentages_and_ratios_keep_their_places() {
        assert_eq!(percent(1, 3), "33.33");
        assert_eq!(percent(2, 3), "66.66");
        assert_eq!(percent(0, 5), "0.00");
        assert_eq!(percent(5, 5), "100.00");
        assert_eq!(percent(0, 0), "n/a");
        let n = BigUint::from(7u32);
        assert_eq!(ratio(&n, &BigUint::from(2u32), 0).as_deref(), Some("3"));
        assert_eq!(
            ratio(&n, &BigUint::from(700u32), 3).as_deref(),
            Some("0.010")
        );
    }

    #[test]
    fn owed_refuses_more_withdrawn_than_credited() {
        assert_eq!(owed(10, 4), Some(6));
        assert_eq!(owed(4, 10), None);
        assert_eq!(sum(&[1, 2, 3]), Some(6));
        assert_eq!(sum(&[u128::MAX, 1]), None);
    }

    #[test]
    fn token_accounts_hold_their_amount_after_mint_and_owner() {
        let mut data = vec![0u8; 165];
        data[64..72].copy_from_slice(&123_456_789u64.to_le_bytes());
        assert_eq!(token_account_amount(&data), Some(123_456_789));
        assert_eq!(token_account_amount(&data[..70]), None);
    }
}
