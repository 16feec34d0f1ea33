//! Sending `oracle submit`'s v0 transactions with a bounded number in flight.
//!
//! Up to `--max-in-flight` transactions are sent (simulated first, so that a
//! program refusal comes back at once) and then awaited together. One that
//! has not landed is sent again, the same signed bytes, every
//! [`REBROADCAST`] while its blockhash is valid. Once the blockhash has
//! expired (and the transaction still has not landed, which is then final),
//! the ids of the reports it carried are read on chain: those recorded are
//! done, only the others are signed again over a fresh blockhash. A member's
//! reports are never in two transactions in flight at once, so they land in
//! file order and a report is never recorded twice.

use crate::reports::ReportLine;
use crate::submit::{
    fits_v0, prepare, refuse_all, refused, refuses_approvers, Prepared, Queued, SubmitSummary,
};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_message::AddressLookupTableAccount;
use solana_signer::Signer;
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use upline_sdk::client::{Cluster, TxFailure};
use upline_sdk::ix;
use upline_sdk::rpc::{RpcCluster, SignedV0};

/// How long a transaction that has not landed waits before it is sent again.
pub const REBROADCAST: Duration = Duration::from_secs(2);

/// How long the sender waits between looking at the transactions in
/// flight: not at all right after it sent or saw one land, then
/// `POLL_FIRST`, doubling while nothing lands, up to `POLL`. A cluster that
/// confirms fast (a local one, or within a slot) is seen at once; a slow one
/// is asked a few times a second at most, in one request for every
/// transaction in flight.
const POLL_FIRST: Duration = Duration::from_millis(10);
const POLL: Duration = Duration::from_millis(300);

/// The default of `--max-in-flight`.
pub const MAX_IN_FLIGHT: usize = 8;

/// One transaction in flight: what it carries, the members it reports on and
/// when it was last sent.
pub struct Flight<T> {
    pub payload: T,
    members: Vec<Pubkey>,
    sent_at: Instant,
}

/// The transactions in flight, at most `limit` of them.
pub struct Flights<T> {
    limit: usize,
    items: Vec<Flight<T>>,
}

impl<T> Flights<T> {
    pub fn new(limit: usize) -> Flights<T> {
        Flights {
            limit: limit.max(1),
            items: Vec::new(),
        }
    }

    /// Whether another transaction may be sent.
    pub fn room(&self) -> bool {
        self.items.len() < self.limit
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether a transaction in flight reports on `member`.
    pub fn busy(&self, member: &Pubkey) -> bool {
        self.items.iter().any(|f| f.members.contains(member))
    }

    /// A transaction sent at `now`.
    pub fn push(&mut self, payload: T, members: Vec<Pubkey>, now: Instant) {
        self.items.push(Flight {
            payload,
            members,
            sent_at: now,
        });
    }

    pub fn payloads(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|f| &f.payload)
    }

    /// Whether the `i`th has waited [`REBROADCAST`] since it was last sent.
    pub fn due(&self, i: usize, now: Instant) -> bool {
        now.saturating_duration_since(self.items[i].sent_at) >= REBROADCAST
    }

    /// The `i`th was sent again at `now`.
    pub fn resent(&mut self, i: usize, now: Instant) {
        self.items[i].sent_at = now;
    }

    /// Take the `i`th out of flight (the others keep their order).
    pub fn take(&mut self, i: usize) -> T {
        self.items.remove(i).payload
    }
}

/// Whether a refusal is the runtime's for a transaction that used up its
/// compute-unit limit.
fn out_of_compute(reason: &str) -> bool {
    reason.contains("ComputationalBudgetExceeded") || reason.contains("exceeded CUs meter")
}

/// The report of `batch` that instruction `failed` of its coalesced
/// transaction `coalesced` carried, when that instruction carried one alone.
fn lone_report(coalesced: &[Instruction], failed: u8) -> Option<usize> {
    let counts = ix::batch::reports_per_instruction(coalesced);
    let failed = usize::from(failed).min(counts.len().checked_sub(1)?);
    (counts[failed] == 1).then(|| counts[..failed].iter().sum())
}

/// A transaction in flight and the reports it carries.
struct Sent {
    signed: SignedV0,
    batch: Vec<Queued>,
}

/// Reports that ended a transaction, what they became.
struct Run<'a> {
    cluster: &'a mut RpcCluster,
    builder: crate::reports::ReportBuilder,
    summary: SubmitSummary,
    queue: VecDeque<Queued>,
    /// Nothing more is sent: the approvers were refused or the cluster stopped answering.
    stopped: bool,
    /// Transactions still to send one report each (after a refusal not tied to one report).
    singles: usize,
    /// The most reports a transaction carries: halved each time a
    /// transaction ran out of compute units, so that a per-report estimate
    /// below the program's real cost corrects itself (README, compute units).
    most_reports: usize,
}

impl Run<'_> {
    /// `batch`'s transaction failed with `failure` (nothing of it was recorded).
    async fn failed(&mut self, mut batch: Vec<Queued>, failure: TxFailure) {
        match failure {
            f if refuses_approvers(&f) => {
                let lines: Vec<usize> = batch
                    .iter()
                    .chain(self.queue.iter())
                    .map(|q| q.line)
                    .collect();
                self.queue.clear();
                if self.stopped {
                    for line in lines {
                        self.summary.rejected.push((line, f.name()));
                    }
                } else {
                    refuse_all(&mut self.summary, &f, lines);
                }
                self.stopped = true;
            }
            TxFailure::Custom { instruction, code } => {
                // The failed instruction of the coalesced transaction: a lone
                // report names itself; a batch could be any of its reports,
                // so they go again one a transaction to find out which.
                let instructions: Vec<Instruction> = batch.iter().map(|q| q.ix.clone()).collect();
                let Some(failed) = lone_report(&ix::coalesce(&instructions), instruction) else {
                    self.singles += batch.len();
                    self.requeue(batch);
                    return;
                };
                let report = batch.remove(failed.min(batch.len() - 1));
                let failure = TxFailure::Custom { instruction, code };
                let (cluster, builder, summary) =
                    (&mut *self.cluster, &mut self.builder, &mut self.summary);
                refused(cluster, builder, summary, &report, &failure).await;
                self.requeue(batch);
            }
            TxFailure::Transport(reason) => {
                let reason = format!("not sent: the cluster stopped answering ({reason})");
                for q in batch.into_iter().chain(self.queue.drain(..)) {
                    self.summary.unsent.push((q.line, reason.clone()));
                }
                self.stopped = true;
            }
            TxFailure::Other(reason) if batch.len() == 1 => {
                self.summary.rejected.push((batch[0].line, reason));
            }
            TxFailure::Other(reason) if out_of_compute(&reason) && batch.len() > 1 => {
                self.most_reports = (batch.len() / 2).max(1);
                eprintln!(
                    "upline: a transaction of {} reports ran out of compute units; sending at most {} a transaction from now on",
                    batch.len(),
                    self.most_reports
                );
                self.requeue(batch);
            }
            TxFailure::Other(_) => {
                // Not tied to one report: send them one a transaction.
                self.singles += batch.len();
                self.requeue(batch);
            }
        }
    }

    /// Put `batch` back at the front of the queue, in order.
    fn requeue(&mut self, batch: Vec<Queued>) {
        if self.stopped {
            return;
        }
        for item in batch.into_iter().rev() {
            self.queue.push_front(item);
        }
    }

    /// The next batch: as many reports from the queue's front as fit one
    /// transaction, passing over those about a member of a transaction in
    /// flight (and that member's later ones, which stay in order).
    fn next_batch(
        &mut self,
        payer: &Pubkey,
        tables: &[AddressLookupTableAccount],
        busy: impl Fn(&Pubkey) -> bool,
    ) -> Vec<Queued> {
        let most = if self.singles > 0 {
            self.singles -= 1;
            1
        } else {
            self.most_reports
        };
        let mut batch: Vec<Queued> = Vec::new();
        let mut held: Vec<Queued> = Vec::new();
        while let Some(next) = self.queue.pop_front() {
            if busy(&next.member) || held.iter().any(|h| h.member == next.member) {
                held.push(next);
                continue;
            }
            let mut trial: Vec<Instruction> = self.cluster.budget_instructions(batch.len() + 1);
            trial.extend(batch.iter().map(|q| q.ix.clone()));
            trial.push(next.ix.clone());
            if batch.len() >= most || !(batch.is_empty() || fits_v0(payer, &trial, tables)) {
                self.queue.push_front(next);
                break;
            }
            batch.push(next);
        }
        for item in held.into_iter().rev() {
            self.queue.push_front(item);
        }
        batch
    }

    /// The transaction of `batch`, signed and sent (simulated first).
    async fn send(
        &mut self,
        batch: Vec<Queued>,
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Option<Sent> {
        self.summary.transactions += 1;
        let instructions: Vec<Instruction> = batch.iter().map(|q| q.ix.clone()).collect();
        let instructions = ix::coalesce(&instructions);
        let sent = match self.cluster.sign_v0(&instructions, signers, tables).await {
            Ok(signed) => self.cluster.broadcast(&signed, true).await.map(|()| signed),
            Err(e) => Err(e),
        };
        match sent {
            Ok(signed) => Some(Sent { signed, batch }),
            Err(failure) => {
                self.failed(batch, failure).await;
                None
            }
        }
    }

    /// `sent` landed with `outcome`.
    async fn landed(&mut self, sent: Sent, outcome: Result<(), TxFailure>) {
        match outcome {
            Ok(()) => {
                self.summary.recorded += sent.batch.len();
                let signature = sent.signed.tx.signatures[0].to_string();
                self.cluster.landed.push(signature);
            }
            Err(failure) => self.failed(sent.batch, failure).await,
        }
    }

    /// `batch`'s transaction can no longer land: its reports recorded on
    /// chain are done, the others go back to the queue.
    async fn expired(&mut self, batch: Vec<Queued>) {
        let mut again = Vec::new();
        for report in batch {
            match self.builder.recorded_id(self.cluster, &report.member).await {
                Ok(recorded) if recorded >= report.id => self.summary.already += 1,
                Ok(_) => again.push(report),
                Err(failure) => {
                    self.failed(vec![report], failure).await;
                }
            }
        }
        self.requeue(again);
    }
}

/// Send `reports` as `oracle` approved with `co_signers`, in v0 transactions
/// through `tables`, at most `max_in_flight` awaiting confirmation at once.
/// `progress` hears the summary as transactions end.
pub async fn submit_in_flight(
    cluster: &mut RpcCluster,
    (oracle, co_signers): (&Keypair, &[Keypair]),
    network: Pubkey,
    reports: &[ReportLine],
    tables: &[AddressLookupTableAccount],
    max_in_flight: usize,
    mut progress: impl FnMut(&SubmitSummary),
) -> Result<SubmitSummary, TxFailure> {
    let co_keys: Vec<Pubkey> = co_signers.iter().map(Signer::pubkey).collect();
    let Prepared {
        summary,
        queue,
        builder,
    } = prepare(cluster, oracle.pubkey(), &co_keys, network, reports).await?;
    let mut signers: Vec<&Keypair> = vec![oracle];
    signers.extend(co_signers.iter());
    let payer = oracle.pubkey();
    let mut run = Run {
        cluster,
        builder,
        summary,
        queue,
        stopped: false,
        singles: 0,
        most_reports: usize::MAX,
    };
    let mut flights: Flights<Sent> = Flights::new(max_in_flight);
    let mut wait = Duration::ZERO;
    loop {
        while flights.room() && !run.stopped && !run.queue.is_empty() {
            let batch = run.next_batch(&payer, tables, |m| flights.busy(m));
            if batch.is_empty() {
                break;
            }
            let members = batch.iter().map(|q| q.member).collect();
            if let Some(sent) = run.send(batch, &signers, tables).await {
                flights.push(sent, members, Instant::now());
                wait = Duration::ZERO;
            }
            progress(&run.summary);
        }
        if flights.is_empty() {
            if run.stopped || run.queue.is_empty() {
                break;
            }
            continue;
        }
        tokio::time::sleep(wait).await;
        let before = flights.len();
        poll(&mut run, &mut flights).await;
        wait = if flights.len() < before {
            Duration::ZERO
        } else {
            (wait * 2).clamp(POLL_FIRST, POLL)
        };
        progress(&run.summary);
    }
    let mut summary = run.summary;
    summary.rejected.sort();
    Ok(summary)
}

/// Look at every transaction in flight once: account for those that landed,
/// rebroadcast those due, and take back the reports of those expired.
async fn poll(run: &mut Run<'_>, flights: &mut Flights<Sent>) {
    let signed: Vec<&SignedV0> = flights.payloads().map(|s| &s.signed).collect();
    let outcomes = match run.cluster.outcomes(&signed).await {
        Ok(outcomes) => outcomes,
        Err(failure) => {
            let reason = format!(
                "not confirmed: the cluster stopped answering ({}); run again, a recorded report is not recorded twice",
                failure.name()
            );
            while !flights.is_empty() {
                for q in flights.take(0).batch {
                    run.summary.unsent.push((q.line, reason.clone()));
                }
            }
            run.failed(Vec::new(), TxFailure::Transport(failure.name()))
                .await;
            return;
        }
    };
    // In the order sent, so that signatures are printed in that order; `i` is
    // the place of the current one among those still in flight.
    let mut i = 0;
    for outcome in outcomes {
        if let Some(outcome) = outcome {
            let sent = flights.take(i);
            run.landed(sent, outcome).await;
            continue;
        }
        let now = Instant::now();
        if !flights.due(i, now) {
            i += 1;
            continue;
        }
        let blockhash = flights.payloads().nth(i).map(|s| s.signed.blockhash);
        let valid = match blockhash {
            Some(hash) => run.cluster.blockhash_valid(&hash).await.unwrap_or(true),
            None => true,
        };
        if valid {
            if let Some(sent) = flights.payloads().nth(i) {
                // A failed rebroadcast is tried again at the next.
                let _ = run.cluster.broadcast(&sent.signed, false).await;
            }
            flights.resent(i, now);
            i += 1;
            continue;
        }
        // Expired: a last look, since it may have landed just before.
        let sent = flights.take(i);
        match run.cluster.outcomes(&[&sent.signed]).await {
            Ok(mut last) => match last.pop().flatten() {
                Some(outcome) => run.landed(sent, outcome).await,
                None => run.expired(sent.batch).await,
            },
            Err(_) => run.expired(sent.batch).await,
        }
    }
}

#[cfg(test)]
mod tests;
