//! The sandbox as a local cluster: a JSON-RPC endpoint over HTTP that answers
//! the methods the Solana client library and the `upline` commands use, so
//! every command runs against the sandbox exactly as against a real cluster
//! (`upline sandbox`, then `--url localhost`).
//!
//! One request per connection, handled in order: the bank is one state and
//! the sandbox is for one user.

use super::history;
use super::Chain;
use anchor_lang::prelude::Pubkey;
use base64::Engine;
use serde_json::{json, Value};
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::TransactionError;
use std::collections::HashMap;
use std::str::FromStr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest request body accepted (a transaction is at most 1,232 bytes).
const MAX_BODY: usize = 1 << 20;

/// JSON-RPC error codes, as Solana validators use them.
const INVALID_PARAMS: i64 = -32602;
const METHOD_NOT_FOUND: i64 = -32601;
const PARSE_ERROR: i64 = -32700;
const PREFLIGHT_FAILURE: i64 = -32002;

/// A JSON-RPC error: code, message and optional data.
struct RpcError(i64, String, Value);

fn bad_params(message: impl Into<String>) -> RpcError {
    RpcError(INVALID_PARAMS, message.into(), Value::Null)
}

/// The sandbox behind the endpoint. Transactions that ran are in the chain's
/// journal; those the bank refused before running (sent without preflight)
/// are kept here, so that their senders learn why.
pub struct SandboxServer {
    chain: Chain,
    refused: HashMap<String, (u64, TransactionError)>,
}

impl SandboxServer {
    pub fn new(chain: Chain) -> SandboxServer {
        SandboxServer {
            chain,
            refused: HashMap::new(),
        }
    }

    /// Answer requests on `listener` until the process ends.
    pub async fn serve(mut self, listener: TcpListener) -> std::io::Result<()> {
        loop {
            let (stream, _) = listener.accept().await?;
            // A client that hangs up or sends garbage affects only its own request.
            let _ = self.connection(stream).await;
        }
    }

    async fn connection(&mut self, mut stream: TcpStream) -> std::io::Result<()> {
        let Some(body) = read_request(&mut stream).await? else {
            return respond(&mut stream, "400 Bad Request", "").await;
        };
        let reply = match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Array(calls)) => {
                let mut replies = Vec::with_capacity(calls.len());
                for call in &calls {
                    replies.push(self.call(call).await);
                }
                Value::Array(replies)
            }
            Ok(call) => self.call(&call).await,
            Err(e) => error_reply(
                Value::Null,
                RpcError(PARSE_ERROR, e.to_string(), Value::Null),
            ),
        };
        respond(&mut stream, "200 OK", &reply.to_string()).await
    }

    /// One JSON-RPC call.
    pub async fn call(&mut self, call: &Value) -> Value {
        let id = call.get("id").cloned().unwrap_or(Value::Null);
        let method = call.get("method").and_then(Value::as_str).unwrap_or("");
        let params = call.get("params").cloned().unwrap_or(Value::Array(vec![]));
        match self.dispatch(method, &params).await {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(e) => error_reply(id, e),
        }
    }

    /// Move to a new slot at the wall-clock time (never backwards). The bank
    /// registers a blockhash every slot's worth of idle time without raising
    /// the block height, so an idle sandbox's last blockhash goes stale; every
    /// blockhash handed out comes from a fresh slot instead.
    async fn next_slot(&mut self) {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let now = self.chain.now.max(wall);
        self.chain.warp_to(now).await;
    }

    async fn slot(&mut self) -> Result<u64, RpcError> {
        self.chain
            .ctx
            .banks_client
            .get_root_slot()
            .await
            .map_err(internal)
    }

    async fn context(&mut self, value: Value) -> Result<Value, RpcError> {
        let slot = self.slot().await?;
        Ok(json!({"context": {"slot": slot, "apiVersion": "3.1.12"}, "value": value}))
    }

    async fn dispatch(&mut self, method: &str, params: &Value) -> Result<Value, RpcError> {
        match method {
            "getVersion" => Ok(json!({"solana-core": "3.1.12", "feature-set": 0})),
            "getHealth" => Ok(json!("ok")),
            "getSlot" => Ok(json!(self.slot().await?)),
            "getLatestBlockhash" => {
                self.next_slot().await;
                let hash = self.chain.ctx.last_blockhash;
                let slot = self.slot().await?;
                self.context(json!({"blockhash": hash.to_string(), "lastValidBlockHeight": slot + 150}))
                    .await
            }
            "isBlockhashValid" => self.context(json!(true)).await,
            "getMinimumBalanceForRentExemption" => {
                let len = param(params, 0)?
                    .as_u64()
                    .ok_or_else(|| bad_params("expected a data length"))?;
                let rent = self.chain.ctx.banks_client.get_rent().await.map_err(internal)?;
                Ok(json!(rent.minimum_balance(len as usize)))
            }
            "getBalance" => {
                let key = pubkey(param(params, 0)?)?;
                let lamports = self.chain.lamports(&key).await;
                self.context(json!(lamports)).await
            }
            "getAccountInfo" => {
                let key = pubkey(param(params, 0)?)?;
                let account = self.account_json(&key).await?;
                self.context(account).await
            }
            "getMultipleAccounts" => {
                let keys = param(params, 0)?
                    .as_array()
                    .ok_or_else(|| bad_params("expected an array of addresses"))?;
                let mut accounts = Vec::with_capacity(keys.len());
                for key in keys {
                    accounts.push(self.account_json(&pubkey(key)?).await?);
                }
                self.context(Value::Array(accounts)).await
            }
            "getSignatureStatuses" => {
                let signatures = param(params, 0)?
                    .as_array()
                    .ok_or_else(|| bad_params("expected an array of signatures"))?;
                let statuses: Vec<Value> = signatures
                    .iter()
                    .map(|s| s.as_str().and_then(|s| self.status(s)).unwrap_or(Value::Null))
                    .collect();
                self.context(Value::Array(statuses)).await
            }
            "getSignaturesForAddress" => {
                let address = pubkey(param(params, 0)?)?;
                let config = params.get(1).cloned().unwrap_or(Value::Null);
                history::signatures_for_address(&self.chain.journal, &address, &config)
                    .map_err(bad_params)
            }
            "getTransaction" => {
                let signature = param(params, 0)?
                    .as_str()
                    .ok_or_else(|| bad_params("expected a signature"))?;
                let config = params.get(1).cloned().unwrap_or(Value::Null);
                match self.chain.recorded(signature) {
                    None => Ok(Value::Null),
                    Some(recorded) => history::transaction_json(recorded, &config).map_err(bad_params),
                }
            }
            "sendTransaction" => self.send_transaction(params).await,
            "requestAirdrop" => {
                let to = pubkey(param(params, 0)?)?;
                let lamports = param(params, 1)?
                    .as_u64()
                    .ok_or_else(|| bad_params("expected lamports"))?;
                self.next_slot().await;
                let signature = self.chain.airdrop(&to, lamports).await.map_err(internal)?;
                Ok(json!(signature))
            }
            other => Err(RpcError(
                METHOD_NOT_FOUND,
                format!("Method not found: {other} (the sandbox answers the methods the upline commands use)"),
                Value::Null,
            )),
        }
    }

    async fn account_json(&mut self, key: &Pubkey) -> Result<Value, RpcError> {
        let account = self
            .chain
            .ctx
            .banks_client
            .get_account(*key)
            .await
            .map_err(internal)?;
        Ok(match account {
            None => Value::Null,
            Some(a) => json!({
                "data": [base64::engine::general_purpose::STANDARD.encode(&a.data), "base64"],
                "executable": a.executable,
                "lamports": a.lamports,
                "owner": a.owner.to_string(),
                "rentEpoch": a.rent_epoch,
                "space": a.data.len(),
            }),
        })
    }

    async fn send_transaction(&mut self, params: &Value) -> Result<Value, RpcError> {
        let encoded = param(params, 0)?
            .as_str()
            .ok_or_else(|| bad_params("expected an encoded transaction"))?;
        let config = params.get(1).cloned().unwrap_or(Value::Null);
        if config
            .get("encoding")
            .and_then(Value::as_str)
            .unwrap_or("base58")
            != "base64"
        {
            return Err(bad_params("the sandbox takes base64-encoded transactions"));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| bad_params(format!("invalid base64: {e}")))?;
        let tx: VersionedTransaction = bincode::deserialize(&bytes)
            .map_err(|e| bad_params(format!("invalid transaction: {e}")))?;
        let signature = tx
            .signatures
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        let skip_preflight = config
            .get("skipPreflight")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let simulated = self.chain.simulate(&tx).await.map_err(internal)?;
        if !skip_preflight {
            if let Some(err) = &simulated.err {
                return Err(RpcError(
                    PREFLIGHT_FAILURE,
                    format!("Transaction simulation failed: {err}"),
                    json!({"err": err, "logs": simulated.logs, "accounts": null, "unitsConsumed": simulated.units_consumed}),
                ));
            }
        }
        let refused = self
            .chain
            .commit(tx, simulated)
            .await
            .map_err(internal)?
            .err();
        if let Some(err) = refused {
            let slot = self.slot().await?;
            self.refused.insert(signature.clone(), (slot, err));
        }
        Ok(json!(signature))
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
        Some(json!({
            "slot": slot,
            "confirmations": null,
            "err": err,
            "status": match &err { None => json!({"Ok": null}), Some(e) => json!({"Err": e}) },
            "confirmationStatus": "finalized",
        }))
    }
}

fn internal(e: impl std::fmt::Display) -> RpcError {
    RpcError(-32603, format!("sandbox: {e}"), Value::Null)
}

fn error_reply(id: Value, RpcError(code, message, data): RpcError) -> Value {
    let mut error = json!({"code": code, "message": message});
    if !data.is_null() {
        error["data"] = data;
    }
    json!({"jsonrpc": "2.0", "id": id, "error": error})
}

fn param(params: &Value, index: usize) -> Result<&Value, RpcError> {
    params
        .get(index)
        .ok_or_else(|| bad_params(format!("missing parameter {index}")))
}

fn pubkey(value: &Value) -> Result<Pubkey, RpcError> {
    value
        .as_str()
        .and_then(|s| Pubkey::from_str(s).ok())
        .ok_or_else(|| bad_params(format!("invalid address {value}")))
}

/// The body of one HTTP request, or `None` if it is not a well-formed POST.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buffer = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if buffer.len() > MAX_BODY {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let Some(length) = length.filter(|l| *l <= MAX_BODY) else {
        return Ok(None);
    };
    while buffer.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(buffer[header_end..header_end + length].to_vec()))
}

async fn respond(stream: &mut TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
