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
//! - `GET /api/networks`; each network's own pages and endpoints
//!   (`/networks/{network}`, its members, leaderboard and solvency) are in
//!   `pages`.
//! - `GET /api/audit`: the latest verdict.
//! - `GET /`: the dashboard.
//! - The claim page's endpoints (`/api/wallet/{wallet}/claims`,
//!   `/api/claim/...`): `claim` and `claim_tx`.

use crate::audit;
use crate::claim::{self, Claims};
use crate::http;
pub use crate::http::{Request, Response};
use crate::networks::{decode, load_networks, snapshot_of, NetworkState};
use crate::pages;
use crate::store::{text_at, Store};
use crate::ExplorerError;
use anchor_lang::prelude::Pubkey;
use serde_json::json;
use std::str::FromStr;
use std::sync::Arc;
use tokio::net::TcpListener;
use upline::state::{label_text, Member};
use upline_sdk::stats::{referral_stats, StatsSubject};

/// The dashboard page (static; it calls the API).
pub const DASHBOARD: &str = include_str!("dashboard.html");

/// A wallet's memberships: (network, member account, referrer's wallet),
/// from the members table; with their snapshots.
async fn memberships_of(
    store: &Store,
    wallet: &Pubkey,
) -> Result<Vec<(Pubkey, Pubkey, Option<Pubkey>, Member)>, ExplorerError> {
    let rows = store
        .query(
            "SELECT m.network, m.member, m.referrer_wallet, a.address, a.kind, a.network, a.data FROM members m JOIN accounts a ON a.address = m.member WHERE m.wallet = $1 ORDER BY m.network, m.class",
            vec![wallet.to_string().into()],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let key = |i: usize| Pubkey::from_str(&text_at(&row, i)).ok();
        let (Some(network), Some(member)) = (key(0), key(1)) else {
            return Err(ExplorerError::Corrupt(format!(
                "members: bad row for {wallet}"
            )));
        };
        let snapshot = snapshot_of(&row[3..])?;
        out.push((network, member, key(2), decode::<Member>(&snapshot)?));
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    User,
    Provider,
}

async fn referral_stats_of(store: &Store, wallet: &str, role: Role, request: &Request) -> Response {
    let Ok(wallet) = Pubkey::from_str(wallet) else {
        return Response::error(400, format!("{wallet:?} is not a wallet address"));
    };
    let only = match request.param("network").map(Pubkey::from_str) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return Response::error(400, "?network= is not a network address"),
    };
    let held = match memberships_of(store, &wallet).await {
        Ok(held) => held,
        Err(e) => return Response::error(500, e.to_string()),
    };
    let networks = match load_networks(store, only.as_ref()).await {
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
    for state in networks.iter() {
        let providers = state.provider_classes();
        for (_, address, referrer_wallet, member) in held
            .iter()
            .filter(|(network, ..)| *network == state.address)
        {
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
                referrer_wallet: *referrer_wallet,
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

/// Parse a request head, for callers that route without a socket.
pub fn parse_request(head: &str) -> Option<Request> {
    http::parse_head(head)
}

/// Answer one request from the index.
pub async fn route(store: &Store, request: Request) -> Response {
    if let Some(response) = pages::route(store, &request).await {
        return response;
    }
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
        ["api", "networks"] => match load_networks(store, None).await {
            Ok(networks) => Response::json(
                200,
                &json!({"networks": networks.iter().map(NetworkState::summary).collect::<Vec<_>>()}),
            ),
            Err(e) => Response::error(500, e.to_string()),
        },
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

/// Answer one request: the claim page's, then the others.
async fn answer(store: &Store, claims: &Claims, request: Request) -> Response {
    if let Some(response) = claim::route(claims, store, &request).await {
        return response;
    }
    route(store, request).await
}

/// Serve the API and dashboard from `store` on `listener` until the process
/// ends. Requests run concurrently, each on a pooled connection; whatever
/// keeps the index up to date writes beside them. Without a cluster the
/// claim endpoints say so.
pub async fn serve(store: Store, listener: TcpListener) -> std::io::Result<()> {
    serve_with_clusters(store, listener, Vec::new()).await
}

/// [`serve`], claiming on `clusters` (JSON-RPC URLs: the one each network
/// is on is found by asking them).
pub async fn serve_with_clusters(
    store: Store,
    listener: TcpListener,
    clusters: Vec<String>,
) -> std::io::Result<()> {
    let claims = Arc::new(Claims::new(clusters));
    let routes = pages::router(store.clone());
    http::serve(listener, routes, move |request| {
        let store = store.clone();
        let claims = Arc::clone(&claims);
        async move { answer(&store, &claims, request).await }
    })
    .await
}
