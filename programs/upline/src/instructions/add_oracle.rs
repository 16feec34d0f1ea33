//! `add_oracle` / `remove_oracle`: the admin keeps the network's oracle set.

use crate::constants::ORACLE_SEED;
use crate::errors::UplineError;
use crate::events::{OracleAdded, OracleRemoved};
use crate::state::{Network, Oracle};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
#[instruction(authority: Pubkey)]
pub struct AddOracle<'info> {
    pub admin: Signer<'info>,
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(mut, has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    #[account(
        init,
        payer = payer,
        space = Oracle::SPACE,
        seeds = [ORACLE_SEED, network.key().as_ref(), authority.as_ref()],
        bump,
    )]
    pub oracle: Box<Account<'info, Oracle>>,
    pub system_program: Program<'info, System>,
}

impl AddOracle<'_> {
    pub fn add_oracle(ctx: Context<AddOracle>, authority: Pubkey) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let oracle = &mut ctx.accounts.oracle;
        oracle.set_inner(Oracle {
            bump: ctx.bumps.oracle,
            network: ctx.accounts.network.key(),
            authority,
            added_at: now,
            caps: Default::default(),
        });
        let network = &mut ctx.accounts.network;
        network.oracle_count = network
            .oracle_count
            .checked_add(1)
            .ok_or(UplineError::MathOverflow)?;
        network.invariant()?;
        emit_cpi!(OracleAdded {
            network: oracle.network,
            oracle: authority,
            at: now,
        });
        Ok(())
    }
}

#[event_cpi]
#[derive(Accounts)]
pub struct RemoveOracle<'info> {
    /// Receives the oracle account's rent.
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    /// Closed: a removed oracle's reports then fail with `NotOracle`.
    #[account(mut, close = admin, has_one = network @ UplineError::NotOracle)]
    pub oracle: Box<Account<'info, Oracle>>,
}

impl RemoveOracle<'_> {
    /// A removal that would leave fewer oracles than a quorum above 1 is
    /// refused (`QuorumUnreachable`): lower the quorum first.
    pub fn remove_oracle(ctx: Context<RemoveOracle>) -> Result<()> {
        let network = &mut ctx.accounts.network;
        network.oracle_count = network
            .oracle_count
            .checked_sub(1)
            .ok_or(UplineError::MathOverflow)?;
        network.invariant()?;
        emit_cpi!(OracleRemoved {
            network: ctx.accounts.network.key(),
            oracle: ctx.accounts.oracle.authority,
            at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}
