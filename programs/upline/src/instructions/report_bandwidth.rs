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
    activity_epoch, effective_rate, node_reward, referral_reward, step_bonus, streak_start,
    Activity, Step,
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
    /// When the traffic was served (unix seconds): within the network's
    /// maximum report age of the clock, and not before the node's last report.
    pub work_time: i64,
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
    /// CHECK: the node's attested device, loaded by the handler so that a
    /// missing, closed or foreign one is `UnattestedNode` (omitted for a node
    /// without one, which is refused by name too).
    pub device: Option<UncheckedAccount<'info>>,
    /// CHECK: the device's subnet, for the referral weight; loaded likewise.
    pub subnet: Option<UncheckedAccount<'info>>,
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
    /// The report's kind and arguments, once the approvals are checked (the
    /// handler checks them first, once: `NotOracle` … `QuorumNotMet`).
    pub fn validate(&self, args: &BandwidthReportArgs) -> Result<()> {
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
        let mut approvals = accounts.oracle.approvals(ctx.remaining_accounts)?;
        accounts.validate(&args)?;
        let network_key = accounts.oracle.network.key();
        let network = &accounts.oracle.network;
        let tables = &accounts.oracle.reward_tables;
        let bw = &tables.data.bandwidth;

        let mut node = load_reported(&accounts.node, &network_key, bw.node_class)?;
        require!(
            node.member.flags.has(MemberFlags::ATTESTED),
            UplineError::UnattestedNode
        );
        let subnet_nodes = match (&accounts.device, &accounts.subnet) {
            (Some(device), Some(subnet)) => {
                let device = Device::load(device, &network_key, accounts.node.key)?;
                Subnet::load(subnet, &device)?.nodes
            }
            _ => return err!(UplineError::UnattestedNode),
        };
        let stamp = ReportStamp {
            id: args.id,
            work_time: args.work_time,
            now,
        };
        record_report(&mut node.member, stamp, network)?;
        let time = args.work_time;
        let referrer = [accounts.referrer.as_ref().map(AsRef::as_ref), None, None];
        let mut upline = Upline::of_member(&network_key, node.member.referrer, referrer, 1)?;

        let mut event = BandwidthReported {
            network: network_key,
            oracle: accounts.oracle.oracle_authority.key(),
            co_signers: approvals.co_signers(),
            id: args.id,
            node: accounts.node.key(),
            bytes: args.bytes,
            quality: args.quality,
            stability: args.stability,
            demand: args.demand,
            suppressed: args.suppressed,
            ledger_index: bw.ledger,
            tables_version: tables.version,
            node_reward: Wad::ZERO,
            stable_since: i64::from(node.member.stable_since),
            active_referrals: 0,
            rate_parts: RateParts::default(),
            effective_rate: Ppm::ZERO,
            subnet_nodes,
            referral: None,
            work_time: time,
            at: now,
        };
        if args.suppressed {
            node.store()?;
            approvals.charge(&[], now)?;
            emit_cpi!(event);
            return Ok(());
        }

        // The node's streak, this report included, in work time: an oracle
        // outage delays reports but does not break a streak.
        let member = &mut node.member;
        let stable_since = streak_start(
            i64::from(member.stable_since),
            i64::from(member.last_valid_work_time),
            time,
            bw.max_gap_seconds,
        );
        member.stable_since = unix_seconds(stable_since)?;
        member.last_valid_work_time = unix_seconds(time)?;
        event.stable_since = stable_since;
        let reward = node_reward(
            args.bytes,
            args.quality,
            args.stability,
            args.demand,
            bw.reward_per_gb,
        )
        .or_math_error()?;
        member.credit(bw.ledger, CreditSource::Own, reward, time)?;
        event.node_reward = reward;

        if let Some(level) = upline.levels.first_mut() {
            // The referrer's active referrals, this report included.
            let referrer = &mut level.member;
            let epoch = activity_epoch(time, bw.epoch_seconds).or_math_error()?;
            // A node's work times never decrease, so neither do its epochs.
            let newly_active = node.member.last_active_epoch != epoch;
            node.member.last_active_epoch = epoch;
            let stored = Activity {
                epoch: u64::from(referrer.activity_epoch),
                counts: referrer.active_referees,
            };
            let (activity, active) = stored.record(u64::from(epoch), newly_active);
            referrer.activity_epoch =
                u32::try_from(activity.epoch).map_err(|_| error!(UplineError::MathOverflow))?;
            referrer.active_referees = activity.counts;

            let streak = u64::try_from(time.saturating_sub(stable_since)).unwrap_or(0);
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
            // A frozen referrer's referral reward is withheld: evented, paid to nobody.
            let withheld = referrer.is_frozen();
            if !withheld {
                referrer.credit(bw.ledger, CreditSource::Level1, amount, time)?;
            }
            event.active_referrals = active;
            event.rate_parts = parts;
            event.effective_rate = rate;
            event.referral = Some(Commission {
                member: *level.info.key,
                level: 1,
                rate,
                amount,
                withheld,
            });
        }

        let referrer = upline.levels.first_mut().map(|level| &mut level.member);
        let node_key = accounts.node.key();
        let earner = (node_key, &mut node.member);
        let bonus = settle_first_work(&network_key, network, earner, referrer, time)?;
        node.store()?;
        upline.store()?;
        let referral: Vec<Commission> = event.referral.iter().copied().collect();
        let credits = credits_of(bw.ledger, event.node_reward, &referral, bonus.as_ref())?;
        approvals.charge(&credits, now)?;
        emit_cpi!(event);
        if let Some(bonus) = bonus {
            emit_cpi!(bonus);
        }
        Ok(())
    }
}

/// A work time as the member account stores streak times: u32 unix seconds.
fn unix_seconds(time: i64) -> Result<u32> {
    u32::try_from(time).map_err(|_| error!(UplineError::MathOverflow))
}
