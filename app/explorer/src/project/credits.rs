//! What each event credits, and the work report it is: the rows of
//! `credits` and `reports` (the same credits the audit's replay adds up).

use anchor_lang::prelude::Pubkey;
use upline::events::Commission;
use upline_sdk::events::UplineEvent;

/// One credit an event makes: to whom, from which source, how much (WAD),
/// and whether it was withheld (a frozen member's commission or bonus).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credit {
    pub member: Pubkey,
    pub ledger: u8,
    pub source: Source,
    pub amount: u128,
    pub withheld: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Work,
    Level(u8),
    Bonus,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Work => "work",
            Source::Level(1) => "level1",
            Source::Level(2) => "level2",
            Source::Level(_) => "level3",
            Source::Bonus => "bonus",
        }
    }
}

fn commission(ledger: u8, c: &Commission) -> Credit {
    Credit {
        member: c.member,
        ledger,
        source: Source::Level(c.level.clamp(1, 3)),
        amount: c.amount.0,
        withheld: c.withheld,
    }
}

/// Every credit `event` makes, each with the member whose work or link it
/// came from (the same credits the audit's replay adds up).
pub fn credits_of(event: &UplineEvent) -> Vec<(Credit, Pubkey)> {
    let work = |member: Pubkey, ledger: u8, amount: u128| Credit {
        member,
        ledger,
        source: Source::Work,
        amount,
        withheld: false,
    };
    match event {
        UplineEvent::ComputeReported(e) => {
            std::iter::once(work(e.provider, e.ledger_index, e.reward.0))
                .chain(e.commissions.iter().map(|c| commission(e.ledger_index, c)))
                .map(|c| (c, e.provider))
                .collect()
        }
        UplineEvent::UsageReported(e) => std::iter::once(work(e.user, e.ledger_index, e.points.0))
            .chain(e.commissions.iter().map(|c| commission(e.ledger_index, c)))
            .map(|c| (c, e.user))
            .collect(),
        UplineEvent::RentalReported(e) => {
            let mut out = Vec::new();
            if let Some(c) = &e.renter_commission {
                out.push((commission(e.ledger_index, c), e.renter));
            }
            if let Some(c) = &e.host_commission {
                out.push((commission(e.ledger_index, c), e.host));
            }
            out
        }
        UplineEvent::BandwidthReported(e) => {
            std::iter::once(work(e.node, e.ledger_index, e.node_reward.0))
                .chain(e.referral.iter().map(|c| commission(e.ledger_index, c)))
                .map(|c| (c, e.node))
                .collect()
        }
        UplineEvent::DirectBonusCredited(e) => vec![(
            Credit {
                member: e.referrer,
                ledger: e.ledger_index,
                source: Source::Bonus,
                amount: e.amount.0,
                withheld: e.withheld,
            },
            e.referee,
        )],
        _ => Vec::new(),
    }
}

/// A work report, as its `reports` row has it.
pub(super) struct Report {
    pub(super) kind: &'static str,
    pub(super) id: u64,
    /// The member the report is about (a rental's renter).
    pub(super) earner: Pubkey,
    pub(super) oracle: Pubkey,
    pub(super) ledger: u8,
    /// The earner's own reward, WAD (0 for a rental: its fees are paid off-chain).
    pub(super) reward: u128,
    pub(super) tables_version: u32,
    pub(super) work_time: i64,
}

pub(super) fn report_of(event: &UplineEvent) -> Option<Report> {
    let report = |kind, id, earner, oracle, ledger, reward, tables_version, work_time| Report {
        kind,
        id,
        earner,
        oracle,
        ledger,
        reward,
        tables_version,
        work_time,
    };
    Some(match event {
        UplineEvent::ComputeReported(e) => report(
            "compute",
            e.id,
            e.provider,
            e.oracle,
            e.ledger_index,
            e.reward.0,
            e.tables_version,
            e.work_time,
        ),
        UplineEvent::UsageReported(e) => report(
            "usage",
            e.id,
            e.user,
            e.oracle,
            e.ledger_index,
            e.points.0,
            e.tables_version,
            e.work_time,
        ),
        UplineEvent::RentalReported(e) => report(
            "rental",
            e.id,
            e.renter,
            e.oracle,
            e.ledger_index,
            0,
            0,
            e.work_time,
        ),
        UplineEvent::BandwidthReported(e) => report(
            "bandwidth",
            e.id,
            e.node,
            e.oracle,
            e.ledger_index,
            e.node_reward.0,
            e.tables_version,
            e.work_time,
        ),
        _ => return None,
    })
}
