//! A network under test: its admin, its ledgers and helpers to add members.

use crate::Chain;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::instructions::UsageReportArgs;
use upline::math::{Ppm, Wad};
use upline::state::{
    label, BonusTrigger, ClassTable, Endpoint, Ledger, Member, Network, NetworkTables,
    RewardTablesData,
};
use upline_sdk::ix;
use upline_sdk::preset::Preset;

use upline_sdk::sandbox::SandboxNetwork;
pub use upline_sdk::sandbox::{LedgerSetup, SandboxLedger as TestLedger};

/// A network created on the sandbox, with the tests' helpers (which panic on failure).
pub struct TestNetwork(pub SandboxNetwork);

impl std::ops::Deref for TestNetwork {
    type Target = SandboxNetwork;
    fn deref(&self) -> &SandboxNetwork {
        &self.0
    }
}

impl std::ops::DerefMut for TestNetwork {
    fn deref_mut(&mut self) -> &mut SandboxNetwork {
        &mut self.0
    }
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
        TestNetwork(
            SandboxNetwork::create(chain, name, tables, ledgers)
                .await
                .expect("create network"),
        )
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
        TestNetwork(
            SandboxNetwork::from_preset(chain, &preset)
                .await
                .expect("network from preset"),
        )
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
        self.0.add_ledger(chain, setup).await.expect("add ledger");
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

    /// Turn on usage reports by members of `class` that credit nothing, on
    /// ledger `ledger`, so that a test can record a member's first work (which
    /// pays a `first_work` direct bonus) without crediting anything else.
    pub async fn enable_unpaid_work(&self, chain: &mut Chain, class: u8, ledger: u8) {
        let mut data = RewardTablesData::default();
        data.usage.enabled = true;
        data.usage.ledger = ledger;
        data.usage.user_class = class;
        let ix = ix::set_reward_tables(&self.admin.pubkey(), &self.key, data);
        chain
            .send(&[ix], &[&self.admin])
            .await
            .expect("set reward tables");
    }

    /// Record unpaid work by `wallet` (report `id`), after [`Self::enable_unpaid_work`]:
    /// its referrer's `first_work` bonus becomes due. For classes that pay no
    /// commissions, so the report passes only the referrer.
    pub async fn record_work(&self, chain: &mut Chain, wallet: &Pubkey, id: u64) {
        let upline = self.upline(chain, wallet, 1).await;
        let args = UsageReportArgs {
            id,
            endpoint: Endpoint::Chat,
            tokens: 0,
        };
        let ix = ix::report_usage(&self.oracle.pubkey(), &self.key, wallet, &upline, args);
        chain
            .send(&[ix], &[&self.oracle])
            .await
            .expect("usage report");
    }

    /// A new wallet that joins in `class` under `referrer` and then works once,
    /// which pays `referrer` a `first_work` bonus (see [`Self::enable_unpaid_work`]).
    pub async fn join_and_work(&self, chain: &mut Chain, class: u8, referrer: &Keypair) -> Keypair {
        let wallet = self.join(chain, class, &[referrer]).await;
        self.record_work(chain, &wallet.pubkey(), 1).await;
        wallet
    }

    /// `withdraw` by `wallet` from token ledger `index` to its token account
    /// `destination` (`None`: every whole base unit).
    pub fn withdraw_ix(
        &self,
        index: u8,
        wallet: &Pubkey,
        destination: &Pubkey,
        amount: Option<u64>,
    ) -> Instruction {
        let mint = self.ledgers[usize::from(index)].mint();
        let to = ix::TokenDestination {
            mint: mint.address,
            destination: *destination,
            token_program: mint.token_program,
        };
        ix::withdraw(wallet, &self.key, index, Some(&to), amount)
    }

    /// Mint `amount` base units to a new funder and deposit them into ledger `index`'s vault.
    pub async fn fund(&self, chain: &mut Chain, index: u8, amount: u64) {
        let funder = chain.wallet().await;
        self.0
            .fund(chain, &funder, index, amount)
            .await
            .expect("fund vault");
    }
}
