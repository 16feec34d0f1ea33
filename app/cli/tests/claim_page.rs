//! The claim page end to end: a network on `upline sandbox` set up with the
//! CLI, `explorer serve` pointed at it, and in headless chromium a
//! keypair-backed wallet registered through the Wallet Standard connects,
//! claims below the minimum (refused by name, nothing changes on chain) and
//! then claims for real (the token account and the membership change by the
//! amount claimed, and the page shows the signature and the new balances).

mod common;

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use common::web::{get_json, http, Browser};
use common::{compute, network_address, write, Sandbox, Server};
use serde_json::{json, Value};
use std::str::FromStr;

/// A Wallet Standard wallet backed by a keypair (arguments: the 64 bytes of a
/// Solana keypair file, its address, the wallet's name, and a JSON-RPC URL to
/// send to or null), registered with
/// the `wallet-standard:register-wallet` event. It connects without asking
/// and signs with WebCrypto's Ed25519 (chromium has it since version 137).
/// WebDriver runs the script as a function body and awaits the promise it returns.
const TEST_WALLET: &str = r##"
const [secret, address, name, sendTo] = arguments;
return (async () => {
const seed = new Uint8Array(secret.slice(0, 32));
const publicKey = new Uint8Array(secret.slice(32, 64));
// PKCS #8 wrapping of an Ed25519 seed (RFC 8410): a fixed prefix, then the 32 bytes.
const pkcs8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65,
  0x70, 0x04, 0x22, 0x04, 0x20, ...seed]);
const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
const shortVec = (bytes, at) => {
  let value = 0, shift = 0;
  for (;;) { const b = bytes[at++]; value |= (b & 0x7f) << shift; shift += 7; if (!(b & 0x80)) return [value, at]; }
};
// Sign a wire transaction: find this key among the message's signers, sign the message.
async function sign(transaction) {
  const [count, start] = shortVec(transaction, 0);
  const message = transaction.slice(start + 64 * count);
  let at = message[0] & 0x80 ? 1 : 0;
  const required = message[at];
  const [keys, first] = shortVec(message, at + 3);
  let index = -1;
  for (let i = 0; i < keys && index < 0; i++) {
    if (message.slice(first + 32 * i, first + 32 * i + 32).every((b, j) => b === publicKey[j])) index = i;
  }
  if (index < 0 || index >= required) throw new Error("this transaction needs no signature of this wallet");
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", key, message));
  const signed = transaction.slice();
  signed.set(signature, start + 64 * index);
  window.testWalletSigned = (window.testWalletSigned ?? 0) + 1;
  return { signed, signature };
}
// With `sendTo` (a JSON-RPC URL) the wallet sends what it signs, as wallets
// that offer only solana:signAndSendTransaction do; else it only signs.
const feature = sendTo ? "solana:signAndSendTransaction" : "solana:signTransaction";
const versions = ["legacy", 0];
const features = sendTo ? {
  [feature]: { version: "1.0.0", supportedTransactionVersions: versions,
    signAndSendTransaction: (...inputs) => Promise.all(inputs.map(async i => {
      const { signed, signature } = await sign(i.transaction);
      const call = { jsonrpc: "2.0", id: 1, method: "sendTransaction",
        params: [btoa(String.fromCharCode(...signed)), { encoding: "base64" }] };
      const reply = await (await fetch(sendTo, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(call) })).json();
      if (reply.error) throw new Error(reply.error.message);
      return { signature };
    })) },
} : {
  [feature]: { version: "1.0.0", supportedTransactionVersions: versions,
    signTransaction: (...inputs) => Promise.all(inputs.map(async i => ({ signedTransaction: (await sign(i.transaction)).signed }))) },
};
const chains = ["solana:localnet"];
const account = Object.freeze({ address, publicKey, chains, features: [feature] });
const icon = "data:image/svg+xml;base64," + btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
  + '<rect width="32" height="32" rx="7" fill="#7b3fe4"/><path d="M9 21l7-11 7 11z" fill="#fff"/></svg>');
const wallet = { version: "1.0.0", name, icon, chains, accounts: [], features: {
  "standard:connect": { version: "1.0.0", connect: async () => { wallet.accounts = [account]; return { accounts: wallet.accounts }; } },
  ...features,
} };
const register = ({ register }) => register(wallet);
window.addEventListener("wallet-standard:app-ready", ({ detail }) => register(detail));
window.dispatchEvent(new CustomEvent("wallet-standard:register-wallet", { detail: register }));
return "registered";
})();
"##;

/// One JSON-RPC call to the sandbox.
fn rpc(url: &str, method: &str, params: Value) -> Value {
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (status, body) = http(url, "POST", "/", Some(&call));
    assert_eq!(status, 200, "{method}: {body}");
    let reply: Value = serde_json::from_str(&body).expect("a JSON-RPC reply");
    reply["result"].clone()
}

/// An account's owner and data, if it exists.
fn account(url: &str, address: &Pubkey) -> Option<(Pubkey, Vec<u8>)> {
    let info = rpc(
        url,
        "getAccountInfo",
        json!([address.to_string(), {"encoding": "base64"}]),
    );
    let value = info["value"].as_object()?;
    let owner = Pubkey::from_str(value["owner"].as_str()?).ok()?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(value["data"][0].as_str()?)
        .ok()?;
    Some((owner, data))
}

/// What a token account holds (base units), `None` if it does not exist.
fn token_amount(url: &str, address: &Pubkey) -> Option<u64> {
    let (_, data) = account(url, address)?;
    Some(u64::from_le_bytes(data.get(64..72)?.try_into().ok()?))
}

#[test]
fn a_member_connects_a_wallet_and_claims_from_the_dashboard() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let s = Sandbox::start("claim-page");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let bob = s.wallet("bob");
    let network = network_address(&s.init("cxmpute", &oracle));
    s.join("bob", &network, "provider", None);
    s.attest_provider(&network, &bob, "24576");
    // 8 reports at 0.375 CXPT each: 3 CXPT claimable, the minimum is 1 CXPT.
    let reports: String = (1..=8).map(|id| compute(id, &bob, "llama3-70b")).collect();
    let file = write(&s.dir.join("reports.jsonl"), &reports);
    s.ok(
        "oracle",
        &["oracle", "submit", &file, "--network", &network],
    );
    let fund = [
        "network",
        "fund",
        "--network",
        &network,
        "--ledger",
        "CXPT",
        "--amount",
        "100",
        "--mint-first",
    ];
    s.ok("admin", &fund);
    let db = s.dir.join("index.sqlite");
    let db = db.to_str().expect("utf-8 path");
    s.ok("admin", &["explorer", "index", "--db", db]);
    let server = Server::start(&[
        "--url", &s.url, "explorer", "serve", "--db", db, "--port", "0",
    ]);

    // Bob's token account for CXPT, found independently of the page.
    let (_, summary) = get_json(&server.url, "/api/networks");
    let mint = summary["networks"][0]["ledgers"][0]["mint"]
        .as_str()
        .and_then(|m| Pubkey::from_str(m).ok())
        .expect("the CXPT mint");
    let (token_program, _) = account(&s.url, &mint).expect("the mint account");
    let bob_key = Pubkey::from_str(&bob).expect("bob's address");
    let ata = anchor_spl::associated_token::get_associated_token_address_with_program_id(
        &bob_key,
        &mint,
        &token_program,
    );
    assert_eq!(token_amount(&s.url, &ata), None, "no token account yet");

    browser.resize(1200, 1000);
    browser.open(&format!("{}/", server.url));
    let secret: Vec<u8> =
        serde_json::from_str(&std::fs::read_to_string(s.key("bob")).expect("bob's keypair file"))
            .expect("a keypair file");
    assert_eq!(
        browser.execute(
            TEST_WALLET,
            json!([secret, bob, "Upline test wallet", null])
        ),
        json!("registered")
    );
    let shots = std::env::temp_dir();
    browser.screenshot("body", &shots.join("upline-claim-page.png"));
    browser.click("#connect-wallet");
    browser.click(r#"#wallet-list button[data-wallet="Upline test wallet"]"#);
    assert_eq!(browser.text("#connected-address"), bob);
    let row = r#".membership-claims[data-network-name="cxmpute"][data-class="provider"] tr[data-ledger="CXPT"]"#;
    let field = |name: &str| format!(r#"{row} td[data-field="{name}"]"#);
    assert_eq!(browser.text(&field("balance")), "3");
    assert_eq!(browser.text(&field("min")), "1");
    assert_eq!(browser.text(&field("claimable")), "3");
    assert_eq!(browser.text(&field("in-wallet")), "0");

    // Below the minimum: refused by the program, by name; nothing changes.
    let amount = format!("{row} input.amount");
    let claim = format!("{row} button.claim");
    browser.clear(&amount);
    browser.type_into(&amount, "0.5");
    browser.click(&claim);
    let refused = browser.text_containing(r#".claim-error[data-ledger="CXPT"]"#, "BelowMinimum");
    assert_eq!(
        refused,
        "claim 0.5 CXPT: below the 1 CXPT minimum (BelowMinimum)"
    );
    assert_eq!(token_amount(&s.url, &ata), None, "nothing was paid");
    // Named before signing where the cluster simulates, else at the send's preflight.
    let signed = browser.execute("return window.testWalletSigned ?? 0", json!([]));
    eprintln!(
        "below the minimum: refused {}",
        if signed == json!(0) {
            "by the simulation, before the wallet signed"
        } else {
            "by the send's preflight, after the wallet signed"
        }
    );
    browser.screenshot("#claim-panel", &shots.join("upline-claim-refused.png"));
    let totals = &s.stats(&network, &bob)["ledgers"][0]["totals"];
    assert_eq!(
        (totals["balance"].as_str(), totals["withdrawn"].as_str()),
        (Some("3"), Some("0"))
    );

    // 2 CXPT: signed in the page, sent, confirmed; the page shows the signature.
    browser.clear(&amount);
    browser.type_into(&amount, "2");
    browser.click(&claim);
    let done = r#".claim-done[data-ledger="CXPT"]"#;
    let text = browser.text_containing(done, "Claimed");
    assert!(text.starts_with("Claimed 2 CXPT."), "{text}");
    let signature = browser.text(&format!(r#"{done} [data-field="signature"]"#));
    assert!(
        (86..=88).contains(&signature.len()),
        "a base58 signature: {signature:?}"
    );
    assert_eq!(
        browser.text(&format!(r#"{done} [data-field="in-wallet-after"]"#)),
        "2 CXPT"
    );
    assert_eq!(
        browser.text(&format!(r#"{done} [data-field="balance-after"]"#)),
        "1 CXPT"
    );
    assert_eq!(browser.text(&field("balance")), "1");
    assert_eq!(browser.text(&field("in-wallet")), "2");
    // On chain: the token account holds exactly the claim, the membership shows it withdrawn.
    assert_eq!(token_amount(&s.url, &ata), Some(2_000_000_000));
    let totals = &s.stats(&network, &bob)["ledgers"][0]["totals"];
    assert_eq!(
        (totals["balance"].as_str(), totals["withdrawn"].as_str()),
        (Some("1"), Some("2"))
    );
    let statuses = rpc(&s.url, "getSignatureStatuses", json!([[signature]]));
    assert_eq!(statuses["value"][0]["err"], Value::Null, "{statuses}");

    // The same answers over the API: a claim the wallet sent itself
    // (`signAndSendTransaction`) is confirmed by signature.
    let (_, claims) = get_json(&server.url, &format!("/api/wallet/{bob}/claims"));
    let m = &claims["memberships"][0];
    assert_eq!(
        (m["class"].as_str(), m["ledgers"][0]["claimable"].as_str()),
        (Some("provider"), Some("1")),
        "{claims}"
    );
    let status = format!(
        "/api/claim/status?signature={signature}&wallet={bob}&network={network}&class={}&ledger=0",
        m["class_index"]
    );
    let (code, answer) = get_json(&server.url, &status);
    assert_eq!(code, 200, "{answer}");
    assert_eq!(
        (answer["in_wallet"].as_str(), answer["balance"].as_str()),
        (Some("2"), Some("1"))
    );
    // A signed claim below the minimum sent straight to /api/claim/send (no
    // simulation first): the send's preflight refusal is named the same way.
    let keypair = solana_keypair::Keypair::try_from(secret.as_slice()).expect("bob's keypair");
    let to = upline_sdk::ix::TokenDestination {
        mint,
        destination: ata,
        token_program,
    };
    let class = u8::try_from(m["class_index"].as_u64().expect("class")).expect("a class");
    let network_key = Pubkey::from_str(&network).expect("network address");
    let below = upline_sdk::ix::withdraw(
        &bob_key,
        &network_key,
        class,
        0,
        Some(&to),
        Some(500_000_000),
    );
    let blockhash = rpc(&s.url, "getLatestBlockhash", json!([]))["value"]["blockhash"]
        .as_str()
        .and_then(|h| solana_transaction::Hash::from_str(h).ok())
        .expect("a blockhash");
    let tx = solana_transaction::Transaction::new_signed_with_payer(
        &[below],
        Some(&bob_key),
        &[&keypair],
        blockhash,
    );
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(bincode::serialize(&tx).expect("a wire transaction"));
    let (code, body) = http(
        &server.url,
        "POST",
        "/api/claim/send",
        Some(&json!({ "transaction": encoded })),
    );
    let refused: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        (code, refused["error"].as_str()),
        (
            422,
            Some("claim 0.5 CXPT: below the 1 CXPT minimum (BelowMinimum)")
        )
    );
    assert_eq!(token_amount(&s.url, &ata), Some(2_000_000_000));
    // Only claims are sent; only claims are POSTed.
    let (code, body) = http(
        &server.url,
        "POST",
        "/api/claim/send",
        Some(&json!({"transaction": "AA=="})),
    );
    assert_eq!(code, 400, "{body}");
    let (code, _) = http(&server.url, "POST", "/api/networks", Some(&json!({})));
    assert_eq!(code, 405);

    let shot = shots.join("upline-claim-panel.png");
    browser.screenshot("#claim-panel", &shot);
    eprintln!(
        "the claim panel: {} (refused: upline-claim-refused.png beside it)",
        shot.display()
    );

    // A wallet that offers only solana:signAndSendTransaction: it sends the
    // claim itself and the page follows the signature.
    browser.execute(
        TEST_WALLET,
        json!([secret, bob, "Upline send-only wallet", s.url]),
    );
    browser.click("#disconnect-wallet");
    browser.click("#connect-wallet");
    browser.click(r#"#wallet-list button[data-wallet="Upline send-only wallet"]"#);
    assert_eq!(browser.text(&field("balance")), "1");
    browser.clear(&amount);
    browser.type_into(&amount, "1");
    browser.click(&claim);
    let text = browser.text_containing(done, "confirmed");
    assert!(text.starts_with("Claim of CXPT confirmed."), "{text}");
    assert_eq!(
        browser.text(&format!(r#"{done} [data-field="in-wallet-after"]"#)),
        "3 CXPT"
    );
    assert_eq!(token_amount(&s.url, &ata), Some(3_000_000_000));
}
