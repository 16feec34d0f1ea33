//! A Cxmpute network of users in a referral tree on a running sandbox, set
//! up in-process over JSON-RPC (even through a sandbox that drops every
//! Nth transaction), usage reports about them, and what each member's
//! totals must then be, computed from the preset's figures, not the program.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use upline_sdk::client::{AccountState, Cluster, TxFailure};
use upline_sdk::rpc::{failure, RpcCluster};

/// A cluster whose `send` rebroadcasts until the transaction lands (the
/// faulty sandbox drops some without saying so).
pub struct Persistent(pub RpcCluster);

impl Cluster for Persistent {
    async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), TxFailure> {
        let client = self.0.client();
        let payer = signers[0].pubkey();
        let blockhash = client.get_latest_blockhash().await.map_err(failure)?;
        let tx = Transaction::new_signed_with_payer(instructions, Some(&payer), signers, blockhash);
        for _ in 0..50 {
            client.send_transaction(&tx).await.map_err(failure)?;
            for _ in 0..20 {
                tokio::time::sleep(Duration::from_millis(25)).await;
                match client.get_signature_status(&tx.signatures[0]).await {
                    Ok(Some(Ok(()))) => return Ok(()),
                    Ok(Some(Err(e))) => return Err(TxFailure::from(e)),
                    _ => {}
                }
            }
        }
        Err(TxFailure::Other("never landed".into()))
    }

    async fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<AccountState>>, TxFailure> {
        self.0.accounts(keys).await
    }

    async fn rent_exempt(&mut self, len: usize) -> Result<u64, TxFailure> {
        self.0.rent_exempt(len).await
    }

    async fn now(&mut self) -> Result<i64, TxFailure> {
        self.0.now().await
    }

    fn budget_instructions(&self, _count: usize) -> Vec<Instruction> {
        Vec::new()
    }
}

/// xorshift64*: the tests' randomness, reproducible from the printed seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn seeded(name: &str) -> Rng {
        let seed = std::env::var("UPLINE_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            })
            .max(1);
        eprintln!("{name}: seed {seed} (UPLINE_TEST_SEED={seed} repeats it)");
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The network and its members: member `i`'s referrer is member `(i - 1) / 2`.
pub struct World {
    pub network: Pubkey,
    pub oracle: std::path::PathBuf,
    pub wallets: Vec<Pubkey>,
}

fn parent(i: usize) -> Option<usize> {
    (i > 0).then(|| (i - 1) / 2)
}

/// Set up `members` users (the first joined alone, each next under its
/// parent); the oracle's keypair is written in `dir`.
pub async fn world(url: &str, dir: &Path, members: usize) -> World {
    let rpc = RpcCluster::connect(url).await.expect("connect");
    let admin = Keypair::new();
    let oracle = Keypair::new();
    let mut rpc = rpc;
    for key in [&admin, &oracle] {
        rpc.airdrop(&key.pubkey(), 100_000_000_000)
            .await
            .expect("airdrop");
    }
    let oracle_path = dir.join("oracle.json");
    upline_cli::keys::write_keypair(&oracle_path, &oracle).expect("oracle keypair");
    let mut cluster = Persistent(rpc);
    let preset = upline_sdk::preset::Preset::builtin("cxmpute").expect("preset");
    let options = upline_sdk::setup::InitOptions {
        preset: &preset,
        name: None,
        mints: BTreeMap::new(),
        allow_freeze_authority: false,
        oracles: vec![oracle.pubkey()],
    };
    let network = upline_sdk::setup::init_network(&mut cluster, &admin, &options, |_, _| {})
        .await
        .expect("network init")
        .address;
    let user = 0u8;
    let mut wallets: Vec<Pubkey> = Vec::with_capacity(members);
    let mut accounts: Vec<Pubkey> = Vec::with_capacity(members);
    for i in 0..members {
        let wallet = Keypair::new();
        let mut upline = Vec::new();
        let mut up = parent(i);
        while let Some(p) = up.filter(|_| upline.len() < 3) {
            upline.push(accounts[p]);
            up = parent(p);
        }
        let join = upline_sdk::ix::join(&wallet.pubkey(), &admin.pubkey(), &network, user, &upline);
        cluster
            .send(&[join], &[&admin, &wallet])
            .await
            .unwrap_or_else(|e| panic!("join {i}: {e}"));
        accounts.push(upline_sdk::pda::member(&network, &wallet.pubkey(), user));
        wallets.push(wallet.pubkey());
    }
    World {
        network,
        oracle: oracle_path,
        wallets,
    }
}

/// One usage report: about member `member`, `id`, `tokens` (a multiple of
/// 1,000, so that every figure is whole hundredths of a point).
pub struct Report {
    pub member: usize,
    pub id: u64,
    pub tokens: u64,
}

impl Report {
    pub fn line(&self, world: &World) -> String {
        format!(
            "{{\"kind\": \"usage\", \"id\": {}, \"user\": \"{}\", \"endpoint\": \"chat\", \"tokens\": {}}}\n",
            self.id, world.wallets[self.member], self.tokens
        )
    }
}

/// Hundredths of a point per member: (work, level 1, level 2, level 3,
/// direct bonus), from the Cxmpute preset's figures: a chat usage report
/// earns 1 + 0.001 per token; the user class pays 15%, 8% and 4% of it to
/// the three members above, and 25 points to a referrer at each link.
pub fn expected(members: usize, reports: &[Report]) -> Vec<[u128; 5]> {
    let mut out = vec![[0u128; 5]; members];
    for r in reports {
        let points = 100 + u128::from(r.tokens) / 10;
        out[r.member][0] += points;
        let mut up = parent(r.member);
        for rate in [15u128, 8, 4].iter().enumerate() {
            let Some(p) = up else { break };
            out[p][1 + rate.0] += points * rate.1 / 100;
            up = parent(p);
        }
    }
    for i in 1..members {
        if let Some(p) = parent(i) {
            out[p][4] += 2_500;
        }
    }
    out
}

/// A decimal string ("12.5", "0.150000000000000000") in hundredths; it must be exact.
pub fn hundredths(text: &str) -> u128 {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fraction = format!("{fraction:0<2}");
    assert!(
        fraction[2..].bytes().all(|b| b == b'0'),
        "{text}: not whole hundredths"
    );
    whole.parse::<u128>().expect("a decimal") * 100 + fraction[..2].parse::<u128>().expect("digits")
}

/// A member's POINTS figures as [`expected`] lists them.
pub fn points(stats: &Value) -> [u128; 5] {
    let ledger = stats["memberships"][0]["ledgers"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["ledger"] == "POINTS"))
        .unwrap_or_else(|| panic!("a POINTS ledger: {stats}"));
    let f = |v: &Value| hundredths(v.as_str().unwrap_or_else(|| panic!("a decimal: {v}")));
    let levels = &ledger["rewards_by_level"];
    [
        f(&ledger["totals"]["work"]),
        f(&levels["level1"]),
        f(&levels["level2"]),
        f(&levels["level3"]),
        f(&levels["direct_bonus"]),
    ]
}
