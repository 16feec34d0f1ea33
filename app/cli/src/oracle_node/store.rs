//! The node's queue: every accepted report, durably, with where it stands.
//!
//! SQLite in WAL mode with `synchronous=FULL`: a commit is on disk when it
//! returns, so a report is stored before `POST /reports` answers and an
//! acknowledged report survives a crash. A report is `queued`, `sending`
//! (handed to the sender: its transaction may have landed), then `recorded`
//! (with its transaction's signature and slot), `already_recorded` (the chain
//! held its id before a transaction of this node carried it) or `rejected`
//! (with the program's error).

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::path::Path;

pub const QUEUED: &str = "queued";
pub const SENDING: &str = "sending";
pub const RECORDED: &str = "recorded";
pub const ALREADY: &str = "already_recorded";
pub const REJECTED: &str = "rejected";

/// A report as the queue keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    #[serde(skip)]
    pub seq: i64,
    pub id: u64,
    pub kind: String,
    /// The wallet the report is about (its id sequence's membership).
    pub wallet: String,
    /// That membership's member account.
    pub member: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot: Option<u64>,
    /// Unix milliseconds when it was accepted.
    pub accepted_at: i64,
    /// Times handed to the sender.
    pub attempts: i64,
    /// The report line as sent (work time fixed at acceptance).
    #[serde(skip)]
    pub line: String,
}

/// A report to store: the line as posted (to tell a repeated post from
/// another report with the same id) and as it will be sent.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub id: u64,
    pub kind: String,
    pub wallet: String,
    pub member: String,
    pub raw: String,
    pub line: String,
}

/// What the queue holds about a member's id, for checking a new report.
pub enum Known {
    /// Nothing about this member at or above the id.
    Fresh,
    /// This very report was accepted before (a repeated post): its row.
    Same(Box<Row>),
    /// The member's highest id stored (not rejected) is this, at or above the new one.
    Stale(u64),
}

/// Figures for `/metrics` and `/health`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub queued: u64,
    pub recorded: u64,
    pub already_recorded: u64,
    pub rejected: u64,
    pub retried: u64,
    /// Unix milliseconds of the oldest report not yet settled.
    pub oldest_queued_ms: Option<i64>,
    pub last_slot: Option<u64>,
}

pub struct Store {
    db: Connection,
}

/// Ids are u64: stored as zero-padded text, which SQLite orders as numbers.
fn key(id: u64) -> String {
    format!("{id:020}")
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

const COLUMNS: &str =
    "seq, id, kind, wallet, member, status, reason, signature, slot, accepted_at, attempts, line";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let id: String = r.get(1)?;
    let slot: Option<i64> = r.get(8)?;
    Ok(Row {
        seq: r.get(0)?,
        id: id.parse().unwrap_or_default(),
        kind: r.get(2)?,
        wallet: r.get(3)?,
        member: r.get(4)?,
        status: r.get(5)?,
        reason: r.get(6)?,
        signature: r.get(7)?,
        slot: slot.and_then(|s| u64::try_from(s).ok()),
        accepted_at: r.get(9)?,
        attempts: r.get(10)?,
        line: r.get(11)?,
    })
}

impl Store {
    /// Open (or create) the queue at `path`.
    pub fn open(path: &Path) -> Result<Store, String> {
        let shown = path.display();
        let db = Connection::open(path).map_err(|e| format!("--db {shown}: {e}"))?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS reports (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 id TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 wallet TEXT NOT NULL,
                 member TEXT NOT NULL,
                 status TEXT NOT NULL,
                 reason TEXT,
                 signature TEXT,
                 slot INTEGER,
                 accepted_at INTEGER NOT NULL,
                 done_at INTEGER,
                 attempts INTEGER NOT NULL DEFAULT 0,
                 raw TEXT NOT NULL,
                 line TEXT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS reports_member ON reports (member, id);
             CREATE INDEX IF NOT EXISTS reports_wallet ON reports (wallet, id);
             CREATE INDEX IF NOT EXISTS reports_status ON reports (status, seq);",
        )
        .map_err(|e| format!("--db {shown}: {e}"))?;
        Ok(Store { db })
    }
}

/// What the queue knows about report `id` of `member` posted as `raw`.
fn known(db: &Connection, member: &str, id: u64, raw: &str) -> rusqlite::Result<Known> {
    let same = db
            .query_row(
                &format!("SELECT {COLUMNS}, raw FROM reports WHERE member = ?1 AND id = ?2 ORDER BY seq DESC LIMIT 1"),
                params![member, key(id)],
                |r| Ok((row(r)?, r.get::<_, String>(12)?)),
            )
            .optional()?;
    if let Some((found, stored)) = same {
        if stored == raw {
            return Ok(Known::Same(Box::new(found)));
        }
    }
    let highest: Option<String> = db.query_row(
        "SELECT MAX(id) FROM reports WHERE member = ?1 AND status != ?2",
        params![member, REJECTED],
        |r| r.get(0),
    )?;
    match highest.and_then(|h| h.parse::<u64>().ok()) {
        Some(h) if h >= id => Ok(Known::Stale(h)),
        _ => Ok(Known::Fresh),
    }
}

impl Store {
    /// Store `reports` in one transaction, synced, unless `check` refuses
    /// one: it hears each report and what the queue knows of it (reports
    /// earlier in the same call included) and answers `Err` to store nothing.
    /// The answer for each report: `None` stored now, `Some(row)` posted before.
    pub fn accept(
        &mut self,
        reports: &[NewReport],
        mut check: impl FnMut(usize, &Known) -> Result<(), String>,
    ) -> Result<Result<Vec<Option<Row>>, Vec<String>>, String> {
        let tx = self.db.transaction().map_err(|e| e.to_string())?;
        let mut answers = Vec::with_capacity(reports.len());
        let mut refusals = Vec::new();
        let now = now_ms();
        for (i, r) in reports.iter().enumerate() {
            let known = known(&tx, &r.member, r.id, &r.raw).map_err(|e| e.to_string())?;
            if let Err(reason) = check(i, &known) {
                refusals.push(reason);
                continue;
            }
            match known {
                Known::Same(row) => answers.push(Some(*row)),
                _ => {
                    tx.execute(
                        "INSERT INTO reports (id, kind, wallet, member, status, accepted_at, raw, line)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![key(r.id), r.kind, r.wallet, r.member, QUEUED, now, r.raw, r.line],
                    )
                    .map_err(|e| e.to_string())?;
                    answers.push(None);
                }
            }
        }
        if !refusals.is_empty() {
            // Dropping the transaction rolls it back: nothing of the request is kept.
            return Ok(Err(refusals));
        }
        tx.commit().map_err(|e| e.to_string())?;
        Ok(Ok(answers))
    }

    /// How many reports wait to be sent, and since when the oldest (unix ms).
    pub fn waiting(&self) -> Result<(u64, Option<i64>), String> {
        self.db
            .query_row(
                "SELECT COUNT(*), MIN(accepted_at) FROM reports WHERE status = ?1",
                params![QUEUED],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?)),
            )
            .map(|(n, oldest)| (u64::try_from(n).unwrap_or(0), oldest))
            .map_err(|e| e.to_string())
    }

    /// Up to `most` queued reports in the order accepted, now `sending`.
    pub fn take(&mut self, most: usize) -> Result<Vec<Row>, String> {
        let tx = self.db.transaction().map_err(|e| e.to_string())?;
        let rows = {
            let mut query = tx
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM reports WHERE status = ?1 ORDER BY seq LIMIT ?2"
                ))
                .map_err(|e| e.to_string())?;
            let limit = i64::try_from(most).unwrap_or(i64::MAX);
            let found = query
                .query_map(params![QUEUED, limit], row)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<Row>>>)
                .map_err(|e| e.to_string())?;
            found
        };
        for r in &rows {
            tx.execute(
                "UPDATE reports SET status = ?1, attempts = attempts + 1 WHERE seq = ?2",
                params![SENDING, r.seq],
            )
            .map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())?;
        Ok(rows)
    }

    /// Reports handed to the sender when the node stopped: their
    /// transactions may have landed.
    pub fn in_doubt(&self) -> Result<Vec<Row>, String> {
        let mut query = self
            .db
            .prepare(&format!(
                "SELECT {COLUMNS} FROM reports WHERE status = ?1 ORDER BY seq"
            ))
            .map_err(|e| e.to_string())?;
        let rows = query
            .query_map(params![SENDING], row)
            .and_then(Iterator::collect::<rusqlite::Result<Vec<Row>>>)
            .map_err(|e| e.to_string());
        rows
    }

    /// Settle reports: each (seq, status, reason, signature, slot), in one synced transaction.
    pub fn settle(&mut self, outcomes: &[Outcome]) -> Result<(), String> {
        let tx = self.db.transaction().map_err(|e| e.to_string())?;
        let now = now_ms();
        for o in outcomes {
            let slot = o.slot.and_then(|s| i64::try_from(s).ok());
            tx.execute(
                "UPDATE reports SET status = ?1, reason = ?2, signature = ?3, slot = ?4, done_at = ?5 WHERE seq = ?6",
                params![o.status, o.reason, o.signature, slot, now, o.seq],
            )
            .map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())
    }

    /// Every report `id` about `wallet` (one per membership it reports under).
    pub fn find(&self, wallet: &str, id: u64) -> Result<Vec<Row>, String> {
        let mut query = self
            .db
            .prepare(&format!(
                "SELECT {COLUMNS} FROM reports WHERE wallet = ?1 AND id = ?2 ORDER BY seq"
            ))
            .map_err(|e| e.to_string())?;
        let rows = query
            .query_map(params![wallet, key(id)], row)
            .and_then(Iterator::collect::<rusqlite::Result<Vec<Row>>>)
            .map_err(|e| e.to_string());
        rows
    }

    pub fn counts(&self) -> Result<Counts, String> {
        let mut counts = Counts::default();
        let mut query = self
            .db
            .prepare("SELECT status, COUNT(*) FROM reports GROUP BY status")
            .map_err(|e| e.to_string())?;
        let by_status = query
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(|e| e.to_string())?;
        for (status, n) in by_status {
            let n = u64::try_from(n).unwrap_or(0);
            match status.as_str() {
                QUEUED | SENDING => counts.queued += n,
                RECORDED => counts.recorded = n,
                ALREADY => counts.already_recorded = n,
                REJECTED => counts.rejected = n,
                _ => {}
            }
        }
        let (retried, oldest, slot) = self
            .db
            .query_row(
                "SELECT (SELECT COALESCE(SUM(attempts - 1), 0) FROM reports WHERE attempts > 1),
                        (SELECT MIN(accepted_at) FROM reports WHERE status IN (?1, ?2)),
                        (SELECT MAX(slot) FROM reports WHERE status = ?3)",
                params![QUEUED, SENDING, RECORDED],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                    ))
                },
            )
            .map_err(|e| e.to_string())?;
        counts.retried = u64::try_from(retried).unwrap_or(0);
        counts.oldest_queued_ms = oldest;
        counts.last_slot = slot.and_then(|s| u64::try_from(s).ok());
        Ok(counts)
    }
}

/// How a report handed to the sender ended (or `queued` to send it again).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub seq: i64,
    pub status: &'static str,
    pub reason: Option<String>,
    pub signature: Option<String>,
    pub slot: Option<u64>,
}

/// When each report of the queue at `path` was settled (unix ms), in the
/// order accepted; `None` while it waits. Read beside a running node (WAL).
pub fn settled_times(path: &Path) -> Result<Vec<Option<i64>>, String> {
    let db = Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut query = db
        .prepare("SELECT done_at FROM reports ORDER BY seq")
        .map_err(|e| e.to_string())?;
    let times = query
        .query_map([], |r| r.get::<_, Option<i64>>(0))
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(|e| e.to_string());
    times
}
