//! Transactions that land (issue 14): a compute budget and priority fee on
//! what `oracle submit` sends, read back from the landed transactions; re-runs
//! that record nothing twice; the Solana CLI's config.yml as the default URL,
//! keypair and commitment, and a malformed one named.

mod common;

use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine;
use common::web::http;
use common::{code, compute, fails_with, network_address, stderr, stdout, write, Sandbox};
use serde_json::{json, Value};
use solana_transaction::versioned::VersionedTransaction;
use std::process::Command;
use upline::instructions::ReportBatchArgs;

const COMPUTE_BUDGET: &str = "ComputeBudget111111111111111111111111111111";

fn rpc(url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (status, text) = http(url, "POST", "/", Some(&body));
    assert_eq!(status, 200, "{text}");
    let reply: Value = serde_json::from_str(&text).expect("JSON-RPC reply");
    reply["result"].clone()
}

/// The transactions signed by `wallet`, newest first, decoded.
fn transactions_of(url: &str, wallet: &str) -> Vec<VersionedTransaction> {
    let signatures = rpc(url, "getSignaturesForAddress", json!([wallet]));
    signatures
        .as_array()
        .expect("signatures")
        .iter()
        .map(|s| {
            let signature = s["signature"].as_str().expect("signature");
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
        })
        .collect()
}

/// The compute budget instructions of `tx`: (limit, price).
/// The reports a transaction carries: a `report_batch` its entries, any
/// other Upline instruction one.
fn reports_in(tx: &VersionedTransaction) -> usize {
    let keys = tx.message.static_account_keys();
    tx.message
        .instructions()
        .iter()
        .filter(|ix| keys.get(usize::from(ix.program_id_index)) == Some(&upline::ID))
        .map(|ix| {
            if ix.data.get(..8) == Some(upline::instruction::ReportBatch::DISCRIMINATOR) {
                ReportBatchArgs::deserialize(&mut &ix.data[8..]).map_or(0, |a| a.reports.len())
            } else {
                1
            }
        })
        .sum()
}

fn budget_of(tx: &VersionedTransaction) -> (Option<u32>, Option<u64>) {
    let keys = tx.message.static_account_keys();
    let (mut limit, mut price) = (None, None);
    for ix in tx.message.instructions() {
        if keys[usize::from(ix.program_id_index)].to_string() != COMPUTE_BUDGET {
            continue;
        }
        match ix.data.first() {
            Some(2) => limit = Some(u32::from_le_bytes(ix.data[1..5].try_into().unwrap())),
            Some(3) => price = Some(u64::from_le_bytes(ix.data[1..9].try_into().unwrap())),
            other => panic!("unexpected compute budget instruction {other:?}"),
        }
    }
    (limit, price)
}

fn submitted(out: &std::process::Output) -> String {
    assert_eq!(code(out), 0, "{}{}", stdout(out), stderr(out));
    stdout(out)
}

#[test]
fn priority_fees_and_limits_land_and_re_runs_record_nothing_twice() {
    let s = Sandbox::start("landing");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let alice = s.wallet("alice");
    let network = network_address(&s.init("cxmpute", &oracle));
    s.join("alice", &network, "provider", None);
    s.attest_provider(&network, &alice, "24576");

    // With a price and a fixed limit: both on every transaction, before the reports.
    let reports: String = (1..=6)
        .map(|id| compute(id, &alice, "llama3-70b"))
        .collect();
    let file = write(&s.dir.join("priced.jsonl"), &reports);
    let priced = [
        "--with-compute-unit-price",
        "5000",
        "--compute-unit-limit",
        "900000",
    ];
    let first = submitted(&s.submit("oracle", &file, &network, &priced));
    assert!(first.contains("recorded now             6"), "{first}");
    let sent = transactions_of(&s.url, &oracle);
    // Each landed transaction's signature is printed.
    let printed: Vec<&str> = first
        .lines()
        .filter_map(|l| l.trim().strip_prefix("landed "))
        .collect();
    let newest: Vec<String> = sent[..printed.len()]
        .iter()
        .map(|tx| tx.signatures[0].to_string())
        .rev()
        .collect();
    assert!(!printed.is_empty(), "{first}");
    assert_eq!(printed, newest, "{first}");
    let reporting: Vec<_> = sent
        .iter()
        .filter(|tx| budget_of(tx) != (None, None))
        .collect();
    assert!(
        !reporting.is_empty(),
        "no transaction carried a compute budget"
    );
    for tx in &reporting {
        assert_eq!(budget_of(tx), (Some(900_000), Some(5_000)));
        // The budget goes first; the reports follow.
        let keys = tx.message.static_account_keys();
        let first_program = tx.message.instructions()[0].program_id_index;
        assert_eq!(keys[usize::from(first_program)].to_string(), COMPUTE_BUDGET);
    }

    // A re-run finds every report recorded and sends nothing.
    let again = submitted(&s.submit("oracle", &file, &network, &priced));
    assert!(again.contains("recorded now             0"), "{again}");
    assert!(again.contains("already recorded         6"), "{again}");
    assert_eq!(transactions_of(&s.url, &oracle).len(), sent.len());

    // Without --compute-unit-limit: the per-report estimate times the reports.
    let more: String = (7..=9)
        .map(|id| compute(id, &alice, "llama3-70b"))
        .collect();
    let file = write(&s.dir.join("estimated.jsonl"), &more);
    let out = submitted(&s.submit(
        "oracle",
        &file,
        &network,
        &["--with-compute-unit-price", "1"],
    ));
    assert!(out.contains("recorded now             3"), "{out}");
    let newest = &transactions_of(&s.url, &oracle)[0];
    let reports_in_it = reports_in(newest);
    assert_eq!(reports_in_it, 3, "the three reports, as one report_batch");
    let per_report = upline_cli::submit::REPORT_COMPUTE_UNITS;
    assert_eq!(
        budget_of(newest),
        (Some(per_report * reports_in_it as u32), Some(1))
    );

    // Refusals before sending are still named by their line.
    let stale = compute(2, &alice, "llama3-70b") + &compute(10, &alice, "no-such-model");
    let file = write(&s.dir.join("refused.jsonl"), &stale);
    let out = s.submit("oracle", &file, &network, &priced);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(
        stdout(&out).contains("line 2: unknown model \"no-such-model\""),
        "{}",
        stdout(&out)
    );
}

/// `upline ARGS` with HOME at `home` and no --url or --keypair.
fn run_home(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_upline"))
        .args(args)
        .env("HOME", home)
        .env("RUST_LOG", "error")
        .output()
        .expect("run upline")
}

#[test]
fn the_solana_cli_config_gives_the_defaults_and_a_malformed_one_is_named() {
    let s = Sandbox::start("config");
    let wallet = s.wallet("configured");
    let home = s.dir.join("home");
    let config_dir = home.join(".config/solana/cli");
    std::fs::create_dir_all(&config_dir).expect("config dir");
    let config = config_dir.join("config.yml");
    let key = s.key("configured");
    write(
        &config,
        &format!(
            "---\njson_rpc_url: \"{}\"\nwebsocket_url: \"\"\nkeypair_path: {}\naddress_labels:\n  \"11111111111111111111111111111111\": System Program\ncommitment: finalized\n",
            s.url,
            key.display()
        ),
    );
    // No --url and no --keypair: both come from config.yml.
    let out = run_home(&home, &["airdrop", "1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), format!("1 SOL to {wallet}"));
    // A flag overrides the file.
    let out = run_home(&home, &["--url", "http://127.0.0.1:9", "airdrop", "1"]);
    fails_with(&out, 3, "--url http://127.0.0.1:9: cannot reach");
    let out = run_home(&home, &["--commitment", "processed", "airdrop", "1"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    // A malformed file is refused with its path and line.
    write(&config, "json_rpc_url: 'http://127.0.0.1:8899\n");
    let out = run_home(&home, &["airdrop", "1"]);
    fails_with(
        &out,
        2,
        &format!("{}: line 1: unterminated quote", config.display()),
    );
    write(&config, "commitment: fastest\n");
    let out = run_home(&home, &["airdrop", "1", "--url", &s.url]);
    fails_with(
        &out,
        2,
        "commitment \"fastest\" is not processed, confirmed or finalized",
    );
    // An unknown --commitment is clap's refusal.
    let out = run_home(&home, &["--commitment", "fastest", "airdrop", "1"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
}
