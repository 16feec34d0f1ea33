//! Indexing: new transactions of the program (oldest first) go into the
//! store with their events, then the accounts the events name are
//! snapshotted, then the source's cursor moves to its newest signature. Safe
//! to re-run and to interrupt: a transaction already indexed is skipped, and
//! the cursor moves only after its transactions are stored.

use crate::project::{self, Touched};
use crate::store::dialect::Dialect;
use crate::store::{text_at, Cell, Statement, Store};
use crate::subject::subject;
use crate::ExplorerError;
use anchor_lang::event::EVENT_IX_TAG_LE;
use anchor_lang::prelude::Pubkey;
use base64::Engine;
use std::collections::{BTreeSet, HashSet};
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
    /// The accounts the stored events name, for the snapshot that follows.
    pub named: Vec<NamedAccount>,
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
pub async fn cursor(store: &Store, source: &str) -> Result<Option<String>, ExplorerError> {
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

/// The events of `tx` (none for a failed one), decoded.
fn decode_events(tx: &Fetched) -> Result<Vec<(Vec<u8>, UplineEvent)>, ExplorerError> {
    let mut out = Vec::new();
    for (ordinal, data) in event_data(tx).enumerate() {
        let Some(event) = decode_event(data) else {
            return Err(ExplorerError::Corrupt(format!(
                "{}: inner instruction {ordinal} is an event this explorer cannot decode (a newer program?)",
                tx.signature
            )));
        };
        out.push((data[EVENT_IX_TAG_LE.len()..].to_vec(), event));
    }
    Ok(out)
}

/// The program's event instructions of `tx` (tag included), none for a
/// failed transaction.
fn event_data(tx: &Fetched) -> impl Iterator<Item = &Vec<u8>> {
    tx.inner_data
        .iter()
        .filter(move |data| !tx.failed && data.starts_with(EVENT_IX_TAG_LE))
}

/// The accounts the events of `fetched` name, before they are recorded
/// (an event that does not decode names none here; recording refuses it).
pub fn named_by(fetched: &[Fetched]) -> Vec<NamedAccount> {
    let events: Vec<UplineEvent> = fetched
        .iter()
        .flat_map(event_data)
        .filter_map(|data| decode_event(data))
        .collect();
    named_accounts(events.iter())
}

/// Transactions per database transaction when recording: bounds the memory
/// a large backfill takes, each step atomic with its cursor.
const RECORD_CHUNK: usize = 1_000;

/// Store `fetched` (oldest first) with its events and their typed rows,
/// skipping transactions already indexed, and move `source`'s cursor to the
/// newest. Each step of at most [`RECORD_CHUNK`] transactions is one
/// database transaction under the index's write lock, and moves the cursor
/// with it: an interrupted run resumes after the last step it finished.
/// What it stored is summarised, with the accounts its events name.
pub async fn record(
    store: &Store,
    source: &str,
    fetched: &[Fetched],
) -> Result<IndexSummary, ExplorerError> {
    let mut total = IndexSummary::default();
    let mut seen = HashSet::new();
    for chunk in fetched.chunks(RECORD_CHUNK) {
        let summary = record_step(store, source, chunk).await?;
        total.transactions += summary.transactions;
        total.events += summary.events;
        for named in summary.named {
            if seen.insert(named.0) {
                total.named.push(named);
            }
        }
    }
    Ok(total)
}

/// One step of [`record`].
async fn record_step(
    store: &Store,
    source: &str,
    fetched: &[Fetched],
) -> Result<IndexSummary, ExplorerError> {
    let mut decoded = Vec::with_capacity(fetched.len());
    for tx in fetched {
        decoded.push((tx.clone(), decode_events(tx)?));
    }
    let touched = Touched::of(
        decoded
            .iter()
            .flat_map(|(_, events)| events.iter().map(|(_, e)| e)),
    );
    let named = named_accounts(
        decoded
            .iter()
            .flat_map(|(_, events)| events.iter().map(|(_, e)| e)),
    );
    // Reads: which of these are indexed already, the newest position, then
    // the typed rows the events touch.
    let signatures: BTreeSet<String> = fetched.iter().map(|tx| tx.signature.clone()).collect();
    let mut reads: Vec<Statement> = Vec::new();
    let listed: Vec<&String> = signatures.iter().collect();
    for chunk in listed.chunks(500) {
        reads.push((
            format!(
                "SELECT 'known', signature FROM transactions WHERE signature {}",
                Dialect::in_list(1, chunk.len())
            ),
            chunk.iter().map(|s| Cell::Text((*s).clone())).collect(),
        ));
    }
    reads.push((
        "SELECT 'position', MAX(position) FROM transactions".into(),
        vec![],
    ));
    let typed_reads = project::reads_for(&touched);
    let typed_from = reads.len();
    reads.extend(typed_reads);
    let source = source.to_string();
    let newest = fetched.last().map(|tx| (tx.signature.clone(), tx.slot));
    store
        .read_then_write(reads, move |results| {
            let mut known = HashSet::new();
            let mut position = 0;
            for row in results[..typed_from].iter().flatten() {
                match text_at(row, 0).as_str() {
                    "known" => {
                        known.insert(text_at(row, 1));
                    }
                    _ => position = row.get(1).and_then(Cell::int).unwrap_or(0),
                }
            }
            let current = project::Current::from_results(&results[typed_from..])?;
            let mut statements: Vec<Statement> = Vec::new();
            let mut summary = IndexSummary::default();
            let mut new = Vec::new();
            for (tx, events) in decoded {
                if known.contains(&tx.signature) {
                    continue;
                }
                position += 1;
                summary.transactions += 1;
                statements.push((
                    "INSERT INTO transactions (signature, position, slot, block_time, failed) VALUES ($1, $2, $3, $4, $5)".into(),
                    vec![
                        tx.signature.clone().into(),
                        position.into(),
                        i64::try_from(tx.slot).unwrap_or(i64::MAX).into(),
                        tx.block_time.into(),
                        i64::from(tx.failed).into(),
                    ],
                ));
                for (ordinal, (body, event)) in events.iter().enumerate() {
                    let (network, member) = subject(event);
                    summary.events += 1;
                    statements.push((
                        "INSERT INTO events (signature, ordinal, position, block_time, network, kind, member, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)".into(),
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
                new.push(project::NewTransaction {
                    fetched: tx,
                    position,
                    events: events.into_iter().map(|(_, e)| e).collect(),
                });
            }
            statements.extend(project::project(&new, current));
            if let Some((signature, slot)) = newest {
                statements.push((
                    "INSERT INTO cursors (source, signature, slot) VALUES ($1, $2, $3) ON CONFLICT (source) DO UPDATE SET signature = excluded.signature, slot = excluded.slot".into(),
                    vec![source.into(), signature.into(), i64::try_from(slot).unwrap_or(i64::MAX).into()],
                ));
            }
            summary.named = named;
            Ok((statements, summary))
        })
        .await
}

/// The event of a row (signature, ordinal, position, block_time, kind, data, …).
pub fn stored_event(row: &[Cell]) -> Result<UplineEvent, ExplorerError> {
    let body = unb64(&text_at(row, 5))?;
    let mut data = EVENT_IX_TAG_LE.to_vec();
    data.extend_from_slice(&body);
    decode_event(&data).ok_or_else(|| {
        ExplorerError::Corrupt(format!(
            "{} event {}: the stored {} does not decode",
            text_at(row, 0),
            row.get(1).and_then(Cell::int).unwrap_or_default(),
            text_at(row, 4)
        ))
    })
}

/// Every indexed event, in chain order.
pub async fn events(store: &Store) -> Result<Vec<IndexedEvent>, ExplorerError> {
    let rows = store
        .query(
            "SELECT signature, ordinal, position, block_time, kind, data FROM events ORDER BY position, ordinal",
            vec![],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let int = |i: usize| row.get(i).and_then(Cell::int).unwrap_or_default();
        out.push(IndexedEvent {
            event: stored_event(&row)?,
            signature: text_at(&row, 0),
            ordinal: int(1),
            position: int(2),
            block_time: int(3),
        });
    }
    Ok(out)
}

/// An account worth a snapshot: its address, kind and network.
pub type NamedAccount = (Pubkey, &'static str, Pubkey);

/// Accounts whose state `events` change: the networks they are about, the
/// ledgers, vaults and tables they fund or set, and every member they name
/// or credit. Each once, in first-named order.
pub fn named_accounts<'a>(events: impl Iterator<Item = &'a UplineEvent>) -> Vec<NamedAccount> {
    let mut out: Vec<NamedAccount> = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |address: Pubkey, kind: &'static str, network: Pubkey| {
        if address != Pubkey::default() && seen.insert(address) {
            out.push((address, kind, network));
        }
    };
    for event in events {
        let (network, member) = subject(event);
        add(network, "network", network);
        if let Some(member) = member {
            add(member, "member", network);
        }
        for (credit, _) in project::credits_of(event) {
            add(credit.member, "member", network);
        }
        let ledger_index = match event {
            UplineEvent::NetworkCreated(_) | UplineEvent::RewardTablesSet(_) => {
                add(pda::reward_tables(&network), "reward_tables", network);
                None
            }
            UplineEvent::LedgerAdded(e) => {
                add(e.ledger, "ledger", network);
                add(e.vault, "vault", network);
                None
            }
            UplineEvent::LedgerUpdated(e) => Some(e.index),
            UplineEvent::VaultFunded(e) => Some(e.index),
            UplineEvent::Withdrawn(e) => Some(e.ledger_index),
            UplineEvent::ReferrerLinked(e) => {
                for upline in [e.referrer, e.upline2, e.upline3] {
                    add(upline, "member", network);
                }
                None
            }
            UplineEvent::RentalReported(e) => {
                add(e.host, "member", network);
                None
            }
            _ => None,
        };
        if let Some(index) = ledger_index {
            let ledger = pda::ledger(&network, index);
            add(ledger, "ledger", network);
            if !matches!(event, UplineEvent::LedgerUpdated(_)) {
                add(pda::vault(&ledger), "vault", network);
            }
        }
    }
    out
}

/// Snapshot every account any indexed event names, as of now (a full
/// refresh; indexing snapshots only what its new events name).
pub async fn snapshot<C: Cluster>(
    store: &Store,
    cluster: &mut C,
    slot: u64,
) -> Result<usize, ExplorerError> {
    let all = events(store).await?;
    let named = named_accounts(all.iter().map(|e| &e.event));
    snapshot_named(store, cluster, slot, &named).await
}

/// Accounts read per request to the cluster.
const ACCOUNTS_PER_READ: usize = 100;

/// Snapshot `named` accounts as of now (`slot`): those that exist replace
/// their older snapshots.
pub async fn snapshot_named<C: Cluster>(
    store: &Store,
    cluster: &mut C,
    slot: u64,
    named: &[NamedAccount],
) -> Result<usize, ExplorerError> {
    let mut statements: Vec<(&str, Vec<Cell>)> = Vec::new();
    for chunk in named.chunks(ACCOUNTS_PER_READ) {
        let keys: Vec<Pubkey> = chunk.iter().map(|(k, _, _)| *k).collect();
        let states = cluster
            .accounts(&keys)
            .await
            .map_err(|e| ExplorerError::Source(e.to_string()))?;
        for ((address, kind, network), state) in chunk.iter().zip(states) {
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
pub async fn snapshots(store: &Store) -> Result<Vec<Snapshot>, ExplorerError> {
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
