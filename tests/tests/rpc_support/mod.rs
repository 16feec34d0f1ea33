//! What the client-library suites share: a sandbox served over HTTP and
//! WebSocket on free ports, the Solana client library pointed at it, and a
//! network with members created through it.
#![allow(dead_code)]

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::ErrorKind;
use solana_rpc_client_api::request::RpcError;
use solana_signer::Signer;
use solana_transaction::{Signature, Transaction};
use std::sync::Arc;
use upline_sdk::sandbox::server::{Faults, SandboxServer};
use upline_sdk::{ix, pda};
use upline_tests::network::{class, tables};
use upline_tests::Chain;

/// A served sandbox: its URLs and a client of its JSON-RPC endpoint.
pub struct Served {
    pub url: String,
    pub ws: String,
    pub client: Arc<RpcClient>,
}

/// Serve `chain` with `faults` on free local ports.
pub async fn serve_chain(chain: Chain, faults: Faults) -> Served {
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let pubsub = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", http.local_addr().unwrap());
    let ws = format!("ws://{}", pubsub.local_addr().unwrap());
    tokio::spawn(SandboxServer::with_faults(chain, faults).serve_with_pubsub(http, pubsub));
    let client = Arc::new(RpcClient::new_with_commitment(
        url.clone(),
        CommitmentConfig::confirmed(),
    ));
    Served { url, ws, client }
}

pub async fn serve() -> Served {
    serve_chain(Chain::start().await, Faults::default()).await
}

impl Served {
    /// A new wallet funded by the sandbox's faucet, confirmed.
    pub async fn wallet(&self, lamports: u64) -> Keypair {
        let wallet = Keypair::new();
        let signature = self
            .client
            .request_airdrop(&wallet.pubkey(), lamports)
            .await
            .expect("airdrop");
        assert!(self.client.confirm_transaction(&signature).await.unwrap());
        wallet
    }

    /// `instructions` signed by `signers` (the first pays), with a fresh blockhash.
    pub async fn signed(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Transaction {
        let blockhash = self.client.get_latest_blockhash().await.expect("blockhash");
        Transaction::new_signed_with_payer(
            instructions,
            Some(&signers[0].pubkey()),
            signers,
            blockhash,
        )
    }

    /// Send and confirm (preflight on); the signature.
    pub async fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Signature {
        let tx = self.signed(instructions, signers).await;
        self.client
            .send_and_confirm_transaction(&tx)
            .await
            .unwrap_or_else(|e| panic!("{instructions:?}: {e}"))
    }
}

/// A network with `members` joined wallets, created over JSON-RPC.
pub struct Net {
    pub admin: Keypair,
    pub key: Pubkey,
    pub wallets: Vec<Keypair>,
}

pub async fn network(served: &Served, name: &str, members: usize) -> Net {
    let admin = served.wallet(10_000_000_000).await;
    let name = pda::network_name(name).unwrap();
    let tables = tables(&[class("user", &[100_000], None)], false);
    served
        .send(
            &[ix::create_network(
                &admin.pubkey(),
                &name,
                &admin.pubkey(),
                tables,
            )],
            &[&admin],
        )
        .await;
    let key = pda::network(&admin.pubkey(), &name);
    let mut wallets = Vec::new();
    for _ in 0..members {
        let wallet = Keypair::new();
        served
            .send(
                &[ix::join(&wallet.pubkey(), &admin.pubkey(), &key, 0, &[])],
                &[&admin, &wallet],
            )
            .await;
        wallets.push(wallet);
    }
    Net {
        admin,
        key,
        wallets,
    }
}

/// The JSON-RPC error code of a refused call.
pub fn refused_code(e: &solana_rpc_client_api::client_error::Error) -> Option<i64> {
    match e.kind() {
        ErrorKind::RpcError(RpcError::RpcResponseError { code, .. }) => Some(*code),
        _ => None,
    }
}
