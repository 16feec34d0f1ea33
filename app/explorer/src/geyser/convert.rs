//! What the follower asks a Yellowstone server for, and what its updates
//! give the index: a transaction's program events (through static keys and
//! lookup-table addresses alike), an account's snapshot row.

use crate::index::Fetched;
use crate::ExplorerError;
use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use std::collections::HashMap;
use upline::state::{Ledger, Member, Network, RewardTables};
use yellowstone_grpc_proto::geyser::{
    CommitmentLevel, SubscribeRequest, SubscribeRequestFilterAccounts,
    SubscribeRequestFilterBlocksMeta, SubscribeRequestFilterSlots,
    SubscribeRequestFilterTransactions, SubscribeUpdateAccount, SubscribeUpdateTransaction,
};

/// What the follower subscribes to: the program's transactions (votes
/// never mention it; failed ones are kept), the accounts it owns and the
/// ledgers' token vaults (owned by a token program), block metas (for block
/// times) and slots; replayed from `from_slot` when given.
pub fn subscription(from_slot: Option<u64>, vaults: &HashMap<Pubkey, Pubkey>) -> SubscribeRequest {
    let program = upline::ID.to_string();
    let transactions = SubscribeRequestFilterTransactions {
        vote: Some(false),
        failed: None,
        account_include: vec![program.clone()],
        ..Default::default()
    };
    let accounts = SubscribeRequestFilterAccounts {
        owner: vec![program],
        ..Default::default()
    };
    let mut watched = HashMap::from([("upline".to_string(), accounts)]);
    if !vaults.is_empty() {
        let mut addresses: Vec<String> = vaults.keys().map(ToString::to_string).collect();
        addresses.sort();
        let vaults = SubscribeRequestFilterAccounts {
            account: addresses,
            ..Default::default()
        };
        watched.insert("vaults".to_string(), vaults);
    }
    SubscribeRequest {
        transactions: HashMap::from([("upline".to_string(), transactions)]),
        accounts: watched,
        blocks_meta: HashMap::from([(
            "times".to_string(),
            SubscribeRequestFilterBlocksMeta::default(),
        )]),
        slots: HashMap::from([("slots".to_string(), SubscribeRequestFilterSlots::default())]),
        commitment: Some(CommitmentLevel::Confirmed.into()),
        from_slot,
        ..Default::default()
    }
}

fn pubkey(bytes: &[u8], what: &str) -> Result<Pubkey, ExplorerError> {
    Pubkey::try_from(bytes).map_err(|_| {
        ExplorerError::Source(format!("{what}: {} bytes, not an address", bytes.len()))
    })
}

/// A transaction update as the index stores it, at `block_time`: the data of
/// the program's inner instructions, the program found among the static keys
/// and then the addresses loaded from lookup tables (as validators number them).
pub fn fetched(
    update: &SubscribeUpdateTransaction,
    block_time: i64,
) -> Result<Fetched, ExplorerError> {
    let info = update.transaction.as_ref().ok_or_else(|| {
        ExplorerError::Source("a transaction update without its transaction".into())
    })?;
    let signature = bs58::encode(&info.signature).into_string();
    let incomplete =
        |what: &str| ExplorerError::Source(format!("{signature}: the update has no {what}"));
    let meta = info
        .meta
        .as_ref()
        .ok_or_else(|| incomplete("status meta"))?;
    let message = info
        .transaction
        .as_ref()
        .and_then(|tx| tx.message.as_ref())
        .ok_or_else(|| incomplete("message"))?;
    let keys = message
        .account_keys
        .iter()
        .chain(&meta.loaded_writable_addresses)
        .chain(&meta.loaded_readonly_addresses)
        .map(|k| pubkey(k, &signature))
        .collect::<Result<Vec<_>, _>>()?;
    let inner_data = meta
        .inner_instructions
        .iter()
        .flat_map(|list| &list.instructions)
        .filter(|i| {
            usize::try_from(i.program_id_index)
                .ok()
                .and_then(|index| keys.get(index))
                == Some(&upline::ID)
        })
        .map(|i| i.data.clone())
        .collect();
    Ok(Fetched {
        signature,
        slot: update.slot,
        block_time,
        failed: meta.err.is_some(),
        inner_data,
    })
}

/// An account update as an `accounts` row: address, kind and network, for
/// the program's Network, Ledger, Member and RewardTables accounts (others,
/// and closed accounts, are not snapshotted).
pub fn account_row(update: &SubscribeUpdateAccount) -> Option<(Pubkey, &'static str, Pubkey)> {
    let info = update.account.as_ref()?;
    if info.owner.as_slice() != upline::ID.as_ref() {
        return None;
    }
    let address = Pubkey::try_from(info.pubkey.as_slice()).ok()?;
    // Each decode checks the account's Anchor discriminator first.
    let data: &[u8] = &info.data;
    if Network::try_deserialize(&mut &*data).is_ok() {
        return Some((address, "network", address));
    }
    if let Ok(ledger) = Ledger::try_deserialize(&mut &*data) {
        return Some((address, "ledger", ledger.network));
    }
    if let Ok(member) = Member::try_deserialize(&mut &*data) {
        return Some((address, "member", member.network));
    }
    let tables = RewardTables::try_deserialize(&mut &*data).ok()?;
    Some((address, "reward_tables", tables.network))
}
