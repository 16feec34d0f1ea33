//! Rebuilding the typed tables from the events an index already holds.

use super::{project, NewTransaction, Touched};
use crate::index::{stored_event, Fetched};
use crate::store::{text_at, Cell, Store};
use crate::ExplorerError;

/// Transactions per projection step when rebuilding the typed tables.
const PROJECT_CHUNK: i64 = 2_000;

/// Fill the typed tables from the events already stored: an index made
/// before they existed (schema migration 3) gets them on its next open.
pub async fn project_history(store: &Store) -> Result<usize, ExplorerError> {
    let newest = store
        .number("SELECT MAX(position) FROM transactions")
        .await?;
    let mut done = 0;
    let mut from = 0;
    while from < newest {
        let to = from + PROJECT_CHUNK;
        let rows = store
            .query(
                "SELECT e.signature, e.ordinal, e.position, e.block_time, e.kind, e.data, t.slot FROM events e JOIN transactions t ON t.signature = e.signature WHERE e.position > $1 AND e.position <= $2 ORDER BY e.position, e.ordinal",
                vec![from.into(), to.into()],
            )
            .await?;
        let mut transactions: Vec<NewTransaction> = Vec::new();
        for row in &rows {
            let event = stored_event(row)?;
            let signature = text_at(row, 0);
            let position = row.get(2).and_then(Cell::int).unwrap_or_default();
            if transactions.last().map(|t| &t.fetched.signature) != Some(&signature) {
                transactions.push(NewTransaction {
                    fetched: Fetched {
                        signature,
                        slot: row
                            .get(6)
                            .and_then(Cell::int)
                            .map_or(0, |s| s.max(0) as u64),
                        block_time: row.get(3).and_then(Cell::int).unwrap_or_default(),
                        failed: false,
                        inner_data: Vec::new(),
                    },
                    position,
                    events: Vec::new(),
                });
            }
            if let Some(last) = transactions.last_mut() {
                last.events.push(event);
            }
        }
        let touched = Touched::of(transactions.iter().flat_map(|t| t.events.iter()));
        done += transactions.len();
        store
            .read_then_write(super::reads_for(&touched), move |results| {
                let current = super::Current::from_results(&results)?;
                Ok((project(&transactions, current), ()))
            })
            .await?;
        from = to;
    }
    Ok(done)
}
