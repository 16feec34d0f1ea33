//! The member commands of issue 14 end to end against `upline sandbox`:
//! `member join --sponsor` (a wallet without SOL joins, the sponsor pays),
//! `member open-ledgers` (anyone pays), `member stats` (per ledger the
//! minimum and what is claimable now) and `member withdraw --all-ledgers`.

mod common;

use common::*;
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn a_sponsored_member_earns_opens_new_ledgers_and_withdraws_everything() {
    let s = Sandbox::start("operate-members");
    s.wallet("admin");
    s.wallet("sponsor");
    s.wallet("mallory");
    let oracle = s.wallet("oracle");
    let network = network_address(&s.init("cxmpute", &oracle));
    let n = ["--network", network.as_str()];
    s.ok(
        "admin",
        &[
            "network",
            "fund",
            n[0],
            n[1],
            "--ledger",
            "CXPT",
            "--amount",
            "100",
            "--mint-first",
        ],
    );

    // A wallet with no SOL joins: the sponsor pays the rent and the fee.
    let out = s.ok("bob", &["keygen"]);
    let bob = out
        .split("wallet ")
        .nth(1)
        .expect("address")
        .trim_end_matches([')', '\n'])
        .to_string();
    let sponsor = s.key("sponsor");
    let sponsor = sponsor.to_str().expect("utf-8");
    let join = ["member", "join", n[0], n[1], "--class", "provider"];
    assert_ne!(code(&s.run("bob", &join)), 0, "bob has no SOL to pay with");
    let mut sponsored = join.to_vec();
    sponsored.extend(["--sponsor", sponsor]);
    let out = s.ok("bob", &sponsored);
    assert!(out.contains("rent paid by"), "{out}");
    s.attest_provider(&network, &bob, "24576");
    let reports: String = (1..=8).map(|id| compute(id, &bob, "llama3-70b")).collect();
    let file = write(&s.dir.join("reports.jsonl"), &reports);
    assert_eq!(code(&s.submit("oracle", &file, &network, &[])), 0);

    // Stats: the minimum and what is claimable now (8 × 0.375 CXPT).
    let stats = s.stats(&network, &bob);
    let cxpt = &stats["ledgers"][0];
    assert_eq!(
        (cxpt["min_withdrawal"].as_str(), cxpt["claimable"].as_str()),
        (Some("1"), Some("3")),
        "{stats}"
    );
    assert_eq!(
        stats["ledgers"][1]["claimable_note"], "points are not withdrawable",
        "{stats}"
    );
    let text = s.ok("bob", &["member", "stats", n[0], n[1]]);
    assert!(
        text.contains("claimable now") && text.contains("minimum"),
        "{text}"
    );

    // A new ledger: bob has no slot until someone (mallory here) opens it.
    s.ok(
        "admin",
        &[
            "network", "ledger", "add", n[0], n[1], "--name", "KARMA", "--points",
        ],
    );
    let stats = s.stats(&network, &bob);
    assert_eq!(stats["unopened_ledgers"][0], "KARMA", "{stats}");
    let text = s.ok("bob", &["member", "stats", n[0], n[1]]);
    assert!(text.contains("no slot yet on KARMA"), "{text}");
    let open = ["member", "open-ledgers", n[0], n[1], "--wallet", &bob];
    let out = s.ok("mallory", &open);
    assert!(out.contains("slots on all 3 ledgers (was 2)"), "{out}");
    let mut again = open.to_vec();
    again.push("--json");
    let v = json(&s.ok("mallory", &again));
    assert_eq!(
        s.stats(&network, &bob)["unopened_ledgers"],
        Value::Array(vec![])
    );
    assert_eq!(v["memberships"][0]["changed"], false, "{v}");
    fails_with(
        &s.run("mallory", &["member", "open-ledgers", n[0], n[1]]),
        2,
        "UnknownMember",
    );

    // Below the minimum: skipped with a note; at it: withdrawn (bob pays the fees now).
    s.ok("bob", &["airdrop", "1"]);
    s.ok(
        "admin",
        &[
            "network", "ledger", "update", "--ledger", "CXPT", "--min", "5", n[0], n[1],
        ],
    );
    let all = ["member", "withdraw", n[0], n[1], "--all-ledgers"];
    let out = s.ok("bob", &all);
    assert!(
        out.contains("skipped CXPT: below the 5 CXPT minimum"),
        "{out}"
    );
    assert!(
        out.contains("skipped POINTS: points are not withdrawable"),
        "{out}"
    );
    s.ok(
        "admin",
        &[
            "network", "ledger", "update", "--ledger", "CXPT", "--min", "1", n[0], n[1],
        ],
    );
    let out = s.ok("bob", &all);
    assert!(
        out.contains("withdrew 3 CXPT to") && out.contains("(balance left 0)"),
        "{out}"
    );
    let mut as_json = all.to_vec();
    as_json.push("--json");
    let v = json(&s.ok("bob", &as_json));
    assert_eq!(v["ledgers"][0]["skipped"], "nothing to withdraw", "{v}");
    assert_eq!(
        s.stats(&network, &bob)["ledgers"][0]["totals"]["withdrawn"],
        "3"
    );
    let v = json(&s.ok("admin", &["network", "show", n[0], n[1], "--json"]));
    assert_eq!(
        (
            v["ledgers"][0]["withdrawn"].as_str(),
            v["ledgers"][0]["in_vault"].as_str()
        ),
        (Some("3"), Some("97")),
        "{v}"
    );
}
