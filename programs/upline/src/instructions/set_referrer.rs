//! `set_referrer`: link a referrer after joining, once, while the member has no referees.

use super::referral::{link, LoadedMember, Upline};
use crate::errors::UplineError;
use crate::state::Network;
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SetReferrer<'info> {
    /// The member's wallet: nobody else can link it.
    pub wallet: Signer<'info>,
    pub network: Box<Account<'info, Network>>,
    /// CHECK: the wallet's membership, loaded by hand so that a wallet that
    /// has not joined gets `UnknownMember`, not a framework error.
    #[account(mut)]
    pub member: UncheckedAccount<'info>,
    /// CHECK: the referrer's member account (level 1), validated by `Upline::load`.
    #[account(mut)]
    pub referrer: UncheckedAccount<'info>,
    /// CHECK: level 2, validated by `Upline::load`.
    #[account(mut)]
    pub upline2: Option<UncheckedAccount<'info>>,
    /// CHECK: level 3, validated by `Upline::load`.
    #[account(mut)]
    pub upline3: Option<UncheckedAccount<'info>>,
}

impl SetReferrer<'_> {
    /// Refusals in DESIGN.md §8's order: UnknownMember, ReferrerAlreadySet,
    /// HasReferees here; UnknownReferrer, SelfReferral, ClassMismatch by the link.
    pub fn validate(&self) -> Result<()> {
        self.network.require_active()?;
        let own =
            LoadedMember::load_own(self.member.as_ref(), &self.network.key(), self.wallet.key)?;
        own.member.require_not_frozen()?;
        require!(!own.member.has_referrer(), UplineError::ReferrerAlreadySet);
        require!(own.member.downline[0] == 0, UplineError::HasReferees);
        Ok(())
    }

    pub fn set_referrer<'info>(ctx: Context<'info, SetReferrer<'info>>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let network_key = ctx.accounts.network.key();
        let above = [
            ctx.accounts.upline2.as_ref().map(AsRef::as_ref),
            ctx.accounts.upline3.as_ref().map(AsRef::as_ref),
        ];
        let mut own = LoadedMember::load_own(
            ctx.accounts.member.as_ref(),
            &network_key,
            ctx.accounts.wallet.key,
        )?;
        let member_key = ctx.accounts.member.key();
        let mut upline = Upline::load(
            &network_key,
            ctx.accounts.wallet.key,
            &ctx.accounts.referrer,
            above,
        )?;
        let outcome = link(
            &network_key,
            &ctx.accounts.network,
            (member_key, &mut own.member),
            &mut upline,
            now,
        )?;
        upline.store()?;
        own.store()?;

        emit_cpi!(outcome.linked);
        if let Some(bonus) = outcome.bonus {
            emit_cpi!(bonus);
        }
        Ok(())
    }
}
