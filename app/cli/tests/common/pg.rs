//! PostgreSQL for the tests (`UPLINE_TEST_POSTGRES`, set by `.ci/run`): each
//! test gets a schema of its own, so tests running at once never share a
//! table.

/// The test database's URL; `None` (the test skips PostgreSQL) unless
/// `UPLINE_REQUIRE_SERVICES` says it must be there.
pub fn postgres_url() -> Option<String> {
    match std::env::var("UPLINE_TEST_POSTGRES") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var_os("UPLINE_REQUIRE_SERVICES").is_none(),
                "UPLINE_REQUIRE_SERVICES is set but UPLINE_TEST_POSTGRES is not"
            );
            eprintln!("skipped PostgreSQL: set UPLINE_TEST_POSTGRES=postgres://… to run it");
            None
        }
    }
}

/// `url` narrowed to the schema `name`: dropped, created empty, and made
/// the search path of every connection the store opens.
pub async fn fresh_schema_url(url: &str, name: &str) -> String {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to PostgreSQL");
    tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ))
        .await
        .expect("a fresh schema");
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-csearch_path%3D{name}")
}

/// A store on a fresh schema `name` of the test database.
pub async fn fresh_postgres(url: &str, name: &str) -> upline_explorer::Store {
    let url = fresh_schema_url(url, name).await;
    let store = upline_explorer::Store::open(&url)
        .await
        .expect("open the index on PostgreSQL");
    assert_eq!(store.backend(), "postgresql");
    store
}
