//! `report_usage`: a user made an API request (Cxmpute points, DESIGN.md §4.2).

// The composite `OracleContext` needs its generated client and bump types in scope.
use super::report::*;
use crate::constants::MAX_REFERRAL_DEPTH;
use crate::errors::OrMathError;
use crate::events::{DirectBonusCredited, UsageReported};
use crate::rewards::usage::usage_points;
use crate::state::Endpoint;
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
    /// Approvals first, then the kind (`ReportKindDisabled`), then the report.
    pub fn report_usage(
        ctx: Context<'info, ReportUsage<'info>>,
        args: UsageReportArgs,
    ) -> Result<()> {
        let accounts = &ctx.accounts;
        let mut approvals = accounts.oracle.approvals(ctx.remaining_accounts)?;
        let session = accounts.oracle.session()?;
        session.require_enabled(session.tables.data.usage.enabled)?;
        let (event, bonus) = record_usage(
            &session,
            &mut approvals,
            &accounts.user,
            accounts.upline.above(),
            &args,
        )?;
        emit_cpi!(event);
        if let Some(bonus) = bonus {
            emit_cpi!(bonus);
        }
        Ok(())
    }
}

/// Record one usage report about `user` and pay its upline `above`: what
/// `report_usage` and each usage entry of `report_batch` do once the
/// approvals are settled. Returns the events to emit.
pub fn record_usage<'a, 'info>(
    session: &ReportSession,
    approvals: &mut Approvals<'_, 'info>,
    user: &'a AccountInfo<'info>,
    above: [Option<&'a AccountInfo<'info>>; MAX_REFERRAL_DEPTH],
    args: &UsageReportArgs,
) -> Result<(UsageReported, Option<DirectBonusCredited>)> {
    let tables = session.tables;
    let usage = &tables.data.usage;
    let work = (args.id, args.work_time);
    let mut loaded = load_and_stamp(session, user, usage.user_class, work)?;
    let endpoint = usage.endpoints[args.endpoint as usize];
    let points = usage_points(endpoint.base, endpoint.per_token, args.tokens).or_math_error()?;
    let credit = (usage.ledger, points, args.work_time);
    let payout = pay_work(session, approvals, &mut loaded, above, credit)?;

    let event = UsageReported {
        network: session.network_key,
        oracle: session.oracle_authority,
        co_signers: approvals.co_signers(),
        id: args.id,
        user: *user.key,
        endpoint: args.endpoint,
        tokens: args.tokens,
        ledger_index: usage.ledger,
        tables_version: tables.version,
        points,
        commissions: payout.commissions,
        work_time: args.work_time,
        at: session.now,
    };
    Ok((event, payout.bonus))
}
