//! What a validator's ledger keeps beside each transaction and the bank does
//! not hand out: the addresses a v0 transaction loaded from lookup tables, the
//! fee, and lamport and token balances before and after. The chain records
//! them when it serves as a cluster (`Chain::detailed`), so that
//! `getTransaction` answers with a validator's full `meta`.

use super::Chain;
use crate::lookup;
use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022;
use solana_account_decoder::parse_account_data::SplTokenAdditionalDataV2;
use solana_account_decoder::parse_token::token_amount_to_ui_amount_v3;
use solana_message::VersionedMessage;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_status_client_types::{
    TransactionTokenBalance, UiReturnDataEncoding, UiTransactionReturnData,
};
use spl_token_2022::extension::StateWithExtensions;
use spl_token_2022::state::{Account as TokenAccount, Mint};

/// Lamports per signature, as on every cluster.
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;

/// Addresses a v0 transaction loaded through address lookup tables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    pub writable: Vec<Pubkey>,
    pub readonly: Vec<Pubkey>,
}

/// The ledger's record beside one journal entry.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    pub loaded: Loaded,
    pub fee: u64,
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
    pub pre_token_balances: Vec<TransactionTokenBalance>,
    pub post_token_balances: Vec<TransactionTokenBalance>,
    /// The program's return data (a journal entry of a failed run has none).
    pub return_data: Option<(Pubkey, Vec<u8>)>,
}

/// Return data as validators show it.
pub fn ui_return_data((program, data): &(Pubkey, Vec<u8>)) -> UiTransactionReturnData {
    use base64::Engine;
    UiTransactionReturnData {
        program_id: program.to_string(),
        data: (
            base64::engine::general_purpose::STANDARD.encode(data),
            UiReturnDataEncoding::Base64,
        ),
    }
}

/// One account's lamports and, for a token account, its token balance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountBalance {
    pub lamports: u64,
    pub token: Option<TokenBalance>,
}

/// What a token account holds, of which mint, for whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenBalance {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
    pub program: Pubkey,
    pub decimals: u8,
}

/// A transaction's balances as a validator's `meta` shows them, from its
/// accounts' balances in account order.
fn assemble(balances: &[AccountBalance]) -> Balances {
    let lamports = balances.iter().map(|b| b.lamports).collect();
    let tokens = balances
        .iter()
        .enumerate()
        .filter_map(|(index, b)| {
            let t = b.token?;
            Some(TransactionTokenBalance {
                account_index: u8::try_from(index).unwrap_or(u8::MAX),
                mint: t.mint.to_string(),
                ui_token_amount: token_amount_to_ui_amount_v3(
                    t.amount,
                    &SplTokenAdditionalDataV2::with_decimals(t.decimals),
                ),
                owner: t.owner.to_string(),
                program_id: t.program.to_string(),
            })
        })
        .collect();
    Balances { lamports, tokens }
}

/// Balances of a transaction's accounts at one moment.
pub struct Balances {
    pub lamports: Vec<u64>,
    pub tokens: Vec<TransactionTokenBalance>,
}

/// Whether `program` is SPL Token or Token-2022.
pub fn is_token_program(program: &Pubkey) -> bool {
    *program == anchor_spl::token::ID || *program == spl_token_2022::ID
}

/// Decimals of a mint account's data (either token program).
pub fn mint_decimals(data: &[u8]) -> Option<u8> {
    StateWithExtensions::<Mint>::unpack(data)
        .ok()
        .map(|m| m.base.decimals)
}

/// Mint, owner and amount of a token account's data (either token program).
pub fn token_account(data: &[u8]) -> Option<(Pubkey, Pubkey, u64)> {
    let account = StateWithExtensions::<TokenAccount>::unpack(data).ok()?;
    Some((account.base.mint, account.base.owner, account.base.amount))
}

impl Chain {
    /// The addresses `tx` loads from lookup tables, read from the tables as
    /// the runtime reads them (a table that does not resolve loads nothing:
    /// the bank refuses such a transaction anyway).
    pub async fn loaded_addresses(&self, tx: &VersionedTransaction) -> Loaded {
        let mut loaded = Loaded::default();
        let VersionedMessage::V0(message) = &tx.message else {
            return loaded;
        };
        for table in &message.address_table_lookups {
            let data = match self.ctx.banks_client.get_account(table.account_key).await {
                Ok(Some(account)) => account.data,
                _ => continue,
            };
            let Some(addresses) = lookup::addresses(&data) else {
                continue;
            };
            let pick = |indexes: &[u8]| -> Vec<Pubkey> {
                indexes
                    .iter()
                    .filter_map(|i| addresses.get(usize::from(*i)).copied())
                    .collect()
            };
            loaded.writable.extend(pick(&table.writable_indexes));
            loaded.readonly.extend(pick(&table.readonly_indexes));
        }
        loaded
    }

    /// Whether a transaction over `hash` may still land: the bank's own age
    /// check, run on an empty transaction simulated over it (blockhashes age
    /// with every slot and, on an idle bank, with time).
    pub async fn blockhash_known(&self, hash: &solana_transaction::Hash) -> bool {
        let payer = &self.ctx.payer;
        let pubkey = solana_signer::Signer::pubkey(payer);
        let message = solana_message::Message::new_with_blockhash(&[], Some(&pubkey), hash);
        let probe = solana_transaction::Transaction::new(&[payer], message, *hash);
        match self.ctx.banks_client.simulate_transaction(probe).await {
            Ok(simulated) => !matches!(
                simulated.result,
                Some(Err(solana_transaction::TransactionError::BlockhashNotFound))
            ),
            Err(_) => false,
        }
    }

    /// Every account key of `tx` in the runtime's order: static keys, then
    /// loaded writable, then loaded readonly.
    pub fn all_keys(tx: &VersionedTransaction, loaded: &Loaded) -> Vec<Pubkey> {
        let mut keys = tx.message.static_account_keys().to_vec();
        keys.extend(&loaded.writable);
        keys.extend(&loaded.readonly);
        keys
    }

    /// Lamports of every key, and the token balances among them, read from
    /// the bank (and remembered as the accounts' last balances).
    pub async fn balances(&mut self, keys: &[Pubkey]) -> Balances {
        let read = self.read_balances(keys).await;
        for (key, balance) in keys.iter().zip(&read) {
            self.last_balances.insert(*key, *balance);
        }
        assemble(&read)
    }

    /// [`Chain::balances`] before a transaction: the last balances where the
    /// chain has them, the bank's for the others.
    pub async fn balances_before(&mut self, keys: &[Pubkey]) -> Balances {
        let missing: Vec<Pubkey> = keys
            .iter()
            .filter(|k| !self.last_balances.contains_key(k))
            .copied()
            .collect();
        let read = self.read_balances(&missing).await;
        for (key, balance) in missing.iter().zip(read) {
            self.last_balances.insert(*key, balance);
        }
        let known: Vec<AccountBalance> = keys
            .iter()
            .map(|k| self.last_balances.get(k).copied().unwrap_or_default())
            .collect();
        assemble(&known)
    }

    /// The balances of `keys` as the bank holds them now.
    async fn read_balances(&self, keys: &[Pubkey]) -> Vec<AccountBalance> {
        // Asked all at once: the bank answers each over a channel, and a
        // report batch names a hundred accounts.
        let reads = keys.iter().map(|key| {
            let client = self.ctx.banks_client.clone();
            async move { client.get_account(*key).await.ok().flatten() }
        });
        let accounts = futures_util::future::join_all(reads).await;
        let mut out = Vec::with_capacity(keys.len());
        for account in accounts {
            let lamports = account.as_ref().map_or(0, |a| a.lamports);
            let token = match account.filter(|a| is_token_program(&a.owner)) {
                Some(account) => match token_account(&account.data) {
                    Some((mint, owner, amount)) => {
                        let decimals = match self.ctx.banks_client.get_account(mint).await {
                            Ok(Some(m)) => mint_decimals(&m.data).unwrap_or(0),
                            _ => 0,
                        };
                        Some(TokenBalance {
                            mint,
                            owner,
                            amount,
                            program: account.owner,
                            decimals,
                        })
                    }
                    None => None,
                },
                None => None,
            };
            out.push(AccountBalance { lamports, token });
        }
        out
    }

    /// The fee the bank charges for `tx`'s message (the base fee for v0
    /// messages, which the bank's fee query does not take).
    pub async fn fee(&self, message: &VersionedMessage) -> u64 {
        let base = LAMPORTS_PER_SIGNATURE * u64::from(message.header().num_required_signatures);
        match message {
            VersionedMessage::Legacy(legacy) => self
                .ctx
                .banks_client
                .get_fee_for_message(legacy.clone())
                .await
                .ok()
                .flatten()
                .unwrap_or(base),
            VersionedMessage::V0(_) => base,
        }
    }
}
