//! The JSON-RPC back end: a real cluster (or `upline sandbox`) reached by URL.

use crate::client::{AccountState, Cluster, TxFailure};
use anchor_lang::prelude::{Clock, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::sysvar::SysvarId;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Hash;
use solana_transaction::Signature;
use solana_transaction::Transaction;
use std::time::{Duration, Instant};

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

/// The compute budget program, whose instructions set a transaction's
/// compute-unit limit and priority fee.
pub const COMPUTE_BUDGET_ID: Pubkey =
    anchor_lang::pubkey!("ComputeBudget111111111111111111111111111111");

/// `SetComputeUnitLimit`: the most compute units the transaction may use.
pub fn set_compute_unit_limit(units: u32) -> Instruction {
    let mut data = vec![2u8];
    data.extend_from_slice(&units.to_le_bytes());
    Instruction::new_with_bytes(COMPUTE_BUDGET_ID, &data, vec![])
}

/// `SetComputeUnitPrice`: the priority fee, micro-lamports per compute unit.
pub fn set_compute_unit_price(micro_lamports: u64) -> Instruction {
    let mut data = vec![3u8];
    data.extend_from_slice(&micro_lamports.to_le_bytes());
    Instruction::new_with_bytes(COMPUTE_BUDGET_ID, &data, vec![])
}

/// The most compute units a transaction may request.
pub const MAX_COMPUTE_UNITS: u32 = 1_400_000;

/// What every transaction a cluster sends asks of the compute budget program.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ComputeBudget {
    /// Priority fee, micro-lamports per compute unit (`--with-compute-unit-price`).
    pub unit_price: Option<u64>,
    /// A fixed compute-unit limit per transaction (`--compute-unit-limit`).
    pub unit_limit: Option<u32>,
    /// Without a fixed limit: units per report, the limit being this times
    /// the reports sent, a batch counting each of its reports (capped at
    /// [`MAX_COMPUTE_UNITS`]).
    pub units_per_instruction: Option<u32>,
}

impl ComputeBudget {
    /// The compute budget instructions that go before `count` instructions.
    pub fn instructions(&self, count: usize) -> Vec<Instruction> {
        let mut out = Vec::with_capacity(2);
        let per = self.units_per_instruction.map(|per| {
            let total = u64::from(per) * count.max(1) as u64;
            u32::try_from(total)
                .unwrap_or(u32::MAX)
                .min(MAX_COMPUTE_UNITS)
        });
        if let Some(limit) = self.unit_limit.or(per) {
            out.push(set_compute_unit_limit(limit));
        }
        if let Some(price) = self.unit_price {
            out.push(set_compute_unit_price(price));
        }
        out
    }
}

/// A cluster over JSON-RPC, at `confirmed` commitment unless told otherwise.
pub struct RpcCluster {
    client: RpcClient,
    url: String,
    /// Compute budget instructions put before every transaction's own.
    pub budget: ComputeBudget,
    /// The blockhash the last transactions were signed over: when fetched and how often used.
    blockhash: Option<(Hash, Instant, usize)>,
    /// Signatures of the transactions sent that landed and succeeded, in order.
    pub landed: Vec<String>,
    /// Signing with keys held elsewhere (`--sign-only`, `--blockhash`).
    pub offline: crate::offline::Offline,
}

/// A blockhash is fetched afresh after this long or this many transactions:
/// it stays valid for 150 blocks (about a minute), so one per slot (400 ms)
/// is as fresh as a validator's own clients sign, and a busy sender saves a
/// round trip per transaction.
const BLOCKHASH_REUSE: (Duration, usize) = (Duration::from_millis(400), 16);

impl RpcCluster {
    /// Connect to `url` (already resolved) and check that it answers.
    pub async fn connect(url: &str) -> Result<RpcCluster, TxFailure> {
        RpcCluster::connect_with(url, CommitmentConfig::confirmed()).await
    }

    /// Connect to `url` at `commitment` and check that it answers.
    pub async fn connect_with(
        url: &str,
        commitment: CommitmentConfig,
    ) -> Result<RpcCluster, TxFailure> {
        let client = RpcClient::new_with_timeout_and_commitment(
            url.to_string(),
            REQUEST_TIMEOUT,
            commitment,
        );
        client
            .get_version()
            .await
            .map_err(|e| TxFailure::Transport(format!("{url}: {}", brief(&e))))?;
        Ok(RpcCluster {
            client,
            url: url.to_string(),
            budget: ComputeBudget::default(),
            blockhash: None,
            landed: Vec::new(),
            offline: Default::default(),
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

impl RpcCluster {
    /// The blockhash to sign over: the last one while it is fresh (see
    /// [`BLOCKHASH_REUSE`]), else the cluster's latest.
    pub(crate) async fn blockhash(&mut self) -> Result<Hash, TxFailure> {
        Ok(match self.blockhash {
            Some((hash, at, uses))
                if at.elapsed() < BLOCKHASH_REUSE.0 && uses < BLOCKHASH_REUSE.1 =>
            {
                self.blockhash = Some((hash, at, uses + 1));
                hash
            }
            _ => {
                let hash = self.client.get_latest_blockhash().await.map_err(failure)?;
                self.blockhash = Some((hash, Instant::now(), 1));
                hash
            }
        })
    }

    /// Forget the blockhash, so that the next transaction fetches one (and,
    /// on the sandbox, lands in a new slot).
    pub fn fresh_blockhash(&mut self) {
        self.blockhash = None;
    }
}

/// A v0 transaction signed for [`RpcCluster::broadcast`]: the blockhash it
/// was signed over and how many compute budget instructions precede the
/// caller's (failures name the caller's instructions after them).
pub struct SignedV0 {
    pub tx: VersionedTransaction,
    pub blockhash: Hash,
    pub prefix: usize,
}

impl RpcCluster {
    /// Sign `instructions` (after the compute budget's) with `signers` as one
    /// v0 transaction over a fresh blockhash; nothing is sent.
    pub async fn sign_v0(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<SignedV0, TxFailure> {
        let payer = signers
            .first()
            .ok_or_else(|| TxFailure::Other("no fee payer".into()))?;
        let blockhash = self.blockhash().await?;
        // A batch asks for the units of the reports it carries.
        let reports = crate::ix::batch::reports_per_instruction(instructions)
            .iter()
            .sum();
        let mut all = self.budget.instructions(reports);
        let prefix = all.len();
        all.extend_from_slice(instructions);
        let message = v0::Message::try_compile(&payer.pubkey(), &all, tables, blockhash)
            .map_err(|e| TxFailure::Other(format!("v0 message: {e}")))?;
        let tx = VersionedTransaction::try_new(VersionedMessage::V0(message), signers)
            .map_err(|e| TxFailure::Other(format!("signing: {e}")))?;
        Ok(SignedV0 {
            tx,
            blockhash,
            prefix,
        })
    }

    /// Send `signed` without waiting for it: simulated first when
    /// `preflight` (a refusal comes back at once), as is otherwise (a
    /// rebroadcast of bytes already sent).
    pub async fn broadcast(&self, signed: &SignedV0, preflight: bool) -> Result<(), TxFailure> {
        let config = RpcSendTransactionConfig {
            skip_preflight: !preflight,
            preflight_commitment: Some(self.client.commitment().commitment),
            max_retries: Some(0),
            ..RpcSendTransactionConfig::default()
        };
        let result = self
            .client
            .send_transaction_with_config(&signed.tx, config)
            .await
            .map(|_| ())
            .map_err(failure);
        unprefixed(result, signed.prefix)
    }

    /// Where each of `signed` stands at this cluster's commitment: `None`
    /// while it has not landed (or not yet at the commitment), else its outcome.
    pub async fn outcomes(
        &self,
        signed: &[&SignedV0],
    ) -> Result<Vec<Option<Result<(), TxFailure>>>, TxFailure> {
        let mut out = Vec::with_capacity(signed.len());
        for chunk in signed.chunks(256) {
            let signatures: Vec<Signature> = chunk.iter().map(|s| s.tx.signatures[0]).collect();
            let statuses = self
                .client
                .get_signature_statuses(&signatures)
                .await
                .map_err(failure)?
                .value;
            let commitment = self.client.commitment();
            for (status, s) in statuses.into_iter().zip(chunk) {
                out.push(
                    status
                        .filter(|st| st.satisfies_commitment(commitment))
                        .map(|st| match st.err {
                            None => Ok(()),
                            Some(e) => unprefixed(Err(TxFailure::from(e)), s.prefix),
                        }),
                );
            }
        }
        Ok(out)
    }

    /// Whether transactions signed over `blockhash` can still land.
    pub async fn blockhash_valid(&self, blockhash: &Hash) -> Result<bool, TxFailure> {
        self.client
            .is_blockhash_valid(blockhash, CommitmentConfig::processed())
            .await
            .map_err(failure)
    }
}

/// A failure with its instruction named by its place among the caller's
/// instructions (after `prefix` compute budget instructions).
pub(crate) fn unprefixed(result: Result<(), TxFailure>, prefix: usize) -> Result<(), TxFailure> {
    result.map_err(|e| match e {
        TxFailure::Custom { instruction, code } => TxFailure::Custom {
            instruction: instruction.saturating_sub(u8::try_from(prefix).unwrap_or(0)),
            code,
        },
        other => other,
    })
}

impl Cluster for RpcCluster {
    async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), TxFailure> {
        // Never kept, never over a given blockhash: the offline flags are
        // for the commands that print what they kept (`send_with`).
        let signers: Vec<&dyn Signer> = signers.iter().map(|k| *k as &dyn Signer).collect();
        self.sign_and_send(instructions, &signers, None, false)
            .await
    }

    async fn send_with(
        &mut self,
        instructions: &[Instruction],
        signers: &[&dyn Signer],
    ) -> Result<(), TxFailure> {
        self.send_offline(instructions, signers).await
    }

    fn take_kept(&mut self) -> Vec<Transaction> {
        std::mem::take(&mut self.offline.kept)
    }

    fn budget_instructions(&self, count: usize) -> Vec<Instruction> {
        self.budget.instructions(count)
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
