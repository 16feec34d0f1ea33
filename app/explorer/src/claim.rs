//! The claim page's reads: which cluster holds a network, and what a wallet's
//! memberships can claim now, read live from that cluster (the index may be
//! seconds behind; a claim is about the chain as it is).
//!
//! - `GET /api/wallet/{wallet}/claims`: per membership of the wallet in every
//!   indexed network, per ledger: balance, minimum, what is claimable now
//!   (and why not more), the wallet's token account and what it holds.
//!
//! Building, sending and confirming a claim are in `claim_tx`.

use crate::http::{Request, Response};
use crate::store::{Cell, Store};
use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::str::FromStr;
use tokio::sync::Mutex;
use upline::math::decimal::format_fixed;
use upline::state::{label_text, Ledger, LedgerKind, Member, Network};
use upline_sdk::client::{Cluster, TxFailure};
use upline_sdk::pda;
use upline_sdk::rpc::RpcCluster;

/// The claim panel's script (the dashboard loads it).
pub const CLAIM_JS: &str = include_str!("claim.js");

/// The clusters the explorer claims on, and which of them holds each network
/// (`demo --serve` runs one sandbox per network; `explorer serve` has one).
pub struct Claims {
    clusters: Vec<String>,
    homes: Mutex<HashMap<Pubkey, String>>,
}

/// A refusal, ready to answer with.
pub type Answer<T> = Result<T, Response>;

pub fn unreachable(url: &str, e: &TxFailure) -> Response {
    Response::error(
        502,
        format!("the cluster at {url} cannot be read: {}", e.name()),
    )
}

impl Claims {
    pub fn new(clusters: Vec<String>) -> Claims {
        Claims {
            clusters,
            homes: Mutex::new(HashMap::new()),
        }
    }

    /// The cluster that holds `network`, connected.
    pub async fn cluster_of(&self, network: &Pubkey) -> Answer<RpcCluster> {
        if self.clusters.is_empty() {
            return Err(Response::error(
                503,
                "this explorer was started without a cluster to claim on (run `upline --url URL explorer serve`)",
            ));
        }
        let known = self.homes.lock().await.get(network).cloned();
        if let Some(url) = known {
            return RpcCluster::connect(&url)
                .await
                .map_err(|e| unreachable(&url, &e));
        }
        let mut last = None;
        for url in &self.clusters {
            let mut cluster = match RpcCluster::connect(url).await {
                Ok(c) => c,
                Err(e) => {
                    last = Some(unreachable(url, &e));
                    continue;
                }
            };
            match cluster.account(network).await {
                Ok(Some(a)) if a.owner == upline::ID => {
                    self.homes.lock().await.insert(*network, url.clone());
                    return Ok(cluster);
                }
                Ok(_) => {}
                Err(e) => last = Some(unreachable(url, &e)),
            }
        }
        Err(last.unwrap_or_else(|| {
            Response::error(
                404,
                format!(
                    "network {network} is on none of this explorer's clusters ({})",
                    self.clusters.join(", ")
                ),
            )
        }))
    }
}

/// The Wallet Standard chain of a cluster URL (wallets sign for a chain).
pub fn chain_of(url: &str) -> &'static str {
    if url.contains("devnet") {
        "solana:devnet"
    } else if url.contains("testnet") {
        "solana:testnet"
    } else if url.contains("mainnet") {
        "solana:mainnet"
    } else {
        "solana:localnet"
    }
}

/// A network and its ledgers as the cluster holds them now.
pub struct Live {
    pub address: Pubkey,
    pub network: Network,
    pub ledgers: Vec<Ledger>,
}

fn decode<T: AccountDeserialize>(key: &Pubkey, data: &[u8]) -> Answer<T> {
    upline_sdk::decode_account::<T>(data)
        .map_err(|e| Response::error(500, format!("{key} does not decode: {e}")))
}

impl Live {
    pub async fn load(cluster: &mut RpcCluster, address: Pubkey) -> Answer<Live> {
        let url = cluster.url().to_string();
        let network = cluster
            .decode::<Network>(&address)
            .await
            .map_err(|e| unreachable(&url, &e))?
            .ok_or_else(|| Response::error(404, format!("network {address} is not on {url}")))?;
        let keys: Vec<Pubkey> = (0..network.ledger_count)
            .map(|i| pda::ledger(&address, i))
            .collect();
        let mut ledgers = Vec::with_capacity(keys.len());
        for (key, account) in keys.iter().zip(
            cluster
                .accounts(&keys)
                .await
                .map_err(|e| unreachable(&url, &e))?,
        ) {
            let account =
                account.ok_or_else(|| Response::error(500, format!("ledger {key} is missing")))?;
            ledgers.push(decode::<Ledger>(key, &account.data)?);
        }
        Ok(Live {
            address,
            network,
            ledgers,
        })
    }

    /// The class called by index `class`.
    pub fn class_name(&self, class: u8) -> String {
        let t = &self.network.tables;
        t.classes[..usize::from(t.class_count)]
            .get(usize::from(class))
            .map_or_else(
                || format!("class {class}"),
                |c| label_text(&c.name).to_string(),
            )
    }
}

/// The wallet's token account for `ledger`'s mint (the associated one).
pub fn token_account(wallet: &Pubkey, ledger: &Ledger) -> Pubkey {
    get_associated_token_address_with_program_id(wallet, &ledger.mint, &ledger.token_program)
}

/// The amount an SPL token account holds (Token and Token-2022 share the
/// base layout: mint, owner, then the amount), 0 when it does not exist.
pub fn token_amount(data: Option<&[u8]>) -> u64 {
    data.and_then(|d| d.get(64..72))
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// What one membership can claim from one ledger now, in base units, and why
/// not more. The same rules as `member stats`' "claimable now" (the
/// program's order of checks: paused, frozen, minimum, circuit breaker, vault).
pub struct Claimable {
    pub balance: u64,
    pub claimable: u64,
    pub note: Option<String>,
}

pub fn claimable(network: &Network, ledger: &Ledger, member: &Member, now: i64) -> Claimable {
    let claim = upline_sdk::claims::claim(network.paused, ledger, member, now);
    Claimable {
        balance: claim.balance,
        claimable: claim.claimable,
        note: claim.note(ledger),
    }
}

/// The networks in the index.
async fn indexed_networks(store: &Store) -> Answer<Vec<Pubkey>> {
    let rows = store
        .query(
            "SELECT address FROM accounts WHERE kind = 'network' ORDER BY address",
            vec![],
        )
        .await
        .map_err(|e| Response::error(500, e.to_string()))?;
    Ok(rows
        .iter()
        .filter_map(|r| r.first().and_then(Cell::text))
        .filter_map(|t| Pubkey::from_str(t).ok())
        .collect())
}

/// One membership's claims, read live.
async fn membership_claims(
    cluster: &mut RpcCluster,
    live: &Live,
    wallet: &Pubkey,
) -> Answer<Vec<Value>> {
    let url = cluster.url().to_string();
    let classes = live.network.tables.class_count;
    let members: Vec<Pubkey> = (0..classes)
        .map(|c| pda::member(&live.address, wallet, c))
        .collect();
    let tokens: Vec<Pubkey> = live
        .ledgers
        .iter()
        .map(|l| token_account(wallet, l))
        .collect();
    let keys: Vec<Pubkey> = members.iter().chain(&tokens).copied().collect();
    let accounts = cluster
        .accounts(&keys)
        .await
        .map_err(|e| unreachable(&url, &e))?;
    let now = cluster.now().await.map_err(|e| unreachable(&url, &e))?;
    let (held, wallet_tokens) = accounts.split_at(members.len());
    let mut out = Vec::new();
    for (class, (address, account)) in members.iter().zip(held).enumerate() {
        let Some(account) = account else { continue };
        let member = decode::<Member>(address, &account.data)?;
        let ledgers: Vec<Value> = live
            .ledgers
            .iter()
            .zip(wallet_tokens)
            .map(|(l, token)| {
                let c = claimable(&live.network, l, &member, now);
                let units = |n: u64| format_fixed(u128::from(n), l.decimals);
                let is_token = l.kind == LedgerKind::Token;
                json!({
                    "index": l.index,
                    "ledger": label_text(&l.name),
                    "kind": if is_token { "token" } else { "points" },
                    "decimals": l.decimals,
                    "balance": units(c.balance),
                    "min_withdrawal": is_token.then(|| units(l.min_withdrawal)),
                    "claimable": units(c.claimable),
                    "note": c.note,
                    "token_account": is_token.then(|| token_account(wallet, l).to_string()),
                    "in_wallet": is_token.then(|| units(token_amount(token.as_ref().map(|t| t.data.as_slice())))),
                })
            })
            .collect();
        let class = u8::try_from(class).unwrap_or(u8::MAX);
        out.push(json!({
            "network": live.address.to_string(),
            "network_name": label_text(&live.network.name),
            "class": live.class_name(class),
            "class_index": class,
            "member": address.to_string(),
            "chain": chain_of(&url),
            "ledgers": ledgers,
        }));
    }
    Ok(out)
}

/// `GET /api/wallet/{wallet}/claims`.
pub async fn wallet_claims(claims: &Claims, store: &Store, wallet: &str) -> Response {
    let Ok(wallet) = Pubkey::from_str(wallet) else {
        return Response::error(400, format!("{wallet:?} is not a wallet address"));
    };
    let networks = match indexed_networks(store).await {
        Ok(n) => n,
        Err(r) => return r,
    };
    let (mut memberships, mut unreadable) = (Vec::new(), Vec::new());
    for network in networks {
        let read = async {
            let mut cluster = claims.cluster_of(&network).await?;
            let live = Live::load(&mut cluster, network).await?;
            membership_claims(&mut cluster, &live, &wallet).await
        };
        match read.await {
            Ok(found) => memberships.extend(found),
            Err(r) => {
                let error =
                    serde_json::from_str::<Value>(&r.body).unwrap_or_default()["error"].clone();
                unreadable.push(json!({"network": network.to_string(), "error": error}));
            }
        }
    }
    Response::json(
        200,
        &json!({"wallet": wallet.to_string(), "memberships": memberships, "unreadable": unreadable}),
    )
}

/// Route the claim page's requests; `None` for every other path.
pub async fn route(claims: &Claims, store: &Store, request: &Request) -> Option<Response> {
    let parts: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    let method = request.method.as_str();
    Some(match (method, parts.as_slice()) {
        ("GET", ["claim.js"]) => Response {
            status: 200,
            content_type: "text/javascript",
            body: CLAIM_JS.to_string(),
        },
        ("GET", ["api", "wallet", wallet, "claims"]) => wallet_claims(claims, store, wallet).await,
        ("GET", ["api", "claim", "transaction"]) => crate::claim_tx::build(claims, request).await,
        ("POST", ["api", "claim", "send"]) => crate::claim_tx::send(claims, request).await,
        ("GET", ["api", "claim", "status"]) => crate::claim_tx::status(claims, request).await,
        (_, ["api", "wallet", _, "claims"] | ["api", "claim", ..]) => Response::error(
            405,
            format!("{method} {}: see README, \"The claim page\"", request.path),
        ),
        _ => return None,
    })
}
