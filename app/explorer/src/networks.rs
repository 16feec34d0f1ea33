//! The networks the API answers about, decoded from their snapshots (the
//! network, its ledgers and tables; never its members), and kept decoded
//! between writes to the index.

use crate::index::{unb64, Snapshot};
use crate::store::{text_at, Cell, Store};
use crate::ExplorerError;
use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use serde_json::{json, Value};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use upline::math::decimal::format_fixed;
use upline::state::{label_text, Ledger, LedgerKind, Network, RewardTables};

/// One network as the snapshots hold it.
pub(crate) struct NetworkState {
    pub(crate) address: Pubkey,
    pub(crate) network: Network,
    pub(crate) ledgers: Vec<Ledger>,
    pub(crate) tables: Option<RewardTables>,
    /// The time of the network's newest indexed event.
    pub(crate) now: i64,
}

impl NetworkState {
    /// Classes whose members earn work rewards (providers, nodes).
    pub(crate) fn provider_classes(&self) -> Vec<u8> {
        let Some(t) = &self.tables else { return vec![] };
        let mut out = Vec::new();
        if t.data.compute.enabled {
            out.push(t.data.compute.provider_class);
        }
        if t.data.bandwidth.enabled {
            out.push(t.data.bandwidth.node_class);
        }
        out
    }

    pub(crate) fn summary(&self) -> Value {
        let ledgers: Vec<Value> = self
            .ledgers
            .iter()
            .map(|l| {
                let token = l.kind == LedgerKind::Token;
                json!({
                    "index": l.index,
                    "name": label_text(&l.name),
                    "kind": if token { "token" } else { "points" },
                    "mint": token.then(|| l.mint.to_string()),
                    "vault": token.then(|| l.vault.to_string()),
                    "decimals": l.decimals,
                    "min_withdrawal": format_fixed(u128::from(l.min_withdrawal), l.decimals),
                    "funded": format_fixed(l.funded, l.decimals),
                    "withdrawn": format_fixed(l.withdrawn, l.decimals),
                    // Whoever holds it can freeze the vault (accepted by the admin).
                    "freeze_authority": (l.accepted_freeze_authority != Pubkey::default())
                        .then(|| l.accepted_freeze_authority.to_string()),
                })
            })
            .collect();
        let classes: Vec<&str> = self
            .network
            .tables
            .active_classes()
            .iter()
            .map(|c| label_text(&c.name))
            .collect();
        json!({
            "address": self.address.to_string(),
            "name": label_text(&self.network.name),
            "admin": self.network.admin.to_string(),
            "paused": self.network.paused,
            "members": self.network.member_count,
            "classes": classes,
            "ledgers": ledgers,
        })
    }
}

pub(crate) fn decode<T: AccountDeserialize>(s: &Snapshot) -> Result<T, ExplorerError> {
    T::try_deserialize(&mut s.data.as_slice())
        .map_err(|e| ExplorerError::Corrupt(format!("{} {}: {e}", s.kind, s.address)))
}

/// How long decoded networks are kept when nothing was written through
/// this process: another process indexing into the same database shows up
/// within this time.
const NETWORKS_KEPT: Duration = Duration::from_secs(1);

/// The networks last decoded: for which index and write, when, and which.
type KeptNetworks = ((u64, u64), Instant, Option<Pubkey>, Arc<Vec<NetworkState>>);

static NETWORKS: std::sync::Mutex<Vec<KeptNetworks>> = std::sync::Mutex::new(Vec::new());

/// [`read_networks`], kept while the index has had no write from this
/// process and for at most [`NETWORKS_KEPT`]: a network, its ledgers and
/// tables change rarely, and every request needs them decoded.
pub(crate) async fn load_networks(
    store: &Store,
    only: Option<&Pubkey>,
) -> Result<Arc<Vec<NetworkState>>, ExplorerError> {
    let generation = store.generation();
    let kept = NETWORKS.lock().ok().and_then(|kept| {
        kept.iter()
            .find(|(g, at, o, _)| {
                *g == generation && o.as_ref() == only && at.elapsed() < NETWORKS_KEPT
            })
            .map(|(_, _, _, networks)| Arc::clone(networks))
    });
    if let Some(networks) = kept {
        return Ok(networks);
    }
    let networks = Arc::new(read_networks(store, only).await?);
    if let Ok(mut kept) = NETWORKS.lock() {
        // A few entries (one per index and filter in use); stale ones go.
        kept.retain(|(g, at, o, _)| {
            g.0 != generation.0
                || (g.1 == generation.1 && at.elapsed() < NETWORKS_KEPT && o.as_ref() != only)
        });
        kept.truncate(64);
        kept.push((
            generation,
            Instant::now(),
            only.copied(),
            Arc::clone(&networks),
        ));
    }
    Ok(networks)
}

/// Networks in the index (those in `only`, or all), from their snapshots:
/// the network, its ledgers and tables, never its members (a few rows per
/// network, however many members it has).
async fn read_networks(
    store: &Store,
    only: Option<&Pubkey>,
) -> Result<Vec<NetworkState>, ExplorerError> {
    let rows = match only {
        Some(network) => {
            store
                .query(
                    "SELECT address, kind, network, data FROM accounts WHERE network = $1 AND kind IN ('network', 'ledger', 'reward_tables') ORDER BY address",
                    vec![network.to_string().into()],
                )
                .await?
        }
        None => {
            store
                .query(
                    "SELECT address, kind, network, data FROM accounts WHERE kind IN ('network', 'ledger', 'reward_tables') ORDER BY address",
                    vec![],
                )
                .await?
        }
    };
    let all = rows
        .iter()
        .map(|row| snapshot_of(row))
        .collect::<Result<Vec<Snapshot>, ExplorerError>>()?;
    let times = store
        .query("SELECT address, last_event_at FROM networks", vec![])
        .await?;
    let mut out = Vec::new();
    for s in all.iter().filter(|s| s.kind == "network") {
        let mut ledgers: Vec<Ledger> = Vec::new();
        let mut tables = None;
        for other in all.iter().filter(|o| o.network == s.address) {
            match other.kind.as_str() {
                "ledger" => ledgers.push(decode(other)?),
                "reward_tables" => tables = Some(decode(other)?),
                _ => {}
            }
        }
        ledgers.sort_by_key(|l| l.index);
        let now = times
            .iter()
            .find(|r| r.first().and_then(Cell::text) == Some(&s.address.to_string()))
            .and_then(|r| r.get(1).and_then(Cell::int))
            .unwrap_or_default();
        out.push(NetworkState {
            address: s.address,
            network: decode(s)?,
            ledgers,
            tables,
            now,
        });
    }
    out.sort_by(|a, b| {
        label_text(&a.network.name)
            .cmp(label_text(&b.network.name))
            .then(a.address.cmp(&b.address))
    });
    Ok(out)
}

/// A snapshot row (address, kind, network, data).
pub(crate) fn snapshot_of(row: &[Cell]) -> Result<Snapshot, ExplorerError> {
    let key = |i: usize| {
        let text = text_at(row, i);
        Pubkey::from_str(&text)
            .map_err(|_| ExplorerError::Corrupt(format!("accounts: bad address {text}")))
    };
    Ok(Snapshot {
        address: key(0)?,
        kind: text_at(row, 1),
        network: key(2)?,
        data: unb64(&text_at(row, 3))?,
    })
}
