//! The snapshot side of the audit: member, ledger and vault accounts as the
//! cluster holds them, against what the replayed events add up to.

use super::replay::Replayed;
use super::{Check, Mismatch};
use crate::index::Snapshot;
use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use std::collections::{BTreeMap, HashMap};
use upline::state::{Ledger, Member};

/// An SPL Token (or Token-2022) account's amount: bytes 64..72.
fn token_amount(data: &[u8]) -> Option<u64> {
    data.get(64..72)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
}

/// One network's snapshots, decoded.
#[derive(Default)]
pub struct Accounts {
    members: HashMap<Pubkey, Member>,
    ledgers: Vec<Ledger>,
    vaults: HashMap<Pubkey, u64>,
    /// Member snapshots that do not decode, by address.
    pub undecodable_members: BTreeMap<String, Mismatch>,
    /// Ledger and vault snapshots that do not decode, by address.
    pub undecodable: BTreeMap<String, Mismatch>,
}

fn undecodable(check: Check, address: &Pubkey, kind: &str) -> Mismatch {
    Mismatch {
        check,
        signature: None,
        detail: format!("{kind} {address}: the snapshot does not decode"),
    }
}

/// Decode member, ledger and vault snapshots (others are not checked).
pub fn decode(accounts: &[Snapshot]) -> Accounts {
    let mut out = Accounts::default();
    // In address order, whatever order the database listed them in.
    let mut sorted: Vec<&Snapshot> = accounts.iter().collect();
    sorted.sort_by_cached_key(|s| s.address.to_string());
    for snapshot in sorted {
        let address = snapshot.address;
        match snapshot.kind.as_str() {
            "member" => match Member::try_deserialize(&mut snapshot.data.as_slice()) {
                Ok(m) => {
                    out.members.insert(address, m);
                }
                Err(_) => {
                    let found = undecodable(Check::Balances, &address, "member");
                    out.undecodable_members.insert(address.to_string(), found);
                }
            },
            "ledger" => match Ledger::try_deserialize(&mut snapshot.data.as_slice()) {
                Ok(l) => out.ledgers.push(l),
                Err(_) => {
                    let found = undecodable(Check::Vault, &address, "ledger");
                    out.undecodable.insert(address.to_string(), found);
                }
            },
            "vault" => match token_amount(&snapshot.data) {
                Some(amount) => {
                    out.vaults.insert(address, amount);
                }
                None => {
                    let found = undecodable(Check::Vault, &address, "vault");
                    out.undecodable.insert(address.to_string(), found);
                }
            },
            _ => {}
        }
    }
    out
}

/// Downline: a recount of the links, each link counted up its three levels.
pub fn recount(links: &HashMap<Pubkey, Pubkey>) -> HashMap<Pubkey, [u32; 3]> {
    let mut recounts: HashMap<Pubkey, [u32; 3]> = HashMap::new();
    for start in links.keys() {
        let mut at = *start;
        for level in 0..3 {
            let Some(up) = links.get(&at) else {
                break;
            };
            let count = &mut recounts.entry(*up).or_default()[level];
            *count = count.saturating_add(1);
            at = *up;
        }
    }
    recounts
}

/// Add the link `member` → its referrer (the last link made) to `downline`,
/// as [`recount`] would count it: every account that reaches `member` in 0,
/// 1 or 2 steps now reaches `member`'s first three uplines one level further.
/// `member` must have had no link before (a second link is not counted here).
pub fn count_link(
    links: &HashMap<Pubkey, Pubkey>,
    downline: &mut HashMap<Pubkey, [u32; 3]>,
    member: &Pubkey,
) {
    let below = downline.get(member).copied().unwrap_or_default();
    let reaching = [1, below[0], below[1]];
    let mut at = *member;
    for level in 0..3 {
        let Some(up) = links.get(&at).copied() else {
            break;
        };
        let counts = downline.entry(up).or_default();
        for (steps, n) in reaching.iter().enumerate() {
            if let Some(count) = counts.get_mut(level + steps) {
                *count = count.saturating_add(*n);
            }
        }
        at = up;
    }
}

/// Per member and ledger: each source's total, and what was withdrawn; its
/// downline (`downline`: the recount) and referrer.
pub fn check_member(
    network: &Pubkey,
    address: &Pubkey,
    replayed: &Replayed,
    accounts: &Accounts,
    downline: [u32; 3],
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut push = |check: Check, detail: String| {
        out.push(Mismatch {
            check,
            signature: None,
            detail,
        })
    };
    let Some(member) = accounts.members.get(address) else {
        push(
            Check::Balances,
            format!("member {address} of {network} has no snapshot"),
        );
        return out;
    };
    for (index, slot) in member.ledgers.iter().enumerate() {
        let index = index as u8;
        let events = replayed
            .credits
            .get(&(index, *address))
            .copied()
            .unwrap_or_default();
        let stored = [
            slot.own.0,
            slot.level1.0,
            slot.level2.0,
            slot.level3.0,
            slot.bonus.0,
        ];
        let from_events = [
            events.own,
            events.levels[0],
            events.levels[1],
            events.levels[2],
            events.bonus,
        ];
        for ((name, s), e) in ["own", "level 1", "level 2", "level 3", "bonus"]
            .iter()
            .zip(stored)
            .zip(from_events)
        {
            if s != e {
                push(Check::Balances, format!("{address} ledger {index} {name}: account holds {s}, events credit {e} (WAD units)"));
            }
        }
        let withdrawn = replayed
            .withdrawn
            .get(&(index, *address))
            .copied()
            .unwrap_or_default();
        if slot.withdrawn.0 != withdrawn {
            push(
                Check::Balances,
                format!(
                    "{address} ledger {index}: account withdrew {}, events withdraw {withdrawn}",
                    slot.withdrawn.0
                ),
            );
        }
        let balance = slot.balance().map(|b| b.0).unwrap_or(u128::MAX);
        if balance.checked_add(slot.withdrawn.0) != Some(events.total()) {
            push(
                Check::Balances,
                format!(
                    "{address} ledger {index}: balance {balance} + withdrawn {} != credits {}",
                    slot.withdrawn.0,
                    events.total()
                ),
            );
        }
    }
    let recount = downline;
    if member.downline != recount {
        push(
            Check::Downline,
            format!(
                "{address}: downline {:?}, recount of the links {recount:?}",
                member.downline
            ),
        );
    }
    let referrer = replayed.links.get(address).copied().unwrap_or_default();
    if member.referrer != referrer {
        push(
            Check::Graph,
            format!(
                "{address}: stored referrer {}, linked to {referrer}",
                member.referrer
            ),
        );
    }
    out
}

/// Per ledger: the program's own totals, and the vault.
pub fn check_ledgers(replayed: &Replayed, accounts: &Accounts) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut push = |check: Check, detail: String| {
        out.push(Mismatch {
            check,
            signature: None,
            detail,
        })
    };
    for ledger in &accounts.ledgers {
        let funded = replayed
            .funded
            .get(&ledger.index)
            .copied()
            .unwrap_or_default();
        let paid = replayed
            .paid_out
            .get(&ledger.index)
            .copied()
            .unwrap_or_default();
        let name = upline::state::label_text(&ledger.name).to_string();
        if ledger.funded != funded {
            push(
                Check::Vault,
                format!(
                    "{name}: ledger says funded {}, events fund {funded}",
                    ledger.funded
                ),
            );
        }
        if ledger.withdrawn != paid {
            push(
                Check::Vault,
                format!(
                    "{name}: ledger says withdrawn {}, events withdraw {paid}",
                    ledger.withdrawn
                ),
            );
        }
        if ledger.vault != Pubkey::default() {
            let held = accounts.vaults.get(&ledger.vault).copied().map(u128::from);
            let want = ledger.funded.checked_sub(ledger.withdrawn);
            if held != want {
                push(
                    Check::Vault,
                    format!(
                        "{name}: vault holds {held:?} base units, funded - withdrawn is {want:?}"
                    ),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Links made one at a time in any order (a member linked after its own
    /// referees, self-links, cycles), counted as they come, always equal a
    /// recount of all of them.
    #[test]
    fn counting_each_link_as_it_comes_equals_the_recount() {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(7, |d| d.as_nanos() as u64)
            | 1;
        let mut state = seed;
        let mut below = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for round in 0..200 {
            let keys: Vec<Pubkey> = (0..2 + round % 12).map(|_| Pubkey::new_unique()).collect();
            let mut links = HashMap::new();
            let mut downline = HashMap::new();
            let mut order: Vec<usize> = (0..keys.len()).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, below(i + 1));
            }
            for member in order {
                if below(4) == 0 {
                    continue; // never linked
                }
                let referrer = keys[below(keys.len())];
                links.insert(keys[member], referrer);
                count_link(&links, &mut downline, &keys[member]);
                let mut want = recount(&links);
                want.retain(|_, c| *c != [0; 3]);
                let mut got = downline.clone();
                got.retain(|_, c| *c != [0; 3]);
                assert_eq!(got, want, "seed {seed}, round {round}");
            }
        }
    }
}
