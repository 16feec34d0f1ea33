//! The index: SQLite by default (a file, no set-up), PostgreSQL when given a
//! `postgres://` URL (over TLS when the URL asks: `sslmode=require`). Both
//! sit behind a connection pool, so requests run concurrently and indexing
//! never blocks them, and both run the same SQL ([`dialect`]).

pub mod dialect;
mod postgres;
mod schema;
mod sqlite;

use crate::ExplorerError;
use dialect::Dialect;
use schema::MIGRATIONS;
use std::sync::Arc;

pub use postgres::redact;

/// A parameter or a cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Int(i64),
    Text(String),
    Null,
}

impl Cell {
    pub fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(n) => Some(*n),
            _ => None,
        }
    }
    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}
impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}
impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Cell {
        s.map_or(Cell::Null, Cell::Text)
    }
}

/// Column `i` of `row` as text ("" when absent or not text).
pub fn text_at(row: &[Cell], i: usize) -> String {
    row.get(i)
        .and_then(Cell::text)
        .unwrap_or_default()
        .to_string()
}

/// Rows of a query, each a list of cells in column order.
pub type Rows = Vec<Vec<Cell>>;
/// One statement and its parameters.
pub type Statement = (String, Vec<Cell>);

enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(deadpool_postgres::Pool),
}

/// An open index: a pool of connections; clones share it.
#[derive(Clone)]
pub struct Store {
    backend: Arc<Backend>,
    /// Which open index this is, unique in the process (see [`Store::generation`]).
    id: u64,
    /// Bumped by every write through this store: what was read before a
    /// bump may be stale (see [`Store::generation`]).
    generation: Arc<std::sync::atomic::AtomicU64>,
}

/// The ids given to indexes opened in this process.
static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Store {
    /// Open (creating if needed) the index at `url` and bring its schema up to
    /// date: `postgres://…` or `postgresql://…` (with libpq's `sslmode`),
    /// `:memory:`, or a file path (optionally `sqlite://path`).
    pub async fn open(url: &str) -> Result<Store, ExplorerError> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(postgres::open(url).await?)
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            Backend::Sqlite(sqlite::Sqlite::open(path)?)
        };
        let store = Store {
            backend: Arc::new(backend),
            id: OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            generation: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        };
        let before = store.schema_version().await.unwrap_or(0);
        store.migrate().await?;
        if (1..3).contains(&before) {
            // An index from before the typed tables: fill them from its events.
            crate::project::project_history(&store).await?;
        }
        Ok(store)
    }

    /// Which database this is, for messages.
    pub fn backend(&self) -> &'static str {
        match *self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgresql",
        }
    }

    /// The SQL dialect statements are rewritten to.
    pub fn dialect(&self) -> Dialect {
        match *self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// An ORDER BY fragment sorting an amount column by value (ascending).
    pub fn amount_order(&self, column: &str) -> String {
        self.dialect().amount_order(column)
    }

    /// An ORDER BY fragment sorting an amount column by value, descending.
    pub fn amount_order_desc(&self, column: &str) -> String {
        self.dialect().amount_order_desc(column)
    }

    /// Rows of a query, each a list of cells in column order.
    pub async fn query(&self, sql: &str, params: Vec<Cell>) -> Result<Rows, ExplorerError> {
        match &*self.backend {
            Backend::Sqlite(db) => db.query(sql, params).await,
            Backend::Postgres(pool) => postgres::query(pool, sql, params).await,
        }
    }

    /// Reads, then the writes `compute` makes of what they returned, as one
    /// transaction that holds the index's write lock from its start: two
    /// indexers (two processes even) never interleave their read-modify-writes.
    pub async fn read_then_write<R, F>(
        &self,
        reads: Vec<Statement>,
        compute: F,
    ) -> Result<R, ExplorerError>
    where
        R: Send + 'static,
        F: FnOnce(Vec<Rows>) -> Result<(Vec<Statement>, R), ExplorerError> + Send + 'static,
    {
        let written = match &*self.backend {
            Backend::Sqlite(db) => db.read_then_write(reads, compute).await,
            Backend::Postgres(pool) => postgres::read_then_write(pool, reads, compute).await,
        };
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        written
    }

    /// This index (an id never reused in the process, unlike the address of
    /// a dropped pool) and how many writes this process has made to it: a
    /// reader that keeps what it read may keep it while both are the same
    /// (writes by other processes are not counted).
    pub fn generation(&self) -> (u64, u64) {
        (
            self.id,
            self.generation.load(std::sync::atomic::Ordering::Acquire),
        )
    }

    /// Run several statements atomically.
    pub async fn atomically(&self, statements: &[(&str, Vec<Cell>)]) -> Result<(), ExplorerError> {
        let writes: Vec<Statement> = statements
            .iter()
            .map(|(sql, params)| (sql.to_string(), params.clone()))
            .collect();
        self.read_then_write(Vec::new(), move |_| Ok((writes, ())))
            .await
    }

    /// One statement.
    pub async fn execute(&self, sql: &str, params: Vec<Cell>) -> Result<(), ExplorerError> {
        self.atomically(&[(sql, params)]).await
    }

    /// Apply the migrations this index has not had yet; how many ran.
    pub async fn migrate(&self) -> Result<usize, ExplorerError> {
        self.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)",
            vec![],
        )
        .await?;
        let dialect = self.dialect();
        // Read and applied under the write lock: two processes opening the
        // same new index migrate it once.
        self.read_then_write(
            vec![("SELECT version FROM schema_migrations".to_string(), vec![])],
            move |results| {
                let applied: Vec<i64> = results
                    .first()
                    .into_iter()
                    .flatten()
                    .filter_map(|row| row.first().and_then(Cell::int))
                    .collect();
                let mut writes = Vec::new();
                let mut ran = 0;
                for (version, name, statements) in MIGRATIONS {
                    if applied.contains(version) {
                        continue;
                    }
                    writes.extend(
                        statements
                            .iter()
                            .filter(|sql| dialect.runs(sql))
                            .map(|sql| (sql.to_string(), vec![])),
                    );
                    writes.push((
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)".to_string(),
                        vec![Cell::Int(*version), Cell::from(*name)],
                    ));
                    ran += 1;
                }
                Ok((writes, ran))
            },
        )
        .await
    }

    /// The whole number a one-value query (`SELECT MAX(...)`) returns; 0 for none.
    pub async fn number(&self, sql: &str) -> Result<i64, ExplorerError> {
        let rows = self.query(sql, vec![]).await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(Cell::int)
            .unwrap_or(0))
    }

    /// The schema version this index is at.
    pub async fn schema_version(&self) -> Result<i64, ExplorerError> {
        self.number("SELECT MAX(version) FROM schema_migrations")
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn migrations_run_once_and_record_their_version() {
        let store = Store::open(":memory:").await.expect("open");
        assert_eq!(
            store.schema_version().await.expect("version"),
            MIGRATIONS.len() as i64
        );
        assert_eq!(store.migrate().await.expect("again"), 0);
        store
            .execute(
                "INSERT INTO cursors (source, signature, slot) VALUES ($1, $2, $3)",
                vec!["a".into(), "sig".into(), 7.into()],
            )
            .await
            .expect("insert");
        let rows = store
            .query(
                "SELECT signature, slot FROM cursors WHERE source = $1",
                vec!["a".into()],
            )
            .await
            .expect("select");
        assert_eq!(rows, vec![vec![Cell::from("sig"), Cell::Int(7)]]);
    }

    /// A reader is answered while a writer holds the index's write lock
    /// (the writer waits for the reader's answer, and gives up after 20 s).
    async fn reads_beside_a_write(store: Store) {
        store
            .execute(
                "INSERT INTO cursors (source, signature, slot) VALUES ('a', 'x', 1)",
                vec![],
            )
            .await
            .expect("seed");
        let (answered, heard) = std::sync::mpsc::channel::<String>();
        let writer = store.clone();
        let write = tokio::spawn(async move {
            writer
                .read_then_write(vec![], move |_| {
                    let read = heard
                        .recv_timeout(std::time::Duration::from_secs(20))
                        .map_err(|_| ExplorerError::Store("no read while writing".into()))?;
                    Ok((
                        vec![("UPDATE cursors SET slot = 2".to_string(), vec![])],
                        read,
                    ))
                })
                .await
        });
        // The reader sees the state before the write, without waiting for it.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let rows = store
            .query("SELECT signature, slot FROM cursors", vec![])
            .await
            .expect("read while the writer holds the lock");
        let sent = answered.send(format!("{rows:?}"));
        let read = write.await.expect("joined").expect("the write committed");
        assert!(sent.is_ok(), "the writer was waiting for the read");
        assert_eq!(
            read,
            format!("{:?}", vec![vec![Cell::from("x"), Cell::Int(1)]])
        );
        assert_eq!(
            store
                .number("SELECT slot FROM cursors")
                .await
                .expect("after"),
            2
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_files_answer_reads_while_indexing_writes() {
        let dir = std::env::temp_dir().join(format!("upline-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("concurrent.sqlite");
        let _ = std::fs::remove_file(&path);
        let store = Store::open(path.to_str().expect("path"))
            .await
            .expect("open");
        reads_beside_a_write(store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_answers_reads_while_indexing_writes() {
        let Ok(url) = std::env::var("UPLINE_TEST_POSTGRES") else {
            assert!(std::env::var_os("UPLINE_REQUIRE_SERVICES").is_none());
            return;
        };
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        client
            .batch_execute(
                "DROP SCHEMA IF EXISTS store_concurrency CASCADE; CREATE SCHEMA store_concurrency",
            )
            .await
            .expect("schema");
        let separator = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{separator}options=-csearch_path%3Dstore_concurrency");
        reads_beside_a_write(Store::open(&url).await.expect("open")).await;
    }
}
