//! The sandbox's PubSub WebSocket with the Solana client library's own
//! `PubsubClient`, lookup-table transactions in the history, and the fault
//! injection `upline sandbox --drop-every N` offers to tests of retry logic.
#![allow(deprecated)]

mod rpc_support;

use anchor_lang::prelude::Pubkey;
use futures_util::StreamExt;
use rpc_support::{network, serve, serve_chain};
use solana_keypair::Keypair;
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
    RpcSignatureSubscribeConfig, RpcTransactionConfig, RpcTransactionLogsConfig,
    RpcTransactionLogsFilter,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_rpc_client_api::response::RpcSignatureResult;
use solana_signer::Signer;
use solana_system_interface::instruction::transfer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::{InstructionError, TransactionError};
use solana_transaction_status_client_types::option_serializer::OptionSerializer;
use std::time::Duration;
use upline::errors::UplineError;
use upline_sdk::sandbox::server::Faults;
use upline_sdk::{ix, lookup, pda};
use upline_tests::Chain;

/// A liveness guard: a notification that never comes fails the test
/// instead of hanging it (the sandbox answers in milliseconds).
async fn next<T>(stream: &mut (impl futures_util::Stream<Item = T> + Unpin), what: &str) -> T {
    tokio::time::timeout(Duration::from_secs(30), stream.next())
        .await
        .unwrap_or_else(|_| panic!("no {what} notification"))
        .unwrap_or_else(|| panic!("the {what} stream ended"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_hear_of_signatures_accounts_logs_programs_and_slots() {
    let served = serve().await;
    let net = network(&served, "pubsub", 0).await;
    let pubsub = PubsubClient::new(served.ws.as_str())
        .await
        .expect("connects");
    let wallet = Keypair::new();
    let member = pda::member(&net.key, &wallet.pubkey(), 0);
    let join = ix::join(&wallet.pubkey(), &net.admin.pubkey(), &net.key, 0, &[]);
    let tx = served.signed(&[join], &[&net.admin, &wallet]).await;
    let signature = tx.signatures[0];

    let (mut signatures, _) = pubsub
        .signature_subscribe(&signature, Some(RpcSignatureSubscribeConfig::default()))
        .await
        .unwrap();
    let (mut accounts, _) = pubsub.account_subscribe(&member, None).await.unwrap();
    let (mut logs, _) = pubsub
        .logs_subscribe(
            RpcTransactionLogsFilter::Mentions(vec![net.key.to_string()]),
            RpcTransactionLogsConfig { commitment: None },
        )
        .await
        .unwrap();
    let of_network = RpcFilterType::Memcmp(Memcmp::new_base58_encoded(8, net.key.as_ref()));
    let (mut programs, _) = pubsub
        .program_subscribe(
            &upline::ID,
            Some(RpcProgramAccountsConfig {
                filters: Some(vec![of_network]),
                account_config: RpcAccountInfoConfig::default(),
                with_context: None,
                sort_results: None,
            }),
        )
        .await
        .unwrap();
    let (mut slots, unsubscribe_slots) = pubsub.slot_subscribe().await.unwrap();

    served.client.send_transaction(&tx).await.expect("sent");
    let notified = next(&mut signatures, "signature").await;
    assert!(
        matches!(notified.value, RpcSignatureResult::ProcessedSignature(ref r) if r.err.is_none()),
        "{notified:?}"
    );
    let account = next(&mut accounts, "account").await;
    assert_eq!(account.value.owner, upline::ID.to_string());
    assert!(account.value.lamports > 0);
    let logged = next(&mut logs, "logs").await;
    assert_eq!(logged.value.signature, signature.to_string());
    assert!(!logged.value.logs.is_empty() && logged.value.err.is_none());
    let program = next(&mut programs, "program").await;
    assert_eq!(
        program.value.pubkey,
        member.to_string(),
        "only the network's accounts"
    );
    // A refused transaction (no preflight): its error, by the program's code.
    let stranger = served.wallet(1_000_000_000).await;
    let bad = ix::add_oracle(
        &stranger.pubkey(),
        &stranger.pubkey(),
        &net.key,
        &stranger.pubkey(),
    );
    let tx = served.signed(&[bad], &[&stranger]).await;
    let (mut refused, _) = pubsub
        .signature_subscribe(&tx.signatures[0], None)
        .await
        .unwrap();
    let config = RpcSendTransactionConfig {
        skip_preflight: true,
        ..Default::default()
    };
    served
        .client
        .send_transaction_with_config(&tx, config)
        .await
        .unwrap();
    let notified = next(&mut refused, "refused signature").await;
    let expected = TransactionError::InstructionError(
        0,
        InstructionError::Custom(u32::from(UplineError::NotAdmin)),
    );
    let RpcSignatureResult::ProcessedSignature(result) = notified.value else {
        panic!()
    };
    assert_eq!(result.err.map(TransactionError::from), Some(expected));

    // The faucet and the blockhashes moved the slot on.
    let slot = next(&mut slots, "slot").await;
    assert!(slot.slot > 0 && slot.parent < slot.slot, "{slot:?}");
    unsubscribe_slots().await;

    // Subscribing after the fact: told at once.
    let (mut late, _) = pubsub.signature_subscribe(&signature, None).await.unwrap();
    next(&mut late, "already recorded signature").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_reached_through_a_lookup_table_have_the_transaction_in_their_history() {
    let mut chain = Chain::start().await;
    let payer = chain.payer();
    let hashes = chain.data(&lookup::SLOT_HASHES).await.expect("SlotHashes");
    let recent = lookup::recent_slot(&hashes).expect("a recent slot");
    let (create, table) = lookup::create(&payer.pubkey(), &payer.pubkey(), recent);
    let hidden = Pubkey::new_unique();
    let extend = lookup::extend(&table, &payer.pubkey(), &payer.pubkey(), &[hidden]);
    chain
        .send_quiet(&[create, extend], &[])
        .await
        .expect("the table");
    let now = chain.now;
    chain.warp_to(now).await;
    let served = serve_chain(chain, Faults::default()).await;
    let client = &served.client;

    let sender = served.wallet(1_000_000_000).await;
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let message = v0::Message::try_compile(
        &sender.pubkey(),
        &[transfer(&sender.pubkey(), &hidden, 5_000_000)],
        &[AddressLookupTableAccount {
            key: table,
            addresses: vec![hidden],
        }],
        blockhash,
    )
    .unwrap();
    assert!(
        !message.account_keys.contains(&hidden),
        "named only through the table"
    );
    let tx = VersionedTransaction::try_new(VersionedMessage::V0(message), &[&sender]).unwrap();
    let signature = client
        .send_and_confirm_transaction(&tx)
        .await
        .expect("lands");
    assert_eq!(client.get_balance(&hidden).await.unwrap(), 5_000_000);

    let history = client.get_signatures_for_address(&hidden).await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|s| s.signature.clone())
            .collect::<Vec<_>>(),
        [signature.to_string()]
    );
    let without_version = client
        .get_transaction_with_config(&signature, RpcTransactionConfig::default())
        .await
        .expect_err("v0 needs maxSupportedTransactionVersion");
    assert!(
        without_version
            .to_string()
            .contains("maxSupportedTransactionVersion"),
        "{without_version}"
    );
    let config = RpcTransactionConfig {
        max_supported_transaction_version: Some(0),
        ..Default::default()
    };
    let fetched = client
        .get_transaction_with_config(&signature, config)
        .await
        .unwrap();
    let meta = fetched.transaction.meta.expect("meta");
    let OptionSerializer::Some(loaded) = meta.loaded_addresses else {
        panic!("{meta:?}")
    };
    assert_eq!(loaded.writable, [hidden.to_string()]);
    assert_eq!(
        fetched.transaction.version,
        Some(solana_transaction::versioned::TransactionVersion::Number(0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropping_cluster_acknowledges_but_never_runs_every_nth_transaction() {
    let served = serve_chain(Chain::start().await, Faults { drop_every: 3 }).await;
    let client = &served.client;
    let sender = served.wallet(1_000_000_000).await;
    let to = Pubkey::new_unique();
    let mut sent = Vec::new();
    for lamports in [1_000_000, 2_000_000, 4_000_000] {
        let tx = served
            .signed(&[transfer(&sender.pubkey(), &to, lamports)], &[&sender])
            .await;
        let signature = client.send_transaction(&tx).await.expect("acknowledged");
        assert_eq!(signature, tx.signatures[0], "answered with its signature");
        sent.push(tx);
    }
    let signatures: Vec<_> = sent.iter().map(|t| t.signatures[0]).collect();
    let statuses = client
        .get_signature_statuses(&signatures)
        .await
        .unwrap()
        .value;
    let landed: Vec<bool> = statuses.iter().map(Option::is_some).collect();
    assert_eq!(landed, [true, true, false], "the third is lost");
    assert_eq!(client.get_balance(&to).await.unwrap(), 3_000_000);
    assert!(
        client
            .get_transaction(
                &signatures[2],
                solana_transaction_status_client_types::UiTransactionEncoding::Json
            )
            .await
            .is_err(),
        "never on the ledger"
    );

    // Sent again, the lost transaction is the fourth accepted: it runs.
    client
        .send_and_confirm_transaction(&sent[2])
        .await
        .expect("the retry lands");
    assert_eq!(client.get_balance(&to).await.unwrap(), 7_000_000);
}

/// A client that closes its socket gets the closing handshake back, as from a
/// validator: its own close code, not an abnormal end (1006), which makes
/// web3.js's socket reconnect forever once the sandbox is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_closes_gets_the_closing_handshake() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::Message;

    let served = serve().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(served.ws.as_str())
        .await
        .expect("connects");
    let subscribe = r#"{"jsonrpc":"2.0","id":1,"method":"slotSubscribe"}"#;
    socket.send(Message::text(subscribe)).await.expect("sent");
    let answer = next(&mut socket, "subscription").await.expect("an answer");
    assert!(
        answer.to_text().unwrap_or_default().contains("\"result\""),
        "{answer:?}"
    );
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "done".into(),
    };
    socket
        .send(Message::Close(Some(frame)))
        .await
        .expect("close sent");
    let mut reply = None;
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(10), socket.next()).await
    {
        match message {
            Ok(Message::Close(frame)) => {
                reply = Some(frame.map(|f| f.code));
                break;
            }
            Ok(_) => continue,
            Err(e) => panic!("the socket failed instead of closing: {e}"),
        }
    }
    assert_eq!(
        reply,
        Some(Some(CloseCode::Normal)),
        "the server's close frame"
    );
}
