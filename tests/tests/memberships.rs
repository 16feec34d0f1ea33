//! One wallet, one membership per class (DESIGN.md §3 rule 6): a Cxmpute
//! wallet with a User ID and a Provider ID, which membership a referral code
//! names, self-referral across classes, and `UnknownMember` (by name) for
//! every operation by a wallet that never joined.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::events::Commission;
use upline::math::Wad;
use upline::state::{CommissionTier, Endpoint, Member, Service};
use upline_sdk::client::referrer_membership;
use upline_sdk::events::UplineEvent;
use upline_sdk::ix;
use upline_tests::checks::{assert_accounting, assert_downline_matches_graph};
use upline_tests::reports::{compute, model, usage, WorkedAt};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

const USER: u8 = 0;
const PROVIDER: u8 = 1;
/// Aether's node class.
const NODE: u8 = 1;

fn wad(text: &str) -> Wad {
    Wad::from_decimal_str(text).expect("amount")
}

#[tokio::test]
async fn one_wallet_earns_and_is_referred_in_each_of_its_memberships() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let user_ref = net.join(&mut chain, USER, &[]).await;
    let provider_ref = net.join(&mut chain, PROVIDER, &[]).await;
    let both = chain.wallet().await;
    let as_user = net
        .join_wallet(&mut chain, &both, USER, &[net.member(&user_ref.pubkey())])
        .await;
    let as_provider = net
        .join_wallet(
            &mut chain,
            &both,
            PROVIDER,
            &[net.member(&provider_ref.pubkey())],
        )
        .await;
    assert_ne!(as_user, as_provider);
    let (user_ref_m, provider_ref_m) = (
        net.member(&user_ref.pubkey()),
        net.member(&provider_ref.pubkey()),
    );
    let states = [
        net.member_at(&mut chain, &as_user).await,
        net.member_at(&mut chain, &as_provider).await,
    ];
    let identity = |m: &Member| (m.wallet, m.class, m.referrer);
    assert_eq!(
        [identity(&states[0]), identity(&states[1])],
        [
            (both.pubkey(), USER, user_ref_m),
            (both.pubkey(), PROVIDER, provider_ref_m)
        ]
    );
    // Two memberships of one wallet count as two members.
    assert_eq!(net.state(&mut chain).await.member_count, 4);

    // Each membership works under its own report ids (both start at 1).
    net.attest_member(&mut chain, &as_provider, 24).await;
    let args = compute(1, Service::Chat, 1000, 5_000);
    let served = net
        .compute_ix_at(&mut chain, &as_provider, "llama3-70b", args)
        .await;
    let args = usage(1, Endpoint::Chat, 1000);
    let used = net.usage_ix_at(&mut chain, &as_user, args).await;
    let events = net
        .as_oracle(&mut chain, &[served, used])
        .await
        .expect("both reports");
    let paid = |c: &[Commission]| c.iter().map(|x| (x.member, x.amount)).collect::<Vec<_>>();
    match &events[..] {
        [UplineEvent::ComputeReported(c), UplineEvent::UsageReported(u)] => {
            assert_eq!((c.provider, c.reward), (as_provider, wad("0.375")));
            assert_eq!(paid(&c.commissions), [(provider_ref_m, wad("0.0375"))]);
            assert_eq!((u.user, u.points), (as_user, wad("2")));
            assert_eq!(paid(&u.commissions), [(user_ref_m, wad("0.3"))]);
        }
        other => panic!("unexpected events {other:?}"),
    }
    // Credited separately: CXPT on the provider membership, points on the user's.
    let own = |m: &Member| (m.ledgers[0].own, m.ledgers[1].own, m.last_report_id);
    let states = [
        net.member_at(&mut chain, &as_user).await,
        net.member_at(&mut chain, &as_provider).await,
    ];
    assert_eq!(
        [own(&states[0]), own(&states[1])],
        [(Wad::ZERO, wad("2"), 1), (wad("0.375"), Wad::ZERO, 1)]
    );
    // The user referrer: 25 points at link + 15% of 2; the provider's: 50 + 10% of 0.375.
    let referrers = [
        net.member_at(&mut chain, &user_ref_m).await,
        net.member_at(&mut chain, &provider_ref_m).await,
    ];
    let earned = |m: &Member| (m.ledgers[1].bonus, m.ledgers[0].level1, m.ledgers[1].level1);
    assert_eq!(
        [earned(&referrers[0]), earned(&referrers[1])],
        [
            (wad("25"), Wad::ZERO, wad("0.3")),
            (wad("50"), wad("0.0375"), Wad::ZERO)
        ]
    );
    assert_eq!(
        (referrers[0].downline, referrers[1].downline),
        ([1, 0, 0], [1, 0, 0])
    );
    let all = [user_ref.pubkey(), provider_ref.pubkey(), both.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[wad("0.4125"), wad("77.3")]).await;
    assert_downline_matches_graph(&mut chain, &net, &all).await;
}

#[tokio::test]
async fn a_code_names_the_membership_of_the_joiners_class() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let code = chain.wallet().await;
    let its_user = net.join_wallet(&mut chain, &code, USER, &[]).await;
    let its_provider = net.join_wallet(&mut chain, &code, PROVIDER, &[]).await;
    let mut everyone = vec![code.pubkey()];
    for (class, expected) in [(USER, its_user), (PROVIDER, its_provider)] {
        let named = referrer_membership(&mut chain, &net.key, &code.pubkey(), class, None)
            .await
            .expect("lookup");
        assert_eq!(named, Some(expected), "class {class}");
        let joiner = chain.wallet().await;
        let upline = net.link_chain(&mut chain, &expected).await;
        let join = ix::join(&joiner.pubkey(), &joiner.pubkey(), &net.key, class, &upline);
        let events = chain.send(&[join], &[&joiner]).await.expect("join");
        net.remember(&joiner.pubkey(), class);
        everyone.push(joiner.pubkey());
        let Some(UplineEvent::ReferrerLinked(linked)) = events.get(1) else {
            panic!("{events:?}")
        };
        let l = linked;
        assert_eq!(
            [
                (l.member, l.wallet, l.class),
                (l.referrer, l.referrer_wallet, l.referrer_class)
            ],
            [
                (net.member(&joiner.pubkey()), joiner.pubkey(), class),
                (expected, code.pubkey(), class)
            ]
        );
        let state = net.member_state(&mut chain, &joiner.pubkey()).await;
        assert_eq!((state.referrer, state.class), (expected, class));
    }
    // Each of the code's memberships has one referee.
    for member in [its_user, its_provider] {
        assert_eq!(net.member_at(&mut chain, &member).await.downline, [1, 0, 0]);
    }
    assert_downline_matches_graph(&mut chain, &net, &everyone).await;
}

#[tokio::test]
async fn a_wallet_never_refers_itself_and_joins_each_class_once() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let w = net.join(&mut chain, USER, &[]).await;
    let own_user = net.member(&w.pubkey());
    let own_provider = net.member_in(&w.pubkey(), PROVIDER);
    let watched = [net.key, own_user, own_provider];
    // The same class again.
    let again = ix::join(&w.pubkey(), &w.pubkey(), &net.key, USER, &[]);
    chain
        .expect_refusal(&[again], &[&w], UplineError::AlreadyMember, &watched)
        .await;
    // Its provider membership naming its own user membership: SelfReferral,
    // before the same-class rule (ClassMismatch).
    let own = ix::join(&w.pubkey(), &w.pubkey(), &net.key, PROVIDER, &[own_user]);
    chain
        .expect_refusal(&[own], &[&w], UplineError::SelfReferral, &watched)
        .await;
    assert!(chain.data(&own_provider).await.is_none());
    // Unlinked, the provider membership may not link to it later either.
    net.join_wallet(&mut chain, &w, PROVIDER, &[]).await;
    let link = ix::set_referrer(&w.pubkey(), &net.key, PROVIDER, &[own_user]);
    chain
        .expect_refusal(&[link], &[&w], UplineError::SelfReferral, &watched)
        .await;
    // Nor where the network has no same-class rule (Aether: a node under its user).
    let ae = TestNetwork::from_preset(&mut chain, "aether").await;
    let v = ae.join(&mut chain, USER, &[]).await;
    let own = ix::join(
        &v.pubkey(),
        &v.pubkey(),
        &ae.key,
        NODE,
        &[ae.member(&v.pubkey())],
    );
    let watched = [
        ae.key,
        ae.member(&v.pubkey()),
        ae.member_in(&v.pubkey(), NODE),
    ];
    chain
        .expect_refusal(&[own], &[&v], UplineError::SelfReferral, &watched)
        .await;
    let state = net.member_state_in(&mut chain, &w.pubkey(), PROVIDER).await;
    assert_eq!((state.referrer, state.class), (Pubkey::default(), PROVIDER));
    assert_eq!(net.state(&mut chain).await.member_count, 2);
}

/// An oracle must not pass another membership of the referrer's wallet as
/// the upline: links store memberships, and every check compares them.
#[tokio::test]
async fn the_referrer_wallets_other_membership_is_not_its_upline() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let w = chain.wallet().await;
    let w_user = net.join_wallet(&mut chain, &w, USER, &[]).await;
    let w_provider = net.join_wallet(&mut chain, &w, PROVIDER, &[]).await;
    // W holds two memberships: name each by its account.
    let user = chain.wallet().await;
    net.join_wallet(&mut chain, &user, USER, &[w_user]).await;
    let provider = net.join(&mut chain, PROVIDER, &[]).await;
    let link = ix::set_referrer(&provider.pubkey(), &net.key, PROVIDER, &[w_provider]);
    chain.send(&[link], &[&provider]).await.expect("link");
    net.attest_provider(&mut chain, &provider.pubkey(), 24)
        .await;
    let (user_m, provider_m) = (net.member(&user.pubkey()), net.member(&provider.pubkey()));
    let watched = [w_user, w_provider, user_m, provider_m];
    let oracle = net.oracle.insecure_clone();
    let now = chain.now;
    let usage_with = |upline: &[Pubkey]| {
        let args = usage(1, Endpoint::Chat, 1000).worked_at(now);
        ix::report_usage(&oracle.pubkey(), &net.key, &user_m, upline, args)
    };
    let compute_with = |upline: &[Pubkey]| {
        let args = compute(1, Service::Chat, 1000, 5_000).worked_at(now);
        let llama = model("llama3-70b");
        ix::report_compute(
            &oracle.pubkey(),
            &net.key,
            &provider_m,
            &llama,
            upline,
            args,
        )
    };
    for wrong in [usage_with(&[w_provider]), compute_with(&[w_user])] {
        chain
            .expect_refusal(&[wrong], &[&oracle], UplineError::UplineMismatch, &watched)
            .await;
    }
    // The same at a link: a new user naming W's user membership with a made-up level 2.
    let newcomer = chain.wallet().await;
    let join = ix::join(
        &newcomer.pubkey(),
        &newcomer.pubkey(),
        &net.key,
        USER,
        &[user_m, w_provider],
    );
    chain
        .expect_refusal(&[join], &[&newcomer], UplineError::UplineMismatch, &watched)
        .await;
    let events = net
        .as_oracle(
            &mut chain,
            &[usage_with(&[w_user]), compute_with(&[w_provider])],
        )
        .await
        .expect("the stored memberships are paid");
    assert_eq!(events.len(), 2);
    assert_eq!(
        net.member_at(&mut chain, &w_user).await.ledgers[1].level1,
        wad("0.3")
    );
    assert_eq!(
        net.member_at(&mut chain, &w_provider).await.ledgers[0].level1,
        wad("0.0375")
    );
}

#[tokio::test]
async fn operations_by_a_wallet_that_never_joined_are_unknown_member() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let u0 = net.join(&mut chain, USER, &[]).await;
    let stranger = chain.wallet().await;
    let as_user = net.member_in(&stranger.pubkey(), USER);
    let as_provider = net.member_in(&stranger.pubkey(), PROVIDER);
    let watched = [net.key, net.member(&u0.pubkey()), as_user, as_provider];
    let to = chain
        .token_account(net.ledgers[0].mint(), &stranger.pubkey())
        .await;
    let cases = [
        (
            net.withdraw_ix_in(PROVIDER, 0, &stranger.pubkey(), &to, Some(1)),
            &stranger,
        ),
        (
            ix::set_referrer(
                &stranger.pubkey(),
                &net.key,
                USER,
                &[net.member(&u0.pubkey())],
            ),
            &stranger,
        ),
        (
            ix::set_member_tier(&net.admin.pubkey(), &net.key, &as_user, CommissionTier::Vip),
            &net.admin,
        ),
        (
            ix::attest_provider(&net.oracle.pubkey(), &net.key, &as_provider, 24_576),
            &net.oracle,
        ),
    ];
    // withdraw, set_referrer, set_member_tier, attest_provider.
    for (instruction, signer) in cases {
        chain
            .expect_refusal(
                &[instruction],
                &[signer],
                UplineError::UnknownMember,
                &watched,
            )
            .await;
    }
    // A member's wallet naming a class it does not hold is no member either.
    let to = chain
        .token_account(net.ledgers[0].mint(), &u0.pubkey())
        .await;
    let wrong_class = net.withdraw_ix_in(PROVIDER, 0, &u0.pubkey(), &to, Some(1));
    chain
        .expect_refusal(&[wrong_class], &[&u0], UplineError::UnknownMember, &watched)
        .await;
    let ae = TestNetwork::from_preset(&mut chain, "aether").await;
    let node = ae.member_in(&stranger.pubkey(), NODE);
    let attest = ae.attest_node_ix_at(&node, "dev", "net");
    let oracle = ae.oracle.insecure_clone();
    chain
        .expect_refusal(
            &[attest],
            &[&oracle],
            UplineError::UnknownMember,
            &[ae.key, node],
        )
        .await;
    for address in [as_user, as_provider, node] {
        assert!(chain.data(&address).await.is_none());
    }
}
