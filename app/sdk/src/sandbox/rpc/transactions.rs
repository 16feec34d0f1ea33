//! Transaction methods: sending (with the preflight a validator runs, and
//! the fault injection tests ask for), simulating, statuses and history.

use super::{
    bad_params, config, internal, param, pubkey, RpcError, Sandbox, PREFLIGHT_FAILURE,
    SIGNATURE_VERIFICATION,
};
use crate::sandbox::journal::Simulated;
use crate::sandbox::ledger::ui_return_data;
use crate::sandbox::{confirmed, history};
use base64::Engine;
use serde_json::{json, Value};
use solana_message::VersionedMessage;
use solana_rpc_client_api::config::{RpcSendTransactionConfig, RpcSimulateTransactionConfig};
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::TransactionError;
use solana_transaction_status_client_types::{
    TransactionBinaryEncoding, UiTransactionEncoding, UiTransactionError,
};

/// Largest wire transaction, as on every cluster.
const PACKET_DATA_SIZE: usize = 1232;

impl Sandbox {
    pub(super) async fn transactions(
        &mut self,
        method: &str,
        params: &Value,
    ) -> Option<Result<Value, RpcError>> {
        Some(match method {
            "sendTransaction" => self.send_transaction(params).await,
            "simulateTransaction" => self.simulate_transaction(params).await,
            "getSignatureStatuses" => self.signature_statuses(params),
            "getSignaturesForAddress" => match pubkey(param(params, 0).unwrap_or(&Value::Null)) {
                Ok(address) => {
                    let config = params.get(1).cloned().unwrap_or(Value::Null);
                    let chain = &self.chain;
                    history::signatures_for_address(
                        &chain.journal,
                        |s| chain.extras(s),
                        &address,
                        &config,
                    )
                    .map_err(|e| bad_params(format!("Invalid params: {e}")))
                }
                Err(e) => Err(e),
            },
            "getTransaction" => self.transaction(params),
            "requestAirdrop" => self.airdrop(params).await,
            "getFeeForMessage" => self.fee_for_message(params).await,
            _ => return None,
        })
    }

    async fn send_transaction(&mut self, params: &Value) -> Result<Value, RpcError> {
        let config: RpcSendTransactionConfig = config(params, 1)?;
        let tx = decode_transaction(param(params, 0)?, config.encoding)?;
        let signature = tx
            .signatures
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        if !config.skip_preflight {
            verify(&tx)?;
        }
        let simulated = self.chain.simulate(&tx).await.map_err(internal)?;
        if !config.skip_preflight {
            if let Some(err) = &simulated.err {
                let data = simulation_value(&simulated, None, None, false);
                return Err(RpcError(
                    PREFLIGHT_FAILURE,
                    format!("Transaction simulation failed: {err}"),
                    data,
                ));
            }
        }
        // Sent without preflight over a blockhash the bank no longer knows: a
        // validator takes it and no leader ever runs it; its sender sees
        // the blockhash expire and signs again.
        if simulated.err == Some(TransactionError::BlockhashNotFound) {
            return Ok(json!(signature));
        }
        self.accepted += 1;
        if self.drop_every > 0 && self.accepted.is_multiple_of(self.drop_every) {
            // Fault injection: a cluster that loses the transaction after
            // accepting it. The sender gets its signature and nothing more.
            return Ok(json!(signature));
        }
        let refused = self
            .chain
            .commit(tx, simulated)
            .await
            .map_err(internal)?
            .err();
        // A duplicate of a recorded transaction keeps its recorded status.
        if let Some(err) = refused.filter(|_| self.chain.recorded(&signature).is_none()) {
            let slot = self.slot();
            self.refused_event(&signature, slot, &err);
            self.refused.insert(signature.clone(), (slot, err));
        }
        Ok(json!(signature))
    }

    async fn simulate_transaction(&mut self, params: &Value) -> Result<Value, RpcError> {
        let config: RpcSimulateTransactionConfig = config(params, 1)?;
        let mut tx = decode_transaction(param(params, 0)?, config.encoding)?;
        if config.sig_verify && config.replace_recent_blockhash {
            return Err(bad_params(
                "sigVerify may not be used with replaceRecentBlockhash",
            ));
        }
        if config.sig_verify {
            verify(&tx)?;
        }
        let replacement = match config.replace_recent_blockhash {
            true => {
                let (hash, last_valid) = self.fresh_blockhash().await?;
                let parsed = hash.parse().map_err(internal)?;
                match &mut tx.message {
                    VersionedMessage::Legacy(m) => m.recent_blockhash = parsed,
                    VersionedMessage::V0(m) => m.recent_blockhash = parsed,
                }
                Some(json!({"blockhash": hash, "lastValidBlockHeight": last_valid}))
            }
            false => None,
        };
        let simulated = self.chain.simulate(&tx).await.map_err(internal)?;
        let accounts = match &config.accounts {
            None => None,
            Some(wanted) => {
                // The bank's simulation does not hand out the accounts it
                // wrote: these are the accounts as they are before it.
                let mut out = Vec::with_capacity(wanted.addresses.len());
                for address in &wanted.addresses {
                    let key = pubkey(&json!(address))?;
                    out.push(match self.account(&key).await? {
                        None => Value::Null,
                        Some(a) => self.encode(&key, &a, wanted.encoding, None).await?,
                    });
                }
                Some(Value::Array(out))
            }
        };
        let value = simulation_value(&simulated, accounts, replacement, config.inner_instructions);
        Ok(self.context(value))
    }

    /// A signature's status as `getSignatureStatuses` gives it.
    fn status(&self, signature: &str) -> Option<Value> {
        let (slot, err) = match self.chain.recorded(signature) {
            Some(recorded) => (recorded.slot, recorded.err.clone()),
            None => self
                .refused
                .get(signature)
                .map(|(slot, err)| (*slot, Some(err.clone())))?,
        };
        let err = err.map(UiTransactionError::from);
        Some(json!({
            "slot": slot,
            // null: rooted, as a validator says of a finalized transaction.
            "confirmations": null,
            "err": err,
            "status": match &err { None => json!({"Ok": null}), Some(e) => json!({"Err": e}) },
            "confirmationStatus": "finalized",
        }))
    }

    fn signature_statuses(&self, params: &Value) -> Result<Value, RpcError> {
        let signatures = param(params, 0)?
            .as_array()
            .ok_or_else(|| bad_params("expected an array of signatures"))?;
        if signatures.len() > 256 {
            return Err(bad_params("Too many inputs provided; max 256"));
        }
        let statuses: Vec<Value> = signatures
            .iter()
            .map(|s| {
                s.as_str()
                    .and_then(|s| self.status(s))
                    .unwrap_or(Value::Null)
            })
            .collect();
        Ok(self.context(Value::Array(statuses)))
    }

    fn transaction(&self, params: &Value) -> Result<Value, RpcError> {
        let signature = param(params, 0)?
            .as_str()
            .ok_or_else(|| bad_params("expected a signature"))?;
        let config = confirmed::transaction_config(params)?;
        match self.chain.recorded(signature) {
            None => Ok(Value::Null),
            Some(recorded) => {
                confirmed::transaction_json(recorded, self.chain.extras(signature), &config)
            }
        }
    }

    async fn airdrop(&mut self, params: &Value) -> Result<Value, RpcError> {
        let to = pubkey(param(params, 0)?)?;
        let lamports = param(params, 1)?
            .as_u64()
            .ok_or_else(|| bad_params("expected lamports"))?;
        self.next_slot().await;
        let signature = self.chain.airdrop(&to, lamports).await.map_err(|e| {
            RpcError(
                super::INTERNAL,
                format!("airdrop request failed: {e}"),
                Value::Null,
            )
        })?;
        Ok(json!(signature))
    }

    async fn fee_for_message(&self, params: &Value) -> Result<Value, RpcError> {
        let text = param(params, 0)?
            .as_str()
            .ok_or_else(|| bad_params("expected a base64 message"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| bad_params(format!("invalid base64: {e}")))?;
        let message: VersionedMessage = bincode::deserialize(&bytes)
            .map_err(|e| bad_params(format!("invalid message: {e}")))?;
        let fee = self.chain.fee(&message).await;
        Ok(self.context(json!(fee)))
    }
}

/// Decode a wire transaction (base58 unless told otherwise, as validators default).
fn decode_transaction(
    encoded: &Value,
    encoding: Option<UiTransactionEncoding>,
) -> Result<VersionedTransaction, RpcError> {
    let text = encoded
        .as_str()
        .ok_or_else(|| bad_params("expected an encoded transaction"))?;
    let encoding = encoding
        .unwrap_or(UiTransactionEncoding::Base58)
        .into_binary_encoding()
        .ok_or_else(|| bad_params("unsupported encoding: base58 or base64"))?;
    let bytes = match encoding {
        TransactionBinaryEncoding::Base58 => bs58::decode(text)
            .into_vec()
            .map_err(|e| bad_params(format!("invalid base58 encoding: {e}")))?,
        TransactionBinaryEncoding::Base64 => base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| bad_params(format!("invalid base64 encoding: {e}")))?,
    };
    if bytes.len() > PACKET_DATA_SIZE {
        return Err(bad_params(format!(
            "encoded transaction too large: {} bytes (max: {PACKET_DATA_SIZE} bytes)",
            bytes.len()
        )));
    }
    let tx: VersionedTransaction = bincode::deserialize(&bytes)
        .map_err(|e| bad_params(format!("failed to deserialize transaction: {e}")))?;
    tx.sanitize()
        .map_err(|e| bad_params(format!("invalid transaction: {e}")))?;
    Ok(tx)
}

/// Every signature checks against its signer (the check preflight makes).
fn verify(tx: &VersionedTransaction) -> Result<(), RpcError> {
    if tx.verify_with_results().iter().all(|ok| *ok) {
        Ok(())
    } else {
        Err(RpcError(
            SIGNATURE_VERIFICATION,
            "Transaction signature verification failure".into(),
            Value::Null,
        ))
    }
}

/// A simulation as `simulateTransaction` (and a preflight failure's data) gives it.
fn simulation_value(
    simulated: &Simulated,
    accounts: Option<Value>,
    replacement: Option<Value>,
    inner_instructions: bool,
) -> Value {
    let inner = inner_instructions.then(|| {
        simulated
            .inner_instructions
            .iter()
            .map(|(index, list)| {
                let instructions: Vec<Value> = list
                    .iter()
                    .map(|i| {
                        json!({
                            "programIdIndex": i.program_id_index,
                            "accounts": i.accounts,
                            "data": bs58::encode(&i.data).into_string(),
                            "stackHeight": i.stack_height,
                        })
                    })
                    .collect();
                json!({"index": index, "instructions": instructions})
            })
            .collect::<Vec<_>>()
    });
    json!({
        "err": simulated.err.clone().map(UiTransactionError::from),
        "logs": simulated.logs,
        "accounts": accounts,
        "unitsConsumed": simulated.units_consumed,
        "returnData": simulated.return_data.as_ref().map(ui_return_data),
        "innerInstructions": inner,
        "replacementBlockhash": replacement,
        "loadedAccountsDataSize": null,
    })
}
