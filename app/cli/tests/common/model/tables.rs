//! A preset's numbers, read from its JSON file under `migrations/presets/`
//! (DESIGN.md §4.5: presets are data). Nothing here comes from the program or
//! the SDK.

use super::num::{dec, Q};
use serde_json::Value;
use std::collections::BTreeMap;

pub struct Class {
    pub name: String,
    /// Commission rates by level (1-3).
    pub rates: Vec<Q>,
    /// Direct bonus paid to a referrer of this class at link: amount, ledger.
    pub bonus: Option<(Q, usize)>,
}

pub struct LedgerTable {
    pub name: String,
    /// Token decimals; `None` for a points ledger.
    pub decimals: Option<u32>,
    pub minimum: Q,
}

pub struct ComputeTier {
    pub max_vram_mb: Option<u64>,
    pub base: Q,
    pub per_token: Q,
}

pub struct Compute {
    pub ledger: usize,
    pub class: usize,
    pub tiers: Vec<ComputeTier>,
    pub services: BTreeMap<String, Q>,
    pub fast_below_ms: u64,
    pub fast: Q,
    pub slow_above_ms: u64,
    pub slow: Q,
    /// Model name: (minimum tier index, complexity).
    pub models: BTreeMap<String, (usize, Q)>,
}

pub struct Usage {
    pub ledger: usize,
    pub class: usize,
    /// Endpoint: (base, per token).
    pub endpoints: BTreeMap<String, (Q, Q)>,
}

pub struct Bandwidth {
    pub ledger: usize,
    pub class: usize,
    pub reward_per_gb: Q,
    pub base_rate: Q,
    pub cap: Q,
    /// (seconds of streak, bonus), increasing.
    pub stability: Vec<(i64, Q)>,
    pub max_gap: i64,
    /// (active referrals, bonus), increasing.
    pub growth: Vec<(u64, Q)>,
    pub epoch: i64,
    pub early_node: Q,
    pub early_member: Q,
    pub subnet_limit: u64,
}

pub struct Early {
    pub growth_phase: i64,
    pub referee_limit: u64,
    /// The class whose referees take early slots (`None`: every class).
    pub referee_class: Option<usize>,
    pub member_limit: u64,
}

pub struct Tables {
    pub name: String,
    pub same_class: bool,
    pub classes: Vec<Class>,
    /// standard, premium, vip.
    pub tier_rates: Option<[Q; 3]>,
    pub early: Option<Early>,
    pub ledgers: Vec<LedgerTable>,
    pub compute: Option<Compute>,
    pub usage: Option<Usage>,
    pub rental: bool,
    pub bandwidth: Option<Bandwidth>,
    /// DESIGN.md §5: default 7 days.
    pub max_report_age: i64,
}

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("preset: {key} in {v}"))
}

fn number(v: &Value, key: &str) -> Q {
    dec(text(v, key)).unwrap_or_else(|| panic!("preset: {key} is not a decimal in {v}"))
}

fn uint(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("preset: {key} in {v}"))
}

impl Tables {
    /// The preset file `migrations/presets/NAME.json`.
    pub fn load(name: &str) -> Tables {
        let path = format!(
            "{}/../../migrations/presets/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        Tables::parse(&value)
    }

    pub fn class(&self, name: &str) -> usize {
        self.classes
            .iter()
            .position(|c| c.name == name)
            .unwrap_or_else(|| panic!("{}: no class {name}", self.name))
    }

    pub fn ledger(&self, name: &str) -> Option<usize> {
        self.ledgers.iter().position(|l| l.name == name)
    }

    fn parse(p: &Value) -> Tables {
        let ledgers: Vec<LedgerTable> = p["ledgers"]
            .as_array()
            .expect("ledgers")
            .iter()
            .map(|l| {
                let token = text(l, "kind") == "token";
                LedgerTable {
                    name: text(l, "name").to_string(),
                    decimals: token.then(|| uint(l, "decimals") as u32),
                    minimum: if token {
                        number(l, "min_withdrawal")
                    } else {
                        Q::default()
                    },
                }
            })
            .collect();
        let ledger = |name: &str| {
            ledgers
                .iter()
                .position(|l| l.name == name)
                .unwrap_or_else(|| panic!("preset: no ledger {name}"))
        };
        let classes: Vec<Class> = p["classes"]
            .as_array()
            .expect("classes")
            .iter()
            .map(|c| Class {
                name: text(c, "name").to_string(),
                rates: c["commission_rates"]
                    .as_array()
                    .expect("commission_rates")
                    .iter()
                    .map(|r| dec(r.as_str().expect("rate")).expect("rate"))
                    .collect(),
                bonus: c.get("direct_bonus").map(|b| {
                    // The presets pay at link (DESIGN.md §3 rule 4); the model
                    // has no first-work trigger.
                    assert_eq!(text(b, "trigger"), "at_link");
                    (number(b, "amount"), ledger(text(b, "ledger")))
                }),
            })
            .collect();
        let class = |name: &str| {
            classes
                .iter()
                .position(|c| c.name == name)
                .unwrap_or_else(|| panic!("preset: no class {name}"))
        };
        let tier_rates = p.get("tier_rates").map(|t| {
            [
                number(t, "standard"),
                number(t, "premium"),
                number(t, "vip"),
            ]
        });
        let early = p.get("early_bonus").map(|e| Early {
            growth_phase: uint(e, "growth_phase_days") as i64 * DAY,
            referee_limit: uint(e, "early_referee_limit"),
            referee_class: e
                .get("early_referee_class")
                .and_then(Value::as_str)
                .map(class),
            member_limit: uint(e, "early_member_limit"),
        });
        let rewards = &p["rewards"];
        let compute = rewards.get("compute").map(|c| {
            let tiers: Vec<(String, ComputeTier)> = c["tiers"]
                .as_array()
                .expect("tiers")
                .iter()
                .map(|t| {
                    (
                        text(t, "name").to_string(),
                        ComputeTier {
                            max_vram_mb: t["max_vram_mb"].as_u64(),
                            base: number(t, "base"),
                            per_token: number(t, "per_token"),
                        },
                    )
                })
                .collect();
            let tier = |name: &str| tiers.iter().position(|(n, _)| n == name).expect("tier");
            let models = rewards["models"]
                .as_array()
                .expect("models")
                .iter()
                .map(|m| {
                    (
                        text(m, "name").to_string(),
                        (tier(text(m, "min_tier")), number(m, "complexity")),
                    )
                })
                .collect();
            Compute {
                ledger: ledger(text(c, "ledger")),
                class: class(text(c, "provider_class")),
                services: c["services"]
                    .as_object()
                    .expect("services")
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            dec(v.as_str().expect("service")).expect("service"),
                        )
                    })
                    .collect(),
                fast_below_ms: uint(c, "fast_below_ms"),
                fast: number(c, "fast_multiplier"),
                slow_above_ms: uint(c, "slow_above_ms"),
                slow: number(c, "slow_multiplier"),
                models,
                tiers: tiers.into_iter().map(|(_, t)| t).collect(),
            }
        });
        let usage = rewards.get("usage").map(|u| Usage {
            ledger: ledger(text(u, "ledger")),
            class: class(text(u, "user_class")),
            endpoints: u["endpoints"]
                .as_object()
                .expect("endpoints")
                .iter()
                .map(|(k, e)| (k.clone(), (number(e, "base"), number(e, "per_token"))))
                .collect(),
        });
        let bandwidth = rewards.get("bandwidth").map(|b| {
            let steps = |key: &str, at: &str| -> Vec<(u64, Q)> {
                b[key]
                    .as_array()
                    .expect("steps")
                    .iter()
                    .map(|s| (uint(s, at), number(s, "bonus")))
                    .collect()
            };
            Bandwidth {
                ledger: ledger(text(b, "ledger")),
                class: class(text(b, "node_class")),
                reward_per_gb: number(b, "reward_per_gb"),
                base_rate: number(b, "base_rate"),
                cap: number(b, "rate_cap"),
                stability: steps("stability", "days")
                    .into_iter()
                    .map(|(d, q)| (d as i64 * DAY, q))
                    .collect(),
                max_gap: uint(b, "max_gap_hours") as i64 * HOUR,
                growth: steps("growth", "active"),
                epoch: uint(b, "epoch_days") as i64 * DAY,
                early_node: number(b, "early_node_bonus"),
                early_member: number(b, "early_member_bonus"),
                subnet_limit: uint(b, "subnet_limit"),
            }
        });
        Tables {
            name: text(p, "name").to_string(),
            same_class: p["same_class_referrals"].as_bool().unwrap_or(false),
            classes,
            tier_rates,
            early,
            compute,
            usage,
            rental: rewards.get("rental").is_some(),
            bandwidth,
            max_report_age: p
                .get("max_report_age_hours")
                .and_then(Value::as_i64)
                .unwrap_or(168)
                * HOUR,
            ledgers,
        }
    }
}
