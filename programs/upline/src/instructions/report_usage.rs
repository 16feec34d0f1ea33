//! `report_usage`: a user made an API request (Cxmpute points, DESIGN.md §4.2).

// The composite `OracleContext` needs its generated client and bump types in scope.
use super::report::*;
use crate::errors::{OrMathError, UplineError};
use crate::events::UsageReported;
use crate::rewards::usage::usage_points;
use crate::state::{CreditSource, Endpoint};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct UsageReportArgs {
    /// Greater than the user's last report id.
    pub id: u64,
    /// When the work happened (unix seconds): within the network's maximum
    /// report age of the clock, and not before this member's last report.
    pub work_time: i64,
    pub endpoint: Endpoint,
    pub tokens: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ReportUsage<'info> {
    pub oracle: OracleContext<'info>,
    /// CHECK: the user's member account, loaded and checked by the handler.
    #[account(mut)]
    pub user: UncheckedAccount<'info>,
    pub upline: UplineAccounts<'info>,
}

impl<'info> ReportUsage<'info> {
    pub fn validate(&self, co_signers: &[AccountInfo<'info>]) -> Result<()> {
        self.oracle.validate(co_signers)?;
        require!(
            self.oracle.reward_tables.data.usage.enabled,
            UplineError::ReportKindDisabled
        );
        Ok(())
    }

    pub fn report_usage(
        ctx: Context<'info, ReportUsage<'info>>,
        args: UsageReportArgs,
    ) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &ctx.accounts;
        let network_key = accounts.oracle.network.key();
        let network = &accounts.oracle.network;
        let tables = &accounts.oracle.reward_tables;
        let usage = &tables.data.usage;

        let mut approvals = accounts.oracle.approvals(ctx.remaining_accounts)?;
        let mut user = load_reported(&accounts.user, &network_key, usage.user_class)?;
        let stamp = ReportStamp {
            id: args.id,
            work_time: args.work_time,
            now,
        };
        record_report(&mut user.member, stamp, network)?;
        let endpoint = usage.endpoints[args.endpoint as usize];
        let points =
            usage_points(endpoint.base, endpoint.per_token, args.tokens).or_math_error()?;
        user.member
            .credit(usage.ledger, CreditSource::Own, points, args.work_time)?;

        let payout = pay_up_the_chain(
            &network_key,
            network,
            &mut user,
            accounts.upline.above(),
            usage.ledger,
            points,
            args.work_time,
        )?;

        let credits = credits_of(
            usage.ledger,
            points,
            &payout.commissions,
            payout.bonus.as_ref(),
        )?;
        approvals.charge(&credits, now)?;

        emit_cpi!(UsageReported {
            network: network_key,
            oracle: accounts.oracle.oracle_authority.key(),
            co_signers: approvals.co_signers(),
            id: args.id,
            user: accounts.user.key(),
            endpoint: args.endpoint,
            tokens: args.tokens,
            ledger_index: usage.ledger,
            tables_version: tables.version,
            points,
            commissions: payout.commissions,
            work_time: args.work_time,
            at: now,
        });
        if let Some(bonus) = payout.bonus {
            emit_cpi!(bonus);
        }
        Ok(())
    }
}
