//! `upline oracle submit`: reports packed into transactions, sent, and
//! accounted for one by one. A transaction is all or nothing, so when one
//! report of a batch is refused the others are sent again without it: a
//! report already recorded (`StaleReport` for an id the chain holds) counts as
//! done, any other refusal (a `StaleReport` for a work time earlier than the
//! member's last among them) is kept with its line and reason, and the rest go on.
//!
//! Every report names the same approvers (the oracle and its co-signers), so a
//! refusal of the approvers themselves (`QuorumNotMet`, `NotOracle`, ...)
//! refuses every report of the file: it is recorded against each of them and
//! nothing more is sent.

use crate::reports::{report_id, ReportBuilder, ReportLine, Unusable};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Hash;
use solana_transaction::Transaction;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use upline::errors::UplineError;
use upline::state::Member;
use upline_sdk::client::{AccountState, Cluster, TxFailure};
use upline_sdk::ix;
use upline_sdk::rpc::ComputeBudget;

/// Compute units one report is assumed to use when `oracle submit` sets a
/// transaction's limit without `--compute-unit-limit`: the limit is this
/// times the reports of the transaction, at most 1.4M. A compute report that
/// credits a full upline (the earner, its ten uplines, their commissions and
/// bonuses) is the costliest kind; calibrate on a cluster that runs the SBF
/// build (README, "Cost and throughput").
pub const REPORT_COMPUTE_UNITS: u32 = 120_000;

/// The largest serialized transaction a cluster accepts.
pub const PACKET_BYTES: u64 = 1232;

/// Refusals of who approved rather than of what was reported: every report of
/// a submission names the same approvers, so each would be refused the same way.
pub const APPROVAL_ERRORS: [UplineError; 6] = [
    UplineError::NetworkPaused,
    UplineError::NotOracle,
    UplineError::OracleRegistrationReadOnly,
    UplineError::CoSignerDidNotSign,
    UplineError::DuplicateCoSigner,
    UplineError::QuorumNotMet,
];

/// Whether `failure` refuses the approvers (see [`APPROVAL_ERRORS`]).
pub fn refuses_approvers(failure: &TxFailure) -> bool {
    APPROVAL_ERRORS.iter().any(|e| failure.is(*e))
}

/// Where a submission stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmitSummary {
    /// Reports in the file.
    pub total: usize,
    /// Recorded by this run.
    pub recorded: usize,
    /// Recorded by an earlier run (refused as `StaleReport`): done.
    pub already: usize,
    /// Refused, by line: (line, reason).
    pub rejected: Vec<(usize, String)>,
    /// Not sent because the cluster stopped answering: (line, reason).
    pub unsent: Vec<(usize, String)>,
    /// Transactions sent.
    pub transactions: usize,
    /// Why reports were refused without being sent one by one, if they were.
    pub note: Option<String>,
}

impl SubmitSummary {
    /// Reports accounted for so far.
    pub fn done(&self) -> usize {
        self.recorded + self.already + self.rejected.len() + self.unsent.len()
    }

    /// Whether every report is recorded (now or before).
    pub fn complete(&self) -> bool {
        self.rejected.is_empty() && self.unsent.is_empty()
    }
}

/// A report ready to send: its line, instruction, member account and id.
pub struct Queued {
    pub line: usize,
    pub ix: Instruction,
    pub member: Pubkey,
    pub id: u64,
}

/// Account for `report`, refused with `failure`. `StaleReport` is either an
/// id the chain already holds (done: an earlier run or another oracle recorded
/// it) or a work time earlier than the member's last report's (rejected);
/// the member's recorded id, read afresh, tells which.
pub async fn refused<C: Cluster>(
    cluster: &mut C,
    builder: &mut ReportBuilder,
    summary: &mut SubmitSummary,
    report: &Queued,
    failure: &TxFailure,
) {
    if !failure.is(UplineError::StaleReport) {
        summary.rejected.push((report.line, failure.name()));
        return;
    }
    match builder.recorded_id(cluster, &report.member).await {
        Ok(recorded) if recorded >= report.id => summary.already += 1,
        Ok(_) => summary.rejected.push((
            report.line,
            format!(
                "{}: its work time is earlier than the member's last recorded report's",
                failure.name()
            ),
        )),
        Err(_) => summary.rejected.push((report.line, failure.name())),
    }
}

/// Whether `instructions` fit one legacy transaction paid by `payer` (with
/// a signature for each signer they name).
fn fits(payer: &Pubkey, instructions: &[Instruction]) -> bool {
    let tx = Transaction::new_with_payer(instructions, Some(payer));
    bincode::serialized_size(&tx).is_ok_and(|size| size <= PACKET_BYTES)
}

/// A cluster whose account reads are served from what earlier reads fetched:
/// `prepare` fetches the members a file reports on and their uplines a level
/// at a time, one request per level (over JSON-RPC, a round trip per account
/// read one by one would cost more than sending the reports).
struct Prefetched<'a, C> {
    inner: &'a mut C,
    cache: HashMap<Pubkey, Option<AccountState>>,
}

impl<C: Cluster> Prefetched<'_, C> {
    /// Read the accounts of `keys` not read yet, in one request per 100.
    async fn fetch(&mut self, keys: &[Pubkey]) -> Result<(), TxFailure> {
        let mut missing: Vec<Pubkey> = Vec::new();
        for key in keys {
            if !self.cache.contains_key(key) && !missing.contains(key) {
                missing.push(*key);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let found = self.inner.accounts(&missing).await?;
        self.cache.extend(missing.into_iter().zip(found));
        Ok(())
    }

    /// Fetch `members` and the members above them, three levels up.
    async fn uplines(&mut self, mut members: Vec<Pubkey>) -> Result<(), TxFailure> {
        for _ in 0..4 {
            self.fetch(&members).await?;
            members = members
                .iter()
                .filter_map(|m| self.cache.get(m).cloned().flatten())
                .filter(|a| a.owner == upline::ID)
                .filter_map(|a| upline_sdk::decode_account::<Member>(&a.data).ok())
                .map(|m| m.referrer)
                .filter(|r| *r != Pubkey::default())
                .collect();
            if members.is_empty() {
                break;
            }
        }
        Ok(())
    }
}

impl<C: Cluster> Cluster for Prefetched<'_, C> {
    async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), TxFailure> {
        self.inner.send(instructions, signers).await
    }

    async fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<AccountState>>, TxFailure> {
        self.fetch(keys).await?;
        Ok(keys
            .iter()
            .map(|k| self.cache.get(k).cloned().flatten())
            .collect())
    }

    async fn rent_exempt(&mut self, len: usize) -> Result<u64, TxFailure> {
        self.inner.rent_exempt(len).await
    }

    async fn now(&mut self) -> Result<i64, TxFailure> {
        self.inner.now().await
    }

    fn budget_instructions(&self, count: usize) -> Vec<Instruction> {
        self.inner.budget_instructions(count)
    }
}

/// A file's reports checked and built, before anything is sent.
pub struct Prepared {
    /// What was settled without sending (already recorded, rejected).
    pub summary: SubmitSummary,
    /// The reports to send, in file order.
    pub queue: VecDeque<Queued>,
    /// What the builder read, for accounting refusals.
    pub builder: ReportBuilder,
}

/// Check and build `reports` as `oracle` approves them with `co_signers`
/// (each instruction names them). Reads the cluster; sends nothing.
pub async fn prepare<C: Cluster>(
    cluster: &mut C,
    oracle: Pubkey,
    co_signers: &[Pubkey],
    network: Pubkey,
    reports: &[ReportLine],
) -> Result<Prepared, TxFailure> {
    let mut summary = SubmitSummary {
        total: reports.len(),
        ..SubmitSummary::default()
    };
    // The clock is read once here: the work time of reports that give none.
    let mut builder = ReportBuilder::new(cluster, oracle, network).await?;
    let mut cluster = Prefetched {
        inner: cluster,
        cache: HashMap::new(),
    };
    let cluster = &mut cluster;
    let mut members = Vec::with_capacity(reports.len());
    for report in reports {
        if let Ok((member, _)) = builder.member_of(cluster, &report.op).await {
            members.push(member);
        }
    }
    cluster.uplines(members).await?;
    let mut queue: VecDeque<Queued> = VecDeque::with_capacity(reports.len());
    // Ids about one membership must rise through the file: a lower id after a
    // higher one would be refused as stale and wrongly counted as done.
    let mut last_id: HashMap<Pubkey, (u64, usize)> = HashMap::new();
    for report in reports {
        let id = report_id(&report.op);
        let member = match builder.member_of(cluster, &report.op).await {
            Ok((member, _)) => member,
            Err(Unusable::Rejected(reason)) => {
                summary.rejected.push((report.line, reason));
                continue;
            }
            Err(Unusable::Unreachable(reason)) => return Err(TxFailure::Transport(reason)),
        };
        if let Some((before, line)) = last_id.get(&member) {
            if id <= *before {
                summary.rejected.push((
                    report.line,
                    format!("id {id} is not above id {before} (line {line}) about the same member; list each member's reports in id order"),
                ));
                continue;
            }
        }
        last_id.insert(member, (id, report.line));
        let built = match builder.already_recorded(cluster, report).await {
            Ok(true) => {
                summary.already += 1;
                continue;
            }
            Ok(false) => builder.build(cluster, report).await,
            Err(e) => Err(e),
        };
        match built {
            Ok(instruction) => queue.push_back(Queued {
                line: report.line,
                ix: ix::with_co_signers(instruction, &network, co_signers),
                member,
                id,
            }),
            Err(Unusable::Rejected(reason)) => summary.rejected.push((report.line, reason)),
            Err(Unusable::Unreachable(reason)) => {
                // Nothing was sent yet: every report from here on stays unsent.
                return Err(TxFailure::Transport(reason));
            }
        }
    }
    Ok(Prepared {
        summary,
        queue,
        builder,
    })
}

/// The next batch off `queue`: as many reports as fit one transaction paid by `payer`.
pub fn next_batch(payer: &Pubkey, queue: &mut VecDeque<Queued>) -> Vec<Queued> {
    next_batch_with(payer, queue, |_| Vec::new())
}

/// Whether `instructions` fit one v0 transaction paid by `payer` that looks
/// accounts up in `tables`, sent as v0 transactions send them: their reports
/// coalesced into `report_batch` instructions.
pub(crate) fn fits_v0(
    payer: &Pubkey,
    instructions: &[Instruction],
    tables: &[AddressLookupTableAccount],
) -> bool {
    let instructions = ix::coalesce(instructions);
    let Ok(message) = v0::Message::try_compile(payer, &instructions, tables, Hash::default())
    else {
        return false;
    };
    let signatures = usize::from(message.header.num_required_signatures);
    let tx = VersionedTransaction {
        signatures: vec![Default::default(); signatures],
        message: VersionedMessage::V0(message),
    };
    bincode::serialized_size(&tx).is_ok_and(|size| size <= PACKET_BYTES)
}

/// [`next_batch`], leaving room for the instructions `budget` puts before a
/// transaction of that many reports (the compute budget's).
pub fn next_batch_with(
    payer: &Pubkey,
    queue: &mut VecDeque<Queued>,
    budget: impl Fn(usize) -> Vec<Instruction>,
) -> Vec<Queued> {
    next_batch_fitting(queue, budget, |trial| fits(payer, trial))
}

/// The next batch off `queue` for one v0 transaction paid by `payer` that
/// looks accounts up in `tables`: its reports coalesced into `report_batch`
/// instructions after `budget`'s.
pub fn next_batch_v0(
    payer: &Pubkey,
    queue: &mut VecDeque<Queued>,
    tables: &[AddressLookupTableAccount],
    budget: &ComputeBudget,
) -> Vec<Queued> {
    let fit = |trial: &[Instruction]| fits_v0(payer, trial, tables);
    next_batch_fitting(queue, |n| budget.instructions(n), fit)
}

/// The next batch off `queue` for which `fit` accepts the budget's and the
/// reports' instructions.
fn next_batch_fitting(
    queue: &mut VecDeque<Queued>,
    budget: impl Fn(usize) -> Vec<Instruction>,
    fit: impl Fn(&[Instruction]) -> bool,
) -> Vec<Queued> {
    let mut batch: Vec<Queued> = Vec::new();
    while let Some(next) = queue.pop_front() {
        let mut trial: Vec<Instruction> = budget(batch.len() + 1);
        trial.extend(batch.iter().map(|q| q.ix.clone()));
        trial.push(next.ix.clone());
        if batch.is_empty() || fit(&trial) {
            batch.push(next);
        } else {
            queue.push_front(next);
            break;
        }
    }
    batch
}

/// What to do about a refusal of the approvers.
fn approval_hint(failure: &TxFailure) -> &'static str {
    if failure.is(UplineError::QuorumNotMet) {
        "fewer distinct oracles approved than the network's quorum: add co-signers with --co-signer KEYPAIR, or --sign-only for oracles on other machines"
    } else if failure.is(UplineError::NotOracle) {
        "a signer is not a current oracle of this network"
    } else if failure.is(UplineError::NetworkPaused) {
        "the network is paused"
    } else {
        "the approving oracles were refused"
    }
}

/// Refuse `reports` for `failure`, a refusal of the approvers: the first by
/// the program, the rest because they name the same approvers.
pub fn refuse_all(
    summary: &mut SubmitSummary,
    failure: &TxFailure,
    reports: impl IntoIterator<Item = usize>,
) {
    let name = failure.name();
    for line in reports {
        summary.rejected.push((line, name.clone()));
    }
    summary.note = Some(format!(
        "{name}: {}; every report names the same approvers, so no more transactions were sent",
        approval_hint(failure)
    ));
}

/// Send `reports` as `oracle` (which signs and pays) approved with
/// `co_signers` (which sign every transaction too). `progress` hears the
/// summary after every transaction.
pub async fn submit<C: Cluster>(
    cluster: &mut C,
    oracle: &Keypair,
    co_signers: &[Keypair],
    network: Pubkey,
    reports: &[ReportLine],
    progress: impl FnMut(&SubmitSummary),
) -> Result<SubmitSummary, TxFailure> {
    let approvers = (oracle, co_signers);
    submit_through(cluster, approvers, network, reports, progress).await
}

async fn submit_through<C: Cluster>(
    cluster: &mut C,
    (oracle, co_signers): (&Keypair, &[Keypair]),
    network: Pubkey,
    reports: &[ReportLine],
    mut progress: impl FnMut(&SubmitSummary),
) -> Result<SubmitSummary, TxFailure> {
    let co_keys: Vec<Pubkey> = co_signers.iter().map(Signer::pubkey).collect();
    let Prepared {
        mut summary,
        mut queue,
        mut builder,
    } = prepare(cluster, oracle.pubkey(), &co_keys, network, reports).await?;
    let mut signers: Vec<&Keypair> = vec![oracle];
    signers.extend(co_signers.iter());
    let payer = oracle.pubkey();
    while !queue.is_empty() {
        let budget = |n| cluster.budget_instructions(n);
        let mut batch = next_batch_fitting(&mut queue, budget, |trial| fits(&payer, trial));
        let instructions: Vec<Instruction> = batch.iter().map(|q| q.ix.clone()).collect();
        summary.transactions += 1;
        let sent = cluster.send(&instructions, &signers).await;
        match sent {
            Ok(()) => summary.recorded += batch.len(),
            Err(failure) if refuses_approvers(&failure) => {
                let lines = batch.iter().chain(queue.iter()).map(|q| q.line);
                refuse_all(&mut summary, &failure, lines.collect::<Vec<_>>());
                queue.clear();
            }
            Err(TxFailure::Custom { instruction, code }) => {
                let failed = usize::from(instruction).min(batch.len() - 1);
                let report = batch.remove(failed);
                let failure = TxFailure::Custom { instruction, code };
                refused(cluster, &mut builder, &mut summary, &report, &failure).await;
                // The others were rolled back with it: send them again, in order.
                for item in batch.into_iter().rev() {
                    queue.push_front(item);
                }
            }
            Err(TxFailure::Transport(reason)) => {
                let reason = format!("not sent: the cluster stopped answering ({reason})");
                for q in batch.into_iter().chain(queue.drain(..)) {
                    summary.unsent.push((q.line, reason.clone()));
                }
            }
            Err(TxFailure::Other(reason)) if batch.len() == 1 => {
                summary.rejected.push((batch[0].line, reason));
            }
            Err(TxFailure::Other(_)) => {
                // Not tied to one report: send this batch's reports one at a time.
                for item in batch.into_iter().rev() {
                    queue.push_front(item);
                }
                if let Some(single) = queue.pop_front() {
                    summary.transactions += 1;
                    match cluster
                        .send(std::slice::from_ref(&single.ix), &signers)
                        .await
                    {
                        Ok(()) => summary.recorded += 1,
                        Err(TxFailure::Transport(reason)) => {
                            let reason =
                                format!("not sent: the cluster stopped answering ({reason})");
                            summary.unsent.push((single.line, reason.clone()));
                            for q in queue.drain(..) {
                                summary.unsent.push((q.line, reason.clone()));
                            }
                        }
                        Err(e) => refused(cluster, &mut builder, &mut summary, &single, &e).await,
                    }
                }
            }
        }
        progress(&summary);
    }
    summary.rejected.sort();
    Ok(summary)
}

/// Progress of a long submission on standard error: a line rewritten in
/// place on a terminal, a line every few seconds otherwise.
pub struct Progress {
    terminal: bool,
    last: Option<Instant>,
}

impl Progress {
    pub fn on_stderr() -> Progress {
        // SAFETY: isatty only inspects the descriptor.
        let terminal = unsafe { libc::isatty(libc::STDERR_FILENO) } == 1;
        Progress {
            terminal,
            last: None,
        }
    }

    pub fn show(&mut self, s: &SubmitSummary) {
        let every = if self.terminal {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(5)
        };
        if self.last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        let line = format!(
            "{}/{} reports: {} recorded, {} already recorded, {} rejected",
            s.done(),
            s.total,
            s.recorded,
            s.already,
            s.rejected.len()
        );
        if self.terminal {
            eprint!("\r{line}");
        } else {
            eprintln!("{line}");
        }
    }

    pub fn finish(&self) {
        if self.terminal && self.last.is_some() {
            eprintln!();
        }
    }
}

pub fn render_summary(file: &str, s: &SubmitSummary) -> String {
    let mut out = format!(
        "{file}: {} reports in {} transactions\n  recorded now      {:>8}\n  already recorded  {:>8}\n  rejected          {:>8}\n",
        s.total,
        s.transactions,
        s.recorded,
        s.already,
        s.rejected.len()
    );
    for (line, reason) in &s.rejected {
        out += &format!("    line {line}: {reason}\n");
    }
    if let Some(note) = &s.note {
        out += &format!("    {note}\n");
    }
    if !s.unsent.is_empty() {
        out += &format!("  not sent          {:>8}\n", s.unsent.len());
        if let Some((line, reason)) = s.unsent.first() {
            out += &format!("    from line {line}: {reason}; run again to send them\n");
        }
    }
    out
}
