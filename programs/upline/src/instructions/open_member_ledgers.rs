//! `open_member_ledgers`: grow a member account by the ledgers added since it joined.
//!
//! Members are sized for the ledgers that exist when they join (a one-ledger
//! member costs less rent). A ledger added later needs a slot before it can be
//! credited; anyone may pay for it, and a member that is already complete is
//! left as it is.

use crate::errors::UplineError;
use crate::events::MemberLedgersOpened;
use crate::state::{Member, MemberLedger, Network};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct OpenMemberLedgers<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub network: Box<Account<'info, Network>>,
    #[account(
        mut,
        has_one = network @ UplineError::UnknownMember,
        realloc = Member::space(usize::from(network.ledger_count).max(member.ledgers.len())),
        realloc::payer = payer,
        realloc::zero = false,
    )]
    pub member: Box<Account<'info, Member>>,
    pub system_program: Program<'info, System>,
}

impl OpenMemberLedgers<'_> {
    pub fn open_member_ledgers(ctx: Context<OpenMemberLedgers>) -> Result<()> {
        let slots = usize::from(ctx.accounts.network.ledger_count);
        let member = &mut ctx.accounts.member;
        if member.ledgers.len() >= slots {
            return Ok(());
        }
        member.ledgers.resize(slots, MemberLedger::default());
        member.invariant()?;
        emit_cpi!(MemberLedgersOpened {
            network: member.network,
            member: member.key(),
            wallet: member.wallet,
            ledger_slots: ctx.accounts.network.ledger_count,
        });
        Ok(())
    }
}
