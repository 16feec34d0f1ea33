//! PostgreSQL behind a pool (deadpool-postgres), over TLS when the URL asks
//! for it as libpq does: `sslmode=disable`, `prefer` (the default: TLS when
//! the server offers it), `require` (TLS or nothing; the certificate is not
//! checked, as libpq does without a root certificate), `verify-ca` and
//! `verify-full` (the certificate must chain to `sslrootcert=FILE`, or to the
//! system's roots, and name the host).

use super::{Cell, Rows, Statement};
use crate::ExplorerError;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::str::FromStr;
use std::sync::Arc;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

/// Connections per index: requests beyond it wait for one.
const POOL_SIZE: usize = 16;

/// Serialises indexers: every write transaction takes this advisory lock.
const WRITER_LOCK: i64 = 0x5550_4c49_4e45; // "UPLINE"

fn db_error(e: impl std::fmt::Display) -> ExplorerError {
    ExplorerError::Store(e.to_string())
}

/// What the URL asks of TLS.
#[derive(Debug, PartialEq, Eq)]
enum Tls {
    Off,
    /// Encrypt, without checking who answers (`prefer`, `require`).
    Unverified,
    /// Encrypt to a server whose certificate chains to these roots.
    Verified {
        root_file: Option<String>,
    },
}

/// The URL without the TLS parameters tokio-postgres does not know, and
/// what they ask.
fn tls_of(url: &str) -> Result<(String, Tls, SslMode), ExplorerError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let mut mode = "prefer".to_string();
    let mut root_file = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", value)) => mode = value.to_string(),
            Some(("sslrootcert", value)) => root_file = Some(value.to_string()),
            _ => kept.push(pair),
        }
    }
    let (tls, ssl_mode) = match mode.as_str() {
        "disable" => (Tls::Off, SslMode::Disable),
        "prefer" | "allow" => (Tls::Unverified, SslMode::Prefer),
        "require" if root_file.is_none() => (Tls::Unverified, SslMode::Require),
        "require" | "verify-ca" | "verify-full" => (Tls::Verified { root_file }, SslMode::Require),
        other => {
            return Err(ExplorerError::Store(format!(
                "sslmode={other}: use disable, prefer, require, verify-ca or verify-full"
            )))
        }
    };
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, tls, ssl_mode))
}

/// Accepts any certificate: `sslmode=require` without a root certificate
/// encrypts but, as libpq, does not authenticate the server.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn rustls_config(tls: &Tls) -> Result<rustls::ClientConfig, ExplorerError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(db_error)?;
    let config = match tls {
        Tls::Verified { root_file } => {
            let mut roots = rustls::RootCertStore::empty();
            match root_file {
                Some(path) => {
                    use rustls::pki_types::pem::PemObject;
                    let certs = CertificateDer::pem_file_iter(path)
                        .map_err(|e| ExplorerError::Store(format!("sslrootcert={path}: {e}")))?;
                    for cert in certs {
                        let cert = cert.map_err(|e| {
                            ExplorerError::Store(format!("sslrootcert={path}: {e}"))
                        })?;
                        roots.add(cert).map_err(|e| {
                            ExplorerError::Store(format!("sslrootcert={path}: {e}"))
                        })?;
                    }
                }
                None => {
                    for cert in rustls_native_certs::load_native_certs().certs {
                        // A system certificate rustls cannot use is skipped, as curl does.
                        let _ = roots.add(cert);
                    }
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Tls::Unverified | Tls::Off => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
    };
    Ok(config)
}

/// Open a pool on `url` and check that it connects.
pub async fn open(url: &str) -> Result<Pool, ExplorerError> {
    let shown = redact(url);
    let (plain_url, tls, ssl_mode) = tls_of(url)?;
    let mut config = tokio_postgres::Config::from_str(&plain_url)
        .map_err(|e| ExplorerError::Store(format!("{shown}: {e}")))?;
    config.ssl_mode(ssl_mode);
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = match tls {
        Tls::Off => Manager::from_config(config, tokio_postgres::NoTls, manager_config),
        _ => Manager::from_config(
            config,
            tokio_postgres_rustls::MakeRustlsConnect::new(rustls_config(&tls)?),
            manager_config,
        ),
    };
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .build()
        .map_err(db_error)?;
    // Connect once now, so a wrong URL fails here, with the URL.
    let _ = pool
        .get()
        .await
        .map_err(|e| ExplorerError::Store(format!("{shown}: {}", cause(&e))))?;
    Ok(pool)
}

/// The innermost cause of a pool error (the server's own message).
fn cause(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

/// `url` with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}")
        }
        _ => url.to_string(),
    }
}

/// A NULL of whatever type the statement wants.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(
        &self,
        _: &Type,
        _: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

fn params(cells: &[Cell]) -> Vec<Box<dyn ToSql + Sync + Send>> {
    cells
        .iter()
        .map(|cell| -> Box<dyn ToSql + Sync + Send> {
            match cell {
                Cell::Int(n) => Box::new(*n),
                Cell::Text(s) => Box::new(s.clone()),
                Cell::Null => Box::new(Null),
            }
        })
        .collect()
}

fn to_rows(rows: Vec<tokio_postgres::Row>, sql: &str) -> Result<Rows, ExplorerError> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cells = Vec::with_capacity(row.len());
        for (i, column) in row.columns().iter().enumerate() {
            let kind = column.type_();
            let cell = if *kind == Type::INT8 {
                row.try_get::<_, Option<i64>>(i)
                    .map_err(db_error)?
                    .map_or(Cell::Null, Cell::Int)
            } else if *kind == Type::INT4 {
                row.try_get::<_, Option<i32>>(i)
                    .map_err(db_error)?
                    .map_or(Cell::Null, |n| Cell::Int(i64::from(n)))
            } else if *kind == Type::TEXT || *kind == Type::VARCHAR {
                row.try_get::<_, Option<String>>(i)
                    .map_err(db_error)?
                    .map_or(Cell::Null, Cell::Text)
            } else {
                return Err(ExplorerError::Store(format!(
                    "column {} is {kind}: read amounts as `{}::text` ({sql})",
                    column.name(),
                    column.name()
                )));
            };
            cells.push(cell);
        }
        out.push(cells);
    }
    Ok(out)
}

async fn run(
    client: &impl GenericClient,
    sql: &str,
    cells: &[Cell],
) -> Result<Rows, ExplorerError> {
    let statement = client
        .prepare_cached(sql)
        .await
        .map_err(|e| ExplorerError::Store(format!("{e}: {sql}")))?;
    let values = params(cells);
    let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref() as _).collect();
    let rows = client
        .query(&statement, &refs)
        .await
        .map_err(|e| ExplorerError::Store(format!("{}: {sql}", cause(&e))))?;
    to_rows(rows, sql)
}

pub async fn query(pool: &Pool, sql: &str, cells: Vec<Cell>) -> Result<Rows, ExplorerError> {
    let client = pool.get().await.map_err(|e| db_error(cause(&e)))?;
    run(&client, sql, &cells).await
}

/// Reads, then the writes `compute` makes of their rows, in one transaction
/// under the writers' advisory lock. The writes are pipelined: sent one
/// after another without waiting for each answer, still in order.
pub async fn read_then_write<R, F>(
    pool: &Pool,
    reads: Vec<Statement>,
    compute: F,
) -> Result<R, ExplorerError>
where
    R: Send + 'static,
    F: FnOnce(Vec<Rows>) -> Result<(Vec<Statement>, R), ExplorerError> + Send + 'static,
{
    let mut client = pool.get().await.map_err(|e| db_error(cause(&e)))?;
    // Rolled back when dropped unfinished (an error, or a cancelled request),
    // so a pooled connection never goes back mid-transaction.
    let tx = client
        .transaction()
        .await
        .map_err(|e| db_error(cause(&e)))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITER_LOCK])
        .await
        .map_err(|e| db_error(cause(&e)))?;
    let mut results = Vec::with_capacity(reads.len());
    for (sql, cells) in &reads {
        results.push(run(&tx, sql, cells).await?);
    }
    // The projection is CPU work: off the workers that drive connections.
    let (writes, out) = tokio::task::spawn_blocking(move || compute(results))
        .await
        .map_err(db_error)??;
    let pending = writes.iter().map(|(sql, cells)| run(&tx, sql, cells));
    futures_util::future::try_join_all(pending).await?;
    tx.commit().await.map_err(|e| db_error(cause(&e)))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_follow_libpq() {
        let (url, tls, mode) = tls_of("postgres://u:p@h/db?sslmode=require").expect("parses");
        assert_eq!(
            (url.as_str(), tls, mode),
            ("postgres://u:p@h/db", Tls::Unverified, SslMode::Require)
        );
        let (url, tls, _) =
            tls_of("postgres://h/db?application_name=x&sslmode=verify-full&sslrootcert=/ca.pem")
                .expect("parses");
        assert_eq!(url, "postgres://h/db?application_name=x");
        assert_eq!(
            tls,
            Tls::Verified {
                root_file: Some("/ca.pem".into())
            }
        );
        assert_eq!(
            tls_of("postgres://h/db").expect("parses").2,
            SslMode::Prefer
        );
        assert_eq!(
            tls_of("postgres://h/db?sslmode=disable").expect("parses").1,
            Tls::Off
        );
        let refused = tls_of("postgres://h/db?sslmode=sometimes").expect_err("refused");
        assert!(
            refused
                .to_string()
                .contains("sslmode=sometimes: use disable"),
            "{refused}"
        );
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redact("postgres://upline:secret@127.0.0.1:5432/x"),
            "postgres://upline:***@127.0.0.1:5432/x"
        );
        assert_eq!(redact("postgres://127.0.0.1/x"), "postgres://127.0.0.1/x");
    }
}
