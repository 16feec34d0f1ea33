//! Events, emitted with `emit_cpi!` so that they survive log truncation and
//! reach explorers as inner instructions. Each carries every input an auditor
//! needs to recompute the state change it reports.

use crate::math::Wad;
pub use crate::rewards::bandwidth::RateParts;
use crate::state::{
    CircuitBreaker, CommissionTier, Ledger, LedgerKind, NetworkTables, PromotionWindow,
};
use anchor_lang::prelude::*;

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkCreated {
    pub network: Pubkey,
    pub creator: Pubkey,
    pub admin: Pubkey,
    pub name: [u8; 32],
    pub tables: NetworkTables,
    pub created_at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablesUpdated {
    pub network: Pubkey,
    /// The version these tables carry from now on (never retroactive).
    pub tables_version: u32,
    pub tables: NetworkTables,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerAdded {
    pub network: Pubkey,
    pub ledger: Pubkey,
    pub index: u8,
    pub name: [u8; 16],
    pub kind: LedgerKind,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub vault: Pubkey,
    pub decimals: u8,
    pub min_withdrawal: u64,
    pub circuit_breaker: CircuitBreaker,
    /// The mint's freeze authority, accepted by the admin; default when none.
    pub accepted_freeze_authority: Pubkey,
}

impl LedgerAdded {
    /// The event for `ledger`, just added at address `key`.
    pub fn of(key: Pubkey, ledger: &Ledger) -> LedgerAdded {
        LedgerAdded {
            network: ledger.network,
            ledger: key,
            index: ledger.index,
            name: ledger.name,
            kind: ledger.kind,
            mint: ledger.mint,
            token_program: ledger.token_program,
            vault: ledger.vault,
            decimals: ledger.decimals,
            min_withdrawal: ledger.min_withdrawal,
            circuit_breaker: ledger.circuit_breaker,
            accepted_freeze_authority: ledger.accepted_freeze_authority,
        }
    }
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerUpdated {
    pub network: Pubkey,
    pub ledger: Pubkey,
    pub index: u8,
    pub min_withdrawal: u64,
    pub circuit_breaker: CircuitBreaker,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultFunded {
    pub network: Pubkey,
    pub ledger: Pubkey,
    pub index: u8,
    pub funder: Pubkey,
    /// Base units received by the vault.
    pub amount: u64,
    /// Total funded after this deposit.
    pub funded: u128,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberJoined {
    pub network: Pubkey,
    pub member: Pubkey,
    pub wallet: Pubkey,
    pub class: u8,
    pub join_ordinal: u32,
    /// Among the network's first members under the tables in force (Aether).
    pub early_member: bool,
    pub ledger_slots: u8,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberLedgersOpened {
    pub network: Pubkey,
    pub member: Pubkey,
    pub wallet: Pubkey,
    pub ledger_slots: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferrerLinked {
    pub network: Pubkey,
    /// The referee's member account, wallet and class.
    pub member: Pubkey,
    pub wallet: Pubkey,
    pub class: u8,
    /// Level 1: the referrer's member account (the membership linked), wallet and class.
    pub referrer: Pubkey,
    pub referrer_wallet: Pubkey,
    pub referrer_class: u8,
    /// Level 2 and 3 member accounts whose downline counts grew; `Pubkey::default()` where none.
    pub upline2: Pubkey,
    pub upline3: Pubkey,
    /// This member's ordinal among its referrer's referees.
    pub referee_ordinal: u32,
    /// Its ordinal among the referrer's referees of the early-referee class
    /// (Aether: nodes); 0 for a referee of another class.
    pub early_class_ordinal: u32,
    /// Whether it counts as an early referee (Aether early node).
    pub early_referee: bool,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectBonusCredited {
    pub network: Pubkey,
    pub ledger_index: u8,
    /// The referrer's member account, which earns the bonus.
    pub referrer: Pubkey,
    /// The referee's member account, whose link (or first work) triggered it.
    pub referee: Pubkey,
    /// The referrer's class, whose table sets the bonus.
    pub class: u8,
    pub tables_version: u32,
    pub amount: Wad,
    /// The referrer is frozen: the bonus was withheld, credited to nobody.
    pub withheld: bool,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberTierSet {
    pub network: Pubkey,
    pub member: Pubkey,
    pub wallet: Pubkey,
    pub tier: CommissionTier,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionSet {
    pub network: Pubkey,
    /// The window now in force; all zero when closed.
    pub window: PromotionWindow,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseSet {
    pub network: Pubkey,
    pub paused: bool,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminProposed {
    pub network: Pubkey,
    pub admin: Pubkey,
    /// `Pubkey::default()` cancels a pending proposal.
    pub proposed: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAccepted {
    pub network: Pubkey,
    pub previous: Pubkey,
    pub admin: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    pub network: Pubkey,
    pub ledger_index: u8,
    pub member: Pubkey,
    pub wallet: Pubkey,
    pub destination: Pubkey,
    /// Base units paid.
    pub amount: u64,
    /// The same amount in WAD, as debited from the balance.
    pub amount_wad: Wad,
    /// Balance left, fraction included.
    pub balance_after: Wad,
    pub at: i64,
}

/// One commission paid up the chain by a report.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commission {
    /// The member account credited.
    pub member: Pubkey,
    /// 1, 2 or 3 (rentals: 1 for both sides' referrers).
    pub level: u8,
    /// The rate applied to the earner's rounded amount.
    pub rate: crate::math::Ppm,
    /// `floor(amount × rate)`.
    pub amount: Wad,
    /// The member is frozen: the amount was withheld, credited to nobody.
    pub withheld: bool,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleAdded {
    pub network: Pubkey,
    pub oracle: Pubkey,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleRemoved {
    pub network: Pubkey,
    pub oracle: Pubkey,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewardTablesSet {
    pub network: Pubkey,
    /// The version these tables carry from now on (never retroactive).
    pub version: u32,
    pub data: crate::state::RewardTablesData,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSet {
    pub network: Pubkey,
    pub model: Pubkey,
    pub name: [u8; 32],
    pub complexity: crate::math::Ppm,
    pub min_tier: u8,
    pub at: i64,
}

impl ModelSet {
    /// The event for `model` (at address `key`) as it now stands.
    pub fn of(key: Pubkey, model: &crate::state::Model, at: i64) -> ModelSet {
        ModelSet {
            network: model.network,
            model: key,
            name: model.name,
            complexity: model.complexity,
            min_tier: model.min_tier,
            at,
        }
    }
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderAttested {
    pub network: Pubkey,
    pub oracle: Pubkey,
    /// The other oracles that approved it (the quorum, DESIGN.md §5).
    pub co_signers: Vec<Pubkey>,
    pub member: Pubkey,
    pub wallet: Pubkey,
    pub vram_mb: u32,
    /// 1-based compute tier the VRAM falls in.
    pub tier: u8,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAttested {
    pub network: Pubkey,
    pub oracle: Pubkey,
    /// The other oracles that approved it (the quorum, DESIGN.md §5).
    pub co_signers: Vec<Pubkey>,
    pub member: Pubkey,
    pub wallet: Pubkey,
    pub fingerprint: [u8; 32],
    pub subnet: [u8; 32],
    /// Nodes in the subnet, this one included.
    pub subnet_nodes: u32,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeReported {
    pub network: Pubkey,
    pub oracle: Pubkey,
    /// The other oracles that approved it (the quorum, DESIGN.md §5).
    pub co_signers: Vec<Pubkey>,
    pub id: u64,
    /// The provider's member account.
    pub provider: Pubkey,
    pub service: crate::state::Service,
    pub model: [u8; 32],
    pub complexity: crate::math::Ppm,
    /// The provider's 1-based compute tier.
    pub tier: u8,
    pub tokens: u64,
    pub latency_ms: u32,
    /// The performance multiplier the latency earned.
    pub performance: crate::math::Ppm,
    pub ledger_index: u8,
    pub tables_version: u32,
    pub reward: Wad,
    pub commissions: Vec<Commission>,
    /// When the work happened (unix time); `at` is when the report landed.
    pub work_time: i64,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageReported {
    pub network: Pubkey,
    pub oracle: Pubkey,
    /// The other oracles that approved it (the quorum, DESIGN.md §5).
    pub co_signers: Vec<Pubkey>,
    pub id: u64,
    /// The user's member account.
    pub user: Pubkey,
    pub endpoint: crate::state::Endpoint,
    pub tokens: u64,
    pub ledger_index: u8,
    pub tables_version: u32,
    pub points: Wad,
    pub commissions: Vec<Commission>,
    /// When the work happened (unix time); `at` is when the report landed.
    pub work_time: i64,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RentalReported {
    pub network: Pubkey,
    pub oracle: Pubkey,
    /// The other oracles that approved it (the quorum, DESIGN.md §5).
    pub co_signers: Vec<Pubkey>,
    pub id: u64,
    /// The renter's and the host's member accounts.
    pub renter: Pubkey,
    pub host: Pubkey,
    pub ledger_index: u8,
    pub renter_base_fee: u64,
    pub renter_extra_fee: u64,
    pub host_base_fee: u64,
    pub host_extra_fee: u64,
    /// Whether the promotion rate applied.
    pub promotion: bool,
    /// The renter's referrer's commission, if it has one.
    pub renter_commission: Option<Commission>,
    /// The host's referrer's commission, if it has one.
    pub host_commission: Option<Commission>,
    /// When the work happened (unix time); `at` is when the report landed.
    pub work_time: i64,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BandwidthReported {
    pub network: Pubkey,
    pub oracle: Pubkey,
    /// The other oracles that approved it (the quorum, DESIGN.md §5).
    pub co_signers: Vec<Pubkey>,
    pub id: u64,
    /// The node's member account.
    pub node: Pubkey,
    pub bytes: u64,
    pub quality: crate::math::Ppm,
    pub stability: crate::math::Ppm,
    pub demand: crate::math::Ppm,
    pub suppressed: bool,
    pub ledger_index: u8,
    pub tables_version: u32,
    pub node_reward: Wad,
    /// Start of the node's stable streak after this report.
    pub stable_since: i64,
    /// The referrer's active referrals, this report included.
    pub active_referrals: u32,
    /// The effective rate and its parts.
    pub rate_parts: RateParts,
    pub effective_rate: crate::math::Ppm,
    /// Nodes in the node's subnet.
    pub subnet_nodes: u32,
    pub referral: Option<Commission>,
    /// When the work happened (unix time); `at` is when the report landed.
    pub work_time: i64,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleQuorumSet {
    pub network: Pubkey,
    pub quorum: u8,
    /// Registered oracles when it was set.
    pub oracles: u16,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleCapSet {
    pub network: Pubkey,
    pub oracle: Pubkey,
    pub ledger_index: u8,
    /// Zero removes the cap.
    pub limit: Wad,
    pub window_seconds: i64,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFrozenSet {
    pub network: Pubkey,
    pub member: Pubkey,
    pub wallet: Pubkey,
    pub frozen: bool,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDeregistered {
    pub network: Pubkey,
    pub member: Pubkey,
    pub wallet: Pubkey,
    pub fingerprint: [u8; 32],
    pub subnet: [u8; 32],
    /// Nodes left in the subnet.
    pub subnet_nodes: u32,
    pub at: i64,
}
