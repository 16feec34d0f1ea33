//! The gRPC follower's conversion of a transaction update, on the wire
//! shape the sandbox's server sends (and Yellowstone servers send).

use super::{fetched, subscription};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::{Hash, Signature, TransactionError};
use upline_sdk::sandbox::geyser::convert::transaction_update;
use upline_sdk::sandbox::journal::InnerInstruction;
use upline_sdk::sandbox::ledger::{Extras, Loaded};
use upline_sdk::sandbox::Recorded;
use yellowstone_grpc_proto::geyser::SubscribeUpdateTransaction;
use yellowstone_grpc_proto::prost::Message;

/// A v0 transaction whose top-level program is a static key and which loads
/// one writable account and the Upline program from a lookup table; the
/// Upline program emits two events around another program's instruction.
fn with_lookup_table(err: Option<TransactionError>) -> (Recorded, Extras) {
    let payer = Pubkey::new_unique();
    let caller = Pubkey::new_unique();
    let loaded_writable = Pubkey::new_unique();
    let table = AddressLookupTableAccount {
        key: Pubkey::new_unique(),
        addresses: vec![loaded_writable, upline::ID],
    };
    let instruction = Instruction::new_with_bytes(
        caller,
        &[1],
        vec![
            AccountMeta::new(loaded_writable, false),
            AccountMeta::new_readonly(upline::ID, false),
        ],
    );
    let message = v0::Message::try_compile(&payer, &[instruction], &[table], Hash::default())
        .expect("compiles");
    let lookup = &message.address_table_lookups[0];
    assert_eq!(
        (
            lookup.writable_indexes.clone(),
            lookup.readonly_indexes.clone()
        ),
        (vec![0], vec![1]),
        "the program comes from the table"
    );
    assert_eq!(message.account_keys, vec![payer, caller]);
    let transaction = VersionedTransaction {
        signatures: vec![Signature::from([7; 64])],
        message: VersionedMessage::V0(message),
    };
    // Keys as validators number them: static (payer 0, caller 1), then
    // loaded writable (2), then loaded readonly (the program, 3).
    let inner = |program_id_index: u8, data: &[u8]| InnerInstruction {
        program_id_index,
        accounts: vec![2],
        data: data.to_vec(),
        stack_height: Some(2),
    };
    let recorded = Recorded {
        signature: Signature::from([7; 64]).to_string(),
        slot: 41,
        block_time: 1_767_225_600,
        transaction,
        err,
        logs: vec!["Program log: hello".into()],
        inner_instructions: vec![(
            0,
            vec![
                inner(3, b"first event"),
                inner(1, b"not the program"),
                inner(3, b"second event"),
            ],
        )],
        units_consumed: 1_000,
    };
    let extras = Extras {
        loaded: Loaded {
            writable: vec![loaded_writable],
            readonly: vec![upline::ID],
        },
        ..Extras::default()
    };
    (recorded, extras)
}

/// The update as it crosses the wire: encoded and decoded with the protocol's types.
fn over_the_wire(recorded: &Recorded, extras: &Extras) -> SubscribeUpdateTransaction {
    let update = transaction_update(recorded, Some(extras), 0);
    SubscribeUpdateTransaction::decode(update.encode_to_vec().as_slice()).expect("decodes")
}

#[test]
fn a_lookup_table_transaction_gives_the_program_inner_instructions_through_loaded_addresses() {
    let (recorded, extras) = with_lookup_table(None);
    let update = over_the_wire(&recorded, &extras);
    let meta = update
        .transaction
        .as_ref()
        .and_then(|t| t.meta.as_ref())
        .expect("meta");
    assert_eq!(
        meta.loaded_readonly_addresses,
        vec![upline::ID.to_bytes().to_vec()]
    );
    let tx = fetched(&update, 1_767_225_600).expect("converts");
    assert_eq!(tx.signature, recorded.signature);
    assert_eq!(
        (tx.slot, tx.block_time, tx.failed),
        (41, 1_767_225_600, false)
    );
    assert_eq!(
        tx.inner_data,
        vec![b"first event".to_vec(), b"second event".to_vec()]
    );
}

#[test]
fn a_failed_transaction_is_marked_failed() {
    let err =
        TransactionError::InstructionError(0, solana_transaction::InstructionError::Custom(6_000));
    let (recorded, extras) = with_lookup_table(Some(err.clone()));
    let update = over_the_wire(&recorded, &extras);
    let meta = update
        .transaction
        .as_ref()
        .and_then(|t| t.meta.as_ref())
        .expect("meta");
    let sent: TransactionError =
        bincode::deserialize(&meta.err.as_ref().expect("an error").err).expect("bincode");
    assert_eq!(
        sent, err,
        "the error is the runtime's, as the plugin sends it"
    );
    assert!(fetched(&update, 0).expect("converts").failed);
}

#[test]
fn an_update_without_its_meta_is_refused() {
    let (recorded, extras) = with_lookup_table(None);
    let mut update = over_the_wire(&recorded, &extras);
    if let Some(info) = update.transaction.as_mut() {
        info.meta = None;
    }
    let error = fetched(&update, 0).expect_err("no meta");
    assert_eq!(
        error,
        crate::ExplorerError::Source(format!(
            "{}: the update has no status meta",
            recorded.signature
        ))
    );
}

#[test]
fn the_subscription_asks_for_the_program_failed_transactions_included() {
    let request = subscription(Some(12), &std::collections::HashMap::new());
    let filter = &request.transactions["upline"];
    assert_eq!(filter.account_include, vec![upline::ID.to_string()]);
    assert_eq!((filter.vote, filter.failed), (Some(false), None));
    assert_eq!(
        request.accounts["upline"].owner,
        vec![upline::ID.to_string()]
    );
    assert_eq!(request.from_slot, Some(12));
    assert!(request.blocks_meta.contains_key("times"));
    assert!(!request.accounts.contains_key("vaults"), "no vaults known");
    let vault = Pubkey::new_unique();
    let request = subscription(
        None,
        &std::collections::HashMap::from([(vault, upline::ID)]),
    );
    assert_eq!(request.accounts["vaults"].account, vec![vault.to_string()]);
    assert_eq!(request.from_slot, None);
}
