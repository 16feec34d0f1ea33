//! `withdraw`: a member takes whole base units of its balance to its own token account.

use super::referral::LoadedMember;
use crate::constants::LEDGER_SEED;
use crate::errors::{OrMathError, UplineError};
use crate::events::Withdrawn;
use crate::math::Wad;
use crate::state::{Ledger, Network};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

#[event_cpi]
#[derive(Accounts)]
pub struct Withdraw<'info> {
    /// The member's wallet.
    pub wallet: Signer<'info>,
    pub network: Box<Account<'info, Network>>,
    #[account(mut, has_one = network @ UplineError::WrongLedger)]
    pub ledger: Box<Account<'info, Ledger>>,
    /// CHECK: the wallet's membership, loaded by hand so that a wallet that
    /// has not joined gets `UnknownMember`, not a framework error.
    #[account(mut)]
    pub member: UncheckedAccount<'info>,
    /// The ledger's mint (token ledgers; omitted for points).
    #[account(address = ledger.mint @ UplineError::WrongLedger)]
    pub mint: Option<Box<InterfaceAccount<'info, Mint>>>,
    /// The ledger's vault (token ledgers; omitted for points).
    #[account(mut, address = ledger.vault @ UplineError::WrongLedger)]
    pub vault: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    /// The member's own token account of the ledger's mint; nobody else's.
    #[account(mut)]
    pub destination: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    #[account(address = ledger.token_program @ UplineError::WrongLedger)]
    pub token_program: Option<Interface<'info, TokenInterface>>,
}

/// The token side of a withdrawal.
struct TokenAccounts<'a, 'info> {
    mint: &'a InterfaceAccount<'info, Mint>,
    vault: &'a InterfaceAccount<'info, TokenAccount>,
    destination: &'a InterfaceAccount<'info, TokenAccount>,
    token_program: &'a Interface<'info, TokenInterface>,
}

impl<'info> Withdraw<'info> {
    pub fn validate(&self, amount: Option<u64>) -> Result<()> {
        self.network.require_active()?;
        let member = self.member()?;
        member.member.require_not_frozen()?;
        // Checked before the token accounts, which a points ledger does not have.
        require!(self.ledger.is_withdrawable(), UplineError::NotWithdrawable);
        let token = self.token_accounts()?;
        require_keys_eq!(
            token.destination.mint,
            self.ledger.mint,
            UplineError::WrongDestination
        );
        require_keys_eq!(
            token.destination.owner,
            self.wallet.key(),
            UplineError::WrongDestination
        );
        let balance = member.member.ledger(self.ledger.index)?.balance()?;
        let amount = resolve_amount(amount, balance, self.ledger.decimals)?;
        require!(
            amount >= self.ledger.min_withdrawal,
            UplineError::BelowMinimum
        );
        require!(amount > 0, UplineError::ZeroAmount);
        // Compared in WAD (u128): u64 base units always fit there, while a
        // balance need not fit in u64 base units on a high-decimal mint.
        let amount_wad = Wad::from_base_units(amount, self.ledger.decimals).or_math_error()?;
        require!(amount_wad <= balance, UplineError::InsufficientBalance);
        let accounted = self
            .ledger
            .funded
            .checked_sub(self.ledger.withdrawn)
            .ok_or(UplineError::VaultUnderfunded)?;
        require!(
            amount <= token.vault.amount && u128::from(amount) <= accounted,
            UplineError::VaultUnderfunded
        );
        self.ledger.require_mint_decimals(token.mint.decimals)
    }

    /// The token accounts a token ledger's withdrawal needs, all of them.
    fn token_accounts(&self) -> Result<TokenAccounts<'_, 'info>> {
        match (
            &self.mint,
            &self.vault,
            &self.destination,
            &self.token_program,
        ) {
            (Some(mint), Some(vault), Some(destination), Some(token_program)) => {
                Ok(TokenAccounts {
                    mint,
                    vault,
                    destination,
                    token_program,
                })
            }
            _ => err!(UplineError::WrongLedger),
        }
    }

    /// The signing wallet's membership.
    fn member(&self) -> Result<LoadedMember<'_, 'info>> {
        LoadedMember::load_own(self.member.as_ref(), &self.network.key(), self.wallet.key)
    }

    pub fn withdraw(ctx: Context<Withdraw>, amount: Option<u64>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let network_key = ctx.accounts.network.key();
        let mut member = LoadedMember::load_own(
            ctx.accounts.member.as_ref(),
            &network_key,
            ctx.accounts.wallet.key,
        )?;
        let index = ctx.accounts.ledger.index;
        let balance = member.member.ledger(index)?.balance()?;
        let amount = resolve_amount(amount, balance, ctx.accounts.ledger.decimals)?;
        let ledger = &mut ctx.accounts.ledger;
        ledger.circuit_breaker.record_outflow(amount, now)?;
        ledger.withdrawn = ledger
            .withdrawn
            .checked_add(u128::from(amount))
            .ok_or(UplineError::MathOverflow)?;
        let amount_wad = Wad::from_base_units(amount, ledger.decimals).or_math_error()?;
        member.member.debit(ledger.index, amount_wad)?;
        let balance_after = member.member.ledger(ledger.index)?.balance()?;
        ledger.invariant()?;
        member.store()?;
        let member_key = *member.info.key;

        let index = [ledger.index];
        let bump = [ledger.bump];
        let seeds: &[&[u8]] = &[LEDGER_SEED, network_key.as_ref(), &index, &bump];
        let signer = &[seeds];
        let token = ctx.accounts.token_accounts()?;
        let destination = token.destination.key();
        let cpi = CpiContext::new_with_signer(
            token.token_program.key(),
            TransferChecked {
                from: token.vault.to_account_info(),
                mint: token.mint.to_account_info(),
                to: token.destination.to_account_info(),
                authority: ctx.accounts.ledger.to_account_info(),
            },
            signer,
        );
        token_interface::transfer_checked(cpi, amount, token.mint.decimals)?;

        emit_cpi!(Withdrawn {
            network: network_key,
            ledger_index: ctx.accounts.ledger.index,
            member: member_key,
            wallet: ctx.accounts.wallet.key(),
            destination,
            amount,
            amount_wad,
            balance_after,
            at: now,
        });
        Ok(())
    }
}

/// `None` means every whole base unit of `balance`, up to the most one
/// transfer can move (`u64::MAX`); a larger balance takes several withdrawals.
fn resolve_amount(amount: Option<u64>, balance: Wad, decimals: u8) -> Result<u64> {
    match amount {
        Some(amount) => Ok(amount),
        None => balance.to_base_units_floor_capped(decimals).or_math_error(),
    }
}
