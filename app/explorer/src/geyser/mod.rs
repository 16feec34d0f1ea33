//! Following a cluster live through Yellowstone gRPC (the Geyser plugin
//! protocol Solana RPC providers serve), with the published client: the
//! program's transactions (failed ones too, so that positions agree with
//! `getSignaturesForAddress`, which lists them) and the accounts it owns.
//!
//! A transaction update carries no block time: transactions wait for their
//! slot's block meta, then go into the index together (`index::record`,
//! which skips those already indexed and moves the `grpc:URL` cursor to the
//! newest). After a disconnect the follower resubscribes from the newest slot
//! the index holds (`from_slot`, replayed by the server), so nothing is
//! skipped; JSON-RPC stays for backfill (see [`crate::source`]).

mod convert;
#[cfg(test)]
mod tests;

pub use convert::{account_row, fetched, subscription};

use crate::index::{self, b64, Fetched, IndexSummary};
use crate::store::{Cell, Store};
use crate::ExplorerError;
use anchor_lang::prelude::Pubkey;
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use yellowstone_grpc_client::{ClientTlsConfig, GeyserGrpcClient};
use yellowstone_grpc_proto::geyser::subscribe_update::UpdateOneof;
use yellowstone_grpc_proto::geyser::{CommitmentLevel, SubscribeUpdateAccount};

/// A Yellowstone gRPC endpoint: its URL and, for providers that ask for
/// one, the access token sent as `x-token`.
#[derive(Clone, Debug)]
pub struct GrpcEndpoint {
    pub url: String,
    pub x_token: Option<String>,
}

impl GrpcEndpoint {
    pub fn new(url: &str) -> GrpcEndpoint {
        GrpcEndpoint {
            url: url.to_string(),
            x_token: None,
        }
    }
}

/// The cursor name of a gRPC endpoint.
pub fn grpc_source(url: &str) -> String {
    format!("grpc:{url}")
}

/// Largest update accepted (a transaction with its meta stays far below).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;
/// First wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

fn source_error(endpoint: &GrpcEndpoint, what: &str, e: impl std::fmt::Display) -> ExplorerError {
    ExplorerError::Source(format!("Yellowstone gRPC {}: {what}: {e}", endpoint.url))
}

async fn connect(endpoint: &GrpcEndpoint) -> Result<GeyserGrpcClient, ExplorerError> {
    let failed = |e: yellowstone_grpc_client::GeyserGrpcBuilderError| {
        source_error(
            endpoint,
            "cannot connect (check the URL, and the x-token if the provider needs one)",
            e,
        )
    };
    let mut builder = GeyserGrpcClient::build_from_shared(endpoint.url.clone())
        .map_err(failed)?
        .x_token(endpoint.x_token.clone())
        .map_err(failed)?
        .connect_timeout(Duration::from_secs(10))
        .max_decoding_message_size(MAX_MESSAGE);
    if endpoint.url.starts_with("https://") {
        // rustls needs a process-wide provider; another one already installed is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        builder = builder
            .tls_config(ClientTlsConfig::new().with_native_roots())
            .map_err(failed)?;
    }
    builder.connect().await.map_err(failed)
}

/// The slot the endpoint is at now.
pub async fn current_slot(endpoint: &GrpcEndpoint) -> Result<u64, ExplorerError> {
    let mut client = connect(endpoint).await?;
    let answer = client
        .get_slot(Some(CommitmentLevel::Confirmed))
        .await
        .map_err(|e| source_error(endpoint, "GetSlot", e))?;
    Ok(answer.slot)
}

/// Write an account update into its snapshot (a program account, or one
/// of `vaults`), unless the snapshot is from a later slot (within a slot,
/// the later update wins).
async fn write_account(
    store: &Store,
    update: &SubscribeUpdateAccount,
    vaults: &HashMap<Pubkey, Pubkey>,
) -> Result<bool, ExplorerError> {
    let Some(info) = &update.account else {
        return Ok(false);
    };
    let vault = Pubkey::try_from(info.pubkey.as_slice())
        .ok()
        .and_then(|address| Some((address, "vault", *vaults.get(&address)?)));
    let Some((address, kind, network)) = vault.or_else(|| account_row(update)) else {
        return Ok(false);
    };
    store
        .execute(
            "INSERT INTO accounts (address, kind, network, slot, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (address) DO UPDATE SET kind = excluded.kind, network = excluded.network, slot = excluded.slot, data = excluded.data WHERE accounts.slot <= excluded.slot",
            vec![
                address.to_string().into(),
                kind.into(),
                network.to_string().into(),
                i64::try_from(update.slot).unwrap_or(i64::MAX).into(),
                b64(&info.data).into(),
            ],
        )
        .await?;
    Ok(true)
}

/// Where a subscription resumes: the newest slot the index holds a
/// transaction of (whichever source recorded it: a JSON-RPC backfill and
/// this follower each record complete prefixes of the program's history),
/// or the newest slot of this endpoint's cursor.
pub async fn resume_slot(store: &Store, url: &str) -> Result<Option<u64>, ExplorerError> {
    let newest = store
        .query("SELECT MAX(slot) FROM transactions", vec![])
        .await?;
    let cursor = store
        .query(
            "SELECT slot FROM cursors WHERE source = $1",
            vec![grpc_source(url).into()],
        )
        .await?;
    let slot = |rows: &[Vec<Cell>]| {
        rows.first()
            .and_then(|r| r.first())
            .and_then(Cell::int)
            .and_then(|n| u64::try_from(n).ok())
    };
    Ok(slot(&newest).max(slot(&cursor)))
}

/// The token vaults of the ledgers the index knows, with their networks.
async fn known_vaults(store: &Store) -> Result<HashMap<Pubkey, Pubkey>, ExplorerError> {
    let rows = store
        .query(
            "SELECT vault, network FROM ledgers WHERE vault IS NOT NULL",
            vec![],
        )
        .await?;
    let key = |row: &[Cell], i: usize| row.get(i)?.text()?.parse::<Pubkey>().ok();
    Ok(rows
        .iter()
        .filter_map(|row| Some((key(row, 0)?, key(row, 1)?)))
        .collect())
}

/// How one subscription ended.
enum Ended {
    /// The server reported the slot a catch-up was asked to reach.
    Reached,
    /// The server closed the stream.
    Closed,
}

/// What the follower tells its caller.
#[derive(Debug)]
pub enum Followed {
    /// A slot's transactions went into the index (and accounts were updated).
    Indexed(IndexSummary),
    /// The stream broke; the follower reconnects after `retry_in`.
    Disconnected { error: String, retry_in: Duration },
}

/// One subscription from `from_slot`: index what it streams until it ends,
/// fails, or (with `until`) reports that slot.
async fn session(
    store: &Store,
    endpoint: &GrpcEndpoint,
    from_slot: Option<u64>,
    until: Option<u64>,
    report: &mut (dyn FnMut(Followed) + Send),
    delivered: &mut bool,
) -> Result<Ended, ExplorerError> {
    let source = grpc_source(&endpoint.url);
    let mut vaults = known_vaults(store).await?;
    let mut client = connect(endpoint).await?;
    let (mut requests, mut updates) = client
        .subscribe_with_request(Some(subscription(from_slot, &vaults)))
        .await
        .map_err(|e| source_error(endpoint, "Subscribe", e))?;
    // Transactions waiting for their slot's block meta, in stream order.
    let mut waiting: Vec<Fetched> = Vec::new();
    while let Some(update) = updates.next().await {
        let update = update.map_err(|e| source_error(endpoint, "the stream broke", e))?;
        *delivered = true;
        match update.update_oneof {
            Some(UpdateOneof::Transaction(tx)) => waiting.push(fetched(&tx, 0)?),
            Some(UpdateOneof::BlockMeta(meta)) => {
                let time = meta.block_time.map(|t| t.timestamp).unwrap_or_default();
                let (mut ready, later): (Vec<_>, Vec<_>) =
                    waiting.into_iter().partition(|tx| tx.slot <= meta.slot);
                waiting = later;
                // An earlier slot whose meta never came takes this one's time.
                ready.iter_mut().for_each(|tx| tx.block_time = time);
                if ready.is_empty() {
                    continue;
                }
                let summary = index::record(store, &source, &ready).await?;
                // New ledgers' vaults are watched from now on (their
                // first state comes with their first change).
                let before = vaults.len();
                vaults.extend(
                    summary
                        .named
                        .iter()
                        .filter(|(_, kind, _)| *kind == "vault")
                        .map(|(a, _, n)| (*a, *n)),
                );
                if vaults.len() > before {
                    requests
                        .send(subscription(None, &vaults))
                        .await
                        .map_err(|e| source_error(endpoint, "watching new vaults", e))?;
                }
                report(Followed::Indexed(summary));
            }
            Some(UpdateOneof::Account(account)) => {
                let written = write_account(store, &account, &vaults).await?;
                if written {
                    report(Followed::Indexed(IndexSummary {
                        accounts: 1,
                        ..IndexSummary::default()
                    }));
                }
            }
            Some(UpdateOneof::Slot(slot)) if until.is_some_and(|u| slot.slot >= u) => {
                return Ok(Ended::Reached);
            }
            _ => {}
        }
    }
    Ok(Ended::Closed)
}

/// Follow `endpoint` until `stop` completes: subscribe from where the index
/// stands (or `start`, the slot to begin at when the index holds nothing:
/// take it before a JSON-RPC backfill, so that what lands meanwhile is
/// replayed), index every slot's transactions as its block meta arrives, and
/// after a disconnect resubscribe from the newest slot indexed, waiting
/// longer after each failure in a row (the database's failures too). Only
/// an index this explorer cannot decode ends it.
pub async fn follow(
    store: Store,
    endpoint: &GrpcEndpoint,
    start: Option<u64>,
    stop: impl Future<Output = ()>,
    report: &mut (dyn FnMut(Followed) + Send),
) -> Result<(), ExplorerError> {
    let mut stop = std::pin::pin!(stop);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let mut delivered = false;
        let attempt = async {
            let from = resume_slot(&store, &endpoint.url).await?.or(start);
            session(&store, endpoint, from, None, report, &mut delivered).await
        };
        let outcome = tokio::select! {
            _ = &mut stop => return Ok(()),
            outcome = attempt => outcome,
        };
        // A database that went away comes back; an index holding what
        // this explorer cannot decode does not.
        let error = match outcome {
            Ok(_) => format!(
                "Yellowstone gRPC {}: the server closed the stream",
                endpoint.url
            ),
            Err(ExplorerError::Source(e)) => e,
            Err(ExplorerError::Corrupt(e)) => return Err(ExplorerError::Corrupt(e)),
            Err(store) => store.to_string(),
        };
        if delivered {
            backoff = FIRST_BACKOFF;
        }
        report(Followed::Disconnected {
            error,
            retry_in: backoff,
        });
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One bounded catch-up: subscribe from where the index stands (the slot
/// after genesis for an empty index: the server must still hold it, as the
/// sandbox does) and index until the server reports the slot it was at when
/// this began.
pub async fn catch_up(
    store: &Store,
    endpoint: &GrpcEndpoint,
) -> Result<IndexSummary, ExplorerError> {
    let target = current_slot(endpoint).await?;
    let from = resume_slot(store, &endpoint.url).await?.unwrap_or(0);
    let mut total = IndexSummary::default();
    let mut add = |followed: Followed| {
        if let Followed::Indexed(summary) = followed {
            total.transactions += summary.transactions;
            total.events += summary.events;
            total.accounts += summary.accounts;
        }
    };
    let mut delivered = false;
    match session(
        store,
        endpoint,
        Some(from),
        Some(target),
        &mut add,
        &mut delivered,
    )
    .await?
    {
        Ended::Reached => Ok(total),
        Ended::Closed => Err(source_error(
            endpoint,
            "catching up",
            format!("the server closed the stream before slot {target}"),
        )),
    }
}
