//! The `rewards` section of a preset: the four report kinds' tables and the
//! model registry, as data. Parsed into the program's `RewardTablesData`.

use crate::preset::{Preset, PresetError};
use serde::Deserialize;
use upline::instructions::ModelArgs;
use upline::math::{Ppm, Wad};
use upline::state::{
    label, BonusStep, ComputeTier, EndpointPoints, RewardTablesData, COMPUTE_TIERS,
};

/// Tables per report kind; a kind that is absent is disabled.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardsSpec {
    #[serde(default)]
    pub compute: Option<ComputeSpec>,
    #[serde(default)]
    pub usage: Option<UsageSpec>,
    #[serde(default)]
    pub rental: Option<RentalSpec>,
    #[serde(default)]
    pub bandwidth: Option<BandwidthSpec>,
    /// The compute model registry.
    #[serde(default)]
    pub models: Vec<ModelSpec>,
}

/// Compute rewards (Cxmpute providers).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeSpec {
    pub ledger: String,
    pub provider_class: String,
    /// Exactly four tiers by increasing VRAM.
    pub tiers: Vec<TierSpec>,
    pub services: ServicesSpec,
    pub fast_below_ms: u32,
    pub fast_multiplier: String,
    pub slow_above_ms: u32,
    pub slow_multiplier: String,
}

/// One compute tier.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    pub name: String,
    /// Largest VRAM in MiB; `null` for the top tier.
    pub max_vram_mb: Option<u32>,
    pub base: String,
    pub per_token: String,
}

/// Service multipliers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicesSpec {
    pub chat: String,
    pub tts: String,
    pub embeddings: String,
    pub scrape: String,
}

/// Usage points (Cxmpute users).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageSpec {
    pub ledger: String,
    pub user_class: String,
    pub endpoints: EndpointsSpec,
}

/// Points per endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointsSpec {
    pub chat: PointsSpec,
    pub embeddings: PointsSpec,
    pub scrape: PointsSpec,
    pub tts: PointsSpec,
}

/// Points of one endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsSpec {
    pub base: String,
    pub per_token: String,
}

/// Rentals (Clore): the rates are the network's tier rates and promotion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RentalSpec {}

/// Bandwidth rewards (Aether).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandwidthSpec {
    pub ledger: String,
    pub node_class: String,
    pub reward_per_gb: String,
    pub base_rate: String,
    pub rate_cap: String,
    /// Up to two steps by streak length.
    pub stability: Vec<DaysStep>,
    pub max_gap_hours: u32,
    /// Up to four steps by active referrals.
    pub growth: Vec<ActiveStep>,
    pub epoch_days: u32,
    pub early_node_bonus: String,
    pub early_member_bonus: String,
    pub subnet_limit: u32,
}

/// A stability step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaysStep {
    pub days: u32,
    pub bonus: String,
}

/// A growth step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveStep {
    pub active: u32,
    pub bonus: String,
}

/// A model of the registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Lower-case name (`llama3-70b`).
    pub name: String,
    /// Name of the lowest tier that may serve it.
    pub min_tier: String,
    pub complexity: String,
}

fn err<T>(message: String) -> Result<T, PresetError> {
    Err(PresetError(message))
}

fn wad(text: &str, what: &str) -> Result<Wad, PresetError> {
    Wad::from_decimal_str(text).map_err(|e| PresetError(format!("{what}: {text:?}: {e}")))
}

fn multiplier(text: &str, what: &str) -> Result<Ppm, PresetError> {
    Ppm::from_decimal_str(text).map_err(|e| PresetError(format!("{what}: {text:?}: {e}")))
}

fn fraction(text: &str, what: &str) -> Result<Ppm, PresetError> {
    let rate = multiplier(text, what)?;
    if !rate.is_fraction() {
        return err(format!("{what}: {text:?} is above 1 (100%)"));
    }
    Ok(rate)
}

fn steps<const N: usize>(items: &[(u64, &str)], what: &str) -> Result<[BonusStep; N], PresetError> {
    if items.len() > N {
        return err(format!("{what}: at most {N} steps"));
    }
    let mut out = [BonusStep::default(); N];
    for (slot, (at_least, bonus)) in out.iter_mut().zip(items) {
        *slot = BonusStep {
            at_least: *at_least,
            bonus: fraction(bonus, what)?,
        };
    }
    Ok(out)
}

impl Preset {
    fn index_of(&self, ledger: &str, class: &str, what: &str) -> Result<(u8, u8), PresetError> {
        let ledger = self
            .ledger_index(ledger)
            .ok_or_else(|| PresetError(format!("{what}: no ledger named {ledger:?}")))?;
        let class = self
            .class_index(class)
            .ok_or_else(|| PresetError(format!("{what}: no class named {class:?}")))?;
        Ok((ledger, class))
    }

    /// The report tables of this preset (every kind disabled when `rewards` is absent).
    pub fn reward_tables(&self) -> Result<RewardTablesData, PresetError> {
        let mut data = RewardTablesData::default();
        let Some(rewards) = &self.rewards else {
            return Ok(data);
        };
        if let Some(c) = &rewards.compute {
            let (ledger, class) = self.index_of(&c.ledger, &c.provider_class, "rewards.compute")?;
            if c.tiers.len() != COMPUTE_TIERS {
                return err(format!(
                    "rewards.compute: exactly {COMPUTE_TIERS} tiers, not {}",
                    c.tiers.len()
                ));
            }
            let t = &mut data.compute;
            (t.enabled, t.ledger, t.provider_class) = (true, ledger, class);
            for (slot, tier) in t.tiers.iter_mut().zip(&c.tiers) {
                let what = format!("rewards.compute tier {}", tier.name);
                *slot = ComputeTier {
                    name: label(&tier.name)
                        .ok_or_else(|| PresetError(format!("{what}: name of 1 to 16 bytes")))?,
                    max_vram_mb: tier.max_vram_mb.unwrap_or(u32::MAX),
                    base: wad(&tier.base, &what)?,
                    per_token: wad(&tier.per_token, &what)?,
                };
            }
            let s = &c.services;
            t.services = [
                multiplier(&s.chat, "services.chat")?,
                multiplier(&s.tts, "services.tts")?,
                multiplier(&s.embeddings, "services.embeddings")?,
                multiplier(&s.scrape, "services.scrape")?,
            ];
            t.fast_below_ms = c.fast_below_ms;
            t.fast_multiplier = multiplier(&c.fast_multiplier, "fast_multiplier")?;
            t.slow_above_ms = c.slow_above_ms;
            t.slow_multiplier = multiplier(&c.slow_multiplier, "slow_multiplier")?;
        }
        if let Some(u) = &rewards.usage {
            let (ledger, class) = self.index_of(&u.ledger, &u.user_class, "rewards.usage")?;
            let t = &mut data.usage;
            (t.enabled, t.ledger, t.user_class) = (true, ledger, class);
            let e = &u.endpoints;
            for (slot, (name, spec)) in t.endpoints.iter_mut().zip([
                ("chat", &e.chat),
                ("embeddings", &e.embeddings),
                ("scrape", &e.scrape),
                ("tts", &e.tts),
            ]) {
                let what = format!("endpoints.{name}");
                *slot = EndpointPoints {
                    base: wad(&spec.base, &what)?,
                    per_token: wad(&spec.per_token, &what)?,
                };
            }
        }
        data.rental.enabled = rewards.rental.is_some();
        if let Some(b) = &rewards.bandwidth {
            let (ledger, class) = self.index_of(&b.ledger, &b.node_class, "rewards.bandwidth")?;
            let t = &mut data.bandwidth;
            (t.enabled, t.ledger, t.node_class) = (true, ledger, class);
            t.reward_per_gb = wad(&b.reward_per_gb, "reward_per_gb")?;
            t.base_rate = fraction(&b.base_rate, "base_rate")?;
            t.rate_cap = fraction(&b.rate_cap, "rate_cap")?;
            let stability: Vec<(u64, &str)> = b
                .stability
                .iter()
                .map(|s| (u64::from(s.days) * 86_400, s.bonus.as_str()))
                .collect();
            t.stability_steps = steps(&stability, "rewards.bandwidth.stability")?;
            t.max_gap_seconds = i64::from(b.max_gap_hours) * 3_600;
            let growth: Vec<(u64, &str)> = b
                .growth
                .iter()
                .map(|g| (u64::from(g.active), g.bonus.as_str()))
                .collect();
            t.growth_steps = steps(&growth, "rewards.bandwidth.growth")?;
            t.epoch_seconds = i64::from(b.epoch_days) * 86_400;
            t.early_node_bonus = fraction(&b.early_node_bonus, "early_node_bonus")?;
            t.early_member_bonus = fraction(&b.early_member_bonus, "early_member_bonus")?;
            t.subnet_limit = b.subnet_limit;
        }
        Ok(data)
    }

    /// The model registry of this preset, as `register_model` arguments.
    pub fn models(&self) -> Result<Vec<ModelArgs>, PresetError> {
        let Some(rewards) = &self.rewards else {
            return Ok(Vec::new());
        };
        let tiers: Vec<&str> = rewards
            .compute
            .iter()
            .flat_map(|c| c.tiers.iter().map(|t| t.name.as_str()))
            .collect();
        rewards
            .models
            .iter()
            .map(|m| {
                let what = format!("model {}", m.name);
                let Some(tier) = tiers.iter().position(|t| *t == m.min_tier) else {
                    return err(format!("{what}: no compute tier named {:?}", m.min_tier));
                };
                Ok(ModelArgs {
                    name: label(&m.name)
                        .ok_or_else(|| PresetError(format!("{what}: name of 1 to 32 bytes")))?,
                    complexity: multiplier(&m.complexity, &what)?,
                    min_tier: (tier + 1) as u8,
                })
            })
            .collect()
    }

    /// The model name as the program stores it, if the preset has it.
    pub fn model_name(&self, name: &str) -> Option<[u8; 32]> {
        self.rewards
            .as_ref()?
            .models
            .iter()
            .find(|m| m.name == name)?;
        label(name)
    }
}
