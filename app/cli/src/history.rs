//! What a member account's transaction history says: the device a node was
//! last attested with (a device account is found by its fingerprint, which
//! only the attestation's event records).

use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_transaction::Signature;
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, UiInstruction, UiTransactionEncoding,
};
use std::str::FromStr;
use upline_sdk::client::TxFailure;
use upline_sdk::events::{decode_event, UplineEvent};
use upline_sdk::rpc::{failure, RpcCluster};

/// Signatures fetched per page, as validators allow.
const PAGE: usize = 1_000;

/// The Upline events of the transaction `signature`, in order (none if it failed).
pub async fn events(cluster: &RpcCluster, signature: &str) -> Result<Vec<UplineEvent>, TxFailure> {
    let sig = Signature::from_str(signature)
        .map_err(|_| TxFailure::Other(format!("bad signature {signature}")))?;
    let config = RpcTransactionConfig {
        encoding: Some(UiTransactionEncoding::Base64),
        commitment: Some(CommitmentConfig::confirmed()),
        max_supported_transaction_version: Some(0),
    };
    let tx = cluster
        .client()
        .get_transaction_with_config(&sig, config)
        .await
        .map_err(failure)?;
    let Some(meta) = tx.transaction.meta else {
        return Ok(Vec::new());
    };
    if meta.err.is_some() {
        return Ok(Vec::new());
    }
    let Some(decoded) = tx.transaction.transaction.decode() else {
        return Ok(Vec::new());
    };
    let mut keys: Vec<Pubkey> = decoded.message.static_account_keys().to_vec();
    if let OptionSerializer::Some(loaded) = &meta.loaded_addresses {
        for key in loaded.writable.iter().chain(&loaded.readonly) {
            keys.extend(Pubkey::from_str(key).ok());
        }
    }
    let mut out = Vec::new();
    if let OptionSerializer::Some(inner) = &meta.inner_instructions {
        for instruction in inner.iter().flat_map(|list| &list.instructions) {
            let UiInstruction::Compiled(compiled) = instruction else {
                continue;
            };
            if keys.get(usize::from(compiled.program_id_index)) != Some(&upline::ID) {
                continue;
            }
            if let Some(event) = bs58::decode(&compiled.data)
                .into_vec()
                .ok()
                .and_then(|data| decode_event(&data))
            {
                out.push(event);
            }
        }
    }
    Ok(out)
}

/// Walk the successful transactions that mention `address`, newest first, a
/// page at a time, handing each one's Upline events to `visit` until it
/// answers `Some` (returned) or the history ends (`None`).
pub async fn newest_first<T>(
    cluster: &RpcCluster,
    address: &Pubkey,
    mut visit: impl FnMut(Vec<UplineEvent>) -> Option<T>,
) -> Result<Option<T>, TxFailure> {
    let mut before = None;
    loop {
        let config = GetConfirmedSignaturesForAddress2Config {
            before,
            until: None,
            limit: Some(PAGE),
            commitment: Some(CommitmentConfig::confirmed()),
        };
        let page = cluster
            .client()
            .get_signatures_for_address_with_config(address, config)
            .await
            .map_err(failure)?;
        for entry in page.iter().filter(|e| e.err.is_none()) {
            if let Some(found) = visit(events(cluster, &entry.signature).await?) {
                return Ok(Some(found));
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE => {
                before =
                    Some(Signature::from_str(&last.signature).map_err(|_| {
                        TxFailure::Other(format!("bad signature {}", last.signature))
                    })?);
            }
            _ => return Ok(None),
        }
    }
}

/// The (fingerprint, subnet) hashes the node membership `member` was last
/// attested with, unless its device was deregistered since; `None` when its
/// history holds no attestation.
pub async fn attested_device(
    cluster: &RpcCluster,
    member: &Pubkey,
) -> Result<Option<([u8; 32], [u8; 32])>, TxFailure> {
    let latest = newest_first(cluster, member, |events| {
        // Newest first: the latest attestation or deregistration decides.
        events.iter().rev().find_map(|event| match event {
            UplineEvent::NodeAttested(e) if e.member == *member => {
                Some(Some((e.fingerprint, e.subnet)))
            }
            UplineEvent::DeviceDeregistered(e) if e.member == *member => Some(None),
            _ => None,
        })
    })
    .await?;
    Ok(latest.flatten())
}
