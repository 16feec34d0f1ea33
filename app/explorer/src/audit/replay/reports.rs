//! The four report kinds, recomputed from their inputs and the tables in
//! force (DESIGN.md §4.1–4.4), each credit compared with what the event says.

use super::{steps_bonus, Known, Replay};
use crate::audit::exact::{base_units, floor_wad, int, ppm, wad, Q};
use crate::audit::Check;
use anchor_lang::prelude::Pubkey;
use upline::events::*;
use upline::math::{Ppm, Wad};

impl Replay {
    /// What every work report is checked for first: the earner is a member
    /// of the kind's class, its id is new, and the tables version and the
    /// ledger (event's, table's) are those in force. The earner, if known.
    fn open_report(
        &mut self,
        (earner, id, times): (Pubkey, u64, (i64, i64)),
        class: u8,
        tables_version: u32,
        (ledger, table_ledger): (u8, u8),
    ) -> Option<Known> {
        let known = self.known(&earner)?;
        if known.frozen {
            self.mismatch(
                Check::Rewards,
                format!("report {id} about {earner}, which is frozen"),
            );
        }
        self.report_id(earner, id, times);
        self.expect(Check::Rewards, "earner class", known.class, class);
        let version = self.reward_version;
        self.expect(Check::Rewards, "tables version", tables_version, version);
        self.expect(Check::Rewards, "ledger", ledger, table_ledger);
        Some(known)
    }

    pub(super) fn compute(&mut self, e: &ComputeReported) {
        let t = self.reward.compute;
        let opened = self.open_report(
            (e.provider, e.id, (e.work_time, e.at)),
            t.provider_class,
            e.tables_version,
            (e.ledger_index, t.ledger),
        );
        let Some(provider) = opened else { return };
        self.expect(Check::Rewards, "compute tier", e.tier, provider.device_tier);
        let (complexity, _) = self.models.get(&e.model).copied().unwrap_or_default();
        self.expect(Check::Rewards, "model complexity", e.complexity, complexity);
        let perf = if e.latency_ms < t.fast_below_ms {
            t.fast_multiplier
        } else if e.latency_ms > t.slow_above_ms {
            t.slow_multiplier
        } else {
            Ppm::ONE
        };
        self.expect(Check::Rewards, "performance", e.performance, perf);
        let tier = t
            .tiers
            .get(usize::from(provider.device_tier.max(1)) - 1)
            .copied()
            .unwrap_or_default();
        let service = ppm(t.services[e.service as usize]);
        let exact = (wad(tier.base) * &service * ppm(complexity)
            + int(e.tokens) * wad(tier.per_token) * &service)
            * ppm(perf);
        let reward = floor_wad(&exact).unwrap_or_default();
        self.expect(Check::Rewards, "compute reward", e.reward, reward);
        self.credit(e.ledger_index, e.provider, e.reward, None);
        self.check_commissions(
            &e.provider,
            provider.class,
            e.ledger_index,
            e.reward,
            &e.commissions,
        );
        self.report_approved(
            (e.oracle, &e.co_signers),
            vec![e.provider],
            (e.ledger_index, e.reward, &e.commissions),
            e.at,
        );
    }

    pub(super) fn usage(&mut self, e: &UsageReported) {
        let t = self.reward.usage;
        let opened = self.open_report(
            (e.user, e.id, (e.work_time, e.at)),
            t.user_class,
            e.tables_version,
            (e.ledger_index, t.ledger),
        );
        let Some(user) = opened else { return };
        let points = t.endpoints[e.endpoint as usize];
        let exact = wad(points.base) + int(e.tokens) * wad(points.per_token);
        self.expect(
            Check::Rewards,
            "usage points",
            e.points,
            floor_wad(&exact).unwrap_or_default(),
        );
        self.credit(e.ledger_index, e.user, e.points, None);
        self.check_commissions(
            &e.user,
            user.class,
            e.ledger_index,
            e.points,
            &e.commissions,
        );
        self.report_approved(
            (e.oracle, &e.co_signers),
            vec![e.user],
            (e.ledger_index, e.points, &e.commissions),
            e.at,
        );
    }

    pub(super) fn rental(&mut self, e: &RentalReported) {
        let (Some(renter), Some(host)) = (self.known(&e.renter), self.known(&e.host)) else {
            return;
        };
        self.report_id(e.renter, e.id, (e.work_time, e.at));
        // "Rentals made during the promotion": by when the rental happened.
        let open = self.promotion.is_open(e.work_time);
        self.expect(Check::Rewards, "promotion open", e.promotion, open);
        let decimals = self.decimals.get(&e.ledger_index).copied().unwrap_or(0);
        // Each side pays its own referrer; the other party may be that
        // referrer (a host renting to the renter it referred), never the side itself.
        let sides = [
            (
                e.renter,
                &renter,
                e.renter_base_fee,
                e.renter_extra_fee,
                e.renter_commission,
            ),
            (
                e.host,
                &host,
                e.host_base_fee,
                e.host_extra_fee,
                e.host_commission,
            ),
        ];
        for (side, earner, base, extra, paid) in sides {
            let want = earner.referrer.map(|referrer| {
                let tier = self
                    .members
                    .get(&referrer)
                    .and_then(|m| m.tier)
                    .unwrap_or_default();
                let rate = if open {
                    self.promotion.rate
                } else {
                    self.tables.tier_rates[tier.index()]
                };
                let fees = base_units(base, decimals) + base_units(extra, decimals);
                Commission {
                    member: referrer,
                    level: 1,
                    rate,
                    amount: floor_wad(&(fees * ppm(rate))).unwrap_or_default(),
                    withheld: self.is_frozen(&referrer),
                }
            });
            self.expect(Check::Commissions, "rental commission", paid, want);
            if let Some(c) = paid {
                if c.member == side
                    || self.members.get(&c.member).map(|m| m.wallet) == Some(earner.wallet)
                {
                    self.mismatch(
                        Check::SelfCommission,
                        format!(
                            "{} earned a commission on its own side of a rental",
                            c.member
                        ),
                    );
                }
                if !c.withheld {
                    self.credit(e.ledger_index, c.member, c.amount, Some(1));
                }
            }
        }
        let paid: Vec<Commission> = [e.renter_commission, e.host_commission]
            .into_iter()
            .flatten()
            .collect();
        self.report_approved(
            (e.oracle, &e.co_signers),
            vec![e.renter, e.host],
            (e.ledger_index, Wad::ZERO, &paid),
            e.at,
        );
    }

    pub(super) fn bandwidth(&mut self, e: &BandwidthReported) {
        self.bandwidth_rewards(e);
        // Approved whatever the path above took (suppressed, no referrer).
        let paid: Vec<Commission> = e.referral.into_iter().collect();
        self.report_approved(
            (e.oracle, &e.co_signers),
            vec![e.node],
            (e.ledger_index, e.node_reward, &paid),
            e.at,
        );
    }

    fn bandwidth_rewards(&mut self, e: &BandwidthReported) {
        let t = self.reward.bandwidth;
        let opened = self.open_report(
            (e.node, e.id, (e.work_time, e.at)),
            t.node_class,
            e.tables_version,
            (e.ledger_index, t.ledger),
        );
        let Some(node) = opened else { return };
        let subnet_nodes = node
            .subnet
            .and_then(|s| self.subnets.get(&s))
            .copied()
            .unwrap_or(0);
        self.expect(Check::Rewards, "subnet nodes", e.subnet_nodes, subnet_nodes);
        if e.suppressed {
            self.expect(
                Check::Rewards,
                "suppressed reward",
                e.node_reward,
                Wad::ZERO,
            );
            self.expect(Check::Commissions, "suppressed referral", e.referral, None);
            return;
        }
        // The node's streak, this report included, in work time.
        let time = e.work_time;
        let first = node.stable_since == 0 && node.last_valid_work_time == 0;
        let gap = time.saturating_sub(node.last_valid_work_time);
        let stable_since = if first || gap > t.max_gap_seconds {
            time
        } else {
            node.stable_since
        };
        self.expect(Check::Rewards, "stable since", e.stable_since, stable_since);
        let exact = int(e.bytes) / int(1_000_000_000u64)
            * ppm(e.quality)
            * ppm(e.stability)
            * ppm(e.demand)
            * wad(t.reward_per_gb);
        let reward = floor_wad(&exact).unwrap_or_default();
        self.expect(Check::Rewards, "node reward", e.node_reward, reward);
        self.credit(e.ledger_index, e.node, e.node_reward, None);
        let epoch = u64::try_from(time.max(0) / t.epoch_seconds.max(1)).unwrap_or(0);
        let newly_active = node.last_active_epoch != Some(epoch);
        if let Some(m) = self.members.get_mut(&e.node) {
            m.stable_since = stable_since;
            m.last_valid_work_time = time;
        }
        let Some(referrer_key) = node.referrer else {
            self.expect(Check::Commissions, "referral", e.referral, None);
            return;
        };
        if let Some(m) = self.members.get_mut(&e.node) {
            m.last_active_epoch = Some(epoch);
        }
        let Some(referrer) = self.members.get_mut(&referrer_key) else {
            return;
        };
        // Work times are ordered per node, not across a referrer's nodes: the
        // referrer keeps the counts of its newest epoch and the two before
        // (never moving back); a report counts in its own epoch and is judged
        // by that epoch and the one before it (DESIGN.md §4.4).
        let newest = referrer.activity_epoch.max(epoch);
        let count_of = |counts: &[u32; 3], at: u64, e: u64| {
            at.checked_sub(e)
                .and_then(|back| usize::try_from(back).ok())
                .and_then(|back| counts.get(back).copied())
                .unwrap_or(0)
        };
        let old = referrer.active;
        let old_epoch = referrer.activity_epoch;
        let mut counts = [0u32; 3];
        for (back, count) in counts.iter_mut().enumerate() {
            *count = newest
                .checked_sub(back as u64)
                .map_or(0, |e| count_of(&old, old_epoch, e));
        }
        if newly_active {
            if let Some(count) = usize::try_from(newest - epoch)
                .ok()
                .and_then(|back| counts.get_mut(back))
            {
                // The program keeps u16 counts, saturating.
                *count = (*count + 1).min(u32::from(u16::MAX));
            }
        }
        referrer.activity_epoch = newest;
        referrer.active = counts;
        let active = count_of(&counts, newest, epoch).max(
            epoch
                .checked_sub(1)
                .map_or(0, |before| count_of(&counts, newest, before)),
        );
        let early_member = referrer.early_member;
        self.expect(
            Check::Rewards,
            "active referrals",
            e.active_referrals,
            active,
        );
        let streak = u64::try_from(time.saturating_sub(stable_since)).unwrap_or(0);
        let parts = RateParts {
            base: t.base_rate,
            stability: steps_bonus(streak, &t.stability_steps),
            growth: steps_bonus(u64::from(active), &t.growth_steps),
            cap: t.rate_cap,
            early_node: if node.early_referee {
                t.early_node_bonus
            } else {
                Ppm::ZERO
            },
            early_member: if early_member {
                t.early_member_bonus
            } else {
                Ppm::ZERO
            },
        };
        self.expect(Check::Rewards, "rate parts", e.rate_parts, parts);
        let capped = (parts.base.0 + parts.stability.0 + parts.growth.0).min(parts.cap.0);
        let rate = Ppm(capped + parts.early_node.0 + parts.early_member.0);
        self.expect(Check::Rewards, "effective rate", e.effective_rate, rate);
        let nodes = subnet_nodes.max(1);
        let weight = if nodes > t.subnet_limit.max(1) {
            int(0)
        } else {
            Q::new(1.into(), nodes.into())
        };
        let amount = floor_wad(&(wad(reward) * ppm(rate) * weight)).unwrap_or_default();
        let want = Commission {
            member: referrer_key,
            level: 1,
            rate,
            amount,
            withheld: self.is_frozen(&referrer_key),
        };
        self.expect(
            Check::Commissions,
            "bandwidth referral",
            e.referral,
            Some(want),
        );
        if let Some(c) = e.referral.filter(|c| !c.withheld) {
            self.credit(e.ledger_index, c.member, c.amount, Some(1));
        }
    }
}
