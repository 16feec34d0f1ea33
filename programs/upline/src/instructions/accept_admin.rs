//! `accept_admin`: the proposed admin takes over.

use crate::errors::UplineError;
use crate::events::AdminAccepted;
use crate::state::Network;
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct AcceptAdmin<'info> {
    /// Must be the pending admin.
    pub pending_admin: Signer<'info>,
    #[account(mut, has_one = pending_admin @ UplineError::NotPendingAdmin)]
    pub network: Box<Account<'info, Network>>,
}

impl AcceptAdmin<'_> {
    pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
        let network = &mut ctx.accounts.network;
        // `has_one` alone would let anyone accept while no proposal is pending
        // by signing as the default key; that key has no private key, but be explicit.
        require_keys_neq!(
            network.pending_admin,
            Pubkey::default(),
            UplineError::NotPendingAdmin
        );
        let previous = network.admin;
        network.admin = network.pending_admin;
        network.pending_admin = Pubkey::default();
        network.invariant()?;
        emit_cpi!(AdminAccepted {
            network: network.key(),
            previous,
            admin: network.admin,
        });
        Ok(())
    }
}
