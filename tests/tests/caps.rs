//! Emission caps: per oracle and per ledger, what the reports an oracle
//! approves may credit per window (the earner's reward, every commission
//! paid and a first-work bonus), counted on the oracle's own registration.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::math::Wad;
use upline::state::{CreditCap, Service};
use upline_sdk::events::UplineEvent;
use upline_sdk::preset::{DirectBonusSpec, Preset};
use upline_sdk::{ix, pda};
use upline_tests::checks::assert_accounting;
use upline_tests::oracles::{cap, counted, wad};
use upline_tests::reports::compute;
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

const PROVIDER: u8 = 1;
const HOUR: i64 = 3_600;

/// Cxmpute whose providers earn `amount` on `ledger` at a referee's first work.
async fn network(chain: &mut Chain, amount: &str, ledger: &str) -> TestNetwork {
    let bonus = DirectBonusSpec {
        amount: amount.into(),
        ledger: ledger.into(),
        trigger: "first_work".into(),
    };
    TestNetwork::from_preset_with(chain, "cxmpute", |p: &mut Preset| {
        p.classes[usize::from(PROVIDER)].direct_bonus = Some(bonus);
    })
    .await
}

/// The 70B chat report of 1,000 tokens: 0.375 CXPT, 0.0375 to a referrer.
async fn report(chain: &mut Chain, net: &TestNetwork, p: &Keypair, id: u64) -> Instruction {
    let args = compute(id, Service::Chat, 1000, 5_000);
    net.compute_ix(chain, &p.pubkey(), "llama3-70b", args).await
}

/// `report` approved by `primary` instead of the network's oracle.
fn approved_by(mut report: Instruction, net: &TestNetwork, primary: &Pubkey) -> Instruction {
    report.accounts[0].pubkey = *primary;
    report.accounts[1].pubkey = pda::oracle(&net.key, primary);
    report
}

#[tokio::test]
async fn a_cap_stops_one_oracle_at_its_limit_until_the_window_ends() {
    let mut chain = Chain::start().await;
    let net = network(&mut chain, "1", "CXPT").await;
    let a = net.oracle.insecure_clone();
    let b = net.add_oracles(&mut chain, 1).await.remove(0);
    let p0 = net.provider(&mut chain, &[], 24).await;
    let p1 = net.provider(&mut chain, &[&p0], 24).await;
    // The first report credits 0.375 + 0.0375 + the 1 CXPT bonus, then 0.4125 each.
    net.set_cap(&mut chain, &a.pubkey(), cap(0, "2.2375", HOUR))
        .await;
    let fresh = counted("2.2375", HOUR, 0, "0");
    assert_eq!(net.caps(&mut chain, &a.pubkey()).await[0], fresh);
    let start = chain.now;
    for (id, at, credited) in [(1, 0, "1.4125"), (2, 100, "1.825"), (3, 200, "2.2375")] {
        chain.warp_to(start + at).await;
        let ix = report(&mut chain, &net, &p1, id).await;
        net.as_oracle(&mut chain, &[ix])
            .await
            .expect("within the cap");
        let now = net.caps(&mut chain, &a.pubkey()).await;
        assert_eq!(
            now[0],
            counted("2.2375", HOUR, start, credited),
            "report {id}"
        );
        assert_eq!(now[1], CreditCap::default(), "POINTS is not capped");
    }
    let watched = [
        net.member(&p0.pubkey()),
        net.member(&p1.pubkey()),
        pda::oracle(&net.key, &a.pubkey()),
    ];
    let over = report(&mut chain, &net, &p1, 4).await;
    chain
        .expect_refusal(
            std::slice::from_ref(&over),
            &[&a],
            UplineError::OracleCapExceeded,
            &watched,
        )
        .await;
    // Another oracle's cap is its own: B, uncapped, approves it.
    let by_b = approved_by(over, &net, &b.pubkey());
    chain.send(&[by_b], &[&b]).await.expect("B is not capped");
    chain.warp_to(start + HOUR - 1).await;
    let ix = report(&mut chain, &net, &p1, 5).await;
    chain
        .expect_refusal(&[ix], &[&a], UplineError::OracleCapExceeded, &watched)
        .await;
    // A new window starts at the first credit after the last one ended.
    chain.warp_to(start + HOUR + 30).await;
    let ix = report(&mut chain, &net, &p1, 5).await;
    net.as_oracle(&mut chain, &[ix]).await.expect("next window");
    let now = net.caps(&mut chain, &a.pubkey()).await[0];
    assert_eq!(now, counted("2.2375", HOUR, start + HOUR + 30, "0.4125"));
    let all = [p0.pubkey(), p1.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[wad("3.0625"), Wad::ZERO]).await;
}

#[tokio::test]
async fn caps_count_per_ledger_and_charge_every_approver() {
    let mut chain = Chain::start().await;
    // Providers earn 50 POINTS at a referee's first work.
    let net = network(&mut chain, "50", "POINTS").await;
    let a = net.oracle.insecure_clone();
    let p0 = net.provider(&mut chain, &[], 24).await;
    let p1 = net.provider(&mut chain, &[&p0], 24).await;
    let p2 = net.provider(&mut chain, &[&p0], 24).await;
    net.set_cap(&mut chain, &a.pubkey(), cap(0, "0.4125", 60))
        .await;
    // The 50 POINTS bonus does not count against the CXPT cap.
    let ix = report(&mut chain, &net, &p1, 1).await;
    let events = net
        .as_oracle(&mut chain, &[ix])
        .await
        .expect("exactly the cap");
    assert!(
        matches!(&events[1], UplineEvent::DirectBonusCredited(e) if e.amount == wad("50") && e.ledger_index == 1 && !e.withheld)
    );
    let t1 = chain.now;
    let now = net.caps(&mut chain, &a.pubkey()).await;
    assert_eq!(now[0], counted("0.4125", 60, t1, "0.4125"));
    assert_eq!(now[1], CreditCap::default());
    // A POINTS cap of 49 refuses p2's first report (its referrer's bonus is 50).
    net.set_cap(&mut chain, &a.pubkey(), cap(1, "49", 60)).await;
    chain.warp_to(t1 + 60).await;
    let mut watched = vec![
        net.member(&p0.pubkey()),
        net.member(&p1.pubkey()),
        net.member(&p2.pubkey()),
        pda::oracle(&net.key, &a.pubkey()),
    ];
    let ix = report(&mut chain, &net, &p2, 1).await;
    chain
        .expect_refusal(
            std::slice::from_ref(&ix),
            &[&a],
            UplineError::OracleCapExceeded,
            &watched,
        )
        .await;
    net.set_cap(&mut chain, &a.pubkey(), cap(1, "50", 60)).await;
    net.as_oracle(&mut chain, &[ix]).await.expect("50 fits");
    let t2 = chain.now;
    let now = net.caps(&mut chain, &a.pubkey()).await;
    assert_eq!(now[0], counted("0.4125", 60, t2, "0.4125"));
    assert_eq!(now[1], counted("50", 60, t2, "50"));

    // Quorum 2: every approver's cap is charged, and the tighter one refuses.
    let added = net.add_oracles(&mut chain, 2).await;
    let (b, c) = (added[0].insecure_clone(), added[1].insecure_clone());
    net.set_quorum(&mut chain, 2).await;
    net.set_cap(&mut chain, &a.pubkey(), cap(0, "100", HOUR))
        .await;
    net.set_cap(&mut chain, &b.pubkey(), cap(0, "0.5", HOUR))
        .await;
    let co_signed = |ix, co: &Keypair| ix::with_co_signers(ix, &net.key, &[co.pubkey()]);
    let ix = report(&mut chain, &net, &p1, 2).await;
    chain
        .send(&[co_signed(ix, &b)], &[&a, &b])
        .await
        .expect("A and B");
    assert_eq!(
        net.caps(&mut chain, &a.pubkey()).await[0],
        counted("100", HOUR, t2, "0.825")
    );
    assert_eq!(
        net.caps(&mut chain, &b.pubkey()).await[0],
        counted("0.5", HOUR, t2, "0.4125")
    );
    watched.push(pda::oracle(&net.key, &b.pubkey()));
    let ix = report(&mut chain, &net, &p1, 3).await;
    chain
        .expect_refusal(
            &[co_signed(ix.clone(), &b)],
            &[&a, &b],
            UplineError::OracleCapExceeded,
            &watched,
        )
        .await;
    // B as the primary and A co-signing: B's cap still refuses.
    let b_first = ix::with_co_signers(
        approved_by(ix.clone(), &net, &b.pubkey()),
        &net.key,
        &[a.pubkey()],
    );
    chain
        .expect_refusal(
            &[b_first],
            &[&a, &b],
            UplineError::OracleCapExceeded,
            &watched,
        )
        .await;
    chain
        .send(&[co_signed(ix, &c)], &[&a, &c])
        .await
        .expect("A and C");
    assert_eq!(
        net.caps(&mut chain, &a.pubkey()).await[0],
        counted("100", HOUR, t2, "1.2375")
    );
    assert_eq!(
        net.caps(&mut chain, &c.pubkey()).await[0],
        CreditCap::default()
    );
    let all = [p0.pubkey(), p1.pubkey(), p2.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[wad("1.65"), wad("100")]).await;
}

#[tokio::test]
async fn withheld_commissions_and_bonuses_are_not_counted() {
    let mut chain = Chain::start().await;
    let net = network(&mut chain, "1", "CXPT").await;
    let a = net.oracle.insecure_clone();
    let p0 = net.provider(&mut chain, &[], 24).await;
    let p1 = net.provider(&mut chain, &[&p0], 24).await;
    net.set_cap(&mut chain, &a.pubkey(), cap(0, "0.375", HOUR))
        .await;
    let watched = [
        net.member(&p0.pubkey()),
        net.member(&p1.pubkey()),
        pda::oracle(&net.key, &a.pubkey()),
    ];
    // 0.375 + 0.0375 + 1 would pass the cap...
    let ix = report(&mut chain, &net, &p1, 1).await;
    chain
        .expect_refusal(
            std::slice::from_ref(&ix),
            &[&a],
            UplineError::OracleCapExceeded,
            &watched,
        )
        .await;
    // ...but with p0 frozen its commission and bonus are withheld: 0.375 is counted.
    net.freeze(&mut chain, &p0, true).await;
    let events = net.as_oracle(&mut chain, &[ix]).await.expect("report");
    match &events[..] {
        [UplineEvent::ComputeReported(e), UplineEvent::DirectBonusCredited(b)] => {
            let c = &e.commissions[0];
            assert_eq!((c.amount, c.withheld), (wad("0.0375"), true));
            assert_eq!((b.amount, b.withheld), (wad("1"), true));
        }
        other => panic!("unexpected events {other:?}"),
    }
    let start = chain.now;
    assert_eq!(
        net.caps(&mut chain, &a.pubkey()).await[0],
        counted("0.375", HOUR, start, "0.375")
    );
    let all = [p0.pubkey(), p1.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[wad("0.375"), Wad::ZERO]).await;
}

#[tokio::test]
async fn set_oracle_cap_refusals_and_a_zero_limit_removes_the_cap() {
    let mut chain = Chain::start().await;
    let net = network(&mut chain, "1", "CXPT").await;
    let (a, admin) = (net.oracle.insecure_clone(), net.admin.insecure_clone());
    let other = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let foreign = pda::oracle(&other.key, &other.oracle.pubkey());
    let registration = pda::oracle(&net.key, &a.pubkey());
    let watched = [registration, foreign];
    let by =
        |signer: &Keypair, args| ix::set_oracle_cap(&signer.pubkey(), &net.key, &a.pubkey(), args);
    let mut not_ours = by(&admin, cap(0, "1", HOUR));
    not_ours.accounts[2].pubkey = foreign;
    let cases = [
        (
            by(&admin, cap(2, "1", HOUR)),
            &admin,
            UplineError::UnknownLedger,
        ),
        (
            by(&admin, cap(9, "1", HOUR)),
            &admin,
            UplineError::UnknownLedger,
        ),
        (by(&admin, cap(0, "1", 0)), &admin, UplineError::InvalidCap),
        (
            by(&admin, cap(0, "1", -HOUR)),
            &admin,
            UplineError::InvalidCap,
        ),
        (by(&a, cap(0, "1", HOUR)), &a, UplineError::NotAdmin),
        (not_ours, &admin, UplineError::NotOracle),
    ];
    for (ix, signer, error) in cases {
        chain
            .expect_refusal(&[ix], &[signer], error, &watched)
            .await;
    }
    assert_eq!(
        net.caps(&mut chain, &a.pubkey()).await,
        [CreditCap::default(); 4]
    );
    // No limit needs no window.
    net.set_cap(&mut chain, &a.pubkey(), cap(0, "0", 0)).await;
    net.set_cap(&mut chain, &a.pubkey(), cap(0, "0.375", HOUR))
        .await;
    let p0 = net.provider(&mut chain, &[], 24).await;
    let ix = report(&mut chain, &net, &p0, 1).await;
    net.as_oracle(&mut chain, &[ix]).await.expect("0.375");
    let start = chain.now;
    let ix = report(&mut chain, &net, &p0, 2).await;
    let watched = [registration, net.member(&p0.pubkey())];
    chain
        .expect_refusal(
            std::slice::from_ref(&ix),
            &[&a],
            UplineError::OracleCapExceeded,
            &watched,
        )
        .await;
    // A zero limit removes the cap; what was counted stays, nothing more is.
    net.set_cap(&mut chain, &a.pubkey(), cap(0, "0", HOUR))
        .await;
    net.as_oracle(&mut chain, &[ix]).await.expect("uncapped");
    assert_eq!(
        net.caps(&mut chain, &a.pubkey()).await[0],
        counted("0", 0, start, "0.375")
    );
    assert_accounting(&mut chain, &net, &[p0.pubkey()], &[wad("0.75"), Wad::ZERO]).await;
}
