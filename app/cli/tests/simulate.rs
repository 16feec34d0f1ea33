//! End-to-end tests of the `upline` binary on the sandbox.

use serde_json::Value;
use std::process::{Command, Output};

fn upline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_upline"))
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("run upline")
}

fn scenario(name: &str) -> String {
    format!("{}/../scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn simulate_json(name: &str) -> Value {
    let out = upline(&["simulate", &scenario(name), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("standard output is exactly one JSON object")
}

fn field(result: &Value, member: &str, ledger: &str, name: &str) -> String {
    result["members"][member]["ledgers"][ledger][name]
        .as_str()
        .unwrap_or("missing")
        .to_string()
}

fn rejected(result: &Value) -> Vec<String> {
    result["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| match r.get("step") {
            Some(step) => format!("step {step}: {}", r["error"].as_str().unwrap_or("?")),
            None => format!(
                "member {}: {}",
                r["member"].as_str().unwrap_or("?"),
                r["error"].as_str().unwrap_or("?")
            ),
        })
        .collect()
}

#[test]
fn cxmpute_scenario_reproduces_the_document() {
    let r = simulate_json("cxmpute.json");
    assert_eq!(field(&r, "mariana", "CXPT", "own"), "0.375");
    assert_eq!(field(&r, "blue", "CXPT", "own"), "0.045");
    assert_eq!(field(&r, "ocean", "CXPT", "own"), "0.02625");
    assert_eq!(field(&r, "p2", "CXPT", "level1"), "0.0375");
    assert_eq!(field(&r, "p1", "CXPT", "level2"), "0.01875");
    assert_eq!(field(&r, "p0", "CXPT", "level3"), "0.009375");
    assert_eq!(field(&r, "u1", "POINTS", "own"), "2");
    assert_eq!(field(&r, "u0", "POINTS", "level1"), "0.3");
    assert_eq!(field(&r, "u0", "POINTS", "bonus"), "25");
    assert_eq!(field(&r, "p0", "POINTS", "bonus"), "50");
    assert_eq!(field(&r, "mariana", "CXPT", "balance"), "0.375");
    assert_eq!(r["members"]["p1"]["referrer"], "p0");
    assert_eq!(r["members"]["p0"]["referrer"], Value::Null);
    assert_eq!(r["members"]["p0"]["downline"], serde_json::json!([1, 1, 1]));
    assert_eq!(r["ledgers"]["CXPT"]["credited"], "0.886875");
    assert_eq!(r["ledgers"]["CXPT"]["vault"], "100");
    assert_eq!(r["ledgers"]["POINTS"]["credited"], "177.3");
    assert!(r["members"].get("u2").is_none(), "its join failed");
    assert_eq!(
        rejected(&r),
        [
            "member u2: ClassMismatch",
            "step 3: TierTooLow",
            "step 5: StaleReport",
            "step 8: BelowMinimum",
            "step 9: NotWithdrawable"
        ]
    );
    assert_eq!(r["audit"]["verdict"], "pass");
}

#[test]
fn clore_scenario_pays_both_sides_tiers_and_promotion() {
    let r = simulate_json("clore.json");
    // carol joins late and links to alice (a second referrer is refused). alice, now
    // premium, earns 20% of carol's 12.5 CLORE of renter fees (2.5) and, as the host's
    // referrer too, 20% of its 1 CLORE (0.2), on top of 0.75 + 2.5.
    assert_eq!(
        field(&r, "alice", "CLORE", "level1"),
        "5.95",
        "0.75 + 2.5 + 2.5 + 0.2"
    );
    assert_eq!(r["members"]["carol"]["referrer"], "alice");
    assert_eq!(
        r["members"]["alice"]["downline"],
        serde_json::json!([2, 0, 0])
    );
    assert_eq!(field(&r, "carol", "CLORE", "own"), "0");
    assert_eq!(
        field(&r, "bob", "CLORE", "level1"),
        "4",
        "1.5 at VIP 30% + 2.5 at 50%"
    );
    assert_eq!(field(&r, "alice", "BTC", "level1"), "0.000018");
    assert_eq!(field(&r, "bob", "BTC", "level1"), "0.00003");
    assert_eq!(field(&r, "renter", "CLORE", "own"), "0");
    assert_eq!(r["ledgers"]["CLORE"]["credited"], "9.95");
    assert_eq!(r["ledgers"]["CLORE"]["vault"], "1000");
    assert_eq!(
        rejected(&r),
        [
            "step 5: BelowMinimum",
            "step 6: BelowMinimum",
            "step 9: ReferrerAlreadySet"
        ]
    );
    assert_eq!(r["audit"]["verdict"], "pass");
}

#[test]
fn aether_scenario_weights_subnets_and_refuses_bad_reports() {
    let r = simulate_json("aether.json");
    assert_eq!(field(&r, "n1", "AETH", "own"), "1.8");
    assert_eq!(field(&r, "n3", "AETH", "own"), "0", "suppressed");
    assert_eq!(
        field(&r, "early", "AETH", "level1"),
        "0.391",
        "1.8 × 17% + 1 × 17% / 2"
    );
    assert_eq!(
        r["members"]["early"]["downline"],
        serde_json::json!([4, 0, 0])
    );
    assert_eq!(
        rejected(&r),
        [
            "member clone: DuplicateDevice",
            "step 3: InvalidCoefficient",
            "step 4: InvalidDemandMultiplier",
            "step 5: UnattestedNode"
        ]
    );
    assert_eq!(r["audit"]["verdict"], "pass");
}

#[test]
fn tables_are_readable() {
    let out = upline(&["simulate", &scenario("clore.json")]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CLORE") && text.contains("level 1") && text.contains("alice"),
        "{text}"
    );
    assert!(text.contains("step 5: BelowMinimum"), "{text}");
    assert!(text.contains("audit: pass"), "{text}");
    assert!(
        !text.contains("Instruction:"),
        "program logs stay out of the output"
    );
}

#[test]
fn bad_input_names_the_file_and_what_to_fix() {
    let dir = std::env::temp_dir().join(format!("upline-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cases = [
        (
            "syntax.json",
            "{\"preset\": \"cxmpute\",\n \"members\": [",
            "line 2",
        ),
        (
            "preset.json",
            r#"{"preset": "bitcoin"}"#,
            "unknown preset \"bitcoin\"",
        ),
        (
            "member.json",
            r#"{"preset": "cxmpute", "steps": [{"at": 1, "op": "usage", "id": 1, "user": "ghost", "endpoint": "chat", "tokens": 1}]}"#,
            "step 0: \"ghost\" is not a member",
        ),
        (
            "model.json",
            r#"{"preset": "cxmpute", "members": [{"name": "p", "class": "provider"}], "steps": [{"at": 1, "op": "compute", "id": 1, "provider": "p", "service": "chat", "model": "gpt-9", "tokens": 1, "latency_ms": 1}]}"#,
            "model \"gpt-9\" is not in the cxmpute registry",
        ),
        (
            "class.json",
            r#"{"preset": "clore", "members": [{"name": "a", "class": "provider"}]}"#,
            "class \"provider\" is not one of the clore classes",
        ),
        (
            "field.json",
            r#"{"preset": "clore", "steps": [{"at": 1, "op": "fund", "ledger": "CLORE", "amout": "1"}]}"#,
            "step 0: unknown field `amout`",
        ),
        (
            "expect-member.json",
            r#"{"preset": "cxmpute", "members": [{"name": "u", "class": "user"}], "expect": {"figures": [{"label": "a", "member": "ghost", "ledger": "POINTS", "field": "own", "value": "1"}]}}"#,
            "expect: figure 0 (\"a\"): \"ghost\" is not a member of the scenario",
        ),
        (
            "expect-ledger.json",
            r#"{"preset": "cxmpute", "members": [{"name": "u", "class": "user"}], "expect": {"figures": [{"label": "a", "member": "u", "ledger": "BTC", "field": "own", "value": "1"}]}}"#,
            "expect: figure 0 (\"a\"): the cxmpute network has no ledger \"BTC\"",
        ),
        (
            "expect-field.json",
            r#"{"preset": "cxmpute", "members": [{"name": "u", "class": "user"}], "expect": {"figures": [{"label": "a", "member": "u", "ledger": "POINTS", "field": "total", "value": "1"}]}}"#,
            "expect: figure 0: unknown variant `total`",
        ),
    ];
    for (file, text, expected) in cases {
        let path = dir.join(file);
        std::fs::write(&path, text).expect("write");
        let out = upline(&["simulate", path.to_str().expect("path"), "--json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(file) && stderr.contains(expected),
            "{file}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{file}: nothing on standard output");
    }
    let out = upline(&["simulate", "/nonexistent/scenario.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/nonexistent/scenario.json: cannot read")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn demo_matches_every_figure_of_the_documents() {
    let out = upline(&["demo"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for figure in [
        "0.375", "0.045", "0.02625", "0.009375", "165", "185.625", "0.75", "2.5", "0.17",
    ] {
        assert!(text.contains(figure), "{figure} missing:\n{text}");
    }
    assert!(
        !text.contains("  NO\n") && !text.contains("MISMATCH"),
        "{text}"
    );
    assert!(text.contains("every figure matches its document, every audit passes"));
    // One section per scenario file of app/scenarios/demo.
    let mut shown: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("== ")).collect();
    shown.sort_unstable();
    let mut titles: Vec<String> = demo_files().iter().map(|(_, s)| title(s)).collect();
    titles.sort_unstable();
    assert_eq!(shown, titles);
}

/// The demo's scenario files (app/scenarios/demo), with their parsed JSON.
fn demo_files() -> Vec<(String, Value)> {
    let dir = scenario("demo");
    let mut files: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("app/scenarios/demo")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read");
            let value = serde_json::from_str(&text).expect("JSON");
            (path.to_str().expect("utf-8 path").to_string(), value)
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(files.len(), 5, "{dir}");
    files
}

fn title(scenario: &Value) -> String {
    scenario["expect"]["title"]
        .as_str()
        .expect("a demo scenario has a title")
        .to_string()
}

/// What `simulate --json` prints is exactly the §8 object, expect block or not.
fn assert_section_8_keys(stdout: &[u8]) {
    let r: Value = serde_json::from_slice(stdout).expect("exactly one JSON object");
    let mut keys: Vec<&str> = r
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["audit", "ledgers", "members", "rejected"]);
}

#[test]
fn demo_scenario_files_pass_their_expect_blocks() {
    for (path, value) in demo_files() {
        let figures = value["expect"]["figures"]
            .as_array()
            .expect("figures")
            .len();
        let out = upline(&["simulate", &path]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{path}: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (_, figures_table) = text
            .split_once(&format!("\n== {}\n", title(&value)))
            .unwrap_or_else(|| panic!("{path}: no figures table:\n{text}"));
        let matched = figures_table
            .lines()
            .filter(|l| l.ends_with("  yes"))
            .count();
        assert_eq!(matched, figures, "{path}:\n{figures_table}");
        assert!(text.contains("audit: pass"), "{path}:\n{text}");
    }
}

#[test]
fn a_wrong_expected_figure_exits_1_and_is_named() {
    let mut value = demo_files()
        .into_iter()
        .find(|(path, _)| path.ends_with("cxmpute-requests.json"))
        .expect("cxmpute-requests.json")
        .1;
    value["expect"]["figures"][0]["value"] = "0.3".into();
    let dir = std::env::temp_dir().join(format!("upline-cli-expect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("wrong.json");
    std::fs::write(&path, value.to_string()).expect("write");
    let path = path.to_str().expect("utf-8 path");
    let named = "1 of 9 expected figures differ: \"Example 1: 70B on Mariana Depth, 1000 tokens\" \
                 (mariana CXPT own) is 0.375, expected 0.3";

    let out = upline(&["simulate", path]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains(path) && stderr.contains(named), "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.contains("Example 1: 70B"))
        .expect("the figure's row");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[cells.len() - 3..], ["0.3", "0.375", "NO"], "{row}");

    // --json keeps standard output the §8 object; the verdict is the exit code
    // and the message.
    let out = upline(&["simulate", path, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(named));
    assert_section_8_keys(&out.stdout);
    std::fs::remove_dir_all(&dir).ok();
}

/// `upline bench --quick --json`: the sizes and counts it reports (the
/// timings it prints are figures, not checked here).
#[test]
fn bench_reports_sizes_locks_and_capacity() {
    let out = upline(&["bench", "--quick", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let bytes = |kind: &str| {
        r["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|a| a["kind"] == kind)
            .map(|a| a["bytes"].as_u64().expect("bytes"))
            .expect(kind)
    };
    assert_eq!(bytes("member, 1 ledger"), 507);
    assert_eq!(bytes("member, 2 ledgers") - bytes("member, 1 ledger"), 336);
    for report in r["reports"].as_array().expect("reports") {
        assert_eq!(
            report["network_wide_writable"],
            serde_json::json!([]),
            "{report}"
        );
        assert!(report["legacy_bytes"].as_u64().expect("bytes") <= 1232);
    }
    let c = &r["capacity"];
    assert_eq!(c["legacy"]["separate_uplines"], 5);
    assert!(c["legacy"]["bytes"].as_u64().expect("bytes") <= 1232);
    // As single instructions, 18 with the members in lookup tables; as one
    // report_batch instruction (how `oracle submit` sends them), 25.
    assert_eq!(
        c["v0_with_members_in_lookup_table"]["separate_uplines"].as_u64(),
        Some(18)
    );
    assert_eq!(
        c["v0_batch_with_members_in_lookup_table"]["separate_uplines"].as_u64(),
        Some(25)
    );
    // The oracle quorum: each co-signer adds its signature, its key and its
    // registration once per transaction (128 bytes) and two account indices
    // per report; every batch measured landed with its co-signers.
    let quorum = r["quorum"].as_array().expect("quorum rows");
    let column = |path: &[&str]| -> Vec<u64> {
        quorum
            .iter()
            .map(|row| {
                path.iter()
                    .fold(row, |v, k| &v[*k])
                    .as_u64()
                    .expect(path[0])
            })
            .collect()
    };
    assert_eq!(column(&["quorum"]), [1, 2, 3]);
    assert_eq!(column(&["one_report_bytes"]), [505, 635, 765]);
    assert_eq!(column(&["legacy", "separate_uplines"]), [5, 4, 3]);
    assert_eq!(
        column(&["v0_with_members_in_lookup_table", "separate_uplines"]),
        [18, 16, 14]
    );
    assert_eq!(column(&["v0_batch", "separate_uplines"]), [25, 22, 20]);
    for row in quorum {
        assert_eq!(row["landed"], true, "{row}");
        assert!(row["legacy"]["bytes"].as_u64().expect("bytes") <= 1232);
    }
    // `oracle submit` of the same 192 reports (96 providers, two rounds) in
    // v0 report batches, in-process and over JSON-RPC.
    let submitted = &r["oracle_submit"];
    for run in ["in_process", "json_rpc"] {
        assert_eq!(submitted[run]["reports"], 192, "{submitted}");
        assert_eq!(submitted[run]["transactions"], 9, "{submitted}");
    }
    assert!(submitted["ratio"].as_f64().expect("ratio") > 0.0);
    let g = &r["throughput"]["generated_network"];
    assert_eq!(
        (g["members"].as_u64(), g["transactions"].as_u64()),
        (Some(300), Some(600))
    );
    // The explorer at scale, on one 300-member network in a quick run.
    let explorer = r["explorer"].as_array().expect("explorer sizes");
    assert_eq!(explorer.len(), 1, "{explorer:?}");
    assert_eq!(explorer[0]["members"], 300);
    assert_eq!(explorer[0]["verdict"], "pass");
    assert_eq!(explorer[0]["incremental"]["transactions"], 1);
    assert!(explorer[0]["events"].as_u64().expect("events") > 600);
    let goals = r["goals"].as_array().expect("goals");
    assert_eq!(goals.len(), 9);
    let met: Vec<bool> = goals.iter().map(|g| g["met"] == true).collect();
    // Sizes and capacities are met; the JSON-RPC rate (goal 5) and the
    // explorer's rates and seconds (7 and 9) are timings, not asserted here;
    // a quick run is no 10,000-member simulation (6), and one size cannot be
    // compared with another (8).
    assert_eq!(met[..4], [true, true, true, true], "{goals:?}");
    assert!(!met[5], "{goals:?}");
    assert!(!met[7], "{goals:?}");
    let api = &explorer[0]["api"]["rows"];
    assert_eq!(api.as_array().map(Vec::len), Some(11), "{api}");
}

/// Run the scenario `text` (written to a temporary file named `file`) with
/// `--json`; the parsed §8 object and standard output as text.
fn simulate_text(file: &str, text: &str) -> (Value, String) {
    let dir = std::env::temp_dir().join(format!("upline-cli-refusals-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(file);
    std::fs::write(&path, text).expect("write");
    let out = upline(&["simulate", path.to_str().expect("utf-8 path"), "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{file}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value = serde_json::from_str(&stdout).expect("standard output is exactly one JSON object");
    std::fs::remove_file(&path).ok();
    (value, stdout)
}

fn member_names(result: &Value) -> Vec<String> {
    let mut names: Vec<String> = result["members"]
        .as_object()
        .expect("members")
        .keys()
        .cloned()
        .collect();
    names.sort_unstable();
    names
}

/// The error names of DESIGN.md §8, the only ones `rejected` may carry.
const SECTION_8_ERRORS: [&str; 20] = [
    "AlreadyMember",
    "UnknownMember",
    "UnknownReferrer",
    "SelfReferral",
    "ReferrerAlreadySet",
    "HasReferees",
    "ClassMismatch",
    "WrongClass",
    "StaleReport",
    "TierTooLow",
    "DuplicateDevice",
    "UnattestedNode",
    "InvalidCoefficient",
    "InvalidDemandMultiplier",
    "NotWithdrawable",
    "BelowMinimum",
    "InsufficientBalance",
    "VaultUnderfunded",
    "ReportInFuture",
    "ReportTooOld",
];

/// A points ledger refuses every withdrawal by name, whatever the amount's
/// digits; only a token ledger reads the amount (and refuses one more precise
/// than its decimals).
const POINTS_WITHDRAWALS: &str = r#"{"preset": "cxmpute",
  "members": [{"name": "u0", "class": "user"}, {"name": "u1", "class": "user", "referrer": "u0"}],
  "steps": [
    {"at": 1, "op": "usage", "id": 1, "user": "u1", "endpoint": "chat", "tokens": 1000},
    {"at": 2, "op": "withdraw", "member": "u1", "ledger": "POINTS", "amount": "0.5"},
    {"at": 2, "op": "withdraw", "member": "u1", "ledger": "POINTS", "amount": "1.0000000001"},
    {"at": 2, "op": "withdraw", "member": "u1", "ledger": "POINTS", "amount": "2"},
    {"at": 2, "op": "withdraw", "member": "u1", "ledger": "POINTS", "amount": "all"},
    {"at": 2, "op": "fund", "ledger": "POINTS", "amount": "0.5"},
    {"at": 2, "op": "withdraw", "member": "u1", "ledger": "CXPT", "amount": "1.0000000001"}
  ]}"#;

#[test]
fn points_withdrawals_are_not_withdrawable_whatever_the_digits() {
    let (r, _) = simulate_text("points.json", POINTS_WITHDRAWALS);
    let rejected = r["rejected"].as_array().expect("rejected");
    assert_eq!(
        rejected[..5],
        [
            serde_json::json!({"step": 1, "error": "NotWithdrawable"}),
            serde_json::json!({"step": 2, "error": "NotWithdrawable"}),
            serde_json::json!({"step": 3, "error": "NotWithdrawable"}),
            serde_json::json!({"step": 4, "error": "NotWithdrawable"}),
            serde_json::json!({"step": 5, "error": "NotWithdrawable"}),
        ]
    );
    // On a token ledger the amount is read, and one more precise than the
    // ledger is refused, not rounded.
    assert_eq!(rejected.len(), 6, "{rejected:?}");
    assert_eq!(rejected[5]["step"], 6);
    let text = rejected[5]["error"].as_str().expect("error");
    assert!(text.contains("more than 9 digits"), "{text}");
    assert_eq!(field(&r, "u1", "POINTS", "own"), "2");
    assert_eq!(field(&r, "u1", "POINTS", "withdrawn"), "0");
}

/// A failed join leaves no member: it is absent from `members`, and every
/// later step naming it is `UnknownMember` (or, as a referrer,
/// `UnknownReferrer`). A failed attestation leaves a member. A first join
/// naming its own wallet as referrer names a wallet that holds no membership
/// yet: `UnknownReferrer`, first in §8's order for joins (before `SelfReferral`).
#[test]
fn a_failed_join_leaves_no_member() {
    let (r, _) = simulate_text(
        "failed-join.json",
        r#"{"preset": "cxmpute",
          "members": [
            {"name": "p0", "class": "provider", "vram_gb": 24},
            {"name": "u0", "class": "user"},
            {"name": "mixed", "class": "user", "referrer": "p0"},
            {"name": "self", "class": "provider", "referrer": "self", "vram_gb": 24}
          ],
          "steps": [
            {"at": 1, "op": "withdraw", "member": "mixed", "ledger": "CXPT", "amount": "1"},
            {"at": 1, "op": "withdraw", "member": "mixed", "ledger": "POINTS", "amount": "0.5"},
            {"at": 1, "op": "withdraw", "member": "self", "ledger": "CXPT", "amount": "1.0000000001"},
            {"at": 1, "op": "usage", "id": 1, "user": "mixed", "endpoint": "chat", "tokens": 10},
            {"at": 1, "op": "compute", "id": 1, "provider": "self", "service": "chat", "model": "llama3-8b", "tokens": 10, "latency_ms": 100},
            {"at": 1, "op": "set_referrer", "member": "mixed", "referrer": "u0"},
            {"at": 1, "op": "set_tier", "member": "self", "tier": "vip"},
            {"at": 1, "op": "set_referrer", "member": "u0", "referrer": "mixed"},
            {"at": 2, "op": "join", "name": "late", "class": "user", "referrer": "mixed"},
            {"at": 3, "op": "usage", "id": 1, "user": "late", "endpoint": "chat", "tokens": 10}
          ]}"#,
    );
    assert_eq!(member_names(&r), ["p0", "u0"]);
    let expected = serde_json::json!([
        {"member": "mixed", "error": "ClassMismatch"},
        {"member": "self", "error": "UnknownReferrer"},
        {"step": 0, "error": "UnknownMember"},
        {"step": 1, "error": "UnknownMember"},
        {"step": 2, "error": "UnknownMember"},
        {"step": 3, "error": "UnknownMember"},
        {"step": 4, "error": "UnknownMember"},
        {"step": 5, "error": "UnknownMember"},
        {"step": 6, "error": "UnknownMember"},
        {"step": 7, "error": "UnknownReferrer"},
        {"step": 8, "error": "UnknownReferrer"},
        {"step": 9, "error": "UnknownMember"}
    ]);
    assert_eq!(r["rejected"], expected);
    assert_eq!(r["members"]["p0"]["downline"], serde_json::json!([0, 0, 0]));
    assert_eq!(r["audit"]["verdict"], "pass");

    // Aether: a node whose join failed is judged on its coefficients first
    // (§8's order for bandwidth), then UnknownMember; a node whose
    // attestation fails (duplicate fingerprint) stays a member.
    let (r, _) = simulate_text(
        "failed-join-aether.json",
        r#"{"preset": "aether",
          "members": [
            {"name": "n1", "class": "node", "fingerprint": "f1", "subnet": "s1"},
            {"name": "clone", "class": "node", "fingerprint": "f1", "subnet": "s1"},
            {"name": "ghost", "class": "node", "referrer": "ghost", "fingerprint": "f2", "subnet": "s2"}
          ],
          "steps": [
            {"at": 1, "op": "bandwidth", "id": 1, "node": "ghost", "bytes": 5, "quality": "1.5", "stability": "1", "demand": "1"},
            {"at": 1, "op": "bandwidth", "id": 1, "node": "ghost", "bytes": 5, "quality": "1", "stability": "1", "demand": "2"},
            {"at": 1, "op": "bandwidth", "id": 1, "node": "ghost", "bytes": 5, "quality": "1", "stability": "1", "demand": "1"},
            {"at": 1, "op": "bandwidth", "id": 1, "node": "clone", "bytes": 5, "quality": "1", "stability": "1", "demand": "1"}
          ]}"#,
    );
    assert_eq!(member_names(&r), ["clone", "n1"]);
    assert_eq!(
        r["rejected"],
        serde_json::json!([
            {"member": "clone", "error": "DuplicateDevice"},
            {"member": "ghost", "error": "UnknownReferrer"},
            {"step": 0, "error": "InvalidCoefficient"},
            {"step": 1, "error": "InvalidDemandMultiplier"},
            {"step": 2, "error": "UnknownMember"},
            {"step": 3, "error": "UnattestedNode"}
        ])
    );
}

#[test]
fn a_single_class_preset_needs_no_class() {
    let (r, _) = simulate_text(
        "no-class.json",
        r#"{"preset": "clore",
          "members": [{"name": "a"}, {"name": "b", "referrer": "a"}],
          "steps": [
            {"at": 1, "op": "join", "name": "c", "referrer": "b"},
            {"at": 2, "op": "rental", "id": 1, "currency": "CLORE", "renter": "c", "host": "a",
             "renter_base_fee": "10", "renter_extra_fee": "0", "host_base_fee": "10", "host_extra_fee": "0"}
          ]}"#,
    );
    assert_eq!(member_names(&r), ["a", "b", "c"]);
    assert_eq!(r["members"]["c"]["referrer"], "b");
    assert_eq!(r["members"]["a"]["downline"], serde_json::json!([1, 1, 0]));
    assert_eq!(r["rejected"], serde_json::json!([]));
    assert_eq!(r["audit"]["verdict"], "pass");

    // Where the preset has several classes, a missing class is bad input.
    let dir = std::env::temp_dir().join(format!("upline-cli-class-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("missing-class.json");
    std::fs::write(
        &path,
        r#"{"preset": "cxmpute", "members": [{"name": "a"}]}"#,
    )
    .expect("write");
    let out = upline(&["simulate", path.to_str().expect("path"), "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("missing-class.json")
            && stderr.contains(
                "member a: \"class\" is missing: the cxmpute preset has classes user, provider"
            ),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Refusals the example files do not reach: withdrawals past the balance and
/// past the vault, a report of the wrong class, links refused by name.
const MORE_REFUSALS: &str = r#"{"preset": "cxmpute",
  "members": [
    {"name": "p0", "class": "provider", "vram_gb": 24},
    {"name": "p1", "class": "provider", "referrer": "p0", "vram_gb": 24},
    {"name": "u0", "class": "user"},
    {"name": "u1", "class": "user", "referrer": "u0"},
    {"name": "u2", "class": "user"},
    {"name": "ghost", "class": "user", "referrer": "p0"}
  ],
  "steps": [
    {"at": 1, "op": "compute", "id": 1, "provider": "p1", "service": "chat", "model": "llama3-70b", "tokens": 100000, "latency_ms": 5000},
    {"at": 2, "op": "withdraw", "member": "p1", "ledger": "CXPT", "amount": "10"},
    {"at": 3, "op": "fund", "ledger": "CXPT", "amount": "5"},
    {"at": 4, "op": "withdraw", "member": "p1", "ledger": "CXPT", "amount": "40"},
    {"at": 4, "op": "withdraw", "member": "p1", "ledger": "CXPT", "amount": "10"},
    {"at": 4, "op": "withdraw", "member": "p1", "ledger": "CXPT", "amount": "0.5"},
    {"at": 5, "op": "usage", "id": 1, "user": "p0", "endpoint": "chat", "tokens": 10},
    {"at": 5, "op": "compute", "id": 1, "provider": "u0", "service": "chat", "model": "llama3-8b", "tokens": 10, "latency_ms": 100},
    {"at": 6, "op": "set_referrer", "member": "p0", "referrer": "p1"},
    {"at": 6, "op": "set_referrer", "member": "u1", "referrer": "u2"},
    {"at": 6, "op": "set_referrer", "member": "u2", "referrer": "u2"},
    {"at": 6, "op": "withdraw", "member": "ghost", "ledger": "POINTS", "amount": "all"},
    {"at": 7, "op": "join", "name": "late", "class": "user", "referrer": "ghost"},
    {"at": 8, "op": "withdraw", "member": "p1", "ledger": "CXPT", "amount": "5"}
  ]}"#;

#[test]
fn more_refusals_by_their_section_8_names() {
    let (r, _) = simulate_text("more.json", MORE_REFUSALS);
    assert_eq!(
        r["rejected"],
        serde_json::json!([
            {"member": "ghost", "error": "ClassMismatch"},
            {"step": 1, "error": "VaultUnderfunded"},
            {"step": 3, "error": "InsufficientBalance"},
            {"step": 4, "error": "VaultUnderfunded"},
            {"step": 5, "error": "BelowMinimum"},
            {"step": 6, "error": "WrongClass"},
            {"step": 7, "error": "WrongClass"},
            {"step": 8, "error": "HasReferees"},
            {"step": 9, "error": "ReferrerAlreadySet"},
            {"step": 10, "error": "SelfReferral"},
            {"step": 11, "error": "UnknownMember"},
            {"step": 12, "error": "UnknownReferrer"}
        ])
    );
    assert_eq!(field(&r, "p1", "CXPT", "own"), "15.225");
    assert_eq!(field(&r, "p1", "CXPT", "withdrawn"), "5");
    assert_eq!(r["ledgers"]["CXPT"]["vault"], "0");
    assert_eq!(r["audit"]["verdict"], "pass");
}

/// One wallet, one membership per class (DESIGN.md §3 rule 6, §8's
/// `wallet`): alice is a user and a provider, each membership earning and
/// referred on its own; a code names the referrer's membership in the
/// joiner's class (carol, a user, names bob's provider entry and is linked to
/// bob's user membership); eve's provider membership cannot be referred by
/// her own user membership; alice twice in one class is `AlreadyMember`, and
/// that entry, which does not exist, is never alice's user membership.
const DUAL_ROLE: &str = r#"{"preset": "cxmpute",
  "members": [
    {"name": "uref", "class": "user"},
    {"name": "pref", "class": "provider", "vram_gb": 24},
    {"name": "alice-user", "wallet": "alice", "class": "user", "referrer": "uref"},
    {"name": "alice-provider", "wallet": "alice", "class": "provider", "referrer": "pref", "vram_gb": 24},
    {"name": "bob-u", "wallet": "bob", "class": "user"},
    {"name": "bob-p", "wallet": "bob", "class": "provider", "vram_gb": 24},
    {"name": "carol", "class": "user", "referrer": "bob-p"},
    {"name": "dave", "class": "provider", "referrer": "bob-u", "vram_gb": 24},
    {"name": "eve-u", "wallet": "eve", "class": "user"},
    {"name": "eve-p", "wallet": "eve", "class": "provider", "referrer": "eve-u"},
    {"name": "alice-again", "wallet": "alice", "class": "user", "referrer": "bob-u"}
  ],
  "steps": [
    {"at": 60, "op": "usage", "id": 1, "user": "alice-user", "endpoint": "chat", "tokens": 1000},
    {"at": 60, "op": "compute", "id": 1, "provider": "alice-provider", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000},
    {"at": 60, "op": "usage", "id": 1, "user": "carol", "endpoint": "chat", "tokens": 1000},
    {"at": 60, "op": "compute", "id": 1, "provider": "dave", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000},
    {"at": 70, "op": "usage", "id": 2, "user": "alice-again", "endpoint": "chat", "tokens": 1000},
    {"at": 70, "op": "withdraw", "member": "alice-again", "ledger": "POINTS", "amount": "all"},
    {"at": 70, "op": "compute", "id": 2, "provider": "alice-user", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000},
    {"at": 80, "op": "set_referrer", "member": "eve-u", "referrer": "alice-provider"},
    {"at": 90, "op": "join", "name": "frank", "wallet": "bob", "class": "user"}
  ]}"#;

#[test]
fn one_wallet_earns_and_is_referred_in_each_of_its_memberships() {
    let (r, _) = simulate_text("dual-role.json", DUAL_ROLE);
    assert_eq!(
        member_names(&r),
        [
            "alice-provider",
            "alice-user",
            "bob-p",
            "bob-u",
            "carol",
            "dave",
            "eve-u",
            "pref",
            "uref"
        ]
    );
    assert_eq!(
        r["rejected"],
        serde_json::json!([
            {"member": "eve-p", "error": "SelfReferral"},
            {"member": "alice-again", "error": "AlreadyMember"},
            {"step": 4, "error": "UnknownMember"},
            {"step": 5, "error": "UnknownMember"},
            {"step": 6, "error": "WrongClass"},
            {"step": 8, "error": "AlreadyMember"}
        ])
    );
    let referrer = |name: &str| r["members"][name]["referrer"].clone();
    // Each of alice's memberships has its own referrer, balances and ids.
    assert_eq!(referrer("alice-user"), "uref");
    assert_eq!(referrer("alice-provider"), "pref");
    assert_eq!(field(&r, "alice-user", "POINTS", "own"), "2");
    assert_eq!(field(&r, "alice-user", "CXPT", "own"), "0");
    assert_eq!(field(&r, "alice-provider", "CXPT", "own"), "0.375");
    assert_eq!(field(&r, "alice-provider", "POINTS", "own"), "0");
    assert_eq!(field(&r, "uref", "POINTS", "level1"), "0.3", "15% of 2");
    assert_eq!(field(&r, "uref", "POINTS", "bonus"), "25");
    assert_eq!(
        field(&r, "pref", "CXPT", "level1"),
        "0.0375",
        "10% of 0.375"
    );
    assert_eq!(field(&r, "pref", "POINTS", "bonus"), "50");
    // bob's code names his membership in the joiner's class.
    assert_eq!(referrer("carol"), "bob-u");
    assert_eq!(referrer("dave"), "bob-p");
    assert_eq!(field(&r, "bob-u", "POINTS", "level1"), "0.3");
    assert_eq!(field(&r, "bob-u", "POINTS", "bonus"), "25");
    assert_eq!(field(&r, "bob-p", "CXPT", "level1"), "0.0375");
    assert_eq!(field(&r, "bob-p", "POINTS", "bonus"), "50");
    assert_eq!(
        r["members"]["bob-u"]["downline"],
        serde_json::json!([1, 0, 0])
    );
    assert_eq!(
        r["members"]["bob-p"]["downline"],
        serde_json::json!([1, 0, 0])
    );
    // eve's user membership, linked later with alice's code, is linked to
    // alice's user membership (the same class), two levels under uref.
    assert_eq!(referrer("eve-u"), "alice-user");
    assert_eq!(field(&r, "alice-user", "POINTS", "bonus"), "25");
    assert_eq!(
        r["members"]["uref"]["downline"],
        serde_json::json!([1, 1, 0])
    );
    assert_eq!(
        r["members"]["alice-provider"]["downline"],
        serde_json::json!([0, 0, 0])
    );
    // The entry that failed is never alice's user membership: nothing more
    // was credited to it, nothing withdrawn.
    assert_eq!(field(&r, "alice-user", "POINTS", "balance"), "27");
    assert_eq!(field(&r, "alice-user", "POINTS", "withdrawn"), "0");
    assert_eq!(r["ledgers"]["POINTS"]["credited"], "179.6");
    assert_eq!(r["audit"]["verdict"], "pass", "{}", r["audit"]);
}

/// Clore's promotion pays "rentals made during the promotion": the rental's
/// work time decides, whenever its report lands. 100 CLORE/day with a 10%
/// fee split 5/5 pays each side's referrer 2.5 at 50%, 0.75 at 15%.
#[test]
fn a_rental_worked_during_the_promotion_earns_its_rate_when_reported_after() {
    let (r, _) = simulate_text(
        "late-rental.json",
        r#"{"preset": "clore",
          "members": [
            {"name": "r1ref"}, {"name": "h1ref"}, {"name": "r2ref"}, {"name": "h2ref"},
            {"name": "r3ref"}, {"name": "h3ref"},
            {"name": "renter1", "referrer": "r1ref"}, {"name": "host1", "referrer": "h1ref"},
            {"name": "renter2", "referrer": "r2ref"}, {"name": "host2", "referrer": "h2ref"},
            {"name": "renter3", "referrer": "r3ref"}, {"name": "host3", "referrer": "h3ref"}
          ],
          "steps": [
            {"at": 0, "op": "promotion", "rate": "0.5", "start": 3600, "end": 86400},
            {"at": 4000, "op": "rental", "id": 1, "work_at": 3599, "currency": "CLORE", "renter": "renter3", "host": "host3",
             "renter_base_fee": "5", "renter_extra_fee": "0", "host_base_fee": "5", "host_extra_fee": "0"},
            {"at": 90000, "op": "rental", "id": 1, "work_at": 86399, "currency": "CLORE", "renter": "renter1", "host": "host1",
             "renter_base_fee": "5", "renter_extra_fee": "0", "host_base_fee": "5", "host_extra_fee": "0"},
            {"at": 90000, "op": "rental", "id": 1, "currency": "CLORE", "renter": "renter2", "host": "host2",
             "renter_base_fee": "5", "renter_extra_fee": "0", "host_base_fee": "5", "host_extra_fee": "0"},
            {"at": 90000, "op": "rental", "id": 2, "work_at": 86400, "currency": "CLORE", "renter": "renter1", "host": "host1",
             "renter_base_fee": "5", "renter_extra_fee": "0", "host_base_fee": "5", "host_extra_fee": "0"}
          ]}"#,
    );
    assert_eq!(r["rejected"], serde_json::json!([]));
    // Worked a second before the end, reported an hour after it: 50%.
    // Then a rental worked at the end itself (the window is start ≤ t < end): 15%.
    assert_eq!(field(&r, "r1ref", "CLORE", "level1"), "3.25", "2.5 + 0.75");
    assert_eq!(field(&r, "h1ref", "CLORE", "level1"), "3.25", "2.5 + 0.75");
    // Worked (and reported) after the end: the tier rate.
    assert_eq!(field(&r, "r2ref", "CLORE", "level1"), "0.75");
    assert_eq!(field(&r, "h2ref", "CLORE", "level1"), "0.75");
    // Reported during the promotion about work before it began: the tier rate.
    assert_eq!(field(&r, "r3ref", "CLORE", "level1"), "0.75");
    assert_eq!(field(&r, "h3ref", "CLORE", "level1"), "0.75");
    assert_eq!(r["ledgers"]["CLORE"]["credited"], "9.5");
    assert_eq!(r["audit"]["verdict"], "pass", "{}", r["audit"]);
}

/// A report's work time (`work_at`, seconds after the start; default `at`)
/// must be within the network's maximum report age (7 days) of the clock and
/// not before the member's last: the program refuses by name, in §8's order.
const WORK_TIMES: &str = r#"{"preset": "cxmpute",
  "members": [{"name": "u", "class": "user"}, {"name": "p", "class": "provider", "vram_gb": 24}],
  "steps": [
    {"at": 100, "op": "usage", "id": 1, "user": "u", "endpoint": "chat", "tokens": 10, "work_at": 101},
    {"at": 100, "op": "usage", "id": 1, "user": "u", "endpoint": "chat", "tokens": 10},
    {"at": 100, "op": "usage", "id": 1, "user": "u", "endpoint": "chat", "tokens": 10, "work_at": 200},
    {"at": 604900, "op": "usage", "id": 2, "user": "u", "endpoint": "chat", "tokens": 10, "work_at": 99},
    {"at": 604900, "op": "usage", "id": 2, "user": "u", "endpoint": "chat", "tokens": 10, "work_at": 100},
    {"at": 604900, "op": "usage", "id": 3, "user": "u", "endpoint": "chat", "tokens": 10, "work_at": 604000},
    {"at": 604900, "op": "usage", "id": 4, "user": "u", "endpoint": "chat", "tokens": 10, "work_at": 603999},
    {"at": 604900, "op": "usage", "id": 4, "user": "u", "endpoint": "chat", "tokens": 10, "work_at": 604000},
    {"at": 604900, "op": "compute", "id": 1, "provider": "p", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000, "work_at": 604901},
    {"at": 604900, "op": "compute", "id": 1, "provider": "p", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000, "work_at": 99},
    {"at": 604900, "op": "compute", "id": 1, "provider": "p", "service": "chat", "model": "llama3-70b", "tokens": 1000, "latency_ms": 5000, "work_at": 100}
  ]}"#;

#[test]
fn work_times_in_the_future_too_old_or_earlier_are_refused_by_name() {
    let (r, _) = simulate_text("work-times.json", WORK_TIMES);
    assert_eq!(
        r["rejected"],
        serde_json::json!([
            {"step": 0, "error": "ReportInFuture"},
            {"step": 2, "error": "StaleReport"},
            {"step": 3, "error": "ReportTooOld"},
            {"step": 6, "error": "StaleReport"},
            {"step": 8, "error": "ReportInFuture"},
            {"step": 9, "error": "ReportTooOld"}
        ])
    );
    // Recorded: at the clock (step 1), exactly the oldest allowed (step 4),
    // later work (step 5) and work at the same time as the last (step 7);
    // 1.01 points each.
    assert_eq!(field(&r, "u", "POINTS", "own"), "4.04");
    assert_eq!(field(&r, "p", "CXPT", "own"), "0.375");
    assert_eq!(r["audit"]["verdict"], "pass", "{}", r["audit"]);

    // A reports step's work_at must be a whole number; work_at on a step that
    // is not a report is not a field of it.
    let dir = std::env::temp_dir().join(format!("upline-cli-work-at-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (file, text, expected) in [
        (
            "fraction.json",
            r#"{"preset": "cxmpute", "members": [{"name": "u", "class": "user"}], "steps": [{"at": 1, "op": "usage", "id": 1, "user": "u", "endpoint": "chat", "tokens": 1, "work_at": 0.5}]}"#,
            "step 0: 0.5 is not a whole number",
        ),
        (
            "fund.json",
            r#"{"preset": "cxmpute", "steps": [{"at": 1, "op": "fund", "ledger": "CXPT", "amount": "1", "work_at": 1}]}"#,
            "step 0: unknown field `work_at`",
        ),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, text).expect("write");
        let out = upline(&["simulate", path.to_str().expect("path"), "--json"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains(expected), "{file}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Every §8 refusal, in the example files and the scenarios above:
/// `rejected` carries only §8 names, each of the 20 is reached, and no output
/// (JSON or tables) shows a framework code.
#[test]
fn every_refusal_is_a_section_8_name() {
    let mut reached = std::collections::BTreeSet::new();
    let mut outputs: Vec<(String, String)> = Vec::new();
    let dir = std::env::temp_dir().join(format!("upline-cli-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let failed_join = r#"{"preset": "cxmpute",
      "members": [{"name": "p0", "class": "provider"}, {"name": "u", "class": "user", "referrer": "p0"}],
      "steps": [{"at": 1, "op": "withdraw", "member": "u", "ledger": "CXPT", "amount": "all"}]}"#;
    let mut files: Vec<(String, String)> = ["cxmpute.json", "clore.json", "aether.json"]
        .iter()
        .map(|file| (file.to_string(), scenario(file)))
        .collect();
    for (file, text) in [
        ("more.json", MORE_REFUSALS),
        ("failed.json", failed_join),
        ("dual-role.json", DUAL_ROLE),
        ("work-times.json", WORK_TIMES),
        ("points.json", POINTS_WITHDRAWALS),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, text).expect("write");
        files.push((file.into(), path.to_str().expect("utf-8 path").into()));
    }
    for (file, path) in &files {
        let out = upline(&["simulate", path, "--json"]);
        assert!(out.status.success(), "{file}");
        outputs.push((file.clone(), String::from_utf8_lossy(&out.stdout).into()));
        let tables = upline(&["simulate", path]);
        assert!(tables.status.success(), "{file}");
        outputs.push((
            format!("{file} (tables)"),
            String::from_utf8_lossy(&tables.stdout).into(),
        ));
    }
    std::fs::remove_dir_all(&dir).ok();
    for (file, stdout) in &outputs {
        assert!(!stdout.contains("Custom("), "{file}: {stdout}");
        if file.ends_with("(tables)") {
            continue;
        }
        let r: Value = serde_json::from_str(stdout).expect("JSON");
        for refusal in r["rejected"].as_array().expect("rejected") {
            let name = refusal["error"].as_str().expect("error name");
            // points.json's last step is an amount more precise than the
            // ledger: a scenario error, not a refusal, and so not a §8 name.
            if file == "points.json" && refusal["step"] == 6 {
                continue;
            }
            assert!(SECTION_8_ERRORS.contains(&name), "{file}: {refusal}");
            reached.insert(name.to_string());
        }
    }
    let unreached: Vec<&str> = SECTION_8_ERRORS
        .iter()
        .copied()
        .filter(|name| !reached.contains(*name))
        .collect();
    assert!(
        unreached.is_empty(),
        "unreached: {unreached:?}; reached: {reached:?}"
    );
}
