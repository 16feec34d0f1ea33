//! Admin and wallet keys kept on another machine, as the Solana CLI signs
//! offline: `--sign-only` signs what the keys at hand can sign and keeps the
//! transaction (the command prints it for the absent signers), `--blockhash`
//! fixes the blockhash signed over, and a signature made elsewhere comes back
//! as a signer (`--signer PUBKEY=SIGNATURE`, a presigner that verifies it is
//! over exactly this transaction).

use crate::client::TxFailure;
use crate::rpc::{failure, unprefixed, RpcCluster};
use anchor_lang::solana_program::instruction::Instruction;
use solana_signer::{Signer, SignerError};
use solana_transaction::{Hash, Transaction};

/// How a cluster signs for keys held elsewhere.
#[derive(Debug, Default)]
pub struct Offline {
    /// Keep transactions, signed by the keys at hand, instead of sending them.
    pub sign_only: bool,
    /// The blockhash to sign over instead of the cluster's latest.
    pub blockhash: Option<Hash>,
    /// What `sign_only` kept, in order.
    pub kept: Vec<Transaction>,
}

/// Why signing failed, in the terms of the flags that fed it.
fn signing_failure(error: SignerError) -> TxFailure {
    match error {
        SignerError::PresignerError(_) => TxFailure::Other(
            "a --signer signature does not verify over this transaction: it was made for \
             another command, another --blockhash or another state of the accounts (sign the \
             message --sign-only printed, and pass the same --blockhash)"
                .into(),
        ),
        other => TxFailure::Other(format!("signing: {other}")),
    }
}

impl RpcCluster {
    /// Sign `instructions` (after the compute budget's) with `signers`, the
    /// first paying, over `--blockhash` or the latest; keep the transaction
    /// with `--sign-only`, else send it and wait for its confirmation.
    pub async fn send_offline(
        &mut self,
        instructions: &[Instruction],
        signers: &[&dyn Signer],
    ) -> Result<(), TxFailure> {
        let (blockhash, keep) = (self.offline.blockhash, self.offline.sign_only);
        self.sign_and_send(instructions, signers, blockhash, keep)
            .await
    }

    /// Sign `instructions` (after the compute budget's) with `signers`, the
    /// first paying, over `blockhash` or the latest; with `keep`, sign what
    /// can be signed here and keep the transaction, else send it and wait
    /// for its confirmation. [`crate::client::Cluster::send`] is this with
    /// keypairs, the latest blockhash and no keeping.
    pub(crate) async fn sign_and_send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&dyn Signer],
        blockhash: Option<Hash>,
        keep: bool,
    ) -> Result<(), TxFailure> {
        let payer = signers
            .first()
            .map(|s| s.pubkey())
            .ok_or_else(|| TxFailure::Other("no fee payer".into()))?;
        let blockhash = match blockhash {
            Some(hash) => hash,
            None => self.blockhash().await?,
        };
        let mut all = self.budget.instructions(instructions.len());
        let prefix = all.len();
        all.extend_from_slice(instructions);
        let mut tx = Transaction::new_with_payer(&all, Some(&payer));
        if keep {
            // A key held elsewhere (a null signer) leaves its signature empty.
            tx.try_partial_sign(signers, blockhash)
                .map_err(signing_failure)?;
            self.offline.kept.push(tx);
            return Ok(());
        }
        tx.try_sign(signers, blockhash).map_err(signing_failure)?;
        let result = self
            .client()
            .send_and_confirm_transaction(&tx)
            .await
            .map(|signature| self.landed.push(signature.to_string()))
            .map_err(failure);
        unprefixed(result, prefix)
    }
}
