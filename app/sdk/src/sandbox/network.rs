//! A network set up on the sandbox: created from tables or a preset, with its
//! admin, one oracle and its ledgers (token ledgers over new mints).

use super::tokens::{TestMint, TOKEN};
use super::{Chain, TxFailure};
use crate::client::stored_upline;
use crate::ix::{self, TokenLedgerSpec};
use crate::pda;
use crate::preset::Preset;
use crate::setup::{init_network, InitOptions};
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::BTreeMap;
use upline::state::{CircuitBreakerConfig, Member, NetworkTables};

/// A ledger to add when building a network.
#[derive(Clone, Debug)]
pub enum LedgerSetup {
    /// A token ledger over a new mint of `token_program`.
    Token {
        name: String,
        decimals: u8,
        min_withdrawal: u64,
        circuit_breaker: Option<CircuitBreakerConfig>,
        token_program: Pubkey,
    },
    /// A points ledger.
    Points { name: String },
}

/// One ledger of a sandbox network.
pub struct SandboxLedger {
    pub index: u8,
    pub name: String,
    pub address: Pubkey,
    /// The mint (and its authority), for token ledgers.
    pub mint: Option<TestMint>,
}

impl SandboxLedger {
    /// The mint of a token ledger; panics for a points ledger (a caller's bug).
    pub fn mint(&self) -> &TestMint {
        self.mint.as_ref().expect("a token ledger")
    }
}

/// A network on the sandbox.
pub struct SandboxNetwork {
    pub admin: Keypair,
    /// An authorised oracle (funded: it pays for device accounts).
    pub oracle: Keypair,
    pub key: Pubkey,
    pub ledgers: Vec<SandboxLedger>,
}

fn failure(message: String) -> TxFailure {
    TxFailure::Other(message)
}

impl SandboxNetwork {
    /// Create a network named `name` with `tables` and `ledgers`, administered by a new wallet.
    pub async fn create(
        chain: &mut Chain,
        name: &str,
        tables: NetworkTables,
        ledgers: &[LedgerSetup],
    ) -> Result<Self, TxFailure> {
        let admin = chain.wallet().await;
        let name = pda::network_name(name)
            .ok_or_else(|| failure(format!("network name {name:?}: 1 to 32 bytes")))?;
        let key = pda::network(&admin.pubkey(), &name);
        chain
            .send(
                &[ix::create_network(
                    &admin.pubkey(),
                    &name,
                    &admin.pubkey(),
                    tables,
                )],
                &[&admin],
            )
            .await?;
        let oracle = chain.wallet().await;
        chain
            .send(
                &[ix::add_oracle(
                    &admin.pubkey(),
                    &admin.pubkey(),
                    &key,
                    &oracle.pubkey(),
                )],
                &[&admin],
            )
            .await?;
        let mut network = SandboxNetwork {
            admin,
            oracle,
            key,
            ledgers: Vec::new(),
        };
        for setup in ledgers {
            network.add_ledger(chain, setup).await?;
        }
        Ok(network)
    }

    /// Create a network from `preset` with [`crate::setup::init_network`] (the
    /// sequence `upline network init` runs on a cluster): ledgers (tokens on new
    /// SPL Token mints, the admin their authority), report tables, models, and
    /// one oracle.
    pub async fn from_preset(chain: &mut Chain, preset: &Preset) -> Result<Self, TxFailure> {
        let admin = chain.wallet().await;
        let oracle = chain.wallet().await;
        let options = InitOptions {
            preset,
            name: None,
            mints: BTreeMap::new(),
            allow_freeze_authority: false,
            oracles: vec![oracle.pubkey()],
        };
        let init = init_network(chain, &admin, &options, |_, _| {}).await?;
        let ledgers = init
            .ledgers
            .iter()
            .zip(&preset.ledgers)
            .map(|(ledger, spec)| SandboxLedger {
                index: ledger.index,
                name: ledger.name.clone(),
                address: ledger.address,
                mint: ledger.token.map(|(mint, _)| TestMint {
                    address: mint,
                    token_program: TOKEN,
                    decimals: spec.decimals.unwrap_or(0),
                    authority: admin.insecure_clone(),
                }),
            })
            .collect();
        Ok(SandboxNetwork {
            admin,
            oracle,
            key: init.address,
            ledgers,
        })
    }

    /// Add one more ledger.
    pub async fn add_ledger(
        &mut self,
        chain: &mut Chain,
        setup: &LedgerSetup,
    ) -> Result<(), TxFailure> {
        let index = self.ledgers.len() as u8;
        let admin = self.admin.pubkey();
        let (name, mint) = match setup {
            LedgerSetup::Token {
                name,
                decimals,
                min_withdrawal,
                circuit_breaker,
                token_program,
            } => {
                let mint = chain.create_mint(*token_program, *decimals).await;
                let spec = TokenLedgerSpec {
                    name: name.clone(),
                    mint: mint.address,
                    token_program: *token_program,
                    min_withdrawal: *min_withdrawal,
                    circuit_breaker: *circuit_breaker,
                    allow_freeze_authority: false,
                };
                chain
                    .send(
                        &[ix::add_token_ledger(
                            &admin, &admin, &self.key, index, &spec,
                        )],
                        &[&self.admin],
                    )
                    .await?;
                (name.clone(), Some(mint))
            }
            LedgerSetup::Points { name } => {
                chain
                    .send(
                        &[ix::add_points_ledger(
                            &admin, &admin, &self.key, index, name,
                        )],
                        &[&self.admin],
                    )
                    .await?;
                (name.clone(), None)
            }
        };
        self.ledgers.push(SandboxLedger {
            index,
            name,
            address: pda::ledger(&self.key, index),
            mint,
        });
        Ok(())
    }

    /// The member account of `wallet`'s membership in `class`.
    pub fn member(&self, wallet: &Pubkey, class: u8) -> Pubkey {
        pda::member(&self.key, wallet, class)
    }

    /// The decoded member at account `member`, if it is one.
    pub async fn member_state(&self, chain: &mut Chain, member: &Pubkey) -> Option<Member> {
        let data = chain.data(member).await?;
        crate::decode_account(&data).ok()
    }

    /// The member accounts above `member`, referrer first, up to `depth` levels, as stored.
    pub async fn upline(&self, chain: &mut Chain, member: &Pubkey, depth: usize) -> Vec<Pubkey> {
        stored_upline(chain, member, depth)
            .await
            .expect("member accounts decode")
    }

    /// Mint `amount` base units to `funder` and deposit them into ledger `index`'s vault.
    pub async fn fund(
        &self,
        chain: &mut Chain,
        funder: &Keypair,
        index: u8,
        amount: u64,
    ) -> Result<(), TxFailure> {
        let ledger = self
            .ledgers
            .get(usize::from(index))
            .ok_or_else(|| failure(format!("no ledger {index}")))?;
        let mint = ledger
            .mint
            .as_ref()
            .ok_or_else(|| failure(format!("ledger {} has no vault", ledger.name)))?;
        let source = chain.token_account(mint, &funder.pubkey()).await;
        chain.mint_to(mint, &source, amount).await;
        let ix = ix::fund_vault(
            &funder.pubkey(),
            &self.key,
            index,
            &mint.address,
            &source,
            &mint.token_program,
            amount,
        );
        chain.send(&[ix], &[funder]).await.map(|_| ())
    }
}
