//! Events as explorers see them: `emit_cpi!` inner instructions of the program.
//!
//! An event instruction's data is the 8-byte event-CPI tag, the event's
//! 8-byte discriminator and the borsh-encoded event.

use anchor_lang::event::EVENT_IX_TAG_LE;
use anchor_lang::{AnchorDeserialize, Discriminator};
use upline::events::*;

macro_rules! upline_events {
    ($($name:ident),* $(,)?) => {
        /// Any event the program emits.
        // Decoded events are short-lived values; boxing the larger report events
        // would only add an allocation per event.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug)]
        pub enum UplineEvent {
            $(
                #[allow(missing_docs)]
                $name($name),
            )*
        }

        impl UplineEvent {
            /// The event's name, as in the IDL.
            pub fn name(&self) -> &'static str {
                match self {
                    $(UplineEvent::$name(_) => stringify!($name),)*
                }
            }

            fn decode_body(discriminator: &[u8], mut body: &[u8]) -> Option<UplineEvent> {
                $(
                    if discriminator == $name::DISCRIMINATOR {
                        return $name::deserialize(&mut body).ok().map(UplineEvent::$name);
                    }
                )*
                None
            }
        }
    };
}

upline_events!(
    NetworkCreated,
    TablesUpdated,
    LedgerAdded,
    LedgerUpdated,
    VaultFunded,
    MemberJoined,
    MemberLedgersOpened,
    ReferrerLinked,
    DirectBonusCredited,
    MemberTierSet,
    PromotionSet,
    PauseSet,
    AdminProposed,
    AdminAccepted,
    Withdrawn,
    OracleAdded,
    OracleRemoved,
    RewardTablesSet,
    ModelSet,
    ProviderAttested,
    NodeAttested,
    ComputeReported,
    UsageReported,
    RentalReported,
    BandwidthReported,
    OracleQuorumSet,
    OracleCapSet,
    MemberFrozenSet,
    DeviceDeregistered,
);

/// Decode the data of one inner instruction of the program, if it is an event.
pub fn decode_event(data: &[u8]) -> Option<UplineEvent> {
    let rest = data.strip_prefix(EVENT_IX_TAG_LE)?;
    if rest.len() < 8 {
        return None;
    }
    let (discriminator, body) = rest.split_at(8);
    UplineEvent::decode_body(discriminator, body)
}
