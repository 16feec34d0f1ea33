//! Sending a batch of the queue with `oracle submit`'s sender
//! ([`crate::sender::submit_in_flight`]: v0 transactions through the
//! oracle's lookup tables, priority fees, rebroadcast, re-signing after the
//! ids are read on chain), then telling each report's outcome: the sender
//! counts what was recorded, so the landed transactions' events say which
//! report each one carried.

use super::store::{Outcome, Row, ALREADY, QUEUED, RECORDED, REJECTED};
use crate::lookup_tables;
use crate::reports;
use crate::submit::prepare;
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_message::AddressLookupTableAccount;
use solana_signer::Signer;
use solana_transaction::Signature;
use std::collections::HashMap;
use std::str::FromStr;
use upline::state::Member;
use upline_sdk::client::{Cluster, TxFailure};
use upline_sdk::events::UplineEvent;
use upline_sdk::rpc::RpcCluster;

/// The oracle's side of the node: its cluster connection and keys.
pub struct Sender {
    pub cluster: RpcCluster,
    pub oracle: Keypair,
    pub co_signers: Vec<Keypair>,
    pub network: Pubkey,
    pub max_in_flight: usize,
}

/// Addresses put in the lookup tables per step (one extending transaction's).
const TABLE_STEP: usize = 20;

/// How long one step of extending the tables may take before it is tried again.
const TABLE_STEP_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// A refusal that holds for a while rather than for the report: sent again later.
fn transient(reason: &str) -> bool {
    reason.starts_with("NetworkPaused")
}

impl Sender {
    /// The lookup tables holding the accounts of `lines`' reports (created
    /// and extended as `oracle submit` does).
    async fn tables(
        &mut self,
        lines: &[reports::ReportLine],
    ) -> Result<Vec<AddressLookupTableAccount>, TxFailure> {
        let co: Vec<Pubkey> = self.co_signers.iter().map(Signer::pubkey).collect();
        let prepared = prepare(
            &mut self.cluster,
            self.oracle.pubkey(),
            &co,
            self.network,
            lines,
        )
        .await?;
        let instructions: Vec<_> = prepared.queue.iter().map(|q| q.ix.clone()).collect();
        if instructions.is_empty() {
            return Ok(Vec::new());
        }
        let needed = lookup_tables::lookupable(&instructions);
        // A table extension at a time, each bounded: `tables_for` confirms
        // with the client's send-and-confirm, which waits for a lost
        // transaction until its blockhash expires, and keeps what it built
        // only once it is done. In small steps a lost one costs one step.
        let mut tables = Vec::new();
        let mut quiet = |_: String| {};
        for chunk in needed.chunks(TABLE_STEP) {
            let step = lookup_tables::tables_for(
                &mut self.cluster,
                &self.oracle,
                &self.network,
                chunk,
                &mut quiet,
            );
            tables = tokio::time::timeout(TABLE_STEP_WAIT, step)
                .await
                .map_err(|_| {
                    TxFailure::Transport("a lookup table extension did not land in time".into())
                })??;
        }
        self.cluster.landed.clear();
        Ok(tables)
    }

    /// Send `rows` (in the order accepted); each one's outcome, `queued`
    /// for those to send again. `Err`: nothing is known, send them all again.
    pub async fn send(&mut self, rows: &[Row]) -> Result<Vec<Outcome>, TxFailure> {
        let text: String = rows.iter().map(|r| format!("{}\n", r.line)).collect();
        let lines = match reports::parse(&text, "queue") {
            Ok(lines) => lines,
            // Stored lines were parsed when accepted: one that no longer
            // parses (a newer version's format) is rejected alone.
            Err(errors) => return Ok(unparsable(rows, &errors)),
        };
        let tables = self.tables(&lines).await?;
        self.cluster.landed.clear();
        let summary = crate::sender::submit_in_flight(
            &mut self.cluster,
            (&self.oracle, &self.co_signers),
            self.network,
            &lines,
            &tables,
            self.max_in_flight,
            |_| {},
        )
        .await?;
        let landed: Vec<String> = self.cluster.landed.drain(..).collect();
        let carried = self.carried(&landed).await;
        let rejected: HashMap<usize, &String> =
            summary.rejected.iter().map(|(l, r)| (*l, r)).collect();
        let unsent: HashMap<usize, &String> = summary.unsent.iter().map(|(l, r)| (*l, r)).collect();
        let mut outcomes = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let line = i + 1;
            let settled = |status, reason: Option<&String>| Outcome {
                seq: row.seq,
                status,
                reason: reason.cloned(),
                signature: None,
                slot: None,
            };
            let outcome = if let Some(reason) = rejected.get(&line) {
                let status = if transient(reason) { QUEUED } else { REJECTED };
                settled(status, Some(reason))
            } else if let Some(reason) = unsent.get(&line) {
                settled(QUEUED, Some(reason))
            } else {
                match carried.get(&(row.member.clone(), row.id)) {
                    Some((signature, slot)) => Outcome {
                        signature: Some(signature.clone()),
                        slot: *slot,
                        ..settled(RECORDED, None)
                    },
                    None => settled(ALREADY, None),
                }
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Which (member account, report id) each of `landed` carried, with
    /// its signature and slot, from its events.
    async fn carried(&self, landed: &[String]) -> HashMap<(String, u64), (String, Option<u64>)> {
        let mut slots = HashMap::new();
        let signatures: Vec<Signature> = landed
            .iter()
            .filter_map(|s| Signature::from_str(s).ok())
            .collect();
        for chunk in signatures.chunks(256) {
            if let Ok(statuses) = self.cluster.client().get_signature_statuses(chunk).await {
                for (signature, status) in chunk.iter().zip(statuses.value) {
                    if let Some(status) = status {
                        slots.insert(signature.to_string(), status.slot);
                    }
                }
            }
        }
        let mut out = HashMap::new();
        for signature in landed {
            // A transaction whose events cannot be read leaves its reports
            // counted as already recorded: on chain once either way.
            let Ok(events) = crate::history::events(&self.cluster, signature).await else {
                continue;
            };
            for event in events {
                let (member, id) = match event {
                    UplineEvent::ComputeReported(e) => (e.provider, e.id),
                    UplineEvent::UsageReported(e) => (e.user, e.id),
                    UplineEvent::RentalReported(e) => (e.renter, e.id),
                    UplineEvent::BandwidthReported(e) => (e.node, e.id),
                    _ => continue,
                };
                out.insert(
                    (member.to_string(), id),
                    (signature.clone(), slots.get(signature).copied()),
                );
            }
        }
        out
    }

    /// After a restart: the reports that were handed to the sender, whose
    /// transactions may have landed, checked on chain by id. Those the
    /// chain holds are settled; the others go back to the queue.
    pub async fn recover(&mut self, rows: &[Row]) -> Result<Vec<Outcome>, TxFailure> {
        let mut members: Vec<Pubkey> = rows
            .iter()
            .filter_map(|r| Pubkey::from_str(&r.member).ok())
            .collect();
        members.sort();
        members.dedup();
        let mut last: HashMap<String, u64> = HashMap::new();
        for chunk in members.chunks(100) {
            let accounts = self.cluster.accounts(chunk).await?;
            for (key, account) in chunk.iter().zip(accounts) {
                let id = account
                    .and_then(|a| upline_sdk::decode_account::<Member>(&a.data).ok())
                    .map_or(0, |m| m.last_report_id);
                last.insert(key.to_string(), id);
            }
        }
        Ok(rows
            .iter()
            .map(|row| {
                let recorded = last.get(&row.member).is_some_and(|l| *l >= row.id);
                Outcome {
                    seq: row.seq,
                    status: if recorded { ALREADY } else { QUEUED },
                    reason: recorded.then(|| {
                        "found recorded on chain when the node restarted (its transaction landed before the stop)".to_string()
                    }),
                    signature: None,
                    slot: None,
                }
            })
            .collect())
    }
}

/// `rows` whose stored lines fail to parse rejected, the others sent again.
fn unparsable(rows: &[Row], errors: &[String]) -> Vec<Outcome> {
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let prefix = format!("queue:{}: ", i + 1);
            let error = errors.iter().find(|e| e.starts_with(&prefix));
            Outcome {
                seq: row.seq,
                status: if error.is_some() { REJECTED } else { QUEUED },
                reason: error.map(|e| e.trim_start_matches(&prefix).to_string()),
                signature: None,
                slot: None,
            }
        })
        .collect()
}
