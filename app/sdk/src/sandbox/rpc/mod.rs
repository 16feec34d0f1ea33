//! The sandbox's JSON-RPC methods, answered as a validator answers them. The
//! bank is one state behind one lock: calls serialize on it, connections do
//! not. Methods are split by subject: accounts and tokens
//! ([`accounts`]), transactions and their history ([`transactions`]); the
//! node's own facts are here. [`pubsub`] serves the WebSocket subscriptions.

pub mod accounts;
pub mod pubsub;
pub mod transactions;

use super::Chain;
use anchor_lang::prelude::Pubkey;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use solana_transaction::TransactionError;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use tokio::sync::{broadcast, Mutex};

/// The version the sandbox reports: the bank's (solana-program-test's) own.
pub const VERSION: &str = "3.1.12";

/// JSON-RPC error codes, as validators use them.
pub const INVALID_PARAMS: i64 = -32602;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const INTERNAL: i64 = -32603;
pub const PREFLIGHT_FAILURE: i64 = -32002;
pub const SIGNATURE_VERIFICATION: i64 = -32003;
pub const UNSUPPORTED_VERSION: i64 = -32015;
pub const BLOCK_NOT_AVAILABLE: i64 = -32004;

/// Blocks a blockhash stays valid for, as on every cluster.
pub const BLOCKHASH_BLOCKS: u64 = 150;

/// A JSON-RPC error: code, message and optional data.
#[derive(Debug)]
pub struct RpcError(pub i64, pub String, pub Value);

pub fn bad_params(message: impl Into<String>) -> RpcError {
    RpcError(INVALID_PARAMS, message.into(), Value::Null)
}

pub fn internal(e: impl std::fmt::Display) -> RpcError {
    RpcError(INTERNAL, format!("sandbox: {e}"), Value::Null)
}

/// What the sandbox tells subscribers after each call that changed something.
#[derive(Clone, Debug)]
pub enum Event {
    Slot {
        slot: u64,
    },
    /// A transaction was recorded (or refused before it ran: `logs` empty).
    Transaction {
        slot: u64,
        signature: String,
        err: Option<TransactionError>,
        logs: Vec<String>,
        keys: Vec<Pubkey>,
    },
    /// An account a transaction wrote, as it is now.
    Account {
        slot: u64,
        pubkey: Pubkey,
        account: solana_account::Account,
    },
}

/// The state behind the lock: the bank and what the endpoint remembers.
pub struct Sandbox {
    pub chain: Chain,
    /// Transactions the bank refused before running them (sent without
    /// preflight): not on the ledger, but their senders learn why.
    pub refused: HashMap<String, (u64, TransactionError)>,
    /// Blockhashes handed out, with the last block height they are valid at.
    pub blockhashes: HashMap<String, u64>,
    /// Transactions `sendTransaction` accepted (the fault injection counts them).
    pub accepted: u64,
    /// Every Nth accepted transaction is lost (0: none).
    pub drop_every: u64,
    /// Whether anyone subscribes (account notifications cost bank reads).
    pub watched: bool,
    /// Events of the call being answered, published when it ends.
    pub outbox: Vec<Event>,
}

/// The endpoint's shared state.
pub struct Shared {
    pub bank: Mutex<Sandbox>,
    pub events: broadcast::Sender<Arc<Event>>,
    pub next_subscription: AtomicU64,
}

impl Shared {
    pub fn new(mut chain: Chain, drop_every: u64) -> Arc<Shared> {
        chain.detailed = true;
        let (events, _) = broadcast::channel(4096);
        Arc::new(Shared {
            bank: Mutex::new(Sandbox {
                chain,
                refused: HashMap::new(),
                blockhashes: HashMap::new(),
                accepted: 0,
                drop_every,
                watched: false,
                outbox: Vec::new(),
            }),
            events,
            next_subscription: AtomicU64::new(1),
        })
    }

    /// One JSON-RPC call (an object), answered.
    pub async fn call(&self, call: &Value) -> Value {
        let id = call.get("id").cloned().unwrap_or(Value::Null);
        let Some(method) = call.get("method").and_then(Value::as_str) else {
            return error_reply(
                id,
                RpcError(INVALID_REQUEST, "Invalid request".into(), Value::Null),
            );
        };
        let params = call.get("params").cloned().unwrap_or(Value::Array(vec![]));
        let mut sandbox = self.bank.lock().await;
        sandbox.watched = self.events.receiver_count() > 0;
        let slot_before = sandbox.chain.slot;
        let journal_before = sandbox.chain.journal.len();
        let answer = sandbox.dispatch(method, &params).await;
        sandbox.journal_events(journal_before).await;
        if sandbox.chain.slot != slot_before {
            let slot = sandbox.chain.slot;
            sandbox.outbox.insert(0, Event::Slot { slot });
        }
        for event in sandbox.outbox.drain(..) {
            // No receiver is not an error: nobody subscribes.
            let _ = self.events.send(Arc::new(event));
        }
        drop(sandbox);
        match answer {
            Ok(result) => json!({"jsonrpc": "2.0", "result": result, "id": id}),
            Err(e) => error_reply(id, e),
        }
    }
}

impl Sandbox {
    async fn dispatch(&mut self, method: &str, params: &Value) -> Result<Value, RpcError> {
        if let Some(answer) = self.node(method, params).await {
            return answer;
        }
        if let Some(answer) = self.accounts(method, params).await {
            return answer;
        }
        if let Some(answer) = self.transactions(method, params).await {
            return answer;
        }
        Err(RpcError(
            METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
            Value::Null,
        ))
    }

    /// The slot the sandbox works in: where transactions land, and the
    /// context of every answer (the sandbox finalizes at once).
    pub fn slot(&self) -> u64 {
        self.chain.slot
    }

    pub fn context(&self, value: Value) -> Value {
        json!({"context": {"apiVersion": VERSION, "slot": self.slot()}, "value": value})
    }

    pub async fn block_height(&self) -> Result<u64, RpcError> {
        self.chain
            .ctx
            .banks_client
            .get_root_block_height()
            .await
            .map_err(internal)
    }

    /// Move to a new slot at the wall-clock time (never backwards). The bank
    /// registers a blockhash every slot's worth of idle time without raising
    /// the block height, so an idle sandbox's last blockhash goes stale; every
    /// blockhash handed out comes from a fresh slot instead.
    pub async fn next_slot(&mut self) {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let now = self.chain.now.max(wall);
        self.chain.warp_to(now).await;
    }

    /// A fresh blockhash and the last block height it is valid at.
    pub async fn fresh_blockhash(&mut self) -> Result<(String, u64), RpcError> {
        self.next_slot().await;
        let hash = self.chain.ctx.last_blockhash.to_string();
        let last_valid = self.block_height().await? + BLOCKHASH_BLOCKS;
        self.blockhashes.insert(hash.clone(), last_valid);
        Ok((hash, last_valid))
    }

    async fn node(&mut self, method: &str, params: &Value) -> Option<Result<Value, RpcError>> {
        Some(match method {
            "getVersion" => Ok(json!({"solana-core": VERSION, "feature-set": 0})),
            "getHealth" => Ok(json!("ok")),
            "getIdentity" => Ok(json!({"identity": self.chain.ctx.payer.pubkey().to_string()})),
            "getGenesisHash" => Ok(json!(self.chain.ctx.genesis_config().hash().to_string())),
            "getSlot" => Ok(json!(self.slot())),
            "getBlockHeight" => self.block_height().await.map(|h| json!(h)),
            "getEpochInfo" => self.epoch_info().await,
            "getLatestBlockhash" => match self.fresh_blockhash().await {
                Ok((hash, last)) => {
                    Ok(self.context(json!({"blockhash": hash, "lastValidBlockHeight": last})))
                }
                Err(e) => Err(e),
            },
            "isBlockhashValid" => self.blockhash_valid(params).await,
            "getMinimumBalanceForRentExemption" => self.rent(params).await,
            "getTransactionCount" => Ok(json!(self.chain.journal.len())),
            "getFirstAvailableBlock" => Ok(json!(0)),
            "getSlotLeader" => Ok(json!(self.chain.ctx.payer.pubkey().to_string())),
            "getBlockTime" => self.block_time(params),
            "getRecentPrioritizationFees" => {
                // Nothing competes for block space in the sandbox.
                Ok(json!([{"slot": self.slot(), "prioritizationFee": 0}]))
            }
            _ => return None,
        })
    }

    async fn epoch_info(&self) -> Result<Value, RpcError> {
        let schedule: anchor_lang::prelude::EpochSchedule = self
            .chain
            .ctx
            .banks_client
            .get_sysvar()
            .await
            .map_err(internal)?;
        let slot = self.slot();
        let (epoch, slot_index) = schedule.get_epoch_and_slot_index(slot);
        Ok(json!({
            "absoluteSlot": slot,
            "blockHeight": self.block_height().await?,
            "epoch": epoch,
            "slotIndex": slot_index,
            "slotsInEpoch": schedule.get_slots_in_epoch(epoch),
            "transactionCount": self.chain.journal.len(),
        }))
    }

    /// A slot's time: that of the transactions recorded in it, or the clock's
    /// for the current slot (the sandbox keeps no other blocks).
    fn block_time(&self, params: &Value) -> Result<Value, RpcError> {
        let slot = param(params, 0)?
            .as_u64()
            .ok_or_else(|| bad_params("expected a slot"))?;
        let recorded = self.chain.journal.iter().find(|r| r.slot == slot);
        match recorded {
            Some(r) => Ok(json!(r.block_time)),
            None if slot == self.slot() => Ok(json!(self.chain.now)),
            None => Err(RpcError(
                BLOCK_NOT_AVAILABLE,
                format!("Block not available for slot {slot}"),
                Value::Null,
            )),
        }
    }

    async fn blockhash_valid(&self, params: &Value) -> Result<Value, RpcError> {
        let hash = param(params, 0)?
            .as_str()
            .ok_or_else(|| bad_params("expected a blockhash"))?;
        let parsed = solana_transaction::Hash::from_str(hash)
            .map_err(|_| bad_params(format!("{hash:?} is not a base-58 blockhash")))?;
        // The bank's queue is the truth: blockhashes leave it as slots go by.
        let height = self.block_height().await?;
        let valid = self.chain.blockhash_known(&parsed).await
            && (hash == self.chain.ctx.last_blockhash.to_string()
                || self
                    .blockhashes
                    .get(hash)
                    .is_some_and(|last| height <= *last));
        Ok(self.context(json!(valid)))
    }

    async fn rent(&self, params: &Value) -> Result<Value, RpcError> {
        let len = param(params, 0)?
            .as_u64()
            .and_then(|l| usize::try_from(l).ok())
            .ok_or_else(|| bad_params("expected a data length"))?;
        let rent = self
            .chain
            .ctx
            .banks_client
            .get_rent()
            .await
            .map_err(internal)?;
        Ok(json!(rent.minimum_balance(len)))
    }
}

pub fn error_reply(id: Value, RpcError(code, message, data): RpcError) -> Value {
    let mut error = json!({"code": code, "message": message});
    if !data.is_null() {
        error["data"] = data;
    }
    json!({"jsonrpc": "2.0", "error": error, "id": id})
}

pub fn param(params: &Value, index: usize) -> Result<&Value, RpcError> {
    params
        .get(index)
        .ok_or_else(|| bad_params(format!("missing parameter {index}")))
}

/// The optional configuration object at `index`, parsed as the validator's
/// own configuration type (absent or null: the defaults).
pub fn config<T: DeserializeOwned + Default>(params: &Value, index: usize) -> Result<T, RpcError> {
    match params.get(index) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| bad_params(format!("Invalid params: {e}"))),
    }
}

pub fn pubkey(value: &Value) -> Result<Pubkey, RpcError> {
    value
        .as_str()
        .and_then(|s| Pubkey::from_str(s).ok())
        .ok_or_else(|| bad_params(format!("Invalid param: invalid address {value}")))
}

use solana_signer::Signer as _;
