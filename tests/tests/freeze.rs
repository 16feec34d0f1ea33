//! Frozen members (the admin's fraud response): reports about them are
//! refused, what would reach them is withheld (evented, paid to nobody),
//! they cannot withdraw, link or be linked to; unfrozen, they earn again
//! with their balances kept.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::instructions::RentalReportArgs;
use upline::math::Wad;
use upline::state::{Endpoint, MemberFlags, Service};
use upline_sdk::events::UplineEvent;
use upline_sdk::ix;
use upline_tests::checks::assert_accounting;
use upline_tests::oracles::{first_work_network, paid, wad};
use upline_tests::reports::{bandwidth, compute, usage, WorkedAt, WORKED_NOW};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

const USER: u8 = 0;
const PROVIDER: u8 = 1;

#[tokio::test]
async fn reports_about_a_frozen_member_are_refused_in_order() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let oracle = net.oracle.insecure_clone();
    let u0 = net.join(&mut chain, USER, &[]).await;
    let p = net.provider(&mut chain, &[], 24).await;
    net.freeze(&mut chain, &u0, true).await;
    net.freeze(&mut chain, &p, true).await;
    let watched = [net.member(&u0.pubkey()), net.member(&p.pubkey())];
    let stranger = chain.wallet().await;
    let unknown = net.member_in(&stranger.pubkey(), USER);
    let work = compute(1, Service::Chat, 1000, 5_000);
    let compute_ix = net
        .compute_ix(&mut chain, &p.pubkey(), "llama3-70b", work)
        .await;
    let now = chain.now;
    let to = |member: &Pubkey, id| {
        let args = usage(id, Endpoint::Chat, 1000).worked_at(now);
        ix::report_usage(&oracle.pubkey(), &net.key, member, &[], args)
    };
    let join_under_u0 =
        |w: &Keypair| ix::join(&w.pubkey(), &w.pubkey(), &net.key, PROVIDER, &watched[..1]);
    // UnknownMember, then WrongClass (a frozen provider as a user), then
    // MemberFrozen before StaleReport (id 0 was never above the last). A
    // wallet linking its provider membership to its own frozen user one is a
    // self-referral first; another wallet's, in the wrong class, is
    // MemberFrozen before ClassMismatch.
    let cases = [
        (to(&unknown, 1), &oracle, UplineError::UnknownMember),
        (to(&watched[1], 1), &oracle, UplineError::WrongClass),
        (to(&watched[0], 0), &oracle, UplineError::MemberFrozen),
        (compute_ix, &oracle, UplineError::MemberFrozen),
        (join_under_u0(&u0), &u0, UplineError::SelfReferral),
        (
            join_under_u0(&stranger),
            &stranger,
            UplineError::MemberFrozen,
        ),
    ];
    for (ix, signer, error) in cases {
        chain
            .expect_refusal(&[ix], &[signer], error, &watched)
            .await;
    }
    net.freeze(&mut chain, &u0, false).await;
    chain
        .expect_refusal(
            &[to(&watched[0], 0)],
            &[&oracle],
            UplineError::StaleReport,
            &watched,
        )
        .await;
    net.as_oracle(&mut chain, &[to(&watched[0], 1)])
        .await
        .expect("unfrozen");
    assert_eq!(
        net.member_state(&mut chain, &u0.pubkey()).await.ledgers[1].own,
        wad("2")
    );
}

#[tokio::test]
async fn commissions_that_would_reach_a_frozen_member_are_withheld() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let p0 = net.provider(&mut chain, &[], 24).await;
    let p1 = net.provider(&mut chain, &[&p0], 24).await;
    let p2 = net.provider(&mut chain, &[&p1, &p0], 24).await;
    let p3 = net.provider(&mut chain, &[&p2, &p1, &p0], 24).await;
    let m: Vec<Pubkey> = [&p0, &p1, &p2]
        .iter()
        .map(|k| net.member(&k.pubkey()))
        .collect();
    net.freeze(&mut chain, &p1, true).await;
    let before = net.member_state(&mut chain, &p1.pubkey()).await;
    let mut reported = Vec::new();
    for (wallet, id) in [(&p3, 1), (&p2, 1)] {
        let work = compute(id, Service::Chat, 1000, 5_000);
        let ix = net
            .compute_ix(&mut chain, &wallet.pubkey(), "llama3-70b", work)
            .await;
        let events = net.as_oracle(&mut chain, &[ix]).await.expect("report");
        let [UplineEvent::ComputeReported(e)] = &events[..] else {
            panic!("{events:?}")
        };
        assert_eq!(e.reward, wad("0.375"));
        reported.push(paid(&e.commissions));
    }
    assert_eq!(
        reported,
        [
            vec![
                (m[2], wad("0.0375"), false),
                (m[1], wad("0.01875"), true),
                (m[0], wad("0.009375"), false)
            ],
            vec![(m[1], wad("0.0375"), true), (m[0], wad("0.01875"), false)],
        ]
    );
    let after = net.member_state(&mut chain, &p1.pubkey()).await;
    assert_eq!(after.ledgers, before.ledgers, "nothing reached p1");
    let all = [p0.pubkey(), p1.pubkey(), p2.pubkey(), p3.pubkey()];
    // CXPT: 2 × 0.375 + 0.0375 + 0.009375 + 0.01875 paid; POINTS: 3 × 50 at link.
    assert_accounting(&mut chain, &net, &all, &[wad("0.815625"), wad("150")]).await;
    net.freeze(&mut chain, &p1, false).await;
    let work = compute(2, Service::Chat, 1000, 5_000);
    let ix = net
        .compute_ix(&mut chain, &p3.pubkey(), "llama3-70b", work)
        .await;
    net.as_oracle(&mut chain, &[ix]).await.expect("report");
    let m1 = net.member_state(&mut chain, &p1.pubkey()).await;
    assert_eq!(
        (m1.ledgers[0].level2, m1.ledgers[1].bonus),
        (wad("0.01875"), wad("50"))
    );
}

#[tokio::test]
async fn a_bonus_due_to_a_frozen_referrer_is_withheld() {
    let mut chain = Chain::start().await;
    let net = first_work_network(&mut chain, "3").await;
    let r = net.join(&mut chain, 0, &[]).await;
    let e = net.join(&mut chain, 0, &[&r]).await;
    net.freeze(&mut chain, &r, true).await;
    let member = net.member(&e.pubkey());
    let upline = [net.member(&r.pubkey())];
    for (id, withheld_bonus) in [(1, true), (2, false)] {
        let args = upline::instructions::UsageReportArgs {
            id,
            work_time: chain.now,
            endpoint: Endpoint::Chat,
            tokens: 0,
        };
        let ix = ix::report_usage(&net.oracle.pubkey(), &net.key, &member, &upline, args);
        let events = net.as_oracle(&mut chain, &[ix]).await.expect("work");
        match &events[..] {
            [UplineEvent::UsageReported(_), UplineEvent::DirectBonusCredited(b)] => {
                assert!(withheld_bonus, "the bonus is settled once");
                assert_eq!(
                    (b.referrer, b.amount, b.withheld),
                    (upline[0], wad("3"), true)
                );
            }
            [UplineEvent::UsageReported(_)] => assert!(!withheld_bonus),
            other => panic!("unexpected events {other:?}"),
        }
        let flags = net.member_state(&mut chain, &e.pubkey()).await.flags;
        assert!(flags.has(MemberFlags::HAS_WORKED) && !flags.has(MemberFlags::BONUS_DUE));
        net.freeze(&mut chain, &r, false).await;
    }
    assert_eq!(
        net.member_state(&mut chain, &r.pubkey()).await.ledgers[0].bonus,
        Wad::ZERO
    );
    assert_accounting(&mut chain, &net, &[r.pubkey(), e.pubkey()], &[Wad::ZERO; 2]).await;
}

#[tokio::test]
async fn a_frozen_member_cannot_withdraw_link_or_be_linked_to() {
    let mut chain = Chain::start().await;
    let net = first_work_network(&mut chain, "3").await;
    let r = net.join(&mut chain, 0, &[]).await;
    let e1 = net.join_and_work(&mut chain, 0, &r).await;
    let lone = net.join(&mut chain, 0, &[]).await;
    let (mr, me1) = (net.member(&r.pubkey()), net.member(&e1.pubkey()));
    let to = chain
        .token_account(net.ledgers[0].mint(), &r.pubkey())
        .await;
    net.freeze(&mut chain, &r, true).await;
    net.freeze(&mut chain, &e1, true).await;
    let watched = [mr, me1, net.member(&lone.pubkey()), to];
    let newcomer = chain.wallet().await;
    let cases = [
        (net.withdraw_ix(0, &r.pubkey(), &to, Some(1_000_000)), &r),
        // Before NotWithdrawable (a points ledger).
        (ix::withdraw(&r.pubkey(), &net.key, 0, 1, None, None), &r),
        (
            ix::set_referrer(&r.pubkey(), &net.key, 0, &[watched[2]]),
            &r,
        ),
        // Before ReferrerAlreadySet.
        (
            ix::set_referrer(&e1.pubkey(), &net.key, 0, &[watched[2]]),
            &e1,
        ),
        (ix::set_referrer(&lone.pubkey(), &net.key, 0, &[mr]), &lone),
        (
            ix::join(&newcomer.pubkey(), &newcomer.pubkey(), &net.key, 0, &[mr]),
            &newcomer,
        ),
    ];
    for (ix, signer) in cases {
        chain
            .expect_refusal(&[ix], &[signer], UplineError::MemberFrozen, &watched)
            .await;
    }
    let stranger = chain.wallet().await;
    let unknown = ix::withdraw(&stranger.pubkey(), &net.key, 0, 1, None, None);
    chain
        .expect_refusal(
            &[unknown],
            &[&stranger],
            UplineError::UnknownMember,
            &watched,
        )
        .await;
    // Unfrozen: the balance was kept, it withdraws and is linked to again.
    net.freeze(&mut chain, &r, false).await;
    let events = chain
        .send(&[net.withdraw_ix(0, &r.pubkey(), &to, None)], &[&r])
        .await
        .expect("withdraw");
    assert!(matches!(&events[..], [UplineEvent::Withdrawn(w)] if w.amount == 3_000_000));
    assert_eq!(chain.token_balance(&to).await, 3_000_000);
    let e2 = net.join_and_work(&mut chain, 0, &r).await;
    let all = [r.pubkey(), e1.pubkey(), lone.pubkey(), e2.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[wad("6"), Wad::ZERO]).await;
}

#[tokio::test]
async fn rentals_refuse_a_frozen_side_and_withhold_a_frozen_referrer() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "clore").await;
    let a = net.join(&mut chain, 0, &[]).await;
    let b = net.join(&mut chain, 0, &[]).await;
    let renter = net.join(&mut chain, 0, &[&a]).await;
    let host = net.join(&mut chain, 0, &[&b]).await;
    let oracle = net.oracle.insecure_clone();
    let watched: Vec<Pubkey> = [&a, &b, &renter, &host]
        .iter()
        .map(|k| net.member(&k.pubkey()))
        .collect();
    let rental = RentalReportArgs {
        id: 1,
        work_time: WORKED_NOW,
        ledger: 0,
        renter_base_fee: 500_000_000,
        renter_extra_fee: 0,
        host_base_fee: 500_000_000,
        host_extra_fee: 0,
    };
    let (rk, hk) = (renter.pubkey(), host.pubkey());
    for side in [&renter, &host] {
        net.freeze(&mut chain, side, true).await;
        let ix = net.rental_ix(&mut chain, &rk, &hk, rental).await;
        chain
            .expect_refusal(&[ix], &[&oracle], UplineError::MemberFrozen, &watched)
            .await;
        net.freeze(&mut chain, side, false).await;
    }
    net.freeze(&mut chain, &a, true).await;
    let ix = net.rental_ix(&mut chain, &rk, &hk, rental).await;
    let events = net.as_oracle(&mut chain, &[ix]).await.expect("rental");
    let [UplineEvent::RentalReported(e)] = &events[..] else {
        panic!("{events:?}")
    };
    let sides = [e.renter_commission, e.host_commission].map(|c| {
        let c = c.expect("a referrer");
        (c.member, c.amount, c.withheld)
    });
    assert_eq!(
        sides,
        [
            (watched[0], wad("0.75"), true),
            (watched[1], wad("0.75"), false)
        ]
    );
    let ma = net.member_state(&mut chain, &a.pubkey()).await;
    assert_eq!(ma.ledgers[0].level1, Wad::ZERO);
    let all = [a.pubkey(), b.pubkey(), rk, hk];
    assert_accounting(&mut chain, &net, &all, &[wad("0.75"), Wad::ZERO]).await;
}

#[tokio::test]
async fn bandwidth_referrals_to_a_frozen_referrer_are_withheld() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset_with(&mut chain, "aether", |p| p.early_bonus = None).await;
    let user = net.join(&mut chain, 0, &[]).await;
    let node = net.join(&mut chain, 1, &[&user]).await;
    let attest = net.attest_node_ix(&node.pubkey(), "n", "n");
    net.as_oracle(&mut chain, &[attest]).await.expect("attest");
    net.freeze(&mut chain, &user, true).await;
    let gb = bandwidth(1, 1_000_000_000, 1_000_000, 1_000_000, 1_000_000);
    let ix = net
        .bandwidth_ix(&mut chain, &node.pubkey(), Some(("n", "n")), gb)
        .await;
    let events = net.as_oracle(&mut chain, &[ix]).await.expect("report");
    let [UplineEvent::BandwidthReported(e)] = &events[..] else {
        panic!("{events:?}")
    };
    let referral = e.referral.expect("referral");
    assert_eq!(e.node_reward, wad("1"));
    assert_eq!(
        (referral.member, referral.amount, referral.withheld),
        (net.member(&user.pubkey()), wad("0.12"), true)
    );
    net.freeze(&mut chain, &node, true).await;
    let gb = bandwidth(2, 1_000_000_000, 1_000_000, 1_000_000, 1_000_000);
    let ix = net
        .bandwidth_ix(&mut chain, &node.pubkey(), Some(("n", "n")), gb)
        .await;
    let watched = [net.member(&user.pubkey()), net.member(&node.pubkey())];
    let oracle = net.oracle.insecure_clone();
    chain
        .expect_refusal(&[ix], &[&oracle], UplineError::MemberFrozen, &watched)
        .await;
    let all = [user.pubkey(), node.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[wad("1")]).await;
}

#[tokio::test]
async fn only_the_admin_freezes_and_only_members() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let u = net.join(&mut chain, USER, &[]).await;
    let member = net.member(&u.pubkey());
    let intruder = chain.wallet().await;
    let by_intruder = ix::set_member_frozen(&intruder.pubkey(), &net.key, &member, true);
    chain
        .expect_refusal(
            &[by_intruder],
            &[&intruder],
            UplineError::NotAdmin,
            &[member],
        )
        .await;
    let admin = net.admin.insecure_clone();
    let nobody = net.member_in(&intruder.pubkey(), USER);
    for unknown in [nobody, net.key, intruder.pubkey()] {
        let ix = ix::set_member_frozen(&admin.pubkey(), &net.key, &unknown, true);
        chain
            .expect_refusal(
                &[ix],
                &[&admin],
                UplineError::UnknownMember,
                &[member, unknown],
            )
            .await;
    }
    net.freeze(&mut chain, &u, true).await;
    // Freezing twice, or unfreezing twice, is allowed and evented.
    net.freeze(&mut chain, &u, true).await;
    net.freeze(&mut chain, &u, false).await;
    net.freeze(&mut chain, &u, false).await;
}
