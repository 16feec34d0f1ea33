//! `set_oracle_quorum`: how many distinct oracles must approve each report
//! and attestation (admin).

use crate::errors::UplineError;
use crate::events::OracleQuorumSet;
use crate::state::Network;
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SetOracleQuorum<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
}

impl SetOracleQuorum<'_> {
    /// At least 1, and a quorum above 1 at most the oracles registered
    /// (`QuorumUnreachable`), as the network's invariant has it.
    pub fn validate(&self, quorum: u8) -> Result<()> {
        let reachable =
            quorum == 1 || (quorum > 1 && u16::from(quorum) <= self.network.oracle_count);
        require!(reachable, UplineError::QuorumUnreachable);
        Ok(())
    }

    pub fn set_oracle_quorum(ctx: Context<SetOracleQuorum>, quorum: u8) -> Result<()> {
        let network = &mut ctx.accounts.network;
        network.oracle_quorum = quorum;
        network.invariant()?;
        emit_cpi!(OracleQuorumSet {
            network: network.key(),
            quorum,
            oracles: network.oracle_count,
            at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}
