//! Fixtures for the program-test suites: networks and reports on the SDK's
//! sandbox, refusal assertions, and the accounting checks every multi-step test
//! ends with.
#![allow(deprecated)] // solana-program-test 3.1 marks its API deprecated.

pub mod attack;
pub mod checks;
pub mod invariants;
pub mod network;
pub mod oracles;
pub mod refusal;
pub mod reports;
pub mod rng;

pub use network::TestNetwork;
pub use upline_sdk::sandbox::{tokens, Chain, TxFailure};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use upline::errors::UplineError;

/// Assertions on refused transactions: the error, and that nothing changed.
#[allow(async_fn_in_trait)]
pub trait Expect {
    /// Send, expect the Upline error `error`, and check that none of `watched` changed.
    async fn expect_refusal(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        error: UplineError,
        watched: &[Pubkey],
    );
    /// Send and expect any failure (for refusals the runtime or Anchor makes
    /// before Upline's own checks), then check that none of `watched` changed.
    async fn expect_failure(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        watched: &[Pubkey],
    ) -> TxFailure;
}

impl Expect for Chain {
    // Send, expect the Upline error `error`, and check that none of `watched` changed.
    async fn expect_refusal(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        error: UplineError,
        watched: &[Pubkey],
    ) {
        let before = self.snapshot(watched).await;
        let result = self.send(instructions, signers).await;
        match &result {
            Err(failure) if failure.is(error) => {}
            other => panic!("expected {error:?} ({}), got {other:?}", u32::from(error)),
        }
        let after = self.snapshot(watched).await;
        for ((key, b), a) in watched.iter().zip(&before).zip(&after) {
            assert_eq!(
                b, a,
                "account {key} changed although the transaction failed"
            );
        }
    }

    // Send and expect any failure (for refusals the runtime or Anchor makes
    // before Upline's own checks), then check that none of `watched` changed.
    async fn expect_failure(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        watched: &[Pubkey],
    ) -> TxFailure {
        let before = self.snapshot(watched).await;
        let failure = self
            .send(instructions, signers)
            .await
            .expect_err("transaction should fail");
        let after = self.snapshot(watched).await;
        assert_eq!(
            before, after,
            "an account changed although the transaction failed"
        );
        failure
    }
}
