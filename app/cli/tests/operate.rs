//! The admin's day-to-day commands end to end against `upline sandbox`:
//! `network show`, `tier`, `promotion open|close`, `pause` / `unpause`,
//! `oracle add|remove` and `admin propose|accept|cancel`. Each is run, its
//! effect read back on chain with `network show --json`, its text and JSON
//! checked, re-running it is a no-op that says "already", and refusals are
//! named (a non-admin, an unknown wallet, a rate above 100%).

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

#[test]
fn tiers_a_promotion_and_a_pause() {
    let s = Sandbox::start("operate-tiers");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let alice = s.wallet("alice");
    let mallory = s.wallet("mallory");
    let network = network_address(&s.init("clore", &oracle));
    s.join("alice", &network, "account", None);
    let n = ["--network", network.as_str()];
    let fund = [
        "network",
        "fund",
        n[0],
        n[1],
        "--ledger",
        "CLORE",
        "--amount",
        "250",
        "--mint-first",
    ];
    s.ok("admin", &fund);

    // The network as set up.
    let v = show(&s, &network);
    assert_eq!(v["name"], "clore", "{v}");
    assert_eq!(v["paused"], false);
    assert_eq!(v["pending_admin"], Value::Null);
    assert_eq!(v["quorum"], 1);
    assert_eq!(v["oracles"][0]["wallet"], oracle.as_str(), "{v}");
    assert_eq!(v["classes"][0], "account");
    assert_eq!(v["ledgers"][0]["name"], "CLORE");
    assert_eq!(v["ledgers"][0]["funded"], "250", "{v}");
    assert_eq!(v["ledgers"][0]["in_vault"], "250", "{v}");
    assert_eq!(v["ledgers"][0]["withdrawn"], "0", "{v}");
    assert_eq!(v["promotion"]["open_now"], false);
    let text = s.ok("admin", &["network", "show", n[0], n[1]]);
    assert!(text.contains("network clore ("), "{text}");
    assert!(text.contains("promotion      none"), "{text}");
    assert!(text.contains(&format!("    {oracle}")), "{text}");
    assert!(
        text.contains("CLORE  funded 250  withdrawn 0  in the vault 250"),
        "{text}"
    );

    // Tiers: assigned, re-run, refused by name.
    let tier = |key: &str, wallet: &str, tier: &str| {
        s.run(
            key,
            &[
                "network", "tier", n[0], n[1], "--wallet", wallet, "--tier", tier,
            ],
        )
    };
    let out = stdout(&tier("admin", &alice, "premium"));
    assert!(
        out.contains("account membership: tier premium (was standard)"),
        "{out}"
    );
    let again = tier("admin", &alice, "premium");
    assert_eq!(code(&again), 0);
    assert!(
        stdout(&again).contains("is already premium"),
        "{}",
        stdout(&again)
    );
    let mut vip = vec![
        "network", "tier", n[0], n[1], "--wallet", &alice, "--tier", "vip",
    ];
    vip.push("--json");
    let v = json(&s.ok("admin", &vip));
    assert_eq!(
        (v["tier"].as_str(), v["was"].as_str()),
        (Some("vip"), Some("premium"))
    );
    assert_eq!(v["changed"], true);
    fails_with(&tier("mallory", &alice, "standard"), 1, "NotAdmin");
    let refused = stderr(&tier("mallory", &alice, "standard"));
    assert!(
        refused.contains(&format!(
            "tier standard for {alice}: NotAdmin: {mallory} is not the admin"
        )),
        "{refused}"
    );
    fails_with(&tier("admin", &mallory, "vip"), 2, "UnknownMember");
    fails_with(&tier("admin", &alice, "gold"), 2, "--tier");

    // A promotion: refused above 100%, opened, re-run, closed.
    let open = |rate: &str, start: &str, end: &str| {
        let args = [
            "network",
            "promotion",
            "open",
            n[0],
            n[1],
            "--rate",
            rate,
            "--start",
            start,
            "--end",
            end,
        ];
        s.run("admin", &args)
    };
    fails_with(&open("1.5", "1", "4102444800"), 1, "InvalidPromotion");
    fails_with(&open("0.5", "4102444800", "1"), 1, "InvalidPromotion");
    fails_with(&open("0.5", "soon", "1"), 2, "--start");
    let out = stdout(&open("0.5", "2020-01-01T00:00:00Z", "4102444800"));
    assert!(
        out.contains("50% from 2020-01-01T00:00:00Z to 2100-01-01T00:00:00Z"),
        "{out}"
    );
    assert!(out.contains("(was no promotion)"), "{out}");
    assert!(stdout(&open("0.5", "1577836800", "4102444800")).contains("is already 50%"));
    let v = show(&s, &network);
    assert_eq!(v["promotion"]["rate"], "0.5");
    assert_eq!(v["promotion"]["open_now"], true, "{v}");
    let close = ["network", "promotion", "close", n[0], n[1], "--json"];
    let v = json(&s.ok("admin", &close));
    assert_eq!(
        (v["changed"].clone(), v["was"]["rate"].clone()),
        (Value::Bool(true), Value::from("0.5"))
    );
    assert_eq!(show(&s, &network)["promotion"]["open_now"], false);

    // A pause: refuses joins; a second pause says so and exits 0.
    let out = s.ok("admin", &["network", "pause", n[0], n[1]]);
    assert!(out.contains("paused network"), "{out}");
    let again = s.ok("admin", &["network", "pause", n[0], n[1]]);
    assert!(again.contains("is already paused"), "{again}");
    assert_eq!(show(&s, &network)["paused"], true);
    let join = ["member", "join", n[0], n[1], "--class", "account"];
    fails_with(&s.run("mallory", &join), 1, "NetworkPaused");
    fails_with(
        &s.run("mallory", &["network", "unpause", n[0], n[1]]),
        1,
        "NotAdmin",
    );
    let v = json(&s.ok("admin", &["network", "unpause", n[0], n[1], "--json"]));
    assert_eq!(
        (v["paused"].clone(), v["changed"].clone()),
        (Value::Bool(false), Value::Bool(true))
    );
    s.ok("mallory", &join);
}

#[test]
fn rotating_an_oracle_and_handing_over_the_admin_role() {
    let s = Sandbox::start("operate-roles");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let second = s.wallet("second");
    let heir = s.wallet("heir");
    s.wallet("mallory");
    let network = network_address(&s.init("cxmpute", &oracle));
    let n = ["--network", network.as_str()];
    let oracle_cmd = |key: &str, verb: &str, wallet: &str| {
        s.run(key, &["network", "oracle", verb, wallet, n[0], n[1]])
    };

    // Rotate: add the second oracle, raise the quorum, try to remove one.
    let out = stdout(&oracle_cmd("admin", "add", &second));
    assert!(
        out.contains(&format!("added oracle {second}")) && out.contains("2 oracles"),
        "{out}"
    );
    assert!(stdout(&oracle_cmd("admin", "add", &second)).contains("is already an oracle"));
    fails_with(&oracle_cmd("mallory", "add", &heir), 1, "NotAdmin");
    let v = show(&s, &network);
    let listed: Vec<&str> = v["oracles"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["wallet"].as_str())
        .collect();
    assert!(
        listed.contains(&oracle.as_str()) && listed.contains(&second.as_str()),
        "{v}"
    );
    let cap = [
        "network",
        "oracle-cap",
        n[0],
        n[1],
        "--oracle",
        &second,
        "--ledger",
        "CXPT",
    ];
    s.ok(
        "admin",
        &[&cap[..], &["--limit", "500", "--window", "86400"]].concat(),
    );
    let v = show(&s, &network);
    let capped = v["oracles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["wallet"] == second.as_str());
    assert_eq!(
        capped.map(|o| o["caps"][0]["limit"].clone()),
        Some(Value::from("500")),
        "{v}"
    );
    let text = s.ok("admin", &["network", "show", n[0], n[1]]);
    assert!(
        text.contains(&format!("{second}  (caps: at most 500 CXPT per 86400 s)")),
        "{text}"
    );
    s.ok("admin", &["network", "quorum", "2", n[0], n[1]]);
    fails_with(
        &oracle_cmd("admin", "remove", &oracle),
        1,
        "QuorumUnreachable",
    );
    s.ok("admin", &["network", "quorum", "1", n[0], n[1]]);
    let out = stdout(&oracle_cmd("admin", "remove", &oracle));
    assert!(
        out.contains(&format!("removed oracle {oracle}")) && out.contains("1 oracle,"),
        "{out}"
    );
    assert!(stdout(&oracle_cmd("admin", "remove", &oracle)).contains("is already not an oracle"));
    let v = show(&s, &network);
    assert_eq!(v["oracle_count"], 1);
    assert_eq!(v["oracles"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["oracles"][0]["wallet"], second.as_str());

    // Hand over: propose, a stranger cannot accept, the heir does.
    let admin_cmd = |key: &str, args: &[&str]| {
        let mut all = vec!["network", "admin"];
        all.extend(args);
        all.extend(n);
        s.run(key, &all)
    };
    let out = stdout(&admin_cmd("admin", &["propose", &heir]));
    assert!(out.contains(&format!("proposed {heir} as admin")), "{out}");
    assert!(
        stdout(&admin_cmd("admin", &["propose", &heir])).contains("is already the proposed admin")
    );
    assert_eq!(show(&s, &network)["pending_admin"], heir.as_str());
    let out = stdout(&admin_cmd("admin", &["cancel"]));
    assert!(out.contains(&format!("(was {heir} proposed)")), "{out}");
    assert!(stdout(&admin_cmd("admin", &["cancel"])).contains("already has no admin proposal"));
    fails_with(&admin_cmd("heir", &["accept"]), 1, "NotPendingAdmin");
    admin_cmd("admin", &["propose", &heir]);
    fails_with(&admin_cmd("mallory", &["accept"]), 1, "NotPendingAdmin");
    let v = json(&stdout(&admin_cmd("heir", &["accept", "--json"])));
    assert_eq!(
        (v["admin"].as_str(), v["changed"].as_bool()),
        (Some(heir.as_str()), Some(true))
    );
    assert!(stdout(&admin_cmd("heir", &["accept"])).contains("is already the admin"));
    let v = show(&s, &network);
    assert_eq!(
        (v["admin"].as_str(), v["pending_admin"].clone()),
        (Some(heir.as_str()), Value::Null)
    );
    fails_with(
        &s.run("admin", &["network", "pause", n[0], n[1]]),
        1,
        "NotAdmin",
    );
    s.ok("heir", &["network", "pause", n[0], n[1]]);
}
