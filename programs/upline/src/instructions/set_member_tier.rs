//! `set_member_tier`: the admin assigns a commission tier (Clore premium, VIP).

use super::referral::LoadedMember;
use crate::errors::UplineError;
use crate::events::MemberTierSet;
use crate::state::{CommissionTier, Network};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SetMemberTier<'info> {
    pub admin: Signer<'info>,
    #[account(has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    /// CHECK: the membership, loaded by hand so that one that does not exist
    /// gets `UnknownMember`, not a framework error.
    #[account(mut)]
    pub member: UncheckedAccount<'info>,
}

impl SetMemberTier<'_> {
    pub fn set_member_tier(ctx: Context<SetMemberTier>, tier: CommissionTier) -> Result<()> {
        let network_key = ctx.accounts.network.key();
        let mut loaded = LoadedMember::load(
            ctx.accounts.member.as_ref(),
            &network_key,
            UplineError::UnknownMember,
        )?;
        loaded.member.commission_tier = tier;
        loaded.store()?;
        emit_cpi!(MemberTierSet {
            network: network_key,
            member: ctx.accounts.member.key(),
            wallet: loaded.member.wallet,
            tier,
            at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}
