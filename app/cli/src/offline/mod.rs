//! Co-signing oracles on other machines, as the Solana CLI signs offline:
//! `oracle submit --sign-only` writes the transactions a reports file makes
//! (each message, its blockhash and the signers it needs) to a messages
//! file; each co-signing oracle runs `oracle sign` on it with its own key;
//! `oracle submit --messages FILE --signatures ...` merges the signatures and
//! sends the transactions as they were signed.
//!
//! Nothing is sent unless every transaction carries every signature it
//! needs, and every signature given verifies over one of them: a signature
//! over other content is refused here, by name, before anything is sent. The
//! program refuses a signer that is not one of the network's oracles.

pub mod admin;
mod decode;
mod send;

pub use admin::{render_kept, sign_message};
pub use send::{send_signed_all, sign_only, SendSigned, SignOnly};

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::{Message, Signature, Transaction};
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

/// The `format` of a messages file.
pub const MESSAGES_FORMAT: &str = "upline-oracle-messages/1";
/// The `format` of a signatures file.
pub const SIGNATURES_FORMAT: &str = "upline-oracle-signatures/1";

/// A report a transaction carries: its line in the reports file, its member
/// account and id (to tell a report recorded meanwhile from a refused one).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ReportRef {
    pub line: usize,
    pub member: String,
    pub id: u64,
}

/// One transaction to sign.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct UnsignedTx {
    /// The reports it carries, in instruction order.
    pub reports: Vec<ReportRef>,
    /// The legacy message, base64: exactly the bytes each signer signs.
    pub message: String,
    /// The message's recent blockhash.
    pub blockhash: String,
    /// Every key that must sign it: the fee payer (the submitting oracle) first.
    pub signers: Vec<String>,
    /// Signatures made when the file was written (keys at hand then), by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub signatures: BTreeMap<String, String>,
}

/// What `oracle submit --sign-only` writes.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct MessagesFile {
    pub format: String,
    pub network: String,
    /// The reports file, as named, and the SHA-256 of its contents.
    pub file: String,
    pub file_sha256: String,
    /// The submitting oracle: fee payer and first approver.
    pub submitter: String,
    pub co_signers: Vec<String>,
    pub blockhash: String,
    /// Reports in the file, those already recorded and those refused before
    /// anything was signed (line, reason).
    pub total: usize,
    pub already: usize,
    pub rejected: Vec<(usize, String)>,
    pub transactions: Vec<UnsignedTx>,
}

/// One signature of a transaction, as `oracle sign` writes it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SignedTx {
    /// The transaction's position in the messages file, from 1.
    pub transaction: usize,
    pub signature: String,
}

/// What `oracle sign` writes: one key's signatures.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct SignaturesFile {
    pub format: String,
    pub signer: String,
    pub blockhash: String,
    pub signatures: Vec<SignedTx>,
}

/// A signature given to the merge: its key, and where it came from (for messages).
#[derive(Debug, Clone)]
pub struct GivenSignature {
    pub key: Pubkey,
    pub signature: Signature,
    pub origin: String,
}

/// The SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn key(text: &str, what: &str) -> Result<Pubkey, String> {
    Pubkey::from_str(text.trim()).map_err(|_| format!("{what} {text:?}: not a base-58 address"))
}

fn signature(text: &str, what: &str) -> Result<Signature, String> {
    Signature::from_str(text.trim())
        .map_err(|_| format!("{what} {text:?}: not a base-58 signature"))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path, format: &str) -> Result<T, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{shown}: not JSON: {e}"))?;
    if value["format"] != format {
        return Err(format!(
            "{shown}: not a {format} file (its format is {})",
            value["format"]
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("{shown}: {e}"))
}

impl MessagesFile {
    /// Read a messages file.
    pub fn load(path: &Path) -> Result<MessagesFile, String> {
        read_json(path, MESSAGES_FORMAT)
    }

    /// The reports the transactions carry.
    pub fn reports(&self) -> usize {
        self.transactions.iter().map(|t| t.reports.len()).sum()
    }

    /// Each transaction's message and the bytes signed, checked: it decodes,
    /// its blockhash and signers are those listed, and it calls the Upline
    /// program only (so a signer signs reports and nothing else).
    pub fn messages(&self) -> Result<Vec<(Message, Vec<u8>)>, String> {
        let mut out = Vec::with_capacity(self.transactions.len());
        for (i, tx) in self.transactions.iter().enumerate() {
            let n = i + 1;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&tx.message)
                .map_err(|e| format!("transaction {n}: message is not base64: {e}"))?;
            let message: Message = bincode::deserialize(&bytes)
                .map_err(|e| format!("transaction {n}: not a transaction message: {e}"))?;
            if message.recent_blockhash.to_string() != tx.blockhash {
                return Err(format!(
                    "transaction {n}: its message's blockhash is {}, not {}",
                    message.recent_blockhash, tx.blockhash
                ));
            }
            let signers: Vec<String> = message
                .signer_keys()
                .iter()
                .map(|k| k.to_string())
                .collect();
            if signers != tx.signers {
                return Err(format!(
                    "transaction {n}: its message needs the signatures of {}, not of {}",
                    signers.join(", "),
                    tx.signers.join(", ")
                ));
            }
            let network = key(&self.network, "network")?;
            for (index, ix) in message.instructions.iter().enumerate() {
                let program = message.account_keys.get(usize::from(ix.program_id_index));
                if program != Some(&upline::ID) {
                    return Err(format!(
                        "transaction {n}: it calls program {}, not Upline ({}): not signed",
                        program.map_or_else(|| "?".into(), |p| p.to_string()),
                        upline::ID
                    ));
                }
                decode::report(&message, index, &network)
                    .map_err(|e| format!("transaction {n}: {e}: not signed"))?;
            }
            out.push((message, bytes));
        }
        Ok(out)
    }

    /// What signing this file approves: each report, decoded from the
    /// messages (which [`MessagesFile::messages`] checked).
    pub fn describe(&self) -> String {
        let network = key(&self.network, "network").unwrap_or_default();
        let mut out = format!(
            "{} reports of {} (sha256 {}) for network {}, in {} transactions over blockhash {}\n  submitted by {}; co-signers {}\n",
            self.reports(),
            self.file,
            self.file_sha256,
            self.network,
            self.transactions.len(),
            self.blockhash,
            self.submitter,
            if self.co_signers.is_empty() {
                "none".to_string()
            } else {
                self.co_signers.join(", ")
            }
        );
        let messages = self.messages().unwrap_or_default();
        for (i, (tx, (message, _))) in self.transactions.iter().zip(&messages).enumerate() {
            out += &format!("  transaction {}:\n", i + 1);
            for (j, r) in tx.reports.iter().enumerate() {
                let text = decode::report(message, j, &network).unwrap_or_else(|e| e);
                out += &format!("    line {}: {text}\n", r.line);
            }
        }
        out
    }
}

/// Sign every transaction of `messages` that needs `keypair`'s signature.
pub fn sign(messages: &MessagesFile, keypair: &Keypair) -> Result<SignaturesFile, String> {
    let me = keypair.pubkey().to_string();
    let decoded = messages.messages()?;
    let mut signatures = Vec::new();
    for (i, (tx, (_, bytes))) in messages.transactions.iter().zip(&decoded).enumerate() {
        if tx.signers.contains(&me) {
            signatures.push(SignedTx {
                transaction: i + 1,
                signature: keypair.sign_message(bytes).to_string(),
            });
        }
    }
    if signatures.is_empty() {
        let mut needed: Vec<&String> = messages
            .transactions
            .iter()
            .flat_map(|t| &t.signers)
            .collect();
        needed.sort();
        needed.dedup();
        return Err(format!(
            "{me} is not a signer of these transactions (they need {})",
            needed
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(SignaturesFile {
        format: SIGNATURES_FORMAT.into(),
        signer: me,
        blockhash: messages.blockhash.clone(),
        signatures,
    })
}

/// `PUBKEY=SIGNATURE`, as `--signer` takes it.
pub fn parse_signer(text: &str) -> Result<GivenSignature, String> {
    let (k, s) = text
        .split_once('=')
        .ok_or_else(|| format!("--signer {text:?}: expected PUBKEY=SIGNATURE"))?;
    Ok(GivenSignature {
        key: key(k, "--signer")?,
        signature: signature(s, "--signer")?,
        origin: format!("--signer {k}=..."),
    })
}

/// The signatures of a file `oracle sign` wrote.
pub fn load_signatures(path: &Path) -> Result<Vec<GivenSignature>, String> {
    let file: SignaturesFile = read_json(path, SIGNATURES_FORMAT)?;
    given(&file, &path.display().to_string())
}

/// The signatures of `file`, read from `origin`.
pub fn given(file: &SignaturesFile, origin: &str) -> Result<Vec<GivenSignature>, String> {
    let signer = key(&file.signer, &format!("{origin}: signer"))?;
    file.signatures
        .iter()
        .map(|s| {
            Ok(GivenSignature {
                key: signer,
                signature: signature(&s.signature, origin)?,
                origin: origin.to_string(),
            })
        })
        .collect()
}

/// The transactions of `messages`, signed: by the signatures made when the
/// file was written, by `local` keys that are signers, and by `given`
/// signatures, each placed on the transaction it verifies over. Refused
/// before anything is sent: a signature by a key no transaction needs, one
/// that verifies over none of them, a transaction missing a signature.
pub fn assemble(
    messages: &MessagesFile,
    local: &[&Keypair],
    given: &[GivenSignature],
) -> Result<Vec<Transaction>, String> {
    let decoded = messages.messages()?;
    let mut txs: Vec<Transaction> = decoded
        .iter()
        .map(|(message, _)| Transaction::new_unsigned(message.clone()))
        .collect();
    let position =
        |tx: &Transaction, key: &Pubkey| tx.message.signer_keys().iter().position(|k| *k == key);
    let mut stored = Vec::new();
    for (i, t) in messages.transactions.iter().enumerate() {
        for (k, s) in &t.signatures {
            stored.push((
                i,
                GivenSignature {
                    key: key(k, "stored signature")?,
                    signature: signature(s, "stored signature")?,
                    origin: format!("the messages file (transaction {})", i + 1),
                },
            ));
        }
    }
    for (i, g) in &stored {
        let (tx, (_, bytes)) = (&mut txs[*i], &decoded[*i]);
        let at = position(tx, &g.key).filter(|_| g.signature.verify(g.key.as_ref(), bytes));
        let at =
            at.ok_or_else(|| format!("{}: the signature by {} does not verify", g.origin, g.key))?;
        tx.signatures[at] = g.signature;
    }
    for key in local {
        for (tx, (_, bytes)) in txs.iter_mut().zip(&decoded) {
            if let Some(at) = position(tx, &key.pubkey()) {
                tx.signatures[at] = key.sign_message(bytes);
            }
        }
    }
    for g in given {
        let mut needed = false;
        let mut placed = false;
        for (tx, (_, bytes)) in txs.iter_mut().zip(&decoded) {
            if let Some(at) = position(tx, &g.key) {
                needed = true;
                if g.signature.verify(g.key.as_ref(), bytes) {
                    tx.signatures[at] = g.signature;
                    placed = true;
                }
            }
        }
        if !needed {
            return Err(format!(
                "{}: {} is not a signer of these transactions (they need {})",
                g.origin,
                g.key,
                messages
                    .transactions
                    .first()
                    .map_or_else(String::new, |t| t.signers.join(", "))
            ));
        }
        if !placed {
            return Err(format!(
                "{}: the signature by {} verifies over none of the {} transactions: it signs other content (another messages file, or this one changed since)",
                g.origin,
                g.key,
                txs.len()
            ));
        }
    }
    for (i, tx) in txs.iter().enumerate() {
        let keys = tx.message.signer_keys();
        if let Some(at) = tx
            .signatures
            .iter()
            .position(|s| *s == Signature::default())
        {
            return Err(format!(
                "transaction {} lacks the signature of {}: sign with `upline oracle sign MESSAGES --keypair <its keypair>` and pass the output with --signatures",
                i + 1,
                keys[at]
            ));
        }
    }
    Ok(txs)
}

#[cfg(test)]
mod tests;
