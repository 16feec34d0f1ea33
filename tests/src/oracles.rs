//! Fixtures for the fraud-response suites: more oracles and a quorum, credit
//! caps, frozen members, and the small helpers their assertions share.

use crate::network::{class, tables, LedgerSetup};
use crate::tokens::TOKEN;
use crate::{Chain, TestNetwork};
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::constants::MAX_LEDGERS;
use upline::events::Commission;
use upline::instructions::OracleCapArgs;
use upline::math::Wad;
use upline::state::{BonusTrigger, CreditCap, MemberFlags, Oracle};
use upline_sdk::events::UplineEvent;
use upline_sdk::{ix, pda};

/// A decimal amount in WAD.
pub fn wad(text: &str) -> Wad {
    Wad::from_decimal_str(text).expect("amount")
}

/// `set_oracle_cap` arguments: at most `limit` on `ledger` per `window_seconds`.
pub fn cap(ledger: u8, limit: &str, window_seconds: i64) -> OracleCapArgs {
    OracleCapArgs {
        ledger,
        limit: wad(limit),
        window_seconds,
    }
}

/// A cap as stored: `credited` counted in the window that started at `window_start`.
pub fn counted(limit: &str, window_seconds: i64, window_start: i64, credited: &str) -> CreditCap {
    CreditCap {
        limit: wad(limit),
        window_seconds,
        window_start,
        credited: wad(credited),
    }
}

/// (member, amount, withheld) of each commission.
pub fn paid(commissions: &[Commission]) -> Vec<(Pubkey, Wad, bool)> {
    commissions
        .iter()
        .map(|c| (c.member, c.amount, c.withheld))
        .collect()
}

/// One class earning `bonus` TOK (6 decimals) per referee at the referee's
/// first work, which is unpaid usage on a points ledger (index 1); the vault
/// holds 100 TOK.
pub async fn first_work_network(chain: &mut Chain, bonus: &str) -> TestNetwork {
    let class = class("member", &[], Some((bonus, 0, BonusTrigger::FirstWork)));
    let ledgers = [
        LedgerSetup::Token {
            name: "TOK".into(),
            decimals: 6,
            min_withdrawal: 1,
            circuit_breaker: None,
            token_program: TOKEN,
        },
        LedgerSetup::Points { name: "PTS".into() },
    ];
    let net = TestNetwork::create(chain, "first-work", tables(&[class], false), &ledgers).await;
    net.enable_unpaid_work(chain, 0, 1).await;
    net.fund(chain, 0, 100_000_000).await;
    net
}

impl TestNetwork {
    /// Register `count` new oracles (the admin pays).
    pub async fn add_oracles(&self, chain: &mut Chain, count: usize) -> Vec<Keypair> {
        let admin = self.admin.pubkey();
        let mut out = Vec::new();
        for _ in 0..count {
            let oracle = chain.wallet().await;
            let add = ix::add_oracle(&admin, &admin, &self.key, &oracle.pubkey());
            chain
                .send(&[add], &[&self.admin])
                .await
                .expect("add oracle");
            out.push(oracle);
        }
        out
    }

    /// Set the quorum, checking its event.
    pub async fn set_quorum(&self, chain: &mut Chain, quorum: u8) {
        let set = ix::set_oracle_quorum(&self.admin.pubkey(), &self.key, quorum);
        let events = chain.send(&[set], &[&self.admin]).await.expect("quorum");
        let oracles = self.state(chain).await.oracle_count;
        match &events[..] {
            [UplineEvent::OracleQuorumSet(e)] => assert_eq!(
                (e.network, e.quorum, e.oracles, e.at),
                (self.key, quorum, oracles, chain.now)
            ),
            other => panic!("unexpected events {other:?}"),
        }
        assert_eq!(self.state(chain).await.oracle_quorum, quorum);
    }

    /// Cap what `oracle` approves, checking the event (a zero limit stores no window).
    pub async fn set_cap(&self, chain: &mut Chain, oracle: &Pubkey, args: OracleCapArgs) {
        let set = ix::set_oracle_cap(&self.admin.pubkey(), &self.key, oracle, args);
        let events = chain.send(&[set], &[&self.admin]).await.expect("set cap");
        let window = if args.limit == Wad::ZERO {
            0
        } else {
            args.window_seconds
        };
        match &events[..] {
            [UplineEvent::OracleCapSet(e)] => assert_eq!(
                (
                    e.network,
                    e.oracle,
                    e.ledger_index,
                    e.limit,
                    e.window_seconds
                ),
                (self.key, *oracle, args.ledger, args.limit, window)
            ),
            other => panic!("unexpected events {other:?}"),
        }
    }

    /// The caps stored on `oracle`'s registration, per ledger index.
    pub async fn caps(&self, chain: &mut Chain, oracle: &Pubkey) -> [CreditCap; MAX_LEDGERS] {
        chain
            .account::<Oracle>(&pda::oracle(&self.key, oracle))
            .await
            .caps
    }

    /// Freeze or unfreeze `wallet`'s only membership, checking the event and the flag.
    pub async fn freeze(&self, chain: &mut Chain, wallet: &Keypair, frozen: bool) {
        let member = self.member(&wallet.pubkey());
        let set = ix::set_member_frozen(&self.admin.pubkey(), &self.key, &member, frozen);
        let events = chain.send(&[set], &[&self.admin]).await.expect("freeze");
        match &events[..] {
            [UplineEvent::MemberFrozenSet(e)] => assert_eq!(
                (e.network, e.member, e.wallet, e.frozen, e.at),
                (self.key, member, wallet.pubkey(), frozen, chain.now)
            ),
            other => panic!("unexpected events {other:?}"),
        }
        let state = self.member_at(chain, &member).await;
        assert_eq!(state.flags.has(MemberFlags::FROZEN), frozen);
    }

    /// A new provider (class 1) under `upline`, attested with `vram_gb` GiB.
    pub async fn provider(&self, chain: &mut Chain, upline: &[&Keypair], vram_gb: u32) -> Keypair {
        let wallet = self.join(chain, 1, upline).await;
        self.attest_provider(chain, &wallet.pubkey(), vram_gb).await;
        wallet
    }
}
