//! Unit tests of the admin commands' parsing and wording.

use super::*;
use upline::state::CircuitBreakerConfig;

#[test]
fn times_are_rfc_3339_or_unix_seconds() {
    assert_eq!(
        parse_time("1767225600", "--start").ok(),
        Some(1_767_225_600)
    );
    assert_eq!(
        parse_time("2026-01-01T00:00:00Z", "--start").ok(),
        Some(1_767_225_600)
    );
    assert_eq!(
        parse_time("2026-01-01T01:00:00+01:00", "--end").ok(),
        Some(1_767_225_600)
    );
    let bad = parse_time("next week", "--end").err().map(|f| f.message);
    assert!(bad.is_some_and(|m| m.starts_with("--end \"next week\"")));
    assert_eq!(time_text(1_767_225_600), "2026-01-01T00:00:00Z");
}

#[test]
fn tiers_rates_and_counts_read_as_the_user_writes_them() {
    assert_eq!(parse_tier("VIP").ok(), Some(CommissionTier::Vip));
    assert_eq!(parse_tier("premium").ok().map(tier_name), Some("premium"));
    assert!(parse_tier("gold").is_err());
    assert_eq!(percent(Ppm(500_000)), "50%");
    assert_eq!(percent(Ppm(125_000)), "12.5%");
    assert_eq!(plural(1u8, "oracle"), "1 oracle");
    assert_eq!(plural(0u8, "oracle"), "0 oracles");
}

#[test]
fn a_breaker_is_amount_per_window_or_off() {
    assert_eq!(parse_breaker("off", 9).ok(), Some(None));
    assert_eq!(
        parse_breaker("5000/86400", 6).ok(),
        Some(Some(CircuitBreakerConfig {
            window_seconds: 86_400,
            max_outflow: 5_000_000_000,
        }))
    );
    assert_eq!(
        parse_breaker("0.5 / 60", 1).ok(),
        Some(Some(CircuitBreakerConfig {
            window_seconds: 60,
            max_outflow: 5,
        }))
    );
    for bad in ["5000", "x/60", "5/y", "0.05/60"] {
        assert!(parse_breaker(bad, 1).is_err(), "{bad}");
    }
}
