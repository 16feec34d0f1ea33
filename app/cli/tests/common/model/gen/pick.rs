//! Choices every preset's generator makes: who acts (members, non-members,
//! the wrong class), which wallet a new membership uses, whom it names as
//! referrer, report ids and work times, and withdrawal and funding amounts.

use super::{Gen, DAY, HOUR, WEEK};
use crate::model::num::{floor_units, pow10, wad_floor, Wad};
use num_traits::{ToPrimitive, Zero};
use serde_json::{json, Value};

impl Gen {
    fn class_index(&self, class: &str) -> usize {
        self.model.tables.class(class)
    }

    /// Declared names that are members, of `class` if given.
    pub fn existing(&self, class: Option<&str>) -> Vec<String> {
        self.declared
            .iter()
            .filter(|d| class.is_none_or(|c| d.class == c))
            .filter(|d| self.model.member(&d.name).is_ok())
            .map(|d| d.name.clone())
            .collect()
    }

    /// Declared names whose join failed.
    pub fn failed(&self) -> Vec<String> {
        self.declared
            .iter()
            .filter(|d| self.model.member(&d.name).is_err())
            .map(|d| d.name.clone())
            .collect()
    }

    /// Who a step is about: mostly a member of `class`, sometimes one of
    /// another class, sometimes a name whose join failed.
    pub fn subject(&mut self, class: &str) -> Option<String> {
        let of_class = self.existing(Some(class));
        let others: Vec<String> = self
            .existing(None)
            .into_iter()
            .filter(|n| !of_class.contains(n))
            .collect();
        let failed = self.failed();
        let choice = self.rng.weighted(&[84, 7, 9]);
        let pool = match choice {
            1 if !others.is_empty() => others,
            2 if !failed.is_empty() => failed,
            _ if !of_class.is_empty() => of_class,
            _ => self.declared.iter().map(|d| d.name.clone()).collect(),
        };
        (!pool.is_empty()).then(|| self.rng.pick(&pool).clone())
    }

    /// The wallet of a new membership of `class`: mostly its own name; else
    /// another class's member's wallet (one wallet, two memberships) or one
    /// that already holds this class (AlreadyMember). `None`: its own.
    pub fn wallet_for(&mut self, class: &str) -> Option<String> {
        let index = self.class_index(class);
        let wallets: Vec<String> = self
            .existing(None)
            .iter()
            .map(|n| self.model.names[n].wallet.clone())
            .collect();
        let (dual, same): (Vec<String>, Vec<String>) = wallets
            .into_iter()
            .partition(|w| !self.model.held.contains_key(&(w.clone(), index)));
        match self.rng.weighted(&[72, 16, 8, 4]) {
            3 => {
                self.count("wallet: a label of its own");
                Some(self.fresh("w"))
            }
            1 if !dual.is_empty() => {
                self.count("wallet: second class");
                Some(self.rng.pick(&dual).clone())
            }
            2 if !same.is_empty() => {
                self.count("wallet: same class again");
                Some(self.rng.pick(&same).clone())
            }
            _ => None,
        }
    }

    /// The referrer a new or linking membership names: often none; mostly a
    /// member; sometimes itself, a membership of its own wallet, a name whose
    /// join failed (its wallet holding nothing, or another membership), or a
    /// wallet's other membership (rule 6 picks the one in the joiner's class).
    pub fn referrer_for(
        &mut self,
        name: &str,
        wallet: &str,
        class: &str,
        none: u64,
    ) -> Option<String> {
        let same_class = self.model.tables.same_class;
        let members = self.existing(None);
        let of_class = self.existing(Some(class));
        let own_wallet: Vec<String> = members
            .iter()
            .filter(|n| self.model.names[*n].wallet == wallet && *n != name)
            .cloned()
            .collect();
        // Names whose join failed; some of their wallets hold another membership.
        let failed = self.failed();
        let (unknown, held): (Vec<String>, Vec<String>) = failed.into_iter().partition(|n| {
            self.model
                .memberships(&self.model.names[n].wallet)
                .is_empty()
        });
        let index = self.class_index(class);
        let redirected: Vec<String> = members
            .iter()
            .filter(|n| {
                let named = &self.model.names[*n];
                named.class != index && self.model.held.contains_key(&(named.wallet.clone(), index))
            })
            .cloned()
            .collect();
        let choice = self.rng.weighted(&[none, 55, 4, 5, 6, 6]);
        let pick = |gen: &mut Gen, pool: &[String], what: &str| {
            if pool.is_empty() {
                return None;
            }
            gen.count(format!("referrer: {what}"));
            Some(gen.rng.pick(pool).clone())
        };
        let chosen = match choice {
            0 => return None,
            2 => {
                self.count("referrer: itself");
                return Some(name.to_string());
            }
            3 => pick(self, &own_wallet, "own wallet's other membership"),
            4 if self.rng.chance(50) => pick(
                self,
                &held,
                "a failed join of a wallet that holds another membership",
            ),
            4 => pick(self, &unknown, "a failed join"),
            5 => pick(self, &redirected, "wallet's other class (rule 6)"),
            _ => None,
        };
        chosen.or_else(|| {
            let pool = if same_class && self.rng.chance(85) && !of_class.is_empty() {
                &of_class
            } else {
                &members
            };
            pick(self, pool, "member")
        })
    }

    /// A report id for `name`: mostly past its last, sometimes stale.
    pub fn id_for(&mut self, name: &str) -> u64 {
        let last = self
            .model
            .member(name)
            .map_or(0, |m| self.model.members[m].last_id);
        if last > 0 && self.rng.chance(10) {
            self.count("id: stale");
            return self.rng.range(1, last as i64) as u64;
        }
        last + self.rng.range(1, 3) as u64
    }

    /// A report's `work_at`: mostly absent; else lagging, exact, in the
    /// future, too old, at the age limit, or before the member's last work.
    pub fn work_at(&mut self, name: &str) -> Option<i64> {
        let at = self.at;
        let last = self
            .model
            .member(name)
            .map_or(0, |m| self.model.members[m].last_work - self.model.start);
        let (kind, value) = match self.rng.weighted(&[50, 18, 6, 6, 6, 4, 6, 4]) {
            0 => return None,
            1 => ("lagging", at - self.rng.range(0, at.clamp(0, WEEK - 1))),
            2 => ("equal to at", at),
            3 => ("in the future", at + self.rng.range(1, 2 * HOUR)),
            4 => ("too old", at - WEEK - self.rng.range(1, DAY)),
            5 => ("exactly 7 days old", at - WEEK),
            6 => ("before the last work", last - self.rng.range(1, HOUR)),
            _ => ("lagging a little", at - self.rng.range(0, 90)),
        };
        if value < 0 {
            return None;
        }
        self.count(format!("work_at: {kind}"));
        Some(value)
    }

    /// Put `work_at` on a report step when given.
    pub fn with_work_at(step: &mut Value, work_at: Option<i64>) {
        if let Some(w) = work_at {
            step["work_at"] = w.into();
        }
    }

    /// A withdrawal amount on `ledger` for `name`: around its balance, the
    /// minimum and the vault.
    pub fn withdraw_amount(&mut self, name: &str, ledger: usize) -> String {
        let table = &self.model.tables.ledgers[ledger];
        let Some(decimals) = table.decimals else {
            // Points: the digits do not matter.
            return self
                .rng
                .pick(&["all", "1", "0.5", "25", "1000000"])
                .to_string();
        };
        let unit = pow10(18 - decimals);
        let minimum = wad_floor(&table.minimum);
        let balance = self.model.member(name).map_or(Wad::zero(), |m| {
            self.model.members[m].slots[ledger].balance()
        });
        let whole = floor_units(&balance, decimals);
        let vault = self.model.vault[ledger].clone();
        let amount = match self.rng.weighted(&[24, 14, 8, 8, 8, 12, 3, 10, 13]) {
            0 => return "all".into(),
            1 => whole,
            2 => &minimum - &unit,
            3 => minimum,
            4 => &whole + &unit,
            5 => {
                let top = (&whole * 2u32).max(&minimum * 3u32) / &unit;
                let top = top.to_i64().unwrap_or(i64::MAX).max(1);
                Wad::from(self.rng.range(1, top)) * &unit
            }
            6 => Wad::zero(),
            7 => &vault + &unit,
            _ => vault.min(whole.clone()),
        };
        let text = Gen::amount(&amount.max(Wad::zero()));
        self.vary(text, decimals as usize)
    }

    /// A funding amount for a token ledger of `decimals`.
    pub fn fund_amount(&mut self, decimals: u32) -> String {
        let whole = *self.rng.pick(&[1, 2, 5, 10, 20, 50, 100]);
        let text = if self.rng.chance(50) {
            whole.to_string()
        } else {
            let places = self.rng.range(1, i64::from(decimals)) as u32;
            let frac = self.rng.range(0, 10i64.pow(places) - 1);
            let digits = format!("{frac:0>width$}", width = places as usize);
            format!("{whole}.{}", digits.trim_end_matches('0'))
                .trim_end_matches('.')
                .to_string()
        };
        self.vary(text, decimals as usize)
    }

    /// Fund or withdraw on one of the ledgers, members and non-members alike.
    pub fn money_step(&mut self, fund_weight: u64) {
        let ledgers = self.model.tables.ledgers.len();
        let ledger = self.rng.range(0, ledgers as i64 - 1) as usize;
        let name = self.model.tables.ledgers[ledger].name.clone();
        if self.rng.weighted(&[fund_weight, 100 - fund_weight]) == 0 {
            let decimals = self.model.tables.ledgers[ledger].decimals.unwrap_or(6);
            let amount = self.fund_amount(decimals);
            self.step(json!({"op": "fund", "ledger": name, "amount": amount}));
            return;
        }
        let class = self.model.tables.classes[0].name.clone();
        let pool = self.existing(None);
        let richest = pool
            .iter()
            .max_by_key(|n| {
                let m = self.model.member(n).expect("member");
                self.model.members[m].slots[ledger].balance()
            })
            .cloned();
        let member = match self.rng.weighted(&[12, 40, 48]) {
            0 => self.subject(&class),
            1 if richest.is_some() => richest,
            _ if !pool.is_empty() => Some(self.rng.pick(&pool).clone()),
            _ => self.subject(&class),
        };
        let Some(member) = member else { return };
        if self.model.member(&member).is_err() {
            self.count("withdraw by a non-member");
        }
        self.count(format!("withdraw on {name}"));
        let amount = self.withdraw_amount(&member, ledger);
        self.step(json!({"op": "withdraw", "member": member, "ledger": name, "amount": amount}));
    }

    /// `set_referrer` for a member (or not): mostly one that can still link.
    pub fn set_referrer_step(&mut self) {
        let free: Vec<String> = self
            .existing(None)
            .into_iter()
            .filter(|n| {
                let m = &self.model.members[self.model.member(n).expect("member")];
                m.referrer.is_none() && m.downline[0] == 0
            })
            .collect();
        let member = if !free.is_empty() && self.rng.chance(70) {
            self.rng.pick(&free).clone()
        } else {
            let class = self.model.tables.classes[0].name.clone();
            match self.subject(&class) {
                Some(n) => n,
                None => return,
            }
        };
        let (wallet, class) = match self.model.names.get(&member) {
            Some(n) => (
                n.wallet.clone(),
                self.model.tables.classes[n.class].name.clone(),
            ),
            None => return,
        };
        let referrer = self
            .referrer_for(&member, &wallet, &class, 0)
            .unwrap_or_else(|| member.clone());
        self.step(json!({"op": "set_referrer", "member": member, "referrer": referrer}));
    }
}
