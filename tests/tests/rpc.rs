//! The JSON-RPC back end: the Solana client library against the sandbox's
//! JSON-RPC endpoint (requests over real HTTP), the shapes of the endpoint's
//! answers, and how failures come back to the caller.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use upline::errors::UplineError;
use upline::state::Network;
use upline_sdk::client::{Cluster, TxFailure};
use upline_sdk::rpc::RpcCluster;
use upline_sdk::sandbox::server::SandboxServer;
use upline_sdk::{ix, pda};
use upline_tests::network::{class, tables};
use upline_tests::Chain;

/// A sandbox served on a free local port; its URL.
async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let chain = Chain::start().await;
    tokio::spawn(SandboxServer::new(chain).serve(listener));
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_library_sends_reads_and_sees_refusals_by_name() {
    let url = serve().await;
    let mut cluster = RpcCluster::connect(&url)
        .await
        .expect("the sandbox answers");
    let admin = Keypair::new();
    cluster
        .airdrop(&admin.pubkey(), 5_000_000_000)
        .await
        .unwrap();
    let account = cluster
        .account(&admin.pubkey())
        .await
        .unwrap()
        .expect("funded");
    assert_eq!(account.lamports, 5_000_000_000);
    assert_eq!(cluster.rent_exempt(165).await.unwrap(), 2_039_280);
    assert!(cluster.now().await.unwrap() >= upline_sdk::sandbox::START);

    let name = pda::network_name("rpc").unwrap();
    let tables = tables(&[class("user", &[100_000], None)], false);
    cluster
        .send(
            &[ix::create_network(
                &admin.pubkey(),
                &name,
                &admin.pubkey(),
                tables,
            )],
            &[&admin],
        )
        .await
        .expect("created over JSON-RPC");
    let key = pda::network(&admin.pubkey(), &name);
    let network: Network = cluster.decode(&key).await.unwrap().expect("decodes");
    assert_eq!(network.admin, admin.pubkey());

    // A refusal comes back as the program's error, by name, and changes nothing.
    let stranger = Keypair::new();
    cluster
        .airdrop(&stranger.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    let before = cluster.account(&key).await.unwrap();
    let refused = cluster
        .send(
            &[ix::add_oracle(
                &stranger.pubkey(),
                &stranger.pubkey(),
                &key,
                &stranger.pubkey(),
            )],
            &[&stranger],
        )
        .await
        .expect_err("only the admin adds oracles");
    assert!(refused.is(UplineError::NotAdmin), "{refused:?}");
    assert_eq!(refused.name(), "NotAdmin");
    assert_eq!(cluster.account(&key).await.unwrap(), before);
    assert!(cluster
        .account(&pda::oracle(&key, &stranger.pubkey()))
        .await
        .unwrap()
        .is_none());

    // A fee payer without SOL is told so.
    let broke = Keypair::new();
    let failure = cluster
        .send(&[ix::set_paused(&broke.pubkey(), &key, true)], &[&broke])
        .await
        .expect_err("no SOL");
    assert!(failure.to_string().contains("no SOL"), "{failure}");
}

#[tokio::test]
async fn an_unreachable_url_is_a_transport_failure_naming_it() {
    // Port 1 on loopback: nothing listens there.
    let Err(failure) = RpcCluster::connect("http://127.0.0.1:1").await else {
        panic!("connected to nothing");
    };
    assert!(matches!(failure, TxFailure::Transport(_)), "{failure:?}");
    assert!(
        failure.to_string().contains("http://127.0.0.1:1"),
        "{failure}"
    );
}

async fn call(server: &mut SandboxServer, method: &str, params: Value) -> Value {
    server
        .call(&json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}))
        .await
}

#[tokio::test]
async fn answers_have_the_shapes_validators_give() {
    let chain = Chain::start().await;
    let payer = chain.payer();
    let mut server = SandboxServer::new(chain);

    let reply = call(
        &mut server,
        "getBalance",
        json!([payer.pubkey().to_string()]),
    )
    .await;
    assert_eq!(reply["id"], 7);
    assert!(reply["result"]["value"].as_u64().unwrap() > 0, "{reply}");
    assert!(reply["result"]["context"]["slot"].is_u64(), "{reply}");

    let missing = Pubkey::new_unique().to_string();
    let reply = call(
        &mut server,
        "getAccountInfo",
        json!([missing, {"encoding": "base64"}]),
    )
    .await;
    assert_eq!(reply["result"]["value"], Value::Null, "{reply}");
    let reply = call(
        &mut server,
        "getAccountInfo",
        json!([payer.pubkey().to_string(), {"encoding": "base64"}]),
    )
    .await;
    let account = &reply["result"]["value"];
    assert_eq!(account["data"], json!(["", "base64"]), "{reply}");
    assert_eq!(account["owner"], "11111111111111111111111111111111");
    assert_eq!(account["space"], 0);
    // Without an encoding, validators answer with the legacy base58 string.
    let reply = call(
        &mut server,
        "getAccountInfo",
        json!([payer.pubkey().to_string()]),
    )
    .await;
    assert_eq!(reply["result"]["value"]["data"], "", "{reply}");

    let reply = call(&mut server, "getBalance", json!(["not-an-address"])).await;
    assert_eq!(reply["error"]["code"], -32602, "{reply}");
    assert!(reply["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not-an-address"));
    let reply = call(&mut server, "getBlockProduction", json!([])).await;
    assert_eq!(reply["error"]["code"], -32601, "{reply}");
    assert!(reply["error"]["message"]
        .as_str()
        .unwrap()
        .contains("getBlockProduction"));
    let reply = call(
        &mut server,
        "sendTransaction",
        json!(["%%%", {"encoding": "base64"}]),
    )
    .await;
    assert_eq!(reply["error"]["code"], -32602, "{reply}");

    // A refused transaction: preflight failure with the instruction error and the logs.
    let blockhash = call(&mut server, "getLatestBlockhash", json!([])).await;
    let blockhash = blockhash["result"]["value"]["blockhash"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let network = Pubkey::new_unique();
    let ix = ix::set_paused(&payer.pubkey(), &network, true);
    let tx = Transaction::new_signed_with_payer(&[ix], Some(&payer.pubkey()), &[&payer], blockhash);
    let encoded = base64::engine::general_purpose::STANDARD.encode(bincode_tx(&tx));
    let reply = call(
        &mut server,
        "sendTransaction",
        json!([encoded, {"encoding": "base64"}]),
    )
    .await;
    assert_eq!(reply["error"]["code"], -32002, "{reply}");
    let err = &reply["error"]["data"]["err"]["InstructionError"];
    assert_eq!(err[0], 0, "{reply}");
    assert!(err[1]["Custom"].is_u64(), "{reply}");
    assert!(!reply["error"]["data"]["logs"]
        .as_array()
        .unwrap()
        .is_empty());
    // Nothing was recorded for it.
    let signature = tx.signatures[0].to_string();
    let reply = call(&mut server, "getSignatureStatuses", json!([[signature]])).await;
    assert_eq!(reply["result"]["value"][0], Value::Null, "{reply}");
}

fn bincode_tx(tx: &Transaction) -> Vec<u8> {
    // A legacy transaction's wire format: signatures, then the message.
    let mut out = vec![tx.signatures.len() as u8];
    for s in &tx.signatures {
        out.extend_from_slice(s.as_ref());
    }
    out.extend_from_slice(&tx.message_data());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_batches_and_malformed_requests() {
    let url = serve().await;
    let address = url.trim_start_matches("http://").to_string();
    let exchange = |request: String| {
        let address = address.clone();
        async move {
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut reply = String::new();
            stream.read_to_string(&mut reply).await.unwrap();
            reply
        }
    };
    let body = r#"[{"jsonrpc":"2.0","id":1,"method":"getHealth"},{"jsonrpc":"2.0","id":2,"method":"getSlot"}]"#;
    let reply = exchange(format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
    .await;
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    let json: Value = serde_json::from_str(reply.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(json[0]["result"], "ok");
    assert_eq!(json[1]["id"], 2);

    let reply = exchange("POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into()).await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    let garbage = "{not json";
    let reply = exchange(format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{garbage}",
        garbage.len()
    ))
    .await;
    assert!(reply.contains("-32700"), "{reply}");
}
