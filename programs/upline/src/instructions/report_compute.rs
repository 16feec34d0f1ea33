//! `report_compute`: a provider served a request (Cxmpute, DESIGN.md §4.1).

// The composite `OracleContext` needs its generated client and bump types in scope.
use super::report::*;
use crate::constants::MAX_REFERRAL_DEPTH;
use crate::errors::{OrMathError, UplineError};
use crate::events::{ComputeReported, DirectBonusCredited};
use crate::rewards::compute::{compute_reward, performance, LatencyRule};
use crate::state::{Model, Service};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct ComputeReportArgs {
    /// Greater than the provider's last report id.
    pub id: u64,
    /// When the work happened (unix seconds): within the network's maximum
    /// report age of the clock, and not before the provider's last report.
    pub work_time: i64,
    pub service: Service,
    pub tokens: u64,
    pub latency_ms: u32,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ReportCompute<'info> {
    pub oracle: OracleContext<'info>,
    /// CHECK: the provider's member account, loaded and checked by the handler.
    #[account(mut)]
    pub provider: UncheckedAccount<'info>,
    #[account(constraint = model.network == oracle.network.key() @ UplineError::InvalidModel)]
    pub model: Box<Account<'info, Model>>,
    pub upline: UplineAccounts<'info>,
}

impl<'info> ReportCompute<'info> {
    /// Approvals first (`NotOracle` … `QuorumNotMet`), then the kind
    /// (`ReportKindDisabled`), then the report itself; the approvals are read
    /// once, here, not again in a separate validation.
    pub fn report_compute(
        ctx: Context<'info, ReportCompute<'info>>,
        args: ComputeReportArgs,
    ) -> Result<()> {
        let accounts = &ctx.accounts;
        let mut approvals = accounts.oracle.approvals(ctx.remaining_accounts)?;
        let session = accounts.oracle.session()?;
        session.require_enabled(session.tables.data.compute.enabled)?;
        let (event, bonus) = record_compute(
            &session,
            &mut approvals,
            &accounts.provider,
            &accounts.model,
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

/// Record one compute report about `provider` for `model` and pay its upline
/// `above`: what `report_compute` and each compute entry of `report_batch` do
/// once the approvals are settled. Returns the events to emit.
pub fn record_compute<'a, 'info>(
    session: &ReportSession,
    approvals: &mut Approvals<'_, 'info>,
    provider: &'a AccountInfo<'info>,
    model: &Model,
    above: [Option<&'a AccountInfo<'info>>; MAX_REFERRAL_DEPTH],
    args: &ComputeReportArgs,
) -> Result<(ComputeReported, Option<DirectBonusCredited>)> {
    let tables = session.tables;
    let compute = &tables.data.compute;
    let work = (args.id, args.work_time);
    let mut loaded = load_and_stamp(session, provider, compute.provider_class, work)?;
    let tier = loaded.member.device_tier;
    require!(tier > 0, UplineError::UnattestedProvider);
    require!(tier >= model.min_tier, UplineError::TierTooLow);
    let rates = compute
        .tiers
        .get(usize::from(tier - 1))
        .ok_or(UplineError::InvalidTables)?;

    let rule = LatencyRule {
        fast_below_ms: compute.fast_below_ms,
        fast: compute.fast_multiplier,
        slow_above_ms: compute.slow_above_ms,
        slow: compute.slow_multiplier,
    };
    let perf = performance(args.latency_ms, &rule);
    let service = compute.services[args.service as usize];
    let reward = compute_reward(
        rates.base,
        rates.per_token,
        service,
        model.complexity,
        args.tokens,
        perf,
    )
    .or_math_error()?;
    let credit = (compute.ledger, reward, args.work_time);
    let payout = pay_work(session, approvals, &mut loaded, above, credit)?;

    let event = ComputeReported {
        network: session.network_key,
        oracle: session.oracle_authority,
        co_signers: approvals.co_signers(),
        id: args.id,
        provider: *provider.key,
        service: args.service,
        model: model.name,
        complexity: model.complexity,
        tier,
        tokens: args.tokens,
        latency_ms: args.latency_ms,
        performance: perf,
        ledger_index: compute.ledger,
        tables_version: tables.version,
        reward,
        commissions: payout.commissions,
        work_time: args.work_time,
        at: session.now,
    };
    Ok((event, payout.bonus))
}
