//! `fund_vault`: anyone deposits tokens into a ledger's vault.
//!
//! Only deposits made here count as funding; tokens sent to the vault by a
//! plain transfer are not counted and cannot be withdrawn by members, so that
//! the vault always holds at least `funded - withdrawn`.

use crate::errors::UplineError;
use crate::events::VaultFunded;
use crate::state::{Ledger, Network};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

#[event_cpi]
#[derive(Accounts)]
pub struct FundVault<'info> {
    pub funder: Signer<'info>,
    pub network: Box<Account<'info, Network>>,
    #[account(mut, has_one = network @ UplineError::WrongLedger)]
    pub ledger: Box<Account<'info, Ledger>>,
    #[account(address = ledger.mint @ UplineError::WrongLedger)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, address = ledger.vault @ UplineError::WrongLedger)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The funder's token account of the same mint.
    #[account(mut, token::mint = mint, token::authority = funder, token::token_program = token_program)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = ledger.token_program @ UplineError::WrongLedger)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl FundVault<'_> {
    pub fn validate(&self, amount: u64) -> Result<()> {
        require!(self.ledger.is_withdrawable(), UplineError::NotATokenLedger);
        require!(amount > 0, UplineError::ZeroAmount);
        self.ledger.require_mint_decimals(self.mint.decimals)
    }

    pub fn fund_vault(ctx: Context<FundVault>, amount: u64) -> Result<()> {
        let accounts = &ctx.accounts;
        let before = accounts.vault.amount;
        let cpi = CpiContext::new(
            accounts.token_program.key(),
            TransferChecked {
                from: accounts.source.to_account_info(),
                mint: accounts.mint.to_account_info(),
                to: accounts.vault.to_account_info(),
                authority: accounts.funder.to_account_info(),
            },
        );
        token_interface::transfer_checked(cpi, amount, accounts.mint.decimals)?;
        ctx.accounts.vault.reload()?;
        // Count what arrived, not what was sent (they are equal for allowed mints).
        let received = ctx
            .accounts
            .vault
            .amount
            .checked_sub(before)
            .ok_or(UplineError::MathOverflow)?;
        let ledger = &mut ctx.accounts.ledger;
        ledger.funded = ledger
            .funded
            .checked_add(u128::from(received))
            .ok_or(UplineError::MathOverflow)?;
        ledger.invariant()?;
        emit_cpi!(VaultFunded {
            network: ledger.network,
            ledger: ledger.key(),
            index: ledger.index,
            funder: ctx.accounts.funder.key(),
            amount: received,
            funded: ledger.funded,
        });
        Ok(())
    }
}
