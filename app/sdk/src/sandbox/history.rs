//! The two history methods of the sandbox endpoint, answered from the chain's
//! journal in the shapes validators use: `getSignaturesForAddress` (newest
//! first, paged with `before`, `until` and `limit`) and `getTransaction`.

use super::journal::Recorded;
use anchor_lang::prelude::Pubkey;
use base64::Engine;
use serde_json::{json, Value};

/// Most signatures one `getSignaturesForAddress` call returns, as on validators.
const MAX_SIGNATURES: usize = 1_000;

/// `getSignaturesForAddress`: the journal's transactions that mention
/// `address`, newest first, strictly before `before` and strictly after `until`.
pub fn signatures_for_address(
    journal: &[Recorded],
    address: &Pubkey,
    config: &Value,
) -> Result<Value, String> {
    let text = |field: &str| -> Result<Option<String>, String> {
        match config.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("{field}: expected a signature, got {other}")),
        }
    };
    let before = text("before")?;
    let until = text("until")?;
    let limit = match config.get("limit") {
        None | Some(Value::Null) => MAX_SIGNATURES,
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| (1..=MAX_SIGNATURES).contains(n))
            .ok_or_else(|| format!("limit: expected 1 to {MAX_SIGNATURES}, got {v}"))?,
    };
    let newest_first = journal.iter().rev();
    let mut started = before.is_none();
    let mut out = Vec::new();
    for recorded in newest_first {
        if !started {
            started = Some(&recorded.signature) == before.as_ref();
            continue;
        }
        if Some(&recorded.signature) == until.as_ref() || out.len() == limit {
            break;
        }
        if recorded.mentions(address) {
            out.push(json!({
                "signature": recorded.signature,
                "slot": recorded.slot,
                "err": recorded.err,
                "memo": null,
                "blockTime": recorded.block_time,
                "confirmationStatus": "finalized",
            }));
        }
    }
    Ok(Value::Array(out))
}

/// `getTransaction` with `base64` encoding (the only one the sandbox speaks).
/// Balances before and after are not tracked and come back empty.
pub fn transaction_json(recorded: &Recorded, config: &Value) -> Result<Value, String> {
    let encoding = config
        .get("encoding")
        .and_then(Value::as_str)
        .unwrap_or("json");
    if encoding != "base64" {
        return Err(format!(
            "encoding {encoding:?}: the sandbox returns transactions as \"base64\""
        ));
    }
    let versioned =
        recorded.transaction.version() != solana_transaction::versioned::TransactionVersion::LEGACY;
    let supported = config
        .get("maxSupportedTransactionVersion")
        .and_then(Value::as_u64);
    if versioned && supported.is_none() {
        return Err("Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: \"maxSupportedTransactionVersion\": 0".into());
    }
    let bytes = bincode::serialize(&recorded.transaction).map_err(|e| e.to_string())?;
    let inner: Vec<Value> = recorded
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
        .collect();
    let err = &recorded.err;
    let fee = 5_000 * recorded.transaction.signatures.len() as u64;
    Ok(json!({
        "slot": recorded.slot,
        "blockTime": recorded.block_time,
        "transaction": [base64::engine::general_purpose::STANDARD.encode(bytes), "base64"],
        "meta": {
            "err": err,
            "status": match err { None => json!({"Ok": null}), Some(e) => json!({"Err": e}) },
            "fee": fee,
            "preBalances": [],
            "postBalances": [],
            "innerInstructions": inner,
            "logMessages": recorded.logs,
            "preTokenBalances": [],
            "postTokenBalances": [],
            "rewards": [],
            "loadedAddresses": {"writable": [], "readonly": []},
            "computeUnitsConsumed": recorded.units_consumed,
        },
        "version": if versioned { json!(0) } else { json!("legacy") },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::solana_program::instruction::Instruction;
    use solana_transaction::Transaction;

    /// A journal of `n` transactions, every other one naming `key`.
    fn journal(key: Pubkey, n: usize) -> Vec<Recorded> {
        (0..n)
            .map(|i| {
                let named = if i % 2 == 0 {
                    key
                } else {
                    Pubkey::new_unique()
                };
                let ix = Instruction::new_with_bytes(named, &[], vec![]);
                Recorded {
                    signature: format!("sig{i}"),
                    slot: i as u64,
                    block_time: 1_000 + i as i64,
                    transaction: Transaction::new_with_payer(&[ix], None).into(),
                    err: None,
                    logs: vec![],
                    inner_instructions: vec![],
                    units_consumed: 0,
                }
            })
            .collect()
    }

    fn signatures(journal: &[Recorded], key: &Pubkey, config: Value) -> Vec<String> {
        signatures_for_address(journal, key, &config)
            .expect("answers")
            .as_array()
            .expect("an array")
            .iter()
            .map(|s| s["signature"].as_str().expect("signature").to_string())
            .collect()
    }

    #[test]
    fn signatures_come_newest_first_and_page_with_before_until_and_limit() {
        let key = Pubkey::new_unique();
        let journal = journal(key, 10);
        assert_eq!(
            signatures(&journal, &key, Value::Null),
            ["sig8", "sig6", "sig4", "sig2", "sig0"]
        );
        assert_eq!(
            signatures(&journal, &key, json!({"limit": 2})),
            ["sig8", "sig6"]
        );
        assert_eq!(
            signatures(&journal, &key, json!({"before": "sig6", "limit": 2})),
            ["sig4", "sig2"]
        );
        assert_eq!(
            signatures(&journal, &key, json!({"until": "sig4"})),
            ["sig8", "sig6"]
        );
        assert!(signatures_for_address(&journal, &key, &json!({"limit": 0})).is_err());
        assert!(signatures_for_address(&journal, &key, &json!({"before": 7})).is_err());
    }

    #[test]
    fn transactions_come_as_base64_with_their_status() {
        let key = Pubkey::new_unique();
        let journal = journal(key, 1);
        let tx = transaction_json(&journal[0], &json!({"encoding": "base64"})).expect("answers");
        assert_eq!(
            (tx["slot"].clone(), tx["blockTime"].clone()),
            (json!(0), json!(1_000))
        );
        assert_eq!(tx["meta"]["status"], json!({"Ok": null}));
        assert_eq!(tx["version"], "legacy");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(tx["transaction"][0].as_str().expect("base64"))
            .expect("decodes");
        let back: solana_transaction::versioned::VersionedTransaction =
            bincode::deserialize(&bytes).expect("a transaction");
        assert_eq!(back, journal[0].transaction);
        assert!(transaction_json(&journal[0], &json!({"encoding": "json"})).is_err());
    }
}
