//! `add_points_ledger`: a ledger of points, with no mint and no withdrawals.

use crate::constants::{LEDGER_SEED, MAX_LABEL_LEN, MAX_LEDGERS};
use crate::errors::UplineError;
use crate::events::LedgerAdded;
use crate::state::{label, CircuitBreaker, Ledger, LedgerKind, Network};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AddPointsLedgerArgs {
    /// Ledger name, 1 to 16 bytes ("POINTS").
    pub name: String,
}

#[event_cpi]
#[derive(Accounts)]
pub struct AddPointsLedger<'info> {
    pub admin: Signer<'info>,
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(mut, has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    #[account(
        init,
        payer = payer,
        space = Ledger::SPACE,
        seeds = [LEDGER_SEED, network.key().as_ref(), &[network.ledger_count]],
        bump,
    )]
    pub ledger: Box<Account<'info, Ledger>>,
    pub system_program: Program<'info, System>,
}

impl AddPointsLedger<'_> {
    pub fn validate(&self, args: &AddPointsLedgerArgs) -> Result<()> {
        require!(
            usize::from(self.network.ledger_count) < MAX_LEDGERS,
            UplineError::TooManyLedgers
        );
        label::<MAX_LABEL_LEN>(&args.name).ok_or(UplineError::InvalidName)?;
        Ok(())
    }

    pub fn add_points_ledger(
        ctx: Context<AddPointsLedger>,
        args: AddPointsLedgerArgs,
    ) -> Result<()> {
        let name = label::<MAX_LABEL_LEN>(&args.name).ok_or(UplineError::InvalidName)?;
        let network = &mut ctx.accounts.network;
        let ledger = &mut ctx.accounts.ledger;
        ledger.set_inner(Ledger {
            bump: ctx.bumps.ledger,
            vault_bump: 0,
            network: network.key(),
            index: 0,
            name,
            kind: LedgerKind::Points,
            mint: Pubkey::default(),
            token_program: Pubkey::default(),
            vault: Pubkey::default(),
            // Points are whole-unit counters kept in WAD like tokens; there are no base units.
            decimals: 0,
            min_withdrawal: 0,
            circuit_breaker: CircuitBreaker::default(),
            funded: 0,
            withdrawn: 0,
            accepted_freeze_authority: Pubkey::default(),
        });
        network.append_ledger(ledger)?;
        emit_cpi!(LedgerAdded::of(ledger.key(), ledger));
        Ok(())
    }
}
