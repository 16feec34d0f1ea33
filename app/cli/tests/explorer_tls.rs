//! The index on PostgreSQL over TLS, as managed databases want it: libpq's
//! `sslmode` in the URL (Debian's PostgreSQL, as `.ci/run` installs it,
//! serves TLS with its snakeoil certificate).

mod common;

use upline_explorer::store::text_at;
use upline_explorer::Store;

/// Whether the store's connection is encrypted, as the server sees it.
async fn encrypted(store: &Store) -> String {
    let rows = store
        .query(
            "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            vec![],
        )
        .await
        .expect("pg_stat_ssl");
    text_at(&rows[0], 0)
}

fn with(url: &str, parameter: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{parameter}")
}

#[tokio::test]
async fn sslmode_chooses_tls_as_libpq_does() {
    let Some(url) = common::pg::postgres_url() else {
        return;
    };
    let url = common::pg::fresh_schema_url(&url, "tls_modes").await;
    let required = Store::open(&with(&url, "sslmode=require"))
        .await
        .expect("sslmode=require connects over TLS");
    assert_eq!(encrypted(&required).await, "true");
    assert_eq!(required.schema_version().await.expect("migrated"), 3);
    let plain = Store::open(&with(&url, "sslmode=disable"))
        .await
        .expect("sslmode=disable connects");
    assert_eq!(encrypted(&plain).await, "false");
    // A certificate for another name is refused by verify-full, and the
    // message says it is the certificate.
    let snakeoil = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
    if std::path::Path::new(snakeoil).exists() {
        let refused = Store::open(&with(
            &url,
            &format!("sslmode=verify-full&sslrootcert={snakeoil}"),
        ))
        .await
        .err()
        .expect("127.0.0.1 is not the snakeoil certificate's name");
        let text = refused.to_string().to_lowercase();
        assert!(text.contains("certificate"), "{refused}");
        assert!(!text.contains("upline:upline"), "no password in {refused}");
    }
    let unknown = Store::open(&with(&url, "sslmode=sometimes"))
        .await
        .err()
        .expect("an unknown sslmode is refused");
    assert!(
        unknown
            .to_string()
            .contains("sslmode=sometimes: use disable, prefer, require, verify-ca or verify-full"),
        "{unknown}"
    );
}
