//! The explorer as its users run it: `upline explorer index|audit|serve`
//! against `upline sandbox` over JSON-RPC, the dashboard in headless
//! chromium, and `upline demo --serve`.

mod common;

use common::web::{get_json, Browser};
use common::{code, compute, stderr, write, Sandbox, Server};
use serde_json::{json, Value};

/// The whole explorer against a cluster: `upline sandbox` as the cluster,
/// `explorer index` over JSON-RPC (and again, resuming), `explorer audit`,
/// `explorer serve`, and the dashboard in a real headless browser.
#[test]
fn the_explorer_indexes_audits_and_serves_a_cluster() {
    let s = Sandbox::start("explorer");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let alice = s.wallet("alice");
    let bob = s.wallet("bob");
    let init = s.init("cxmpute", &oracle);
    let network = common::network_address(&init);
    s.join("alice", &network, "provider", None);
    s.join("bob", &network, "provider", Some(&alice));
    s.attest_provider(&network, &bob, "24576");
    let reports: String = (1..=5).map(|id| compute(id, &bob, "llama3-70b")).collect();
    let file = write(&s.dir.join("reports.jsonl"), &reports);
    s.ok(
        "oracle",
        &["oracle", "submit", &file, "--network", &network],
    );

    let db = s.dir.join("index.sqlite");
    let db = db.to_str().expect("utf-8 path");
    let first = s.ok("admin", &["explorer", "index", "--db", db]);
    assert!(first.contains("accounts snapshotted"), "{first}");
    assert!(!first.contains("indexed 0 new"), "{first}");
    let again = s.ok("admin", &["explorer", "index", "--db", db]);
    assert!(
        again.contains("indexed 0 new transactions (0 events)"),
        "{again}"
    );

    let audit = s.run("admin", &["explorer", "audit", "--db", db, "--json"]);
    assert_eq!(code(&audit), 0, "{}", stderr(&audit));
    let verdict: Value = serde_json::from_slice(&audit.stdout).expect("JSON verdict");
    assert_eq!(
        (verdict["verdict"].clone(), verdict["reports"].clone()),
        (json!("pass"), json!(5))
    );

    let server = Server::start(&["explorer", "serve", "--db", db, "--port", "0"]);
    let (status, stats) = get_json(&server.url, &format!("/api/providers/{bob}/referral-stats"));
    assert_eq!(status, 200, "{stats}");
    assert_eq!(
        stats["memberships"][0]["ledgers"][0]["totals"]["work"],
        "1.875"
    );
    let (_, stats) = get_json(
        &server.url,
        &format!("/api/providers/{alice}/referral-stats"),
    );
    assert_eq!(
        stats["memberships"][0]["ledgers"][0]["rewards_by_level"]["level1"],
        "0.1875"
    );
    let (status, audit) = get_json(&server.url, "/api/audit");
    assert_eq!((status, audit["verdict"].clone()), (200, json!("pass")));

    if let Some(browser) = Browser::start() {
        browser.open(&format!("{}/", server.url));
        assert_eq!(browser.text("#verdict"), "PASS");
        browser.type_into("#wallet", &bob);
        browser.click("#show");
        let cxpt = r#".membership[data-network-name="cxmpute"] table[data-ledger="CXPT"]"#;
        assert_eq!(
            browser.text(&format!(r#"{cxpt} td[data-field="work"]"#)),
            "1.875"
        );
        assert_eq!(
            browser.text(&format!(r#"{cxpt} td[data-field="balance"]"#)),
            "1.875"
        );
        // The chart's bar for today holds the day's credits.
        let today = browser.attribute("svg.history rect:last-of-type", "data-credited");
        assert_eq!(today.as_deref(), Some("1.875"));
        // Alice, the referrer: her level-1 commissions and her downline.
        browser.clear("#wallet");
        browser.type_into("#wallet", &alice);
        browser.click("#show");
        let level1 = r#".membership[data-network-name="cxmpute"] table[data-ledger="CXPT"] td[data-field="level1"]"#;
        assert_eq!(browser.text(level1), "0.1875");
        assert_eq!(browser.text(r#"td[data-field="downline-level1"]"#), "1");
    }
    drop(server);

    // Two more reports: the next run indexes only them.
    let more: String = (6..=7).map(|id| compute(id, &bob, "llama3-70b")).collect();
    let file = write(&s.dir.join("more.jsonl"), &more);
    s.ok(
        "oracle",
        &["oracle", "submit", &file, "--network", &network],
    );
    let resumed = s.ok("admin", &["explorer", "index", "--db", db]);
    assert!(resumed.contains("(2 events)"), "{resumed}");
    let audit = s.run("admin", &["explorer", "audit", "--db", db]);
    let text = String::from_utf8_lossy(&audit.stdout);
    assert!(
        text.starts_with("audit: pass") && text.contains("7 reports"),
        "{text}"
    );

    // Bad input: an index that cannot be opened.
    let bad = s.run(
        "admin",
        &["explorer", "audit", "--db", "/nonexistent/dir/index.sqlite"],
    );
    common::fails_with(&bad, 2, "--db");
}

/// `demo --serve`: the dashboard over every demo network, each demo's chain
/// served as a sandbox, and the index following them.
#[test]
fn demo_serve_keeps_the_sandboxes_and_the_dashboard_running() {
    let demo = Server::start_marked(
        &["demo", "--serve", "--port", "0", "--sandbox-port", "0"],
        "upline explorer:",
    );
    let (status, networks) = get_json(&demo.url, "/api/networks");
    assert_eq!(status, 200);
    let networks = networks["networks"].as_array().expect("networks").clone();
    assert_eq!(networks.len(), 5);
    let (_, audit) = get_json(&demo.url, "/api/audit");
    assert_eq!(audit["verdict"], "pass", "{audit}");
    // 5 + 1,015 + 7,800 compute and usage reports, 4 rentals, 3 bandwidth reports.
    assert_eq!(
        (audit["networks"].clone(), audit["reports"].clone()),
        (json!(5), json!(8827))
    );

    // A wallet joins the Clore network on its sandbox; the index follows.
    let clore = networks
        .iter()
        .find(|n| n["name"] == "clore")
        .and_then(|n| n["address"].as_str())
        .expect("the clore network")
        .to_string();
    let sandbox = demo
        .lines
        .iter()
        .find(|l| l.contains("Clore.ai") && l.contains("http://"))
        .and_then(|l| l.split_whitespace().next())
        .expect("the Clore sandbox's URL")
        .to_string();
    let dir = std::env::temp_dir().join(format!("upline-demo-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let key = dir.join("newcomer.json");
    let key = key.to_str().expect("utf-8 path");
    let upline = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_upline"))
            .args(["--url", &sandbox, "--keypair", key])
            .args(args)
            .output()
            .expect("run upline");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    };
    upline(&["keygen"]);
    upline(&["airdrop", "1"]);
    upline(&["member", "join", "--network", &clore, "--class", "account"]);
    let members = format!("/api/networks/{clore}/members?per_page=500");
    let before = networks
        .iter()
        .find(|n| n["name"] == "clore")
        .expect("clore")["members"]
        .clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, page) = get_json(&demo.url, &members);
        if page["total"] != before {
            assert_eq!(page["total"].as_u64(), before.as_u64().map(|n| n + 1));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the index never saw the new member"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }

    // The provider network's sandbox indexed over JSON-RPC into a file of its
    // own: 7,800 reports' transactions, fetched in pages of 1,000 signatures.
    let providers = demo
        .lines
        .iter()
        .find(|l| l.contains("7,800 compute reports") && l.contains("http://"))
        .and_then(|l| l.split_whitespace().next())
        .expect("the provider network's sandbox")
        .to_string();
    let db = dir.join("providers.sqlite");
    let db = db.to_str().expect("utf-8 path");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_upline"))
            .args(["--url", &providers])
            .args(args)
            .output()
            .expect("run upline")
    };
    let indexed = run(&["explorer", "index", "--db", db]);
    assert!(indexed.status.success(), "{}", stderr(&indexed));
    let audit = run(&["explorer", "audit", "--db", db]);
    let text = String::from_utf8_lossy(&audit.stdout);
    assert!(
        text.starts_with("audit: pass (1 networks, 7874 events, 7800 reports"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
