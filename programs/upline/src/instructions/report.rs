//! What every work report and attestation shares: the oracle that signs it,
//! the network and tables it reads (never writes), replay protection, the
//! commissions paid up the chain and the direct bonus on first work.

use super::referral::{pay_direct_bonus, BonusParties, LoadedMember, Upline};
use crate::constants::{MAX_REFERRAL_DEPTH, MAX_REPORT_ID_STEP};
use crate::errors::{OrMathError, UplineError};
use crate::events::{Commission, DirectBonusCredited};
use crate::math::{Ppm, Wad};
use crate::rewards::commission;
use crate::state::{
    BonusTrigger, CreditSource, Member, MemberFlags, Network, Oracle, RewardTables,
};
use anchor_lang::prelude::*;

/// The accounts every report and attestation starts with. Only the oracle's
/// registration is written (it counts what the oracle approves against its caps).
#[derive(Accounts)]
pub struct OracleContext<'info> {
    /// The oracle's signing key.
    pub oracle_authority: Signer<'info>,
    /// CHECK: the oracle's registration, checked by `approvals` so that a
    /// non-oracle or a removed one fails with `NotOracle`.
    #[account(mut)]
    pub oracle: UncheckedAccount<'info>,
    pub network: Box<Account<'info, Network>>,
    #[account(has_one = network @ UplineError::InvalidTables)]
    pub reward_tables: Box<Account<'info, RewardTables>>,
}

/// Read `info` as the registration of oracle key `authority` in `network`.
fn load_oracle(info: &AccountInfo, network: &Pubkey, authority: &Pubkey) -> Result<Oracle> {
    require!(info.owner == &crate::ID, UplineError::NotOracle);
    let oracle = {
        let data = info.try_borrow_data()?;
        Oracle::try_deserialize(&mut &data[..]).map_err(|_| error!(UplineError::NotOracle))?
    };
    require_keys_eq!(oracle.network, *network, UplineError::NotOracle);
    require_keys_eq!(oracle.authority, *authority, UplineError::NotOracle);
    require!(info.is_writable, UplineError::OracleRegistrationReadOnly);
    Ok(oracle)
}

/// The oracles that approved one report or attestation: the context's
/// signer, then each co-signer. Co-signers are transaction signers, passed
/// as (key, registration) pairs after the instruction's own accounts, so a
/// batch of reports pays for each co-signature once (README: quorum).
pub struct Approvals<'a, 'info> {
    oracles: Vec<(&'a AccountInfo<'info>, Oracle)>,
}

impl<'a, 'info> Approvals<'a, 'info> {
    /// The co-signers' keys, for the event.
    pub fn co_signers(&self) -> Vec<Pubkey> {
        self.oracles
            .iter()
            .skip(1)
            .map(|(_, o)| o.authority)
            .collect()
    }

    /// Count what a report credits, per ledger, against every approving
    /// oracle's cap at `now`, and write the registrations back.
    pub fn charge(&mut self, credits: &[(u8, Wad)], now: i64) -> Result<()> {
        for (info, oracle) in self.oracles.iter_mut() {
            let mut charged = false;
            for (ledger, amount) in credits {
                if let Some(cap) = oracle.caps.get_mut(usize::from(*ledger)) {
                    charged |= cap.limit != Wad::ZERO;
                    cap.charge(*amount, now)?;
                }
            }
            // Only a capped oracle's counters change; skip the write otherwise.
            if !charged {
                continue;
            }
            let mut data = info.try_borrow_mut_data()?;
            let mut writer: &mut [u8] = &mut data;
            oracle.try_serialize(&mut writer)?;
        }
        Ok(())
    }
}

/// What every report reads once per instruction: the clock, the network
/// and its tables, and the signing oracle (a batch shares it across reports).
pub struct ReportSession<'s> {
    pub now: i64,
    pub network_key: Pubkey,
    pub network: &'s Network,
    pub tables: &'s RewardTables,
    pub oracle_authority: Pubkey,
}

impl ReportSession<'_> {
    /// Refuse a report kind the network's tables switch off (`ReportKindDisabled`).
    pub fn require_enabled(&self, enabled: bool) -> Result<()> {
        require!(enabled, UplineError::ReportKindDisabled);
        Ok(())
    }
}

impl<'info> OracleContext<'info> {
    /// The network is active, the signer is a registered oracle of it and,
    /// with the co-signers in `co_signers`, at least the quorum of distinct
    /// registered oracles approved.
    pub fn validate(&self, co_signers: &[AccountInfo<'info>]) -> Result<()> {
        self.approvals(co_signers).map(|_| ())
    }

    /// The clock and what this context reads, for the reports it carries.
    pub fn session(&self) -> Result<ReportSession<'_>> {
        Ok(ReportSession {
            now: Clock::get()?.unix_timestamp,
            network_key: self.network.key(),
            network: &self.network,
            tables: &self.reward_tables,
            oracle_authority: self.oracle_authority.key(),
        })
    }

    /// Who approved, checked: `NotOracle` for a key or registration that is
    /// not a current oracle of this network (a removed one included),
    /// `CoSignerDidNotSign`, `DuplicateCoSigner`, then `QuorumNotMet`.
    pub fn approvals<'a>(
        &'a self,
        co_signers: &'a [AccountInfo<'info>],
    ) -> Result<Approvals<'a, 'info>> {
        self.network.require_active()?;
        let network = self.network.key();
        let primary = load_oracle(&self.oracle, &network, self.oracle_authority.key)?;
        let mut oracles = vec![(self.oracle.as_ref(), primary)];
        let pairs = co_signers.chunks_exact(2);
        // A lone trailing account is no (key, registration) pair.
        require!(pairs.remainder().is_empty(), UplineError::NotOracle);
        for pair in pairs {
            let (key, registration) = (&pair[0], &pair[1]);
            require!(key.is_signer, UplineError::CoSignerDidNotSign);
            let duplicate = oracles.iter().any(|(_, o)| o.authority == *key.key);
            require!(!duplicate, UplineError::DuplicateCoSigner);
            let oracle = load_oracle(registration, &network, key.key)?;
            oracles.push((registration, oracle));
        }
        require!(
            oracles.len() >= usize::from(self.network.oracle_quorum),
            UplineError::QuorumNotMet
        );
        Ok(Approvals { oracles })
    }
}

/// What a report credits, per ledger: the earner's reward, the commissions
/// paid (not withheld) and a bonus it triggered, for the oracles' caps.
pub fn credits_of(
    ledger: u8,
    reward: Wad,
    commissions: &[Commission],
    bonus: Option<&DirectBonusCredited>,
) -> Result<Vec<(u8, Wad)>> {
    let paid = commissions
        .iter()
        .filter(|c| !c.withheld)
        .try_fold(reward, |sum, c| sum.checked_add(c.amount))
        .or_math_error()?;
    let mut out = vec![(ledger, paid)];
    if let Some(bonus) = bonus.filter(|b| !b.withheld) {
        out.push((bonus.ledger_index, bonus.amount));
    }
    Ok(out)
}

/// Levels 1-3 of a report's earner, as its class's schedule pays them (the
/// referrer alone, at least, when only a first-work bonus is due).
#[derive(Accounts)]
pub struct UplineAccounts<'info> {
    /// CHECK: the earner's referrer; checked against the stored links by `Upline::of_member`.
    #[account(mut)]
    pub upline1: Option<UncheckedAccount<'info>>,
    /// CHECK: the referrer's referrer; see `upline1`.
    #[account(mut)]
    pub upline2: Option<UncheckedAccount<'info>>,
    /// CHECK: level 3; see `upline1`.
    #[account(mut)]
    pub upline3: Option<UncheckedAccount<'info>>,
}

impl<'info> UplineAccounts<'info> {
    /// The given levels, referrer first, for [`pay_up_the_chain`].
    pub fn above(&self) -> [Option<&AccountInfo<'info>>; MAX_REFERRAL_DEPTH] {
        [
            self.upline1.as_ref().map(AsRef::as_ref),
            self.upline2.as_ref().map(AsRef::as_ref),
            self.upline3.as_ref().map(AsRef::as_ref),
        ]
    }
}

/// The member a report is about, loaded from `account`: a member of this
/// network (`UnknownMember`) in the class the report kind pays (`WrongClass`).
pub fn load_earner<'a, 'info>(
    account: &'a AccountInfo<'info>,
    network_key: &Pubkey,
    class: u8,
) -> Result<LoadedMember<'a, 'info>> {
    let earner = LoadedMember::load(account, network_key, UplineError::UnknownMember)?;
    require!(earner.member.class == class, UplineError::WrongClass);
    Ok(earner)
}

/// A report's identity and timing, as every report kind carries them.
#[derive(Clone, Copy)]
pub struct ReportStamp {
    /// Strictly increasing per member the report is about.
    pub id: u64,
    /// When the work happened (unix seconds).
    pub work_time: i64,
    /// The cluster's clock.
    pub now: i64,
}

/// The member a report is about: [`load_earner`], and not frozen (`MemberFrozen`).
pub fn load_reported<'a, 'info>(
    account: &'a AccountInfo<'info>,
    network_key: &Pubkey,
    class: u8,
) -> Result<LoadedMember<'a, 'info>> {
    let earner = load_earner(account, network_key, class)?;
    earner.member.require_not_frozen()?;
    Ok(earner)
}

/// Refuse a report about `member` that is replayed or out of time, in DESIGN.md
/// §8's order (StaleReport by id, ReportInFuture, ReportTooOld, StaleReport by
/// work time), then record its id and work time: a retried or replayed report
/// counts once, and a member's work times never go backwards.
pub fn record_report(member: &mut Member, stamp: ReportStamp, network: &Network) -> Result<()> {
    record_report_id(member, stamp.id)?;
    require!(stamp.work_time <= stamp.now, UplineError::ReportInFuture);
    let oldest = stamp
        .now
        .saturating_sub(network.tables.max_report_age_seconds);
    require!(stamp.work_time >= oldest, UplineError::ReportTooOld);
    require!(
        stamp.work_time >= member.last_work_time,
        UplineError::StaleReport
    );
    member.last_work_time = stamp.work_time;
    Ok(())
}

/// Refuse a report whose id is not greater than the last one recorded for
/// `member`, then record it.
fn record_report_id(member: &mut Member, id: u64) -> Result<()> {
    require!(id > member.last_report_id, UplineError::StaleReport);
    // An oracle must not be able to push a member's id to u64::MAX and so block
    // every later report about it: each id may move at most MAX_REPORT_ID_STEP
    // ahead (room for millisecond-timestamp ids), so exhausting the id space
    // takes at least 65,536 reports about one member, each evented and audited.
    require!(
        id - member.last_report_id <= MAX_REPORT_ID_STEP,
        UplineError::ReportIdTooFar
    );
    member.last_report_id = id;
    Ok(())
}

/// Pay `rates[level]` of `amount` to each level of `upline` that the schedule covers.
pub fn pay_commissions(
    upline: &mut Upline,
    ledger: u8,
    amount: Wad,
    rates: &[Ppm],
    time: i64,
) -> Result<Vec<Commission>> {
    let mut paid = Vec::with_capacity(rates.len());
    for (depth, (level, rate)) in upline.levels.iter_mut().zip(rates).enumerate() {
        let level_number = depth + 1;
        let source = CreditSource::of_level(level_number).ok_or(UplineError::UplineMismatch)?;
        let value = commission(amount, *rate).or_math_error()?;
        // A frozen member's commission is withheld: evented, paid to nobody.
        let withheld = level.member.is_frozen();
        if !withheld {
            level.member.credit(ledger, source, value, time)?;
        }
        paid.push(Commission {
            member: *level.info.key,
            level: level_number as u8,
            rate: *rate,
            amount: value,
            withheld,
        });
    }
    Ok(paid)
}

/// Mark `earner` (at `earner_key`) as having worked. If its referrer's direct
/// bonus waited for this first work report, pay it to `referrer` (its stored
/// referrer account) for work at `time`.
pub fn settle_first_work(
    network_key: &Pubkey,
    network: &Network,
    (earner_key, earner): (Pubkey, &mut Member),
    referrer: Option<&mut Member>,
    time: i64,
) -> Result<Option<DirectBonusCredited>> {
    if earner.flags.has(MemberFlags::HAS_WORKED) {
        return Ok(None);
    }
    earner.flags.set(MemberFlags::HAS_WORKED, true);
    if !earner.flags.has(MemberFlags::BONUS_DUE) {
        return Ok(None);
    }
    let referrer = referrer.ok_or(UplineError::UplineMismatch)?;
    earner.flags.set(MemberFlags::BONUS_DUE, false);
    let table = network.class(referrer.class)?;
    // A bonus owed under tables that no longer pay one is not paid.
    if table.direct_bonus_trigger != BonusTrigger::FirstWork {
        return Ok(None);
    }
    let parties = BonusParties {
        referrer: earner.referrer,
        referee: earner_key,
    };
    pay_direct_bonus(network_key, network, referrer, parties, time).map(Some)
}

/// What a report paid above its earner.
pub struct UplinePayout {
    /// Commissions per level, in order.
    pub commissions: Vec<Commission>,
    /// The direct bonus, if this was the earner's first work and one was due.
    pub bonus: Option<DirectBonusCredited>,
}

/// After `earner` was credited `amount` on `ledger` for work at `time`: pay
/// its stored upline (`above`, referrer first) under its class's schedule,
/// settle its first work, and write the earner and every level back.
pub fn pay_up_the_chain<'a, 'info>(
    network_key: &Pubkey,
    network: &Network,
    earner: &mut LoadedMember<'a, 'info>,
    above: [Option<&'a AccountInfo<'info>>; MAX_REFERRAL_DEPTH],
    ledger: u8,
    amount: Wad,
    time: i64,
) -> Result<UplinePayout> {
    let schedule = network.class(earner.member.class)?.paid_rates();
    let depth = upline_depth(schedule.len(), &earner.member);
    let mut upline = Upline::of_member(network_key, earner.member.referrer, above, depth)?;
    let commissions = pay_commissions(&mut upline, ledger, amount, schedule, time)?;
    let referrer = upline.levels.first_mut().map(|level| &mut level.member);
    let earner_key = *earner.info.key;
    let bonus = settle_first_work(
        network_key,
        network,
        (earner_key, &mut earner.member),
        referrer,
        time,
    )?;
    earner.store()?;
    upline.store()?;
    Ok(UplinePayout { commissions, bonus })
}

/// The member a compute or usage report is about, loaded as
/// [`load_reported`] loads it, with the report's id and work time recorded
/// ([`record_report`]).
pub fn load_and_stamp<'a, 'info>(
    session: &ReportSession,
    account: &'a AccountInfo<'info>,
    class: u8,
    (id, work_time): (u64, i64),
) -> Result<LoadedMember<'a, 'info>> {
    let mut loaded = load_reported(account, &session.network_key, class)?;
    let stamp = ReportStamp {
        id,
        work_time,
        now: session.now,
    };
    record_report(&mut loaded.member, stamp, session.network)?;
    Ok(loaded)
}

/// Credit `earner` its own `amount` of work on `ledger` at `time`, pay its
/// stored upline `above` ([`pay_up_the_chain`]) and count all of it against
/// the approving oracles' caps: the end of every compute and usage report.
pub fn pay_work<'a, 'info>(
    session: &ReportSession,
    approvals: &mut Approvals<'_, 'info>,
    earner: &mut LoadedMember<'a, 'info>,
    above: [Option<&'a AccountInfo<'info>>; MAX_REFERRAL_DEPTH],
    (ledger, amount, time): (u8, Wad, i64),
) -> Result<UplinePayout> {
    earner
        .member
        .credit(ledger, CreditSource::Own, amount, time)?;
    let payout = pay_up_the_chain(
        &session.network_key,
        session.network,
        earner,
        above,
        ledger,
        amount,
        time,
    )?;
    let credits = credits_of(ledger, amount, &payout.commissions, payout.bonus.as_ref())?;
    approvals.charge(&credits, session.now)?;
    Ok(payout)
}

/// Levels of upline a report must pass: the schedule's depth, and at least the
/// referrer (for the first-work bonus) when the member has one.
pub fn upline_depth(schedule_depth: usize, member: &Member) -> usize {
    if member.has_referrer() {
        schedule_depth.max(1)
    } else {
        0
    }
}
