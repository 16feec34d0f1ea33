//! Indexing: new transactions of the program (oldest first) go into the
//! store with their events, then the accounts the events name are
//! snapshotted, then the source's cursor moves to its newest signature. Safe
//! to re-run and to interrupt: a transaction already indexed is skipped, and
//! the cursor moves only after its transactions are stored.

use crate::store::{text_at, Cell, Store};
use crate::subject::subject;
use crate::ExplorerError;
use anchor_lang::event::EVENT_IX_TAG_LE;
use anchor_lang::prelude::Pubkey;
use base64::Engine;
use std::collections::HashSet;
use std::str::FromStr;
use upline_sdk::client::Cluster;
use upline_sdk::events::{decode_event, UplineEvent};
use upline_sdk::pda;

/// One transaction of the program, as a source delivers it.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub signature: String,
    pub slot: u64,
    pub block_time: i64,
    pub failed: bool,
    /// The data of each of the program's inner instructions, in order.
    pub inner_data: Vec<Vec<u8>>,
}

/// One indexed event.
#[derive(Debug)]
pub struct IndexedEvent {
    pub signature: String,
    pub ordinal: i64,
    pub position: i64,
    pub block_time: i64,
    pub event: UplineEvent,
}

/// What one indexing run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IndexSummary {
    pub transactions: usize,
    pub events: usize,
    pub accounts: usize,
}

pub(crate) fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

pub(crate) fn unb64(text: &str) -> Result<Vec<u8>, ExplorerError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| ExplorerError::Corrupt(format!("not base64: {e}")))
}

/// The source's cursor: the newest signature indexed from it.
pub async fn cursor(store: &mut Store, source: &str) -> Result<Option<String>, ExplorerError> {
    let rows = store
        .query(
            "SELECT signature FROM cursors WHERE source = $1",
            vec![source.into()],
        )
        .await?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(|c| c.text().map(str::to_string)))
}

/// Store `fetched` (oldest first) with its events, skipping transactions
/// already indexed, and move `source`'s cursor to the newest; all in one
/// database transaction.
pub async fn record(
    store: &mut Store,
    source: &str,
    fetched: &[Fetched],
) -> Result<IndexSummary, ExplorerError> {
    let known: HashSet<String> = store
        .query("SELECT signature FROM transactions", vec![])
        .await?
        .into_iter()
        .filter_map(|r| {
            r.into_iter()
                .next()
                .and_then(|c| c.text().map(str::to_string))
        })
        .collect();
    let mut position = store
        .number("SELECT MAX(position) FROM transactions")
        .await?;
    let mut statements: Vec<(&str, Vec<Cell>)> = Vec::new();
    let mut summary = IndexSummary::default();
    for tx in fetched.iter().filter(|tx| !known.contains(&tx.signature)) {
        position += 1;
        summary.transactions += 1;
        statements.push((
            "INSERT INTO transactions (signature, position, slot, block_time, failed) VALUES ($1, $2, $3, $4, $5)",
            vec![
                tx.signature.clone().into(),
                position.into(),
                i64::try_from(tx.slot).unwrap_or(i64::MAX).into(),
                tx.block_time.into(),
                i64::from(tx.failed).into(),
            ],
        ));
        if tx.failed {
            continue;
        }
        let events = tx
            .inner_data
            .iter()
            .filter_map(|data| data.strip_prefix(EVENT_IX_TAG_LE).map(|body| (data, body)));
        for (ordinal, (data, body)) in events.enumerate() {
            let Some(event) = decode_event(data) else {
                return Err(ExplorerError::Corrupt(format!(
                    "{}: inner instruction {ordinal} is an event this explorer cannot decode (a newer program?)",
                    tx.signature
                )));
            };
            let (network, member) = subject(&event);
            summary.events += 1;
            statements.push((
                "INSERT INTO events (signature, ordinal, position, block_time, network, kind, member, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    tx.signature.clone().into(),
                    i64::try_from(ordinal).unwrap_or(i64::MAX).into(),
                    position.into(),
                    tx.block_time.into(),
                    network.to_string().into(),
                    event.name().into(),
                    member.map(|m| m.to_string()).into(),
                    b64(body).into(),
                ],
            ));
        }
    }
    if let Some(newest) = fetched.last() {
        statements.push((
            "INSERT INTO cursors (source, signature, slot) VALUES ($1, $2, $3) ON CONFLICT (source) DO UPDATE SET signature = excluded.signature, slot = excluded.slot",
            vec![
                source.into(),
                newest.signature.clone().into(),
                i64::try_from(newest.slot).unwrap_or(i64::MAX).into(),
            ],
        ));
    }
    store.atomically(&statements).await?;
    Ok(summary)
}

/// Every indexed event, in chain order.
pub async fn events(store: &mut Store) -> Result<Vec<IndexedEvent>, ExplorerError> {
    let rows = store
        .query(
            "SELECT signature, ordinal, position, block_time, kind, data FROM events ORDER BY position, ordinal",
            vec![],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let text = |i: usize| text_at(&row, i);
        let int = |i: usize| row.get(i).and_then(Cell::int).unwrap_or_default();
        let signature = text(0);
        let body = unb64(&text(5))?;
        let mut data = EVENT_IX_TAG_LE.to_vec();
        data.extend_from_slice(&body);
        let event = decode_event(&data).ok_or_else(|| {
            ExplorerError::Corrupt(format!(
                "{signature} event {}: the stored {} does not decode",
                int(1),
                text(4)
            ))
        })?;
        out.push(IndexedEvent {
            signature,
            ordinal: int(1),
            position: int(2),
            block_time: int(3),
            event,
        });
    }
    Ok(out)
}

/// Accounts worth a snapshot, by the events that name them: (address, kind, network).
async fn named_accounts(
    store: &mut Store,
) -> Result<Vec<(Pubkey, &'static str, Pubkey)>, ExplorerError> {
    let mut out = Vec::new();
    for indexed in events(store).await? {
        match &indexed.event {
            UplineEvent::NetworkCreated(e) => {
                out.push((e.network, "network", e.network));
                out.push((pda::reward_tables(&e.network), "reward_tables", e.network));
            }
            UplineEvent::LedgerAdded(e) => {
                out.push((e.ledger, "ledger", e.network));
                if e.vault != Pubkey::default() {
                    out.push((e.vault, "vault", e.network));
                }
            }
            UplineEvent::MemberJoined(e) => out.push((e.member, "member", e.network)),
            _ => {}
        }
    }
    Ok(out)
}

/// Snapshot every account the events name, as of now.
pub async fn snapshot<C: Cluster>(
    store: &mut Store,
    cluster: &mut C,
    slot: u64,
) -> Result<usize, ExplorerError> {
    let named = named_accounts(store).await?;
    let keys: Vec<Pubkey> = named.iter().map(|(k, _, _)| *k).collect();
    let states = cluster
        .accounts(&keys)
        .await
        .map_err(|e| ExplorerError::Source(e.to_string()))?;
    let mut statements: Vec<(&str, Vec<Cell>)> = Vec::new();
    for ((address, kind, network), state) in named.iter().zip(states) {
        let Some(state) = state else { continue };
        statements.push((
            "INSERT INTO accounts (address, kind, network, slot, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (address) DO UPDATE SET kind = excluded.kind, network = excluded.network, slot = excluded.slot, data = excluded.data",
            vec![
                address.to_string().into(),
                (*kind).into(),
                network.to_string().into(),
                i64::try_from(slot).unwrap_or(i64::MAX).into(),
                b64(&state.data).into(),
            ],
        ));
    }
    let count = statements.len();
    store.atomically(&statements).await?;
    Ok(count)
}

/// One snapshotted account.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub address: Pubkey,
    pub kind: String,
    pub network: Pubkey,
    pub data: Vec<u8>,
}

/// Every snapshotted account.
pub async fn snapshots(store: &mut Store) -> Result<Vec<Snapshot>, ExplorerError> {
    let rows = store
        .query(
            "SELECT address, kind, network, data FROM accounts ORDER BY address",
            vec![],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let text = |i: usize| text_at(&row, i);
        let key = |i: usize| {
            Pubkey::from_str(&text(i))
                .map_err(|_| ExplorerError::Corrupt(format!("accounts: bad address {}", text(i))))
        };
        out.push(Snapshot {
            address: key(0)?,
            kind: text(1),
            network: key(2)?,
            data: unb64(&text(3))?,
        });
    }
    Ok(out)
}
