//! The report tables as (scope, field, value) rows, in the user's terms, so
//! that `network tables update` can print what changes field by field.

use upline::state::{label_text, BonusStep, RewardTablesData};

/// (scope, field, value).
pub type Field = (String, String, String);

fn steps(list: &[BonusStep]) -> String {
    let used: Vec<String> = list
        .iter()
        .filter(|s| s.at_least > 0 || s.bonus.0 > 0)
        .map(|s| format!("{}:{}", s.at_least, s.bonus))
        .collect();
    if used.is_empty() {
        "none".into()
    } else {
        used.join(", ")
    }
}

/// Rows of each enabled report kind; a disabled kind is one row, `enabled false`.
pub fn flatten(
    d: &RewardTablesData,
    ledger: &dyn Fn(u8) -> String,
    class: &dyn Fn(u8) -> String,
) -> Vec<Field> {
    let mut out = Vec::new();
    let mut put = |scope: &str, field: &str, value: String| {
        out.push((format!("reports {scope}"), field.to_string(), value));
    };
    let c = &d.compute;
    put("compute", "enabled", c.enabled.to_string());
    if c.enabled {
        put("compute", "ledger", ledger(c.ledger));
        put("compute", "provider_class", class(c.provider_class));
        for (i, t) in c.tiers.iter().enumerate() {
            let f = format!("tiers[{i}]");
            put(
                "compute",
                &format!("{f}.name"),
                label_text(&t.name).to_string(),
            );
            put(
                "compute",
                &format!("{f}.max_vram_mb"),
                t.max_vram_mb.to_string(),
            );
            put("compute", &format!("{f}.base"), t.base.to_string());
            put(
                "compute",
                &format!("{f}.per_token"),
                t.per_token.to_string(),
            );
        }
        for (name, rate) in ["chat", "tts", "embeddings", "scrape"]
            .iter()
            .zip(c.services)
        {
            put("compute", &format!("services.{name}"), rate.to_string());
        }
        put("compute", "fast_below_ms", c.fast_below_ms.to_string());
        put("compute", "fast_multiplier", c.fast_multiplier.to_string());
        put("compute", "slow_above_ms", c.slow_above_ms.to_string());
        put("compute", "slow_multiplier", c.slow_multiplier.to_string());
    }
    let u = &d.usage;
    put("usage", "enabled", u.enabled.to_string());
    if u.enabled {
        put("usage", "ledger", ledger(u.ledger));
        put("usage", "user_class", class(u.user_class));
        for (name, e) in ["chat", "embeddings", "scrape", "tts"]
            .iter()
            .zip(u.endpoints)
        {
            put(
                "usage",
                &format!("endpoints.{name}.base"),
                e.base.to_string(),
            );
            put(
                "usage",
                &format!("endpoints.{name}.per_token"),
                e.per_token.to_string(),
            );
        }
    }
    put("rental", "enabled", d.rental.enabled.to_string());
    let b = &d.bandwidth;
    put("bandwidth", "enabled", b.enabled.to_string());
    if b.enabled {
        put("bandwidth", "ledger", ledger(b.ledger));
        put("bandwidth", "node_class", class(b.node_class));
        put("bandwidth", "reward_per_gb", b.reward_per_gb.to_string());
        put("bandwidth", "base_rate", b.base_rate.to_string());
        put("bandwidth", "rate_cap", b.rate_cap.to_string());
        put(
            "bandwidth",
            "stability_steps (seconds:bonus)",
            steps(&b.stability_steps),
        );
        put(
            "bandwidth",
            "max_gap_seconds",
            b.max_gap_seconds.to_string(),
        );
        put("bandwidth", "growth_steps", steps(&b.growth_steps));
        put("bandwidth", "epoch_seconds", b.epoch_seconds.to_string());
        put(
            "bandwidth",
            "early_node_bonus",
            b.early_node_bonus.to_string(),
        );
        put(
            "bandwidth",
            "early_member_bonus",
            b.early_member_bonus.to_string(),
        );
        put("bandwidth", "subnet_limit", b.subnet_limit.to_string());
    }
    out
}
