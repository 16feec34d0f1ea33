//! The world the explorer's page tests look at: a cxmpute network on
//! `upline sandbox` where alice referred bob and carol, both providers with
//! compute reports, the CXPT vault funded, indexed into SQLite and served
//! by `upline explorer serve`; plus what the tests read independently of the
//! explorer (the chain over JSON-RPC, `member stats`) and raw HTTP heads.

use crate::common::web::{get_json, http};
use crate::common::{compute, network_address, write, Sandbox, Server};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;

pub struct PagesWorld {
    pub s: Sandbox,
    pub network: String,
    pub alice: String,
    pub bob: String,
    pub carol: String,
    pub db: String,
    pub server: Server,
}

impl PagesWorld {
    pub fn start(name: &str) -> PagesWorld {
        let s = Sandbox::start(name);
        s.wallet("admin");
        let oracle = s.wallet("oracle");
        let alice = s.wallet("alice");
        let bob = s.wallet("bob");
        let carol = s.wallet("carol");
        let network = network_address(&s.init("cxmpute", &oracle));
        s.join("alice", &network, "provider", None);
        s.join("bob", &network, "provider", Some(&alice));
        s.join("carol", &network, "provider", Some(&alice));
        s.attest_provider(&network, &bob, "24576");
        s.attest_provider(&network, &carol, "24576");
        // 0.375 CXPT a report: bob earns 1.875, carol 0.75, alice 10% of both.
        let reports: String = (1..=5)
            .map(|id| compute(id, &bob, "llama3-70b"))
            .chain((6..=7).map(|id| compute(id, &carol, "llama3-70b")))
            .collect();
        let file = write(&s.dir.join("reports.jsonl"), &reports);
        s.ok(
            "oracle",
            &["oracle", "submit", &file, "--network", &network],
        );
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
        let db = s.dir.join("index.sqlite");
        let db = db.to_str().expect("utf-8 path").to_string();
        s.ok("admin", &["explorer", "index", "--db", &db]);
        let server = Server::start(&["explorer", "serve", "--db", &db, "--port", "0"]);
        PagesWorld {
            s,
            network,
            alice,
            bob,
            carol,
            db,
            server,
        }
    }

    /// GET `path` from the explorer: status and JSON.
    pub fn get(&self, path: &str) -> (u16, Value) {
        get_json(&self.server.url, path)
    }

    /// A wallet's provider membership account, as the referral-stats API names it.
    pub fn member_of(&self, wallet: &str) -> String {
        let (status, stats) = self.get(&format!("/api/providers/{wallet}/referral-stats"));
        assert_eq!(status, 200, "{stats}");
        stats["memberships"][0]["member"]
            .as_str()
            .expect("a member account")
            .to_string()
    }

    /// A wallet's CXPT balance as the chain holds it (`member stats`), in WAD.
    pub fn chain_balance(&self, wallet: &str) -> u128 {
        let stats = self.s.stats(&self.network, wallet);
        let ledgers = stats["ledgers"].as_array().expect("ledgers");
        let cxpt = ledgers
            .iter()
            .find(|l| l["ledger"] == "CXPT")
            .expect("a CXPT ledger");
        wad_of(cxpt["totals"]["balance"].as_str().expect("a balance"))
    }

    /// More compute reports for `wallet`, then the index brought up to date.
    pub fn more_reports(&self, wallet: &str, ids: std::ops::RangeInclusive<u64>) {
        let reports: String = ids.map(|id| compute(id, wallet, "llama3-70b")).collect();
        let file = write(&self.s.dir.join("more.jsonl"), &reports);
        self.s.ok(
            "oracle",
            &["oracle", "submit", &file, "--network", &self.network],
        );
        self.s.ok("admin", &["explorer", "index", "--db", &self.db]);
    }
}

/// A decimal string of a token ("2.8875") in WAD (10^-18).
pub fn wad_of(text: &str) -> u128 {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    assert!(fraction.len() <= 18, "{text}: more than 18 decimals");
    let whole: u128 = whole.parse().expect("a whole part");
    let fraction: u128 = format!("{fraction:0<18}").parse().expect("a fraction");
    whole * 10u128.pow(18) + fraction
}

/// What an SPL token account holds (base units), read from the chain.
pub fn token_amount(url: &str, address: &str) -> u64 {
    use base64::Engine;
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "getAccountInfo",
        "params": [address, {"encoding": "base64"}]});
    let (status, body) = http(url, "POST", "/", Some(&call));
    assert_eq!(status, 200, "getAccountInfo: {body}");
    let reply: Value = serde_json::from_str(&body).expect("a JSON-RPC reply");
    let data = base64::engine::general_purpose::STANDARD
        .decode(
            reply["result"]["value"]["data"][0]
                .as_str()
                .expect("account data"),
        )
        .expect("base64");
    u64::from_le_bytes(<[u8; 8]>::try_from(&data[64..72]).expect("an amount"))
}

/// The response head of GET `path` (lower-cased), for its headers.
pub fn head(base: &str, path: &str) -> String {
    let address = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(address).expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "connection closed before the response head");
        buffer.extend_from_slice(&chunk[..n]);
    }
    let end = buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase()
}
