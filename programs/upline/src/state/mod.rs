//! Account types. Every field is documented; sizes are checked in tests.

pub mod ledger;
pub mod member;
pub mod network;

pub use ledger::*;
pub use member::*;
pub use network::*;
pub mod registry;
pub mod reward_tables;

pub use registry::*;
pub use reward_tables::*;
