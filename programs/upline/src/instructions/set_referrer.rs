//! `set_referrer`: link a referrer after joining, once, while the member has no referees.

use super::referral::{link, Upline};
use crate::errors::UplineError;
use crate::state::{Member, Network};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SetReferrer<'info> {
    /// The member's wallet: nobody else can link it.
    pub wallet: Signer<'info>,
    pub network: Box<Account<'info, Network>>,
    #[account(
        mut,
        has_one = network @ UplineError::UnknownMember,
        has_one = wallet @ UplineError::UnknownMember,
    )]
    pub member: Box<Account<'info, Member>>,
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
    pub fn validate(&self) -> Result<()> {
        self.network.require_active()?;
        require!(!self.member.has_referrer(), UplineError::ReferrerAlreadySet);
        require!(self.member.downline[0] == 0, UplineError::HasReferees);
        Ok(())
    }

    pub fn set_referrer<'info>(ctx: Context<'info, SetReferrer<'info>>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let network_key = ctx.accounts.network.key();
        let above = [
            ctx.accounts.upline2.as_ref().map(AsRef::as_ref),
            ctx.accounts.upline3.as_ref().map(AsRef::as_ref),
        ];
        let member_key = ctx.accounts.member.key();
        let mut upline = Upline::load(&network_key, &member_key, &ctx.accounts.referrer, above)?;
        let outcome = link(
            &network_key,
            &ctx.accounts.network,
            &mut ctx.accounts.member,
            &mut upline,
            now,
        )?;
        upline.store()?;
        ctx.accounts.member.invariant()?;

        emit_cpi!(outcome.linked);
        if let Some(bonus) = outcome.bonus {
            emit_cpi!(bonus);
        }
        Ok(())
    }
}
