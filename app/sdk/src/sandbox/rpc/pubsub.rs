//! The PubSub WebSocket, as `solana-test-validator` serves it on the port
//! after the HTTP one: signature, account, program, logs and slot
//! subscriptions and their unsubscribes, with the validator's notification
//! shapes. Every committed transaction is announced once it is recorded (the
//! sandbox finalizes at once, so every commitment is told at the same time).

use super::accounts::{check_filters, passes};
use super::{bad_params, Event, RpcError, Sandbox, Shared, VERSION};
use crate::sandbox::Chain;
use anchor_lang::prelude::Pubkey;
use axum::extract::ws::{Message, WebSocket};
use serde_json::{json, Value};
use solana_account_decoder::{encode_ui_account, UiAccountEncoding};
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::RpcFilterType;
use solana_transaction::TransactionError;
use solana_transaction_status_client_types::UiTransactionError;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// One subscription of one connection.
enum Subscription {
    Signature(String),
    Account(Pubkey, RpcAccountInfoConfig),
    Program(Pubkey, Vec<RpcFilterType>, RpcAccountInfoConfig),
    /// `None`: every transaction; otherwise those that mention the address.
    Logs(Option<Pubkey>),
    Slot,
}

impl Sandbox {
    /// Announce a transaction the bank refused before running it: only its
    /// signature's subscribers hear of it (it is not on the ledger).
    pub(super) fn refused_event(&mut self, signature: &str, slot: u64, err: &TransactionError) {
        self.outbox.push(Event::Transaction {
            slot,
            signature: signature.to_string(),
            err: Some(err.clone()),
            logs: Vec::new(),
            keys: Vec::new(),
        });
    }

    /// Announce the journal's entries from `from` on, and (if anyone
    /// listens) the accounts they wrote as they are now.
    pub(super) async fn journal_events(&mut self, from: usize) {
        let mut written = Vec::new();
        for recorded in self.chain.journal.iter().skip(from) {
            let loaded = self
                .chain
                .extras(&recorded.signature)
                .map(|e| e.loaded.clone())
                .unwrap_or_default();
            let keys = Chain::all_keys(&recorded.transaction, &loaded);
            let statics = recorded.transaction.message.static_account_keys().len();
            written.extend(keys.iter().enumerate().filter_map(|(i, key)| {
                let writable = match i < statics {
                    true => recorded.transaction.message.is_maybe_writable(i, None),
                    false => i < statics + loaded.writable.len(),
                };
                writable.then_some(*key)
            }));
            self.outbox.push(Event::Transaction {
                slot: recorded.slot,
                signature: recorded.signature.clone(),
                err: recorded.err.clone(),
                logs: recorded.logs.clone(),
                keys,
            });
        }
        if !self.watched {
            return;
        }
        written.sort();
        written.dedup();
        let slot = self.slot();
        for pubkey in written {
            if let Ok(Some(account)) = self.account(&pubkey).await {
                self.outbox.push(Event::Account {
                    slot,
                    pubkey,
                    account,
                });
            }
        }
    }
}

/// Serve one WebSocket connection until the client leaves.
pub async fn connection(shared: Arc<Shared>, mut socket: WebSocket) {
    let mut events = shared.events.subscribe();
    let mut subscriptions: HashMap<u64, Subscription> = HashMap::new();
    loop {
        let outgoing = tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => request(&shared, &mut subscriptions, &text).await,
                // The closing handshake: tungstenite queues the reply to the
                // client's close frame and writes it as the socket is read on
                // until the client hangs up, so the client sees its own code
                // rather than an abnormal 1006.
                Some(Ok(Message::Close(_))) => {
                    while let Some(Ok(_)) = socket.recv().await {}
                    return;
                }
                Some(Err(_)) | None => return,
                Some(Ok(_)) => continue,
            },
            event = events.recv() => match event {
                Ok(event) => notifications(&shared, &mut subscriptions, &event).await,
                // A subscriber this far behind has lost events; carry on.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
        };
        for message in outgoing {
            if socket
                .send(Message::Text(message.to_string().into()))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

/// Answer one request; a signature already recorded is notified at once.
async fn request(
    shared: &Shared,
    subscriptions: &mut HashMap<u64, Subscription>,
    text: &str,
) -> Vec<Value> {
    let call: Value = match serde_json::from_str(text) {
        Ok(call) => call,
        Err(e) => {
            let error = RpcError(super::PARSE_ERROR, e.to_string(), Value::Null);
            return vec![super::error_reply(Value::Null, error)];
        }
    };
    // A call without an id is a JSON-RPC notification (clients' keep-alive
    // pings): validators answer nothing.
    let Some(id) = call.get("id").cloned() else {
        return Vec::new();
    };
    let method = call.get("method").and_then(Value::as_str).unwrap_or("");
    let params = call.get("params").cloned().unwrap_or(json!([]));
    if let Some(kind) = method.strip_suffix("Unsubscribe") {
        let known = params
            .get(0)
            .and_then(Value::as_u64)
            .filter(|sid| subscriptions.get(sid).is_some_and(|s| kind_of(s) == kind));
        return vec![match known {
            Some(sid) => {
                subscriptions.remove(&sid);
                json!({"jsonrpc": "2.0", "result": true, "id": id})
            }
            None => super::error_reply(id, bad_params("Invalid subscription id.")),
        }];
    }
    let subscription = match parse(method, &params) {
        Ok(subscription) => subscription,
        Err(e) => return vec![super::error_reply(id, e)],
    };
    let sid = shared.next_subscription.fetch_add(1, Ordering::Relaxed);
    let mut out = vec![json!({"jsonrpc": "2.0", "result": sid, "id": id})];
    if let Subscription::Signature(signature) = &subscription {
        let sandbox = shared.bank.lock().await;
        let known = match sandbox.chain.recorded(signature) {
            Some(recorded) => Some((recorded.slot, recorded.err.clone())),
            None => sandbox
                .refused
                .get(signature)
                .map(|(s, e)| (*s, Some(e.clone()))),
        };
        if let Some((slot, err)) = known {
            out.push(signature_notification(sid, slot, &err));
            return out;
        }
    }
    subscriptions.insert(sid, subscription);
    out
}

fn kind_of(subscription: &Subscription) -> &'static str {
    match subscription {
        Subscription::Signature(_) => "signature",
        Subscription::Account(..) => "account",
        Subscription::Program(..) => "program",
        Subscription::Logs(_) => "logs",
        Subscription::Slot => "slot",
    }
}

fn parse(method: &str, params: &Value) -> Result<Subscription, RpcError> {
    let first = || params.get(0).cloned().unwrap_or(Value::Null);
    Ok(match method {
        "signatureSubscribe" => Subscription::Signature(
            first()
                .as_str()
                .ok_or_else(|| bad_params("expected a signature"))?
                .to_string(),
        ),
        "accountSubscribe" => {
            Subscription::Account(super::pubkey(&first())?, super::config(params, 1)?)
        }
        "programSubscribe" => {
            let config: RpcProgramAccountsConfig = super::config(params, 1)?;
            let filters = config.filters.unwrap_or_default();
            check_filters(&filters)?;
            Subscription::Program(super::pubkey(&first())?, filters, config.account_config)
        }
        "logsSubscribe" => match first() {
            Value::String(s) if s == "all" || s == "allWithVotes" => Subscription::Logs(None),
            Value::Object(o) => {
                let mentions = o
                    .get("mentions")
                    .and_then(Value::as_array)
                    .filter(|m| m.len() == 1)
                    .ok_or_else(|| bad_params("Invalid Request: Only 1 address supported"))?;
                Subscription::Logs(Some(super::pubkey(&mentions[0])?))
            }
            other => return Err(bad_params(format!("Invalid logs filter {other}"))),
        },
        "slotSubscribe" => Subscription::Slot,
        other => {
            return Err(RpcError(
                super::METHOD_NOT_FOUND,
                format!("Method not found: {other}"),
                Value::Null,
            ))
        }
    })
}

fn notification(method: &str, sid: u64, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": {"result": result, "subscription": sid}})
}

fn context(slot: u64, value: Value) -> Value {
    json!({"context": {"apiVersion": VERSION, "slot": slot}, "value": value})
}

fn signature_notification(sid: u64, slot: u64, err: &Option<TransactionError>) -> Value {
    let err = err.clone().map(UiTransactionError::from);
    notification(
        "signatureNotification",
        sid,
        context(slot, json!({"err": err})),
    )
}

/// An account in a subscription's encoding (jsonParsed token accounts need
/// their mint, read from the bank).
async fn encode(
    shared: &Shared,
    pubkey: &Pubkey,
    account: &solana_account::Account,
    config: &RpcAccountInfoConfig,
) -> Value {
    match config.encoding {
        Some(UiAccountEncoding::JsonParsed) => {
            let sandbox = shared.bank.lock().await;
            sandbox
                .encode(pubkey, account, config.encoding, config.data_slice)
                .await
                .unwrap_or(Value::Null)
        }
        encoding => {
            let encoding = encoding.unwrap_or(UiAccountEncoding::Binary);
            serde_json::to_value(encode_ui_account(
                pubkey,
                account,
                encoding,
                None,
                config.data_slice,
            ))
            .unwrap_or(Value::Null)
        }
    }
}

/// The notifications `event` causes on this connection (a signature
/// subscription ends with its notification, as on validators).
async fn notifications(
    shared: &Shared,
    subscriptions: &mut HashMap<u64, Subscription>,
    event: &Event,
) -> Vec<Value> {
    let mut out = Vec::new();
    let mut finished = Vec::new();
    for (sid, subscription) in subscriptions.iter() {
        let sid = *sid;
        match (subscription, event) {
            (Subscription::Slot, Event::Slot { slot }) => out.push(notification(
                "slotNotification",
                sid,
                json!({"parent": slot.saturating_sub(1), "root": slot, "slot": slot}),
            )),
            (
                Subscription::Signature(wanted),
                Event::Transaction {
                    slot,
                    signature,
                    err,
                    ..
                },
            ) if wanted == signature => {
                out.push(signature_notification(sid, *slot, err));
                finished.push(sid);
            }
            (
                Subscription::Logs(filter),
                Event::Transaction {
                    slot,
                    signature,
                    err,
                    logs,
                    keys,
                },
            ) if !keys.is_empty() && filter.is_none_or(|k| keys.contains(&k)) => {
                let err = err.clone().map(UiTransactionError::from);
                let value = json!({"signature": signature, "err": err, "logs": logs});
                out.push(notification("logsNotification", sid, context(*slot, value)));
            }
            (
                Subscription::Account(key, config),
                Event::Account {
                    slot,
                    pubkey,
                    account,
                },
            ) if key == pubkey => {
                let value = encode(shared, pubkey, account, config).await;
                out.push(notification(
                    "accountNotification",
                    sid,
                    context(*slot, value),
                ));
            }
            (
                Subscription::Program(program, filters, config),
                Event::Account {
                    slot,
                    pubkey,
                    account,
                },
            ) if account.owner == *program && passes(filters, account) => {
                let encoded = encode(shared, pubkey, account, config).await;
                let value = json!({"pubkey": pubkey.to_string(), "account": encoded});
                out.push(notification(
                    "programNotification",
                    sid,
                    context(*slot, value),
                ));
            }
            _ => {}
        }
    }
    for sid in finished {
        subscriptions.remove(&sid);
    }
    out
}
