//! Client SDK for the Upline program.
//!
//! - [`pda`]: every program address, derived from the same seed constants the program checks;
//! - [`ix`]: one builder per instruction;
//! - [`client`]: the chain interface over the sandbox and JSON-RPC back ends;
//! - [`events`]: decoding of `emit_cpi!` events from inner instructions;
//! - [`graph`]: recounting the referral graph from stored links;
//! - [`preset`]: network presets (data under `migrations/presets/`) as program tables;
//! - [`setup`]: a network from a preset, on any cluster, safe to re-run;
//! - `sandbox` (feature `sandbox`): the program in-process on solana-program-test.

pub mod claims;
pub mod client;
pub mod events;
pub mod graph;
pub mod ix;
pub mod lookup;
#[cfg(feature = "rpc")]
pub mod offline;
pub mod pda;
pub mod preset;
pub mod rewards_spec;
#[cfg(feature = "rpc")]
pub mod rpc;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod setup;
pub mod stats;

pub use upline;
pub use upline::ID as PROGRAM_ID;

use anchor_lang::AccountDeserialize;

/// Decode an Upline account (network, ledger, member) from its raw data.
pub fn decode_account<T: AccountDeserialize>(mut data: &[u8]) -> anchor_lang::Result<T> {
    T::try_deserialize(&mut data)
}
