//! Fixtures for the program-test suites: the program running natively in
//! solana-program-test, signed transactions with their events, token
//! helpers, and the accounting checks every multi-step test ends with.
#![allow(deprecated)] // solana-program-test 3.1 marks its API deprecated.

pub mod chain;
pub mod checks;
pub mod network;
pub mod reports;
pub mod tokens;

pub use chain::{Chain, TxFailure};
pub use network::TestNetwork;
