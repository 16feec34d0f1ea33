//! The snapshot side of the audit: member, ledger and vault accounts as the
//! cluster holds them, against what the replayed events add up to.

use super::replay::Replayed;
use super::{Check, Mismatch};
use crate::index::Snapshot;
use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use std::collections::HashMap;
use upline::state::{Ledger, Member};

/// An SPL Token (or Token-2022) account's amount: bytes 64..72.
fn token_amount(data: &[u8]) -> Option<u64> {
    data.get(64..72)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
}

pub fn check(
    network: &Pubkey,
    replayed: &Replayed,
    accounts: &[&Snapshot],
    out: &mut Vec<Mismatch>,
) {
    let mut push = |check: Check, detail: String| {
        out.push(Mismatch {
            check,
            signature: None,
            detail,
        })
    };
    let decode_failed =
        |address: &Pubkey, kind: &str| format!("{kind} {address}: the snapshot does not decode");
    let mut members: HashMap<Pubkey, Member> = HashMap::new();
    let mut ledgers: Vec<Ledger> = Vec::new();
    let mut vaults: HashMap<Pubkey, u64> = HashMap::new();
    for snapshot in accounts {
        match snapshot.kind.as_str() {
            "member" => match Member::try_deserialize(&mut snapshot.data.as_slice()) {
                Ok(m) => {
                    members.insert(snapshot.address, m);
                }
                Err(_) => push(Check::Balances, decode_failed(&snapshot.address, "member")),
            },
            "ledger" => match Ledger::try_deserialize(&mut snapshot.data.as_slice()) {
                Ok(l) => ledgers.push(l),
                Err(_) => push(Check::Vault, decode_failed(&snapshot.address, "ledger")),
            },
            "vault" => match token_amount(&snapshot.data) {
                Some(amount) => {
                    vaults.insert(snapshot.address, amount);
                }
                None => push(Check::Vault, decode_failed(&snapshot.address, "vault")),
            },
            _ => {}
        }
    }

    // Downline: a recount of the links, each link counted up its three levels.
    let mut recounts: HashMap<Pubkey, [u32; 3]> = HashMap::new();
    for start in replayed.links.keys() {
        let mut at = *start;
        for level in 0..3 {
            let Some(up) = replayed.links.get(&at) else {
                break;
            };
            recounts.entry(*up).or_default()[level] += 1;
            at = *up;
        }
    }

    // Per member and ledger: each source's total, and what was withdrawn.
    for address in &replayed.members {
        let Some(member) = members.get(address) else {
            push(
                Check::Balances,
                format!("member {address} of {network} has no snapshot"),
            );
            continue;
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
        let recount = recounts.get(address).copied().unwrap_or_default();
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
    }

    // Per ledger: the program's own totals, and the vault.
    for ledger in &ledgers {
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
            let held = vaults.get(&ledger.vault).copied().map(u128::from);
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
}
