//! SQLite behind a pool: a file in WAL mode, so readers run beside the one
//! writer (several API requests at once, indexing in the background); the
//! blocking calls run on tokio's blocking threads, never on the workers that
//! serve requests.

use super::{Cell, Rows, Statement};
use crate::store::dialect::Dialect;
use crate::ExplorerError;
use deadpool::managed::{self, Metrics, RecycleResult};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How long a writer waits for another (another process indexing).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens the pool's connections.
pub struct Manager {
    /// A path, or a shared in-memory database's URI.
    target: String,
    flags: OpenFlags,
}

impl managed::Manager for Manager {
    type Type = Connection;
    type Error = rusqlite::Error;

    async fn create(&self) -> Result<Connection, rusqlite::Error> {
        let connection = Connection::open_with_flags(&self.target, self.flags)?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        // WAL: readers never wait for the writer; a file only (memory has none).
        if !self.target.starts_with("file:") {
            connection.pragma_update(None, "journal_mode", "WAL")?;
            connection.pragma_update(None, "synchronous", "NORMAL")?;
        }
        connection.set_prepared_statement_cache_capacity(64);
        Ok(connection)
    }

    async fn recycle(&self, _: &mut Connection, _: &Metrics) -> RecycleResult<rusqlite::Error> {
        Ok(())
    }
}

pub type Pool = managed::Pool<Manager>;

/// An open SQLite index: its pool and, for `:memory:`, the connection that
/// keeps the shared in-memory database alive.
pub struct Sqlite {
    pub pool: Pool,
    _keep_alive: Option<std::sync::Mutex<Connection>>,
}

fn db_error(e: impl std::fmt::Display) -> ExplorerError {
    ExplorerError::Store(e.to_string())
}

/// Connections per file; `:memory:` gets one (SQLite's shared cache locks
/// whole tables, so concurrent use would fail rather than wait).
const FILE_POOL: usize = 8;

static MEMORY_DATABASES: AtomicUsize = AtomicUsize::new(0);

impl Sqlite {
    pub fn open(path: &str) -> Result<Sqlite, ExplorerError> {
        let base = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let (manager, size, keep_alive) = if path == ":memory:" {
            // A private database per open, shared by this store's connections.
            let n = MEMORY_DATABASES.fetch_add(1, Ordering::Relaxed);
            let uri = format!(
                "file:upline-index-{}-{n}?mode=memory&cache=shared",
                std::process::id()
            );
            let flags = base | OpenFlags::SQLITE_OPEN_URI;
            let keep = Connection::open_with_flags(&uri, flags)
                .map_err(|e| ExplorerError::Store(format!("{path}: {e}")))?;
            let manager = Manager { target: uri, flags };
            (manager, 1, Some(std::sync::Mutex::new(keep)))
        } else {
            // Fail now, with the path, rather than at the first request.
            Connection::open_with_flags(path, base)
                .map_err(|e| ExplorerError::Store(format!("{path}: {e}")))?;
            let manager = Manager {
                target: path.to_string(),
                flags: base,
            };
            (manager, FILE_POOL, None)
        };
        let pool = Pool::builder(manager)
            .max_size(size)
            .build()
            .map_err(db_error)?;
        Ok(Sqlite {
            pool,
            _keep_alive: keep_alive,
        })
    }

    /// Run `work` on a pooled connection on a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, ExplorerError> + Send + 'static,
    ) -> Result<T, ExplorerError> {
        let mut connection = self.pool.get().await.map_err(db_error)?;
        tokio::task::spawn_blocking(move || work(&mut connection))
            .await
            .map_err(db_error)?
    }

    pub async fn query(&self, sql: &str, params: Vec<Cell>) -> Result<Rows, ExplorerError> {
        let sql = Dialect::Sqlite.rewrite(sql);
        self.with(move |connection| rows(connection, &sql, &params))
            .await
    }

    /// Reads, then the writes `compute` makes of their rows, in one
    /// transaction that holds the write lock from the start (`BEGIN
    /// IMMEDIATE`): two indexers never interleave.
    pub async fn read_then_write<R, F>(
        &self,
        reads: Vec<Statement>,
        compute: F,
    ) -> Result<R, ExplorerError>
    where
        R: Send + 'static,
        F: FnOnce(Vec<Rows>) -> Result<(Vec<Statement>, R), ExplorerError> + Send + 'static,
    {
        self.with(move |connection| {
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_error)?;
            let mut results = Vec::with_capacity(reads.len());
            for (sql, params) in &reads {
                results.push(rows(&tx, &Dialect::Sqlite.rewrite(sql), params)?);
            }
            let (writes, out) = compute(results)?;
            for (sql, params) in &writes {
                let mut statement = tx
                    .prepare_cached(&Dialect::Sqlite.rewrite(sql))
                    .map_err(|e| ExplorerError::Store(format!("{e}: {sql}")))?;
                statement
                    .execute(rusqlite::params_from_iter(params.iter().map(param)))
                    .map_err(|e| ExplorerError::Store(format!("{e}: {sql}")))?;
            }
            tx.commit().map_err(db_error)?;
            Ok(out)
        })
        .await
    }
}

fn param(cell: &Cell) -> rusqlite::types::Value {
    match cell {
        Cell::Int(n) => rusqlite::types::Value::Integer(*n),
        Cell::Text(s) => rusqlite::types::Value::Text(s.clone()),
        Cell::Null => rusqlite::types::Value::Null,
    }
}

fn rows(connection: &Connection, sql: &str, params: &[Cell]) -> Result<Rows, ExplorerError> {
    let mut statement = connection
        .prepare_cached(sql)
        .map_err(|e| ExplorerError::Store(format!("{e}: {sql}")))?;
    let columns = statement.column_count();
    let mut rows = statement
        .query(rusqlite::params_from_iter(params.iter().map(param)))
        .map_err(db_error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_error)? {
        let mut cells = Vec::with_capacity(columns);
        for i in 0..columns {
            cells.push(match row.get_ref(i).map_err(db_error)? {
                rusqlite::types::ValueRef::Integer(n) => Cell::Int(n),
                rusqlite::types::ValueRef::Text(t) => {
                    Cell::Text(String::from_utf8_lossy(t).into_owned())
                }
                rusqlite::types::ValueRef::Null => Cell::Null,
                other => {
                    return Err(ExplorerError::Store(format!(
                        "unexpected column type {:?} in {sql}",
                        other.data_type()
                    )))
                }
            });
        }
        out.push(cells);
    }
    Ok(out)
}
