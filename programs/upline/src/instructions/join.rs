//! `join`: a wallet becomes a member, optionally linking its referrer at once.

use super::pda_account::{create_pda, exists};
use super::referral::{link, store_member, Upline};
use crate::constants::MEMBER_SEED;
use crate::errors::UplineError;
use crate::events::MemberJoined;
use crate::state::{Member, MemberFlags, Network};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct JoinArgs {
    /// Index of the member's class in the network's tables.
    pub class: u8,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: JoinArgs)]
pub struct Join<'info> {
    /// The joining wallet; its address is its referral code.
    pub wallet: Signer<'info>,
    /// Pays the member account's rent (the wallet itself, or a sponsor).
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(mut)]
    pub network: Box<Account<'info, Network>>,
    /// CHECK: the member PDA of (network, wallet, class), created by the handler
    /// (so that an existing membership gets `AlreadyMember` rather than a
    /// system-program error).
    #[account(
        mut,
        seeds = [MEMBER_SEED, network.key().as_ref(), wallet.key().as_ref(), &[args.class]],
        bump
    )]
    pub member: UncheckedAccount<'info>,
    /// CHECK: the referrer's membership (level 1), validated by `Upline::load`.
    /// Which of a referrer wallet's memberships is named is the client's choice
    /// (DESIGN.md §3 rule 6: the joiner's class where one exists); the program
    /// checks the same-class rule where the network has it.
    #[account(mut)]
    pub referrer: Option<UncheckedAccount<'info>>,
    /// CHECK: the referrer's referrer (level 2), validated by `Upline::load`.
    #[account(mut)]
    pub upline2: Option<UncheckedAccount<'info>>,
    /// CHECK: level 3, validated by `Upline::load`.
    #[account(mut)]
    pub upline3: Option<UncheckedAccount<'info>>,
    pub system_program: Program<'info, System>,
}

impl Join<'_> {
    pub fn validate(&self, args: &JoinArgs) -> Result<()> {
        self.network.require_active()?;
        self.network.class(args.class)?;
        require!(!exists(&self.member), UplineError::AlreadyMember);
        let upline_without_referrer =
            self.referrer.is_none() && (self.upline2.is_some() || self.upline3.is_some());
        require!(!upline_without_referrer, UplineError::UplineMismatch);
        Ok(())
    }

    pub fn join<'info>(ctx: Context<'info, Join<'info>>, args: JoinArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let network_key = ctx.accounts.network.key();
        let network = &mut ctx.accounts.network;
        let join_ordinal = network
            .member_count
            .checked_add(1)
            .ok_or(UplineError::MathOverflow)?;
        network.member_count = join_ordinal;
        // Fixed at join under the tables in force ("fixed at the account level").
        let early_limit = network.tables.early_bonus.early_member_limit;
        let early_member = early_limit > 0 && join_ordinal <= early_limit;
        let mut flags = MemberFlags::default();
        flags.set(MemberFlags::EARLY_MEMBER, early_member);
        let mut member = Member::new(
            network_key,
            ctx.accounts.wallet.key(),
            ctx.bumps.member,
            args.class,
            flags,
            usize::from(network.ledger_count),
        );

        let linked = match ctx.accounts.referrer.as_ref() {
            Some(referrer) => {
                let above = [
                    ctx.accounts.upline2.as_ref().map(AsRef::as_ref),
                    ctx.accounts.upline3.as_ref().map(AsRef::as_ref),
                ];
                let mut upline =
                    Upline::load(&network_key, ctx.accounts.wallet.key, referrer, above)?;
                let member_key = ctx.accounts.member.key();
                let outcome = link(
                    &network_key,
                    network,
                    (member_key, &mut member),
                    &mut upline,
                    now,
                )?;
                upline.store()?;
                Some(outcome)
            }
            None => None,
        };

        create_member_account(&ctx, args.class, Member::space(member.ledgers.len()))?;
        member.invariant()?;
        store_member(&ctx.accounts.member, &member)?;
        ctx.accounts.network.invariant()?;

        emit_cpi!(MemberJoined {
            network: network_key,
            member: ctx.accounts.member.key(),
            wallet: member.wallet,
            class: member.class,
            join_ordinal,
            early_member,
            ledger_slots: ctx.accounts.network.ledger_count,
            at: now,
        });
        if let Some(outcome) = linked {
            emit_cpi!(outcome.linked);
            if let Some(bonus) = outcome.bonus {
                emit_cpi!(bonus);
            }
        }
        Ok(())
    }
}

/// Create the member PDA of `class` with `space` bytes.
fn create_member_account(ctx: &Context<Join>, class: u8, space: usize) -> Result<()> {
    let accounts = &ctx.accounts;
    let network_key = accounts.network.key();
    let wallet_key = accounts.wallet.key();
    let bump = [ctx.bumps.member];
    let seeds: &[&[u8]] = &[
        MEMBER_SEED,
        network_key.as_ref(),
        wallet_key.as_ref(),
        &[class],
        &bump,
    ];
    create_pda(
        &accounts.payer,
        &accounts.member,
        &accounts.system_program,
        space,
        seeds,
    )
}
