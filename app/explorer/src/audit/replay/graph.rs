//! Links, direct bonuses and the oracles' approvals, as the replay checks them.

use super::{Check, Replay};
use anchor_lang::prelude::Pubkey;
use upline::events::*;
use upline::math::Wad;

impl Replay {
    pub(super) fn link(&mut self, e: &ReferrerLinked) {
        // A wallet never refers itself, through any of its memberships.
        let referrer_wallet = self.members.get(&e.referrer).map(|m| m.wallet);
        if e.wallet == e.referrer_wallet || referrer_wallet == Some(e.wallet) {
            self.mismatch(Check::Graph, format!("{} referred itself", e.wallet));
        }
        self.expect(
            Check::Graph,
            "referrer's wallet",
            Some(e.referrer_wallet),
            referrer_wallet,
        );
        let chain = self.upline(&e.referrer, 2);
        let want2 = chain.first().copied().unwrap_or_default();
        let want3 = chain.get(1).copied().unwrap_or_default();
        self.expect(Check::Graph, "level-2 upline of the link", e.upline2, want2);
        self.expect(Check::Graph, "level-3 upline of the link", e.upline3, want3);
        if chain.contains(&e.member) {
            self.mismatch(Check::Graph, format!("linking {} closes a cycle", e.member));
        }
        let referees = {
            let count = self.referees.entry(e.referrer).or_default();
            *count += 1;
            *count
        };
        self.expect(Check::Graph, "referee ordinal", e.referee_ordinal, referees);
        let policy = self.tables.early_bonus;
        // Only referees of the early-referee class (Aether: nodes) take a slot.
        let class = self.members.get(&e.member).map(|m| m.class);
        let early_class_ordinal = if class == Some(policy.early_referee_class) {
            let count = self.early_class_referees.entry(e.referrer).or_default();
            *count += 1;
            *count
        } else {
            0
        };
        self.expect(
            Check::Graph,
            "early-class referee ordinal",
            e.early_class_ordinal,
            early_class_ordinal,
        );
        let early = e.at < self.created_at.saturating_add(policy.growth_phase_seconds)
            && early_class_ordinal > 0
            && early_class_ordinal <= policy.early_referee_limit;
        self.expect(Check::Graph, "early referee", e.early_referee, early);
        self.out.links.insert(e.member, e.referrer);
        if let Some(m) = self.members.get_mut(&e.member) {
            m.referrer = Some(e.referrer);
            m.early_referee = e.early_referee;
        }
    }

    /// Whether `member` is frozen now.
    pub(super) fn is_frozen(&self, member: &Pubkey) -> bool {
        self.members.get(member).is_some_and(|m| m.frozen)
    }

    /// Check a report's or attestation's approvers and charge what it
    /// credited (per ledger, WAD) against their caps.
    pub(super) fn approved(
        &mut self,
        oracle: Pubkey,
        co_signers: &[Pubkey],
        credits: &[(u8, u128)],
        at: i64,
    ) {
        for problem in self.oracles.approve(oracle, co_signers, credits, at) {
            self.mismatch(Check::Oracles, problem);
        }
    }

    /// A report about `earners` approved by `oracle` and `co_signers`, which
    /// credited `reward` and `paid` on `ledger` at `at` (landing time).
    pub(super) fn report_approved(
        &mut self,
        (oracle, co_signers): (Pubkey, &[Pubkey]),
        earners: Vec<Pubkey>,
        (ledger, reward, paid): (u8, Wad, &[Commission]),
        at: i64,
    ) {
        let total = paid
            .iter()
            .filter(|c| !c.withheld)
            .fold(reward.0, |sum, c| sum + c.amount.0);
        self.approved(oracle, co_signers, &[(ledger, total)], at);
        self.last_report = Some(super::LastReport {
            signature: self.signature.clone(),
            earners,
            oracle,
            co_signers: co_signers.to_vec(),
            at,
        });
    }

    pub(super) fn bonus(&mut self, e: &DirectBonusCredited) {
        let referee = self.members.get(&e.referee).cloned().unwrap_or_default();
        if referee.referrer != Some(e.referrer) {
            self.mismatch(
                Check::Bonus,
                format!(
                    "bonus to {} for {}, which it did not refer",
                    e.referrer, e.referee
                ),
            );
        }
        if referee.bonus_paid {
            self.mismatch(
                Check::Bonus,
                format!("a second direct bonus for {}", e.referee),
            );
        }
        let class = self
            .members
            .get(&e.referrer)
            .map(|m| m.class)
            .unwrap_or(u8::MAX);
        let table = self.class_table(class);
        self.expect(Check::Bonus, "bonus class", e.class, class);
        self.expect(Check::Bonus, "bonus amount", e.amount, table.direct_bonus);
        self.expect(
            Check::Bonus,
            "bonus ledger",
            e.ledger_index,
            table.direct_bonus_ledger,
        );
        let frozen = self.is_frozen(&e.referrer);
        self.expect(
            Check::Bonus,
            "bonus withheld (frozen referrer)",
            e.withheld,
            frozen,
        );
        // A first-work bonus counts against the caps of the report's approvers.
        let first_work = self
            .last_report
            .as_ref()
            .filter(|r| r.signature == self.signature && r.earners.contains(&e.referee))
            .map(|r| (r.oracle, r.co_signers.clone(), r.at));
        if let (Some((oracle, co_signers, at)), false) = (first_work, e.withheld) {
            self.approved(oracle, &co_signers, &[(e.ledger_index, e.amount.0)], at);
        }
        if let Some(m) = self.members.get_mut(&e.referee) {
            m.bonus_paid = true;
        }
        if !e.withheld {
            self.credit(e.ledger_index, e.referrer, e.amount, Some(0));
        }
    }
}
