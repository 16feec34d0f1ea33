//! `report_rental`: a GPU rental on the marketplace (Clore, DESIGN.md §4.3).
//!
//! Up to four roles (renter, host and each one's referrer) may be played by
//! fewer accounts: the host may be the renter's referrer, both sides may share
//! a referrer, a host may rent its own machine. Every distinct account is
//! loaded once and written once, so no credit is overwritten by a stale copy.

use super::referral::LoadedMember;
// The composite `OracleContext` needs its generated client and bump types in scope.
use super::report::*;
use crate::errors::{OrMathError, UplineError};
use crate::events::{Commission, RentalReported};
use crate::math::Wad;
use crate::rewards::rental::{rental_commission, rental_rate};
use crate::state::{CreditSource, Ledger, Member};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct RentalReportArgs {
    /// Greater than the renter's last report id.
    pub id: u64,
    /// When the work happened (unix seconds): within the network's maximum
    /// report age of the clock, and not before the renter's last report.
    pub work_time: i64,

    /// The currency's ledger index (CLORE, BTC).
    pub ledger: u8,
    /// Fees in the currency's base units, after any holdings discount.
    pub renter_base_fee: u64,
    pub renter_extra_fee: u64,
    pub host_base_fee: u64,
    pub host_extra_fee: u64,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: RentalReportArgs)]
pub struct ReportRental<'info> {
    pub oracle: OracleContext<'info>,
    /// The currency ledger (read for its decimals; never written by a report).
    #[account(
        constraint = ledger.network == oracle.network.key() @ UplineError::WrongLedger,
        constraint = ledger.index == args.ledger @ UplineError::LedgerMismatch,
    )]
    pub ledger: Box<Account<'info, Ledger>>,
    /// CHECK: the renter's member account, loaded by the handler.
    #[account(mut)]
    pub renter: UncheckedAccount<'info>,
    /// CHECK: the host's member account, loaded by the handler.
    #[account(mut)]
    pub host: UncheckedAccount<'info>,
    /// CHECK: the renter's referrer, required exactly when the renter has one.
    #[account(mut)]
    pub renter_referrer: Option<UncheckedAccount<'info>>,
    /// CHECK: the host's referrer, required exactly when the host has one.
    #[account(mut)]
    pub host_referrer: Option<UncheckedAccount<'info>>,
}

/// Distinct member accounts of one report, each loaded once.
struct Members<'a, 'info> {
    loaded: Vec<LoadedMember<'a, 'info>>,
}

impl<'a, 'info> Members<'a, 'info> {
    fn load(
        &mut self,
        info: &'a AccountInfo<'info>,
        network: &Pubkey,
        not_member: UplineError,
    ) -> Result<usize> {
        if let Some(index) = self.loaded.iter().position(|m| m.info.key == info.key) {
            return Ok(index);
        }
        self.loaded
            .push(LoadedMember::load(info, network, not_member)?);
        Ok(self.loaded.len() - 1)
    }

    fn member(&mut self, index: usize) -> &mut Member {
        &mut self.loaded[index].member
    }

    /// Two different members at once.
    fn pair(&mut self, a: usize, b: usize) -> (&mut Member, &mut Member) {
        if a < b {
            let (left, right) = self.loaded.split_at_mut(b);
            (&mut left[a].member, &mut right[0].member)
        } else {
            let (left, right) = self.loaded.split_at_mut(a);
            (&mut right[0].member, &mut left[b].member)
        }
    }
}

impl<'info> ReportRental<'info> {
    /// The report's kind and arguments, once the approvals are checked (the
    /// handler checks them first, once: `NotOracle` … `QuorumNotMet`).
    pub fn validate(&self, args: &RentalReportArgs) -> Result<()> {
        require!(
            self.oracle.reward_tables.data.rental.enabled,
            UplineError::ReportKindDisabled
        );
        require!(
            self.oracle.network.has_ledger(args.ledger),
            UplineError::UnknownLedger
        );
        Ok(())
    }

    pub fn report_rental(
        ctx: Context<'info, ReportRental<'info>>,
        args: RentalReportArgs,
    ) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &ctx.accounts;
        let mut approvals = accounts.oracle.approvals(ctx.remaining_accounts)?;
        accounts.validate(&args)?;
        let network_key = accounts.oracle.network.key();
        let network = &accounts.oracle.network;
        // "Rentals made during the promotion": decided by when the rental
        // happened, whenever its report lands.
        let promotion = network
            .promotion
            .is_open(args.work_time)
            .then_some(network.promotion.rate);

        let mut members = Members {
            loaded: Vec::with_capacity(4),
        };
        let renter = members.load(&accounts.renter, &network_key, UplineError::UnknownMember)?;
        let host = members.load(&accounts.host, &network_key, UplineError::UnknownMember)?;
        members.member(renter).require_not_frozen()?;
        members.member(host).require_not_frozen()?;
        let stamp = ReportStamp {
            id: args.id,
            work_time: args.work_time,
            now,
        };
        record_report(members.member(renter), stamp, network)?;

        let sides = [
            (
                renter,
                accounts.renter_referrer.as_ref(),
                args.renter_base_fee,
                args.renter_extra_fee,
            ),
            (
                host,
                accounts.host_referrer.as_ref(),
                args.host_base_fee,
                args.host_extra_fee,
            ),
        ];
        let mut paid: [Option<Commission>; 2] = [None, None];
        let mut referrers: [Option<usize>; 2] = [None, None];
        for (side, (earner, referrer_info, base_fee, extra_fee)) in sides.into_iter().enumerate() {
            let expected = members.member(earner).referrer;
            let referrer = match (expected != Pubkey::default(), referrer_info) {
                (true, Some(info)) => {
                    members.load(info.as_ref(), &network_key, UplineError::UplineMismatch)?
                }
                (false, None) => continue,
                _ => return err!(UplineError::UplineMismatch),
            };
            // Links store member accounts: only the very membership linked passes.
            let referrer_key = *members.loaded[referrer].info.key;
            require_keys_eq!(referrer_key, expected, UplineError::UplineMismatch);
            let referrer_member = members.member(referrer);
            let tier_rate = network.tables.tier_rates[referrer_member.commission_tier.index()];
            let rate = rental_rate(tier_rate, promotion);
            let amount = rental_commission(base_fee, extra_fee, accounts.ledger.decimals, rate)
                .or_math_error()?;
            // A frozen referrer's commission is withheld: evented, paid to nobody.
            let withheld = referrer_member.is_frozen();
            if !withheld {
                referrer_member.credit(
                    args.ledger,
                    CreditSource::Level1,
                    amount,
                    args.work_time,
                )?;
            }
            paid[side] = Some(Commission {
                member: referrer_key,
                level: 1,
                rate,
                amount,
                withheld,
            });
            referrers[side] = Some(referrer);
        }

        let mut bonuses = Vec::new();
        for (earner, referrer) in [(renter, referrers[0]), (host, referrers[1])] {
            let earner_key = *members.loaded[earner].info.key;
            let time = args.work_time;
            let bonus = match referrer {
                Some(referrer) => {
                    let (earner, referrer) = members.pair(earner, referrer);
                    let earner = (earner_key, earner);
                    settle_first_work(&network_key, network, earner, Some(referrer), time)?
                }
                None => {
                    let earner = (earner_key, members.member(earner));
                    settle_first_work(&network_key, network, earner, None, time)?
                }
            };
            bonuses.extend(bonus);
        }
        members.loaded.iter().try_for_each(LoadedMember::store)?;
        let commissions: Vec<Commission> = paid.iter().flatten().copied().collect();
        let mut credits = credits_of(args.ledger, Wad::ZERO, &commissions, None)?;
        credits.extend(
            bonuses
                .iter()
                .filter(|b| !b.withheld)
                .map(|b| (b.ledger_index, b.amount)),
        );
        approvals.charge(&credits, now)?;

        emit_cpi!(RentalReported {
            network: network_key,
            oracle: accounts.oracle.oracle_authority.key(),
            co_signers: approvals.co_signers(),
            id: args.id,
            renter: accounts.renter.key(),
            host: accounts.host.key(),
            ledger_index: args.ledger,
            renter_base_fee: args.renter_base_fee,
            renter_extra_fee: args.renter_extra_fee,
            host_base_fee: args.host_base_fee,
            host_extra_fee: args.host_extra_fee,
            promotion: promotion.is_some(),
            renter_commission: paid[0],
            host_commission: paid[1],
            work_time: args.work_time,
            at: now,
        });
        for bonus in bonuses {
            emit_cpi!(bonus);
        }
        Ok(())
    }
}
