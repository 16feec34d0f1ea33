//! `report_batch`: several compute and usage reports under one approval.
//!
//! Each report in its own instruction repeats the oracle's four accounts, the
//! event authority, the program, its discriminator and, with a quorum, every
//! co-signer pair. A batch names those once and each report's earner and
//! upline once, so about half again as many full-upline reports fit one v0
//! transaction (README: transactions that land). Each report is recorded and
//! evented exactly as its single instruction would record it; the batch is
//! atomic, like any transaction.

// The composite `OracleContext` needs its generated client and bump types in scope.
use super::report::*;
use super::report_compute::{record_compute, ComputeReportArgs};
use super::report_usage::{record_usage, UsageReportArgs};
use crate::constants::MAX_REFERRAL_DEPTH;
use crate::errors::UplineError;
use crate::state::{Endpoint, Model, Service};
use anchor_lang::prelude::*;

/// What one report of a batch is about, by kind.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchedWork {
    /// A compute report; `model` indexes the batch's model accounts.
    Compute {
        model: u8,
        service: Service,
        tokens: u64,
        latency_ms: u32,
    },
    /// A usage report.
    Usage { endpoint: Endpoint, tokens: u64 },
}

/// One report of a batch: its identity and timing as in the single
/// instructions, how many upline accounts follow its earner's, and its work.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchedReport {
    pub id: u64,
    pub work_time: i64,
    /// Upline member accounts after the earner's (0 to 3, referrer first).
    pub upline_levels: u8,
    pub work: BatchedWork,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ReportBatchArgs {
    /// How many model accounts open the remaining accounts.
    pub models: u8,
    /// The reports, in order: the remaining accounts then hold, per report,
    /// its earner and its `upline_levels` upline accounts; co-signer pairs last.
    pub reports: Vec<BatchedReport>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ReportBatch<'info> {
    pub oracle: OracleContext<'info>,
}

impl<'info> ReportBatch<'info> {
    /// Refusals: `EmptyBatch`, `BatchAccountsMismatch` (the accounts do not
    /// match the reports), the approvals (`NotOracle` … `QuorumNotMet`), then
    /// each report in order as its single instruction refuses it.
    pub fn report_batch(
        ctx: Context<'info, ReportBatch<'info>>,
        args: ReportBatchArgs,
    ) -> Result<()> {
        require!(!args.reports.is_empty(), UplineError::EmptyBatch);
        let remaining = ctx.remaining_accounts;
        let co_signers_at = accounts_needed(&args)?;
        require!(
            co_signers_at <= remaining.len(),
            UplineError::BatchAccountsMismatch
        );
        let accounts = &ctx.accounts;
        let mut approvals = accounts.oracle.approvals(&remaining[co_signers_at..])?;
        let session = accounts.oracle.session()?;
        let (model_infos, mut rest) = remaining.split_at(usize::from(args.models));
        let models = model_infos
            .iter()
            .map(|info| load_model(info, &session.network_key))
            .collect::<Result<Vec<Model>>>()?;

        for report in &args.reports {
            let levels = usize::from(report.upline_levels);
            let (taken, after) = rest.split_at(1 + levels);
            rest = after;
            let (earner, above) = (&taken[0], upline_of(&taken[1..]));
            match report.work {
                BatchedWork::Compute {
                    model,
                    service,
                    tokens,
                    latency_ms,
                } => {
                    session.require_enabled(session.tables.data.compute.enabled)?;
                    let model = models
                        .get(usize::from(model))
                        .ok_or(UplineError::BatchAccountsMismatch)?;
                    let args = ComputeReportArgs {
                        id: report.id,
                        work_time: report.work_time,
                        service,
                        tokens,
                        latency_ms,
                    };
                    let (event, bonus) =
                        record_compute(&session, &mut approvals, earner, model, above, &args)?;
                    emit_cpi!(event);
                    if let Some(bonus) = bonus {
                        emit_cpi!(bonus);
                    }
                }
                BatchedWork::Usage { endpoint, tokens } => {
                    session.require_enabled(session.tables.data.usage.enabled)?;
                    let args = UsageReportArgs {
                        id: report.id,
                        work_time: report.work_time,
                        endpoint,
                        tokens,
                    };
                    let (event, bonus) =
                        record_usage(&session, &mut approvals, earner, above, &args)?;
                    emit_cpi!(event);
                    if let Some(bonus) = bonus {
                        emit_cpi!(bonus);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Where the co-signer pairs start in the remaining accounts: after the
/// models and each report's earner and upline (`BatchAccountsMismatch` for a
/// report claiming more levels than a chain pays).
fn accounts_needed(args: &ReportBatchArgs) -> Result<usize> {
    args.reports
        .iter()
        .try_fold(usize::from(args.models), |sum, report| {
            let levels = usize::from(report.upline_levels);
            require!(
                levels <= MAX_REFERRAL_DEPTH,
                UplineError::BatchAccountsMismatch
            );
            Ok(sum + 1 + levels)
        })
}

/// `levels` as the optional upline slots the report functions take.
fn upline_of<'a, 'info>(
    levels: &'a [AccountInfo<'info>],
) -> [Option<&'a AccountInfo<'info>>; MAX_REFERRAL_DEPTH] {
    let mut above = [None; MAX_REFERRAL_DEPTH];
    for (slot, level) in above.iter_mut().zip(levels) {
        *slot = Some(level);
    }
    above
}

/// A model of `network`'s registry, or `InvalidModel` (as the single
/// instruction's constraint refuses it).
fn load_model(info: &AccountInfo, network: &Pubkey) -> Result<Model> {
    require!(info.owner == &crate::ID, UplineError::InvalidModel);
    let model = {
        let data = info.try_borrow_data()?;
        Model::try_deserialize(&mut &data[..]).map_err(|_| error!(UplineError::InvalidModel))?
    };
    require_keys_eq!(model.network, *network, UplineError::InvalidModel);
    Ok(model)
}
