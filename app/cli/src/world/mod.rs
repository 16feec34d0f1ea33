//! Running a scenario on the sandbox: each wallet a real keypair, each
//! operation a real signed transaction, the clock warped to each step's time.
//!
//! A member entry is one membership: its wallet (the entry's `wallet`, by
//! default its name) in its class (DESIGN.md §3 rule 6). Steps name entries;
//! the member account a step passes is that membership's. A `referrer` names an
//! entry too, and the code it stands for is that entry's wallet: the membership
//! linked is the wallet's in the joiner's class where it holds one, else its
//! only one, else the named entry's own (the SDK's
//! [`upline_sdk::client::referrer_membership`]). Every refusal is the
//! program's, sent and answered on chain (but a deposit into a points ledger,
//! which has no vault to send to: `NotWithdrawable`); a name whose join failed
//! is sent as an account that is not a membership, so the program answers
//! `UnknownMember` (or `UnknownReferrer`) in its own order.

mod check;
mod steps;

use crate::scenario::{MemberEntry, Scenario, ScenarioError};
use anchor_lang::prelude::Pubkey;
use sha2::{Digest, Sha256};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::HashMap;
use upline::instructions::AttestNodeArgs;
use upline::math::decimal::parse_fixed;
use upline::state::CommissionTier;
use upline_sdk::client::{link_chain, referrer_membership, stored_upline};
use upline_sdk::ix;
use upline_sdk::pda;
use upline_sdk::preset::Preset;
use upline_sdk::sandbox::{Chain, SandboxNetwork};

/// A refusal, by step index (0-based) or by member name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Step { step: usize, error: String },
    Member { member: String, error: String },
}

/// A member of the scenario: a membership that exists (its join succeeded).
pub struct WorldMember {
    /// The entry's name.
    pub name: String,
    /// The name of the wallet that holds it (the entry's `wallet`, default its name).
    pub wallet_name: String,
    pub wallet: Keypair,
    pub class: u8,
    /// The membership's member account.
    pub account: Pubkey,
    /// Attested device hashes (fingerprint, subnet), once attested.
    pub device: Option<([u8; 32], [u8; 32])>,
}

/// Who a step naming an entry acts as: the wallet that signs, the class, and
/// the member account passed.
struct Party {
    wallet: Keypair,
    class: u8,
    account: Pubkey,
    /// Whether the membership exists (its join succeeded).
    exists: bool,
}

/// A scenario's network on the sandbox, and what happened to it.
pub struct World {
    pub chain: Chain,
    pub preset: Preset,
    pub network: SandboxNetwork,
    pub start: i64,
    pub members: Vec<WorldMember>,
    by_name: HashMap<String, usize>,
    /// Every wallet of the scenario, by name, created when first named.
    wallets: HashMap<String, Keypair>,
    /// Entries whose join failed, with their wallet's name and class: they
    /// do not exist (DESIGN.md §8), so they are absent from `members`.
    absent: HashMap<String, (String, u8)>,
    /// A wallet that never joins: what a step naming a failed entry passes
    /// when the entry's wallet holds that class through another entry.
    stranger: Option<Keypair>,
    treasury: Keypair,
    /// Token accounts paid by withdrawals, by wallet and ledger.
    destinations: HashMap<(Pubkey, u8), Pubkey>,
    pub rejected: Vec<Rejection>,
}

/// A 32-byte identifier of a fingerprint or subnet string: its SHA-256.
pub fn hash32(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

pub(crate) fn tier(name: &str) -> Option<CommissionTier> {
    match name {
        "standard" => Some(CommissionTier::Standard),
        "premium" => Some(CommissionTier::Premium),
        "vip" => Some(CommissionTier::Vip),
        _ => None,
    }
}

impl World {
    /// A fresh sandbox with the scenario's preset network, clock at `start`.
    pub async fn new(scenario: &Scenario) -> Result<World, ScenarioError> {
        let preset = Preset::builtin(&scenario.preset).map_err(|e| ScenarioError(e.to_string()))?;
        let mut chain = Chain::start().await;
        chain.warp_to(scenario.start).await;
        let network = SandboxNetwork::from_preset(&mut chain, &preset)
            .await
            .map_err(|e| {
                ScenarioError(format!(
                    "setting up the {} network: {}",
                    preset.name,
                    e.name()
                ))
            })?;
        let treasury = chain.wallet().await;
        Ok(World {
            chain,
            preset,
            network,
            start: scenario.start,
            members: Vec::new(),
            by_name: HashMap::new(),
            wallets: HashMap::new(),
            absent: HashMap::new(),
            stranger: None,
            treasury,
            destinations: HashMap::new(),
            rejected: Vec::new(),
        })
    }

    /// Run every member and step, recording refusals and going on.
    pub async fn run(&mut self, scenario: &Scenario) -> Result<(), ScenarioError> {
        self.check(scenario)?;
        for entry in &scenario.members {
            if let Err(error) = self.join(entry).await {
                self.rejected.push(Rejection::Member {
                    member: entry.name.clone(),
                    error,
                });
            }
        }
        for (index, step) in scenario.steps.iter().enumerate() {
            let at = self.start.saturating_add(step.at);
            if at != self.chain.now {
                self.chain.warp_to(at).await;
            }
            if let Err(error) = self.apply(step).await {
                self.rejected.push(Rejection::Step { step: index, error });
            }
        }
        Ok(())
    }

    /// The class index of a member entry: the one it names, or the preset's
    /// only class when it names none.
    fn class_of(&self, entry: &MemberEntry) -> Option<u8> {
        match &entry.class {
            Some(class) => self.preset.class_index(class),
            None if self.preset.classes.len() == 1 => Some(0),
            None => None,
        }
    }

    /// The member named `name`, if its join succeeded.
    pub fn member(&self, name: &str) -> Option<&WorldMember> {
        self.by_name.get(name).map(|&index| &self.members[index])
    }

    /// The wallet called `name`, created (and funded) the first time it is named.
    async fn wallet(&mut self, name: &str) -> Keypair {
        if let Some(wallet) = self.wallets.get(name) {
            return wallet.insecure_clone();
        }
        let wallet = self.chain.wallet().await;
        self.wallets
            .insert(name.to_string(), wallet.insecure_clone());
        wallet
    }

    /// The wallet name and class of entry `name`, joined or not. `check`
    /// guarantees every name a step uses was declared before it.
    fn identity(&self, name: &str) -> (String, u8) {
        match self.member(name) {
            Some(m) => (m.wallet_name.clone(), m.class),
            None => self.absent.get(name).cloned().unwrap_or_default(),
        }
    }

    /// What a step naming entry `name` acts as. A name whose join failed does
    /// not exist: it is sent as its wallet's account in its class, which is
    /// not a membership, or, where the wallet holds that class through another
    /// entry, as a wallet that never joined; either way the program answers.
    async fn party(&mut self, name: &str) -> Party {
        if let Some(m) = self.member(name) {
            return Party {
                wallet: m.wallet.insecure_clone(),
                class: m.class,
                account: m.account,
                exists: true,
            };
        }
        let (wallet_name, class) = self.identity(name);
        let taken = self
            .members
            .iter()
            .any(|m| m.wallet_name == wallet_name && m.class == class);
        let wallet = if taken {
            match &self.stranger {
                Some(w) => w.insecure_clone(),
                None => {
                    let w = self.chain.wallet().await;
                    self.stranger = Some(w.insecure_clone());
                    w
                }
            }
        } else {
            self.wallet(&wallet_name).await
        };
        let account = pda::member(&self.network.key, &wallet.pubkey(), class);
        Party {
            wallet,
            class,
            account,
            exists: false,
        }
    }

    /// What a link to the code `referrer` (an entry's name, standing for its
    /// wallet) passes for a joiner of `joiner_class`: the membership DESIGN.md
    /// §3 rule 6 names and its stored upline. Where the wallet holds none, the
    /// account of the named entry's class, which is not a membership: the
    /// program answers `UnknownReferrer`.
    async fn referrer_chain(
        &mut self,
        (wallet_name, named_class): (String, u8),
        joiner_class: u8,
    ) -> Result<Vec<Pubkey>, String> {
        let wallet = self.wallet(&wallet_name).await.pubkey();
        let network = self.network.key;
        let chosen = referrer_membership(
            &mut self.chain,
            &network,
            &wallet,
            joiner_class,
            Some(named_class),
        )
        .await
        .map_err(|e| e.name())?;
        let referrer = chosen.unwrap_or_else(|| pda::member(&network, &wallet, named_class));
        link_chain(&mut self.chain, &referrer)
            .await
            .map_err(|e| e.name())
    }

    /// What a link to the entry `name` passes for a joiner of `joiner_class`.
    /// An entry whose join failed does not exist (§8), so it names no
    /// membership, not even another of its wallet's: its account, which is not
    /// a membership, is passed and the program answers `UnknownReferrer`.
    async fn named_referrer(
        &mut self,
        name: &str,
        joiner_class: u8,
    ) -> Result<Vec<Pubkey>, String> {
        if self.member(name).is_none() {
            return Ok(vec![self.party(name).await.account]);
        }
        let code = self.identity(name);
        self.referrer_chain(code, joiner_class).await
    }

    /// The member accounts above `member`, referrer first, up to `depth`, as stored.
    async fn upline(&mut self, member: &Pubkey, depth: usize) -> Result<Vec<Pubkey>, String> {
        stored_upline(&mut self.chain, member, depth)
            .await
            .map_err(|e| e.name())
    }

    /// Send `instructions` signed by `signers`; a refusal by its name (an
    /// Upline error by its DESIGN.md name, a framework error by its Anchor name).
    async fn send(
        &mut self,
        instructions: &[anchor_lang::solana_program::instruction::Instruction],
        signers: &[&Keypair],
    ) -> Result<(), String> {
        self.chain
            .send_quiet(instructions, signers)
            .await
            .map_err(|e| e.name())
    }

    async fn as_oracle(
        &mut self,
        instructions: &[anchor_lang::solana_program::instruction::Instruction],
    ) -> Result<(), String> {
        let oracle = self.network.oracle.insecure_clone();
        self.send(instructions, &[&oracle]).await
    }

    /// Join (and link), then attest the device and set the tier the entry gives.
    /// A failed join leaves no member (§8): the name is kept, with its wallet
    /// and class, only so that later steps naming it are sent and refused by name.
    async fn join(&mut self, entry: &MemberEntry) -> Result<(), String> {
        let wallet_name = entry.wallet_name().to_string();
        let wallet = self.wallet(&wallet_name).await;
        let class = self.class_of(entry).unwrap_or_default();
        let upline = match &entry.referrer {
            Some(referrer) => {
                let named = if referrer == &entry.name {
                    // Its own wallet: SelfReferral where the wallet holds
                    // another class, else no membership (UnknownReferrer).
                    self.referrer_chain((wallet_name.clone(), class), class)
                        .await
                } else {
                    self.named_referrer(referrer, class).await
                };
                match named {
                    Ok(upline) => upline,
                    Err(error) => {
                        self.absent.insert(entry.name.clone(), (wallet_name, class));
                        return Err(error);
                    }
                }
            }
            None => Vec::new(),
        };
        let network = self.network.key;
        let join = ix::join(&wallet.pubkey(), &wallet.pubkey(), &network, class, &upline);
        if let Err(error) = self.send(&[join], &[&wallet]).await {
            self.absent.insert(entry.name.clone(), (wallet_name, class));
            return Err(error);
        }
        let account = pda::member(&network, &wallet.pubkey(), class);
        let index = self.members.len();
        self.by_name.insert(entry.name.clone(), index);
        self.members.push(WorldMember {
            name: entry.name.clone(),
            wallet_name,
            wallet: wallet.insecure_clone(),
            class,
            account,
            device: None,
        });
        let oracle = self.network.oracle.pubkey();
        if let Some(gb) = entry.vram_gb {
            let vram_mb = gb.checked_mul(1024).ok_or("vram_gb too large")?;
            self.as_oracle(&[ix::attest_provider(&oracle, &network, &account, vram_mb)])
                .await?;
        }
        if entry.fingerprint.is_some() || entry.subnet.is_some() {
            let fingerprint = hash32(entry.fingerprint.as_deref().unwrap_or(&entry.name));
            let subnet = hash32(entry.subnet.as_deref().unwrap_or(&entry.name));
            let args = AttestNodeArgs {
                fingerprint,
                subnet,
            };
            self.as_oracle(&[ix::attest_node(&oracle, &oracle, &network, &account, args)])
                .await?;
            self.members[index].device = Some((fingerprint, subnet));
        }
        if let Some(t) = entry.tier.as_deref().and_then(tier) {
            if t != CommissionTier::Standard {
                let admin = self.network.admin.insecure_clone();
                self.send(
                    &[ix::set_member_tier(&admin.pubkey(), &network, &account, t)],
                    &[&admin],
                )
                .await?;
            }
        }
        Ok(())
    }

    fn ledger_index(&self, name: &str) -> u8 {
        self.preset.ledger_index(name).unwrap_or_default()
    }

    fn decimals(&self, ledger: u8) -> u8 {
        self.preset
            .ledgers
            .get(usize::from(ledger))
            .and_then(|l| l.decimals)
            .unwrap_or(0)
    }

    fn base_units(&self, ledger: u8, text: &str) -> Result<u64, String> {
        let units = parse_fixed(text, self.decimals(ledger))
            .map_err(|e| format!("amount {text:?}: {e}"))?;
        u64::try_from(units).map_err(|_| format!("amount {text:?} is too large"))
    }

    /// The token account `wallet` is paid on ledger `index` (`mint`), created once.
    async fn destination(&mut self, wallet: &Pubkey, index: u8) -> Pubkey {
        if let Some(d) = self.destinations.get(&(*wallet, index)) {
            return *d;
        }
        let mint = self.network.ledgers[usize::from(index)].mint();
        let d = self.chain.token_account(mint, wallet).await;
        self.destinations.insert((*wallet, index), d);
        d
    }
}
