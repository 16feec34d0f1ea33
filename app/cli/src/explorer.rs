//! `upline explorer index|audit|serve` and `upline demo --serve`.

use crate::commands::connect;
use crate::{ClusterArgs, ExplorerCommand};
use std::io::Write;
use std::time::Duration;
use upline_cli::{exit, Failure};
use upline_explorer::audit::{self, Verdict};
use upline_explorer::geyser::{self, Followed, GrpcEndpoint};
use upline_explorer::source::{backfill, index_journal, index_rpc, rpc_source, Backfill};
use upline_explorer::{api, ExplorerError, Store};
use upline_sdk::rpc::RpcCluster;
use upline_sdk::sandbox::server::SandboxServer;
use upline_sdk::sandbox::Chain;

/// The index file when `--db` is not given.
pub const DEFAULT_DB: &str = "upline-index.sqlite";

fn store_failure(e: ExplorerError) -> Failure {
    match e {
        ExplorerError::Source(message) => Failure {
            code: exit::UNREACHABLE,
            message,
        },
        ExplorerError::Store(message) => Failure::input(format!("--db: {message}")),
        ExplorerError::Corrupt(message) => Failure::refused(message),
    }
}

async fn open(db: &str) -> Result<Store, Failure> {
    Store::open(db).await.map_err(store_failure)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Audit what was indexed since the last audit (resuming from its
/// checkpoints) and keep the verdict as the index's latest.
async fn audit_and_save(store: &Store) -> Result<Verdict, Failure> {
    audit_and_save_with(store, audit::Mode::Incremental).await
}

/// [`audit_and_save`], or with `Mode::Full` a replay of everything (`--full`).
async fn audit_and_save_with(store: &Store, mode: audit::Mode) -> Result<Verdict, Failure> {
    let verdict = audit::audit_with(store, mode)
        .await
        .map_err(store_failure)?;
    audit::save(store, &verdict, unix_now())
        .await
        .map_err(store_failure)?;
    Ok(verdict)
}

/// Listen on 127.0.0.1:`port`; a failure names `flag`.
async fn listen(flag: &str, port: u16) -> Result<tokio::net::TcpListener, Failure> {
    listen_on(flag, std::net::Ipv4Addr::LOCALHOST.into(), port).await
}

/// Listen on `address`:`port`; a failure names `flag`.
async fn listen_on(
    flag: &str,
    address: std::net::IpAddr,
    port: u16,
) -> Result<tokio::net::TcpListener, Failure> {
    tokio::net::TcpListener::bind((address, port))
        .await
        .map_err(|e| Failure::input(format!("{flag} {address}:{port}: {e}")))
}

/// Serve `store` until the process ends (re-indexing `follow` every few
/// seconds); the claim page claims on `clusters` (JSON-RPC URLs).
async fn serve_store(
    store: Store,
    listener: tokio::net::TcpListener,
    clusters: Vec<String>,
) -> Result<u8, Failure> {
    api::serve_with_clusters(store, listener, clusters)
        .await
        .map_err(|e| Failure::refused(format!("explorer: {e}")))?;
    Ok(0)
}

pub async fn explorer(
    cluster: &ClusterArgs,
    command: ExplorerCommand,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    match command {
        ExplorerCommand::Index { db, concurrency } => {
            let store = open(&db).await?;
            let rpc = connect(cluster).await?;
            let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let mut progress = |done: usize, total: usize| {
                if terminal && total > 0 {
                    eprint!("\rfetching transactions: {done}/{total}");
                }
            };
            let options = Backfill {
                concurrency: usize::from(concurrency),
                ..Backfill::default()
            };
            let summary = backfill(&store, rpc.url(), &options, &mut progress)
                .await
                .map_err(store_failure)?;
            if terminal {
                eprintln!();
            }
            let _ = writeln!(
                out,
                "indexed {} new transactions ({} events) from {} into {db} ({}); {} accounts snapshotted",
                summary.transactions,
                summary.events,
                rpc.url(),
                store.backend(),
                summary.accounts
            );
            Ok(0)
        }
        ExplorerCommand::Audit { db, json, full } => {
            let store = open(&db).await?;
            let mode = if full {
                audit::Mode::Full
            } else {
                audit::Mode::Incremental
            };
            let verdict = audit_and_save_with(&store, mode).await?;
            if json {
                let text = serde_json::to_string_pretty(&verdict.to_json()).unwrap_or_default();
                let _ = writeln!(out, "{text}");
            } else {
                let _ = write!(out, "{}", verdict.render());
            }
            Ok(if verdict.passed() { 0 } else { exit::REFUSED })
        }
        ExplorerCommand::Serve {
            db,
            bind,
            port,
            follow,
            grpc,
        } => {
            let store = open(&db).await?;
            let listener = listen_on("--bind/--port", bind, port).await?;
            let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
            // Before the backfill: where the stream starts if the index is empty.
            let grpc = match grpc {
                Some(url) => Some(grpc_start(&url).await?),
                None => None,
            };
            let mut rpc = if follow > 0 || grpc.is_some() {
                Some(connect(cluster).await?)
            } else {
                None
            };
            if let Some(rpc) = rpc.as_mut() {
                index_rpc(&store, rpc, &mut |_, _| {})
                    .await
                    .map_err(store_failure)?;
            }
            let verdict = audit_and_save(&store).await?;
            let _ = writeln!(
                out,
                "upline explorer: dashboard and API on http://{}/ (index {}, audit {}). Ctrl-C ends it.",
                std::net::SocketAddr::new(bind, port),
                upline_explorer::store::redact(&db),
                if verdict.passed() { "pass" } else { "FAIL" }
            );
            // The claim page claims on the --url cluster, if it answers.
            let clusters = match &rpc {
                Some(rpc) => vec![rpc.url().to_string()],
                None => connect(cluster)
                    .await
                    .map(|c| vec![c.url().to_string()])
                    .unwrap_or_default(),
            };
            if let Some(rpc) = rpc.filter(|_| follow > 0) {
                tokio::spawn(follow_cluster(store.clone(), rpc, follow));
            }
            if let Some((endpoint, start)) = grpc {
                tokio::spawn(follow_grpc(store.clone(), endpoint, start));
            }
            serve_store(store, listener, clusters).await
        }
    }
}

/// Every `seconds`, index what is new on the cluster and audit again.
async fn follow_cluster(store: Store, mut rpc: upline_sdk::rpc::RpcCluster, seconds: u64) {
    loop {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        match index_rpc(&store, &mut rpc, &mut |_, _| {}).await {
            Ok(summary) if summary.transactions > 0 => {
                if let Err(e) = audit_and_save(&store).await {
                    eprintln!("upline explorer: audit: {}", e.message);
                }
            }
            Ok(_) => {}
            Err(e) => eprintln!("upline explorer: indexing {}: {e}", rpc.url()),
        }
    }
}

/// `--grpc URL`: the endpoint (its token from UPLINE_GRPC_X_TOKEN) and the
/// slot it is at, taken before the JSON-RPC backfill so that what lands
/// during the backfill is replayed.
async fn grpc_start(url: &str) -> Result<(GrpcEndpoint, Option<u64>), Failure> {
    let endpoint = GrpcEndpoint {
        url: url.to_string(),
        x_token: std::env::var("UPLINE_GRPC_X_TOKEN").ok(),
    };
    let slot = geyser::current_slot(&endpoint).await.map_err(|e| {
        let failure = store_failure(e);
        Failure {
            message: format!("--grpc: {}", failure.message),
            ..failure
        }
    })?;
    Ok((endpoint, Some(slot)))
}

/// Follow `endpoint` until the process ends, auditing after new
/// transactions (one audit at a time; slots indexed meanwhile share the next).
async fn follow_grpc(store: Store, endpoint: GrpcEndpoint, start: Option<u64>) {
    let (indexed, mut to_audit) = tokio::sync::mpsc::unbounded_channel::<()>();
    let audited = store.clone();
    tokio::spawn(async move {
        while to_audit.recv().await.is_some() {
            while to_audit.try_recv().is_ok() {}
            if let Err(e) = audit_and_save(&audited).await {
                eprintln!("upline explorer: audit: {}", e.message);
            }
        }
    });
    let url = endpoint.url.clone();
    let mut report = |followed: Followed| match followed {
        Followed::Indexed(summary) if summary.transactions > 0 => {
            let _ = indexed.send(());
        }
        Followed::Disconnected { error, retry_in } => eprintln!(
            "upline explorer: {error}; resubscribing in {:.1} s",
            retry_in.as_secs_f64()
        ),
        Followed::Indexed(_) => {}
    };
    let forever = std::future::pending::<()>();
    if let Err(e) = geyser::follow(store, &endpoint, start, forever, &mut report).await {
        eprintln!("upline explorer: following {url} stopped: {e}");
    }
}

/// How often `demo --serve` re-indexes its sandboxes.
const DEMO_FOLLOW_SECONDS: u64 = 2;

/// `demo --serve`: each demo chain served as a local cluster (JSON-RPC from
/// `sandbox_port` up, 0: any free ports), all of them indexed into one
/// in-memory index, audited, and the dashboard served on `port`; the index
/// follows the sandboxes, so transactions sent to them show up.
pub async fn serve_demo(
    chains: Vec<(String, Chain)>,
    port: u16,
    sandbox_port: u16,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let listener = listen("--port", port).await?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let store = open(":memory:").await?;
    let mut endpoints = Vec::with_capacity(chains.len());
    for (offset, (title, mut chain)) in chains.into_iter().enumerate() {
        // Each sandbox takes two ports, as solana-test-validator does:
        // JSON-RPC, then the PubSub WebSocket.
        let (wanted, wanted_pubsub) = match sandbox_port {
            0 => (0, 0),
            base => {
                let port = u16::try_from(offset * 2)
                    .ok()
                    .and_then(|step| base.checked_add(step))
                    .ok_or_else(|| Failure::input(format!("--sandbox-port {base}: too high")))?;
                (port, port.saturating_add(1))
            }
        };
        let sandbox = listen("--sandbox-port", wanted).await?;
        let pubsub = listen("--sandbox-port (PubSub)", wanted_pubsub).await?;
        let port_of =
            |l: &tokio::net::TcpListener, or: u16| l.local_addr().map_or(or, |a| a.port());
        let url = format!("http://127.0.0.1:{}", port_of(&sandbox, wanted));
        let ws = format!("ws://127.0.0.1:{}", port_of(&pubsub, wanted_pubsub));
        index_journal(&store, &mut chain, &rpc_source(&url))
            .await
            .map_err(store_failure)?;
        tokio::spawn(SandboxServer::new(chain).serve_with_pubsub(sandbox, pubsub));
        endpoints.push((title, url, ws));
    }
    let verdict = audit_and_save(&store).await?;
    let _ = writeln!(
        out,
        "\nsandboxes (JSON-RPC and PubSub; use them with --url):"
    );
    for (title, url, ws) in &endpoints {
        let _ = writeln!(out, "  {url}  {ws}  {title}");
    }
    let _ = writeln!(
        out,
        "\nupline explorer: the demo's {} networks on http://127.0.0.1:{port}/ (audit {}); paste a wallet listed above. Ctrl-C ends it.",
        verdict.networks,
        if verdict.passed() { "pass" } else { "FAIL" }
    );
    let clusters: Vec<String> = endpoints.iter().map(|(_, url, _)| url.clone()).collect();
    for (_, url, _) in endpoints {
        let rpc = RpcCluster::connect(&url)
            .await
            .map_err(|e| Failure::refused(format!("{url}: {e}")))?;
        tokio::spawn(follow_cluster(store.clone(), rpc, DEMO_FOLLOW_SECONDS));
    }
    serve_store(store, listener, clusters).await
}
