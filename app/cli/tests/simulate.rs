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
    assert_eq!(bytes("member, 1 ledger"), 509);
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
    assert!(c["v0_with_members_in_lookup_table"]["separate_uplines"].as_u64() >= Some(20));
    let g = &r["throughput"]["generated_network"];
    assert_eq!(
        (g["members"].as_u64(), g["transactions"].as_u64()),
        (Some(300), Some(600))
    );
    assert_eq!(r["throughput"]["explorer"]["verdict"], "pass");
    let goals = r["goals"].as_array().expect("goals");
    assert_eq!(goals.len(), 5);
    assert!(goals[..4].iter().all(|g| g["met"] == true), "{goals:?}");
}
