//! What oracles register: themselves (by the admin), models, devices and subnets.

use anchor_lang::prelude::*;

use crate::constants::MAX_LEDGERS;
use crate::errors::UplineError;
use crate::math::{Ppm, Wad};

/// What the reports one oracle approves may credit on one ledger per window
/// (the earner's reward, every commission and bonus): a stolen key is a
/// bounded loss. Like the withdrawal circuit breaker, a window starts at the
/// first credit after the previous one ended.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct CreditCap {
    /// Most credited per window, in WAD; zero for no cap.
    pub limit: Wad,
    /// Window length in seconds (at least 1 when capped).
    pub window_seconds: i64,
    /// Start of the current window (unix time); 0 before any credit.
    pub window_start: i64,
    /// Credited in the current window.
    pub credited: Wad,
}

impl CreditCap {
    /// Count `amount` credited at `now`, or `OracleCapExceeded` (the caller's
    /// transaction then fails and nothing is counted).
    pub fn charge(&mut self, amount: Wad, now: i64) -> Result<()> {
        if self.limit == Wad::ZERO || amount == Wad::ZERO {
            return Ok(());
        }
        if now >= self.window_start.saturating_add(self.window_seconds) {
            self.window_start = now;
            self.credited = Wad::ZERO;
        }
        let credited = self
            .credited
            .checked_add(amount)
            .map_err(|_| error!(UplineError::OracleCapExceeded))?;
        require!(credited <= self.limit, UplineError::OracleCapExceeded);
        self.credited = credited;
        Ok(())
    }
}

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
    /// Credit cap per ledger index, on what the reports it approves credit.
    pub caps: [CreditCap; MAX_LEDGERS],
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

    /// Read `info` as the device of node `member` in `network`, or
    /// `UnattestedNode` (none there, a closed one, or someone else's).
    pub fn load(info: &AccountInfo, network: &Pubkey, member: &Pubkey) -> Result<Device> {
        let device: Device = load_registered(info)?;
        require_keys_eq!(device.network, *network, UplineError::UnattestedNode);
        require_keys_eq!(device.member, *member, UplineError::UnattestedNode);
        Ok(device)
    }
}

/// Deserialize a program account by hand, or `UnattestedNode`.
fn load_registered<T: AccountDeserialize>(info: &AccountInfo) -> Result<T> {
    require!(info.owner == &crate::ID, UplineError::UnattestedNode);
    let data = info.try_borrow_data()?;
    T::try_deserialize(&mut &data[..]).map_err(|_| error!(UplineError::UnattestedNode))
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

    /// Read `info` as the subnet `device` is in, or `UnattestedNode`.
    pub fn load(info: &AccountInfo, device: &Device) -> Result<Subnet> {
        let subnet: Subnet = load_registered(info)?;
        require_keys_eq!(subnet.network, device.network, UplineError::UnattestedNode);
        require!(subnet.subnet == device.subnet, UplineError::UnattestedNode);
        Ok(subnet)
    }
}
