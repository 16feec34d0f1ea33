//! The index: SQLite by default (a file, no set-up), PostgreSQL when given a
//! `postgres://` URL. Both run the same SQL, written with `$1`-style
//! parameters (rewritten to SQLite's `?1`) over two column types, BIGINT and
//! TEXT.

mod schema;

use crate::ExplorerError;
use schema::MIGRATIONS;

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

/// An open index.
pub enum Store {
    Sqlite(Box<rusqlite::Connection>),
    Postgres(tokio_postgres::Client),
}

fn db_error(e: impl std::fmt::Display) -> ExplorerError {
    ExplorerError::Store(e.to_string())
}

/// `$1` → `?1`: SQLite's numbered parameters.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

impl Store {
    /// Open (creating if needed) the index at `url` and bring its schema up to
    /// date: `postgres://…` or `postgresql://…`, `:memory:`, or a file path
    /// (optionally `sqlite://path`).
    pub async fn open(url: &str) -> Result<Store, ExplorerError> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .map_err(|e| ExplorerError::Store(format!("{url}: {e}")))?;
            tokio::spawn(async move {
                // The connection ends when the client is dropped; an error
                // shows up on the client's next query.
                let _ = connection.await;
            });
            Store::Postgres(client)
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            let connection = if path == ":memory:" {
                rusqlite::Connection::open_in_memory()
            } else {
                rusqlite::Connection::open(path)
            }
            .map_err(|e| ExplorerError::Store(format!("{path}: {e}")))?;
            Store::Sqlite(Box::new(connection))
        };
        let mut store = store;
        store.migrate().await?;
        Ok(store)
    }

    /// Which database this is, for messages.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgresql",
        }
    }

    /// Run the statements of one migration (or any batch) as one transaction.
    async fn batch(&mut self, statements: &[(&str, Vec<Cell>)]) -> Result<(), ExplorerError> {
        match self {
            Store::Sqlite(connection) => {
                let tx = connection.transaction().map_err(db_error)?;
                for (sql, params) in statements {
                    tx.execute(
                        &sqlite_sql(sql),
                        rusqlite::params_from_iter(params.iter().map(sqlite_param)),
                    )
                    .map_err(db_error)?;
                }
                tx.commit().map_err(db_error)
            }
            Store::Postgres(client) => {
                let tx = client.transaction().await.map_err(db_error)?;
                for (sql, params) in statements {
                    let values = pg_params(params);
                    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                        values.iter().map(|v| v.as_ref() as _).collect();
                    tx.execute(*sql, &refs).await.map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)
            }
        }
    }

    /// One statement.
    pub async fn execute(&mut self, sql: &str, params: Vec<Cell>) -> Result<(), ExplorerError> {
        self.batch(&[(sql, params)]).await
    }

    /// Rows of a query, each a list of cells in column order.
    pub async fn query(
        &mut self,
        sql: &str,
        params: Vec<Cell>,
    ) -> Result<Vec<Vec<Cell>>, ExplorerError> {
        match self {
            Store::Sqlite(connection) => {
                let mut statement = connection.prepare(&sqlite_sql(sql)).map_err(db_error)?;
                let columns = statement.column_count();
                let mut rows = statement
                    .query(rusqlite::params_from_iter(params.iter().map(sqlite_param)))
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
                                    "unexpected column type {:?}",
                                    other.data_type()
                                )))
                            }
                        });
                    }
                    out.push(cells);
                }
                Ok(out)
            }
            Store::Postgres(client) => {
                let values = pg_params(&params);
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    values.iter().map(|v| v.as_ref() as _).collect();
                let rows = client.query(sql, &refs).await.map_err(db_error)?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let mut cells = Vec::with_capacity(row.len());
                    for (i, column) in row.columns().iter().enumerate() {
                        let cell = if *column.type_() == tokio_postgres::types::Type::INT8 {
                            row.try_get::<_, Option<i64>>(i)
                                .map_err(db_error)?
                                .map_or(Cell::Null, Cell::Int)
                        } else {
                            row.try_get::<_, Option<String>>(i)
                                .map_err(db_error)?
                                .map_or(Cell::Null, Cell::Text)
                        };
                        cells.push(cell);
                    }
                    out.push(cells);
                }
                Ok(out)
            }
        }
    }

    /// Apply the migrations this index has not had yet; how many ran.
    pub async fn migrate(&mut self) -> Result<usize, ExplorerError> {
        self.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)",
            vec![],
        )
        .await?;
        let applied: Vec<i64> = self
            .query("SELECT version FROM schema_migrations", vec![])
            .await?
            .iter()
            .filter_map(|row| row.first().and_then(Cell::int))
            .collect();
        let mut ran = 0;
        for (version, name, statements) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            let mut batch: Vec<(&str, Vec<Cell>)> =
                statements.iter().map(|sql| (*sql, vec![])).collect();
            batch.push((
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                vec![Cell::Int(*version), Cell::from(*name)],
            ));
            self.batch(&batch).await?;
            ran += 1;
        }
        Ok(ran)
    }

    /// The whole number a one-value query (`SELECT MAX(...)`) returns; 0 for none.
    pub async fn number(&mut self, sql: &str) -> Result<i64, ExplorerError> {
        let rows = self.query(sql, vec![]).await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(Cell::int)
            .unwrap_or(0))
    }

    /// The schema version this index is at.
    pub async fn schema_version(&mut self) -> Result<i64, ExplorerError> {
        self.number("SELECT MAX(version) FROM schema_migrations")
            .await
    }

    /// Run several statements atomically.
    pub async fn atomically(
        &mut self,
        statements: &[(&str, Vec<Cell>)],
    ) -> Result<(), ExplorerError> {
        self.batch(statements).await
    }
}

fn sqlite_param(cell: &Cell) -> rusqlite::types::Value {
    match cell {
        Cell::Int(n) => rusqlite::types::Value::Integer(*n),
        Cell::Text(s) => rusqlite::types::Value::Text(s.clone()),
        Cell::Null => rusqlite::types::Value::Null,
    }
}

fn pg_params(cells: &[Cell]) -> Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>> {
    cells
        .iter()
        .map(
            |cell| -> Box<dyn tokio_postgres::types::ToSql + Sync + Send> {
                match cell {
                    Cell::Int(n) => Box::new(*n),
                    Cell::Text(s) => Box::new(s.clone()),
                    Cell::Null => Box::new(Option::<String>::None),
                }
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_for_sqlite() {
        assert_eq!(
            sqlite_sql("SELECT a FROM t WHERE b = $1 AND c = $12"),
            "SELECT a FROM t WHERE b = ?1 AND c = ?12"
        );
    }

    #[tokio::test]
    async fn migrations_run_once_and_record_their_version() {
        let mut store = Store::open(":memory:").await.expect("open");
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
}
