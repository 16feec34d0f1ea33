//! A network set up on the sandbox: created from tables or a preset, with its
//! admin, one oracle and its ledgers (token ledgers over new mints).

use super::tokens::{TestMint, TOKEN};
use super::{Chain, TxFailure};
use crate::ix::{self, TokenLedgerSpec};
use crate::pda;
use crate::preset::Preset;
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
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

    /// Create a network from `preset`: tables, ledgers (tokens on SPL Token),
    /// report tables and models.
    pub async fn from_preset(chain: &mut Chain, preset: &Preset) -> Result<Self, TxFailure> {
        let bad = |e: crate::preset::PresetError| failure(e.to_string());
        let tables = preset.tables().map_err(bad)?;
        let mut setups = Vec::with_capacity(preset.ledgers.len());
        for l in &preset.ledgers {
            setups.push(if l.is_token() {
                LedgerSetup::Token {
                    name: l.name.clone(),
                    decimals: l.decimals.unwrap_or(0),
                    min_withdrawal: l.min_withdrawal_base_units().map_err(bad)?,
                    circuit_breaker: None,
                    token_program: TOKEN,
                }
            } else {
                LedgerSetup::Points {
                    name: l.name.clone(),
                }
            });
        }
        let network = SandboxNetwork::create(chain, &preset.name, tables, &setups).await?;
        let admin = network.admin.pubkey();
        let data = preset.reward_tables().map_err(bad)?;
        chain
            .send(
                &[ix::set_reward_tables(&admin, &network.key, data)],
                &[&network.admin],
            )
            .await?;
        for model in preset.models().map_err(bad)? {
            chain
                .send(
                    &[ix::register_model(&admin, &admin, &network.key, model)],
                    &[&network.admin],
                )
                .await?;
        }
        Ok(network)
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

    /// The member account of `wallet`.
    pub fn member(&self, wallet: &Pubkey) -> Pubkey {
        pda::member(&self.key, wallet)
    }

    /// The decoded member of `wallet`, if it is one.
    pub async fn member_state(&self, chain: &mut Chain, wallet: &Pubkey) -> Option<Member> {
        let data = chain.data(&self.member(wallet)).await?;
        crate::decode_account(&data).ok()
    }

    /// The wallets above `wallet`, referrer first, up to `depth` levels, as stored.
    pub async fn upline(&self, chain: &mut Chain, wallet: &Pubkey, depth: usize) -> Vec<Pubkey> {
        let mut out = Vec::new();
        let mut next = self
            .member_state(chain, wallet)
            .await
            .map_or(Pubkey::default(), |m| m.referrer);
        while out.len() < depth && next != Pubkey::default() {
            out.push(next);
            next = self
                .member_state(chain, &next)
                .await
                .map_or(Pubkey::default(), |m| m.referrer);
        }
        out
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
