//! The claim page's transactions: the explorer builds the unsigned claim (the
//! SDK's instructions, as `member withdraw` sends them), the wallet signs it,
//! the explorer sends it to the network's cluster and waits for it; every
//! refusal is named in the member's terms from the program's error.
//!
//! - `GET /api/claim/transaction?wallet=&network=&class=&ledger=&amount=`:
//!   the unsigned transaction (base64), fee payer the wallet: the wallet's
//!   associated token account created if missing (idempotent), then
//!   `withdraw` (`amount` in whole units, or `all`). Simulated first where the
//!   cluster can, so a claim the program would refuse is named before signing.
//! - `POST /api/claim/send` `{"transaction": base64}`: a signed claim sent
//!   and confirmed; the signature, what arrived and the new balances.
//! - `GET /api/claim/status?signature=&wallet=&network=&class=&ledger=`: the
//!   same answer for a claim the wallet sent itself (`signAndSendTransaction`).

use crate::claim::{token_account, token_amount, unreachable, Answer, Claims, Live};
use crate::http::{Request, Response};
use anchor_lang::prelude::{AnchorDeserialize, Pubkey};
use anchor_lang::Discriminator;
use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;
use base64::Engine;
use serde_json::{json, Value};
use solana_commitment_config::{CommitmentConfig, CommitmentLevel};
use solana_rpc_client_api::config::{RpcSendTransactionConfig, RpcSimulateTransactionConfig};
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::{Signature, Transaction, TransactionError};
use solana_transaction_status_client_types::UiTransactionEncoding;
use std::str::FromStr;
use std::time::{Duration, Instant};
use upline::errors::{error_by_code, UplineError};
use upline::math::decimal::{format_fixed, parse_fixed};
use upline::state::{label_text, Ledger, LedgerKind, Member};
use upline_sdk::client::{anchor_error_name, Cluster, TxFailure};
use upline_sdk::ix::{self, TokenDestination};
use upline_sdk::pda;
use upline_sdk::rpc::{failure, RpcCluster};

/// How long a sent claim may take to be confirmed (a blockhash lives about a minute).
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(90);

/// What a claim is about, for naming its refusals.
pub(crate) struct Claim<'a> {
    pub ledger: &'a Ledger,
    pub amount: Option<u64>,
}

impl Claim<'_> {
    fn units(&self, n: u64) -> String {
        format_fixed(u128::from(n), self.ledger.decimals)
    }

    fn what(&self) -> String {
        let name = label_text(&self.ledger.name);
        match self.amount {
            Some(a) => format!("claim {} {name}", self.units(a)),
            None => format!("claim all of the {name} balance"),
        }
    }
}

/// A refused claim in the member's terms, with the program's error name
/// (`claim 0.5 CXPT: below the 1 CXPT minimum (BelowMinimum)`).
pub(crate) fn refusal(failure: &TxFailure, claim: &Claim, signature: Option<&str>) -> Response {
    let what = claim.what();
    let (status, name, message) = match failure {
        TxFailure::Custom { code, .. } => {
            let name = failure.name();
            let message = match error_by_code(*code) {
                Some(UplineError::BelowMinimum) => format!(
                    "{what}: below the {} {} minimum (BelowMinimum)",
                    claim.units(claim.ledger.min_withdrawal),
                    label_text(&claim.ledger.name)
                ),
                Some(e) => format!("{what}: {e} ({name})"),
                None if anchor_error_name(*code).is_some() => format!("{what}: {name}"),
                None => format!("{what}: refused by another program ({name})"),
            };
            (422, name, message)
        }
        TxFailure::Transport(text) => (502, "Unreachable".into(), format!("{what}: {text}")),
        TxFailure::Other(text) => (422, "Refused".into(), format!("{what}: {text}")),
    };
    Response::json(
        status,
        &json!({"error": message, "name": name, "signature": signature}),
    )
}

fn bad(message: impl Into<String>) -> Response {
    Response::error(400, message)
}

fn key(request: &Request, name: &str) -> Answer<Pubkey> {
    let text = request.param(name).unwrap_or_default();
    Pubkey::from_str(text).map_err(|_| bad(format!("?{name}={text:?} is not an address")))
}

fn small(request: &Request, name: &str) -> Answer<u8> {
    let text = request.param(name).unwrap_or_default();
    text.parse()
        .map_err(|_| bad(format!("?{name}={text:?} is not an index from 0 to 255")))
}

/// `amount` in `ledger`'s base units; `all` (or nothing) is the whole balance.
pub(crate) fn amount(ledger: &Ledger, text: &str) -> Answer<Option<u64>> {
    if text.is_empty() || text == "all" {
        return Ok(None);
    }
    parse_fixed(text, ledger.decimals)
        .ok()
        .and_then(|u| u64::try_from(u).ok())
        .map(Some)
        .ok_or_else(|| {
            bad(format!(
                "amount {text:?}: a decimal amount of {} with at most {} decimals",
                label_text(&ledger.name),
                ledger.decimals
            ))
        })
}

fn ledger_of(live: &Live, index: u8) -> Answer<&Ledger> {
    live.ledgers.get(usize::from(index)).ok_or_else(|| {
        Response::error(
            404,
            format!("network {} has no ledger {index}", live.address),
        )
    })
}

/// `GET /api/claim/transaction`.
pub async fn build(claims: &Claims, request: &Request) -> Response {
    build_answer(claims, request).await.unwrap_or_else(|r| r)
}

async fn build_answer(claims: &Claims, request: &Request) -> Answer<Response> {
    let (wallet, network) = (key(request, "wallet")?, key(request, "network")?);
    let (class, index) = (small(request, "class")?, small(request, "ledger")?);
    let mut cluster = claims.cluster_of(&network).await?;
    let live = Live::load(&mut cluster, network).await?;
    let ledger = ledger_of(&live, index)?;
    if ledger.kind != LedgerKind::Token {
        return Err(bad(format!(
            "{} is a points ledger: points are not withdrawable (PointsNotWithdrawable)",
            label_text(&ledger.name)
        )));
    }
    let amount = amount(ledger, request.param("amount").unwrap_or_default())?;
    let destination = token_account(&wallet, ledger);
    let create = create_associated_token_account_idempotent(
        &wallet,
        &wallet,
        &ledger.mint,
        &ledger.token_program,
    );
    let to = TokenDestination {
        mint: ledger.mint,
        destination,
        token_program: ledger.token_program,
    };
    let withdraw = ix::withdraw(&wallet, &network, class, index, Some(&to), amount);
    let mut tx = Transaction::new_with_payer(&[create, withdraw], Some(&wallet));
    let url = cluster.url().to_string();
    tx.message.recent_blockhash = cluster
        .client()
        .get_latest_blockhash()
        .await
        .map_err(|e| unreachable(&url, &failure(e)))?;
    let claim = Claim { ledger, amount };
    // Name a refusal before the wallet is asked to sign. A cluster that cannot
    // simulate (no `simulateTransaction`, or not unsigned) leaves it to the
    // send's preflight, which names it the same way.
    let config = RpcSimulateTransactionConfig {
        sig_verify: false,
        commitment: Some(CommitmentConfig::confirmed()),
        ..RpcSimulateTransactionConfig::default()
    };
    let simulated = cluster
        .client()
        .simulate_transaction_with_config(&tx, config)
        .await;
    if let Some(err) = simulated.ok().and_then(|r| r.value.err) {
        let failure = TxFailure::from(TransactionError::from(err));
        return Err(refusal(&failure, &claim, None));
    }
    let bytes = bincode::serialize(&tx).map_err(|e| Response::error(500, e.to_string()))?;
    Ok(Response::json(
        200,
        &json!({
            "transaction": base64::engine::general_purpose::STANDARD.encode(bytes),
            "token_account": destination.to_string(),
            "amount": amount.map_or_else(|| "all".to_string(), |a| claim.units(a)),
        }),
    ))
}

/// The Upline `withdraw` in a claim transaction: its accounts and amount.
pub(crate) struct Withdraw {
    pub wallet: Pubkey,
    pub network: Pubkey,
    pub ledger: Pubkey,
    pub member: Pubkey,
    pub destination: Pubkey,
    pub amount: Option<u64>,
}

pub(crate) fn find_withdraw(tx: &VersionedTransaction) -> Option<Withdraw> {
    let keys = tx.message.static_account_keys();
    let discriminator = upline::instruction::Withdraw::DISCRIMINATOR;
    tx.message.instructions().iter().find_map(|ix| {
        let program = keys.get(usize::from(ix.program_id_index))?;
        let body = ix.data.strip_prefix(discriminator)?;
        if *program != upline::ID {
            return None;
        }
        let args = upline::instruction::Withdraw::try_from_slice(body).ok()?;
        // Accounts in `accounts::Withdraw` order: wallet, network, ledger, member,
        // mint, vault, destination, ...
        let account = |i: usize| keys.get(usize::from(*ix.accounts.get(i)?)).copied();
        Some(Withdraw {
            wallet: account(0)?,
            network: account(1)?,
            ledger: account(2)?,
            member: account(3)?,
            destination: account(6)?,
            amount: args.amount,
        })
    })
}

/// Wait until `signature` is confirmed; a refusal by the program is its error.
async fn confirm(cluster: &RpcCluster, signature: &Signature) -> Result<(), TxFailure> {
    let start = Instant::now();
    loop {
        let statuses = cluster
            .client()
            .get_signature_statuses(&[*signature])
            .await
            .map_err(failure)?;
        if let Some(Some(status)) = statuses.value.first() {
            if let Some(err) = &status.err {
                return Err(TxFailure::from(err.clone()));
            }
            if status.satisfies_commitment(CommitmentConfig::confirmed()) {
                return Ok(());
            }
        }
        if start.elapsed() > CONFIRM_TIMEOUT {
            return Err(TxFailure::Other(format!(
                "not confirmed after {} seconds; look {signature} up later",
                CONFIRM_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// What the wallet holds of the ledger's token and what stays claimable.
async fn after(
    cluster: &mut RpcCluster,
    ledger: &Ledger,
    member: &Pubkey,
    destination: &Pubkey,
) -> Answer<(u64, String)> {
    let url = cluster.url().to_string();
    let accounts = cluster
        .accounts(&[*destination, *member])
        .await
        .map_err(|e| unreachable(&url, &e))?;
    let held = token_amount(accounts[0].as_ref().map(|a| a.data.as_slice()));
    let balance = accounts[1]
        .as_ref()
        .and_then(|a| upline_sdk::decode_account::<Member>(&a.data).ok())
        .and_then(|m| m.ledgers.get(usize::from(ledger.index)).copied())
        .and_then(|s| s.balance().ok())
        .and_then(|b| b.to_base_units_floor_capped(ledger.decimals).ok())
        .unwrap_or(0);
    Ok((held, format_fixed(u128::from(balance), ledger.decimals)))
}

/// `POST /api/claim/send`.
pub async fn send(claims: &Claims, request: &Request) -> Response {
    send_answer(claims, request).await.unwrap_or_else(|r| r)
}

async fn send_answer(claims: &Claims, request: &Request) -> Answer<Response> {
    let body: Value = serde_json::from_slice(&request.body)
        .map_err(|e| bad(format!("the body is not JSON: {e}")))?;
    let encoded = body["transaction"]
        .as_str()
        .ok_or_else(|| bad("the body needs \"transaction\": the signed transaction, base64"))?;
    let tx: VersionedTransaction = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .and_then(|b| bincode::deserialize(&b).ok())
        .ok_or_else(|| bad("\"transaction\" is not a base64 transaction"))?;
    let w = find_withdraw(&tx).ok_or_else(|| {
        bad("the explorer sends claims only: the transaction has no Upline withdraw")
    })?;
    let mut cluster = claims.cluster_of(&w.network).await?;
    let live = Live::load(&mut cluster, w.network).await?;
    let index = (0..live.network.ledger_count)
        .find(|i| pda::ledger(&w.network, *i) == w.ledger)
        .ok_or_else(|| bad(format!("{} is not a ledger of {}", w.ledger, w.network)))?;
    let ledger = ledger_of(&live, index)?;
    let claim = Claim {
        ledger,
        amount: w.amount,
    };
    let (before, _) = after(&mut cluster, ledger, &w.member, &w.destination).await?;
    let config = RpcSendTransactionConfig {
        skip_preflight: false,
        preflight_commitment: Some(CommitmentLevel::Confirmed),
        encoding: Some(UiTransactionEncoding::Base64),
        ..RpcSendTransactionConfig::default()
    };
    let signature = cluster
        .client()
        .send_transaction_with_config(&tx, config)
        .await
        .map_err(|e| refusal(&failure(e), &claim, None))?;
    let text = signature.to_string();
    confirm(&cluster, &signature)
        .await
        .map_err(|f| refusal(&f, &claim, Some(&text)))?;
    let (held, balance) = after(&mut cluster, ledger, &w.member, &w.destination).await?;
    Ok(Response::json(
        200,
        &json!({
            "signature": text,
            "wallet": w.wallet.to_string(),
            "ledger": label_text(&ledger.name),
            "claimed": claim.units(held.saturating_sub(before)),
            "in_wallet": claim.units(held),
            "balance": balance,
        }),
    ))
}

/// `GET /api/claim/status`.
pub async fn status(claims: &Claims, request: &Request) -> Response {
    status_answer(claims, request).await.unwrap_or_else(|r| r)
}

async fn status_answer(claims: &Claims, request: &Request) -> Answer<Response> {
    let (wallet, network) = (key(request, "wallet")?, key(request, "network")?);
    let (class, index) = (small(request, "class")?, small(request, "ledger")?);
    let text = request.param("signature").unwrap_or_default();
    let signature = Signature::from_str(text)
        .map_err(|_| bad(format!("?signature={text:?} is not a signature")))?;
    let mut cluster = claims.cluster_of(&network).await?;
    let live = Live::load(&mut cluster, network).await?;
    let ledger = ledger_of(&live, index)?;
    let claim = Claim {
        ledger,
        amount: amount(ledger, request.param("amount").unwrap_or_default())?,
    };
    confirm(&cluster, &signature)
        .await
        .map_err(|f| refusal(&f, &claim, Some(text)))?;
    let member = pda::member(&network, &wallet, class);
    let destination = token_account(&wallet, ledger);
    let (held, balance) = after(&mut cluster, ledger, &member, &destination).await?;
    Ok(Response::json(
        200,
        &json!({
            "signature": text,
            "wallet": wallet.to_string(),
            "ledger": label_text(&ledger.name),
            "in_wallet": claim.units(held),
            "balance": balance,
        }),
    ))
}
