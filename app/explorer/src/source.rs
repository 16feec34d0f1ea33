//! Where transactions come from: the in-process sandbox's journal, or a
//! cluster over JSON-RPC (`getSignaturesForAddress` for the program, newest
//! first down to the cursor, then `getTransaction` for each, oldest first).

use crate::index::{self, Fetched, IndexSummary};
use crate::store::Store;
use crate::ExplorerError;
use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
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
    store: &mut Store,
    chain: &mut Chain,
) -> Result<IndexSummary, ExplorerError> {
    index_journal(store, chain, SANDBOX).await
}

/// [`index_sandbox`] under the cursor `source`: the name the same chain will
/// be followed by later (`rpc:URL` of its endpoint), so that following it
/// starts where the journal left off.
pub async fn index_journal(
    store: &mut Store,
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
    let mut summary = index::record(store, source, &new).await?;
    let slot = chain.slot;
    summary.accounts = index::snapshot(store, chain, slot).await?;
    Ok(summary)
}

/// Signatures of the program newer than `until`, oldest first.
async fn new_signatures(
    client: &RpcClient,
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
        let page = client
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
            .map_err(|e| ExplorerError::Source(format!("getSignaturesForAddress: {e}")))?;
        let Some(last) = page.last() else { break };
        before = Some(
            solana_transaction::Signature::from_str(&last.signature)
                .map_err(|_| ExplorerError::Source(format!("bad signature {}", last.signature)))?,
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
async fn transaction(client: &RpcClient, signature: &str) -> Result<Fetched, ExplorerError> {
    let sig = solana_transaction::Signature::from_str(signature)
        .map_err(|_| ExplorerError::Source(format!("bad signature {signature}")))?;
    let tx = client
        .get_transaction_with_config(
            &sig,
            RpcTransactionConfig {
                encoding: Some(UiTransactionEncoding::Base64),
                commitment: Some(CommitmentConfig::confirmed()),
                max_supported_transaction_version: Some(0),
            },
        )
        .await
        .map_err(|e| ExplorerError::Source(format!("getTransaction {signature}: {e}")))?;
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

/// How many times to re-check for transactions that landed while snapshotting.
const SETTLE_ROUNDS: usize = 5;

/// Index a cluster from its cursor on, then snapshot the named accounts; if
/// transactions landed meanwhile, index those and snapshot again, so that the
/// snapshot and the events describe the same moment.
pub async fn index_rpc(
    store: &mut Store,
    cluster: &mut RpcCluster,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<IndexSummary, ExplorerError> {
    let source = rpc_source(cluster.url());
    let mut total = IndexSummary::default();
    let mut snapshotted = false;
    for _ in 0..SETTLE_ROUNDS {
        let after = index::cursor(store, &source).await?;
        let signatures = new_signatures(cluster.client(), after.as_deref()).await?;
        if signatures.is_empty() && snapshotted {
            return Ok(total);
        }
        let mut fetched = Vec::with_capacity(signatures.len());
        for (done, (signature, _)) in signatures.iter().enumerate() {
            progress(done, signatures.len());
            fetched.push(transaction(cluster.client(), signature).await?);
        }
        progress(signatures.len(), signatures.len());
        let summary = index::record(store, &source, &fetched).await?;
        total.transactions += summary.transactions;
        total.events += summary.events;
        let slot = cluster
            .client()
            .get_slot()
            .await
            .map_err(|e| ExplorerError::Source(format!("getSlot: {e}")))?;
        total.accounts = index::snapshot(store, cluster, slot).await?;
        snapshotted = true;
    }
    Ok(total)
}
