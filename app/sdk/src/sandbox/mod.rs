//! The in-process sandbox: the program running natively inside
//! solana-program-test, each participant a real keypair, each operation a real
//! signed transaction, the clock warped on demand.

// solana-program-test 3.1 marks its whole API deprecated (unstable from 4.0).
#[allow(deprecated)]
pub mod chain;
#[allow(deprecated)]
mod cluster;
mod confirmed;
#[cfg(feature = "geyser")]
#[allow(deprecated)]
pub mod geyser;
mod history;
pub mod journal;
#[allow(deprecated)]
pub mod ledger;
pub mod network;
pub mod program_logs;
#[allow(deprecated)]
mod rpc;
#[allow(deprecated)]
pub mod server;
#[allow(deprecated)]
pub mod tokens;

pub use chain::{Chain, TxFailure, START};
pub use journal::Recorded;
pub use network::{LedgerSetup, SandboxLedger, SandboxNetwork};
