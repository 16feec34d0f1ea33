//! A network under test: its admin, its ledgers and helpers to add members.

use crate::Chain;
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::math::{Ppm, Wad};
use upline::state::{
    label, BonusTrigger, CircuitBreakerConfig, ClassTable, Ledger, Member, Network, NetworkTables,
};
use upline_sdk::ix::{self, TokenLedgerSpec};
use upline_sdk::pda;
use upline_sdk::preset::Preset;
use upline_sdk::sandbox::tokens::{TestMint, TOKEN};

/// A ledger to add when building a network.
pub enum LedgerSetup {
    /// A token ledger over a new mint of `token_program`.
    Token {
        name: &'static str,
        decimals: u8,
        min_withdrawal: u64,
        circuit_breaker: Option<CircuitBreakerConfig>,
        token_program: Pubkey,
    },
    /// A points ledger.
    Points { name: &'static str },
}

/// One ledger of a test network.
pub struct TestLedger {
    pub index: u8,
    pub address: Pubkey,
    /// The mint, for token ledgers.
    pub mint: Option<TestMint>,
}

impl TestLedger {
    /// The mint of a token ledger.
    pub fn mint(&self) -> &TestMint {
        self.mint.as_ref().expect("a token ledger")
    }
}

/// A network created on the chain, with its admin, one oracle and its ledgers.
pub struct TestNetwork {
    pub admin: Keypair,
    /// An authorised oracle.
    pub oracle: Keypair,
    pub key: Pubkey,
    pub ledgers: Vec<TestLedger>,
}

/// A class table: name, commission rates per level (PPM), optional direct bonus.
pub fn class(name: &str, rates: &[u64], bonus: Option<(&str, u8, BonusTrigger)>) -> ClassTable {
    let mut table = ClassTable {
        name: label(name).expect("class name"),
        referral_depth: rates.len() as u8,
        ..ClassTable::default()
    };
    for (slot, rate) in table.commission_rates.iter_mut().zip(rates) {
        *slot = Ppm(*rate);
    }
    if let Some((amount, ledger, trigger)) = bonus {
        table.direct_bonus = Wad::from_decimal_str(amount).expect("bonus amount");
        table.direct_bonus_ledger = ledger;
        table.direct_bonus_trigger = trigger;
    }
    table
}

/// Tables with the given classes and default tier rates.
pub fn tables(classes: &[ClassTable], same_class_referrals: bool) -> NetworkTables {
    let mut t = NetworkTables {
        class_count: classes.len() as u8,
        same_class_referrals,
        tier_rates: [Ppm(150_000), Ppm(200_000), Ppm(300_000)],
        ..NetworkTables::default()
    };
    t.classes[..classes.len()].copy_from_slice(classes);
    t
}

impl TestNetwork {
    /// Create a network named `name` with `tables` and `ledgers`, administered by a new wallet.
    pub async fn create(
        chain: &mut Chain,
        name: &str,
        tables: NetworkTables,
        ledgers: &[LedgerSetup],
    ) -> TestNetwork {
        let admin = chain.wallet().await;
        let name = pda::network_name(name).expect("network name");
        let key = pda::network(&admin.pubkey(), &name);
        let ix = ix::create_network(&admin.pubkey(), &name, &admin.pubkey(), tables);
        chain.send(&[ix], &[&admin]).await.expect("create network");
        let oracle = chain.wallet().await;
        let add = ix::add_oracle(&admin.pubkey(), &admin.pubkey(), &key, &oracle.pubkey());
        chain.send(&[add], &[&admin]).await.expect("add oracle");
        let mut network = TestNetwork {
            admin,
            oracle,
            key,
            ledgers: Vec::new(),
        };
        for setup in ledgers {
            network.add_ledger(chain, setup).await;
        }
        network
    }

    /// Create a network from a built-in preset, its token ledgers on SPL Token.
    pub async fn from_preset(chain: &mut Chain, preset: &str) -> TestNetwork {
        TestNetwork::from_preset_with(chain, preset, |_| {}).await
    }

    /// Create a network from a built-in preset changed by `edit` (to isolate one rule).
    pub async fn from_preset_with(
        chain: &mut Chain,
        preset: &str,
        edit: impl FnOnce(&mut Preset),
    ) -> TestNetwork {
        let mut preset = Preset::builtin(preset).expect("preset");
        edit(&mut preset);
        let tables = preset.tables().expect("tables");
        let setups: Vec<LedgerSetup> = preset
            .ledgers
            .iter()
            .map(|l| {
                let name: &'static str = Box::leak(l.name.clone().into_boxed_str());
                if l.is_token() {
                    LedgerSetup::Token {
                        name,
                        decimals: l.decimals.unwrap_or(0),
                        min_withdrawal: l.min_withdrawal_base_units().expect("minimum"),
                        circuit_breaker: None,
                        token_program: TOKEN,
                    }
                } else {
                    LedgerSetup::Points { name }
                }
            })
            .collect();
        let network = TestNetwork::create(chain, &preset.name, tables, &setups).await;
        let admin = network.admin.pubkey();
        let data = preset.reward_tables().expect("reward tables");
        chain
            .send(
                &[ix::set_reward_tables(&admin, &network.key, data)],
                &[&network.admin],
            )
            .await
            .expect("set reward tables");
        for model in preset.models().expect("models") {
            let register = ix::register_model(&admin, &admin, &network.key, model);
            chain
                .send(&[register], &[&network.admin])
                .await
                .expect("register model");
        }
        network
    }

    /// The wallets above `wallet`, referrer first, up to `depth` levels, as stored.
    pub async fn upline(&self, chain: &mut Chain, wallet: &Pubkey, depth: usize) -> Vec<Pubkey> {
        let mut out = Vec::new();
        let mut next = self.member_state(chain, wallet).await.referrer;
        while out.len() < depth && next != Pubkey::default() {
            out.push(next);
            next = self.member_state(chain, &next).await.referrer;
        }
        out
    }

    /// Attest `wallet` as a provider with `vram_gb` GiB of VRAM.
    pub async fn attest_provider(&self, chain: &mut Chain, wallet: &Pubkey, vram_gb: u32) {
        let ix = ix::attest_provider(&self.oracle.pubkey(), &self.key, wallet, vram_gb * 1024);
        chain
            .send(&[ix], &[&self.oracle])
            .await
            .expect("attest provider");
    }

    /// Add one more ledger.
    pub async fn add_ledger(&mut self, chain: &mut Chain, setup: &LedgerSetup) {
        let index = self.ledgers.len() as u8;
        let admin = self.admin.pubkey();
        let address = pda::ledger(&self.key, index);
        let mint = match setup {
            LedgerSetup::Token {
                name,
                decimals,
                min_withdrawal,
                circuit_breaker,
                token_program,
            } => {
                let mint = chain.create_mint(*token_program, *decimals).await;
                let spec = TokenLedgerSpec {
                    name: name.to_string(),
                    mint: mint.address,
                    token_program: *token_program,
                    min_withdrawal: *min_withdrawal,
                    circuit_breaker: *circuit_breaker,
                };
                let ix = ix::add_token_ledger(&admin, &admin, &self.key, index, &spec);
                chain
                    .send(&[ix], &[&self.admin])
                    .await
                    .expect("add token ledger");
                Some(mint)
            }
            LedgerSetup::Points { name } => {
                let ix = ix::add_points_ledger(&admin, &admin, &self.key, index, name);
                chain
                    .send(&[ix], &[&self.admin])
                    .await
                    .expect("add points ledger");
                None
            }
        };
        self.ledgers.push(TestLedger {
            index,
            address,
            mint,
        });
    }

    /// A new wallet that joins in `class`, linked to `upline` (referrer first).
    pub async fn join(&self, chain: &mut Chain, class: u8, upline: &[&Keypair]) -> Keypair {
        let wallet = chain.wallet().await;
        let upline: Vec<Pubkey> = upline.iter().map(|k| k.pubkey()).collect();
        let ix = ix::join(
            &wallet.pubkey(),
            &wallet.pubkey(),
            &self.key,
            class,
            &upline,
        );
        chain.send(&[ix], &[&wallet]).await.expect("join");
        wallet
    }

    /// The member account of `wallet`.
    pub fn member(&self, wallet: &Pubkey) -> Pubkey {
        pda::member(&self.key, wallet)
    }

    /// The decoded member of `wallet`.
    pub async fn member_state(&self, chain: &mut Chain, wallet: &Pubkey) -> Member {
        chain.account(&self.member(wallet)).await
    }

    /// The decoded network.
    pub async fn state(&self, chain: &mut Chain) -> Network {
        chain.account(&self.key).await
    }

    /// The decoded ledger `index`.
    pub async fn ledger_state(&self, chain: &mut Chain, index: u8) -> Ledger {
        chain
            .account(&self.ledgers[usize::from(index)].address)
            .await
    }

    /// Mint `amount` base units to a new funder and deposit them into ledger `index`'s vault.
    pub async fn fund(&self, chain: &mut Chain, index: u8, amount: u64) {
        let funder = chain.wallet().await;
        let mint = self.ledgers[usize::from(index)].mint();
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
        chain.send(&[ix], &[&funder]).await.expect("fund vault");
    }
}
