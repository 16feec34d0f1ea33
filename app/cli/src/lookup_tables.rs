//! The oracle's address lookup tables for `oracle submit`: the accounts its
//! reports name (the network's shared accounts and the members it reports
//! on), created and extended as needed, remembered per network in
//! `~/.config/upline/lookup-tables.json` and re-used by later runs.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_message::AddressLookupTableAccount;
use solana_signer::Signer;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use upline_sdk::client::{Cluster, TxFailure};
use upline_sdk::lookup;
use upline_sdk::rpc::{failure, RpcCluster};

/// Addresses added per extending transaction.
const PER_EXTEND: usize = 20;

/// Where the tables are remembered.
pub fn state_path() -> PathBuf {
    let home = std::env::var_os("HOME").unwrap_or_default();
    PathBuf::from(home).join(".config/upline/lookup-tables.json")
}

fn load(path: &Path) -> BTreeMap<String, Vec<String>> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn save(path: &Path, state: &BTreeMap<String, Vec<String>>) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(state).map_err(|e| e.to_string())?;
    // Written aside and renamed: a concurrent run reads the old file or the new one.
    let aside = path.with_extension(format!("json.{}", std::process::id()));
    std::fs::write(&aside, text).map_err(|e| format!("{}: {e}", aside.display()))?;
    std::fs::rename(&aside, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The accounts of `instructions` a table can hold: all but signers.
pub fn lookupable(instructions: &[Instruction]) -> Vec<Pubkey> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let programs: HashSet<Pubkey> = instructions.iter().map(|i| i.program_id).collect();
    for ix in instructions {
        for meta in &ix.accounts {
            if !meta.is_signer && !programs.contains(&meta.pubkey) && seen.insert(meta.pubkey) {
                out.push(meta.pubkey);
            }
        }
    }
    out
}

/// A table the oracle may extend: its authority is the oracle and it has room.
fn extendable(data: &[u8], authority: &Pubkey, len: usize) -> bool {
    // meta: authority option tag at 21, the key at 22..54.
    data.get(21) == Some(&1)
        && data.get(22..54) == Some(authority.as_ref())
        && len < lookup::MAX_ADDRESSES
}

/// The tables that hold `needed` for `oracle` on `network`: the remembered
/// ones, extended, and new ones where they are full. `note` hears what was
/// done. Waits for a slot after the last extension before returning.
pub async fn tables_for(
    cluster: &mut RpcCluster,
    oracle: &Keypair,
    network: &Pubkey,
    needed: &[Pubkey],
    note: &mut (dyn FnMut(String) + Send),
) -> Result<Vec<AddressLookupTableAccount>, TxFailure> {
    let state = state_path();
    tables_remembered_in(&state, cluster, (oracle, network), needed, note).await
}

/// [`tables_for`], remembering the tables in the file `state` (a benchmark
/// keeps its throw-away networks' tables out of the oracle's own file).
pub async fn tables_remembered_in(
    state_path: &Path,
    cluster: &mut RpcCluster,
    (oracle, network): (&Keypair, &Pubkey),
    needed: &[Pubkey],
    note: &mut (dyn FnMut(String) + Send),
) -> Result<Vec<AddressLookupTableAccount>, TxFailure> {
    let mut state = load(state_path);
    let listed: Vec<Pubkey> = state
        .get(&network.to_string())
        .into_iter()
        .flatten()
        .filter_map(|k| Pubkey::from_str(k).ok())
        .collect();
    let accounts = cluster.accounts(&listed).await?;
    // (table, addresses, extendable)
    let mut tables: Vec<(Pubkey, Vec<Pubkey>, bool)> = Vec::new();
    for (key, account) in listed.into_iter().zip(accounts) {
        let Some(account) = account.filter(|a| a.owner == lookup::PROGRAM_ID) else {
            continue;
        };
        let Some(addresses) = lookup::addresses(&account.data) else {
            continue;
        };
        let mine = extendable(&account.data, &oracle.pubkey(), addresses.len());
        tables.push((key, addresses, mine));
    }
    let held: HashSet<Pubkey> = tables.iter().flat_map(|t| t.1.iter().copied()).collect();
    let mut missing: Vec<Pubkey> = needed
        .iter()
        .filter(|k| !held.contains(k))
        .copied()
        .collect();
    if tables.iter().any(|t| !t.1.is_empty()) {
        note(format!(
            "lookup tables: re-using {} ({} addresses)",
            tables.len(),
            held.len()
        ));
    }
    let mut extended = false;
    while !missing.is_empty() {
        let open = tables
            .iter()
            .position(|t| t.2 && t.1.len() < lookup::MAX_ADDRESSES);
        let (index, mut instructions) = match open {
            Some(i) => (i, Vec::new()),
            None => {
                let hashes = cluster
                    .account(&lookup::SLOT_HASHES)
                    .await?
                    .ok_or_else(|| {
                        TxFailure::Other("the cluster has no SlotHashes sysvar".into())
                    })?;
                let slot = lookup::recent_slot(&hashes.data)
                    .ok_or_else(|| TxFailure::Other("SlotHashes is empty".into()))?;
                let (create, table) = lookup::create(&oracle.pubkey(), &oracle.pubkey(), slot);
                note(format!("lookup table {table}: created"));
                tables.push((table, Vec::new(), true));
                (tables.len() - 1, vec![create])
            }
        };
        let room = lookup::MAX_ADDRESSES - tables[index].1.len();
        let take = missing.len().min(room).min(PER_EXTEND);
        let chunk: Vec<Pubkey> = missing.drain(..take).collect();
        let table = tables[index].0;
        instructions.push(lookup::extend(
            &table,
            &oracle.pubkey(),
            &oracle.pubkey(),
            &chunk,
        ));
        cluster.send(&instructions, &[oracle]).await?;
        tables[index].1.extend(chunk);
        tables[index].2 = tables[index].1.len() < lookup::MAX_ADDRESSES;
        extended = true;
        // Remembered after every extension: a run that stops later (a lost
        // transaction, a stopped node) keeps what it built.
        let keys: Vec<String> = tables.iter().map(|t| t.0.to_string()).collect();
        state.insert(network.to_string(), keys);
        save(state_path, &state).map_err(TxFailure::Other)?;
    }
    if extended {
        for (key, addresses, _) in &tables {
            note(format!("lookup table {key}: {} addresses", addresses.len()));
        }
        // A table is usable from the slot after its last extension.
        let extended_at = cluster.client().get_slot().await.map_err(failure)?;
        loop {
            cluster
                .client()
                .get_latest_blockhash()
                .await
                .map_err(failure)?;
            if cluster.client().get_slot().await.map_err(failure)? > extended_at {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        cluster.fresh_blockhash();
    }
    Ok(tables
        .into_iter()
        .map(|(key, addresses, _)| AddressLookupTableAccount { key, addresses })
        .collect())
}
