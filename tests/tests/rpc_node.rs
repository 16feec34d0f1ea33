//! The Solana client library's own `RpcClient` against the sandbox: token
//! accounts and mints in every encoding, the node's own facts, unknown
//! methods, and many clients at once on keep-alive connections.
#![allow(deprecated)]

mod rpc_support;

use anchor_lang::prelude::Pubkey;
use rpc_support::{refused_code, serve, serve_chain, Served};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_rpc_client_api::config::RpcAccountInfoConfig;
use solana_rpc_client_api::request::{RpcRequest, TokenAccountsFilter};
use solana_signer::Signer;
use upline_sdk::sandbox::server::Faults;
use upline_sdk::sandbox::tokens::TOKEN;
use upline_tests::Chain;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_accounts_are_parsed_as_validators_parse_them() {
    let mut chain = Chain::start().await;
    let mint = chain.create_mint(TOKEN, 6).await;
    let owner = Keypair::new().pubkey();
    let account = chain.token_account(&mint, &owner).await;
    chain.mint_to(&mint, &account, 1_500_000).await;
    let served = serve_chain(chain, Faults::default()).await;
    let client = &served.client;

    for filter in [
        TokenAccountsFilter::Mint(mint.address),
        TokenAccountsFilter::ProgramId(TOKEN),
    ] {
        let found = client
            .get_token_accounts_by_owner(&owner, filter)
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].pubkey, account.to_string());
        let data = serde_json::to_value(&found[0].account.data).unwrap();
        assert_eq!(data["program"], "spl-token", "{data}");
        let info = &data["parsed"]["info"];
        assert_eq!(info["tokenAmount"]["amount"], "1500000", "{data}");
        assert_eq!(info["tokenAmount"]["uiAmountString"], "1.5");
        assert_eq!(info["owner"], owner.to_string());
    }
    let balance = client.get_token_account_balance(&account).await.unwrap();
    assert_eq!(
        (
            balance.amount.as_str(),
            balance.decimals,
            balance.ui_amount_string.as_str()
        ),
        ("1500000", 6, "1.5")
    );
    let supply = client.get_token_supply(&mint.address).await.unwrap();
    assert_eq!(supply.amount, "1500000");

    // Raw and compressed encodings give the same bytes; jsonParsed names the mint.
    let raw = client.get_account(&account).await.unwrap();
    let zstd = client
        .get_account_with_config(
            &account,
            RpcAccountInfoConfig {
                encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64Zstd),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .value
        .expect("the account");
    assert_eq!(zstd.data, raw.data);
    let parsed: Value = client
        .send(
            RpcRequest::GetAccountInfo,
            json!([mint.address.to_string(), {"encoding": "jsonParsed"}]),
        )
        .await
        .unwrap();
    assert_eq!(
        parsed["value"]["data"]["parsed"]["type"], "mint",
        "{parsed}"
    );
    assert_eq!(parsed["value"]["data"]["parsed"]["info"]["decimals"], 6);
    let sliced: Value = client
        .send(RpcRequest::GetAccountInfo, json!([account.to_string(), {"encoding": "base58", "dataSlice": {"offset": 32, "length": 32}}]))
        .await
        .unwrap();
    assert_eq!(
        sliced["value"]["data"],
        json!([owner.to_string(), "base58"]),
        "the owner's bytes, base58"
    );
    let too_big = client
        .send::<Value>(
            RpcRequest::GetAccountInfo,
            json!([account.to_string(), {"encoding": "base58"}]),
        )
        .await
        .expect_err("165 bytes is too large for base58");
    assert_eq!(refused_code(&too_big), Some(-32602));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_answers_about_itself() {
    let served = serve().await;
    let client = &served.client;
    let slot = client.get_slot().await.unwrap();
    let info = client.get_epoch_info().await.unwrap();
    let height = client.get_block_height().await.unwrap();
    assert!(
        info.absolute_slot >= slot && info.slot_index < info.slots_in_epoch,
        "{info:?}"
    );
    assert!(info.block_height >= height, "{info:?} then {height}");
    let (blockhash, last_valid) = client
        .get_latest_blockhash_with_commitment(
            solana_commitment_config::CommitmentConfig::finalized(),
        )
        .await
        .unwrap();
    assert!(last_valid > client.get_block_height().await.unwrap());
    assert!(client
        .is_blockhash_valid(&blockhash, Default::default())
        .await
        .unwrap());
    let unknown = solana_transaction::Hash::new_from_array([9; 32]);
    assert!(!client
        .is_blockhash_valid(&unknown, Default::default())
        .await
        .unwrap());
    let payer = Keypair::new();
    let message = solana_transaction::Message::new_with_blockhash(
        &[solana_system_interface::instruction::transfer(
            &payer.pubkey(),
            &Pubkey::new_unique(),
            1,
        )],
        Some(&payer.pubkey()),
        &blockhash,
    );
    assert_eq!(client.get_fee_for_message(&message).await.unwrap(), 5_000);
    assert_eq!(
        client
            .get_minimum_balance_for_rent_exemption(165)
            .await
            .unwrap(),
        2_039_280
    );
    client.get_health().await.unwrap();
    assert_eq!(client.get_version().await.unwrap().solana_core, "3.1.12");
    client.get_genesis_hash().await.unwrap();
    client.get_identity().await.unwrap();
    let fees = client.get_recent_prioritization_fees(&[]).await.unwrap();
    assert_eq!(fees[0].prioritization_fee, 0);

    let unknown = client
        .send::<Value>(
            RpcRequest::Custom {
                method: "getBlockProduction",
            },
            json!([]),
        )
        .await
        .expect_err("not served");
    assert_eq!(refused_code(&unknown), Some(-32601), "{unknown:?}");
}

/// Many clients at once, each keeping its connection alive across requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_share_keep_alive_connections() {
    let served = serve().await;
    let key = served.wallet(1_000_000).await.pubkey();
    let tasks: Vec<_> = (0..20)
        .map(|task| {
            let client = served.client.clone();
            tokio::spawn(async move {
                for i in 0..20 {
                    let balance = client
                        .get_balance(&key)
                        .await
                        .unwrap_or_else(|e| panic!("task {task} call {i}: {e}"));
                    assert_eq!(balance, 1_000_000);
                }
                client.get_slot().await.expect("slot")
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("the task ends");
    }
    println!("20 tasks x 20 getBalance calls on one client: all answered");
    keep_alive(&served).await;
}

/// Two requests on one TCP connection: the second is answered on it too.
async fn keep_alive(served: &Served) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let address = served.url.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut stream = BufReader::new(stream);
    for id in 1..=2 {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"getHealth"}}"#);
        let request = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            assert!(
                stream.read_line(&mut line).await.unwrap() > 0,
                "connection closed after {id} requests"
            );
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut reply = vec![0; length];
        stream.read_exact(&mut reply).await.unwrap();
        let reply: Value = serde_json::from_slice(&reply).unwrap();
        assert_eq!(
            (reply["id"].clone(), reply["result"].clone()),
            (json!(id), json!("ok"))
        );
    }
}
