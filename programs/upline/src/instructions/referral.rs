//! The referral graph rules of DESIGN.md §3, shared by `join` and `set_referrer`.
//!
//! A member sets its referrer once, and only while it has no referees. So when
//! a link is made the new member has no downline, and the referrer's own upline
//! can no longer change (it has a referee now). The whole chain above a member
//! is therefore fixed at link time, and linking only adds one to the counts of
//! the three members above it; cycles are impossible.

use crate::constants::MAX_REFERRAL_DEPTH;
use crate::errors::UplineError;
use crate::events::{DirectBonusCredited, ReferrerLinked};
use crate::state::{BonusTrigger, CreditSource, Member, MemberFlags, Network};
use anchor_lang::prelude::*;

/// A member account loaded by hand, so that a wrong account gets a named error
/// (`UnknownReferrer`, `UplineMismatch`) instead of a generic constraint failure.
pub struct LoadedMember<'a, 'info> {
    /// The account the member was read from and is written back to.
    pub info: &'a AccountInfo<'info>,
    /// The decoded member.
    pub member: Member,
}

impl<'a, 'info> LoadedMember<'a, 'info> {
    /// Read `info` as a member of `network`, or fail with `not_member`.
    pub fn load(
        info: &'a AccountInfo<'info>,
        network: &Pubkey,
        not_member: UplineError,
    ) -> Result<Self> {
        if info.owner != &crate::ID || info.data_is_empty() {
            return Err(not_member.into());
        }
        let member = {
            let data = info.try_borrow_data()?;
            Member::try_deserialize(&mut &data[..]).map_err(|_| error!(not_member))?
        };
        require_keys_eq!(member.network, *network, not_member);
        require!(info.is_writable, UplineError::UplineMismatch);
        Ok(LoadedMember { info, member })
    }

    /// Read `info` as `wallet`'s own membership in `network`, or fail with
    /// `UnknownMember` (a wallet that has not joined, or someone else's account).
    pub fn load_own(
        info: &'a AccountInfo<'info>,
        network: &Pubkey,
        wallet: &Pubkey,
    ) -> Result<Self> {
        let loaded = Self::load(info, network, UplineError::UnknownMember)?;
        require_keys_eq!(loaded.member.wallet, *wallet, UplineError::UnknownMember);
        Ok(loaded)
    }

    /// Write the member back after checking its invariant.
    pub fn store(&self) -> Result<()> {
        self.member.invariant()?;
        store_member(self.info, &self.member)
    }
}

/// Serialize `member` into `info`, discriminator included.
pub fn store_member(info: &AccountInfo, member: &Member) -> Result<()> {
    let mut data = info.try_borrow_mut_data()?;
    let mut writer: &mut [u8] = &mut data;
    member.try_serialize(&mut writer)
}

/// The referrer and the members above it, as passed to `join` or `set_referrer`.
pub struct Upline<'a, 'info> {
    /// Levels 1, 2 and 3, as many as the chain has.
    pub levels: Vec<LoadedMember<'a, 'info>>,
}

impl<'a, 'info> Upline<'a, 'info> {
    /// Load a chosen referrer membership and its upline (for linking),
    /// checking the levels above it against the stored links. A wallet never
    /// refers itself, through any of its memberships.
    pub fn load(
        network: &Pubkey,
        wallet: &Pubkey,
        referrer: &'a AccountInfo<'info>,
        above: [Option<&'a AccountInfo<'info>>; MAX_REFERRAL_DEPTH - 1],
    ) -> Result<Self> {
        let first = LoadedMember::load(referrer, network, UplineError::UnknownReferrer)?;
        require_keys_neq!(first.member.wallet, *wallet, UplineError::SelfReferral);
        // A frozen member cannot be linked to.
        first.member.require_not_frozen()?;
        let next = first.member.referrer;
        let mut upline = Upline {
            levels: vec![first],
        };
        upline.extend(network, next, &above, MAX_REFERRAL_DEPTH - 1)?;
        Ok(upline)
    }

    /// Load `depth` levels of the stored upline of a member whose referrer is
    /// `referrer` (the default key for none). Exactly the levels that exist up to
    /// `depth` must be passed, in order, and nothing beyond them.
    pub fn of_member(
        network: &Pubkey,
        referrer: Pubkey,
        infos: [Option<&'a AccountInfo<'info>>; MAX_REFERRAL_DEPTH],
        depth: usize,
    ) -> Result<Self> {
        let mut upline = Upline {
            levels: Vec::with_capacity(depth),
        };
        upline.extend(network, referrer, &infos, depth)?;
        Ok(upline)
    }

    fn extend(
        &mut self,
        network: &Pubkey,
        mut expected: Pubkey,
        infos: &[Option<&'a AccountInfo<'info>>],
        depth: usize,
    ) -> Result<()> {
        for (i, info) in infos.iter().enumerate() {
            let wanted = i < depth && expected != Pubkey::default();
            match (wanted, info) {
                (true, Some(info)) => {
                    // Links store member accounts, so only the very membership linked passes.
                    require_keys_eq!(*info.key, expected, UplineError::UplineMismatch);
                    let loaded = LoadedMember::load(info, network, UplineError::UplineMismatch)?;
                    expected = loaded.member.referrer;
                    self.levels.push(loaded);
                }
                (false, None) => {}
                // A stored link not passed, or an account passed beyond the chain.
                _ => return err!(UplineError::UplineMismatch),
            }
        }
        Ok(())
    }

    /// Write every level back.
    pub fn store(&self) -> Result<()> {
        self.levels.iter().try_for_each(LoadedMember::store)
    }

    /// The member account at `level` (1-based), or the default key where the chain is shorter.
    pub fn member(&self, level: usize) -> Pubkey {
        level
            .checked_sub(1)
            .and_then(|i| self.levels.get(i))
            .map_or(Pubkey::default(), |l| *l.info.key)
    }
}

/// The member accounts a direct bonus passes between.
#[derive(Clone, Copy)]
pub struct BonusParties {
    pub referrer: Pubkey,
    pub referee: Pubkey,
}

/// Credit `referrer` the direct bonus of its class for the referee, under the
/// tables in force, at `time` (the link, or the referee's first work), and
/// describe it for the event.
pub fn pay_direct_bonus(
    network_key: &Pubkey,
    network: &Network,
    referrer: &mut Member,
    parties: BonusParties,
    time: i64,
) -> Result<DirectBonusCredited> {
    let table = network.class(referrer.class)?;
    require!(
        network.has_ledger(table.direct_bonus_ledger),
        UplineError::UnknownLedger
    );
    // A frozen referrer's bonus (owed since before the freeze) is withheld.
    let withheld = referrer.is_frozen();
    if !withheld {
        referrer.credit(
            table.direct_bonus_ledger,
            CreditSource::Bonus,
            table.direct_bonus,
            time,
        )?;
    }
    Ok(DirectBonusCredited {
        network: *network_key,
        ledger_index: table.direct_bonus_ledger,
        referrer: parties.referrer,
        referee: parties.referee,
        class: referrer.class,
        tables_version: network.tables_version,
        amount: table.direct_bonus,
        withheld,
        at: time,
    })
}

/// What linking did, for the events.
pub struct LinkOutcome {
    /// The `ReferrerLinked` event to emit.
    pub linked: ReferrerLinked,
    /// The `DirectBonusCredited` event to emit, if the bonus was paid now.
    pub bonus: Option<DirectBonusCredited>,
}

/// Link `member` (at address `member_key`) to the first level of `upline`
/// under the rules of DESIGN.md §3.
pub fn link(
    network_key: &Pubkey,
    network: &Network,
    (member_key, member): (Pubkey, &mut Member),
    upline: &mut Upline,
    now: i64,
) -> Result<LinkOutcome> {
    require!(!member.has_referrer(), UplineError::ReferrerAlreadySet);
    require!(member.downline[0] == 0, UplineError::HasReferees);
    let referrer_class = upline.levels[0].member.class;
    if network.tables.same_class_referrals {
        require!(referrer_class == member.class, UplineError::ClassMismatch);
    }

    for (depth, level) in upline.levels.iter_mut().enumerate() {
        let count = &mut level.member.downline[depth];
        *count = count.checked_add(1).ok_or(UplineError::MathOverflow)?;
    }
    let referrer_key = *upline.levels[0].info.key;
    let referrer = &mut upline.levels[0].member;
    member.referrer = referrer_key;
    // Its place among the referrer's referees; kept in the event, not the account.
    let referee_ordinal = referrer.downline[0];

    let policy = &network.tables.early_bonus;
    let in_growth_phase = now
        < network
            .created_at
            .saturating_add(policy.growth_phase_seconds);
    // Only referees of the early-referee class (Aether: nodes) take a slot.
    let early_class_ordinal = if member.class == policy.early_referee_class {
        referrer.early_class_referees = referrer
            .early_class_referees
            .checked_add(1)
            .ok_or(UplineError::MathOverflow)?;
        referrer.early_class_referees
    } else {
        0
    };
    let early = in_growth_phase
        && early_class_ordinal > 0
        && early_class_ordinal <= policy.early_referee_limit;
    member.flags.set(MemberFlags::EARLY_REFEREE, early);

    let table = network.class(referrer_class)?;
    let pay_now = match table.direct_bonus_trigger {
        BonusTrigger::Never => false,
        BonusTrigger::AtLink => true,
        BonusTrigger::FirstWork => member.flags.has(MemberFlags::HAS_WORKED),
    };
    let due_later = table.direct_bonus_trigger == BonusTrigger::FirstWork && !pay_now;
    member.flags.set(MemberFlags::BONUS_DUE, due_later);
    let bonus = if pay_now {
        let parties = BonusParties {
            referrer: referrer_key,
            referee: member_key,
        };
        Some(pay_direct_bonus(
            network_key,
            network,
            referrer,
            parties,
            now,
        )?)
    } else {
        None
    };

    let linked = ReferrerLinked {
        network: *network_key,
        member: member_key,
        wallet: member.wallet,
        class: member.class,
        referrer: referrer_key,
        referrer_wallet: referrer.wallet,
        referrer_class: referrer.class,
        upline2: upline.member(2),
        upline3: upline.member(3),
        referee_ordinal,
        early_class_ordinal,
        early_referee: early,
        at: now,
    };
    Ok(LinkOutcome { linked, bonus })
}
