//! An admin key kept on another machine, as the Solana CLI signs offline:
//! the command run with `--keypair PUBKEY --sign-only` prints what to sign,
//! `upline sign` signs it where the key is, and the same command run again
//! with `--blockhash` and `--signer PUBKEY=SIGNATURE` sends it. Also
//! `--output json`, and the offline flags in places they do not belong.

mod common;

use common::*;
use serde_json::Value;
use std::process::{Command, Output};

/// `upline --url URL --keypair KEYPAIR ARGS`, where KEYPAIR may be a public key.
fn run_as(s: &Sandbox, keypair: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_upline"))
        .args(["--url", &s.url, "--keypair", keypair])
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("run upline")
}

/// The value of the line `prefix` starts in `text`.
fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in {text}"))
        .trim()
}

fn paused(s: &Sandbox, network: &str) -> bool {
    let out = s.ok(
        "oracle",
        &["--output", "json", "network", "show", "--network", network],
    );
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    v["paused"].as_bool().expect("paused")
}

#[test]
fn an_admin_key_on_another_machine_signs_a_pause() {
    let s = Sandbox::start("offline-admin");
    let admin = s.wallet("admin");
    let oracle = s.wallet("oracle");
    let network = network_address(&s.init("clore", &oracle));
    let n = ["--network", network.as_str()];

    // Online, without the admin's key: nothing is sent, the message is printed.
    let pause = ["network", "pause", n[0], n[1]];
    let out = run_as(&s, &admin, &[&pause[..], &["--sign-only"]].concat());
    let printed = stdout(&out);
    assert_eq!(code(&out), 0, "{printed}{}", stderr(&out));
    assert!(
        printed.starts_with("nothing was sent (--sign-only)"),
        "{printed}"
    );
    let blockhash = line(&printed, "Blockhash: ").to_string();
    let message = line(&printed, "Message: ").to_string();
    let absent = printed
        .split("Absent Signers (Pubkey):\n")
        .nth(1)
        .expect("absent signers");
    assert!(absent.starts_with(&format!("  {admin}\n")), "{printed}");
    assert!(!paused(&s, &network), "sign-only sent nothing");

    // Where the key is: what the message does, and the signature.
    let signed = s.ok("admin", &["sign", &message]);
    assert!(signed.contains("upline set_paused"), "{signed}");
    assert!(signed.contains(&format!("fee payer {admin}")), "{signed}");
    let signer = signed.lines().last().expect("PUBKEY=SIGNATURE").to_string();
    assert!(signer.starts_with(&format!("{admin}=")), "{signed}");
    // A key the message does not need does not sign it.
    let stranger = s.wallet("stranger");
    let out = s.run("stranger", &["sign", &message]);
    fails_with(
        &out,
        2,
        &format!("--keypair {stranger}: this message does not need"),
    );

    // Online again: the same command, the blockhash and the signature.
    let finish = [
        &pause[..],
        &["--blockhash", &blockhash, "--signer", &signer],
    ]
    .concat();
    let out = run_as(&s, &admin, &finish);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).starts_with("paused network"),
        "{}",
        stdout(&out)
    );
    assert!(paused(&s, &network));

    // The pause's signature does not verify over the unpause's transaction.
    let unpause = ["network", "unpause", n[0], n[1]];
    let again = [
        &unpause[..],
        &["--blockhash", &blockhash, "--signer", &signer],
    ]
    .concat();
    let out = run_as(&s, &admin, &again);
    fails_with(&out, 1, "does not verify over this transaction");
    assert!(paused(&s, &network), "a refused signature changes nothing");

    // A public key alone, without --sign-only or its signature, says what to do.
    let out = run_as(&s, &admin, &unpause);
    fails_with(
        &out,
        2,
        &format!("--keypair {admin}: a public key, not a keypair file"),
    );
}

#[test]
fn offline_flags_where_a_command_does_not_take_them() {
    let s = Sandbox::start("offline-flags");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let network = network_address(&s.init("clore", &oracle));
    let file = write(&s.dir.join("none.jsonl"), "");
    let signer =
        format!("{oracle}=1111111111111111111111111111111111111111111111111111111111111111");
    let out = s.run(
        "oracle",
        &[
            "oracle",
            "submit",
            &file,
            "--network",
            &network,
            "--signer",
            &signer,
        ],
    );
    fails_with(
        &out,
        2,
        "--signer PUBKEY=SIGNATURE: with oracle submit it goes with --messages FILE",
    );
    let out = s.run(
        "oracle",
        &[
            "oracle",
            "submit",
            &file,
            "--network",
            &network,
            "--blockhash",
            "x",
        ],
    );
    fails_with(
        &out,
        2,
        "--blockhash is the blockhash --sign-only signs over",
    );
}
