//! Both ends of the offline flow that talk to a cluster: writing the
//! messages (`--sign-only`) and sending them signed (`--messages`).

use super::{sha256_hex, MessagesFile, ReportRef, UnsignedTx, MESSAGES_FORMAT};
use crate::reports::ReportLine;
use crate::submit::{next_batch, prepare, refuse_all, refuses_approvers, Prepared, SubmitSummary};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use base64::Engine;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::{Hash, Message, Transaction};
use std::collections::BTreeMap;
use std::str::FromStr;
use upline::state::Member;
use upline_sdk::client::{Cluster, TxFailure};
use upline_sdk::rpc::{failure, RpcCluster};
use upline_sdk::sandbox::Chain;

/// A cluster that also sends transactions signed elsewhere.
#[allow(async_fn_in_trait)]
pub trait SendSigned: Cluster {
    /// Send `tx` as it is signed and wait until it is confirmed or refused.
    async fn send_signed(&mut self, tx: &Transaction) -> Result<(), TxFailure>;
    /// A recent blockhash to sign over.
    async fn latest_blockhash(&mut self) -> Result<Hash, TxFailure>;
}

impl SendSigned for RpcCluster {
    async fn send_signed(&mut self, tx: &Transaction) -> Result<(), TxFailure> {
        self.client()
            .send_and_confirm_transaction(tx)
            .await
            .map(|_| ())
            .map_err(failure)
    }

    async fn latest_blockhash(&mut self) -> Result<Hash, TxFailure> {
        self.client().get_latest_blockhash().await.map_err(failure)
    }
}

impl SendSigned for Chain {
    async fn send_signed(&mut self, tx: &Transaction) -> Result<(), TxFailure> {
        let tx = VersionedTransaction::from(tx.clone());
        let simulated = self.simulate(&tx).await?;
        match self.commit(tx, simulated).await? {
            Ok(recorded) => match &recorded.err {
                None => Ok(()),
                Some(err) => Err(TxFailure::from(err.clone())),
            },
            Err(refused) => Err(TxFailure::from(refused)),
        }
    }

    // solana-program-test 3.1 marks its whole API deprecated (unstable from 4.0).
    #[allow(deprecated)]
    async fn latest_blockhash(&mut self) -> Result<Hash, TxFailure> {
        Ok(self.ctx.last_blockhash)
    }
}

/// What `--sign-only` signs over.
pub struct SignOnly<'a> {
    /// The submitting oracle: fee payer and first approver (signs now).
    pub submitter: &'a Keypair,
    /// Co-signers whose keys are at hand (sign now).
    pub local: &'a [Keypair],
    /// Co-signers that sign elsewhere, by key.
    pub remote: &'a [Pubkey],
    pub network: Pubkey,
    pub reports: &'a [ReportLine],
    /// The reports file as named, and its contents.
    pub file: &'a str,
    pub contents: &'a [u8],
    pub blockhash: Hash,
}

/// The transactions a reports file makes, with the signatures of the keys
/// at hand: checked and built as `oracle submit` builds them, packed as it
/// packs them, nothing sent.
pub async fn sign_only<C: Cluster>(
    cluster: &mut C,
    request: SignOnly<'_>,
) -> Result<MessagesFile, TxFailure> {
    let payer = request.submitter.pubkey();
    let mut co_signers: Vec<Pubkey> = request.local.iter().map(Signer::pubkey).collect();
    co_signers.extend(request.remote.iter().copied());
    let Prepared {
        summary, mut queue, ..
    } = prepare(
        cluster,
        payer,
        &co_signers,
        request.network,
        request.reports,
    )
    .await?;
    let mut keys: Vec<&Keypair> = vec![request.submitter];
    keys.extend(request.local.iter());
    let mut transactions = Vec::new();
    while !queue.is_empty() {
        let batch = next_batch(&payer, &mut queue);
        let instructions: Vec<Instruction> = batch.iter().map(|q| q.ix.clone()).collect();
        let message = Message::new_with_blockhash(&instructions, Some(&payer), &request.blockhash);
        let bytes = message.serialize();
        let signers: Vec<String> = message
            .signer_keys()
            .iter()
            .map(|k| k.to_string())
            .collect();
        let signatures: BTreeMap<String, String> = keys
            .iter()
            .filter(|k| signers.contains(&k.pubkey().to_string()))
            .map(|k| (k.pubkey().to_string(), k.sign_message(&bytes).to_string()))
            .collect();
        transactions.push(UnsignedTx {
            reports: batch
                .iter()
                .map(|q| ReportRef {
                    line: q.line,
                    member: q.member.to_string(),
                    id: q.id,
                })
                .collect(),
            message: base64::engine::general_purpose::STANDARD.encode(&bytes),
            blockhash: request.blockhash.to_string(),
            signers,
            signatures,
        });
    }
    Ok(MessagesFile {
        format: MESSAGES_FORMAT.into(),
        network: request.network.to_string(),
        file: request.file.to_string(),
        file_sha256: sha256_hex(request.contents),
        submitter: payer.to_string(),
        co_signers: co_signers.iter().map(ToString::to_string).collect(),
        blockhash: request.blockhash.to_string(),
        total: summary.total,
        already: summary.already,
        rejected: summary.rejected,
        transactions,
    })
}

/// The highest report id the chain holds about the member account `member` (0: none).
async fn recorded_id<C: Cluster>(cluster: &mut C, member: &str) -> Result<u64, TxFailure> {
    let Ok(member) = Pubkey::from_str(member) else {
        return Ok(0);
    };
    Ok(cluster
        .decode::<Member>(&member)
        .await?
        .map_or(0, |m| m.last_report_id))
}

/// Why the reports of a refused transaction other than the one refused
/// were not recorded.
fn rolled_back(line: usize, name: &str) -> String {
    format!(
        "not recorded: its transaction was refused for line {line} ({name}); run --sign-only again to sign it anew"
    )
}

/// Send the signed transactions `txs` of `messages` in order, accounting for
/// every report as `oracle submit` does. A transaction signed elsewhere
/// cannot be re-packed, so the reports sharing a transaction with a refused
/// one are listed as not recorded.
pub async fn send_signed_all<C: SendSigned>(
    cluster: &mut C,
    messages: &MessagesFile,
    txs: &[Transaction],
    mut progress: impl FnMut(&SubmitSummary),
) -> Result<SubmitSummary, TxFailure> {
    let mut summary = SubmitSummary {
        total: messages.total,
        already: messages.already,
        rejected: messages.rejected.clone(),
        ..SubmitSummary::default()
    };
    for (i, (tx, unsigned)) in txs.iter().zip(&messages.transactions).enumerate() {
        let lines: Vec<usize> = unsigned.reports.iter().map(|r| r.line).collect();
        summary.transactions += 1;
        match cluster.send_signed(tx).await {
            Ok(()) => summary.recorded += lines.len(),
            Err(failure) if refuses_approvers(&failure) => {
                let rest = messages.transactions[i..].iter().flat_map(|t| &t.reports);
                refuse_all(&mut summary, &failure, rest.map(|r| r.line));
                break;
            }
            Err(TxFailure::Custom { instruction, code }) => {
                let failure = TxFailure::Custom { instruction, code };
                let at = usize::from(instruction).min(lines.len().saturating_sub(1));
                let name = failure.name();
                for (j, report) in unsigned.reports.iter().enumerate() {
                    // Recorded meanwhile (an earlier send of this file, another
                    // oracle): done, whichever report the program refused.
                    if recorded_id(cluster, &report.member).await? >= report.id {
                        summary.already += 1;
                    } else if j == at {
                        summary.rejected.push((report.line, name.clone()));
                    } else {
                        summary
                            .rejected
                            .push((report.line, rolled_back(lines[at], &name)));
                    }
                }
            }
            Err(TxFailure::Transport(reason)) => {
                let reason = format!("not sent: the cluster stopped answering ({reason})");
                for t in &messages.transactions[i..] {
                    for r in &t.reports {
                        summary.unsent.push((r.line, reason.clone()));
                    }
                }
                break;
            }
            Err(TxFailure::Other(reason)) if reason.contains("AlreadyProcessed") => {
                // Sent by an earlier run of the same signed file.
                summary.already += lines.len();
            }
            Err(TxFailure::Other(reason)) => {
                let reason = if reason.contains("BlockhashNotFound") {
                    format!("{reason}: the blockhash expired before it was sent; run --sign-only again and sign anew")
                } else {
                    reason
                };
                for line in lines {
                    summary.rejected.push((line, reason.clone()));
                }
            }
        }
        progress(&summary);
    }
    summary.rejected.sort();
    Ok(summary)
}
