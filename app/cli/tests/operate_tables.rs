//! The admin's registry commands end to end against `upline sandbox`:
//! `network model register|update`, `network ledger add|update` and
//! `network tables update FILE` (what changes, field by field; refused
//! without a terminal unless --yes). Effects are read back with `network
//! show --json`; re-running says "already" and exits 0.

mod common;

use common::*;
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn show(s: &Sandbox, network: &str) -> Value {
    json(&s.ok(
        "admin",
        &["network", "show", "--network", network, "--json"],
    ))
}

fn cxmpute(s: &Sandbox) -> String {
    s.wallet("admin");
    s.wallet("mallory");
    let oracle = s.wallet("oracle");
    network_address(&s.init("cxmpute", &oracle))
}

#[test]
fn models_and_ledgers() {
    let s = Sandbox::start("operate-registry");
    let network = cxmpute(&s);
    let n = ["--network", network.as_str()];
    let model = |key: &str, verb: &str, name: &str, complexity: &str, tier: &str| {
        let args = [
            "network",
            "model",
            verb,
            name,
            "--complexity",
            complexity,
            "--min-tier",
            tier,
            n[0],
            n[1],
        ];
        s.run(key, &args)
    };
    let out = stdout(&model(
        "admin",
        "register",
        "qwen-72b",
        "2.8",
        "mariana-depth",
    ));
    assert!(
        out.contains("registered model qwen-72b")
            && out.contains("complexity 2.8x, providers of tier 4"),
        "{out}"
    );
    let again = model("admin", "register", "qwen-72b", "2.8", "4");
    assert_eq!(code(&again), 0);
    assert!(
        stdout(&again).contains("is already complexity 2.8x"),
        "{}",
        stdout(&again)
    );
    fails_with(
        &model("admin", "register", "qwen-72b", "3", "4"),
        1,
        "ModelExists",
    );
    fails_with(
        &model("admin", "update", "nope", "3", "4"),
        1,
        "UnknownModel",
    );
    fails_with(
        &model("mallory", "update", "qwen-72b", "3", "3"),
        1,
        "NotAdmin",
    );
    fails_with(
        &model("admin", "update", "qwen-72b", "3", "9"),
        1,
        "InvalidModel",
    );
    fails_with(
        &model("admin", "update", "qwen-72b", "3", "deep"),
        2,
        "--min-tier",
    );
    let out = stdout(&model("admin", "update", "qwen-72b", "3", "3"));
    assert!(
        out.contains(
            "complexity 3x, providers of tier 3 and up (was complexity 2.8x, providers of tier 4 and up)"
        ),
        "{out}"
    );

    // Ledger minimum and breaker.
    let update = |key: &str, extra: &[&str]| {
        let mut args = vec![
            "network", "ledger", "update", "--ledger", "CXPT", n[0], n[1],
        ];
        args.extend(extra);
        s.run(key, &args)
    };
    let out = stdout(&update("admin", &["--min", "5", "--breaker", "1000/3600"]));
    assert!(out.contains("minimum withdrawal 5, circuit breaker 1000/3600 s (was minimum withdrawal 1, circuit breaker off)"), "{out}");
    assert!(stdout(&update("admin", &["--min", "5"])).contains("already minimum withdrawal 5"));
    fails_with(
        &update("admin", &["--breaker", "0/3600"]),
        1,
        "InvalidCircuitBreaker",
    );
    fails_with(
        &update("admin", &["--breaker", "lots"]),
        2,
        "AMOUNT/WINDOW_SECONDS",
    );
    fails_with(&update("mallory", &["--min", "2"]), 1, "NotAdmin");
    let v = show(&s, &network);
    assert_eq!(v["ledgers"][0]["min_withdrawal"], "5", "{v}");
    assert_eq!(
        v["ledgers"][0]["circuit_breaker"]["max_outflow"], "1000",
        "{v}"
    );
    assert_eq!(v["ledgers"][0]["circuit_breaker"]["window_seconds"], 3600);
    let v = json(&stdout(&update("admin", &["--breaker", "off", "--json"])));
    assert_eq!(
        (v["circuit_breaker"].clone(), v["changed"].clone()),
        (Value::Null, Value::Bool(true))
    );

    // New ledgers: points, and a token ledger of an existing mint.
    let add = |extra: &[&str]| {
        let mut args = vec!["network", "ledger", "add", n[0], n[1]];
        args.extend(extra);
        s.run("admin", &args)
    };
    let out = stdout(&add(&["--name", "KARMA", "--points"]));
    assert!(out.contains("added ledger 2 KARMA"), "{out}");
    assert!(stdout(&add(&["--name", "KARMA", "--points"])).contains("already has ledger 2 KARMA"));
    let mint = v_mint(&show(&s, &network));
    let out = stdout(&add(&[
        "--name",
        "CXPT2",
        "--mint",
        &mint,
        "--min",
        "0.5",
        "--breaker",
        "10/60",
    ]));
    assert!(
        out.contains("added ledger 3 CXPT2 to network")
            && out.contains("minimum withdrawal 0.5, circuit breaker 10/60 s"),
        "{out}"
    );
    let v = show(&s, &network);
    assert_eq!(v["ledgers"][2]["kind"], "points");
    assert_eq!(v["ledgers"][3]["min_withdrawal"], "0.5", "{v}");
}

fn v_mint(v: &Value) -> String {
    v["ledgers"][0]["mint"].as_str().expect("mint").to_string()
}

#[test]
fn a_tables_update_prints_what_changes_and_needs_yes_without_a_terminal() {
    let s = Sandbox::start("operate-tables");
    let network = cxmpute(&s);
    let n = ["--network", network.as_str()];
    let preset = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations/presets/cxmpute.json"
    );
    let mut file: Value = json(&std::fs::read_to_string(preset).expect("preset"));
    let update = |key: &str, path: &str, extra: &[&str]| {
        let mut args = vec!["network", "tables", "update", path, n[0], n[1]];
        args.extend(extra);
        s.run(key, &args)
    };
    // The preset it was made from: nothing changes.
    let out = update("admin", preset, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("already match the file"),
        "{}",
        stdout(&out)
    );

    file["classes"][1]["commission_rates"][0] = Value::from("0.12");
    file["rewards"]["compute"]["tiers"][0]["base"] = Value::from("0.006");
    let changed = write(&s.key("tables"), &file.to_string());
    let refused = update("admin", &changed, &[]);
    fails_with(&refused, 2, "re-run with --yes");
    let message = stderr(&refused);
    assert!(
        message.contains("class provider")
            && message.contains("commission_rates")
            && message.contains("0.1, 0.05, 0.025 -> 0.12, 0.05, 0.025"),
        "{message}"
    );
    assert!(
        message.contains("reports compute")
            && message.contains("tiers[0].base")
            && message.contains("0.005 -> 0.006"),
        "{message}"
    );
    let version = show(&s, &network)["tables_version"].clone();
    fails_with(&update("mallory", &changed, &["--yes"]), 1, "NotAdmin");
    let v = json(&stdout(&update("admin", &changed, &["--yes", "--json"])));
    assert_eq!(v["changed"], true, "{v}");
    assert_eq!(v["changes"][0]["scope"], "class provider", "{v}");
    assert_eq!(v["changes"][0]["now"], "0.12, 0.05, 0.025", "{v}");
    assert_ne!(show(&s, &network)["tables_version"], version);
    assert!(stdout(&update("admin", &changed, &[])).contains("already match the file"));
    fails_with(
        &update("admin", "/nonexistent.json", &["--yes"]),
        2,
        "nonexistent",
    );
}

/// On a terminal (here `script`'s pseudo-terminal) the update is asked for:
/// "n" sends nothing, "y" applies it.
#[test]
fn a_tables_update_asks_on_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("no `script` to make a terminal with; skipped");
        return;
    }
    let s = Sandbox::start("operate-tables-tty");
    let network = cxmpute(&s);
    let preset = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations/presets/cxmpute.json"
    );
    let mut file: Value = json(&std::fs::read_to_string(preset).expect("preset"));
    file["same_class_referrals"] = Value::Bool(false);
    let changed = write(&s.key("tables"), &file.to_string());
    let command = format!(
        "{} --url {} --keypair {} network tables update {changed} --network {network}",
        env!("CARGO_BIN_EXE_upline"),
        s.url,
        s.key("admin").display()
    );
    let answer = |reply: &str| {
        let mut child = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("script");
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        let _ = stdin.write_all(reply.as_bytes());
        drop(stdin);
        let out = child.wait_with_output().expect("script output");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = answer("n\n");
    assert!(
        out.contains("same_class_referrals") && out.contains("true -> false"),
        "{out}"
    );
    assert!(
        out.contains("apply them?") && out.contains("not applied"),
        "{out}"
    );
    let v = json(&s.ok(
        "admin",
        &["network", "show", "--network", &network, "--json"],
    ));
    assert_eq!(v["tables_version"], 1, "{v}");
    let out = answer("y\n");
    assert!(out.contains("updated the tables"), "{out}");
    let v = json(&s.ok(
        "admin",
        &["network", "show", "--network", &network, "--json"],
    ));
    assert_eq!(v["tables_version"], 2, "{v}");
}
