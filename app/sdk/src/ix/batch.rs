//! `report_batch`: several compute and usage reports under one approval.
//!
//! Senders build each report as its own instruction (`report_compute`,
//! `report_usage`), which is what a legacy transaction or a lone report
//! carries. [`coalesce`] turns runs of them that share an oracle context and
//! co-signers into `report_batch` instructions, which name the shared
//! accounts once: that is how a v0 transaction carries 20 or more full-upline
//! reports.

use super::build;
use crate::pda;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::{AnchorDeserialize, Discriminator};
use upline::instructions::{
    BatchedReport, BatchedWork, ComputeReportArgs, ReportBatchArgs, UsageReportArgs,
};
use upline::{accounts, instruction};

/// The oracle context's four accounts (signer, registration, network, tables).
const CONTEXT: usize = 4;
/// Upline slots of the single report instructions.
const UPLINE_SLOTS: usize = 3;

/// One report taken from its single instruction, ready to batch.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    earner: AccountMeta,
    model: Option<Pubkey>,
    upline: Vec<AccountMeta>,
    report: BatchedReport,
}

/// A batchable instruction: its context and co-signer accounts (what a batch
/// must share) and its report.
struct Batchable<'a> {
    shared: (&'a [AccountMeta], &'a [AccountMeta]),
    entry: Entry,
}

/// Read `ix` as a single compute or usage report built by this SDK.
fn batchable(ix: &Instruction) -> Option<Batchable<'_>> {
    if ix.program_id != upline::ID || ix.data.len() < 8 {
        return None;
    }
    let (discriminator, mut data) = ix.data.split_at(8);
    // report_compute: context, provider, model, upline ×3, event authority,
    // program; report_usage: the same without the model. Co-signers follow.
    let compute = discriminator == instruction::ReportCompute::DISCRIMINATOR;
    let usage = discriminator == instruction::ReportUsage::DISCRIMINATOR;
    let models = usize::from(compute);
    let own = CONTEXT + 1 + models + UPLINE_SLOTS + 2;
    if !(compute || usage) || ix.accounts.len() < own {
        return None;
    }
    let accounts = &ix.accounts;
    let upline_at = CONTEXT + 1 + models;
    // Anchor passes the program's id for an absent optional account.
    let upline: Vec<AccountMeta> = accounts[upline_at..upline_at + UPLINE_SLOTS]
        .iter()
        .take_while(|meta| meta.pubkey != upline::ID)
        .cloned()
        .collect();
    let (id, work_time, work) = if compute {
        let args = ComputeReportArgs::deserialize(&mut data).ok()?;
        let work = BatchedWork::Compute {
            model: 0,
            service: args.service,
            tokens: args.tokens,
            latency_ms: args.latency_ms,
        };
        (args.id, args.work_time, work)
    } else {
        let args = UsageReportArgs::deserialize(&mut data).ok()?;
        let work = BatchedWork::Usage {
            endpoint: args.endpoint,
            tokens: args.tokens,
        };
        (args.id, args.work_time, work)
    };
    let report = BatchedReport {
        id,
        work_time,
        upline_levels: u8::try_from(upline.len()).ok()?,
        work,
    };
    Some(Batchable {
        shared: (&accounts[..CONTEXT], &accounts[own..]),
        entry: Entry {
            earner: accounts[CONTEXT].clone(),
            model: compute.then(|| accounts[CONTEXT + 1].pubkey),
            upline,
            report,
        },
    })
}

/// `instructions` with each run of two or more compute and usage reports
/// that share an oracle context and co-signers merged into one
/// `report_batch`, in order; every other instruction as it is.
pub fn coalesce(instructions: &[Instruction]) -> Vec<Instruction> {
    let mut out = Vec::with_capacity(instructions.len());
    let mut i = 0;
    while i < instructions.len() {
        let Some(first) = batchable(&instructions[i]) else {
            out.push(instructions[i].clone());
            i += 1;
            continue;
        };
        let mut run = vec![first.entry];
        let mut j = i + 1;
        while let Some(next) = instructions.get(j).and_then(batchable) {
            if next.shared != first.shared {
                break;
            }
            run.push(next.entry);
            j += 1;
        }
        if run.len() == 1 {
            out.push(instructions[i].clone());
        } else {
            out.push(report_batch(first.shared, run));
        }
        i = j;
    }
    out
}

/// The `report_batch` of `entries` under the context and co-signers `shared`.
fn report_batch(shared: (&[AccountMeta], &[AccountMeta]), mut entries: Vec<Entry>) -> Instruction {
    let (context, co_signers) = shared;
    let mut models: Vec<Pubkey> = Vec::new();
    for entry in entries.iter_mut() {
        let (Some(model), BatchedWork::Compute { model: index, .. }) =
            (entry.model, &mut entry.report.work)
        else {
            continue;
        };
        let at = models.iter().position(|m| *m == model).unwrap_or_else(|| {
            models.push(model);
            models.len() - 1
        });
        // A batch names at most as many models as reports, and a v0
        // transaction holds far fewer than 256 reports.
        *index = u8::try_from(at).unwrap_or(u8::MAX);
    }
    let mut ix = build(
        accounts::ReportBatch {
            oracle: accounts::OracleContext {
                oracle_authority: context[0].pubkey,
                oracle: context[1].pubkey,
                network: context[2].pubkey,
                reward_tables: context[3].pubkey,
            },
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::ReportBatch {
            args: ReportBatchArgs {
                models: u8::try_from(models.len()).unwrap_or(u8::MAX),
                reports: entries.iter().map(|e| e.report).collect(),
            },
        },
    );
    ix.accounts
        .extend(models.iter().map(|m| AccountMeta::new_readonly(*m, false)));
    for entry in entries {
        ix.accounts.push(entry.earner);
        ix.accounts.extend(entry.upline);
    }
    ix.accounts.extend_from_slice(co_signers);
    ix
}

/// How many reports each instruction of `coalesced` carries (a batch its
/// entries, any other instruction one), to map a failed instruction back to
/// the reports it held.
pub fn reports_per_instruction(coalesced: &[Instruction]) -> Vec<usize> {
    coalesced
        .iter()
        .map(|ix| {
            let batch = ix.program_id == upline::ID
                && ix.data.get(..8) == Some(instruction::ReportBatch::DISCRIMINATOR);
            if !batch {
                return 1;
            }
            ReportBatchArgs::deserialize(&mut &ix.data[8..])
                .map(|args| args.reports.len())
                .unwrap_or(1)
        })
        .collect()
}
