//! One audit run, network by network: a full replay from the network's
//! creation, or a replay resumed from its checkpoint that reads only the
//! events after it and re-checks only the members they touch. Both give the
//! same verdict; a resumed run falls back to the full replay of a network
//! whose checkpoint it cannot use (another version, a row saved by a run
//! that went further, or events it cannot resume over: a second join or a
//! second link of the same member).

use super::balances::{self, Accounts};
use super::checkpoint::{self, Pending, Saved};
use super::replay::state::{decode, encode, Core, MemberRow};
use super::replay::Replay;
use super::{Check, Mismatch, Verdict};
use crate::index::IndexedEvent;
use crate::store::Store;
use crate::subject::subject;
use crate::ExplorerError;
use anchor_lang::prelude::Pubkey;
use std::collections::{BTreeMap, HashMap, HashSet};
use upline_sdk::events::UplineEvent;

/// Whether a run starts over or resumes from the checkpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Replay every network from its creation; rewrite the checkpoints.
    Full,
    /// Resume each network from its checkpoint (a network without one, or
    /// with one this version cannot read, is replayed in full).
    Incremental,
}

/// One network's share of the verdict.
struct Part {
    events: usize,
    replayed: usize,
    reports: usize,
    members: usize,
    mismatches: Vec<Mismatch>,
    pending: Option<Pending>,
}

pub async fn run(store: &Store, mode: Mode) -> Result<Verdict, ExplorerError> {
    // The run audits the events up to the newest one now, whatever is
    // indexed meanwhile: then every event up to the newest checkpoint was
    // audited, and a network with events after it is one the index lists.
    let through = store.number("SELECT MAX(position) FROM events").await?;
    // Each network, with its checkpoint and whether it has events after it.
    let mut networks: BTreeMap<Pubkey, (Option<Saved>, bool)> = BTreeMap::new();
    let newest = match mode {
        Mode::Full => -1,
        Mode::Incremental => {
            let saved = checkpoint::checkpoints(store).await?;
            let newest = saved.iter().map(|s| s.after.0).max().unwrap_or(-1);
            for s in saved {
                networks.insert(s.network, (Some(s), false));
            }
            newest
        }
    };
    for network in checkpoint::networks(store, (newest, through)).await? {
        networks.entry(network).or_insert((None, true)).1 = true;
    }
    let mut verdict = Verdict::default();
    for (network, (saved, new)) in &networks {
        let resumed = match saved {
            Some(saved) => resume(store, network, saved, (*new, through)).await?,
            None => None,
        };
        let part = match resumed {
            Some(part) => part,
            None => full(store, network, through).await?,
        };
        verdict.networks += 1;
        verdict.events += part.events;
        verdict.replayed_events += part.replayed;
        verdict.reports += part.reports;
        verdict.members += part.members;
        verdict.mismatches.extend(part.mismatches);
        verdict.pending.extend(part.pending);
    }
    Ok(verdict)
}

/// Replay one event of `network`, flagging one indexed under another network.
fn apply(replay: &mut Replay, network: &Pubkey, indexed: &IndexedEvent) {
    let (of, _) = subject(&indexed.event);
    if of != *network {
        replay.mismatches.push(Mismatch {
            check: Check::Graph,
            signature: Some(indexed.signature.clone()),
            detail: format!("an event of network {of} is indexed under {network}"),
        });
    }
    replay.apply(indexed);
}

fn last(events: &[IndexedEvent]) -> (i64, i64) {
    events.last().map_or((-1, -1), |e| (e.position, e.ordinal))
}

/// The network's mismatches in the order a full audit lists them: the
/// replay's, the snapshots that do not decode (by address), each member's
/// (in join order), then each ledger's.
fn assemble(core: &Core, accounts: &Accounts, ledgers: Vec<Mismatch>) -> Vec<Mismatch> {
    let mut undecodable: BTreeMap<&String, &Mismatch> = core.undecodable.iter().collect();
    undecodable.extend(accounts.undecodable.iter());
    let mut out = core.mismatches.clone();
    out.extend(undecodable.into_values().cloned());
    out.extend(core.balances.values().flatten().cloned());
    out.extend(ledgers);
    out
}

fn part(
    core: &Core,
    (events, replayed): (i64, usize),
    mismatches: Vec<Mismatch>,
    pending: Option<Pending>,
) -> Part {
    Part {
        events: usize::try_from(events).unwrap_or(0),
        replayed,
        reports: usize::try_from(core.reports).unwrap_or(usize::MAX),
        members: usize::try_from(core.joined).unwrap_or(usize::MAX),
        mismatches,
        pending,
    }
}

/// Replay `network` from its creation and check every member.
async fn full(store: &Store, network: &Pubkey, through: i64) -> Result<Part, ExplorerError> {
    let events = checkpoint::events_after(store, network, (-1, -1), through).await?;
    let count = events.len() as i64;
    if !matches!(
        events.first().map(|e| &e.event),
        Some(UplineEvent::NetworkCreated(_))
    ) {
        let core = Core::broken(Mismatch {
            check: Check::Graph,
            signature: None,
            detail: format!("network {network}: the index does not start at its creation"),
        });
        let pending = Pending {
            network: *network,
            after: last(&events),
            events: count,
            state: encode(&core),
            replace_members: true,
            rows: Vec::new(),
        };
        let mismatches = core.mismatches.clone();
        return Ok(part(
            &core,
            (count, events.len()),
            mismatches,
            Some(pending),
        ));
    }
    let mut replay = Replay::default();
    for indexed in &events {
        apply(&mut replay, network, indexed);
    }
    let accounts = balances::decode(&checkpoint::accounts(store, network).await?);
    let recounts = balances::recount(&replay.out.links);
    let mut findings = BTreeMap::new();
    for (index, address) in replay.out.members.iter().enumerate() {
        let downline = recounts.get(address).copied().unwrap_or_default();
        let found = balances::check_member(network, address, &replay.out, &accounts, downline);
        // Only what was found is kept: the checkpoint stays small.
        if !found.is_empty() {
            findings.insert(index as u64, found);
        }
    }
    let ledgers = balances::check_ledgers(&replay.out, &accounts);
    let after = last(&events);
    let mut rows = replay.rows();
    for (key, counts) in recounts {
        rows.entry(key).or_default().downline = counts;
    }
    let rows = encode_rows(rows, after);
    let core = replay.into_core(findings, accounts.undecodable_members.clone());
    let mismatches = assemble(&core, &accounts, ledgers);
    let pending = Pending {
        network: *network,
        after,
        events: count,
        state: encode(&core),
        replace_members: true,
        rows,
    };
    Ok(part(
        &core,
        (count, events.len()),
        mismatches,
        Some(pending),
    ))
}

fn encode_rows(rows: HashMap<Pubkey, MemberRow>, stamp: (i64, i64)) -> Vec<(String, String)> {
    rows.into_iter()
        .map(|(key, mut row)| {
            row.stamp = stamp;
            (key.to_string(), encode(&row))
        })
        .collect()
}

/// The member accounts an event names (those the replay reads or credits).
fn named(event: &UplineEvent) -> Vec<Pubkey> {
    use UplineEvent as E;
    let commissions = |c: &[upline::events::Commission]| c.iter().map(|c| c.member).collect();
    match event {
        E::ReferrerLinked(e) => vec![e.member, e.referrer, e.upline2, e.upline3],
        E::DirectBonusCredited(e) => vec![e.referrer, e.referee],
        E::ComputeReported(e) => [vec![e.provider], commissions(&e.commissions)].concat(),
        E::UsageReported(e) => [vec![e.user], commissions(&e.commissions)].concat(),
        E::RentalReported(e) => [e.renter, e.host]
            .into_iter()
            .chain(e.renter_commission.map(|c| c.member))
            .chain(e.host_commission.map(|c| c.member))
            .collect(),
        E::BandwidthReported(e) => std::iter::once(e.node)
            .chain(e.referral.map(|c| c.member))
            .collect(),
        other => subject(other).1.into_iter().collect(),
    }
}

/// How far up the links a resumed replay may look from a named member:
/// commissions go three levels up.
const UPLINE_DEPTH: usize = 3;

/// The saved rows of the named members and of their uplines; `None` if one
/// cannot be used.
async fn rows_for(
    store: &Store,
    network: &Pubkey,
    named: Vec<Pubkey>,
    checkpoint: (i64, i64),
) -> Result<Option<HashMap<Pubkey, MemberRow>>, ExplorerError> {
    let mut loaded: HashMap<Pubkey, MemberRow> = HashMap::new();
    let mut asked: HashSet<Pubkey> = HashSet::new();
    let mut wanted = named;
    for _ in 0..=UPLINE_DEPTH {
        wanted.retain(|k| *k != Pubkey::default() && asked.insert(*k));
        if wanted.is_empty() {
            break;
        }
        let Some(found) = checkpoint::member_rows(store, network, &wanted).await? else {
            return Ok(None);
        };
        // A row saved by a run that went further than the checkpoint (two
        // audits at once): this checkpoint's state is not in the rows.
        if found.values().any(|row| row.stamp > checkpoint) {
            return Ok(None);
        }
        wanted = found.values().flat_map(MemberRow::uplinks).collect();
        loaded.extend(found);
    }
    Ok(Some(loaded))
}

/// Resume `network` from its checkpoint; `None` where a full replay is needed.
async fn resume(
    store: &Store,
    network: &Pubkey,
    saved: &Saved,
    (new, through): (bool, i64),
) -> Result<Option<Part>, ExplorerError> {
    let Some(mut core) = decode::<Core>(&saved.state) else {
        return Ok(None);
    };
    if core.broken {
        return Ok(None);
    }
    let events = if new {
        checkpoint::events_after(store, network, saved.after, through).await?
    } else {
        Vec::new()
    };
    let count = saved.events + events.len() as i64;
    let mut balances_found = std::mem::take(&mut core.balances);
    let mut undecodable = std::mem::take(&mut core.undecodable);
    let ledger_snapshots = checkpoint::ledger_accounts(store, network).await?;
    if events.is_empty() {
        let replay = Replay::resume(core);
        let accounts = balances::decode(&ledger_snapshots);
        let ledgers = balances::check_ledgers(&replay.out, &accounts);
        let core = replay.into_core(balances_found, undecodable);
        let mismatches = assemble(&core, &accounts, ledgers);
        return Ok(Some(part(&core, (count, 0), mismatches, None)));
    }
    let named: Vec<Pubkey> = events.iter().flat_map(|e| named(&e.event)).collect();
    let Some(loaded) = rows_for(store, network, named, saved.after).await? else {
        return Ok(None);
    };
    let mut replay = Replay::resume(core);
    let mut downline: HashMap<Pubkey, [u32; 3]> = HashMap::new();
    let mut joined: HashSet<Pubkey> = HashSet::new();
    for (key, row) in &loaded {
        replay.load(*key, row);
        downline.insert(*key, row.downline);
        if !row.joined.is_empty() {
            joined.insert(*key);
        }
    }
    for indexed in &events {
        match &indexed.event {
            UplineEvent::MemberJoined(e) if !joined.insert(e.member) => return Ok(None),
            UplineEvent::ReferrerLinked(e) if replay.out.links.contains_key(&e.member) => {
                return Ok(None)
            }
            _ => {}
        }
        apply(&mut replay, network, indexed);
        if let UplineEvent::ReferrerLinked(e) = &indexed.event {
            balances::count_link(&replay.out.links, &mut downline, &e.member);
        }
    }
    let after = last(&events);
    let mut rows = replay.rows();
    for (key, counts) in downline {
        rows.entry(key).or_default().downline = counts;
    }
    for (key, row) in rows.iter_mut() {
        if let Some(before) = loaded.get(key) {
            let new = std::mem::take(&mut row.joined);
            row.joined = [before.joined.clone(), new].concat();
        }
    }
    // Re-check every member whose state was read or written, against its
    // snapshot now; the others' findings stand.
    let members: Vec<Pubkey> = rows
        .iter()
        .filter(|(_, row)| !row.joined.is_empty())
        .map(|(key, _)| *key)
        .collect();
    let mut snapshots = checkpoint::member_accounts(store, network, &members).await?;
    snapshots.extend(ledger_snapshots);
    let accounts = balances::decode(&snapshots);
    for key in &members {
        let found = balances::check_member(
            network,
            key,
            &replay.out,
            &accounts,
            rows.get(key).map(|r| r.downline).unwrap_or_default(),
        );
        for index in rows.get(key).map(|r| r.joined.as_slice()).unwrap_or(&[]) {
            if found.is_empty() {
                balances_found.remove(index);
            } else {
                balances_found.insert(*index, found.clone());
            }
        }
        undecodable.remove(&key.to_string());
    }
    undecodable.extend(accounts.undecodable_members.clone());
    let ledgers = balances::check_ledgers(&replay.out, &accounts);
    let rows = encode_rows(rows, after);
    let core = replay.into_core(balances_found, undecodable);
    let mismatches = assemble(&core, &accounts, ledgers);
    let pending = Pending {
        network: *network,
        after,
        events: count,
        state: encode(&core),
        replace_members: false,
        rows,
    };
    Ok(Some(part(
        &core,
        (count, events.len()),
        mismatches,
        Some(pending),
    )))
}
