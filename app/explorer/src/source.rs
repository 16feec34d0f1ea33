//! Where transactions come from: the in-process sandbox's journal, or a
//! cluster over JSON-RPC (`getSignaturesForAddress` for the program, newest
//! first down to the cursor, then `getTransaction` for each, oldest first,
//! several at once, recorded a chunk at a time so that a run that stops
//! part-way resumes after its last recorded chunk).

mod endpoint;

use crate::index::{self, Fetched, IndexSummary};
use crate::store::Store;
use crate::ExplorerError;
use anchor_lang::prelude::Pubkey;
pub use endpoint::Retry;
use endpoint::{Endpoint, Reader};
use futures_util::{stream, StreamExt};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, UiInstruction, UiTransactionEncoding,
};
use std::str::FromStr;
use upline_sdk::rpc::RpcCluster;
use upline_sdk::sandbox::{Chain, Recorded};

/// The cursor name of the in-process sandbox.
pub const SANDBOX: &str = "sandbox";

/// The program's transactions among `journal` (a sandbox's, or a slice of
/// it), as a source delivers them.
pub fn from_journal(journal: &[Recorded]) -> Vec<Fetched> {
    journal
        .iter()
        .filter(|r| r.mentions(&upline::ID))
        .map(|recorded| Fetched {
            signature: recorded.signature.clone(),
            slot: recorded.slot,
            block_time: recorded.block_time,
            failed: recorded.err.is_some(),
            inner_data: recorded
                .event_data()
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect(),
        })
        .collect()
}

/// Index the sandbox's journal (from its cursor on), then snapshot.
pub async fn index_sandbox(
    store: &Store,
    chain: &mut Chain,
) -> Result<IndexSummary, ExplorerError> {
    index_journal(store, chain, SANDBOX).await
}

/// [`index_sandbox`] under the cursor `source`: the name the same chain will
/// be followed by later (`rpc:URL` of its endpoint), so that following it
/// starts where the journal left off.
pub async fn index_journal(
    store: &Store,
    chain: &mut Chain,
    source: &str,
) -> Result<IndexSummary, ExplorerError> {
    let after = index::cursor(store, source).await?;
    let start = match &after {
        None => 0,
        Some(signature) => chain
            .journal
            .iter()
            .position(|r| &r.signature == signature)
            .map_or(0, |i| i + 1),
    };
    let new = from_journal(&chain.journal[start..]);
    let slot = chain.slot;
    let accounts = index::snapshot_named(store, chain, slot, &index::named_by(&new)).await?;
    let mut summary = index::record(store, source, &new).await?;
    summary.accounts = accounts;
    Ok(summary)
}

/// Signatures of the program newer than `until`, oldest first.
async fn new_signatures(
    endpoint: &Endpoint,
    until: Option<&str>,
) -> Result<Vec<(String, u64)>, ExplorerError> {
    let until = until
        .map(|s| {
            solana_transaction::Signature::from_str(s)
                .map_err(|_| ExplorerError::Corrupt(format!("cursor: bad signature {s}")))
        })
        .transpose()?;
    let mut newest_first = Vec::new();
    let mut before = None;
    loop {
        let page = endpoint
            .client
            .get_signatures_for_address_with_config(
                &upline::ID,
                GetConfirmedSignaturesForAddress2Config {
                    before,
                    until,
                    limit: Some(1_000),
                    commitment: Some(CommitmentConfig::confirmed()),
                },
            )
            .await
            .map_err(|e| {
                ExplorerError::Source(endpoint.failure("getSignaturesForAddress", "", &e))
            })?;
        let Some(last) = page.last() else { break };
        before = Some(
            solana_transaction::Signature::from_str(&last.signature).map_err(|_| {
                ExplorerError::Source(format!(
                    "{}: getSignaturesForAddress listed a bad signature {}",
                    endpoint.url, last.signature
                ))
            })?,
        );
        let full = page.len() == 1_000;
        newest_first.extend(page.into_iter().map(|s| (s.signature, s.slot)));
        if !full {
            break;
        }
    }
    newest_first.reverse();
    Ok(newest_first)
}

/// One transaction by signature, with the program's inner instructions.
async fn transaction(endpoint: &Endpoint, signature: &str) -> Result<Fetched, ExplorerError> {
    let sig = solana_transaction::Signature::from_str(signature)
        .map_err(|_| ExplorerError::Source(format!("bad signature {signature}")))?;
    let tx = endpoint
        .client
        .get_transaction_with_config(
            &sig,
            RpcTransactionConfig {
                encoding: Some(UiTransactionEncoding::Base64),
                commitment: Some(CommitmentConfig::confirmed()),
                max_supported_transaction_version: Some(0),
            },
        )
        .await
        .map_err(|e| ExplorerError::Source(endpoint.failure("getTransaction", signature, &e)))?;
    let meta = tx.transaction.meta.ok_or_else(|| {
        ExplorerError::Source(format!("{signature}: the cluster returned no status meta"))
    })?;
    let decoded = tx.transaction.transaction.decode().ok_or_else(|| {
        ExplorerError::Source(format!("{signature}: transaction does not decode"))
    })?;
    let mut keys: Vec<Pubkey> = decoded.message.static_account_keys().to_vec();
    if let OptionSerializer::Some(loaded) = &meta.loaded_addresses {
        for key in loaded.writable.iter().chain(&loaded.readonly) {
            keys.push(Pubkey::from_str(key).map_err(|_| {
                ExplorerError::Source(format!("{signature}: bad loaded address {key}"))
            })?);
        }
    }
    let failed = meta.err.is_some();
    let mut inner_data = Vec::new();
    if let OptionSerializer::Some(inner) = &meta.inner_instructions {
        for list in inner {
            for instruction in &list.instructions {
                let UiInstruction::Compiled(compiled) = instruction else {
                    return Err(ExplorerError::Source(format!(
                        "{signature}: inner instructions came back parsed; base64 encoding expected"
                    )));
                };
                if keys.get(usize::from(compiled.program_id_index)) != Some(&upline::ID) {
                    continue;
                }
                inner_data.push(bs58::decode(&compiled.data).into_vec().map_err(|e| {
                    ExplorerError::Source(format!("{signature}: inner instruction data: {e}"))
                })?);
            }
        }
    }
    Ok(Fetched {
        signature: signature.to_string(),
        slot: tx.slot,
        block_time: tx.block_time.unwrap_or_default(),
        failed,
        inner_data,
    })
}

/// The cursor name of a cluster at `url`.
pub fn rpc_source(url: &str) -> String {
    format!("rpc:{url}")
}

/// How a cluster is backfilled over JSON-RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backfill {
    /// `getTransaction` requests in flight at once (at least 1).
    pub concurrency: usize,
    /// Transactions recorded per database transaction: a run that stops
    /// part-way loses at most the chunk it was fetching.
    pub chunk: usize,
    /// How patiently the endpoint is read.
    pub retry: Retry,
}

impl Default for Backfill {
    fn default() -> Backfill {
        Backfill {
            concurrency: 8,
            chunk: 200,
            retry: Retry::default(),
        }
    }
}

/// How many times to re-list transactions that landed during a run.
const SETTLE_ROUNDS: usize = 5;

/// [`backfill`] of `cluster` with the default [`Backfill`].
pub async fn index_rpc(
    store: &Store,
    cluster: &mut RpcCluster,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<IndexSummary, ExplorerError> {
    backfill(store, cluster.url(), &Backfill::default(), progress).await
}

/// Index the cluster at `url` from its cursor on, snapshotting the accounts
/// the new events name; then index what landed meanwhile, until nothing
/// did, so that the snapshots and the events describe the same moment.
/// `progress` hears (fetched, to fetch) as transactions come in.
///
/// Oldest first, a chunk per database transaction, which also moves the
/// cursor to the chunk's newest: a run killed part-way resumes after the
/// last chunk recorded, and records nothing twice. A chunk's accounts are
/// snapshotted before it is recorded, so a run killed in between leaves
/// snapshots newer than the events (which the re-run records), never events
/// whose accounts were not snapshotted.
pub async fn backfill(
    store: &Store,
    url: &str,
    options: &Backfill,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<IndexSummary, ExplorerError> {
    let endpoint = Endpoint::new(url, options.retry).map_err(ExplorerError::Source)?;
    let source = rpc_source(url);
    let mut total = IndexSummary::default();
    for _ in 0..SETTLE_ROUNDS {
        let after = index::cursor(store, &source).await?;
        let signatures = new_signatures(&endpoint, after.as_deref()).await?;
        if signatures.is_empty() {
            break;
        }
        let mut done = 0;
        progress(done, signatures.len());
        for chunk in signatures.chunks(options.chunk.max(1)) {
            let mut fetched = Vec::with_capacity(chunk.len());
            // The requests are made up front, so that the stream's type
            // holds no closure over borrowed signatures (a future that is
            // spawned must be Send for any lifetime).
            let requests: Vec<_> = chunk
                .iter()
                .map(|(signature, _)| transaction(&endpoint, signature))
                .collect();
            let mut arriving = stream::iter(requests).buffered(options.concurrency.max(1));
            while let Some(tx) = arriving.next().await {
                fetched.push(tx?);
                done += 1;
                progress(done, signatures.len());
            }
            let slot = endpoint
                .client
                .get_slot()
                .await
                .map_err(|e| ExplorerError::Source(endpoint.failure("getSlot", "", &e)))?;
            let named = index::named_by(&fetched);
            let reader = &mut Reader(&endpoint);
            total.accounts += index::snapshot_named(store, reader, slot, &named).await?;
            let summary = index::record(store, &source, &fetched).await?;
            total.transactions += summary.transactions;
            total.events += summary.events;
            total.named.extend(summary.named);
        }
    }
    Ok(total)
}
