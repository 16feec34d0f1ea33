//! The Solana client library's own `RpcClient` against the sandbox's JSON-RPC
//! endpoint: program accounts found by filters, a refused transaction on the
//! ledger with the program's error, simulation (the client library parses
//! every answer with the validator's own types, so a wrong shape fails here).
#![allow(deprecated)]

mod rpc_support;

use anchor_lang::prelude::Pubkey;
use rpc_support::{network, refused_code, serve};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_rpc_client_api::client_error::ErrorKind;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
    RpcSimulateTransactionConfig, RpcTransactionConfig,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_rpc_client_api::request::{RpcError, RpcRequest};
use solana_signer::Signer;
use solana_transaction::{InstructionError, Transaction, TransactionError};
use solana_transaction_status_client_types::option_serializer::OptionSerializer;
use solana_transaction_status_client_types::{
    EncodedTransaction, TransactionConfirmationStatus, UiMessage, UiTransactionEncoding,
};
use upline::errors::UplineError;
use upline_sdk::{ix, pda};

/// The error code a custom program error carries on the wire.
fn custom(error: UplineError) -> u32 {
    u32::from(error)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn program_accounts_are_found_by_size_and_memcmp() {
    let served = serve().await;
    let net = network(&served, "gpa", 3).await;
    let other = network(&served, "gpa-other", 1).await;
    let client = &served.client;
    let member = pda::member(&net.key, &net.wallets[1].pubkey(), 0);
    let size = client.get_account(&member).await.unwrap().data.len() as u64;

    let query = |filters: Vec<RpcFilterType>, with_context: bool| RpcProgramAccountsConfig {
        filters: Some(filters),
        account_config: RpcAccountInfoConfig {
            encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
            ..RpcAccountInfoConfig::default()
        },
        with_context: Some(with_context),
        sort_results: None,
    };
    // Member: 8-byte discriminator, then its network (offset 8) and wallet (offset 40).
    let of_network = RpcFilterType::Memcmp(Memcmp::new_base58_encoded(8, net.key.as_ref()));
    let mut members = client
        .get_program_accounts_with_config(
            &upline::ID,
            query(
                vec![RpcFilterType::DataSize(size), of_network.clone()],
                false,
            ),
        )
        .await
        .expect("getProgramAccounts");
    members.sort_by_key(|(k, _)| *k);
    let mut expected: Vec<Pubkey> = net
        .wallets
        .iter()
        .map(|w| pda::member(&net.key, &w.pubkey(), 0))
        .collect();
    expected.sort();
    let found: Vec<Pubkey> = members.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        found, expected,
        "the network's three members, not the other's"
    );
    assert!(members.iter().all(|(_, a)| a.owner == upline::ID));

    let of_wallet = RpcFilterType::Memcmp(Memcmp::new_base58_encoded(
        40,
        net.wallets[1].pubkey().as_ref(),
    ));
    let one = client
        .get_program_accounts_with_config(&upline::ID, query(vec![of_network, of_wallet], true))
        .await
        .expect("withContext");
    assert_eq!(one.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [member]);
    let wrong_size = client
        .get_program_accounts_with_config(
            &upline::ID,
            query(vec![RpcFilterType::DataSize(size + 1)], false),
        )
        .await
        .unwrap();
    assert!(
        wrong_size.is_empty(),
        "{} accounts of size {}",
        wrong_size.len(),
        size + 1
    );
    let everything = client.get_program_accounts(&upline::ID).await.unwrap();
    let other_member = pda::member(&other.key, &other.wallets[0].pubkey(), 0);
    assert!(everything.iter().any(|(k, _)| *k == other_member));
    assert!(everything.iter().any(|(k, _)| *k == net.key));
    println!(
        "getProgramAccounts: {} program accounts, {} members of one network, member size {size}",
        everything.len(),
        members.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_transaction_is_on_the_ledger_with_the_programs_error() {
    let served = serve().await;
    let net = network(&served, "refused", 0).await;
    let client = &served.client;
    let stranger = served.wallet(1_000_000_000).await;
    let add_oracle = ix::add_oracle(
        &stranger.pubkey(),
        &stranger.pubkey(),
        &net.key,
        &stranger.pubkey(),
    );
    let tx = served.signed(&[add_oracle], &[&stranger]).await;

    // Preflight refuses it with the simulation's logs.
    let refused = client.send_transaction(&tx).await.expect_err("preflight");
    let ErrorKind::RpcError(RpcError::RpcResponseError { code, data, .. }) = refused.kind() else {
        panic!("{refused:?}");
    };
    assert_eq!(*code, -32002, "{refused:?}");
    let expected = TransactionError::InstructionError(
        0,
        InstructionError::Custom(custom(UplineError::NotAdmin)),
    );
    let solana_rpc_client_api::request::RpcResponseErrorData::SendTransactionPreflightFailure(sim) =
        data
    else {
        panic!("{data:?}");
    };
    assert_eq!(
        sim.err.clone().map(TransactionError::from),
        Some(expected.clone())
    );
    assert!(sim.logs.as_ref().is_some_and(|l| !l.is_empty()), "{sim:?}");

    // Sent without preflight it runs, fails, and is recorded with the error.
    let config = RpcSendTransactionConfig {
        skip_preflight: true,
        ..Default::default()
    };
    let signature = client
        .send_transaction_with_config(&tx, config)
        .await
        .unwrap();
    let status = client
        .get_signature_statuses(&[signature])
        .await
        .unwrap()
        .value;
    let status = status[0].clone().expect("a status");
    assert_eq!(status.err, Some(expected.clone()));
    assert_eq!(
        status.confirmation_status,
        Some(TransactionConfirmationStatus::Finalized)
    );
    assert_eq!(status.confirmations, None, "rooted");

    let fetched = client
        .get_transaction_with_config(
            &signature,
            RpcTransactionConfig {
                encoding: Some(UiTransactionEncoding::Json),
                commitment: None,
                max_supported_transaction_version: Some(0),
            },
        )
        .await
        .expect("getTransaction json");
    let meta = fetched.transaction.meta.clone().expect("meta");
    assert_eq!(meta.err.clone().map(TransactionError::from), Some(expected));
    let OptionSerializer::Some(logs) = &meta.log_messages else {
        panic!("{meta:?}")
    };
    assert!(
        logs.iter().any(|l| l.contains(&upline::ID.to_string())),
        "{logs:?}"
    );
    assert!(matches!(meta.compute_units_consumed, OptionSerializer::Some(u) if u > 0));
    assert!(matches!(&meta.loaded_addresses, OptionSerializer::Some(l) if l.writable.is_empty()));
    assert_eq!(meta.pre_balances.len(), meta.post_balances.len());
    assert_eq!(
        meta.pre_balances[0] - meta.post_balances[0],
        meta.fee,
        "the payer paid the fee"
    );
    let EncodedTransaction::Json(ui) = &fetched.transaction.transaction else {
        panic!()
    };
    let UiMessage::Raw(message) = &ui.message else {
        panic!("{ui:?}")
    };
    assert_eq!(message.account_keys[0], stranger.pubkey().to_string());
    assert_eq!(ui.signatures[0], signature.to_string());

    // The other encodings of the same transaction.
    for encoding in [UiTransactionEncoding::Base64, UiTransactionEncoding::Base58] {
        let config = RpcTransactionConfig {
            encoding: Some(encoding),
            commitment: None,
            max_supported_transaction_version: Some(0),
        };
        let fetched = client
            .get_transaction_with_config(&signature, config)
            .await
            .unwrap();
        let decoded = fetched.transaction.transaction.decode().expect("decodes");
        assert_eq!(decoded.signatures[0], signature, "{encoding:?}");
    }
    let parsed: Value = client
        .send(RpcRequest::GetTransaction, json!([signature.to_string(), {"encoding": "jsonParsed", "maxSupportedTransactionVersion": 0}]))
        .await
        .unwrap();
    let key = &parsed["transaction"]["message"]["accountKeys"][0];
    assert_eq!(key["pubkey"], stranger.pubkey().to_string(), "{parsed}");
    assert_eq!(
        (key["signer"].clone(), key["writable"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(
        parsed["transaction"]["message"]["instructions"][0]["programId"],
        upline::ID.to_string()
    );

    let history = client
        .get_signatures_for_address(&stranger.pubkey())
        .await
        .unwrap();
    assert_eq!(history[0].signature, signature.to_string());
    assert!(history[0].err.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulation_gives_logs_units_and_a_replacement_blockhash() {
    let served = serve().await;
    let net = network(&served, "simulate", 0).await;
    let client = &served.client;
    let wallet = Keypair::new();
    let join = ix::join(&wallet.pubkey(), &net.admin.pubkey(), &net.key, 0, &[]);
    let tx = served
        .signed(std::slice::from_ref(&join), &[&net.admin, &wallet])
        .await;
    let result = client.simulate_transaction(&tx).await.unwrap().value;
    assert_eq!(result.err, None, "{result:?}");
    assert!(result.units_consumed.is_some_and(|u| u > 0), "{result:?}");
    assert!(result.logs.unwrap().iter().any(|l| l.contains("success")));
    assert_eq!(result.inner_instructions, None, "only when asked for");
    let config = RpcSimulateTransactionConfig {
        inner_instructions: true,
        ..Default::default()
    };
    let with_inner = client
        .simulate_transaction_with_config(&tx, config)
        .await
        .unwrap()
        .value;
    let inner = with_inner.inner_instructions.clone().expect("asked for");
    assert!(
        !inner.is_empty(),
        "join emits its event through a self-CPI: {with_inner:?}"
    );
    assert!(
        client
            .get_account(&pda::member(&net.key, &wallet.pubkey(), 0))
            .await
            .is_err(),
        "simulation changed nothing"
    );

    // A stale blockhash is replaced on request; sigVerify catches a bad signature.
    let mut stale = Transaction::new_with_payer(&[join], Some(&net.admin.pubkey()));
    stale.message.recent_blockhash = solana_transaction::Hash::new_from_array([7; 32]);
    let replaced = client
        .simulate_transaction_with_config(
            &stale,
            RpcSimulateTransactionConfig {
                replace_recent_blockhash: true,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .value;
    assert_eq!(replaced.err, None, "{replaced:?}");
    assert!(replaced.replacement_blockhash.is_some());
    let unsigned = client
        .simulate_transaction_with_config(
            &stale,
            RpcSimulateTransactionConfig {
                sig_verify: true,
                ..Default::default()
            },
        )
        .await
        .expect_err("not signed");
    assert!(
        matches!(refused_code(&unsigned), Some(-32003)),
        "{unsigned:?}"
    );
}
