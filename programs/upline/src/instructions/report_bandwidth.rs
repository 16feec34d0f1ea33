//! `report_bandwidth`: a node's proof-of-bandwidth report (Aether, DESIGN.md §4.4).
//!
//! Order within one report: validate; update the node's streak and its
//! referrer's active counts (this report included); then compute the effective
//! rate. A suppressed report is recorded (its id is used) but pays nothing and
//! does not count as a valid report for streaks or activity.

use super::referral::Upline;
// The composite `OracleContext` needs its generated client and bump types in scope.
use super::report::*;
use crate::errors::{OrMathError, UplineError};
use crate::events::{BandwidthReported, Commission, RateParts};
use crate::math::{Ppm, Wad};
use crate::rewards::bandwidth::{
    active_referrals, activity_epoch, counts_at, effective_rate, node_reward, referral_reward,
    step_bonus, streak_start, Step,
};
use crate::state::{BonusStep, CreditSource, Device, MemberFlags, Subnet};
use anchor_lang::prelude::*;

/// Demand multiplier range (DESIGN.md §4.4).
const MIN_DEMAND: Ppm = Ppm(1_000_000);
const MAX_DEMAND: Ppm = Ppm(1_500_000);

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct BandwidthReportArgs {
    /// Greater than the node's last report id.
    pub id: u64,
    /// Confirmed bytes transmitted.
    pub bytes: u64,
    /// Channel quality Q in [0, 1].
    pub quality: Ppm,
    /// Stability coefficient S in [0, 1].
    pub stability: Ppm,
    /// Demand multiplier DDM in [1.0, 1.5].
    pub demand: Ppm,
    /// Traffic anomaly: recorded, pays nothing.
    pub suppressed: bool,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ReportBandwidth<'info> {
    pub oracle: OracleContext<'info>,
    /// CHECK: the node's member account, loaded and checked by the handler.
    #[account(mut)]
    pub node: UncheckedAccount<'info>,
    /// The node's attested device (omitted for a node without one, which is
    /// then refused by name).
    #[account(
        constraint = device.network == oracle.network.key() @ UplineError::UnattestedNode,
        constraint = device.member == node.key() @ UplineError::UnattestedNode,
    )]
    pub device: Option<Box<Account<'info, Device>>>,
    /// The device's subnet, for the referral weight.
    #[account(constraint = subnet.network == oracle.network.key() @ UplineError::UnattestedNode)]
    pub subnet: Option<Box<Account<'info, Subnet>>>,
    /// CHECK: the node's referrer, required exactly when it has one.
    #[account(mut)]
    pub referrer: Option<UncheckedAccount<'info>>,
}

fn steps<const N: usize>(table: &[BonusStep; N]) -> [Step; N] {
    table.map(|s| Step {
        at_least: s.at_least,
        bonus: s.bonus,
    })
}

impl<'info> ReportBandwidth<'info> {
    pub fn validate(&self, args: &BandwidthReportArgs) -> Result<()> {
        self.oracle.validate()?;
        require!(
            self.oracle.reward_tables.data.bandwidth.enabled,
            UplineError::ReportKindDisabled
        );
        require!(
            args.quality.is_fraction() && args.stability.is_fraction(),
            UplineError::InvalidCoefficient
        );
        require!(
            (MIN_DEMAND..=MAX_DEMAND).contains(&args.demand),
            UplineError::InvalidDemandMultiplier
        );
        Ok(())
    }

    pub fn report_bandwidth(
        ctx: Context<'info, ReportBandwidth<'info>>,
        args: BandwidthReportArgs,
    ) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &ctx.accounts;
        let network_key = accounts.oracle.network.key();
        let network = &accounts.oracle.network;
        let tables = &accounts.oracle.reward_tables;
        let bw = &tables.data.bandwidth;

        let mut node = load_earner(&accounts.node, &network_key, bw.node_class)?;
        require!(
            node.member.flags.has(MemberFlags::ATTESTED),
            UplineError::UnattestedNode
        );
        let subnet_nodes = match (&accounts.device, &accounts.subnet) {
            (Some(device), Some(subnet)) if subnet.subnet == device.subnet => subnet.nodes,
            _ => return err!(UplineError::UnattestedNode),
        };
        record_report_id(&mut node.member, args.id)?;
        let referrer = [accounts.referrer.as_ref().map(AsRef::as_ref), None, None];
        let mut upline = Upline::of_member(&network_key, node.member.referrer, referrer, 1)?;

        let mut event = BandwidthReported {
            network: network_key,
            oracle: accounts.oracle.oracle_authority.key(),
            id: args.id,
            node: node.member.wallet,
            bytes: args.bytes,
            quality: args.quality,
            stability: args.stability,
            demand: args.demand,
            suppressed: args.suppressed,
            ledger_index: bw.ledger,
            tables_version: tables.version,
            node_reward: Wad::ZERO,
            stable_since: node.member.stable_since,
            active_referrals: 0,
            rate_parts: RateParts::default(),
            effective_rate: Ppm::ZERO,
            subnet_nodes,
            referral: None,
            at: now,
        };
        if args.suppressed {
            node.store()?;
            emit_cpi!(event);
            return Ok(());
        }

        // The node's streak, this report included.
        let member = &mut node.member;
        member.stable_since = streak_start(
            member.stable_since,
            member.last_report_at,
            now,
            bw.max_gap_seconds,
        );
        member.last_report_at = now;
        event.stable_since = member.stable_since;
        let reward = node_reward(
            args.bytes,
            args.quality,
            args.stability,
            args.demand,
            bw.reward_per_gb,
        )
        .or_math_error()?;
        member.credit(bw.ledger, CreditSource::Own, reward, now)?;
        event.node_reward = reward;

        if let Some(level) = upline.levels.first_mut() {
            // The referrer's active referrals, this report included.
            let referrer = &mut level.member;
            let epoch = activity_epoch(now, bw.epoch_seconds).or_math_error()?;
            let mut counts = counts_at(
                u64::from(referrer.activity_epoch),
                referrer.active_referees,
                u64::from(epoch),
            );
            if node.member.last_active_epoch != epoch {
                node.member.last_active_epoch = epoch;
                counts[0] = counts[0].checked_add(1).ok_or(UplineError::MathOverflow)?;
            }
            referrer.activity_epoch = epoch;
            referrer.active_referees = counts;
            let active = active_referrals(counts);

            let streak = u64::try_from(now.saturating_sub(node.member.stable_since)).unwrap_or(0);
            let parts = RateParts {
                base: bw.base_rate,
                stability: step_bonus(streak, &steps(&bw.stability_steps)),
                growth: step_bonus(u64::from(active), &steps(&bw.growth_steps)),
                cap: bw.rate_cap,
                early_node: if node.member.flags.has(MemberFlags::EARLY_REFEREE) {
                    bw.early_node_bonus
                } else {
                    Ppm::ZERO
                },
                early_member: if referrer.flags.has(MemberFlags::EARLY_MEMBER) {
                    bw.early_member_bonus
                } else {
                    Ppm::ZERO
                },
            };
            let rate = effective_rate(&parts).or_math_error()?;
            let amount =
                referral_reward(reward, rate, subnet_nodes, bw.subnet_limit).or_math_error()?;
            referrer.credit(bw.ledger, CreditSource::Level1, amount, now)?;
            event.active_referrals = active;
            event.rate_parts = parts;
            event.effective_rate = rate;
            event.referral = Some(Commission {
                wallet: referrer.wallet,
                level: 1,
                rate,
                amount,
            });
        }

        let referrer = upline.levels.first_mut().map(|level| &mut level.member);
        let bonus = settle_first_work(&network_key, network, &mut node.member, referrer, now)?;
        node.store()?;
        upline.store()?;
        emit_cpi!(event);
        if let Some(bonus) = bonus {
            emit_cpi!(bonus);
        }
        Ok(())
    }
}
