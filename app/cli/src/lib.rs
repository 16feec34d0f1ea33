//! The `upline` command's library: scenarios on the sandbox, their §8 output,
//! the readable tables, `expect` blocks and the seed demo; the network, oracle and member
//! commands over any [`upline_sdk::client::Cluster`].

pub mod admin;
pub mod bench;
pub mod demo;
pub mod expect;
pub mod history;
pub mod idl;
pub mod idl_seeds;
pub mod keys;
pub mod lookup_tables;
pub mod member;
pub mod offline;
pub mod operate;
pub mod oracle_node;
pub mod output;
pub mod quiet;
pub mod report_args;
pub mod reports;
pub mod scenario;
pub mod sender;
pub mod solana_config;
pub mod stats;
pub mod submit;
pub mod tables;
pub mod vault;
pub mod work_time;
pub mod world;

use scenario::{Scenario, ScenarioError};
use serde_json::Value;
use upline_sdk::client::TxFailure;

/// Run `scenario` on a fresh sandbox and return the DESIGN.md §8 result.
pub async fn simulate(scenario: &Scenario) -> Result<Value, ScenarioError> {
    simulate_world(scenario).await.map(|(_, result)| result)
}

/// [`simulate`], keeping the sandbox it ran on.
pub async fn simulate_world(scenario: &Scenario) -> Result<(world::World, Value), ScenarioError> {
    let mut world = world::World::new(scenario).await?;
    world.run(scenario).await?;
    let result = output::result(&mut world).await;
    Ok((world, result))
}

/// Exit codes of every command.
pub mod exit {
    /// Done (also: `--sign-only` printed what to sign).
    pub const OK: u8 = 0;
    /// The program refused, a figure did not match, or some reports were rejected.
    pub const REFUSED: u8 = 1;
    /// Bad input: a flag, a file, a keypair, an unknown member or model.
    pub const BAD_INPUT: u8 = 2;
    /// The cluster could not be reached or stopped answering.
    pub const UNREACHABLE: u8 = 3;
}

/// Why a command failed, and its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn input(message: impl Into<String>) -> Failure {
        Failure {
            code: exit::BAD_INPUT,
            message: message.into(),
        }
    }

    /// Not a failure: `--sign-only` signed and printed a transaction instead
    /// of sending it, and the command stops there (exit 0, on standard output).
    pub fn signed_only(message: impl Into<String>) -> Failure {
        Failure {
            code: exit::OK,
            message: message.into(),
        }
    }

    pub fn refused(message: impl Into<String>) -> Failure {
        Failure {
            code: exit::REFUSED,
            message: message.into(),
        }
    }
}

impl From<TxFailure> for Failure {
    fn from(failure: TxFailure) -> Failure {
        let code = match failure {
            TxFailure::Transport(_) => exit::UNREACHABLE,
            _ => exit::REFUSED,
        };
        Failure {
            code,
            message: failure.to_string(),
        }
    }
}
