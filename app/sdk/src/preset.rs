//! Network presets: data files under `migrations/presets/`, turned into the
//! program's tables. The three seed presets are embedded so that tools work
//! from any directory; any other tables file is read the same way.

use crate::rewards_spec::RewardsSpec;
use serde::Deserialize;
use std::fmt;
use upline::constants::{MAX_CLASSES, MAX_LABEL_LEN, MAX_LEDGERS, MAX_REFERRAL_DEPTH};
use upline::math::decimal::parse_fixed;
use upline::math::{Ppm, Wad};
use upline::state::{label, BonusTrigger, ClassTable, EarlyBonusPolicy, NetworkTables};

/// The built-in presets: name and JSON text.
pub const BUILTIN: [(&str, &str); 3] = [
    (
        "cxmpute",
        include_str!("../../../migrations/presets/cxmpute.json"),
    ),
    (
        "clore",
        include_str!("../../../migrations/presets/clore.json"),
    ),
    (
        "aether",
        include_str!("../../../migrations/presets/aether.json"),
    ),
];

/// A preset or tables file that cannot be used, with what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresetError(pub String);

impl fmt::Display for PresetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PresetError {}

fn fail<T>(message: String) -> Result<T, PresetError> {
    Err(PresetError(message))
}

/// A network's tables as written in a preset file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Network name (1 to 32 bytes).
    pub name: String,
    /// What the network is, for people.
    #[serde(default)]
    pub description: String,
    /// Whether referrer and referee must share a class.
    pub same_class_referrals: bool,
    /// Member classes, in index order.
    pub classes: Vec<ClassSpec>,
    /// Commission tier rates; 15% / 20% / 30% when absent.
    #[serde(default)]
    pub tier_rates: Option<TierRates>,
    /// Early referee and member policy; none when absent.
    #[serde(default)]
    pub early_bonus: Option<EarlyBonusSpec>,
    /// Oldest work time a report may carry, in hours before the clock; 168
    /// (7 days) when absent.
    #[serde(default)]
    pub max_report_age_hours: Option<u32>,
    /// Ledgers, in index order.
    pub ledgers: Vec<LedgerSpec>,
    /// Report tables and the model registry; every report kind is disabled when absent.
    #[serde(default)]
    pub rewards: Option<RewardsSpec>,
}

/// One member class.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassSpec {
    /// Class name ("user", "provider").
    pub name: String,
    /// Commission per upline level, as decimal fractions ("0.1" = 10%), up to three.
    pub commission_rates: Vec<String>,
    /// Paid to a referrer of this class for each referee.
    #[serde(default)]
    pub direct_bonus: Option<DirectBonusSpec>,
}

/// A direct referral bonus.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectBonusSpec {
    /// Whole units, decimal ("50").
    pub amount: String,
    /// Name of the ledger it is credited to.
    pub ledger: String,
    /// `at_link` or `first_work`.
    pub trigger: String,
}

/// Commission tier rates, decimal fractions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierRates {
    /// Default tier.
    pub standard: String,
    /// Admin-assigned.
    pub premium: String,
    /// Admin-assigned.
    pub vip: String,
}

/// Early-bonus policy in days and counts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyBonusSpec {
    /// Days after creation during which links count as early.
    pub growth_phase_days: u32,
    /// First N referees of `early_referee_class` of each referrer are early.
    pub early_referee_limit: u32,
    /// First N members of the network are early.
    pub early_member_limit: u32,
    /// The class whose referees take early slots ("node": the first 10 referred
    /// *nodes*); required when `early_referee_limit` is above 0.
    #[serde(default)]
    pub early_referee_class: Option<String>,
}

/// One ledger.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerSpec {
    /// Ledger name ("CXPT").
    pub name: String,
    /// `token` or `points`.
    pub kind: String,
    /// Token decimals (tokens only).
    #[serde(default)]
    pub decimals: Option<u8>,
    /// Minimum withdrawal in whole units, decimal (tokens only).
    #[serde(default)]
    pub min_withdrawal: Option<String>,
}

impl LedgerSpec {
    /// Whether this is a token ledger.
    pub fn is_token(&self) -> bool {
        self.kind == "token"
    }

    /// The minimum withdrawal in base units.
    pub fn min_withdrawal_base_units(&self) -> Result<u64, PresetError> {
        let decimals = self.decimals.unwrap_or(0);
        let text = self.min_withdrawal.as_deref().unwrap_or("0");
        let units = parse_fixed(text, decimals).map_err(|e| {
            PresetError(format!(
                "ledger {}: min_withdrawal {text:?}: {e}",
                self.name
            ))
        })?;
        u64::try_from(units)
            .map_err(|_| PresetError(format!("ledger {}: min_withdrawal too large", self.name)))
    }
}

fn rate(text: &str, what: &str) -> Result<Ppm, PresetError> {
    let rate =
        Ppm::from_decimal_str(text).map_err(|e| PresetError(format!("{what}: {text:?}: {e}")))?;
    if !rate.is_fraction() {
        return fail(format!("{what}: {text:?} is above 1 (100%)"));
    }
    Ok(rate)
}

impl Preset {
    /// A built-in preset by name.
    pub fn builtin(name: &str) -> Result<Preset, PresetError> {
        let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
            return fail(format!(
                "unknown preset {name:?}; the presets are {}",
                names.join(", ")
            ));
        };
        Preset::parse(text, name)
    }

    /// Parse preset JSON; `origin` names the file in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Preset, PresetError> {
        let preset: Preset =
            serde_json::from_str(text).map_err(|e| PresetError(format!("{origin}: {e}")))?;
        preset
            .validate()
            .map_err(|e| PresetError(format!("{origin}: {e}")))?;
        Ok(preset)
    }

    /// Index of the ledger called `name`.
    pub fn ledger_index(&self, name: &str) -> Option<u8> {
        self.ledgers
            .iter()
            .position(|l| l.name == name)
            .and_then(|i| u8::try_from(i).ok())
    }

    /// Index of the class called `name`.
    pub fn class_index(&self, name: &str) -> Option<u8> {
        self.classes
            .iter()
            .position(|c| c.name == name)
            .and_then(|i| u8::try_from(i).ok())
    }

    fn validate(&self) -> Result<(), PresetError> {
        if self.ledgers.is_empty() || self.ledgers.len() > MAX_LEDGERS {
            return fail(format!(
                "a network has 1 to {MAX_LEDGERS} ledgers, not {}",
                self.ledgers.len()
            ));
        }
        for ledger in &self.ledgers {
            if label::<MAX_LABEL_LEN>(&ledger.name).is_none() {
                return fail(format!(
                    "ledger name {:?} must be 1 to {MAX_LABEL_LEN} bytes",
                    ledger.name
                ));
            }
            match (ledger.kind.as_str(), ledger.decimals) {
                ("token", Some(d)) if d <= Wad::DECIMALS => {}
                ("token", _) => {
                    return fail(format!(
                        "token ledger {} needs decimals from 0 to 18",
                        ledger.name
                    ))
                }
                ("points", None) if ledger.min_withdrawal.is_none() => {}
                ("points", _) => {
                    return fail(format!(
                        "points ledger {} has no decimals or minimum withdrawal",
                        ledger.name
                    ))
                }
                (other, _) => {
                    return fail(format!(
                        "ledger {}: kind {other:?} is not token or points",
                        ledger.name
                    ))
                }
            }
            ledger.min_withdrawal_base_units()?;
        }
        let tables = self.tables()?;
        tables
            .validate()
            .map_err(|e| PresetError(format!("the program would refuse these tables: {e}")))?;
        self.reward_tables()?
            .validate(self.ledgers.len() as u8, tables.class_count)
            .map_err(|e| {
                PresetError(format!("the program would refuse these reward tables: {e}"))
            })?;
        self.models()?;
        Ok(())
    }

    /// The program's tables for this preset.
    pub fn tables(&self) -> Result<NetworkTables, PresetError> {
        if self.classes.is_empty() || self.classes.len() > MAX_CLASSES {
            return fail(format!(
                "a network has 1 to {MAX_CLASSES} classes, not {}",
                self.classes.len()
            ));
        }
        let mut classes = [ClassTable::default(); MAX_CLASSES];
        for (slot, spec) in classes.iter_mut().zip(&self.classes) {
            *slot = self.class_table(spec)?;
        }
        let tier_rates = match &self.tier_rates {
            Some(t) => [
                rate(&t.standard, "tier_rates.standard")?,
                rate(&t.premium, "tier_rates.premium")?,
                rate(&t.vip, "tier_rates.vip")?,
            ],
            None => [Ppm(150_000), Ppm(200_000), Ppm(300_000)],
        };
        let early_bonus = match &self.early_bonus {
            None => EarlyBonusPolicy::default(),
            Some(e) => {
                let early_referee_class = match (&e.early_referee_class, e.early_referee_limit) {
                    (Some(name), _) => self.class_index(name).ok_or_else(|| {
                        PresetError(format!(
                            "early_bonus.early_referee_class: no class {name:?}"
                        ))
                    })?,
                    (None, 0) => 0,
                    (None, _) => {
                        return fail(
                            "early_bonus.early_referee_class: name the class whose referees \
                             take early slots (\"node\")"
                                .to_string(),
                        )
                    }
                };
                EarlyBonusPolicy {
                    growth_phase_seconds: i64::from(e.growth_phase_days) * 86_400,
                    early_referee_limit: e.early_referee_limit,
                    early_member_limit: e.early_member_limit,
                    early_referee_class,
                }
            }
        };
        Ok(NetworkTables {
            class_count: self.classes.len() as u8,
            classes,
            same_class_referrals: self.same_class_referrals,
            tier_rates,
            early_bonus,
            max_report_age_seconds: match self.max_report_age_hours {
                None => upline::constants::DEFAULT_MAX_REPORT_AGE,
                Some(0) => return fail("max_report_age_hours: must be at least 1".to_string()),
                Some(hours) => i64::from(hours) * 3_600,
            },
        })
    }

    fn class_table(&self, spec: &ClassSpec) -> Result<ClassTable, PresetError> {
        let Some(name) = label::<MAX_LABEL_LEN>(&spec.name) else {
            return fail(format!(
                "class name {:?} must be 1 to {MAX_LABEL_LEN} bytes",
                spec.name
            ));
        };
        if spec.commission_rates.len() > MAX_REFERRAL_DEPTH {
            return fail(format!(
                "class {}: at most {MAX_REFERRAL_DEPTH} commission levels",
                spec.name
            ));
        }
        let mut commission_rates = [Ppm::ZERO; MAX_REFERRAL_DEPTH];
        for (level, (slot, text)) in commission_rates
            .iter_mut()
            .zip(&spec.commission_rates)
            .enumerate()
        {
            *slot = rate(text, &format!("class {} level {}", spec.name, level + 1))?;
        }
        let mut table = ClassTable {
            name,
            referral_depth: spec.commission_rates.len() as u8,
            commission_rates,
            ..ClassTable::default()
        };
        if let Some(bonus) = &spec.direct_bonus {
            let what = format!("class {} direct_bonus", spec.name);
            table.direct_bonus = Wad::from_decimal_str(&bonus.amount)
                .map_err(|e| PresetError(format!("{what} amount {:?}: {e}", bonus.amount)))?;
            table.direct_bonus_ledger = self.ledger_index(&bonus.ledger).ok_or_else(|| {
                PresetError(format!("{what}: no ledger named {:?}", bonus.ledger))
            })?;
            table.direct_bonus_trigger = match bonus.trigger.as_str() {
                "at_link" => BonusTrigger::AtLink,
                "first_work" => BonusTrigger::FirstWork,
                other => {
                    return fail(format!(
                        "{what}: trigger {other:?} is not at_link or first_work"
                    ))
                }
            };
        }
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_presets_match_design_table() {
        let cx = Preset::builtin("cxmpute").expect("cxmpute");
        let t = cx.tables().expect("tables");
        assert!(t.same_class_referrals);
        assert_eq!(
            t.classes[0].commission_rates,
            [Ppm(150_000), Ppm(80_000), Ppm(40_000)]
        );
        assert_eq!(
            t.classes[1].commission_rates,
            [Ppm(100_000), Ppm(50_000), Ppm(25_000)]
        );
        assert_eq!(
            t.classes[1].direct_bonus,
            Wad::from_decimal_str("50").expect("50")
        );
        assert_eq!(t.classes[1].direct_bonus_ledger, 1);
        assert_eq!(cx.ledgers[0].min_withdrawal_base_units(), Ok(1_000_000_000));

        let clore = Preset::builtin("clore").expect("clore");
        assert_eq!(
            clore.tables().expect("tables").tier_rates,
            [Ppm(150_000), Ppm(200_000), Ppm(300_000)]
        );
        assert_eq!(clore.ledgers[1].min_withdrawal_base_units(), Ok(50_000));

        let aether = Preset::builtin("aether").expect("aether");
        let t = aether.tables().expect("tables");
        assert_eq!(t.early_bonus.growth_phase_seconds, 180 * 86_400);
        assert_eq!(t.classes[1].paid_rates(), &[] as &[Ppm]);
        let bw = aether.reward_tables().expect("reward tables").bandwidth;
        assert!(bw.enabled);
        assert_eq!(
            (bw.base_rate, bw.rate_cap, bw.subnet_limit),
            (Ppm(120_000), Ppm(220_000), 3)
        );
        assert_eq!((bw.max_gap_seconds, bw.epoch_seconds), (86_400, 7 * 86_400));
        assert_eq!(bw.growth_steps[3].at_least, 101);
        assert_eq!(bw.stability_steps[1].at_least, 30 * 86_400);

        let compute = cx.reward_tables().expect("reward tables").compute;
        assert_eq!(
            compute.tiers.map(|t| t.max_vram_mb),
            [4096, 8192, 22527, u32::MAX]
        );
        assert_eq!(
            compute.tiers[3].base,
            Wad::from_decimal_str("0.075").expect("base")
        );
        let models = cx.models().expect("models");
        assert_eq!(models.len(), 7);
        assert_eq!(
            (models[0].complexity, models[0].min_tier),
            (Ppm(3_000_000), 4)
        );
        assert_eq!(
            (models[6].complexity, models[6].min_tier),
            (Ppm(300_000), 1)
        );
        let clore_tables = clore.reward_tables().expect("reward tables");
        assert!(
            clore_tables.rental.enabled
                && !clore_tables.compute.enabled
                && !clore_tables.bandwidth.enabled
        );
    }

    #[test]
    fn bad_files_say_what_to_fix() {
        let err = Preset::builtin("nope").expect_err("unknown");
        assert!(err.0.contains("cxmpute, clore, aether"), "{err}");
        let err = Preset::parse("{\"name\": 1}", "t.json").expect_err("bad type");
        assert!(err.0.starts_with("t.json: "), "{err}");
        let text = Preset::builtin("cxmpute").expect("cx");
        let mut bad = text.clone();
        bad.classes[0].commission_rates = vec!["0.6".into(), "0.3".into(), "0.2".into()];
        let err = bad.validate().expect_err("over 100%");
        assert!(err.0.contains("refuse"), "{err}");
        let cxmpute = include_str!("../../../migrations/presets/cxmpute.json");
        // The first ledger reference is the user class's direct bonus.
        let json = cxmpute.replacen("\"ledger\": \"POINTS\"", "\"ledger\": \"PTS\"", 1);
        let err = Preset::parse(&json, "x.json").expect_err("unknown ledger");
        assert!(err.0.contains("no ledger named \"PTS\""), "{err}");
        let json = cxmpute.replace("\"min_tier\": \"mariana-depth\"", "\"min_tier\": \"abyss\"");
        let err = Preset::parse(&json, "m.json").expect_err("unknown tier");
        assert!(err.0.contains("no compute tier named \"abyss\""), "{err}");
    }
}
