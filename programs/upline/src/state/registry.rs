//! What oracles register: themselves (by the admin), models, devices and subnets.

use anchor_lang::prelude::*;

use crate::math::Ppm;

/// An authorised oracle of a network. Removing an oracle closes this account,
/// so a removed oracle's reports fail to load it.
#[account]
#[derive(InitSpace, Debug)]
pub struct Oracle {
    /// Canonical bump of this PDA.
    pub bump: u8,
    /// The network it reports for.
    pub network: Pubkey,
    /// The key that signs reports and attestations.
    pub authority: Pubkey,
    /// Unix time the admin added it.
    pub added_at: i64,
}

impl Oracle {
    /// Account size including the discriminator.
    pub const SPACE: usize = 8 + Oracle::INIT_SPACE;
}

/// A model of the compute registry (Cxmpute).
#[account]
#[derive(InitSpace, Debug)]
pub struct Model {
    /// Canonical bump of this PDA.
    pub bump: u8,
    /// The network whose registry holds it.
    pub network: Pubkey,
    /// Lower-case name, zero-padded ("llama3-70b"); part of the PDA seeds.
    pub name: [u8; 32],
    /// Complexity multiplier (Llama3-70B: 3.0×).
    pub complexity: Ppm,
    /// Lowest provider tier (1-based index into the compute tiers) that may serve it.
    pub min_tier: u8,
}

impl Model {
    /// Account size including the discriminator.
    pub const SPACE: usize = 8 + Model::INIT_SPACE;
}

/// A node's attested device (Aether). Its address is derived from the
/// fingerprint hash, so a second node with the same fingerprint cannot register.
#[account]
#[derive(InitSpace, Debug)]
pub struct Device {
    /// Canonical bump of this PDA.
    pub bump: u8,
    /// The network it is registered in.
    pub network: Pubkey,
    /// The node member that owns it.
    pub member: Pubkey,
    /// Hash of the device fingerprint (NAT class, TTL pattern, routing, latency entropy).
    pub fingerprint: [u8; 32],
    /// Hash of the subnet the node runs in.
    pub subnet: [u8; 32],
    /// Unix time of the attestation.
    pub attested_at: i64,
}

impl Device {
    /// Account size including the discriminator.
    pub const SPACE: usize = 8 + Device::INIT_SPACE;
}

/// Nodes attested in one subnet; the referral weight of each is 1, 1/n or 0.
#[account]
#[derive(InitSpace, Debug)]
pub struct Subnet {
    /// Canonical bump of this PDA.
    pub bump: u8,
    /// The network it is counted in.
    pub network: Pubkey,
    /// Hash of the subnet.
    pub subnet: [u8; 32],
    /// Nodes attested in it so far.
    pub nodes: u32,
}

impl Subnet {
    /// Account size including the discriminator.
    pub const SPACE: usize = 8 + Subnet::INIT_SPACE;
}
