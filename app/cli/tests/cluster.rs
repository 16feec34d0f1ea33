//! End-to-end tests of the cluster commands: `upline sandbox` serves a local
//! cluster and every other command runs against it over JSON-RPC, as a user
//! runs them against devnet.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn a_network_is_set_up_joined_reported_on_and_withdrawn_from() {
    let s = Sandbox::start("flow");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let alice = s.wallet("alice");
    let bob = s.wallet("bob");

    let init = s.init("cxmpute", &oracle);
    assert!(init.contains("created  model llama3-70b"), "{init}");
    let network = network_address(&init);
    // Re-running finds everything in place and creates nothing new.
    let again = s.init("cxmpute", &oracle);
    assert!(
        !again.contains("created  network") && !again.contains("created  ledger"),
        "{again}"
    );
    assert!(
        again.contains(&format!("exists   oracle {oracle}")),
        "{again}"
    );
    assert_eq!(network_address(&again), network);

    s.join("alice", &network, "provider", None);
    let joined = s.join("bob", &network, "provider", Some(&alice));
    assert!(joined.contains(&format!("referred by {alice}")), "{joined}");
    let relink = s.run(
        "bob",
        &["member", "set-referrer", "--network", &network, &alice],
    );
    fails_with(&relink, 1, "ReferrerAlreadySet");
    s.attest_provider(&network, &bob, "24576");

    // 30 reports about bob, one naming a model nobody registered, one about a non-member.
    let stranger = anchor_lang::prelude::Pubkey::new_unique().to_string();
    let mut reports: String = (1..=30).map(|id| compute(id, &bob, "llama3-70b")).collect();
    reports += &compute(31, &alice, "no-such-model");
    reports += &compute(1, &stranger, "llama3-70b");
    let file = write(&s.dir.join("reports.jsonl"), &reports);
    let first = s.run(
        "oracle",
        &["oracle", "submit", &file, "--network", &network],
    );
    let summary = String::from_utf8_lossy(&first.stdout);
    assert_eq!(
        code(&first),
        1,
        "partial failure: {summary}{}",
        stderr(&first)
    );
    assert!(summary.contains("recorded now            30"), "{summary}");
    assert!(
        summary.contains("line 31: unknown model \"no-such-model\""),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("line 32: unknown member {stranger}")),
        "{summary}"
    );

    // Each report pays bob 0.375 CXPT and alice 10% of it.
    let bob_stats = s.stats(&network, &bob);
    let alice_stats = s.stats(&network, &alice);
    assert_eq!(bob_stats["ledgers"][0]["totals"]["work"], "11.25");
    assert_eq!(
        alice_stats["ledgers"][0]["rewards_by_level"]["level1"],
        "1.125"
    );
    assert_eq!(alice_stats["downline"]["level1"], 1);
    assert_eq!(bob_stats["referrer"], alice.as_str());
    assert_eq!(bob_stats["device_tier"], 4);

    // Running the same file again records nothing twice.
    let clean: String = (1..=30).map(|id| compute(id, &bob, "llama3-70b")).collect();
    let file = write(&s.dir.join("again.jsonl"), &clean);
    let rerun = s.ok(
        "oracle",
        &["oracle", "submit", &file, "--network", &network],
    );
    assert!(rerun.contains("recorded now             0"), "{rerun}");
    assert!(rerun.contains("already recorded        30"), "{rerun}");
    assert_eq!(
        s.stats(&network, &bob)["ledgers"][0]["totals"]["work"],
        "11.25"
    );

    // Withdrawal: refused while the vault is empty, paid once funded.
    let early = s.run(
        "bob",
        &[
            "member",
            "withdraw",
            "--network",
            &network,
            "--ledger",
            "CXPT",
        ],
    );
    fails_with(&early, 1, "VaultUnderfunded");
    s.ok(
        "admin",
        &[
            "network",
            "fund",
            "--network",
            &network,
            "--ledger",
            "CXPT",
            "--amount",
            "100",
            "--mint-first",
        ],
    );
    let paid = s.ok(
        "bob",
        &[
            "member",
            "withdraw",
            "--network",
            &network,
            "--ledger",
            "CXPT",
            "--amount",
            "10",
        ],
    );
    assert!(
        paid.contains("withdrew 10 CXPT") && paid.contains("balance left 1.25 CXPT"),
        "{paid}"
    );
    let totals = &s.stats(&network, &bob)["ledgers"][0]["totals"];
    assert_eq!(
        (totals["withdrawn"].as_str(), totals["balance"].as_str()),
        (Some("10"), Some("1.25"))
    );

    let text = s.ok(
        "admin",
        &["member", "stats", "--network", &network, "--wallet", &alice],
    );
    assert!(
        text.contains("downline: level 1 1, level 2 0, level 3 0 (total 1)"),
        "{text}"
    );
}

#[test]
fn bad_input_names_the_flag_file_or_line_and_exits_non_zero() {
    let s = Sandbox::start("bad");
    // A missing keypair names the path and the way out.
    let out = s.run("nobody", &["airdrop", "1"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("nobody.json") && stderr(&out).contains("upline keygen"),
        "{}",
        stderr(&out)
    );
    // An unreachable URL and a misspelt moniker.
    let admin_wallet = s.wallet("admin");
    let init = ["network", "init", "--preset", "cxmpute"];
    let out = s.run_at("http://127.0.0.1:1", "admin", &init);
    fails_with(&out, 3, "--url http://127.0.0.1:1: cannot reach");
    let out = s.run_at("devnett", "admin", &["member", "stats", "--network", "x"]);
    fails_with(&out, 2, "--network \"x\"");
    let out = s.run_at("devnett", "admin", &init);
    fails_with(&out, 2, "--url \"devnett\"");

    let network = network_address(&s.ok("admin", &init));
    // An unknown preset, an unknown class, a network that is not one.
    let out = s.run("admin", &["network", "init", "--preset", "nope"]);
    fails_with(&out, 2, "unknown preset \"nope\"");
    let out = s.run(
        "admin",
        &["member", "join", "--network", &network, "--class", "miner"],
    );
    fails_with(
        &out,
        2,
        "--class \"miner\": the network's classes are user, provider",
    );
    let out = s.run(
        "admin",
        &[
            "member",
            "join",
            "--network",
            &admin_wallet,
            "--class",
            "user",
        ],
    );
    assert_eq!(code(&out), 2, "{}", stderr(&out));

    // Attesting or reading a wallet that never joined.
    let out = s.run(
        "admin",
        &[
            "oracle",
            "attest",
            "provider",
            "--network",
            &network,
            "--wallet",
            &admin_wallet,
            "--vram-mb",
            "8192",
        ],
    );
    fails_with(
        &out,
        2,
        &format!("{admin_wallet} is not a member of network {network}"),
    );
    let out = s.run("admin", &["member", "stats", "--network", &network]);
    fails_with(&out, 2, "is not a member of network");

    // A malformed reports file: every bad line named, nothing sent.
    let file = write(
        &s.dir.join("bad.jsonl"),
        "{\"kind\": \"compute\"}\nnot json\n{\"kind\": \"usage\", \"id\": 1, \"user\": \"x\", \"endpoint\": \"chat\", \"tokens\": 1}\n",
    );
    let out = s.run("admin", &["oracle", "submit", &file, "--network", &network]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("3 malformed line(s), nothing sent"), "{err}");
    assert!(
        err.contains("bad.jsonl:1:")
            && err.contains("bad.jsonl:2:")
            && err.contains("bad.jsonl:3:"),
        "{err}"
    );
    // A report about a wallet that never joined is rejected by line, not sent.
    let fine = write(
        &s.dir.join("fine.jsonl"),
        &compute(1, &admin_wallet, "llama3-70b"),
    );
    let out = s.run("admin", &["oracle", "submit", &fine, "--network", &network]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("line 1: unknown member"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn rentals_and_bandwidth_reports_pay_what_the_simulation_pays() {
    let s = Sandbox::start("kinds");
    s.wallet("admin");
    let oracle = s.wallet("oracle");

    // Clore: a rental whose renter alice referred pays her 15% of the 5 CLORE base fee.
    let clore = network_address(&s.init("clore", &oracle));
    let alice = s.wallet("alice");
    let renter = s.wallet("renter");
    let host = s.wallet("host");
    s.ok(
        "alice",
        &["member", "join", "--network", &clore, "--class", "account"],
    );
    s.ok(
        "renter",
        &[
            "member",
            "join",
            "--network",
            &clore,
            "--class",
            "account",
            "--referrer",
            &alice,
        ],
    );
    s.ok(
        "host",
        &["member", "join", "--network", &clore, "--class", "account"],
    );
    let rental = format!(
        "{{\"kind\": \"rental\", \"id\": 1, \"currency\": \"CLORE\", \"renter\": \"{renter}\", \"host\": \"{host}\", \"renter_base_fee\": \"5\", \"renter_extra_fee\": \"0\", \"host_base_fee\": \"5\", \"host_extra_fee\": \"0\"}}\n"
    );
    let file = write(&s.dir.join("rental.jsonl"), &rental);
    s.ok("oracle", &["oracle", "submit", &file, "--network", &clore]);
    assert_eq!(
        s.stats(&clore, &alice)["ledgers"][0]["rewards_by_level"]["level1"],
        "0.75"
    );

    // Aether: an attested node's bandwidth report, next to the same report in a §8 scenario.
    let aether = network_address(&s.init("aether", &oracle));
    let early = s.wallet("early");
    let node = s.wallet("node");
    s.ok(
        "early",
        &["member", "join", "--network", &aether, "--class", "user"],
    );
    s.ok(
        "node",
        &[
            "member",
            "join",
            "--network",
            &aether,
            "--class",
            "node",
            "--referrer",
            &early,
        ],
    );
    s.ok(
        "oracle",
        &[
            "oracle",
            "attest",
            "node",
            "--network",
            &aether,
            "--wallet",
            &node,
            "--device",
            "device-1",
            "--subnet",
            "10.0.1.0/24",
        ],
    );
    let report = format!(
        "{{\"kind\": \"bandwidth\", \"id\": 1, \"node\": \"{node}\", \"device\": \"device-1\", \"subnet\": \"10.0.1.0/24\", \"bytes\": 2000000000, \"quality\": \"0.9\", \"stability\": \"0.8\", \"demand\": \"1.25\"}}\n"
    );
    let file = write(&s.dir.join("bandwidth.jsonl"), &report);
    s.ok("oracle", &["oracle", "submit", &file, "--network", &aether]);
    let scenario = write(
        &s.dir.join("aether.json"),
        r#"{"preset": "aether", "members": [
            {"name": "early", "class": "user"},
            {"name": "node", "class": "node", "referrer": "early", "fingerprint": "device-1", "subnet": "10.0.1.0/24"}],
          "steps": [{"at": 60, "op": "bandwidth", "id": 1, "node": "node", "bytes": 2000000000, "quality": "0.9", "stability": "0.8", "demand": "1.25"}]}"#,
    );
    let simulated: Value =
        serde_json::from_str(&s.ok("admin", &["simulate", &scenario, "--json"])).expect("§8 JSON");
    let node_stats = s.stats(&aether, &node);
    let early_stats = s.stats(&aether, &early);
    assert_eq!(node_stats["ledgers"][0]["totals"]["work"], "1.8");
    assert_eq!(
        node_stats["ledgers"][0]["totals"]["work"],
        simulated["members"]["node"]["ledgers"]["AETH"]["own"]
    );
    assert_eq!(
        early_stats["ledgers"][0]["rewards_by_level"]["level1"],
        simulated["members"]["early"]["ledgers"]["AETH"]["level1"]
    );
    assert_ne!(early_stats["ledgers"][0]["rewards_by_level"]["level1"], "0");
    assert_eq!(node_stats["attested"], true);
}

/// One wallet, one membership per class (DESIGN.md §3 rule 6), from the
/// command line: alice is a user and a provider; a code names the referrer's
/// membership in the joiner's class; commands acting on a wallet with two
/// memberships ask which; reports are about the kind's class.
#[test]
fn a_wallet_holds_a_membership_per_class() {
    let s = Sandbox::start("classes");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let alice = s.wallet("alice");
    let bob = s.wallet("bob");
    let carol = s.wallet("carol");
    let network = network_address(&s.init("cxmpute", &oracle));

    s.join("alice", &network, "user", None);
    s.join("alice", &network, "provider", None);
    let again = s.run(
        "alice",
        &["member", "join", "--network", &network, "--class", "user"],
    );
    fails_with(&again, 1, "AlreadyMember");
    // bob (a user) is referred by alice's user membership, carol (a provider)
    // by her provider membership: the same code.
    let joined = s.join("bob", &network, "user", Some(&alice));
    assert!(
        joined.contains(&format!("referred by {alice} (its user membership")),
        "{joined}"
    );
    let joined = s.join("carol", &network, "provider", Some(&alice));
    assert!(
        joined.contains(&format!("referred by {alice} (its provider membership")),
        "{joined}"
    );
    // --referrer-class only chooses where the rule does not.
    let out = s.run(
        "carol",
        &[
            "member",
            "join",
            "--network",
            &network,
            "--class",
            "user",
            "--referrer",
            &alice,
            "--referrer-class",
            "provider",
        ],
    );
    fails_with(&out, 2, "--referrer-class provider: the code");
    // A code of a wallet that never joined.
    let stranger = anchor_lang::prelude::Pubkey::new_unique().to_string();
    let out = s.run(
        "carol",
        &[
            "member",
            "join",
            "--network",
            &network,
            "--class",
            "user",
            "--referrer",
            &stranger,
        ],
    );
    fails_with(&out, 2, &format!("UnknownReferrer: --referrer {stranger}"));

    // Each membership has its own report ids: id 1 about each.
    s.attest_provider(&network, &alice, "24576");
    let reports = compute(1, &alice, "llama3-70b")
        + &format!(
            "{{\"kind\": \"usage\", \"id\": 1, \"user\": \"{alice}\", \"endpoint\": \"chat\", \"tokens\": 1000}}\n"
        )
        + &compute(1, &carol, "llama3-70b")
        + &format!(
            "{{\"kind\": \"usage\", \"id\": 1, \"user\": \"{bob}\", \"endpoint\": \"chat\", \"tokens\": 1000}}\n"
        );
    let file = write(&s.dir.join("both.jsonl"), &reports);
    let out = s.run(
        "oracle",
        &["oracle", "submit", &file, "--network", &network],
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    // carol's provider membership has no attested device.
    assert_eq!(code(&out), 1, "{summary}{}", stderr(&out));
    assert!(summary.contains("recorded now             3"), "{summary}");
    assert!(summary.contains("line 3: UnattestedProvider"), "{summary}");

    let all = s.all_stats(&network, &alice);
    let memberships = all["memberships"].as_array().expect("memberships");
    let classes: Vec<&str> = memberships
        .iter()
        .map(|m| m["class"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(classes, ["user", "provider"]);
    let (user, provider) = (&memberships[0], &memberships[1]);
    assert_ne!(user["member"], provider["member"]);
    // The user membership: 2 points of its own, 15% of bob's 2, bob's bonus.
    assert_eq!(user["ledgers"][1]["totals"]["work"], "2");
    assert_eq!(user["ledgers"][1]["rewards_by_level"]["level1"], "0.3");
    assert_eq!(user["ledgers"][1]["rewards_by_level"]["direct_bonus"], "25");
    assert_eq!(user["ledgers"][0]["totals"]["work"], "0");
    // The provider membership: 0.375 CXPT of its own, carol's bonus.
    assert_eq!(provider["ledgers"][0]["totals"]["work"], "0.375");
    assert_eq!(
        provider["ledgers"][1]["rewards_by_level"]["direct_bonus"],
        "50"
    );
    assert_eq!(provider["device_tier"], 4);
    assert_eq!(provider["downline"]["level1"], 1);
    // bob's referrer is alice's wallet, through her user membership.
    let bob_stats = s.stats(&network, &bob);
    assert_eq!(bob_stats["referrer"], alice.as_str());
    assert_eq!(bob_stats["referrer_member"], user["member"]);
    let text = s.ok(
        "admin",
        &["member", "stats", "--network", &network, "--wallet", &alice],
    );
    assert!(
        text.contains("class user (member account")
            && text.contains("class provider (member account"),
        "{text}"
    );

    // Linking later: which membership, when the wallet holds two.
    let set_referrer = |class: Option<&str>| {
        let mut args = vec!["member", "set-referrer", "--network", &network, &bob];
        if let Some(c) = class {
            args.extend(["--class", c]);
        }
        s.run("alice", &args)
    };
    fails_with(&set_referrer(None), 2, "choose one with --class");
    // Each of her memberships refers someone already (bob, carol).
    fails_with(&set_referrer(Some("user")), 1, "HasReferees");
    fails_with(&set_referrer(Some("provider")), 1, "HasReferees");
    // bob's code names his only membership, a user: not for a provider.
    s.wallet("dan");
    s.join("dan", &network, "provider", None);
    let out = s.run(
        "dan",
        &["member", "set-referrer", "--network", &network, &bob],
    );
    fails_with(&out, 1, "ClassMismatch");
    let linked = s.ok(
        "dan",
        &["member", "set-referrer", "--network", &network, &carol],
    );
    assert!(
        linked.contains(&format!(
            "is now referred by {carol} (its provider membership"
        )),
        "{linked}"
    );
    fails_with(
        &set_referrer(Some("node")),
        2,
        "--class \"node\": the network's classes are user, provider",
    );

    // Withdrawing: which membership, when the wallet holds two.
    let withdraw = |class: Option<&str>| {
        let mut args = vec![
            "member",
            "withdraw",
            "--network",
            &network,
            "--ledger",
            "CXPT",
        ];
        if let Some(c) = class {
            args.extend(["--class", c]);
        }
        s.run("alice", &args)
    };
    fails_with(&withdraw(None), 2, "holds 2 memberships in network");
    fails_with(&withdraw(None), 2, "choose one with --class");
    // The user membership has no CXPT; the provider's 0.375 is below the minimum.
    fails_with(&withdraw(Some("user")), 1, "BelowMinimum");
    fails_with(&withdraw(Some("provider")), 1, "BelowMinimum");
    // A wallet with one membership needs no --class; one with none is UnknownMember.
    let out = s.run(
        "bob",
        &[
            "member",
            "withdraw",
            "--network",
            &network,
            "--ledger",
            "POINTS",
        ],
    );
    fails_with(&out, 1, "NotWithdrawable");
    let out = s.run(
        "oracle",
        &[
            "member",
            "withdraw",
            "--network",
            &network,
            "--ledger",
            "CXPT",
        ],
    );
    fails_with(&out, 2, "UnknownMember");
}

/// `work_time` in a reports file: RFC 3339 or unix seconds, the clock when
/// the file is sent when omitted; the program refuses a time in the future,
/// one older than the network's maximum report age, and one earlier than the
/// member's last (which is rejected, not counted as already recorded); a
/// malformed one is named with its line before anything is sent.
#[test]
fn reports_carry_work_times() {
    let s = Sandbox::start("work-time");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let user = s.wallet("user");
    let network = network_address(&s.init("cxmpute", &oracle));
    s.join("user", &network, "user", None);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let usage = |id: u64, work_time: Option<String>| {
        let field = work_time.map_or(String::new(), |t| format!(", \"work_time\": {t}"));
        format!(
            "{{\"kind\": \"usage\", \"id\": {id}, \"user\": \"{user}\", \"endpoint\": \"chat\", \"tokens\": 10{field}}}\n"
        )
    };
    let malformed = write(
        &s.dir.join("malformed.jsonl"),
        &(usage(1, None) + &usage(2, Some("\"last tuesday\"".into()))),
    );
    let out = s.run(
        "oracle",
        &["oracle", "submit", &malformed, "--network", &network],
    );
    fails_with(&out, 2, "malformed.jsonl:2: \"work_time\" \"last tuesday\"");
    fails_with(&out, 2, "nothing sent");

    let reports = [
        usage(1, Some(format!("{}", now - 3_600))),
        usage(2, Some(format!("\"{}\"", now + 3_600))),
        usage(3, Some("\"2020-01-01T00:00:00Z\"".into())),
        usage(4, Some(format!("\"{}\"", now - 60))),
        usage(5, Some(format!("{}", now - 7_200))),
        usage(6, None),
    ]
    .concat();
    let file = write(&s.dir.join("times.jsonl"), &reports);
    let out = s.run(
        "oracle",
        &["oracle", "submit", &file, "--network", &network],
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(&out), 1, "{summary}{}", stderr(&out));
    assert!(summary.contains("recorded now             3"), "{summary}");
    assert!(summary.contains("already recorded         0"), "{summary}");
    assert!(summary.contains("line 2: ReportInFuture"), "{summary}");
    assert!(summary.contains("line 3: ReportTooOld"), "{summary}");
    assert!(
        summary.contains("line 5: StaleReport: its work time is earlier"),
        "{summary}"
    );
    // Three chats of 10 tokens: 1.01 points each.
    assert_eq!(
        s.stats(&network, &user)["ledgers"][1]["totals"]["work"],
        "3.03"
    );
}
