//! `set_member_frozen`: the admin's fraud response. A frozen member earns
//! nothing (reports about it are refused; commissions and bonuses that would
//! reach it are withheld, evented and paid to nobody), cannot withdraw, link
//! or be linked to; its balances are kept for when it is unfrozen.

use super::referral::LoadedMember;
use crate::errors::UplineError;
use crate::events::MemberFrozenSet;
use crate::state::{MemberFlags, Network};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SetMemberFrozen<'info> {
    pub admin: Signer<'info>,
    #[account(has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    /// CHECK: the membership, loaded by hand (`UnknownMember`).
    #[account(mut)]
    pub member: UncheckedAccount<'info>,
}

impl SetMemberFrozen<'_> {
    pub fn set_member_frozen(ctx: Context<SetMemberFrozen>, frozen: bool) -> Result<()> {
        let network_key = ctx.accounts.network.key();
        let mut loaded = LoadedMember::load(
            ctx.accounts.member.as_ref(),
            &network_key,
            UplineError::UnknownMember,
        )?;
        loaded.member.flags.set(MemberFlags::FROZEN, frozen);
        loaded.store()?;
        emit_cpi!(MemberFrozenSet {
            network: network_key,
            member: ctx.accounts.member.key(),
            wallet: loaded.member.wallet,
            frozen,
            at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}
