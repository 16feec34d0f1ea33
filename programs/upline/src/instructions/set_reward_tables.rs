//! `set_reward_tables`: the four report kinds' tables, from now on.

use crate::errors::UplineError;
use crate::events::RewardTablesSet;
use crate::state::{Network, RewardTables, RewardTablesData};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SetRewardTables<'info> {
    pub admin: Signer<'info>,
    #[account(has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    #[account(mut, has_one = network @ UplineError::InvalidTables)]
    pub reward_tables: Box<Account<'info, RewardTables>>,
}

impl SetRewardTables<'_> {
    pub fn validate(&self, data: &RewardTablesData) -> Result<()> {
        data.validate(self.network.ledger_count, self.network.tables.class_count)
    }

    pub fn set_reward_tables(ctx: Context<SetRewardTables>, data: RewardTablesData) -> Result<()> {
        let tables = &mut ctx.accounts.reward_tables;
        tables.data = data;
        tables.version = tables
            .version
            .checked_add(1)
            .ok_or(UplineError::MathOverflow)?;
        emit_cpi!(RewardTablesSet {
            network: tables.network,
            version: tables.version,
            data,
            at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}
