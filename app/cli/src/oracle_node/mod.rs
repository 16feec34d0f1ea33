//! `upline oracle run`: the oracle as a service. Reports come in over HTTP
//! (`POST /reports`, JSON lines in the reports-file format), are stored
//! durably before the answer, are batched by size and age, and are sent with
//! `oracle submit`'s sender; each report's outcome is kept. A restart
//! resumes the queue: what was handed to the sender when the node stopped is
//! checked on chain by id before anything is sent again.

mod args;
mod http;
mod intake;
mod metrics;
mod sending;
mod store;

pub use args::{stop_signal, RunArgs};
pub use intake::Approvers;
pub use sending::Sender;
pub use store::{now_ms, settled_times};

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{Outcome, Store, QUEUED};
use tokio::sync::{watch, Notify};
use upline_sdk::rpc::RpcCluster;

/// How the node batches: a batch is sent once `size` reports wait or the
/// oldest has waited `age`; one send takes at most `most`.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    pub age: Duration,
    pub size: usize,
    pub most: usize,
}

/// How long a stopping node lets the batch being sent finish.
const DRAIN: Duration = Duration::from_secs(60);

/// How long the node waits before sending again after the cluster failed it.
const BACKOFF: Duration = Duration::from_secs(2);

pub struct NodeConfig {
    pub listen: SocketAddr,
    pub db: PathBuf,
    pub token: String,
    pub batching: Batching,
}

/// Run the node until `stop` resolves: then it stops accepting, lets the
/// batch in flight finish, and returns. `ready` hears the address it serves on.
pub async fn run(
    config: NodeConfig,
    intake: RpcCluster,
    mut sender: Sender,
    stop: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let mut store = Store::open(&config.db)?;
    // A report handed to the sender when the node last stopped may have
    // landed: its id is read on chain before it is queued again.
    let doubtful = store.in_doubt()?;
    if !doubtful.is_empty() {
        let outcomes = sender
            .recover(&doubtful)
            .await
            .map_err(|e| format!("resuming the queue: the cluster: {}", e.name()))?;
        store.settle(&outcomes)?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", config.listen))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("--listen {}: {e}", config.listen))?;
    let store = Arc::new(Mutex::new(store));
    let stored = Arc::new(Notify::new());
    let shared = Arc::new(http::Shared {
        store: Arc::clone(&store),
        intake: tokio::sync::Mutex::new(intake),
        approvers: Approvers {
            network: sender.network,
            oracle: solana_signer::Signer::pubkey(&sender.oracle),
            co_signers: sender
                .co_signers
                .iter()
                .map(solana_signer::Signer::pubkey)
                .collect(),
        },
        token: config.token,
        stored: Arc::clone(&stored),
        accepting: AtomicBool::new(true),
        metrics: metrics::Metrics::default(),
        started_ms: store::now_ms(),
    });
    let (stopping, stopped) = watch::channel(false);
    let on_stop = Arc::clone(&shared);
    tokio::spawn(async move {
        stop.await;
        on_stop.accepting.store(false, Ordering::SeqCst);
        let _ = stopping.send(true);
    });
    ready(address);
    let mut server_stop = stopped.clone();
    let server = axum::serve(listener, http::router(Arc::clone(&shared))).with_graceful_shutdown(
        async move {
            let _ = server_stop.wait_for(|s| *s).await;
        },
    );
    let batcher = batches(store, sender, config.batching, stored, stopped);
    let (served, sent) = tokio::join!(server.into_future(), batcher);
    served.map_err(|e| format!("serving: {e}"))?;
    sent
}

/// Wait up to `wait`, or until reports are stored or the node stops.
async fn pause(wait: Duration, stored: &Notify, stopped: &mut watch::Receiver<bool>) {
    tokio::select! {
        () = tokio::time::sleep(wait) => {}
        () = stored.notified() => {}
        _ = stopped.wait_for(|s| *s) => {}
    }
}

async fn db<T: Send + 'static>(
    store: &Arc<Mutex<Store>>,
    f: impl FnOnce(&mut Store) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || {
        let mut store = store
            .lock()
            .map_err(|_| "the queue's lock is poisoned".to_string())?;
        f(&mut store)
    })
    .await
    .map_err(|e| format!("the queue: {e}"))?
}

/// Send the queue in batches until the node stops (the batch being sent
/// when it stops is finished first).
async fn batches(
    store: Arc<Mutex<Store>>,
    mut sender: Sender,
    batching: Batching,
    stored: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), String> {
    loop {
        if *stopped.borrow() {
            return Ok(());
        }
        let (waiting, oldest) = db(&store, |s| s.waiting()).await?;
        if waiting == 0 {
            pause(batching.age, &stored, &mut stopped).await;
            continue;
        }
        let age = Duration::from_millis(
            u64::try_from(store::now_ms() - oldest.unwrap_or(0)).unwrap_or(0),
        );
        if waiting < batching.size as u64 && age < batching.age {
            pause(batching.age - age, &stored, &mut stopped).await;
            continue;
        }
        let most = batching.most;
        let rows = db(&store, move |s| s.take(most)).await?;
        let sending = sender.send(&rows);
        tokio::pin!(sending);
        let stopping = async {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(DRAIN).await;
        };
        let sent = tokio::select! {
            sent = &mut sending => sent,
            () = stopping => {
                // Left `sending`: the next start reads their ids on chain.
                eprintln!(
                    "upline oracle run: stopping with {} reports still being sent; the next start checks them on chain",
                    rows.len()
                );
                return Ok(());
            }
        };
        let outcomes = match sent {
            Ok(outcomes) => outcomes,
            Err(failure) => {
                eprintln!(
                    "upline oracle run: {} reports not sent ({}); sending them again",
                    rows.len(),
                    failure.name()
                );
                rows.iter()
                    .map(|r| Outcome {
                        seq: r.seq,
                        status: QUEUED,
                        reason: Some(failure.name()),
                        signature: None,
                        slot: None,
                    })
                    .collect()
            }
        };
        let again = outcomes.iter().any(|o| o.status == QUEUED);
        db(&store, move |s| s.settle(&outcomes)).await?;
        if again {
            // The cluster failed us or the network is paused: not at once.
            tokio::select! {
                () = tokio::time::sleep(BACKOFF) => {}
                _ = stopped.wait_for(|s| *s) => {}
            }
        }
    }
}
