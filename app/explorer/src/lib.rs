//! The Upline explorer: an index of every event of the program (SQLite or
//! PostgreSQL), an audit that recomputes every credit independently, and the
//! referral-stats API and dashboard members and auditors look at.

pub mod api;
pub mod audit;
mod claim;
#[cfg(test)]
mod claim_tests;
mod claim_tx;
pub mod geyser;
mod http;
pub mod index;
mod networks;
pub mod pages;
pub mod project;
pub mod source;
pub mod store;
mod subject;

pub use store::Store;

/// Why an explorer operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExplorerError {
    /// The database could not be opened, migrated, read or written.
    Store(String),
    /// The chain (sandbox or cluster) could not be read.
    Source(String),
    /// The index holds something that does not decode.
    Corrupt(String),
}

impl std::fmt::Display for ExplorerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExplorerError::Store(e) => write!(f, "index database: {e}"),
            ExplorerError::Source(e) => write!(f, "reading the chain: {e}"),
            ExplorerError::Corrupt(e) => write!(f, "index is corrupt: {e}"),
        }
    }
}

impl std::error::Error for ExplorerError {}
