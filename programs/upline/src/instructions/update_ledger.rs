//! `update_ledger`: a token ledger's minimum withdrawal and circuit breaker.

use crate::errors::UplineError;
use crate::events::LedgerUpdated;
use crate::state::{CircuitBreaker, CircuitBreakerConfig, Ledger, Network};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct UpdateLedgerArgs {
    /// Smallest withdrawal in base units.
    pub min_withdrawal: u64,
    /// The outflow limit; `None` turns the breaker off.
    pub circuit_breaker: Option<CircuitBreakerConfig>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateLedger<'info> {
    pub admin: Signer<'info>,
    #[account(has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    #[account(mut, has_one = network @ UplineError::WrongLedger)]
    pub ledger: Box<Account<'info, Ledger>>,
}

impl UpdateLedger<'_> {
    pub fn validate(&self, args: &UpdateLedgerArgs) -> Result<()> {
        require!(self.ledger.is_withdrawable(), UplineError::NotATokenLedger);
        if let Some(breaker) = &args.circuit_breaker {
            breaker.validate()?;
        }
        Ok(())
    }

    /// A changed breaker keeps the current window's outflow, so that an update
    /// never resets what has already left the vault in this window.
    pub fn update_ledger(ctx: Context<UpdateLedger>, args: UpdateLedgerArgs) -> Result<()> {
        let ledger = &mut ctx.accounts.ledger;
        ledger.min_withdrawal = args.min_withdrawal;
        let current = ledger.circuit_breaker;
        ledger.circuit_breaker =
            args.circuit_breaker
                .map_or_else(CircuitBreaker::default, |config| CircuitBreaker {
                    window_seconds: config.window_seconds,
                    max_outflow: config.max_outflow,
                    ..current
                });
        ledger.invariant()?;
        emit_cpi!(LedgerUpdated {
            network: ledger.network,
            ledger: ledger.key(),
            index: ledger.index,
            min_withdrawal: ledger.min_withdrawal,
            circuit_breaker: ledger.circuit_breaker,
        });
        Ok(())
    }
}
