//! `set_paused`: stop or resume joins, links, withdrawals and reports.

use crate::errors::UplineError;
use crate::events::PauseSet;
use crate::state::Network;
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SetPaused<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
}

impl SetPaused<'_> {
    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        let network = &mut ctx.accounts.network;
        network.paused = paused;
        network.invariant()?;
        emit_cpi!(PauseSet {
            network: network.key(),
            paused,
            at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}
