//! The sandbox as a [`Cluster`]: what the SDK's commands run against, in
//! process, exactly as they run against a cluster over JSON-RPC.

use super::{Chain, TxFailure};
use crate::client::{AccountState, Cluster};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;

impl Cluster for Chain {
    async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), TxFailure> {
        let (payer, rest) = signers
            .split_first()
            .ok_or_else(|| TxFailure::Other("no fee payer".into()))?;
        let tx = self.sign_paid_by(payer, instructions, rest).await?;
        self.process(tx).await
    }

    async fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<AccountState>>, TxFailure> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let account = self
                .ctx
                .banks_client
                .get_account(*key)
                .await
                .map_err(|e| TxFailure::Transport(e.to_string()))?;
            out.push(account.map(|a| AccountState {
                lamports: a.lamports,
                owner: a.owner,
                data: a.data,
            }));
        }
        Ok(out)
    }

    async fn rent_exempt(&mut self, len: usize) -> Result<u64, TxFailure> {
        let rent = self
            .ctx
            .banks_client
            .get_rent()
            .await
            .map_err(|e| TxFailure::Transport(e.to_string()))?;
        Ok(rent.minimum_balance(len))
    }

    async fn now(&mut self) -> Result<i64, TxFailure> {
        Ok(self.now)
    }
}
