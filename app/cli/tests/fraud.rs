//! The admin's trust and fraud-response commands end to end against
//! `upline sandbox`: `network quorum`, `oracle-cap`, `freeze` / `unfreeze`
//! and `deregister-device`, each done and refused by name, their effect on
//! reports, and the explorer's audit after all of it.

mod common;

use common::*;
use serde_json::Value;

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn quorum_caps_and_freezes_are_set_refused_and_enforced() {
    let s = Sandbox::start("fraud");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let second = s.wallet("second");
    let alice = s.wallet("alice");
    let bob = s.wallet("bob");
    s.wallet("mallory");
    let init = [
        "network", "init", "--preset", "cxmpute", "--oracle", &oracle, "--oracle", &second,
    ];
    let network = network_address(&s.ok("admin", &init));
    let net = network.as_str();

    // Quorum: above the oracles there are, by a non-admin, set, set again.
    let out = s.run("admin", &["network", "quorum", "3", "--network", net]);
    fails_with(
        &out,
        1,
        "quorum 3: the network has 2 oracles (QuorumUnreachable)",
    );
    let out = s.run("admin", &["network", "quorum", "0", "--network", net]);
    fails_with(
        &out,
        1,
        "quorum 0: at least 1 oracle must approve (QuorumUnreachable)",
    );
    let out = s.run("mallory", &["network", "quorum", "2", "--network", net]);
    fails_with(&out, 1, "NotAdmin");
    let set = s.ok("admin", &["network", "quorum", "2", "--network", net]);
    assert!(
        set.contains("2 of 2 oracles approve each report and attestation (was 1)"),
        "{set}"
    );
    let again = json(&s.ok(
        "admin",
        &["network", "quorum", "2", "--network", net, "--json"],
    ));
    assert_eq!(
        (again["quorum"].as_u64(), again["changed"].as_bool()),
        (Some(2), Some(false))
    );
    let back = json(&s.ok(
        "admin",
        &["network", "quorum", "1", "--network", net, "--json"],
    ));
    assert_eq!(
        (back["quorum"].as_u64(), back["was"].as_u64()),
        (Some(1), Some(2))
    );

    s.join("alice", net, "provider", None);
    s.join("bob", net, "provider", Some(&alice));
    s.attest_provider(net, &bob, "24576");
    let reports = |ids: std::ops::RangeInclusive<u64>, name: &str| {
        let text: String = ids.map(|id| compute(id, &bob, "llama3-70b")).collect();
        write(&s.dir.join(name), &text)
    };

    // A cap of 1 CXPT per hour on the oracle: each report credits 0.375 to
    // bob and 0.0375 to alice, so the third passes it.
    let cap = |key: &str, extra: &[&str]| {
        let mut args = vec![
            "network",
            "oracle-cap",
            "--network",
            net,
            "--ledger",
            "CXPT",
        ];
        args.extend(extra);
        s.run(key, &args)
    };
    let out = cap(
        "admin",
        &["--oracle", &oracle, "--limit", "1", "--window", "0"],
    );
    fails_with(
        &out,
        1,
        "--window 0: a cap needs a window of at least 1 second (InvalidCap)",
    );
    let mallory = s.key("mallory");
    let mallory = mallory.to_str().expect("utf-8 path");
    let out = cap(
        "admin",
        &["--oracle", mallory, "--limit", "1", "--window", "3600"],
    );
    fails_with(&out, 1, "NotOracle");
    let out = cap(
        "mallory",
        &["--oracle", &oracle, "--limit", "1", "--window", "3600"],
    );
    fails_with(&out, 1, "NotAdmin");
    let out = s.run(
        "admin",
        &[
            "network",
            "oracle-cap",
            "--network",
            net,
            "--ledger",
            "NOPE",
            "--oracle",
            &oracle,
            "--limit",
            "1",
        ],
    );
    fails_with(&out, 2, "--ledger \"NOPE\": the network's ledgers are CXPT");
    let out = cap(
        "admin",
        &["--oracle", &oracle, "--limit", "1", "--window", "3600"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("at most 1 CXPT per 3600 s window (was no cap)"),
        "{}",
        stdout(&out)
    );
    let file = reports(1..=4, "capped.jsonl");
    let out = s.submit("oracle", &file, net, &[]);
    let summary = stdout(&out);
    assert_eq!(code(&out), 1, "{summary}{}", stderr(&out));
    assert!(summary.contains("recorded now             2"), "{summary}");
    assert!(
        summary.contains("line 3: OracleCapExceeded")
            && summary.contains("line 4: OracleCapExceeded"),
        "{summary}"
    );
    let bob_work = || s.stats(net, &bob)["ledgers"][0]["totals"]["work"].clone();
    assert_eq!(bob_work(), "0.75");
    let removed = json(&s.ok(
        "admin",
        &[
            "network",
            "oracle-cap",
            "--network",
            net,
            "--ledger",
            "CXPT",
            "--oracle",
            &oracle,
            "--limit",
            "0",
            "--json",
        ],
    ));
    assert_eq!(removed["limit"], "0");
    assert_eq!(removed["was"]["limit"], "1");
    let out = s.submit("oracle", &file, net, &[]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("recorded now             2"),
        "{}",
        stdout(&out)
    );
    assert_eq!(bob_work(), "1.5");

    // Freezing bob: reports about him refused, his withdrawals too.
    let freeze = |key: &str, verb: &str, who: &str| {
        s.run(key, &["network", verb, "--network", net, "--wallet", who])
    };
    fails_with(&freeze("mallory", "freeze", &bob), 1, "NotAdmin");
    let stranger = anchor_lang::prelude::Pubkey::new_unique().to_string();
    fails_with(&freeze("admin", "freeze", &stranger), 2, "UnknownMember");
    let out = freeze("admin", "freeze", &bob);
    assert!(
        stdout(&out).contains(&format!("froze {bob}'s provider membership")),
        "{}",
        stderr(&out)
    );
    let out = freeze("admin", "freeze", &bob);
    assert!(
        stdout(&out).contains("is already frozen"),
        "{}",
        stderr(&out)
    );
    let frozen = reports(5..=5, "frozen.jsonl");
    let out = s.submit("oracle", &frozen, net, &[]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("line 1: MemberFrozen"),
        "{}",
        stdout(&out)
    );
    let withdraw = ["member", "withdraw", "--network", net, "--ledger", "CXPT"];
    fails_with(&s.run("bob", &withdraw), 1, "MemberFrozen");
    assert_eq!(bob_work(), "1.5");
    assert_eq!(
        s.stats(net, &bob)["frozen"],
        true,
        "member stats shows the freeze"
    );
    let out = freeze("admin", "unfreeze", &bob);
    assert!(
        stdout(&out).contains(&format!("unfroze {bob}'s provider membership")),
        "{}",
        stderr(&out)
    );
    let out = s.submit("oracle", &frozen, net, &[]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(bob_work(), "1.875");

    // Freezing alice: bob is paid, her commission is withheld, not paid to anyone.
    let level1 = || s.stats(net, &alice)["ledgers"][0]["rewards_by_level"]["level1"].clone();
    assert_eq!(level1(), "0.1875");
    let out = s.run(
        "admin",
        &[
            "network",
            "freeze",
            "--network",
            net,
            "--wallet",
            &alice,
            "--json",
        ],
    );
    assert_eq!(json(&stdout(&out))["frozen"], true, "{}", stderr(&out));
    let out = s.submit("oracle", &reports(6..=6, "withheld.jsonl"), net, &[]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!((bob_work(), level1()), ("2.25".into(), "0.1875".into()));
    s.ok(
        "admin",
        &["network", "unfreeze", "--network", net, "--wallet", &alice],
    );

    let verdict = s.audit("fraud");
    assert_eq!(verdict["reports"], 6, "{verdict}");
}

#[test]
fn a_deregistered_device_is_unattested_until_attested_again() {
    let s = Sandbox::start("deregister");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let early = s.wallet("early");
    let node = s.wallet("node");
    s.wallet("mallory");
    let network = network_address(&s.init("aether", &oracle));
    let net = network.as_str();
    s.join("early", net, "user", None);
    s.join("node", net, "node", Some(&early));
    let attest = |device: &str, subnet: &str| {
        s.ok(
            "oracle",
            &[
                "oracle",
                "attest",
                "node",
                "--network",
                net,
                "--wallet",
                &node,
                "--device",
                device,
                "--subnet",
                subnet,
            ],
        )
    };
    let report = |id: u64, device: &str, subnet: &str| {
        let line = format!(
            "{{\"kind\": \"bandwidth\", \"id\": {id}, \"node\": \"{node}\", \"device\": \"{device}\", \"subnet\": \"{subnet}\", \"bytes\": 1000000000, \"quality\": \"1\", \"stability\": \"1\", \"demand\": \"1\"}}\n"
        );
        let file = write(&s.dir.join(format!("bw{id}.jsonl")), &line);
        s.submit("oracle", &file, net, &[])
    };
    attest("device-1", "10.0.1.0/24");
    assert_eq!(code(&report(1, "device-1", "10.0.1.0/24")), 0);

    let deregister = [
        "network",
        "deregister-device",
        "--network",
        net,
        "--wallet",
        &node,
    ];
    fails_with(&s.run("mallory", &deregister), 1, "NotAdmin");
    let out = s.ok("admin", &deregister);
    assert!(
        out.contains(&format!("deregistered {node}'s device")),
        "{out}"
    );
    assert!(out.contains("its subnet counts 0 nodes now"), "{out}");
    assert_eq!(s.stats(net, &node)["attested"], false);
    fails_with(&s.run("admin", &deregister), 1, "UnattestedNode");
    let out = report(2, "device-1", "10.0.1.0/24");
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("line 1: UnattestedNode"),
        "{}",
        stdout(&out)
    );

    // Attested again on a new device and subnet: it reports again.
    attest("device-2", "10.0.2.0/24");
    let out = report(3, "device-2", "10.0.2.0/24");
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    // Naming the device and subnet as attested.
    let mut named = deregister.to_vec();
    named.extend(["--device", "device-2", "--subnet", "10.0.2.0/24", "--json"]);
    let out = json(&s.ok("admin", &named));
    assert_eq!(out["subnet_nodes"], 0, "{out}");
    let mut wrong = deregister.to_vec();
    wrong.extend(["--device", "device-1", "--subnet", "10.0.1.0/24"]);
    fails_with(&s.run("admin", &wrong), 1, "UnattestedNode");

    let verdict = s.audit("deregister");
    assert_eq!(verdict["reports"], 2, "{verdict}");
}
