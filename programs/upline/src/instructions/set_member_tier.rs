//! `set_member_tier`: the admin assigns a commission tier (Clore premium, VIP).

use crate::errors::UplineError;
use crate::events::MemberTierSet;
use crate::state::{CommissionTier, Member, Network};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SetMemberTier<'info> {
    pub admin: Signer<'info>,
    #[account(has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    #[account(mut, has_one = network @ UplineError::UnknownMember)]
    pub member: Box<Account<'info, Member>>,
}

impl SetMemberTier<'_> {
    pub fn set_member_tier(ctx: Context<SetMemberTier>, tier: CommissionTier) -> Result<()> {
        let member = &mut ctx.accounts.member;
        member.commission_tier = tier;
        member.invariant()?;
        emit_cpi!(MemberTierSet {
            network: member.network,
            wallet: member.wallet,
            tier,
            at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}
