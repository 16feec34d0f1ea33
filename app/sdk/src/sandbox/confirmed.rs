//! `getTransaction`: a journal entry as validators encode a confirmed
//! transaction (json, jsonParsed, base64, base58) with the ledger's meta,
//! built from the validator's own response types.

use super::journal::Recorded;
use super::ledger::Extras;
use super::rpc::{bad_params, internal, RpcError, UNSUPPORTED_VERSION};
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use solana_message::compiled_instruction::CompiledInstruction;
use solana_message::v0::LoadedAddresses;
use solana_message::VersionedMessage;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_transaction::versioned::TransactionVersion;
use solana_transaction_status_client_types::option_serializer::OptionSerializer;
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, EncodedTransaction,
    EncodedTransactionWithStatusMeta, InnerInstruction, InnerInstructions, ParsedAccount,
    ParsedAccountSource, TransactionBinaryEncoding, TransactionStatusMeta, UiAddressTableLookup,
    UiCompiledInstruction, UiInnerInstructions, UiInstruction, UiMessage, UiParsedInstruction,
    UiParsedMessage, UiPartiallyDecodedInstruction, UiRawMessage, UiTransaction,
    UiTransactionEncoding, UiTransactionStatusMeta,
};

/// `getTransaction`: the journal entry in the requested encoding, with the
/// ledger's meta. A v0 transaction needs `maxSupportedTransactionVersion`,
/// as on validators.
pub fn transaction_json(
    recorded: &Recorded,
    extras: Option<&Extras>,
    config: &RpcTransactionConfig,
) -> Result<Value, RpcError> {
    let encoding = config.encoding.unwrap_or(UiTransactionEncoding::Json);
    let version = recorded.transaction.version();
    let versioned = version != TransactionVersion::LEGACY;
    if versioned && config.max_supported_transaction_version.is_none() {
        return Err(RpcError(
            UNSUPPORTED_VERSION,
            "Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: \"maxSupportedTransactionVersion\": 0".into(),
            Value::Null,
        ));
    }
    let default = Extras::default();
    let extras = extras.unwrap_or(&default);
    let parsed = encoding == UiTransactionEncoding::JsonParsed;
    let transaction = encode_transaction(recorded, extras, encoding)?;
    let encoded = EncodedConfirmedTransactionWithStatusMeta {
        slot: recorded.slot,
        transaction: EncodedTransactionWithStatusMeta {
            transaction,
            meta: Some(meta(recorded, extras, parsed)),
            version: config.max_supported_transaction_version.map(|_| version),
        },
        block_time: Some(recorded.block_time),
    };
    serde_json::to_value(encoded).map_err(internal)
}

fn encode_transaction(
    recorded: &Recorded,
    extras: &Extras,
    encoding: UiTransactionEncoding,
) -> Result<EncodedTransaction, RpcError> {
    let tx = &recorded.transaction;
    let binary = |encoding: TransactionBinaryEncoding| -> Result<EncodedTransaction, RpcError> {
        let bytes = bincode::serialize(tx).map_err(internal)?;
        let text = match encoding {
            TransactionBinaryEncoding::Base58 => bs58::encode(bytes).into_string(),
            TransactionBinaryEncoding::Base64 => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(bytes)
            }
        };
        Ok(EncodedTransaction::Binary(text, encoding))
    };
    let message = &tx.message;
    let lookups = message
        .address_table_lookups()
        .map(|l| l.iter().map(UiAddressTableLookup::from).collect());
    let signatures = tx.signatures.iter().map(ToString::to_string).collect();
    let ui_message = match encoding {
        UiTransactionEncoding::Base58 | UiTransactionEncoding::Binary => {
            return binary(TransactionBinaryEncoding::Base58)
        }
        UiTransactionEncoding::Base64 => return binary(TransactionBinaryEncoding::Base64),
        UiTransactionEncoding::Json => UiMessage::Raw(UiRawMessage {
            header: *message.header(),
            account_keys: message
                .static_account_keys()
                .iter()
                .map(ToString::to_string)
                .collect(),
            recent_blockhash: message.recent_blockhash().to_string(),
            instructions: message
                .instructions()
                .iter()
                .map(|i| UiCompiledInstruction::from(i, None))
                .collect(),
            address_table_lookups: lookups,
        }),
        UiTransactionEncoding::JsonParsed => {
            let keys = all_keys(message, extras);
            UiMessage::Parsed(UiParsedMessage {
                account_keys: parsed_keys(message, extras),
                recent_blockhash: message.recent_blockhash().to_string(),
                instructions: message
                    .instructions()
                    .iter()
                    .map(|i| partially_decoded(i, &keys, None))
                    .collect(),
                address_table_lookups: lookups,
            })
        }
    };
    Ok(EncodedTransaction::Json(UiTransaction {
        signatures,
        message: ui_message,
    }))
}

fn all_keys(message: &VersionedMessage, extras: &Extras) -> Vec<Pubkey> {
    let mut keys = message.static_account_keys().to_vec();
    keys.extend(&extras.loaded.writable);
    keys.extend(&extras.loaded.readonly);
    keys
}

/// Account keys as jsonParsed lists them: static ones, then loaded ones.
fn parsed_keys(message: &VersionedMessage, extras: &Extras) -> Vec<ParsedAccount> {
    let statics = message
        .static_account_keys()
        .iter()
        .enumerate()
        .map(|(i, key)| ParsedAccount {
            pubkey: key.to_string(),
            writable: message.is_maybe_writable(i, None),
            signer: message.is_signer(i),
            source: Some(ParsedAccountSource::Transaction),
        });
    let loaded = |keys: &[Pubkey], writable: bool| -> Vec<ParsedAccount> {
        keys.iter()
            .map(|key| ParsedAccount {
                pubkey: key.to_string(),
                writable,
                signer: false,
                source: Some(ParsedAccountSource::LookupTable),
            })
            .collect()
    };
    statics
        .chain(loaded(&extras.loaded.writable, true))
        .chain(loaded(&extras.loaded.readonly, false))
        .collect()
}

/// An instruction as jsonParsed gives one it does not parse: program and
/// accounts by address, data in base58.
fn partially_decoded(
    instruction: &CompiledInstruction,
    keys: &[Pubkey],
    stack_height: Option<u32>,
) -> UiInstruction {
    let key = |i: u8| {
        keys.get(usize::from(i))
            .map_or_else(String::new, ToString::to_string)
    };
    UiInstruction::Parsed(UiParsedInstruction::PartiallyDecoded(
        UiPartiallyDecodedInstruction {
            program_id: key(instruction.program_id_index),
            accounts: instruction.accounts.iter().map(|a| key(*a)).collect(),
            data: bs58::encode(&instruction.data).into_string(),
            stack_height,
        },
    ))
}

fn meta(recorded: &Recorded, extras: &Extras, parsed: bool) -> UiTransactionStatusMeta {
    let inner: Vec<InnerInstructions> = recorded
        .inner_instructions
        .iter()
        .map(|(index, list)| InnerInstructions {
            index: *index,
            instructions: list
                .iter()
                .map(|i| InnerInstruction {
                    instruction: CompiledInstruction {
                        program_id_index: i.program_id_index,
                        accounts: i.accounts.clone(),
                        data: i.data.clone(),
                    },
                    stack_height: i.stack_height,
                })
                .collect(),
        })
        .collect();
    let fee = match extras.fee {
        0 => super::ledger::LAMPORTS_PER_SIGNATURE * recorded.transaction.signatures.len() as u64,
        fee => fee,
    };
    let status = TransactionStatusMeta {
        status: match &recorded.err {
            None => Ok(()),
            Some(e) => Err(e.clone()),
        },
        fee,
        pre_balances: extras.pre_balances.clone(),
        post_balances: extras.post_balances.clone(),
        inner_instructions: Some(inner.clone()),
        log_messages: Some(recorded.logs.clone()),
        pre_token_balances: Some(extras.pre_token_balances.clone()),
        post_token_balances: Some(extras.post_token_balances.clone()),
        rewards: Some(Vec::new()),
        loaded_addresses: LoadedAddresses {
            writable: extras.loaded.writable.clone(),
            readonly: extras.loaded.readonly.clone(),
        },
        return_data: None,
        compute_units_consumed: Some(recorded.units_consumed),
        cost_units: None,
    };
    let mut meta = UiTransactionStatusMeta::from(status);
    if let Some(data) = extras
        .return_data
        .as_ref()
        .filter(|_| recorded.err.is_none())
    {
        meta.return_data = OptionSerializer::Some(super::ledger::ui_return_data(data));
    }
    if parsed {
        // jsonParsed names accounts in the instructions and lists loaded
        // addresses among the account keys instead.
        let keys = all_keys(&recorded.transaction.message, extras);
        meta.inner_instructions = OptionSerializer::Some(
            inner
                .iter()
                .map(|list| UiInnerInstructions {
                    index: list.index,
                    instructions: list
                        .instructions
                        .iter()
                        .map(|i| partially_decoded(&i.instruction, &keys, i.stack_height))
                        .collect(),
                })
                .collect(),
        );
        meta.loaded_addresses = OptionSerializer::Skip;
    }
    meta
}

/// A `getTransaction` configuration: an object, or (deprecated) an encoding name.
pub fn transaction_config(params: &Value) -> Result<RpcTransactionConfig, RpcError> {
    match params.get(1) {
        None | Some(Value::Null) => Ok(RpcTransactionConfig::default()),
        Some(Value::String(encoding)) => {
            let encoding = serde_json::from_value(json!(encoding))
                .map_err(|e| bad_params(format!("Invalid params: {e}")))?;
            Ok(RpcTransactionConfig {
                encoding: Some(encoding),
                ..RpcTransactionConfig::default()
            })
        }
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| bad_params(format!("Invalid params: {e}"))),
    }
}
