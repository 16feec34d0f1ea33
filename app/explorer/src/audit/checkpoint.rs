//! What the audit reads and writes besides the verdict: the events of a
//! network after its checkpoint, the snapshots it checks, and the
//! checkpoints themselves (`audit_checkpoints`, one per network, and
//! `audit_members`, one row per member account of a network).

use super::replay::state::{decode, MemberRow};
use crate::index::{unb64, IndexedEvent, Snapshot};
use crate::store::{text_at, Cell, Store};
use crate::ExplorerError;
use anchor_lang::event::EVENT_IX_TAG_LE;
use anchor_lang::prelude::Pubkey;
use std::collections::HashMap;
use std::str::FromStr;
use upline_sdk::events::decode_event;

/// Keys per `IN (...)` list: well under SQLite's and PostgreSQL's parameter limits.
const CHUNK: usize = 400;

/// Rows per multi-row INSERT (3 parameters each).
const ROWS_PER_INSERT: usize = 300;

/// A network's saved checkpoint: after the event at (position, ordinal).
pub struct Saved {
    pub network: Pubkey,
    pub after: (i64, i64),
    pub events: i64,
    pub state: String,
}

fn key(text: &str, what: &str) -> Result<Pubkey, ExplorerError> {
    Pubkey::from_str(text)
        .map_err(|_| ExplorerError::Corrupt(format!("{what}: bad address {text}")))
}

fn int(row: &[Cell], i: usize) -> i64 {
    row.get(i).and_then(Cell::int).unwrap_or_default()
}

/// Every network's checkpoint.
pub async fn checkpoints(store: &Store) -> Result<Vec<Saved>, ExplorerError> {
    let rows = store
        .query(
            "SELECT network, position, ordinal, events, state FROM audit_checkpoints",
            vec![],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Saved {
                network: key(&text_at(row, 0), "audit_checkpoints")?,
                after: (int(row, 1), int(row, 2)),
                events: int(row, 3),
                state: text_at(row, 4),
            })
        })
        .collect()
}

/// The networks of the events after position `after` up to `through`.
pub async fn networks(
    store: &Store,
    (after, through): (i64, i64),
) -> Result<Vec<Pubkey>, ExplorerError> {
    let rows = store
        .query(
            "SELECT DISTINCT network FROM events WHERE position > $1 AND position <= $2",
            vec![after.into(), through.into()],
        )
        .await?;
    rows.iter()
        .map(|row| key(&text_at(row, 0), "events"))
        .collect()
}

/// The events of `network` after (position, ordinal) up to position
/// `through`, in chain order. (The `position >= $2` lets both databases seek
/// `events_by_network` to the checkpoint; with the OR alone SQLite reads all
/// the network's events.)
pub async fn events_after(
    store: &Store,
    network: &Pubkey,
    (position, ordinal): (i64, i64),
    through: i64,
) -> Result<Vec<IndexedEvent>, ExplorerError> {
    let rows = store
        .query(
            "SELECT signature, ordinal, position, block_time, kind, data FROM events \
             WHERE network = $1 AND position >= $2 AND (position > $2 OR ordinal > $3) \
             AND position <= $4 ORDER BY position, ordinal",
            vec![
                network.to_string().into(),
                position.into(),
                ordinal.into(),
                through.into(),
            ],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        // As `index::events` decodes them.
        let signature = text_at(&row, 0);
        let mut data = EVENT_IX_TAG_LE.to_vec();
        data.extend_from_slice(&unb64(&text_at(&row, 5))?);
        let event = decode_event(&data).ok_or_else(|| {
            ExplorerError::Corrupt(format!(
                "{signature} event {}: the stored {} does not decode",
                int(&row, 1),
                text_at(&row, 4)
            ))
        })?;
        out.push(IndexedEvent {
            signature,
            ordinal: int(&row, 1),
            position: int(&row, 2),
            block_time: int(&row, 3),
            event,
        });
    }
    Ok(out)
}

fn snapshots(rows: Vec<Vec<Cell>>) -> Result<Vec<Snapshot>, ExplorerError> {
    rows.iter()
        .map(|row| {
            Ok(Snapshot {
                address: key(&text_at(row, 0), "accounts")?,
                kind: text_at(row, 1),
                network: key(&text_at(row, 2), "accounts")?,
                data: unb64(&text_at(row, 3))?,
            })
        })
        .collect()
}

const ACCOUNTS: &str = "SELECT address, kind, network, data FROM accounts WHERE network = $1";

/// Every snapshot of `network`.
pub async fn accounts(store: &Store, network: &Pubkey) -> Result<Vec<Snapshot>, ExplorerError> {
    snapshots(
        store
            .query(ACCOUNTS, vec![network.to_string().into()])
            .await?,
    )
}

/// The ledger and vault snapshots of `network`.
pub async fn ledger_accounts(
    store: &Store,
    network: &Pubkey,
) -> Result<Vec<Snapshot>, ExplorerError> {
    let sql = format!("{ACCOUNTS} AND kind IN ($2, $3)");
    let params = vec![network.to_string().into(), "ledger".into(), "vault".into()];
    snapshots(store.query(&sql, params).await?)
}

/// `($first, $first+1, ...)` for `count` parameters.
fn list(first: usize, count: usize) -> String {
    let items: Vec<String> = (first..first + count).map(|i| format!("${i}")).collect();
    format!("({})", items.join(", "))
}

/// The member snapshots of `network` among `members`.
pub async fn member_accounts(
    store: &Store,
    network: &Pubkey,
    members: &[Pubkey],
) -> Result<Vec<Snapshot>, ExplorerError> {
    let mut out = Vec::new();
    for chunk in members.chunks(CHUNK) {
        // By address alone: given the network and kind too, SQLite would
        // rather walk an index through every member of the network.
        let sql = format!(
            "SELECT address, kind, network, data FROM accounts WHERE address IN {}",
            list(1, chunk.len())
        );
        let params: Vec<Cell> = chunk.iter().map(|k| Cell::from(k.to_string())).collect();
        let found = snapshots(store.query(&sql, params).await?)?;
        out.extend(
            found
                .into_iter()
                .filter(|s| s.kind == "member" && s.network == *network),
        );
    }
    Ok(out)
}

/// The saved rows of `network` among `members`; `None` if one is of
/// another version or does not decode.
pub async fn member_rows(
    store: &Store,
    network: &Pubkey,
    members: &[Pubkey],
) -> Result<Option<HashMap<Pubkey, MemberRow>>, ExplorerError> {
    let mut out = HashMap::new();
    for chunk in members.chunks(CHUNK) {
        let sql = format!(
            "SELECT member, state FROM audit_members WHERE network = $1 AND member IN {}",
            list(2, chunk.len())
        );
        let mut params: Vec<Cell> = vec![network.to_string().into()];
        params.extend(chunk.iter().map(|k| Cell::from(k.to_string())));
        for row in store.query(&sql, params).await? {
            let Some(state) = decode::<MemberRow>(&text_at(&row, 1)) else {
                return Ok(None);
            };
            out.insert(key(&text_at(&row, 0), "audit_members")?, state);
        }
    }
    Ok(Some(out))
}

/// A network's checkpoint as the next [`super::save`] writes it.
#[derive(Clone, Default)]
pub struct Pending {
    pub network: Pubkey,
    pub after: (i64, i64),
    pub events: i64,
    pub state: String,
    /// A full replay's: the network's member rows are all of `rows`.
    pub replace_members: bool,
    /// (member, state) to write.
    pub rows: Vec<(String, String)>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Pending {{ network: {}, after: {:?}, events: {}, state: {} bytes, rows: {} }}",
            self.network,
            self.after,
            self.events,
            self.state.len(),
            self.rows.len()
        )
    }
}

/// The statements that write `pending` at unix time `at`.
pub fn statements(pending: &[Pending], at: i64) -> Vec<(String, Vec<Cell>)> {
    let mut out = Vec::new();
    for p in pending {
        let network = p.network.to_string();
        out.push((
            "INSERT INTO audit_checkpoints (network, position, ordinal, events, state, saved_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (network) DO UPDATE SET \
             position = excluded.position, ordinal = excluded.ordinal, events = excluded.events, \
             state = excluded.state, saved_at = excluded.saved_at"
                .to_string(),
            vec![
                network.clone().into(),
                p.after.0.into(),
                p.after.1.into(),
                p.events.into(),
                p.state.clone().into(),
                at.into(),
            ],
        ));
        if p.replace_members {
            out.push((
                "DELETE FROM audit_members WHERE network = $1".to_string(),
                vec![network.clone().into()],
            ));
        }
        for chunk in p.rows.chunks(ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len()).map(|i| list(3 * i + 1, 3)).collect();
            let sql = format!(
                "INSERT INTO audit_members (network, member, state) VALUES {} \
                 ON CONFLICT (network, member) DO UPDATE SET state = excluded.state",
                values.join(", ")
            );
            let mut params = Vec::with_capacity(3 * chunk.len());
            for (member, state) in chunk {
                params.push(Cell::from(network.clone()));
                params.push(Cell::from(member.clone()));
                params.push(Cell::from(state.clone()));
            }
            out.push((sql, params));
        }
    }
    out
}
