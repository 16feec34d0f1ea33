//! Running a scenario on the sandbox: each member a real keypair, each
//! operation a real signed transaction, the clock warped to each step's time.

use crate::report_args::{endpoint, ppm, service};
use crate::scenario::{MemberEntry, Op, Scenario, ScenarioError};
use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use sha2::{Digest, Sha256};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::HashMap;
use upline::errors::UplineError;
use upline::instructions::{AttestNodeArgs, RentalReportArgs};
use upline::math::decimal::parse_fixed;
use upline::state::{label, CommissionTier};
use upline_sdk::client::{link_chain, TxFailure};
use upline_sdk::ix::{self, RentalParties, TokenDestination};
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
    pub name: String,
    pub wallet: Keypair,
    pub class: u8,
    /// Attested device hashes (fingerprint, subnet), once attested.
    pub device: Option<([u8; 32], [u8; 32])>,
}

/// A scenario's network on the sandbox, and what happened to it.
pub struct World {
    pub chain: Chain,
    pub preset: Preset,
    pub network: SandboxNetwork,
    pub start: i64,
    pub members: Vec<WorldMember>,
    by_name: HashMap<String, usize>,
    /// Members whose join failed, with the wallet they joined with: they do
    /// not exist (DESIGN.md §8), so they are absent from `members`.
    absent: HashMap<String, Keypair>,
    treasury: Keypair,
    destinations: HashMap<(usize, u8), Pubkey>,
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
            absent: HashMap::new(),
            treasury,
            destinations: HashMap::new(),
            rejected: Vec::new(),
        })
    }

    /// Check names, classes, models and ledgers (of the steps and of the
    /// `expect` block) before anything runs, so that a malformed scenario fails
    /// with a message instead of half-running.
    pub fn check(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        let mut known: Vec<&str> = Vec::new();
        let member_ok = |entry: &MemberEntry, known: &[&str], what: &str| -> Result<(), String> {
            if self.class_of(entry).is_none() {
                let classes: Vec<&str> = self
                    .preset
                    .classes
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect();
                return Err(match &entry.class {
                    Some(class) => format!(
                        "{what}: class {class:?} is not one of the {} classes",
                        self.preset.name
                    ),
                    None => format!(
                        "{what}: \"class\" is missing: the {} preset has classes {}",
                        self.preset.name,
                        classes.join(", ")
                    ),
                });
            }
            if known.contains(&entry.name.as_str()) {
                return Err(format!("{what}: member {:?} is declared twice", entry.name));
            }
            if let Some(referrer) = &entry.referrer {
                // Referring itself is left to the program to refuse.
                if referrer != &entry.name && !known.contains(&referrer.as_str()) {
                    return Err(format!(
                        "{what}: referrer {referrer:?} is not a member declared before it"
                    ));
                }
            }
            if let Some(t) = &entry.tier {
                tier(t)
                    .ok_or_else(|| format!("{what}: tier {t:?} is not standard, premium or vip"))?;
            }
            Ok(())
        };
        for entry in &scenario.members {
            member_ok(entry, &known, &format!("member {}", entry.name)).map_err(ScenarioError)?;
            known.push(&entry.name);
        }
        for (index, step) in scenario.steps.iter().enumerate() {
            let what = format!("step {index}");
            let need = |name: &str, known: &[&str]| -> Result<(), ScenarioError> {
                if known.contains(&name) {
                    Ok(())
                } else {
                    Err(ScenarioError(format!(
                        "{what}: {name:?} is not a member declared before this step"
                    )))
                }
            };
            let ledger = |name: &str| self.ledger_known(&what, name);
            match &step.op {
                Op::Join(entry) => {
                    member_ok(entry, &known, &what).map_err(ScenarioError)?;
                    known.push(&entry.name);
                }
                Op::SetReferrer(s) => {
                    need(&s.member, &known)?;
                    need(&s.referrer, &known)?;
                }
                Op::SetTier(s) => {
                    need(&s.member, &known)?;
                    tier(&s.tier).ok_or_else(|| {
                        ScenarioError(format!(
                            "{what}: tier {:?} is not standard, premium or vip",
                            s.tier
                        ))
                    })?;
                }
                Op::Promotion(p) => {
                    ppm(&p.rate, "rate").map_err(|e| ScenarioError(format!("{what}: {e}")))?;
                }
                Op::Fund(f) => ledger(&f.ledger)?,
                Op::Withdraw(w) => {
                    need(&w.member, &known)?;
                    ledger(&w.ledger)?;
                }
                Op::Compute(c) => {
                    need(&c.provider, &known)?;
                    service(&c.service).ok_or_else(|| {
                        ScenarioError(format!(
                            "{what}: service {:?} is not chat, tts, embeddings or scrape",
                            c.service
                        ))
                    })?;
                    self.preset.model_name(&c.model).ok_or_else(|| {
                        ScenarioError(format!(
                            "{what}: model {:?} is not in the {} registry",
                            c.model, self.preset.name
                        ))
                    })?;
                }
                Op::Usage(u) => {
                    need(&u.user, &known)?;
                    endpoint(&u.endpoint).ok_or_else(|| {
                        ScenarioError(format!(
                            "{what}: endpoint {:?} is not chat, embeddings, scrape or tts",
                            u.endpoint
                        ))
                    })?;
                }
                Op::Rental(r) => {
                    need(&r.renter, &known)?;
                    need(&r.host, &known)?;
                    ledger(&r.currency)?;
                }
                Op::Bandwidth(b) => {
                    need(&b.node, &known)?;
                    for (text, field) in [
                        (&b.quality, "quality"),
                        (&b.stability, "stability"),
                        (&b.demand, "demand"),
                    ] {
                        ppm(text, field).map_err(|e| ScenarioError(format!("{what}: {e}")))?;
                    }
                }
            }
        }
        let figures = scenario.expect.iter().flat_map(|e| &e.figures);
        for (index, figure) in figures.enumerate() {
            let what = format!("expect: figure {index} ({:?})", figure.label);
            if !known.contains(&figure.member.as_str()) {
                return Err(ScenarioError(format!(
                    "{what}: {:?} is not a member of the scenario",
                    figure.member
                )));
            }
            self.ledger_known(&what, &figure.ledger)?;
        }
        Ok(())
    }

    fn ledger_known(&self, what: &str, name: &str) -> Result<(), ScenarioError> {
        match self.preset.ledger_index(name) {
            Some(_) => Ok(()),
            None => Err(ScenarioError(format!(
                "{what}: the {} network has no ledger {name:?}",
                self.preset.name
            ))),
        }
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
            if let Err(error) = self.apply(&step.op).await {
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

    /// The member named `name`, or `UnknownMember` if its join failed.
    fn member(&self, name: &str) -> Result<&WorldMember, String> {
        // `check` guarantees every name a step uses was declared before it: a
        // name that is not a member is one whose join failed.
        self.by_name
            .get(name)
            .map(|&index| &self.members[index])
            .ok_or_else(|| UplineError::UnknownMember.name())
    }

    /// The wallet of `name`, a member or one whose join failed.
    fn wallet_of(&self, name: &str) -> Pubkey {
        match self.member(name) {
            Ok(member) => member.wallet.pubkey(),
            Err(_) => self.absent[name].pubkey(),
        }
    }

    /// `referrer`'s wallet followed by its stored upline: what a link passes.
    async fn chain_from(&mut self, referrer: &Pubkey) -> Vec<Pubkey> {
        link_chain(&mut self.chain, &self.network.key, referrer)
            .await
            .expect("member accounts decode")
    }

    async fn send(
        &mut self,
        instructions: &[anchor_lang::solana_program::instruction::Instruction],
        signers: &[&Keypair],
    ) -> Result<(), String> {
        self.send_naming(instructions, signers, None).await
    }

    /// [`World::send`] for a step that passes an account which is not a
    /// member (`missing`: the name §8 gives that case). Where Anchor refuses
    /// to load the missing member account (`AccountNotInitialized`, a
    /// framework code), the refusal is `missing`; anything else the program
    /// answers first (a coefficient out of range...) stands.
    async fn send_naming(
        &mut self,
        instructions: &[anchor_lang::solana_program::instruction::Instruction],
        signers: &[&Keypair],
        missing: Option<UplineError>,
    ) -> Result<(), String> {
        self.chain
            .send_quiet(instructions, signers)
            .await
            .map_err(|e| match (missing, &e) {
                (Some(name), TxFailure::Custom { code, .. })
                    if *code == u32::from(ErrorCode::AccountNotInitialized) =>
                {
                    name.name()
                }
                _ => e.name(),
            })
    }

    async fn as_oracle(
        &mut self,
        instructions: &[anchor_lang::solana_program::instruction::Instruction],
    ) -> Result<(), String> {
        let oracle = self.network.oracle.insecure_clone();
        self.send(instructions, &[&oracle]).await
    }

    /// Join (and link), then attest the device and set the tier the entry gives.
    /// A failed join leaves no member (§8): the name is kept, with its wallet,
    /// only so that later steps naming it are sent and refused by name.
    async fn join(&mut self, entry: &MemberEntry) -> Result<(), String> {
        let wallet = self.chain.wallet().await;
        let class = self.class_of(entry).unwrap_or_default();
        let (upline, missing) = match &entry.referrer {
            Some(referrer) if referrer == &entry.name => (vec![wallet.pubkey()], true),
            Some(referrer) => {
                let key = self.wallet_of(referrer);
                let missing = self.member(referrer).is_err();
                (self.chain_from(&key).await, missing)
            }
            None => (Vec::new(), false),
        };
        let join = ix::join(
            &wallet.pubkey(),
            &wallet.pubkey(),
            &self.network.key,
            class,
            &upline,
        );
        let missing = missing.then_some(UplineError::UnknownReferrer);
        if let Err(error) = self.send_naming(&[join], &[&wallet], missing).await {
            self.absent.insert(entry.name.clone(), wallet);
            return Err(error);
        }
        let index = self.members.len();
        self.by_name.insert(entry.name.clone(), index);
        self.members.push(WorldMember {
            name: entry.name.clone(),
            wallet: wallet.insecure_clone(),
            class,
            device: None,
        });
        let oracle = self.network.oracle.pubkey();
        if let Some(gb) = entry.vram_gb {
            let vram_mb = gb.checked_mul(1024).ok_or("vram_gb too large")?;
            self.as_oracle(&[ix::attest_provider(
                &oracle,
                &self.network.key,
                &wallet.pubkey(),
                vram_mb,
            )])
            .await?;
        }
        if entry.fingerprint.is_some() || entry.subnet.is_some() {
            let fingerprint = hash32(entry.fingerprint.as_deref().unwrap_or(&entry.name));
            let subnet = hash32(entry.subnet.as_deref().unwrap_or(&entry.name));
            let args = AttestNodeArgs {
                fingerprint,
                subnet,
            };
            self.as_oracle(&[ix::attest_node(
                &oracle,
                &oracle,
                &self.network.key,
                &wallet.pubkey(),
                args,
            )])
            .await?;
            self.members[index].device = Some((fingerprint, subnet));
        }
        if let Some(t) = entry.tier.as_deref().and_then(tier) {
            if t != CommissionTier::Standard {
                let admin = self.network.admin.insecure_clone();
                self.send(
                    &[ix::set_member_tier(
                        &admin.pubkey(),
                        &self.network.key,
                        &wallet.pubkey(),
                        t,
                    )],
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

    async fn apply(&mut self, op: &Op) -> Result<(), String> {
        let network = self.network.key;
        let oracle = self.network.oracle.pubkey();
        let admin = self.network.admin.insecure_clone();
        match op {
            Op::Join(entry) => self.join(entry).await,
            Op::SetReferrer(s) => {
                let wallet = self.member(&s.member)?.wallet.insecure_clone();
                let referrer = self.wallet_of(&s.referrer);
                let missing = self
                    .member(&s.referrer)
                    .is_err()
                    .then_some(UplineError::UnknownReferrer);
                let upline = self.chain_from(&referrer).await;
                self.send_naming(
                    &[ix::set_referrer(&wallet.pubkey(), &network, &upline)],
                    &[&wallet],
                    missing,
                )
                .await
            }
            Op::SetTier(s) => {
                let wallet = self.member(&s.member)?.wallet.pubkey();
                let t = tier(&s.tier).unwrap_or_default();
                self.send(
                    &[ix::set_member_tier(&admin.pubkey(), &network, &wallet, t)],
                    &[&admin],
                )
                .await
            }
            Op::Promotion(p) => {
                let rate = ppm(&p.rate, "rate")?;
                let (start, end) = (
                    self.start.saturating_add(p.start),
                    self.start.saturating_add(p.end),
                );
                self.send(
                    &[ix::open_promotion(
                        &admin.pubkey(),
                        &network,
                        rate,
                        start,
                        end,
                    )],
                    &[&admin],
                )
                .await
            }
            Op::Fund(f) => {
                let index = self.ledger_index(&f.ledger);
                if self.network.ledgers[usize::from(index)].mint.is_none() {
                    // A points ledger has no vault: there is no deposit to
                    // send (the instruction needs the ledger's mint).
                    return Err(UplineError::NotWithdrawable.name());
                }
                let amount = self.base_units(index, &f.amount)?;
                let treasury = self.treasury.insecure_clone();
                self.network
                    .fund(&mut self.chain, &treasury, index, amount)
                    .await
                    .map_err(|e| e.name())
            }
            Op::Withdraw(w) => {
                let index = self.ledger_index(&w.ledger);
                self.member(&w.member)?;
                let member = self.by_name[&w.member];
                let wallet = self.members[member].wallet.insecure_clone();
                let mint = self.network.ledgers[usize::from(index)].mint.as_ref();
                // On a points ledger the amount is not read: the withdrawal is
                // sent as "all" and the program refuses it (NotWithdrawable),
                // whatever its digits.
                let amount = if w.amount == "all" || mint.is_none() {
                    None
                } else {
                    Some(self.base_units(index, &w.amount)?)
                };
                let to = match mint {
                    Some(mint) => {
                        let (address, program) = (mint.address, mint.token_program);
                        let destination = match self.destinations.get(&(member, index)) {
                            Some(d) => *d,
                            None => {
                                let mint = self.network.ledgers[usize::from(index)].mint();
                                let d = self.chain.token_account(mint, &wallet.pubkey()).await;
                                self.destinations.insert((member, index), d);
                                d
                            }
                        };
                        Some(TokenDestination {
                            mint: address,
                            destination,
                            token_program: program,
                        })
                    }
                    None => None,
                };
                self.send(
                    &[ix::withdraw(
                        &wallet.pubkey(),
                        &network,
                        index,
                        to.as_ref(),
                        amount,
                    )],
                    &[&wallet],
                )
                .await
            }
            Op::Compute(c) => {
                let provider = self.member(&c.provider)?.wallet.pubkey();
                let upline = self.network.upline(&mut self.chain, &provider, 3).await;
                let model = label(&c.model).ok_or("model name")?;
                let args = c.args()?;
                self.as_oracle(&[ix::report_compute(
                    &oracle, &network, &provider, &model, &upline, args,
                )])
                .await
            }
            Op::Usage(u) => {
                let user = self.member(&u.user)?.wallet.pubkey();
                let upline = self.network.upline(&mut self.chain, &user, 3).await;
                let args = u.args()?;
                self.as_oracle(&[ix::report_usage(&oracle, &network, &user, &upline, args)])
                    .await
            }
            Op::Rental(r) => {
                let index = self.ledger_index(&r.currency);
                let renter = self.member(&r.renter)?.wallet.pubkey();
                let host = self.member(&r.host)?.wallet.pubkey();
                let parties = RentalParties {
                    renter,
                    host,
                    renter_referrer: self
                        .network
                        .upline(&mut self.chain, &renter, 1)
                        .await
                        .first()
                        .copied(),
                    host_referrer: self
                        .network
                        .upline(&mut self.chain, &host, 1)
                        .await
                        .first()
                        .copied(),
                };
                let args = RentalReportArgs {
                    id: r.id,
                    ledger: index,
                    renter_base_fee: self.base_units(index, &r.renter_base_fee)?,
                    renter_extra_fee: self.base_units(index, &r.renter_extra_fee)?,
                    host_base_fee: self.base_units(index, &r.host_base_fee)?,
                    host_extra_fee: self.base_units(index, &r.host_extra_fee)?,
                };
                self.as_oracle(&[ix::report_rental(&oracle, &network, &parties, args)])
                    .await
            }
            Op::Bandwidth(b) => {
                // A node whose join failed is sent too: the coefficients are
                // judged before the node (§8's order for bandwidth).
                let (node, device, missing) = match self.member(&b.node) {
                    Ok(member) => (member.wallet.pubkey(), member.device, None),
                    Err(_) => (
                        self.wallet_of(&b.node),
                        None,
                        Some(UplineError::UnknownMember),
                    ),
                };
                let referrer = self
                    .network
                    .upline(&mut self.chain, &node, 1)
                    .await
                    .first()
                    .copied();
                let args = b.args()?;
                let device = device.as_ref().map(|(f, s)| (f, s));
                let oracle_key = self.network.oracle.insecure_clone();
                self.send_naming(
                    &[ix::report_bandwidth(
                        &oracle,
                        &network,
                        &node,
                        device,
                        referrer.as_ref(),
                        args,
                    )],
                    &[&oracle_key],
                    missing,
                )
                .await
            }
        }
    }
}
