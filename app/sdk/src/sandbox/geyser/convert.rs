//! Journal entries and accounts in Yellowstone's wire shapes: the Solana
//! storage-format transaction and status meta (the `solana-storage.proto`
//! messages validators' Geyser plugins send), as a real server converts them.

use crate::sandbox::journal::Recorded;
use crate::sandbox::ledger::Extras;
use anchor_lang::prelude::Pubkey;
use solana_message::VersionedMessage;
use solana_transaction_status_client_types::TransactionTokenBalance;
use std::sync::atomic::{AtomicU64, Ordering};
use yellowstone_grpc_proto::geyser::{
    SubscribeUpdateAccount, SubscribeUpdateAccountInfo, SubscribeUpdateBlockMeta,
    SubscribeUpdateTransaction, SubscribeUpdateTransactionInfo,
};
use yellowstone_grpc_proto::solana::storage::confirmed_block as storage;

/// A journal entry as `SubscribeUpdateTransaction`: `index` is its place
/// among its slot's transactions.
pub fn transaction_update(
    recorded: &Recorded,
    extras: Option<&Extras>,
    index: u64,
) -> SubscribeUpdateTransaction {
    let default = Extras::default();
    let extras = extras.unwrap_or(&default);
    let signature = recorded
        .transaction
        .signatures
        .first()
        .map(|s| s.as_ref().to_vec())
        .unwrap_or_default();
    SubscribeUpdateTransaction {
        transaction: Some(SubscribeUpdateTransactionInfo {
            signature,
            // The sandbox has no validators, so no votes.
            is_vote: false,
            transaction: Some(transaction(recorded)),
            meta: Some(meta(recorded, extras)),
            index,
        }),
        slot: recorded.slot,
        bank_id: recorded.slot,
    }
}

fn key_bytes(keys: &[Pubkey]) -> Vec<Vec<u8>> {
    keys.iter().map(|k| k.to_bytes().to_vec()).collect()
}

fn transaction(recorded: &Recorded) -> storage::Transaction {
    let tx = &recorded.transaction;
    let message = &tx.message;
    let header = message.header();
    let lookups = message
        .address_table_lookups()
        .unwrap_or_default()
        .iter()
        .map(|l| storage::MessageAddressTableLookup {
            account_key: l.account_key.to_bytes().to_vec(),
            writable_indexes: l.writable_indexes.clone(),
            readonly_indexes: l.readonly_indexes.clone(),
        })
        .collect();
    storage::Transaction {
        signatures: tx.signatures.iter().map(|s| s.as_ref().to_vec()).collect(),
        message: Some(storage::Message {
            header: Some(storage::MessageHeader {
                num_required_signatures: header.num_required_signatures.into(),
                num_readonly_signed_accounts: header.num_readonly_signed_accounts.into(),
                num_readonly_unsigned_accounts: header.num_readonly_unsigned_accounts.into(),
            }),
            account_keys: key_bytes(message.static_account_keys()),
            recent_blockhash: message.recent_blockhash().to_bytes().to_vec(),
            instructions: message
                .instructions()
                .iter()
                .map(|i| storage::CompiledInstruction {
                    program_id_index: i.program_id_index.into(),
                    accounts: i.accounts.clone(),
                    data: i.data.clone(),
                })
                .collect(),
            versioned: matches!(message, VersionedMessage::V0(_)),
            address_table_lookups: lookups,
            config: None,
        }),
    }
}

fn token_balances(balances: &[TransactionTokenBalance]) -> Vec<storage::TokenBalance> {
    balances
        .iter()
        .map(|b| storage::TokenBalance {
            account_index: b.account_index.into(),
            mint: b.mint.clone(),
            ui_token_amount: Some(storage::UiTokenAmount {
                // The protocol's own field; the exact amount is `amount`.
                ui_amount: b.ui_token_amount.ui_amount.unwrap_or_default(),
                decimals: b.ui_token_amount.decimals.into(),
                amount: b.ui_token_amount.amount.clone(),
                ui_amount_string: b.ui_token_amount.ui_amount_string.clone(),
            }),
            owner: b.owner.clone(),
            program_id: b.program_id.clone(),
        })
        .collect()
}

fn meta(recorded: &Recorded, extras: &Extras) -> storage::TransactionStatusMeta {
    // As the plugin does: the error is the bincode of the runtime's TransactionError.
    let err = recorded
        .err
        .as_ref()
        .and_then(|e| bincode::serialize(e).ok())
        .map(|err| storage::TransactionError { err });
    let fee = match extras.fee {
        0 => {
            crate::sandbox::ledger::LAMPORTS_PER_SIGNATURE
                * recorded.transaction.signatures.len() as u64
        }
        fee => fee,
    };
    let inner_instructions = recorded
        .inner_instructions
        .iter()
        .map(|(index, list)| storage::InnerInstructions {
            index: (*index).into(),
            instructions: list
                .iter()
                .map(|i| storage::InnerInstruction {
                    program_id_index: i.program_id_index.into(),
                    accounts: i.accounts.clone(),
                    data: i.data.clone(),
                    stack_height: i.stack_height,
                })
                .collect(),
        })
        .collect();
    let return_data = extras
        .return_data
        .as_ref()
        .filter(|_| recorded.err.is_none())
        .map(|(program, data)| storage::ReturnData {
            program_id: program.to_bytes().to_vec(),
            data: data.clone(),
        });
    storage::TransactionStatusMeta {
        err,
        fee,
        pre_balances: extras.pre_balances.clone(),
        post_balances: extras.post_balances.clone(),
        inner_instructions,
        inner_instructions_none: false,
        log_messages: recorded.logs.clone(),
        log_messages_none: false,
        pre_token_balances: token_balances(&extras.pre_token_balances),
        post_token_balances: token_balances(&extras.post_token_balances),
        rewards: Vec::new(),
        loaded_writable_addresses: key_bytes(&extras.loaded.writable),
        loaded_readonly_addresses: key_bytes(&extras.loaded.readonly),
        return_data_none: return_data.is_none(),
        return_data,
        compute_units_consumed: Some(recorded.units_consumed),
        cost_units: None,
    }
}

/// Write versions increase with every account update the process sends, as
/// a validator's do.
static WRITE_VERSION: AtomicU64 = AtomicU64::new(1);

/// An account as `SubscribeUpdateAccount` at `slot`, its data cut to
/// `slices` when the subscription asks for slices.
pub fn account_update(
    pubkey: &Pubkey,
    account: &solana_account::Account,
    slot: u64,
    slices: &[(usize, usize)],
) -> SubscribeUpdateAccount {
    let data = match slices {
        [] => account.data.clone(),
        slices => slices
            .iter()
            .flat_map(|(offset, length)| {
                let start = (*offset).min(account.data.len());
                let end = offset.saturating_add(*length).min(account.data.len());
                account.data[start..end].iter().copied()
            })
            .collect(),
    };
    SubscribeUpdateAccount {
        account: Some(SubscribeUpdateAccountInfo {
            pubkey: pubkey.to_bytes().to_vec(),
            lamports: account.lamports,
            owner: account.owner.to_bytes().to_vec(),
            executable: account.executable,
            rent_epoch: account.rent_epoch,
            data,
            write_version: WRITE_VERSION.fetch_add(1, Ordering::Relaxed),
            txn_signature: None,
        }),
        slot,
        is_startup: false,
        bank_id: None,
    }
}

/// A slot's block meta as the sandbox has it now: its time, the blockhash of
/// its bank, the transactions recorded in it so far.
pub fn block_meta(
    slot: u64,
    block_time: i64,
    blockhash: String,
    transactions: u64,
) -> SubscribeUpdateBlockMeta {
    SubscribeUpdateBlockMeta {
        slot,
        blockhash,
        rewards: Some(storage::Rewards::default()),
        block_time: Some(storage::UnixTimestamp {
            timestamp: block_time,
        }),
        block_height: None,
        parent_slot: slot.saturating_sub(1),
        parent_blockhash: String::new(),
        executed_transaction_count: transactions,
        entries_count: 0,
        bank_id: slot,
    }
}
