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
use upline_explorer::source::index_sandbox;
use upline_explorer::Store;

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
        states.push(
            world
                .network
                .member_state(&mut world.chain, &m.account)
                .await,
        );
    }
    // Links store member accounts: a referrer reads as its entry's name.
    let entry_names: HashMap<Pubkey, &str> = world
        .members
        .iter()
        .map(|m| (m.account, m.name.as_str()))
        .collect();

    let mut members = Map::new();
    let mut credited = vec![Wad::ZERO; ledger_names.len()];
    let mut withdrawn = vec![Wad::ZERO; ledger_names.len()];
    for (m, state) in world.members.iter().zip(&states) {
        let referrer = state
            .as_ref()
            .filter(|s| s.has_referrer())
            .and_then(|s| entry_names.get(&s.referrer))
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
    for (index, name) in ledger_names.iter().enumerate() {
        let address = world.network.ledgers[index].address;
        let state: Ledger = world.chain.account(&address).await;
        let vault = match world.network.ledgers[index].mint {
            Some(_) => {
                let held = world.chain.token_balance(&state.vault).await;
                Wad::from_base_units(held, state.decimals).unwrap_or_default()
            }
            None => Wad::ZERO,
        };
        ledgers.insert(
            name.clone(),
            json!({"credited": credited[index].to_string(), "withdrawn": withdrawn[index].to_string(), "vault": vault.to_string()}),
        );
    }

    let rejected: Vec<Value> = world
        .rejected
        .iter()
        .map(|r| match r {
            Rejection::Step { step, error } => json!({"step": step, "error": error}),
            Rejection::Member { member, error } => json!({"member": member, "error": error}),
        })
        .collect();
    // Member accounts read as their entries' names, wallets as their names.
    let mut names: Vec<(Pubkey, String)> = entry_names
        .iter()
        .map(|(key, name)| (*key, (*name).to_string()))
        .collect();
    for m in &world.members {
        if !names.iter().any(|(key, _)| *key == m.wallet.pubkey()) {
            names.push((m.wallet.pubkey(), m.wallet_name.clone()));
        }
    }
    let audit = audit(world, &names).await;
    json!({"members": members, "ledgers": ledgers, "rejected": rejected, "audit": audit})
}

/// The explorer's audit of the scenario's chain: its journal indexed into an
/// in-memory index, then audited exactly as `upline explorer audit` does.
/// Member accounts and wallets in the mismatches read as the scenario's names.
async fn audit(world: &mut World, names: &[(Pubkey, String)]) -> Value {
    let verdict = async {
        let store = Store::open(":memory:").await?;
        index_sandbox(&store, &mut world.chain).await?;
        upline_explorer::audit::audit(&store).await
    }
    .await;
    match verdict {
        Ok(verdict) => {
            let mut json = verdict.to_json();
            for mismatch in json["mismatches"].as_array_mut().into_iter().flatten() {
                if let Some(detail) = mismatch["detail"].as_str() {
                    let mut text = detail.to_string();
                    for (key, name) in names {
                        text = text.replace(&key.to_string(), name);
                    }
                    mismatch["detail"] = Value::String(text);
                }
            }
            json
        }
        Err(e) => json!({"verdict": "fail", "error": e.to_string(), "mismatches": [e.to_string()]}),
    }
}
