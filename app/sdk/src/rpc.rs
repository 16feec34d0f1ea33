//! The JSON-RPC back end: a real cluster (or `upline sandbox`) reached by URL.

use crate::client::{AccountState, Cluster, TxFailure};
use anchor_lang::prelude::{Clock, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::sysvar::SysvarId;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_signer::Signer;
use solana_transaction::Transaction;
use std::time::Duration;

/// How long one request may take before the cluster counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The usual cluster monikers, as the Solana CLI spells them (long and short).
const MONIKERS: [(&str, &str, &str); 4] = [
    ("localhost", "l", "http://127.0.0.1:8899"),
    ("devnet", "d", "https://api.devnet.solana.com"),
    ("testnet", "t", "https://api.testnet.solana.com"),
    ("mainnet-beta", "m", "https://api.mainnet-beta.solana.com"),
];

/// The JSON-RPC URL for `--url`: a moniker or an `http(s)://` URL.
pub fn resolve_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    if let Some((_, _, full)) = MONIKERS
        .iter()
        .find(|(long, short, _)| url == *long || url == *short)
    {
        return Ok((*full).to_string());
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        return Ok(url.to_string());
    }
    Err(format!(
        "--url {url:?}: expected an http(s):// URL or one of localhost, devnet, testnet, mainnet-beta"
    ))
}

/// A cluster over JSON-RPC, at `confirmed` commitment.
pub struct RpcCluster {
    client: RpcClient,
    url: String,
}

impl RpcCluster {
    /// Connect to `url` (already resolved) and check that it answers.
    pub async fn connect(url: &str) -> Result<RpcCluster, TxFailure> {
        let client = RpcClient::new_with_timeout_and_commitment(
            url.to_string(),
            REQUEST_TIMEOUT,
            CommitmentConfig::confirmed(),
        );
        client
            .get_version()
            .await
            .map_err(|e| TxFailure::Transport(format!("{url}: {}", brief(&e))))?;
        Ok(RpcCluster {
            client,
            url: url.to_string(),
        })
    }

    /// The client library's RPC client (for reads the [`Cluster`] trait does not cover).
    pub fn client(&self) -> &RpcClient {
        &self.client
    }

    /// The URL this cluster answers on.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Ask the cluster (localhost, devnet, the sandbox) for `lamports` to `to`.
    pub async fn airdrop(&mut self, to: &Pubkey, lamports: u64) -> Result<(), TxFailure> {
        let signature = self
            .client
            .request_airdrop(to, lamports)
            .await
            .map_err(failure)?;
        loop {
            match self
                .client
                .get_signature_status(&signature)
                .await
                .map_err(failure)?
            {
                Some(Ok(())) => return Ok(()),
                Some(Err(e)) => return Err(TxFailure::from(e)),
                None => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

/// The first line of a client error: the rest repeats the request.
fn brief(error: &ClientError) -> String {
    match error.kind() {
        ErrorKind::Reqwest(e) if e.is_connect() => "connection refused or host not found".into(),
        ErrorKind::Reqwest(e) if e.is_timeout() => "no answer in time".into(),
        _ => error
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// A client error as a failure: the program's own error when the cluster
/// refused the transaction, transport trouble otherwise.
pub fn failure(error: ClientError) -> TxFailure {
    if let Some(tx_error) = error.get_transaction_error() {
        return TxFailure::from(tx_error);
    }
    match error.kind() {
        ErrorKind::Reqwest(_) | ErrorKind::Io(_) | ErrorKind::Middleware(_) => {
            TxFailure::Transport(brief(&error))
        }
        _ => TxFailure::Other(brief(&error)),
    }
}

impl Cluster for RpcCluster {
    async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), TxFailure> {
        let payer = signers
            .first()
            .ok_or_else(|| TxFailure::Other("no fee payer".into()))?;
        let blockhash = self.client.get_latest_blockhash().await.map_err(failure)?;
        let mut tx = Transaction::new_with_payer(instructions, Some(&payer.pubkey()));
        tx.try_sign(signers, blockhash)
            .map_err(|e| TxFailure::Other(format!("signing: {e}")))?;
        self.client
            .send_and_confirm_transaction(&tx)
            .await
            .map(|_| ())
            .map_err(failure)
    }

    async fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<AccountState>>, TxFailure> {
        let mut out = Vec::with_capacity(keys.len());
        // getMultipleAccounts takes at most 100 addresses.
        for chunk in keys.chunks(100) {
            let accounts = self
                .client
                .get_multiple_accounts(chunk)
                .await
                .map_err(failure)?;
            out.extend(accounts.into_iter().map(|a| {
                a.map(|a| AccountState {
                    lamports: a.lamports,
                    owner: a.owner,
                    data: a.data,
                })
            }));
        }
        Ok(out)
    }

    async fn rent_exempt(&mut self, len: usize) -> Result<u64, TxFailure> {
        self.client
            .get_minimum_balance_for_rent_exemption(len)
            .await
            .map_err(failure)
    }

    async fn now(&mut self) -> Result<i64, TxFailure> {
        let clock = self
            .account(&Clock::id())
            .await?
            .ok_or_else(|| TxFailure::Other("the cluster has no clock sysvar".into()))?;
        // Clock: slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp.
        clock
            .data
            .get(32..40)
            .and_then(|b| b.try_into().ok())
            .map(i64::from_le_bytes)
            .ok_or_else(|| TxFailure::Other("the clock sysvar is malformed".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monikers_and_urls_resolve_like_the_solana_cli() {
        assert_eq!(resolve_url("localhost").unwrap(), "http://127.0.0.1:8899");
        assert_eq!(resolve_url("d").unwrap(), "https://api.devnet.solana.com");
        assert_eq!(
            resolve_url("mainnet-beta").unwrap(),
            "https://api.mainnet-beta.solana.com"
        );
        assert_eq!(
            resolve_url("http://10.0.0.2:8899").unwrap(),
            "http://10.0.0.2:8899"
        );
        let err = resolve_url("devnett").unwrap_err();
        assert!(err.contains("--url \"devnett\""), "{err}");
    }
}
