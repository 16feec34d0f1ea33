//! The rate tables of the four report kinds. They live in their own account,
//! which reports only read; updates are evented and apply from then on.

use crate::constants::{MAX_LEDGERS, MIN_EPOCH_SECONDS};
use crate::errors::UplineError;
use crate::math::{Ppm, Wad};
use anchor_lang::prelude::*;

/// Compute tiers (Tide Pool, Blue Surge, Open Ocean, Mariana Depth).
pub const COMPUTE_TIERS: usize = 4;
/// Services of a compute report.
pub const SERVICES: usize = 4;
/// Endpoints of a usage report.
pub const ENDPOINTS: usize = 4;

/// The service a compute request used; indexes `ComputeTables::services`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Chat,
    Tts,
    Embeddings,
    Scrape,
}

/// The API endpoint of a usage report; indexes `UsageTables::endpoints`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Chat,
    Embeddings,
    Scrape,
    Tts,
}

/// One compute tier.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct ComputeTier {
    /// Name, zero-padded ("mariana-depth").
    pub name: [u8; 16],
    /// Largest VRAM (MiB) in this tier; the last tier takes everything above.
    pub max_vram_mb: u32,
    /// Base reward per request, whole units of the compute ledger.
    pub base: Wad,
    /// Reward per token.
    pub per_token: Wad,
}

/// Cxmpute provider rewards.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct ComputeTables {
    /// Whether compute reports are accepted.
    pub enabled: bool,
    /// Ledger credited.
    pub ledger: u8,
    /// The class that serves compute (providers).
    pub provider_class: u8,
    /// Tiers by increasing VRAM.
    pub tiers: [ComputeTier; COMPUTE_TIERS],
    /// Multiplier per service: chat, tts, embeddings, scrape.
    pub services: [Ppm; SERVICES],
    /// Requests faster than this earn `fast_multiplier`.
    pub fast_below_ms: u32,
    pub fast_multiplier: Ppm,
    /// Requests slower than this earn `slow_multiplier`.
    pub slow_above_ms: u32,
    pub slow_multiplier: Ppm,
}

/// One usage endpoint's points.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct EndpointPoints {
    /// Points per request.
    pub base: Wad,
    /// Points per token.
    pub per_token: Wad,
}

/// Cxmpute user points.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct UsageTables {
    /// Whether usage reports are accepted.
    pub enabled: bool,
    /// Ledger credited (points).
    pub ledger: u8,
    /// The class that earns usage points (users).
    pub user_class: u8,
    /// Points per endpoint: chat, embeddings, scrape, tts.
    pub endpoints: [EndpointPoints; ENDPOINTS],
}

/// Clore rentals: the rates are the network's tier rates and promotion window.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct RentalTables {
    /// Whether rental reports are accepted.
    pub enabled: bool,
}

/// A threshold and the rate bonus it earns.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct BonusStep {
    /// Smallest value (seconds of streak, or active referrals) that earns `bonus`; 0 = unused.
    pub at_least: u64,
    /// Added to the effective rate.
    pub bonus: Ppm,
}

/// Aether bandwidth rewards.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct BandwidthTables {
    /// Whether bandwidth reports are accepted.
    pub enabled: bool,
    /// Ledger credited.
    pub ledger: u8,
    /// The class that contributes bandwidth (nodes).
    pub node_class: u8,
    /// Reward for 10^9 bytes at Q = S = DDM = 1.
    pub reward_per_gb: Wad,
    /// ER base (12%).
    pub base_rate: Ppm,
    /// Cap on base + stability + growth (22%).
    pub rate_cap: Ppm,
    /// Stability bonus by streak length in seconds (7 days: 2%, 30 days: 5%).
    pub stability_steps: [BonusStep; 2],
    /// Two valid reports further apart than this restart the streak (24 h).
    pub max_gap_seconds: i64,
    /// Growth bonus by active referrals (6: 1%, 21: 2%, 51: 3%, 101: 5%).
    pub growth_steps: [BonusStep; 4],
    /// Activity epoch length (7 days).
    pub epoch_seconds: i64,
    /// Early node bonus (3%).
    pub early_node_bonus: Ppm,
    /// Early member bonus (2%).
    pub early_member_bonus: Ppm,
    /// Most nodes in a subnet that still earn their referrer anything (3).
    pub subnet_limit: u32,
}

/// All four kinds' tables.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct RewardTablesData {
    pub compute: ComputeTables,
    pub usage: UsageTables,
    pub rental: RentalTables,
    pub bandwidth: BandwidthTables,
}

#[account]
#[derive(InitSpace, Debug)]
pub struct RewardTables {
    /// Canonical bump of this PDA.
    pub bump: u8,
    /// The network these tables belong to.
    pub network: Pubkey,
    /// Incremented by every update; report events carry it.
    pub version: u32,
    /// The tables in force.
    pub data: RewardTablesData,
}

impl RewardTables {
    /// Account size including the discriminator.
    pub const SPACE: usize = 8 + RewardTables::INIT_SPACE;
}

fn ascending(steps: &[BonusStep]) -> bool {
    let used: Vec<&BonusStep> = steps.iter().filter(|s| s.at_least > 0).collect();
    used.windows(2).all(|w| w[0].at_least < w[1].at_least)
}

impl RewardTablesData {
    /// Check the tables against the network's ledgers and classes.
    pub fn validate(&self, ledger_count: u8, class_count: u8) -> Result<()> {
        let ledger_ok = |ledger: u8| ledger < ledger_count && usize::from(ledger) < MAX_LEDGERS;
        let c = &self.compute;
        if c.enabled {
            require!(
                ledger_ok(c.ledger) && c.provider_class < class_count,
                UplineError::InvalidTables
            );
            let ascending_vram = c
                .tiers
                .windows(2)
                .all(|w| w[0].max_vram_mb < w[1].max_vram_mb);
            require!(
                ascending_vram && c.fast_below_ms <= c.slow_above_ms,
                UplineError::InvalidTables
            );
        }
        let u = &self.usage;
        if u.enabled {
            require!(
                ledger_ok(u.ledger) && u.user_class < class_count,
                UplineError::InvalidTables
            );
        }
        let b = &self.bandwidth;
        if b.enabled {
            require!(
                ledger_ok(b.ledger) && b.node_class < class_count,
                UplineError::InvalidTables
            );
            require!(
                b.base_rate <= b.rate_cap && b.rate_cap.is_fraction(),
                UplineError::InvalidTables
            );
            let early = b.early_node_bonus.0.saturating_add(b.early_member_bonus.0);
            require!(
                b.rate_cap.0.saturating_add(early) <= Ppm::ONE.0,
                UplineError::InvalidTables
            );
            require!(
                b.max_gap_seconds > 0 && b.epoch_seconds >= MIN_EPOCH_SECONDS,
                UplineError::InvalidTables
            );
            require!(
                ascending(&b.stability_steps) && ascending(&b.growth_steps),
                UplineError::InvalidTables
            );
        }
        Ok(())
    }

    /// The 1-based compute tier of a device with `vram_mb` MiB.
    pub fn compute_tier(&self, vram_mb: u32) -> u8 {
        let tiers = &self.compute.tiers;
        let index = tiers
            .iter()
            .position(|t| vram_mb <= t.max_vram_mb)
            .unwrap_or(tiers.len() - 1);
        (index + 1) as u8
    }
}
