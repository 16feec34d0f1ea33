//! `update_tables`: new rate tables from now on; never retroactive.

use crate::errors::UplineError;
use crate::events::TablesUpdated;
use crate::state::{Network, NetworkTables};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateTables<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
}

impl UpdateTables<'_> {
    pub fn validate(&self, tables: &NetworkTables) -> Result<()> {
        self.network.tables.validate_update(tables)?;
        self.network.validate_bonus_ledgers(tables)
    }

    pub fn update_tables(ctx: Context<UpdateTables>, tables: NetworkTables) -> Result<()> {
        let network = &mut ctx.accounts.network;
        network.tables = tables;
        network.tables_version = network
            .tables_version
            .checked_add(1)
            .ok_or(UplineError::MathOverflow)?;
        network.invariant()?;
        emit_cpi!(TablesUpdated {
            network: network.key(),
            tables_version: network.tables_version,
            tables,
            at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}
