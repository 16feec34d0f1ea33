//! A network under test: its admin, its ledgers and helpers to add members.

use crate::Chain;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::HashMap;
use std::sync::Mutex;
use upline::constants::DEFAULT_MAX_REPORT_AGE;
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
///
/// Members are member accounts, derived from (network, wallet, class). The
/// network remembers the classes each wallet joined through its helpers (or
/// [`TestNetwork::remember`]), so that a wallet with one membership can be
/// named by its wallet alone ([`TestNetwork::member`],
/// [`TestNetwork::member_state`], [`TestNetwork::upline`]); a wallet with
/// several is named with its class ([`TestNetwork::member_in`]).
pub struct TestNetwork(pub SandboxNetwork, Joined);

/// The classes each wallet has joined, in order.
#[derive(Default)]
struct Joined(Mutex<HashMap<Pubkey, Vec<u8>>>);

impl Joined {
    fn classes(&self, wallet: &Pubkey) -> Vec<u8> {
        let joined = self.0.lock().unwrap_or_else(|e| e.into_inner());
        joined.get(wallet).cloned().unwrap_or_default()
    }

    fn add(&self, wallet: &Pubkey, class: u8) {
        let mut joined = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let classes = joined.entry(*wallet).or_default();
        if !classes.contains(&class) {
            classes.push(class);
        }
    }
}

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
        max_report_age_seconds: DEFAULT_MAX_REPORT_AGE,
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
            Joined::default(),
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
            Joined::default(),
        )
    }

    /// Remember that `wallet` holds a membership in `class` (for a join the
    /// test sent itself), so that the wallet-named helpers find it.
    pub fn remember(&self, wallet: &Pubkey, class: u8) {
        self.1.add(wallet, class);
    }

    /// The classes `wallet` joined (through the helpers or [`Self::remember`]).
    pub fn classes(&self, wallet: &Pubkey) -> Vec<u8> {
        self.1.classes(wallet)
    }

    /// The class of `wallet`'s only membership; panics (a test's bug) for a
    /// wallet that holds none or several.
    pub fn class_of(&self, wallet: &Pubkey) -> u8 {
        match self.classes(wallet)[..] {
            [class] => class,
            [] => panic!("{wallet} has not joined (name a non-member with member_in)"),
            _ => panic!("{wallet} holds several memberships: name one with member_in"),
        }
    }

    /// The member account of `wallet`'s only membership (see [`Self::class_of`]).
    pub fn member(&self, wallet: &Pubkey) -> Pubkey {
        self.member_in(wallet, self.class_of(wallet))
    }

    /// The member account of `wallet`'s membership in `class` (whether or not it exists).
    pub fn member_in(&self, wallet: &Pubkey, class: u8) -> Pubkey {
        self.0.member(wallet, class)
    }

    /// The member accounts of every membership `wallet` joined.
    pub fn memberships(&self, wallet: &Pubkey) -> Vec<Pubkey> {
        self.classes(wallet)
            .into_iter()
            .map(|class| self.member_in(wallet, class))
            .collect()
    }

    /// The decoded member of `wallet`'s only membership.
    pub async fn member_state(&self, chain: &mut Chain, wallet: &Pubkey) -> Member {
        let member = self.member(wallet);
        self.member_at(chain, &member).await
    }

    /// The decoded member of `wallet`'s membership in `class`.
    pub async fn member_state_in(&self, chain: &mut Chain, wallet: &Pubkey, class: u8) -> Member {
        let member = self.member_in(wallet, class);
        self.member_at(chain, &member).await
    }

    /// The decoded member at the member account `member`.
    pub async fn member_at(&self, chain: &mut Chain, member: &Pubkey) -> Member {
        chain.account(member).await
    }

    /// The member accounts above `wallet`'s only membership, referrer first,
    /// up to `depth` levels, as stored.
    pub async fn upline(&self, chain: &mut Chain, wallet: &Pubkey, depth: usize) -> Vec<Pubkey> {
        let member = self.member(wallet);
        self.upline_of(chain, &member, depth).await
    }

    /// The member accounts above the member account `member`, referrer first,
    /// up to `depth` levels, as stored.
    pub async fn upline_of(&self, chain: &mut Chain, member: &Pubkey, depth: usize) -> Vec<Pubkey> {
        self.0.upline(chain, member, depth).await
    }

    /// What a link to the membership `referrer` passes: its account, then its
    /// stored upline (three levels in all).
    pub async fn link_chain(&self, chain: &mut Chain, referrer: &Pubkey) -> Vec<Pubkey> {
        let mut out = vec![*referrer];
        out.extend(self.upline_of(chain, referrer, 2).await);
        out
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

    /// Attest `wallet`'s (only) membership as a provider with `vram_gb` GiB of VRAM.
    pub async fn attest_provider(&self, chain: &mut Chain, wallet: &Pubkey, vram_gb: u32) {
        let member = self.member(wallet);
        self.attest_member(chain, &member, vram_gb).await;
    }

    /// Attest the provider membership `member` with `vram_gb` GiB of VRAM.
    pub async fn attest_member(&self, chain: &mut Chain, member: &Pubkey, vram_gb: u32) {
        let ix = ix::attest_provider(&self.oracle.pubkey(), &self.key, member, vram_gb * 1024);
        chain
            .send(&[ix], &[&self.oracle])
            .await
            .expect("attest provider");
    }

    /// Add one more ledger.
    pub async fn add_ledger(&mut self, chain: &mut Chain, setup: &LedgerSetup) {
        self.0.add_ledger(chain, setup).await.expect("add ledger");
    }

    /// A new wallet that joins in `class`, linked to `upline` (referrer first),
    /// each named by its wallet's only membership.
    pub async fn join(&self, chain: &mut Chain, class: u8, upline: &[&Keypair]) -> Keypair {
        let wallet = chain.wallet().await;
        let upline: Vec<Pubkey> = upline.iter().map(|k| self.member(&k.pubkey())).collect();
        self.join_wallet(chain, &wallet, class, &upline).await;
        wallet
    }

    /// `wallet` (new or a member in other classes) joins in `class`, linked to
    /// `upline` (member accounts, referrer first); its new member account.
    pub async fn join_wallet(
        &self,
        chain: &mut Chain,
        wallet: &Keypair,
        class: u8,
        upline: &[Pubkey],
    ) -> Pubkey {
        let ix = ix::join(&wallet.pubkey(), &wallet.pubkey(), &self.key, class, upline);
        chain.send(&[ix], &[wallet]).await.expect("join");
        self.remember(&wallet.pubkey(), class);
        self.member_in(&wallet.pubkey(), class)
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

    /// Record unpaid work by `wallet` (report `id`, worked now), after
    /// [`Self::enable_unpaid_work`]: its referrer's `first_work` bonus becomes
    /// due. For classes that pay no commissions, so the report passes only the referrer.
    pub async fn record_work(&self, chain: &mut Chain, wallet: &Pubkey, id: u64) {
        let member = self.member(wallet);
        let upline = self.upline_of(chain, &member, 1).await;
        let args = UsageReportArgs {
            id,
            work_time: chain.now,
            endpoint: Endpoint::Chat,
            tokens: 0,
        };
        let ix = ix::report_usage(&self.oracle.pubkey(), &self.key, &member, &upline, args);
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

    /// `withdraw` by `wallet` (its only membership) from token ledger `index`
    /// to its token account `destination` (`None`: every whole base unit).
    pub fn withdraw_ix(
        &self,
        index: u8,
        wallet: &Pubkey,
        destination: &Pubkey,
        amount: Option<u64>,
    ) -> Instruction {
        self.withdraw_ix_in(self.class_of(wallet), index, wallet, destination, amount)
    }

    /// `withdraw` by `wallet`'s membership in `class` (see [`Self::withdraw_ix`]).
    pub fn withdraw_ix_in(
        &self,
        class: u8,
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
        ix::withdraw(wallet, &self.key, class, index, Some(&to), amount)
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
