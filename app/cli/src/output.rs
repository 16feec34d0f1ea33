//! The result of a scenario, as DESIGN.md §8 prints it, and its audit.
//!
//! Values are exact decimal strings in whole units, trailing zeros trimmed.
//! Step indices in `rejected` are 0-based positions in the `steps` array.

use crate::world::{Rejection, World};
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Map, Value};
use solana_signer::Signer;
use std::collections::HashMap;
use upline::math::Wad;
use upline::state::{Ledger, Member};
use upline_sdk::events::UplineEvent;
use upline_sdk::graph::recount_downline;

/// Per-ledger credits the events report: what the explorer would re-add.
fn credits_from_events(events: &[UplineEvent], ledgers: usize) -> Vec<u128> {
    let mut credited = vec![0u128; ledgers];
    let mut add = |ledger: u8, amount: Wad| {
        if let Some(total) = credited.get_mut(usize::from(ledger)) {
            *total = total.saturating_add(amount.0);
        }
    };
    for event in events {
        match event {
            UplineEvent::DirectBonusCredited(e) => add(e.ledger_index, e.amount),
            UplineEvent::ComputeReported(e) => {
                add(e.ledger_index, e.reward);
                e.commissions
                    .iter()
                    .for_each(|c| add(e.ledger_index, c.amount));
            }
            UplineEvent::UsageReported(e) => {
                add(e.ledger_index, e.points);
                e.commissions
                    .iter()
                    .for_each(|c| add(e.ledger_index, c.amount));
            }
            UplineEvent::RentalReported(e) => {
                e.renter_commission
                    .iter()
                    .chain(e.host_commission.iter())
                    .for_each(|c| add(e.ledger_index, c.amount));
            }
            UplineEvent::BandwidthReported(e) => {
                add(e.ledger_index, e.node_reward);
                e.referral
                    .iter()
                    .for_each(|c| add(e.ledger_index, c.amount));
            }
            _ => {}
        }
    }
    credited
}

/// Build the §8 output object.
pub async fn result(world: &mut World) -> Value {
    let ledger_names: Vec<String> = world
        .network
        .ledgers
        .iter()
        .map(|l| l.name.clone())
        .collect();
    let mut states: Vec<Option<Member>> = Vec::new();
    for m in &world.members {
        let key = m.wallet.pubkey();
        states.push(world.network.member_state(&mut world.chain, &key).await);
    }
    let wallet_names: HashMap<Pubkey, &str> = world
        .members
        .iter()
        .map(|m| (m.wallet.pubkey(), m.name.as_str()))
        .collect();

    let mut members = Map::new();
    let mut credited = vec![Wad::ZERO; ledger_names.len()];
    let mut withdrawn = vec![Wad::ZERO; ledger_names.len()];
    for (m, state) in world.members.iter().zip(&states) {
        let referrer = state
            .as_ref()
            .filter(|s| s.has_referrer())
            .and_then(|s| wallet_names.get(&s.referrer))
            .map_or(Value::Null, |n| Value::String((*n).to_string()));
        let downline = state.as_ref().map_or([0; 3], |s| s.downline);
        let mut ledgers = Map::new();
        for (index, name) in ledger_names.iter().enumerate() {
            let slot = state
                .as_ref()
                .and_then(|s| s.ledgers.get(index))
                .copied()
                .unwrap_or_default();
            let balance = slot.balance().unwrap_or_default();
            credited[index] = credited[index]
                .checked_add(slot.credited().unwrap_or_default())
                .unwrap_or(Wad(u128::MAX));
            withdrawn[index] = withdrawn[index]
                .checked_add(slot.withdrawn)
                .unwrap_or(Wad(u128::MAX));
            ledgers.insert(
                name.clone(),
                json!({
                    "balance": balance.to_string(),
                    "withdrawn": slot.withdrawn.to_string(),
                    "own": slot.own.to_string(),
                    "level1": slot.level1.to_string(),
                    "level2": slot.level2.to_string(),
                    "level3": slot.level3.to_string(),
                    "bonus": slot.bonus.to_string(),
                }),
            );
        }
        members.insert(
            m.name.clone(),
            json!({"referrer": referrer, "downline": downline, "ledgers": ledgers}),
        );
    }

    let mut ledgers = Map::new();
    let mut mismatches: Vec<String> = Vec::new();
    let from_events = credits_from_events(&world.events, ledger_names.len());
    for (index, name) in ledger_names.iter().enumerate() {
        let address = world.network.ledgers[index].address;
        let state: Ledger = world.chain.account(&address).await;
        let vault = match world.network.ledgers[index].mint {
            Some(_) => {
                let held = world.chain.token_balance(&state.vault).await;
                if held != state.funded - state.withdrawn {
                    mismatches.push(format!(
                        "{name}: vault holds {held} base units, funded - withdrawn is {}",
                        state.funded - state.withdrawn
                    ));
                }
                Wad::from_base_units(held, state.decimals).unwrap_or_default()
            }
            None => Wad::ZERO,
        };
        if from_events[index] != credited[index].0 {
            mismatches.push(format!(
                "{name}: events credit {}, balances + withdrawals hold {}",
                Wad(from_events[index]),
                credited[index]
            ));
        }
        let paid = Wad::from_base_units(state.withdrawn, state.decimals).unwrap_or_default();
        if paid != withdrawn[index] {
            mismatches.push(format!(
                "{name}: the ledger paid {paid}, members withdrew {}",
                withdrawn[index]
            ));
        }
        ledgers.insert(
            name.clone(),
            json!({"credited": credited[index].to_string(), "withdrawn": withdrawn[index].to_string(), "vault": vault.to_string()}),
        );
    }

    // Downline counts against a recount of the stored links.
    match recount_downline(states.iter().flatten()) {
        Ok(counted) => {
            for state in states.iter().flatten() {
                let recount = counted.get(&state.wallet).copied().unwrap_or_default();
                if recount != state.downline {
                    let name = wallet_names.get(&state.wallet).copied().unwrap_or("?");
                    mismatches.push(format!(
                        "{name}: downline {:?}, recount {recount:?}",
                        state.downline
                    ));
                }
            }
        }
        Err(broken) => mismatches.push(format!("referral graph: {broken}")),
    }

    let rejected: Vec<Value> = world
        .rejected
        .iter()
        .map(|r| match r {
            Rejection::Step { step, error } => json!({"step": step, "error": error}),
            Rejection::Member { member, error } => json!({"member": member, "error": error}),
        })
        .collect();
    let audit = json!({
        "verdict": if mismatches.is_empty() { "pass" } else { "fail" },
        "checks": ["credits in events = balances + withdrawals", "vault = funded - withdrawn", "ledger withdrawals = members' withdrawals", "downline = recount of the graph"],
        "events": world.events.len(),
        "mismatches": mismatches,
    });
    json!({"members": members, "ledgers": ledgers, "rejected": rejected, "audit": audit})
}
