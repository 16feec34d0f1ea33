//! `propose_admin`: first step of the two-step admin transfer.

use crate::errors::UplineError;
use crate::events::AdminProposed;
use crate::state::Network;
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct ProposeAdmin<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
}

impl ProposeAdmin<'_> {
    /// Proposing `Pubkey::default()` cancels a pending proposal; proposing the
    /// current admin is refused (it would be a no-op that looks like a transfer).
    pub fn propose_admin(ctx: Context<ProposeAdmin>, proposed: Pubkey) -> Result<()> {
        let network = &mut ctx.accounts.network;
        require_keys_neq!(proposed, network.admin, UplineError::NotPendingAdmin);
        network.pending_admin = proposed;
        network.invariant()?;
        emit_cpi!(AdminProposed {
            network: network.key(),
            admin: network.admin,
            proposed,
        });
        Ok(())
    }
}
