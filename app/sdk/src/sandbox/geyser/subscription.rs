//! One `Subscribe` stream: requests come in (filters, which replace the
//! previous ones; pings, answered with a pong), updates go out. The first
//! request with `from_slot` replays the journal from that slot, then the
//! stream follows what the sandbox announces to its PubSub subscribers.
//!
//! The sandbox finalizes at once: every call's transactions are announced
//! with a block meta of their slot after them (a slot that receives more
//! transactions later is announced again, with the count so far), so a
//! client that waits for a slot's block meta to learn its time never waits
//! for the next slot.

use super::convert::{account_update, block_meta, transaction_update};
use super::filters::Filters;
use crate::sandbox::rpc::{Event, Sandbox, Shared};
use crate::sandbox::Chain;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc;
use yellowstone_grpc_proto::geyser::subscribe_update::UpdateOneof;
use yellowstone_grpc_proto::geyser::{
    SlotStatus, SubscribeRequest, SubscribeUpdate, SubscribeUpdatePing, SubscribeUpdatePong,
    SubscribeUpdateSlot,
};
use yellowstone_grpc_proto::prost_types::Timestamp;
use yellowstone_grpc_proto::tonic::{Status, Streaming};

/// Servers ping idle subscribers so that proxies keep the stream open.
const PING_EVERY: Duration = Duration::from_secs(15);

pub type Outgoing = mpsc::Sender<Result<SubscribeUpdate, Status>>;

fn update(filters: Vec<String>, oneof: UpdateOneof) -> SubscribeUpdate {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    SubscribeUpdate {
        filters,
        update_oneof: Some(oneof),
        created_at: Some(Timestamp {
            seconds: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(now.subsec_nanos()).unwrap_or(0),
        }),
    }
}

/// Serve one subscription until the client leaves or its stream breaks.
pub async fn run(shared: Arc<Shared>, mut requests: Streaming<SubscribeRequest>, out: Outgoing) {
    let mut filters = Filters::default();
    let mut events: Option<broadcast::Receiver<Arc<Event>>> = None;
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    // A client that closes its side of the stream still hears updates, as
    // from Yellowstone servers (a subscribe-once client sends one request).
    let mut listening = true;
    loop {
        let updates = tokio::select! {
            request = requests.message(), if listening => match request {
                Ok(Some(request)) => match handle(&shared, &mut filters, &mut events, &request).await {
                    Ok(updates) => updates,
                    Err(status) => {
                        let _ = out.send(Err(status)).await;
                        return;
                    }
                },
                Ok(None) => {
                    listening = false;
                    continue;
                }
                // The connection broke.
                Err(_) => return,
            },
            event = next_event(&mut events) => match event {
                Ok(event) => announce(&shared, &filters, &mut events, event).await,
                // Real servers end a subscriber that fell behind; its client
                // resubscribes from the last slot it saw.
                Err(RecvError::Lagged(n)) => {
                    let status = Status::data_loss(format!("the subscriber fell {n} updates behind; resubscribe with from_slot"));
                    let _ = out.send(Err(status)).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            },
            _ = ping.tick() => vec![update(Vec::new(), UpdateOneof::Ping(SubscribeUpdatePing {}))],
        };
        for message in updates {
            if out.send(Ok(message)).await.is_err() {
                return;
            }
        }
    }
}

async fn next_event(
    events: &mut Option<broadcast::Receiver<Arc<Event>>>,
) -> Result<Arc<Event>, RecvError> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

/// One request: a ping is answered and changes nothing; filters replace the
/// previous ones; the first filters start the stream (after the replay).
async fn handle(
    shared: &Arc<Shared>,
    filters: &mut Filters,
    events: &mut Option<broadcast::Receiver<Arc<Event>>>,
    request: &SubscribeRequest,
) -> Result<Vec<SubscribeUpdate>, Status> {
    if let Some(ping) = &request.ping {
        let pong = SubscribeUpdatePong { id: ping.id };
        return Ok(vec![update(Vec::new(), UpdateOneof::Pong(pong))]);
    }
    *filters = Filters::parse(request)?;
    if events.is_some() {
        return Ok(Vec::new());
    }
    // Events are published under the bank's lock: subscribing under it
    // splits the journal exactly between the replay and the live stream.
    let sandbox = shared.bank.lock().await;
    *events = Some(shared.events.subscribe());
    match request.from_slot {
        Some(from) => Ok(replay(&sandbox, filters, from).await),
        None => Ok(Vec::new()),
    }
}

/// The journal from slot `from` on, then the current state of the accounts
/// those transactions wrote (the sandbox keeps no older states), then the
/// current slot.
async fn replay(sandbox: &Sandbox, filters: &Filters, from: u64) -> Vec<SubscribeUpdate> {
    let chain = &sandbox.chain;
    let start = chain.journal.partition_point(|r| r.slot < from);
    let mut out = Vec::new();
    let mut written = Vec::new();
    for (position, recorded) in chain.journal.iter().enumerate().skip(start) {
        let extras = chain.extras(&recorded.signature);
        let loaded = extras.map(|e| e.loaded.clone()).unwrap_or_default();
        let keys = Chain::all_keys(&recorded.transaction, &loaded);
        let names = filters.transaction(&recorded.signature, &keys, recorded.err.is_some());
        if !names.is_empty() {
            let index = slot_index(sandbox, position);
            let tx = transaction_update(recorded, extras, index);
            out.push(update(names, UpdateOneof::Transaction(tx)));
            written.extend(keys);
        }
        let slot_ends = chain
            .journal
            .get(position + 1)
            .is_none_or(|next| next.slot != recorded.slot);
        if slot_ends {
            out.extend(block_metas(sandbox, filters, [recorded.slot]));
        }
    }
    if filters.wants_accounts() {
        written.sort();
        written.dedup();
        for pubkey in written {
            let Ok(Some(account)) = sandbox.account(&pubkey).await else {
                continue;
            };
            let names = filters.account(&pubkey, &account);
            if !names.is_empty() {
                let account = account_update(&pubkey, &account, chain.slot, &filters.data_slices);
                out.push(update(names, UpdateOneof::Account(account)));
            }
        }
    }
    out.extend(slot_updates(filters, chain.slot));
    out
}

/// The place of the journal entry at `position` among its slot's entries.
fn slot_index(sandbox: &Sandbox, position: usize) -> u64 {
    let journal = &sandbox.chain.journal;
    let slot = journal.get(position).map_or(0, |r| r.slot);
    let first = journal[..position].partition_point(|r| r.slot < slot);
    u64::try_from(position - first).unwrap_or(u64::MAX)
}

/// Block metas of `slots` as they are now, for the blocks_meta filters.
fn block_metas(
    sandbox: &Sandbox,
    filters: &Filters,
    slots: impl IntoIterator<Item = u64>,
) -> Vec<SubscribeUpdate> {
    if filters.blocks_meta.is_empty() {
        return Vec::new();
    }
    let journal = &sandbox.chain.journal;
    let mut out = Vec::new();
    for slot in slots {
        let first = journal.partition_point(|r| r.slot < slot);
        let end = journal.partition_point(|r| r.slot <= slot);
        let Some(last) = journal.get(first..end).and_then(<[_]>::last) else {
            continue;
        };
        let blockhash = last.transaction.message.recent_blockhash().to_string();
        let count = u64::try_from(end - first).unwrap_or(u64::MAX);
        let meta = block_meta(slot, last.block_time, blockhash, count);
        out.push(update(
            filters.blocks_meta.clone(),
            UpdateOneof::BlockMeta(meta),
        ));
    }
    out
}

/// A slot's statuses: the sandbox finalizes at once, so every commitment is
/// reached together (a filter by commitment sees the finalized one).
fn slot_updates(filters: &Filters, slot: u64) -> Vec<SubscribeUpdate> {
    let mut out = Vec::new();
    for (name, by_commitment) in &filters.slots {
        let statuses: &[SlotStatus] = match by_commitment {
            true => &[SlotStatus::SlotFinalized],
            false => &[
                SlotStatus::SlotProcessed,
                SlotStatus::SlotConfirmed,
                SlotStatus::SlotFinalized,
            ],
        };
        for status in statuses {
            let slot = SubscribeUpdateSlot {
                slot,
                parent: slot.checked_sub(1),
                status: (*status).into(),
                dead_error: None,
                bank_id: Some(slot),
            };
            out.push(update(vec![name.clone()], UpdateOneof::Slot(slot)));
        }
    }
    out
}

/// The updates one announcement causes. A transaction is read from the
/// journal under the bank's lock; by then every event of the call that
/// recorded it is in the channel (they are published under that lock), so
/// the rest of the call's events are taken too and its slots' block metas
/// follow its transactions.
async fn announce(
    shared: &Arc<Shared>,
    filters: &Filters,
    events: &mut Option<broadcast::Receiver<Arc<Event>>>,
    first: Arc<Event>,
) -> Vec<SubscribeUpdate> {
    if !matches!(*first, Event::Transaction { .. }) {
        return single(filters, &first);
    }
    let sandbox = shared.bank.lock().await;
    let mut batch = vec![first];
    if let Some(receiver) = events.as_mut() {
        // A lag shows again on the next recv, which ends the stream.
        while let Ok(event) = receiver.try_recv() {
            batch.push(event);
        }
    }
    // Slot announcements come first in a call's events, accounts last.
    let (mut heads, mut out, mut accounts) = (Vec::new(), Vec::new(), Vec::new());
    let mut slots = BTreeMap::new();
    for event in &batch {
        let Event::Transaction {
            signature,
            err,
            keys,
            ..
        } = event.as_ref()
        else {
            match event.as_ref() {
                Event::Slot { .. } => heads.extend(single(filters, event)),
                _ => accounts.extend(single(filters, event)),
            }
            continue;
        };
        // A transaction refused before it ran is not on the ledger.
        let Some(recorded) = sandbox.chain.recorded(signature) else {
            continue;
        };
        let names = filters.transaction(signature, keys, err.is_some());
        if names.is_empty() {
            continue;
        }
        let journal = &sandbox.chain.journal;
        let position = journal
            .iter()
            .rposition(|r| r.signature == *signature)
            .unwrap_or(0);
        let extras = sandbox.chain.extras(signature);
        let tx = transaction_update(recorded, extras, slot_index(&sandbox, position));
        out.push(update(names, UpdateOneof::Transaction(tx)));
        slots.insert(recorded.slot, ());
    }
    out.extend(block_metas(&sandbox, filters, slots.into_keys()));
    heads.extend(out);
    heads.extend(accounts);
    heads
}

/// The updates of a slot or account announcement.
fn single(filters: &Filters, event: &Event) -> Vec<SubscribeUpdate> {
    match event {
        Event::Slot { slot } => slot_updates(filters, *slot),
        Event::Account {
            slot,
            pubkey,
            account,
        } => {
            let names = filters.account(pubkey, account);
            if names.is_empty() {
                return Vec::new();
            }
            let account = account_update(pubkey, account, *slot, &filters.data_slices);
            vec![update(names, UpdateOneof::Account(account))]
        }
        Event::Transaction { .. } => Vec::new(),
    }
}
