//! What an event is about: its network and, where there is one, the member
//! account it concerns (a membership, not a wallet: a wallet may hold one per
//! class), for the index's query columns.

use anchor_lang::prelude::Pubkey;
use upline_sdk::events::UplineEvent;

/// The network an event belongs to and the member account it is about.
pub fn subject(event: &UplineEvent) -> (Pubkey, Option<Pubkey>) {
    use UplineEvent as E;
    match event {
        E::NetworkCreated(e) => (e.network, None),
        E::TablesUpdated(e) => (e.network, None),
        E::LedgerAdded(e) => (e.network, None),
        E::LedgerUpdated(e) => (e.network, None),
        E::VaultFunded(e) => (e.network, None),
        E::MemberJoined(e) => (e.network, Some(e.member)),
        E::MemberLedgersOpened(e) => (e.network, Some(e.member)),
        E::ReferrerLinked(e) => (e.network, Some(e.member)),
        E::DirectBonusCredited(e) => (e.network, Some(e.referrer)),
        E::MemberTierSet(e) => (e.network, Some(e.member)),
        E::PromotionSet(e) => (e.network, None),
        E::PauseSet(e) => (e.network, None),
        E::AdminProposed(e) => (e.network, None),
        E::AdminAccepted(e) => (e.network, None),
        E::Withdrawn(e) => (e.network, Some(e.member)),
        E::OracleAdded(e) => (e.network, None),
        E::OracleRemoved(e) => (e.network, None),
        E::RewardTablesSet(e) => (e.network, None),
        E::ModelSet(e) => (e.network, None),
        E::ProviderAttested(e) => (e.network, Some(e.member)),
        E::NodeAttested(e) => (e.network, Some(e.member)),
        E::ComputeReported(e) => (e.network, Some(e.provider)),
        E::UsageReported(e) => (e.network, Some(e.user)),
        E::RentalReported(e) => (e.network, Some(e.renter)),
        E::BandwidthReported(e) => (e.network, Some(e.node)),
        E::OracleQuorumSet(e) => (e.network, None),
        E::OracleCapSet(e) => (e.network, None),
        E::MemberFrozenSet(e) => (e.network, Some(e.member)),
        E::DeviceDeregistered(e) => (e.network, Some(e.member)),
    }
}
