//! One SQL text for both databases. Statements are written in PostgreSQL's
//! dialect, using only what SQLite also understands once rewritten here:
//! `$1` parameters become `?1`, exact-amount columns (`NUMERIC(39,0)`) become
//! decimal TEXT, and the casts that pass and read amounts as text
//! (`$3::text::numeric`, `amount_wad::text`) are dropped.

/// Which database a statement is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The column type of an exact amount in PostgreSQL: u128 has 39 digits.
const AMOUNT_TYPE: &str = "NUMERIC(39,0)";

impl Dialect {
    /// `sql` as this database runs it.
    pub fn rewrite(self, sql: &str) -> String {
        match self {
            Dialect::Postgres => sql.to_string(),
            Dialect::Sqlite => sql
                .replace(AMOUNT_TYPE, "TEXT")
                .replace("::text::numeric", "")
                .replace("::numeric", "")
                .replace("::text", "")
                .replace('$', "?"),
        }
    }

    /// Whether a migration statement is for this database: all are, but
    /// those marked `-- sqlite` or `-- postgresql` on their first line.
    pub fn runs(self, sql: &str) -> bool {
        !matches!(
            (self, sql.lines().next().map(str::trim)),
            (Dialect::Sqlite, Some("-- postgresql")) | (Dialect::Postgres, Some("-- sqlite"))
        )
    }

    /// An ORDER BY fragment sorting an amount column by value, ascending.
    /// SQLite keeps amounts as decimal text without leading zeros, so a
    /// shorter text is a smaller number and equal lengths sort as text.
    pub fn amount_order(self, column: &str) -> String {
        match self {
            Dialect::Postgres => column.to_string(),
            Dialect::Sqlite => format!("LENGTH({column}), {column}"),
        }
    }

    /// [`Dialect::amount_order`], descending.
    pub fn amount_order_desc(self, column: &str) -> String {
        match self {
            Dialect::Postgres => format!("{column} DESC"),
            Dialect::Sqlite => format!("LENGTH({column}) DESC, {column} DESC"),
        }
    }

    /// `IN ($first, $first+1, …)` for `count` parameters (SQLite has no
    /// arrays, so lists are spelled out).
    pub fn in_list(first: usize, count: usize) -> String {
        let params: Vec<String> = (first..first + count).map(|i| format!("${i}")).collect();
        format!("IN ({})", params.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_gets_numbered_parameters_text_amounts_and_no_casts() {
        assert_eq!(
            Dialect::Sqlite
                .rewrite("INSERT INTO t (a, b) VALUES ($1, $12::text::numeric) RETURNING b::text"),
            "INSERT INTO t (a, b) VALUES (?1, ?12) RETURNING b"
        );
        assert_eq!(
            Dialect::Sqlite.rewrite("CREATE TABLE t (x NUMERIC(39,0) NOT NULL)"),
            "CREATE TABLE t (x TEXT NOT NULL)"
        );
        let pg = "SELECT x::text FROM t WHERE y = $1::text::numeric";
        assert_eq!(Dialect::Postgres.rewrite(pg), pg);
    }

    #[test]
    fn amounts_order_by_value_on_both() {
        assert_eq!(Dialect::Postgres.amount_order_desc("a"), "a DESC");
        assert_eq!(
            Dialect::Sqlite.amount_order_desc("a"),
            "LENGTH(a) DESC, a DESC"
        );
        assert_eq!(Dialect::in_list(3, 2), "IN ($3, $4)");
        let sqlite_only = "-- sqlite\nCREATE INDEX i ON t (LENGTH(a), a)";
        assert!(Dialect::Sqlite.runs(sqlite_only) && !Dialect::Postgres.runs(sqlite_only));
        assert!(Dialect::Postgres.runs("CREATE INDEX j ON t (a)"));
    }
}
