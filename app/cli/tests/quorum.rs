//! Oracle quorum end to end against `upline sandbox`: `network init
//! --quorum 2` with two oracles; what one oracle alone sends records
//! nothing, each report refused by name; with `--co-signer` everything is
//! recorded, once; co-signers on other machines sign offline
//! (`--sign-only`, `oracle sign`, `--messages ... --signatures`).

mod common;

use common::*;
use serde_json::Value;

/// The wallets of a test.
struct Wallets {
    network: String,
    oracle: String,
    second: String,
    alice: String,
    bob: String,
}

/// A cxmpute network whose reports two oracles must approve, alice and bob
/// providers (bob referred by alice, attested by both oracles).
fn two_oracle_network(s: &Sandbox) -> Wallets {
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let second = s.wallet("second");
    let alice = s.wallet("alice");
    let bob = s.wallet("bob");
    let init = [
        "network", "init", "--preset", "cxmpute", "--oracle", &oracle, "--oracle", &second,
        "--quorum", "2",
    ];
    let out = s.ok("admin", &init);
    assert!(out.contains("created  quorum 2 of 2 oracles"), "{out}");
    let network = network_address(&out);
    // Re-running finds the quorum in place.
    let again = s.ok("admin", &init);
    assert!(again.contains("exists   quorum 2 of 2 oracles"), "{again}");
    s.join("alice", &network, "provider", None);
    s.join("bob", &network, "provider", Some(&alice));
    // An attestation needs the quorum too.
    let attest = [
        "oracle",
        "attest",
        "provider",
        "--network",
        &network,
        "--wallet",
        &bob,
        "--vram-mb",
        "24576",
    ];
    fails_with(&s.run("oracle", &attest), 1, "QuorumNotMet");
    let second_key = s.key("second");
    let second_key = second_key.to_str().expect("utf-8 path");
    let mut co_signed = attest.to_vec();
    co_signed.extend(["--co-signer", second_key]);
    let out = s.ok("oracle", &co_signed);
    assert!(out.contains(&format!("co-signed by {second}")), "{out}");
    Wallets {
        network,
        oracle,
        second,
        alice,
        bob,
    }
}

fn work(s: &Sandbox, network: &str, wallet: &str) -> Value {
    s.stats(network, wallet)["ledgers"][0]["totals"]["work"].clone()
}

#[test]
fn a_quorum_of_two_records_only_what_two_oracles_sign() {
    let s = Sandbox::start("quorum");
    let Wallets {
        network,
        alice,
        bob,
        ..
    } = two_oracle_network(&s);
    let second = s.key("second");
    let second = second.to_str().expect("utf-8 path");
    let reports: String = (1..=12).map(|id| compute(id, &bob, "llama3-70b")).collect();
    let file = write(&s.dir.join("reports.jsonl"), &reports);

    // One oracle alone: every report refused by name, nothing recorded.
    let alone = s.submit("oracle", &file, &network, &[]);
    let summary = stdout(&alone);
    assert_eq!(code(&alone), 1, "{summary}{}", stderr(&alone));
    assert!(summary.contains("recorded now             0"), "{summary}");
    assert!(summary.contains("rejected                12"), "{summary}");
    for line in 1..=12 {
        assert!(
            summary.contains(&format!("line {line}: QuorumNotMet\n")),
            "{summary}"
        );
    }
    assert_eq!(work(&s, &network, &bob), "0");

    // With the second oracle co-signing: everything, once.
    let both = s.submit("oracle", &file, &network, &["--co-signer", second]);
    let summary = stdout(&both);
    assert_eq!(code(&both), 0, "{summary}{}", stderr(&both));
    assert!(summary.contains("recorded now            12"), "{summary}");
    assert_eq!(work(&s, &network, &bob), "4.5");
    assert_eq!(
        s.stats(&network, &alice)["ledgers"][0]["rewards_by_level"]["level1"],
        "0.45"
    );
    let again = s.submit("oracle", &file, &network, &["--co-signer", second]);
    let summary = stdout(&again);
    assert_eq!(code(&again), 0, "{summary}{}", stderr(&again));
    assert!(summary.contains("recorded now             0"), "{summary}");
    assert!(summary.contains("already recorded        12"), "{summary}");
    assert_eq!(work(&s, &network, &bob), "4.5");

    // The same oracle twice is refused before anything is sent; a wallet
    // that is no oracle is refused by the program, each report by name.
    let oracle = s.key("oracle");
    let twice = s.submit(
        "oracle",
        &file,
        &network,
        &["--co-signer", oracle.to_str().expect("utf-8 path")],
    );
    fails_with(&twice, 2, "DuplicateCoSigner");
    s.wallet("mallory");
    let more: String = (13..=14)
        .map(|id| compute(id, &bob, "llama3-70b"))
        .collect();
    let more = write(&s.dir.join("more.jsonl"), &more);
    let mallory = s.key("mallory");
    let out = s.submit(
        "oracle",
        &more,
        &network,
        &["--co-signer", mallory.to_str().expect("utf-8 path")],
    );
    let summary = stdout(&out);
    assert_eq!(code(&out), 1, "{summary}{}", stderr(&out));
    assert!(
        summary.contains("line 1: NotOracle\n") && summary.contains("line 2: NotOracle\n"),
        "{summary}"
    );
    assert_eq!(work(&s, &network, &bob), "4.5");

    let verdict = s.audit("quorum");
    assert_eq!(verdict["reports"], 12, "{verdict}");
}

#[test]
fn co_signers_on_other_machines_sign_offline() {
    let s = Sandbox::start("offline");
    let Wallets {
        network,
        oracle: oracle_wallet,
        second: second_wallet,
        bob,
        ..
    } = two_oracle_network(&s);
    let reports: String = (1..=24).map(|id| compute(id, &bob, "llama3-70b")).collect();
    let file = write(&s.dir.join("reports.jsonl"), &reports);
    let path = |name: &str| s.dir.join(name).to_str().expect("utf-8 path").to_string();
    let (messages, signatures) = (path("messages.json"), path("second.sig.json"));

    // The submitter writes what must be signed, signing its own part.
    let sign_only = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "--sign-only",
            "--co-signer-pubkey",
            &second_wallet,
            "--out",
            out,
        ];
        args.extend(extra);
        s.submit("oracle", &file, &network, &args)
    };
    let written = sign_only(&messages, &[]);
    assert_eq!(code(&written), 0, "{}", stderr(&written));
    assert!(
        stdout(&written).contains("carrying 24 of the 24 reports"),
        "{}",
        stdout(&written)
    );
    let m: Value = serde_json::from_str(&std::fs::read_to_string(&messages).expect("messages"))
        .expect("messages JSON");
    let txs = m["transactions"].as_array().expect("transactions");
    let n = txs.len();
    assert!(n >= 2, "{m}");
    for tx in txs {
        assert_eq!(
            tx["signers"],
            serde_json::json!([oracle_wallet, second_wallet])
        );
        assert_eq!(tx["blockhash"], m["blockhash"]);
        assert!(tx["signatures"][&oracle_wallet].is_string(), "{tx}");
        assert!(tx["message"].as_str().is_some_and(|b| !b.is_empty()));
    }
    // Over a given blockhash: the same transactions.
    let blockhash = m["blockhash"].as_str().expect("blockhash").to_string();
    let same = sign_only(&path("same-messages.json"), &["--blockhash", &blockhash]);
    assert_eq!(code(&same), 0, "{}", stderr(&same));
    let m2: Value =
        serde_json::from_str(&std::fs::read_to_string(path("same-messages.json")).expect("same"))
            .expect("JSON");
    assert_eq!(m2["transactions"], m["transactions"]);

    // Nothing is sent while a signature is missing, or one signs other content.
    let missing = s.submit("oracle", &file, &network, &["--messages", &messages]);
    fails_with(
        &missing,
        2,
        &format!("lacks the signature of {second_wallet}"),
    );
    let other: String = (1..=3).map(|id| compute(id, &bob, "llama3-70b")).collect();
    let other = write(&s.dir.join("other.jsonl"), &other);
    let other_messages = path("other-messages.json");
    let out = s.submit(
        "oracle",
        &other,
        &network,
        &[
            "--sign-only",
            "--co-signer-pubkey",
            &second_wallet,
            "--out",
            &other_messages,
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let other_sigs = path("other.sig.json");
    s.ok(
        "second",
        &["oracle", "sign", &other_messages, "--out", &other_sigs],
    );
    let forged = s.submit(
        "oracle",
        &file,
        &network,
        &["--messages", &messages, "--signatures", &other_sigs],
    );
    fails_with(
        &forged,
        2,
        &format!("verifies over none of the {n} transactions: it signs other content"),
    );
    fails_with(&forged, 2, "nothing sent");
    let sig: Value =
        serde_json::from_str(&std::fs::read_to_string(&other_sigs).expect("sigs")).expect("JSON");
    let one = format!(
        "{second_wallet}={}",
        sig["signatures"][0]["signature"]
            .as_str()
            .expect("signature")
    );
    let forged = s.submit(
        "oracle",
        &file,
        &network,
        &["--messages", &messages, "--signer", &one],
    );
    fails_with(&forged, 2, "it signs other content");
    // A key the transactions do not need signs nothing.
    let mallory_wallet = s.wallet("mallory");
    let out = s.run("mallory", &["oracle", "sign", &messages]);
    fails_with(&out, 2, "is not a signer of these transactions");
    // Messages for other contents of the reports file are refused.
    let out = s.submit("oracle", &other, &network, &["--messages", &messages]);
    fails_with(&out, 2, "written for other contents");
    assert_eq!(work(&s, &network, &bob), "0");

    // The co-signer signs on its machine; the submitter merges and sends.
    let signed = s.ok(
        "second",
        &["oracle", "sign", &messages, "--out", &signatures],
    );
    assert!(
        signed.contains(&format!("signed {n} of the {n} transactions")),
        "{signed}"
    );
    let sent = s.submit(
        "oracle",
        &file,
        &network,
        &["--messages", &messages, "--signatures", &signatures],
    );
    let summary = stdout(&sent);
    assert_eq!(code(&sent), 0, "{summary}{}", stderr(&sent));
    assert!(
        summary.contains(&format!("24 reports in {n} transactions")),
        "{summary}"
    );
    assert!(summary.contains("recorded now            24"), "{summary}");
    assert_eq!(work(&s, &network, &bob), "9");
    // Sending the same signed file again, or signing the file anew, records nothing twice.
    let resent = s.submit(
        "oracle",
        &file,
        &network,
        &["--messages", &messages, "--signatures", &signatures],
    );
    let summary = stdout(&resent);
    assert_eq!(code(&resent), 0, "{summary}{}", stderr(&resent));
    assert!(summary.contains("recorded now             0"), "{summary}");
    assert!(summary.contains("already recorded        24"), "{summary}");
    let anew = sign_only(&path("anew-messages.json"), &[]);
    assert!(
        stdout(&anew).contains("0 transactions carrying 0 of the 24 reports (24 already recorded"),
        "{}",
        stdout(&anew)
    );
    assert_eq!(work(&s, &network, &bob), "9");

    // A co-signer that is no oracle signs; the program refuses each report.
    let more: String = (25..=26)
        .map(|id| compute(id, &bob, "llama3-70b"))
        .collect();
    let more = write(&s.dir.join("more.jsonl"), &more);
    let mallory_messages = path("mallory-messages.json");
    let out = s.submit(
        "oracle",
        &more,
        &network,
        &[
            "--sign-only",
            "--co-signer-pubkey",
            &mallory_wallet,
            "--out",
            &mallory_messages,
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let mallory_sigs = path("mallory.sig.json");
    s.ok(
        "mallory",
        &["oracle", "sign", &mallory_messages, "--out", &mallory_sigs],
    );
    let out = s.submit(
        "oracle",
        &more,
        &network,
        &[
            "--messages",
            &mallory_messages,
            "--signatures",
            &mallory_sigs,
        ],
    );
    let summary = stdout(&out);
    assert_eq!(code(&out), 1, "{summary}{}", stderr(&out));
    assert!(
        summary.contains("line 1: NotOracle\n") && summary.contains("line 2: NotOracle\n"),
        "{summary}"
    );
    assert_eq!(work(&s, &network, &bob), "9");

    let verdict = s.audit("offline");
    assert_eq!(verdict["reports"], 24, "{verdict}");
}
