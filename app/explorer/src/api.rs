//! `upline explorer serve`: the Cxmpute document's referral-stats endpoints,
//! the network and member listings, the latest audit, and the dashboard.
//!
//! - `GET /api/user/{wallet}/referral-stats` and
//!   `GET /api/providers/{wallet}/referral-stats` (`?network=` selects one
//!   network; without it, every network the wallet belongs to). A wallet holds
//!   one membership per class (DESIGN.md §3 rule 6): its provider memberships
//!   are those of a class that earns work rewards (the compute provider class
//!   or the bandwidth node class of its network), every other is a user
//!   membership, and each endpoint answers from the wallet's memberships of
//!   its role, so a wallet that holds both gets an answer from both.
//! - `GET /api/networks`, `GET /api/networks/{network}/members?page=&per_page=`
//! - `GET /api/audit`: the latest verdict.
//! - `GET /`: the dashboard.
//! - The claim page's endpoints (`/api/wallet/{wallet}/claims`,
//!   `/api/claim/...`): `claim` and `claim_tx`.

use crate::audit;
use crate::claim::{self, Claims};
use crate::http;
pub use crate::http::{Request, Response};
use crate::index::{snapshots, Snapshot};
use crate::store::{Cell, Store};
use crate::ExplorerError;
use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use upline::math::decimal::format_fixed;
use upline::state::{label_text, Ledger, LedgerKind, Member, Network, RewardTables};
use upline_sdk::stats::{referral_stats, StatsSubject};

/// The dashboard page (static; it calls the API).
pub const DASHBOARD: &str = include_str!("dashboard.html");

/// Members per page unless `per_page` says otherwise, and at most.
const PER_PAGE: usize = 50;
const MAX_PER_PAGE: usize = 500;

/// One network as the snapshots hold it.
struct NetworkState {
    address: Pubkey,
    network: Network,
    ledgers: Vec<Ledger>,
    tables: Option<RewardTables>,
    /// Members in join order: join ordinal (from the join events), member account, member.
    members: Vec<(u32, Pubkey, Member)>,
    /// Member account → wallet, for naming referrers without a scan per row.
    wallets: HashMap<Pubkey, Pubkey>,
    /// The time of the network's newest indexed event.
    now: i64,
}

impl NetworkState {
    /// Classes whose members earn work rewards (providers, nodes).
    fn provider_classes(&self) -> Vec<u8> {
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

    /// The wallet holding the membership at `member`, if it is indexed.
    fn wallet_of(&self, member: &Pubkey) -> Option<Pubkey> {
        self.wallets.get(member).copied()
    }

    fn summary(&self) -> Value {
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

fn decode<T: AccountDeserialize>(s: &Snapshot) -> Result<T, ExplorerError> {
    T::try_deserialize(&mut s.data.as_slice())
        .map_err(|e| ExplorerError::Corrupt(format!("{} {}: {e}", s.kind, s.address)))
}

/// Every network in the index, from its snapshots.
async fn load_networks(store: &mut Store) -> Result<Vec<NetworkState>, ExplorerError> {
    let all = snapshots(store).await?;
    let times = store
        .query(
            "SELECT network, MAX(block_time) FROM events GROUP BY network",
            vec![],
        )
        .await?;
    // Join ordinals live in the join events, not the member accounts.
    let joins = store
        .query(
            "SELECT network, member FROM events WHERE kind = 'MemberJoined' ORDER BY position, ordinal",
            vec![],
        )
        .await?;
    let mut ordinals: HashMap<(String, String), u32> = HashMap::new();
    let mut counts: HashMap<String, u32> = HashMap::new();
    for row in &joins {
        let (Some(network), Some(member)) = (
            row.first().and_then(Cell::text),
            row.get(1).and_then(Cell::text),
        ) else {
            continue;
        };
        let count = counts.entry(network.to_string()).or_default();
        *count += 1;
        ordinals.insert((network.to_string(), member.to_string()), *count);
    }
    let mut out = Vec::new();
    for s in all.iter().filter(|s| s.kind == "network") {
        let mut ledgers: Vec<Ledger> = Vec::new();
        let mut members = Vec::new();
        let mut tables = None;
        for other in all.iter().filter(|o| o.network == s.address) {
            match other.kind.as_str() {
                "ledger" => ledgers.push(decode(other)?),
                "member" => {
                    let member = decode::<Member>(other)?;
                    let key = (s.address.to_string(), other.address.to_string());
                    let ordinal = ordinals.get(&key).copied().unwrap_or(u32::MAX);
                    members.push((ordinal, other.address, member));
                }
                "reward_tables" => tables = Some(decode(other)?),
                _ => {}
            }
        }
        ledgers.sort_by_key(|l| l.index);
        members.sort_by_key(|(ordinal, _, _)| *ordinal);
        let now = times
            .iter()
            .find(|r| r.first().and_then(Cell::text) == Some(&s.address.to_string()))
            .and_then(|r| r.get(1).and_then(Cell::int))
            .unwrap_or_default();
        let wallets = members.iter().map(|(_, a, m)| (*a, m.wallet)).collect();
        out.push(NetworkState {
            address: s.address,
            network: decode(s)?,
            ledgers,
            tables,
            members,
            wallets,
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    User,
    Provider,
}

async fn referral_stats_of(
    store: &mut Store,
    wallet: &str,
    role: Role,
    request: &Request,
) -> Response {
    let Ok(wallet) = Pubkey::from_str(wallet) else {
        return Response::error(400, format!("{wallet:?} is not a wallet address"));
    };
    let only = match request.param("network").map(Pubkey::from_str) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return Response::error(400, "?network= is not a network address"),
    };
    let networks = match load_networks(store).await {
        Ok(n) => n,
        Err(e) => return Response::error(500, e.to_string()),
    };
    if let Some(n) = only {
        if !networks.iter().any(|s| s.address == n) {
            return Response::error(404, format!("network {n} is not in the index"));
        }
    }
    let mut memberships = Vec::new();
    let mut other_role = Vec::new();
    for state in networks
        .iter()
        .filter(|s| only.is_none_or(|n| n == s.address))
    {
        let providers = state.provider_classes();
        let held = state.members.iter().filter(|(_, _, m)| m.wallet == wallet);
        for (_, address, member) in held {
            let is_provider = providers.contains(&member.class);
            let wanted = match role {
                Role::Provider => is_provider,
                Role::User => !is_provider,
            };
            if !wanted {
                other_role.push(label_text(&state.network.name).to_string());
                continue;
            }
            let subject = StatsSubject {
                member: *address,
                referrer_wallet: state.wallet_of(&member.referrer),
            };
            memberships.push(referral_stats(
                &state.address,
                &state.network,
                &state.ledgers,
                (&subject, member),
                state.now,
            ));
        }
    }
    if memberships.is_empty() {
        let message = if other_role.is_empty() {
            format!(
                "{wallet} is not a member of {}",
                if only.is_some() {
                    "that network"
                } else {
                    "any indexed network"
                }
            )
        } else {
            let (is, path) = match role {
                Role::User => ("a provider", "providers"),
                Role::Provider => ("a user", "user"),
            };
            format!(
                "{wallet} is {is} in {}: see /api/{path}/{wallet}/referral-stats",
                other_role.join(", ")
            )
        };
        return Response::error(404, message);
    }
    Response::json(
        200,
        &json!({"wallet": wallet.to_string(), "memberships": memberships}),
    )
}

async fn members_of(store: &mut Store, network: &str, request: &Request) -> Response {
    let Ok(address) = Pubkey::from_str(network) else {
        return Response::error(400, format!("{network:?} is not a network address"));
    };
    let number = |name: &str, default: usize| -> Result<usize, Response> {
        match request.param(name) {
            None => Ok(default),
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    Response::error(400, format!("?{name}= must be a whole number from 1"))
                }),
        }
    };
    let (page, per_page) = match (number("page", 1), number("per_page", PER_PAGE)) {
        (Ok(p), Ok(n)) => (p, n.min(MAX_PER_PAGE)),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let networks = match load_networks(store).await {
        Ok(n) => n,
        Err(e) => return Response::error(500, e.to_string()),
    };
    let Some(state) = networks.iter().find(|s| s.address == address) else {
        return Response::error(404, format!("network {address} is not in the index"));
    };
    let classes = state.network.tables.active_classes();
    let members: Vec<Value> = state
        .members
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|(join_ordinal, address, m)| {
            let balances: serde_json::Map<String, Value> = state
                .ledgers
                .iter()
                .filter_map(|l| {
                    let slot = m.ledgers.get(usize::from(l.index))?;
                    let balance = slot
                        .balance()
                        .map(|b| format_fixed(b.0, 18))
                        .unwrap_or_default();
                    Some((label_text(&l.name).to_string(), json!(balance)))
                })
                .collect();
            json!({
                "wallet": m.wallet.to_string(),
                "member": address.to_string(),
                "join_ordinal": join_ordinal,
                "class": classes.get(usize::from(m.class)).map_or("?", |c| label_text(&c.name)),
                "referrer": state.wallet_of(&m.referrer).map(|w| w.to_string()),
                "referrer_member": (m.referrer != Pubkey::default()).then(|| m.referrer.to_string()),
                "downline": m.downline,
                "balances": balances,
            })
        })
        .collect();
    Response::json(
        200,
        &json!({
            "network": address.to_string(),
            "page": page,
            "per_page": per_page,
            "total": state.members.len(),
            "members": members,
        }),
    )
}

/// Parse a request head, for callers that route without a socket.
pub fn parse_request(head: &str) -> Option<Request> {
    http::parse_head(head)
}

/// Answer one request from the index.
pub async fn route(store: &mut Store, request: Request) -> Response {
    if request.method != "GET" {
        return Response::error(
            405,
            format!("{}: the explorer answers GET only", request.method),
        );
    }
    let parts: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        [""] | ["index.html"] => Response {
            status: 200,
            content_type: "text/html",
            body: DASHBOARD.to_string(),
        },
        ["api", "networks"] => match load_networks(store).await {
            Ok(networks) => Response::json(
                200,
                &json!({"networks": networks.iter().map(NetworkState::summary).collect::<Vec<_>>()}),
            ),
            Err(e) => Response::error(500, e.to_string()),
        },
        ["api", "networks", network, "members"] => members_of(store, network, &request).await,
        ["api", "user", wallet, "referral-stats"] => {
            referral_stats_of(store, wallet, Role::User, &request).await
        }
        ["api", "providers", wallet, "referral-stats"] => {
            referral_stats_of(store, wallet, Role::Provider, &request).await
        }
        ["api", "audit"] => match audit::latest(store).await {
            Ok(Some(report)) => Response::json(200, &report),
            Ok(None) => Response::error(404, "no audit yet: run `upline explorer audit`"),
            Err(e) => Response::error(500, e.to_string()),
        },
        _ => Response::error(404, format!("no such page: {}", request.path)),
    }
}

/// Serve the API and dashboard from `store` on `listener` until the process
/// ends (the store is shared with whatever keeps the index up to date).
/// Without a cluster the claim endpoints say so.
pub async fn serve(store: Arc<Mutex<Store>>, listener: TcpListener) -> std::io::Result<()> {
    serve_with_clusters(store, listener, Vec::new()).await
}

/// [`serve`], claiming on `clusters` (JSON-RPC URLs: the one each network
/// is on is found by asking them). Claims do not hold the index: a claim
/// waiting for its confirmation leaves the other requests be.
pub async fn serve_with_clusters(
    store: Arc<Mutex<Store>>,
    listener: TcpListener,
    clusters: Vec<String>,
) -> std::io::Result<()> {
    let claims = Arc::new(Claims::new(clusters));
    http::serve(listener, move |request| {
        let store = Arc::clone(&store);
        let claims = Arc::clone(&claims);
        async move {
            if let Some(response) = claim::route(&claims, &store, &request).await {
                return response;
            }
            let mut store = store.lock().await;
            route(&mut store, request).await
        }
    })
    .await
}
