//! `getSignaturesForAddress`, answered from the chain's journal as
//! validators answer it: newest first, paged with `before`, `until` and
//! `limit`; a transaction mentions the accounts it names and those it loads
//! through lookup tables.

use super::journal::Recorded;
use super::ledger::Extras;
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};

/// Most signatures one `getSignaturesForAddress` call returns, as on validators.
const MAX_SIGNATURES: usize = 1_000;

/// `getSignaturesForAddress`: the journal's transactions that mention
/// `address`, newest first, strictly before `before` and strictly after `until`.
pub fn signatures_for_address<'a>(
    journal: &'a [Recorded],
    extras: impl Fn(&str) -> Option<&'a Extras>,
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
        let loaded = || {
            extras(&recorded.signature).is_some_and(|e| {
                e.loaded.writable.contains(address) || e.loaded.readonly.contains(address)
            })
        };
        if recorded.mentions(address) || loaded() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::confirmed::transaction_json;
    use anchor_lang::solana_program::instruction::Instruction;
    use base64::Engine;
    use solana_rpc_client_api::config::RpcTransactionConfig;
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
        signatures_for_address(journal, |_| None, key, &config)
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
        assert!(signatures_for_address(&journal, |_| None, &key, &json!({"limit": 0})).is_err());
        assert!(signatures_for_address(&journal, |_| None, &key, &json!({"before": 7})).is_err());
    }

    #[test]
    fn transactions_come_in_the_requested_encoding_with_their_status() {
        let key = Pubkey::new_unique();
        let journal = journal(key, 1);
        let config =
            |v: Value| serde_json::from_value::<RpcTransactionConfig>(v).expect("a config");
        let tx = transaction_json(&journal[0], None, &config(json!({"encoding": "base64"})))
            .expect("answers");
        assert_eq!(
            (tx["slot"].clone(), tx["blockTime"].clone()),
            (json!(0), json!(1_000))
        );
        assert_eq!(tx["meta"]["status"], json!({"Ok": null}));
        assert_eq!(
            tx.get("version"),
            None,
            "no version without maxSupportedTransactionVersion"
        );
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(tx["transaction"][0].as_str().expect("base64"))
            .expect("decodes");
        let back: solana_transaction::versioned::VersionedTransaction =
            bincode::deserialize(&bytes).expect("a transaction");
        assert_eq!(back, journal[0].transaction);
        let tx = transaction_json(
            &journal[0],
            None,
            &config(json!({"encoding": "json", "maxSupportedTransactionVersion": 0})),
        )
        .expect("answers");
        assert_eq!(tx["version"], "legacy");
        assert_eq!(
            tx["transaction"]["message"]["accountKeys"][0],
            journal[0].transaction.message.static_account_keys()[0].to_string()
        );
    }
}
