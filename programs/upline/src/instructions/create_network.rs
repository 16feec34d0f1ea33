//! `create_network`: a new network from rate tables.

use crate::constants::{NETWORK_SEED, REWARD_TABLES_SEED};
use crate::errors::UplineError;
use crate::events::NetworkCreated;
use crate::state::{
    validate_label, Network, NetworkTables, PromotionWindow, RewardTables, RewardTablesData,
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateNetworkArgs {
    /// Network name: 1 to 32 bytes of UTF-8, zero-padded to 32 bytes. The padded
    /// form is the PDA seed, so the seed is always exactly 32 bytes long.
    pub name: [u8; 32],
    /// Wallet that administers the network (may differ from the creator, e.g. a multisig).
    pub admin: Pubkey,
    /// Classes, referral schedules, bonuses, tier rates and early-bonus policy.
    pub tables: NetworkTables,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: CreateNetworkArgs)]
pub struct CreateNetwork<'info> {
    /// Creates and pays for the network.
    #[account(mut)]
    pub creator: Signer<'info>,
    #[account(
        init,
        payer = creator,
        space = Network::SPACE,
        seeds = [NETWORK_SEED, creator.key().as_ref(), args.name.as_ref()],
        bump,
    )]
    pub network: Box<Account<'info, Network>>,
    /// The network's report tables, created with every kind disabled.
    #[account(
        init,
        payer = creator,
        space = RewardTables::SPACE,
        seeds = [REWARD_TABLES_SEED, network.key().as_ref()],
        bump,
    )]
    pub reward_tables: Box<Account<'info, RewardTables>>,
    pub system_program: Program<'info, System>,
}

impl CreateNetwork<'_> {
    pub fn validate(&self, args: &CreateNetworkArgs) -> Result<()> {
        validate_label(&args.name)?;
        require_keys_neq!(args.admin, Pubkey::default(), UplineError::NotAdmin);
        args.tables.validate()
    }

    pub fn create_network(ctx: Context<CreateNetwork>, args: CreateNetworkArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let name = args.name;
        let network = &mut ctx.accounts.network;
        network.set_inner(Network {
            bump: ctx.bumps.network,
            creator: ctx.accounts.creator.key(),
            name,
            admin: args.admin,
            pending_admin: Pubkey::default(),
            paused: false,
            created_at: now,
            member_count: 0,
            ledger_count: 0,
            points_ledgers: 0,
            tables_version: 1,
            tables: args.tables,
            promotion: PromotionWindow::default(),
            oracle_count: 0,
            oracle_quorum: 1,
        });
        network.invariant()?;
        let tables = &mut ctx.accounts.reward_tables;
        tables.bump = ctx.bumps.reward_tables;
        tables.network = network.key();
        tables.version = 0;
        tables.data = RewardTablesData::default();
        emit_cpi!(NetworkCreated {
            network: network.key(),
            creator: network.creator,
            admin: network.admin,
            name,
            tables: network.tables,
            created_at: now,
        });
        Ok(())
    }
}
