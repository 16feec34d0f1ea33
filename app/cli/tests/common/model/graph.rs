//! Joins, links and tiers (DESIGN.md §3, §8): refusal order, the membership a
//! referral code names (rule 6), downline counts, direct bonuses, early slots.

use super::num::wad_floor;
use super::state::{Member, Model, Name, Source};
use serde_json::Value;

pub type Refusal = &'static str;

fn field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

impl Model {
    /// A member entry or `join` step: join and link (one transaction), then
    /// attest the device and set a non-standard tier.
    pub fn join(&mut self, entry: &Value) -> Result<(), Refusal> {
        let name = field(entry, "name").expect("name").to_string();
        let class = match field(entry, "class") {
            Some(c) => self.tables.class(c),
            None => {
                assert_eq!(self.tables.classes.len(), 1, "{name}: class missing");
                0
            }
        };
        let wallet = field(entry, "wallet").unwrap_or(&name).to_string();
        let referrer = field(entry, "referrer");
        let outcome = self.check_join(&name, &wallet, class, referrer);
        let referrer = match outcome {
            Ok(r) => r,
            Err(e) => {
                self.names.insert(
                    name,
                    Name {
                        member: None,
                        wallet,
                        class,
                    },
                );
                self.count(format!("join {e}"));
                return Err(e);
            }
        };
        let index = self.members.len();
        let ordinal = index as u64 + 1;
        let early_member = self
            .tables
            .early
            .as_ref()
            .is_some_and(|e| e.member_limit > 0 && ordinal <= e.member_limit);
        self.members.push(Member {
            name: name.clone(),
            wallet: wallet.clone(),
            class,
            referrer: None,
            downline: [0; 3],
            slots: vec![Default::default(); self.tables.ledgers.len()],
            last_id: 0,
            last_work: 0,
            vram_mb: None,
            subnet: None,
            tier: 0,
            early_member,
            early_node: false,
            early_referees: 0,
            streak: None,
            active: Default::default(),
        });
        self.names.insert(
            name.clone(),
            Name {
                member: Some(index),
                wallet: wallet.clone(),
                class,
            },
        );
        self.held.insert((wallet, class), index);
        self.count("join ok");
        if let Some(r) = referrer {
            self.link(index, r);
        }
        // The oracle attests providers and nodes only (WrongClass: the member stays).
        let attests = |kind: Option<usize>| kind == Some(class);
        if let Some(gb) = entry.get("vram_gb").and_then(Value::as_u64) {
            if !attests(self.tables.compute.as_ref().map(|c| c.class)) {
                self.count("attest WrongClass");
                return Err("WrongClass");
            }
            self.members[index].vram_mb = Some(gb * 1024);
        }
        if entry.get("fingerprint").is_some() || entry.get("subnet").is_some() {
            if !attests(self.tables.bandwidth.as_ref().map(|b| b.class)) {
                self.count("attest WrongClass");
                return Err("WrongClass");
            }
            let fingerprint = field(entry, "fingerprint").unwrap_or(&name).to_string();
            let subnet = field(entry, "subnet").unwrap_or(&name).to_string();
            if !self.fingerprints.insert(fingerprint) {
                self.count("attest DuplicateDevice");
                return Err("DuplicateDevice");
            }
            *self.subnets.entry(subnet.clone()).or_default() += 1;
            self.members[index].subnet = Some(subnet);
            self.count("attest ok");
        }
        if let Some(tier) = field(entry, "tier") {
            self.members[index].tier = tier_index(tier);
        }
        Ok(())
    }

    /// §8's join order: AlreadyMember, UnknownReferrer, SelfReferral, ClassMismatch.
    fn check_join(
        &self,
        name: &str,
        wallet: &str,
        class: usize,
        referrer: Option<&str>,
    ) -> Result<Option<usize>, Refusal> {
        if self.held.contains_key(&(wallet.to_string(), class)) {
            return Err("AlreadyMember");
        }
        let Some(referrer) = referrer else {
            return Ok(None);
        };
        // Naming itself names its own wallet (in its own class), which holds
        // no membership of that class yet.
        let code = if referrer == name {
            (wallet.to_string(), class)
        } else {
            self.code(referrer)?
        };
        self.check_referrer(code, wallet, class).map(Some)
    }

    /// The referral code a scenario's `referrer` name stands for: the named
    /// entry's wallet and class. An entry whose join failed does not exist
    /// (§8: later steps naming it fail), whatever else its wallet holds.
    fn code(&self, referrer: &str) -> Result<(String, usize), Refusal> {
        let named = self.names.get(referrer).expect("a declared referrer");
        if named.member.is_none() {
            return Err("UnknownReferrer");
        }
        Ok((named.wallet.clone(), named.class))
    }

    /// The membership a referral code names for a member of `class` (rule 6:
    /// the code is a wallet, here the named entry's, with the named entry's
    /// class; the wallet's membership in the joiner's class, else its only
    /// one, else the one in the named class; none: UnknownReferrer), then
    /// SelfReferral and ClassMismatch.
    fn check_referrer(
        &self,
        (code, named_class): (String, usize),
        wallet: &str,
        class: usize,
    ) -> Result<usize, Refusal> {
        let held = self.memberships(&code);
        let in_class = |c: usize| held.iter().find(|(k, _)| *k == c).map(|(_, m)| *m);
        let chosen = in_class(class)
            .or_else(|| (held.len() == 1).then(|| held[0].1))
            .or_else(|| in_class(named_class))
            .ok_or("UnknownReferrer")?;
        if self.members[chosen].wallet == wallet {
            return Err("SelfReferral");
        }
        if self.tables.same_class && self.members[chosen].class != class {
            return Err("ClassMismatch");
        }
        Ok(chosen)
    }

    /// `set_referrer`: UnknownMember, ReferrerAlreadySet, HasReferees, then as a join.
    pub fn set_referrer(&mut self, step: &Value) -> Result<(), Refusal> {
        let member = self.member(field(step, "member").expect("member"))?;
        let m = &self.members[member];
        if m.referrer.is_some() {
            return Err("ReferrerAlreadySet");
        }
        if m.downline[0] > 0 {
            return Err("HasReferees");
        }
        let (wallet, class) = (m.wallet.clone(), m.class);
        let code = self.code(field(step, "referrer").expect("referrer"))?;
        let referrer = self.check_referrer(code, &wallet, class)?;
        self.link(member, referrer);
        Ok(())
    }

    /// A permanent link at `now`: downline counts of the whole upline, the
    /// referrer's direct bonus, and the early-node slot.
    fn link(&mut self, member: usize, referrer: usize) {
        self.members[member].referrer = Some(referrer);
        let mut above = Some(referrer);
        for level in 0..3 {
            let Some(r) = above else { break };
            self.members[r].downline[level] += 1;
            above = self.members[r].referrer;
        }
        let referrer_class = self.members[referrer].class;
        if let Some((amount, ledger)) = self.tables.classes[referrer_class].bonus.clone() {
            self.credit(referrer, ledger, Source::Bonus, &wad_floor(&amount));
            self.count("direct bonus");
        }
        if let Some(early) = &self.tables.early {
            let takes_slot = early
                .referee_class
                .is_none_or(|c| c == self.members[member].class);
            if takes_slot {
                let in_growth_phase = self.now < self.start + early.growth_phase;
                let limit = early.referee_limit;
                let r = &mut self.members[referrer];
                r.early_referees += 1;
                let early_node = in_growth_phase && r.early_referees <= limit;
                self.members[member].early_node = early_node;
                self.count(if early_node {
                    "link early node"
                } else if in_growth_phase {
                    "link node past the early slots"
                } else {
                    "link node after the growth phase"
                });
            }
        }
    }

    /// `set_tier`: UnknownMember, then the admin sets it.
    pub fn set_tier(&mut self, step: &Value) -> Result<(), Refusal> {
        let member = self.member(field(step, "member").expect("member"))?;
        self.members[member].tier = tier_index(field(step, "tier").expect("tier"));
        Ok(())
    }
}

pub fn tier_index(name: &str) -> usize {
    match name {
        "standard" => 0,
        "premium" => 1,
        "vip" => 2,
        other => panic!("tier {other}"),
    }
}
