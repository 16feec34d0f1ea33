//! `oracle submit` in v0 transactions through the oracle's address lookup
//! tables (issue 14): tables created and extended on the first file, re-used
//! on the next, many full-upline reports per transaction; `--legacy` still
//! sends legacy transactions.

mod common;

use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine;
use common::web::http;
use common::{code, compute, network_address, stderr, stdout, write, Sandbox};
use serde_json::{json, Value};
use solana_message::VersionedMessage;
use solana_transaction::versioned::VersionedTransaction;
use std::path::Path;
use std::process::{Command, Output};
use upline::instructions::ReportBatchArgs;

fn rpc(url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (status, text) = http(url, "POST", "/", Some(&body));
    assert_eq!(status, 200, "{text}");
    let reply: Value = serde_json::from_str(&text).expect("JSON-RPC reply");
    reply["result"].clone()
}

fn transaction(url: &str, signature: &str) -> VersionedTransaction {
    let tx = rpc(
        url,
        "getTransaction",
        json!([signature, {"encoding": "base64", "maxSupportedTransactionVersion": 0}]),
    );
    let encoded = tx["transaction"][0].as_str().expect("base64 transaction");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    bincode::deserialize(&bytes).expect("a transaction")
}

/// `oracle submit FILE --network N EXTRA` as the oracle, HOME at `home`
/// (where the tables are remembered).
fn submit(s: &Sandbox, home: &Path, file: &str, network: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_upline"))
        .args(["--url", &s.url, "--keypair"])
        .arg(s.key("oracle"))
        .args(["oracle", "submit", file, "--network", network])
        .args(extra)
        .env("HOME", home)
        .env("RUST_LOG", "error")
        .output()
        .expect("run upline")
}

fn landed(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("landed "))
        .map(str::to_string)
        .collect()
}

#[test]
fn reports_go_in_v0_transactions_through_tables_created_once() {
    const PROVIDERS: usize = 30;
    let s = Sandbox::start("lookup");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let network = network_address(&s.init("cxmpute", &oracle));
    // Each provider under its own three-level upline.
    let mut providers = Vec::new();
    for p in 0..PROVIDERS {
        let mut above: Option<String> = None;
        for level in 0..4 {
            let name = format!("m{p}-{level}");
            let wallet = s.wallet(&name);
            s.join(&name, &network, "provider", above.as_deref());
            above = Some(wallet);
        }
        let provider = above.expect("the provider");
        s.attest_provider(&network, &provider, "24576");
        providers.push(provider);
    }
    let home = s.dir.join("home");
    let file_of = |name: &str, id: u64| {
        let text: String = providers
            .iter()
            .map(|p| compute(id, p, "llama3-70b"))
            .collect();
        write(&s.dir.join(name), &text)
    };

    // The first file creates the tables, then packs the reports in v0 transactions.
    let out = submit(&s, &home, &file_of("first.jsonl", 1), &network, &[]);
    let first = stdout(&out);
    assert_eq!(code(&out), 0, "{first}{}", stderr(&out));
    assert!(first.contains("created"), "{first}");
    assert!(first.contains("recorded now            30"), "{first}");
    let signatures = landed(&first);
    assert_eq!(signatures.len(), 2, "{first}");
    let tx = transaction(&s.url, &signatures[0]);
    let VersionedMessage::V0(message) = &tx.message else {
        panic!("a legacy transaction");
    };
    assert!(!message.address_table_lookups.is_empty());
    // One report_batch instruction after the compute-unit limit: the oracle's
    // accounts named once, each report its four table indices and 31 bytes
    // (README, "Cost and throughput"); single instructions fit 17.
    let keys = &message.account_keys;
    let batches: Vec<ReportBatchArgs> = message
        .instructions
        .iter()
        .filter(|ix| keys[usize::from(ix.program_id_index)] == upline::ID)
        .map(|ix| {
            assert_eq!(
                &ix.data[..8],
                upline::instruction::ReportBatch::DISCRIMINATOR
            );
            ReportBatchArgs::deserialize(&mut &ix.data[8..]).expect("batch arguments")
        })
        .collect();
    assert_eq!(batches.len(), 1, "one report_batch instruction");
    let carried = batches[0].reports.len();
    println!("full-upline reports in the first v0 transaction: {carried}");
    assert!(
        carried >= 20,
        "only {carried} reports in the first transaction"
    );
    assert!(home.join(".config/upline/lookup-tables.json").exists());

    // The second file re-uses them: nothing created.
    let out = submit(&s, &home, &file_of("second.jsonl", 2), &network, &[]);
    let second = stdout(&out);
    assert_eq!(code(&out), 0, "{second}{}", stderr(&out));
    assert!(second.contains("re-using"), "{second}");
    assert!(!second.contains("created"), "{second}");
    assert!(second.contains("recorded now            30"), "{second}");
    assert_eq!(landed(&second).len(), 2, "{second}");

    // --legacy: five full-upline reports per legacy transaction.
    let out = submit(
        &s,
        &home,
        &file_of("third.jsonl", 3),
        &network,
        &["--legacy"],
    );
    let third = stdout(&out);
    assert_eq!(code(&out), 0, "{third}{}", stderr(&out));
    assert!(!third.contains("lookup table"), "{third}");
    let signatures = landed(&third);
    assert_eq!(signatures.len(), 6, "{third}");
    assert!(matches!(
        transaction(&s.url, &signatures[0]).message,
        VersionedMessage::Legacy(_)
    ));

    // A re-run of the first file records nothing and sends nothing.
    let out = submit(&s, &home, &file_of("first.jsonl", 1), &network, &[]);
    let again = stdout(&out);
    assert_eq!(code(&out), 0, "{again}");
    assert!(again.contains("already recorded        30"), "{again}");
    assert!(landed(&again).is_empty(), "{again}");
}
