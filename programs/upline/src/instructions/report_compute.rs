//! `report_compute`: a provider served a request (Cxmpute, DESIGN.md §4.1).

use super::referral::LoadedMember;
// The composite `OracleContext` needs its generated client and bump types in scope.
use super::report::*;
use crate::errors::{OrMathError, UplineError};
use crate::events::ComputeReported;
use crate::rewards::compute::{compute_reward, performance, LatencyRule};
use crate::state::{CreditSource, Model, Service};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct ComputeReportArgs {
    /// Greater than the provider's last report id.
    pub id: u64,
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
    /// CHECK: levels 1-3 of the provider's upline, as the schedule pays them; checked against the stored links.
    #[account(mut)]
    pub upline1: Option<UncheckedAccount<'info>>,
    /// CHECK: see `upline1`.
    #[account(mut)]
    pub upline2: Option<UncheckedAccount<'info>>,
    /// CHECK: see `upline1`.
    #[account(mut)]
    pub upline3: Option<UncheckedAccount<'info>>,
}

impl<'info> ReportCompute<'info> {
    pub fn validate(&self) -> Result<()> {
        self.oracle.validate()?;
        require!(
            self.oracle.reward_tables.data.compute.enabled,
            UplineError::ReportKindDisabled
        );
        Ok(())
    }

    pub fn report_compute(
        ctx: Context<'info, ReportCompute<'info>>,
        args: ComputeReportArgs,
    ) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &ctx.accounts;
        let network_key = accounts.oracle.network.key();
        let network = &accounts.oracle.network;
        let tables = &accounts.oracle.reward_tables;
        let compute = &tables.data.compute;
        let model = &accounts.model;

        let mut provider =
            LoadedMember::load(&accounts.provider, &network_key, UplineError::UnknownMember)?;
        require!(
            provider.member.class == compute.provider_class,
            UplineError::WrongClass
        );
        record_report_id(&mut provider.member, args.id)?;
        let tier = provider.member.device_tier;
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
        provider
            .member
            .credit(compute.ledger, CreditSource::Own, reward, now)?;

        let above = [
            accounts.upline1.as_ref().map(AsRef::as_ref),
            accounts.upline2.as_ref().map(AsRef::as_ref),
            accounts.upline3.as_ref().map(AsRef::as_ref),
        ];
        let payout = pay_up_the_chain(
            &network_key,
            network,
            &mut provider,
            above,
            compute.ledger,
            reward,
            now,
        )?;

        emit_cpi!(ComputeReported {
            network: network_key,
            oracle: accounts.oracle.oracle_authority.key(),
            id: args.id,
            provider: provider.member.wallet,
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
            at: now,
        });
        if let Some(bonus) = payout.bonus {
            emit_cpi!(bonus);
        }
        Ok(())
    }
}
