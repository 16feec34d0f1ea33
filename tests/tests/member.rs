//! The wallet side of the referral graph: join, set_referrer, open_member_ledgers.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::math::Wad;
use upline::state::{BonusTrigger, MemberFlags};
use upline_sdk::events::UplineEvent;
use upline_sdk::ix;
use upline_tests::checks::{assert_accounting, assert_downline_matches_graph};
use upline_tests::network::{class, tables, LedgerSetup};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

const USER: u8 = 0;
const PROVIDER: u8 = 1;

fn wad(text: &str) -> Wad {
    Wad::from_decimal_str(text).expect("amount")
}

fn keys(wallets: &[&Keypair]) -> Vec<Pubkey> {
    wallets.iter().map(|k| k.pubkey()).collect()
}

#[tokio::test]
async fn join_without_referrer_records_ordinal_and_slots() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let wallet = chain.wallet().await;
    let events = chain
        .send(
            &[ix::join(
                &wallet.pubkey(),
                &wallet.pubkey(),
                &net.key,
                USER,
                &[],
            )],
            &[&wallet],
        )
        .await
        .expect("join");
    net.remember(&wallet.pubkey(), USER);
    let member = net.member_state(&mut chain, &wallet.pubkey()).await;
    assert_eq!(member.wallet, wallet.pubkey());
    assert_eq!(member.network, net.key);
    assert_eq!(member.class, USER);
    assert_eq!(member.referrer, Pubkey::default());
    assert_eq!(member.ledgers.len(), 2);
    assert_eq!(net.state(&mut chain).await.member_count, 1);
    match &events[..] {
        [UplineEvent::MemberJoined(e)] => {
            assert_eq!(
                (
                    e.member,
                    e.wallet,
                    e.join_ordinal,
                    e.class,
                    e.ledger_slots,
                    e.early_member
                ),
                (
                    net.member_in(&wallet.pubkey(), USER),
                    wallet.pubkey(),
                    1,
                    USER,
                    2,
                    false
                )
            );
        }
        other => panic!("unexpected events {other:?}"),
    }
    let second = chain.wallet().await;
    let join = ix::join(&second.pubkey(), &second.pubkey(), &net.key, PROVIDER, &[]);
    let events = chain.send(&[join], &[&second]).await.expect("second joins");
    assert!(matches!(&events[..], [UplineEvent::MemberJoined(e)] if e.join_ordinal == 2));
}

#[tokio::test]
async fn joining_twice_is_refused_and_a_prefunded_address_still_joins() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let a = net.join(&mut chain, USER, &[]).await;
    // One membership per class: the same class again is refused.
    let again = ix::join(&a.pubkey(), &a.pubkey(), &net.key, USER, &[]);
    let watched = [net.key, net.member(&a.pubkey())];
    chain
        .expect_refusal(&[again], &[&a], UplineError::AlreadyMember, &watched)
        .await;

    // Lamports sent to a future member address beforehand cannot block the join.
    let wallet = chain.wallet().await;
    let address = net.member_in(&wallet.pubkey(), USER);
    let gift = solana_system_interface::instruction::transfer(
        &chain.payer().pubkey(),
        &address,
        1_000_000,
    );
    chain.send(&[gift], &[]).await.expect("prefund");
    chain
        .send(
            &[ix::join(
                &wallet.pubkey(),
                &wallet.pubkey(),
                &net.key,
                USER,
                &[net.member(&a.pubkey())],
            )],
            &[&wallet],
        )
        .await
        .expect("join at a prefunded address");
    net.remember(&wallet.pubkey(), USER);
    let member = net.member_state(&mut chain, &wallet.pubkey()).await;
    assert_eq!(member.referrer, net.member(&a.pubkey()));
    let rent = chain.ctx.banks_client.get_rent().await.expect("rent");
    assert_eq!(
        chain.lamports(&address).await,
        rent.minimum_balance(upline::state::Member::space(2))
    );
    let all = keys(&[&a, &wallet]);
    assert_accounting(&mut chain, &net, &all, &[Wad::ZERO, wad("25")]).await;
}

#[tokio::test]
async fn a_sponsor_may_pay_for_the_join_but_the_wallet_must_sign() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let sponsor = chain.wallet().await;
    let wallet = Keypair::new();
    let join = ix::join(&wallet.pubkey(), &sponsor.pubkey(), &net.key, USER, &[]);
    chain
        .send(std::slice::from_ref(&join), &[&sponsor, &wallet])
        .await
        .expect("sponsored join");
    net.remember(&wallet.pubkey(), USER);
    assert_eq!(
        net.member_state(&mut chain, &wallet.pubkey()).await.wallet,
        wallet.pubkey()
    );

    // Without the wallet's signature nobody can make it a member.
    let victim = Keypair::new();
    let mut forged = ix::join(&victim.pubkey(), &sponsor.pubkey(), &net.key, USER, &[]);
    forged.accounts[0].is_signer = false;
    let member = net.member_in(&victim.pubkey(), USER);
    chain
        .expect_failure(&[forged], &[&sponsor], &[member, net.key])
        .await;
}

#[tokio::test]
async fn join_with_referrer_pays_the_direct_bonus_and_counts_three_levels() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let p0 = net.join(&mut chain, PROVIDER, &[]).await;
    let p1 = net.join(&mut chain, PROVIDER, &[&p0]).await;
    let p2 = net.join(&mut chain, PROVIDER, &[&p1, &p0]).await;
    let p3 = net.join(&mut chain, PROVIDER, &[&p2, &p1, &p0]).await;
    let p4 = net.join(&mut chain, PROVIDER, &[&p3, &p2, &p1]).await;

    let m0 = net.member_state(&mut chain, &p0.pubkey()).await;
    assert_eq!(m0.downline, [1, 1, 1], "p4 is below level 3 of p0");
    assert_eq!(
        net.member_state(&mut chain, &p1.pubkey()).await.downline,
        [1, 1, 1]
    );
    assert_eq!(
        net.member_state(&mut chain, &p3.pubkey()).await.downline,
        [1, 0, 0]
    );
    let m4 = net.member_state(&mut chain, &p4.pubkey()).await;
    assert_eq!(m4.referrer, net.member(&p3.pubkey()));
    // Providers' bonus is 50 points, on ledger 1 (POINTS), to the referrer only.
    assert_eq!(m0.ledgers[1].bonus, wad("50"));
    assert_eq!(m0.ledgers[0].credited(), Ok(Wad::ZERO));

    // Users earn 25 for each referee.
    let u0 = net.join(&mut chain, USER, &[]).await;
    let u1 = net.join(&mut chain, USER, &[&u0]).await;
    let u2 = chain.wallet().await;
    let join_u2 = ix::join(
        &u2.pubkey(),
        &u2.pubkey(),
        &net.key,
        USER,
        &[net.member(&u0.pubkey())],
    );
    let events = chain.send(&[join_u2], &[&u2]).await.expect("u2 joins");
    net.remember(&u2.pubkey(), USER);
    let mu0 = net.member_state(&mut chain, &u0.pubkey()).await;
    assert_eq!(mu0.ledgers[1].bonus, wad("50"));
    // The ordinal among the referrer's referees is in the event, not the account.
    let ordinal = events.iter().find_map(|e| match e {
        UplineEvent::ReferrerLinked(linked) => Some(linked.referee_ordinal),
        _ => None,
    });
    assert_eq!(ordinal, Some(2));

    let all = keys(&[&p0, &p1, &p2, &p3, &p4, &u0, &u1, &u2]);
    assert_downline_matches_graph(&mut chain, &net, &all).await;
    // 4 provider links × 50 + 2 user links × 25.
    assert_accounting(&mut chain, &net, &all, &[Wad::ZERO, wad("250")]).await;
}

#[tokio::test]
async fn late_linking_updates_downline_counts_through_three_levels() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let a = net.join(&mut chain, USER, &[]).await;
    let b = net.join(&mut chain, USER, &[]).await;
    let c = net.join(&mut chain, USER, &[]).await;
    let d = net.join(&mut chain, USER, &[]).await;
    let e = net.join(&mut chain, USER, &[]).await;
    let m = |k: &Keypair| net.member(&k.pubkey());

    // Link bottom-up is impossible (c would have a referee); top-down works.
    chain
        .send(
            &[ix::set_referrer(&b.pubkey(), &net.key, USER, &[m(&a)])],
            &[&b],
        )
        .await
        .expect("b -> a");
    let events = chain
        .send(
            &[ix::set_referrer(
                &c.pubkey(),
                &net.key,
                USER,
                &[m(&b), m(&a)],
            )],
            &[&c],
        )
        .await
        .expect("c -> b");
    match &events[..] {
        [UplineEvent::ReferrerLinked(l), UplineEvent::DirectBonusCredited(bonus)] => {
            assert_eq!((l.member, l.wallet, l.class), (m(&c), c.pubkey(), USER));
            assert_eq!(
                (l.referrer, l.referrer_wallet, l.referrer_class),
                (m(&b), b.pubkey(), USER)
            );
            assert_eq!((l.upline2, l.upline3), (m(&a), Pubkey::default()));
            assert_eq!(
                (bonus.referrer, bonus.referee, bonus.amount),
                (m(&b), m(&c), wad("25"))
            );
        }
        other => panic!("unexpected events {other:?}"),
    }
    let upline = [m(&c), m(&b), m(&a)];
    chain
        .send(
            &[ix::set_referrer(&d.pubkey(), &net.key, USER, &upline)],
            &[&d],
        )
        .await
        .expect("d -> c");
    chain
        .send(
            &[ix::set_referrer(
                &e.pubkey(),
                &net.key,
                USER,
                &[m(&d), m(&c), m(&b)],
            )],
            &[&e],
        )
        .await
        .expect("e -> d");

    assert_eq!(
        net.member_state(&mut chain, &a.pubkey()).await.downline,
        [1, 1, 1]
    );
    assert_eq!(
        net.member_state(&mut chain, &b.pubkey()).await.downline,
        [1, 1, 1]
    );
    assert_eq!(
        net.member_state(&mut chain, &c.pubkey()).await.downline,
        [1, 1, 0]
    );
    assert_eq!(
        net.member_state(&mut chain, &d.pubkey()).await.downline,
        [1, 0, 0]
    );
    let all = keys(&[&a, &b, &c, &d, &e]);
    assert_downline_matches_graph(&mut chain, &net, &all).await;
    assert_accounting(&mut chain, &net, &all, &[Wad::ZERO, wad("100")]).await;
}

#[tokio::test]
async fn graph_refusals_change_nothing() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let a = net.join(&mut chain, USER, &[]).await;
    let b = net.join(&mut chain, USER, &[&a]).await;
    let loner = net.join(&mut chain, USER, &[]).await;
    let provider = net.join(&mut chain, PROVIDER, &[]).await;
    let m = |k: &Keypair| net.member(&k.pubkey());
    let watched = [
        net.key,
        net.member(&a.pubkey()),
        net.member(&b.pubkey()),
        net.member(&loner.pubkey()),
    ];

    // Second referrer: links are permanent.
    let again = ix::set_referrer(&b.pubkey(), &net.key, USER, &[m(&loner)]);
    chain
        .expect_refusal(&[again], &[&b], UplineError::ReferrerAlreadySet, &watched)
        .await;
    // A member with referees can no longer link (this is what prevents cycles).
    let cycle = ix::set_referrer(&a.pubkey(), &net.key, USER, &[m(&b), m(&a)]);
    chain
        .expect_refusal(&[cycle], &[&a], UplineError::HasReferees, &watched)
        .await;
    let up = ix::set_referrer(&a.pubkey(), &net.key, USER, &[m(&loner)]);
    chain
        .expect_refusal(&[up], &[&a], UplineError::HasReferees, &watched)
        .await;
    // Self-referral, at link and at join (through the wallet's other
    // membership: SelfReferral comes before ClassMismatch).
    let own = ix::set_referrer(&loner.pubkey(), &net.key, USER, &[m(&loner)]);
    chain
        .expect_refusal(&[own], &[&loner], UplineError::SelfReferral, &watched)
        .await;
    let self_join = ix::join(
        &provider.pubkey(),
        &provider.pubkey(),
        &net.key,
        USER,
        &[m(&provider)],
    );
    chain
        .expect_refusal(
            &[self_join],
            &[&provider],
            UplineError::SelfReferral,
            &watched,
        )
        .await;
    // Naming the membership it is creating: that one does not exist yet.
    let newcomer = chain.wallet().await;
    let own_new = ix::join(
        &newcomer.pubkey(),
        &newcomer.pubkey(),
        &net.key,
        USER,
        &[net.member_in(&newcomer.pubkey(), USER)],
    );
    chain
        .expect_refusal(
            &[own_new],
            &[&newcomer],
            UplineError::UnknownReferrer,
            &watched,
        )
        .await;
    // Users refer users, providers refer providers.
    let mismatch = ix::set_referrer(&loner.pubkey(), &net.key, USER, &[m(&provider)]);
    chain
        .expect_refusal(&[mismatch], &[&loner], UplineError::ClassMismatch, &watched)
        .await;
    let mismatch_join = ix::join(
        &newcomer.pubkey(),
        &newcomer.pubkey(),
        &net.key,
        PROVIDER,
        &[m(&a)],
    );
    chain
        .expect_refusal(
            &[mismatch_join],
            &[&newcomer],
            UplineError::ClassMismatch,
            &watched,
        )
        .await;
    // A referrer that is not a member.
    let stranger = Keypair::new();
    let unknown = ix::set_referrer(
        &loner.pubkey(),
        &net.key,
        USER,
        &[net.member_in(&stranger.pubkey(), USER)],
    );
    chain
        .expect_refusal(
            &[unknown],
            &[&loner],
            UplineError::UnknownReferrer,
            &watched,
        )
        .await;
    // A class the network does not have.
    let bad_class = ix::join(&newcomer.pubkey(), &newcomer.pubkey(), &net.key, 2, &[]);
    chain
        .expect_refusal(
            &[bad_class],
            &[&newcomer],
            UplineError::UnknownClass,
            &watched,
        )
        .await;
    for class in [USER, PROVIDER, 2] {
        let address = net.member_in(&newcomer.pubkey(), class);
        assert!(chain.data(&address).await.is_none());
    }
    let refused = net.member_in(&provider.pubkey(), USER);
    assert!(chain.data(&refused).await.is_none());
}

#[tokio::test]
async fn the_upline_passed_must_match_the_stored_links() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let a = net.join(&mut chain, USER, &[]).await;
    let b = net.join(&mut chain, USER, &[&a]).await;
    let x = net.join(&mut chain, USER, &[]).await;
    let c = net.join(&mut chain, USER, &[]).await;
    let m = |k: &Keypair| net.member(&k.pubkey());
    let watched = [
        net.member(&a.pubkey()),
        net.member(&b.pubkey()),
        net.member(&x.pubkey()),
        net.member(&c.pubkey()),
    ];

    // Level 2 missing, level 2 wrong, and an account beyond the end of the chain.
    for upline in [vec![m(&b)], vec![m(&b), m(&x)], vec![m(&b), m(&a), m(&x)]] {
        let link = ix::set_referrer(&c.pubkey(), &net.key, USER, &upline);
        chain
            .expect_refusal(&[link], &[&c], UplineError::UplineMismatch, &watched)
            .await;
    }
    // A member of another network as referrer.
    let other = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let foreign = other.join(&mut chain, USER, &[]).await;
    let mut cross = ix::set_referrer(&c.pubkey(), &net.key, USER, &[m(&a)]);
    cross.accounts[3].pubkey = other.member(&foreign.pubkey());
    chain
        .expect_refusal(&[cross], &[&c], UplineError::UnknownReferrer, &watched)
        .await;
    // A program account of another type (the network itself) as referrer.
    let mut cosplay = ix::set_referrer(&c.pubkey(), &net.key, USER, &[m(&a)]);
    cosplay.accounts[3].pubkey = net.key;
    chain
        .expect_refusal(&[cosplay], &[&c], UplineError::UnknownReferrer, &watched)
        .await;
    // Someone else signing for the member.
    let mut forged = ix::set_referrer(&c.pubkey(), &net.key, USER, &[m(&a)]);
    forged.accounts[0].pubkey = x.pubkey();
    chain
        .expect_refusal(&[forged], &[&x], UplineError::UnknownMember, &watched)
        .await;
    let mut unsigned = ix::set_referrer(&c.pubkey(), &net.key, USER, &[m(&a)]);
    unsigned.accounts[0].is_signer = false;
    chain.expect_failure(&[unsigned], &[], &watched).await;
}

#[tokio::test]
async fn first_work_bonus_waits_for_work_and_early_referees_are_flagged() {
    let mut chain = Chain::start().await;
    let mut t = tables(
        &[class(
            "node",
            &[120_000],
            Some(("3", 0, BonusTrigger::FirstWork)),
        )],
        false,
    );
    t.early_bonus.growth_phase_seconds = 1_000;
    t.early_bonus.early_referee_limit = 2;
    let net = TestNetwork::create(
        &mut chain,
        "aether-like",
        t,
        &[LedgerSetup::Points { name: "PTS".into() }],
    )
    .await;
    let r = net.join(&mut chain, 0, &[]).await;
    let n1 = net.join(&mut chain, 0, &[&r]).await;
    let n2 = net.join(&mut chain, 0, &[&r]).await;
    let n3 = net.join(&mut chain, 0, &[&r]).await;
    let start = chain.now;
    chain.warp_to(start + 1_000).await;
    let late = net.join(&mut chain, 0, &[&r]).await;

    let m = net.member_state(&mut chain, &n1.pubkey()).await;
    assert!(
        m.flags.has(MemberFlags::BONUS_DUE),
        "bonus waits for the first work report"
    );
    assert!(m.flags.has(MemberFlags::EARLY_REFEREE));
    assert!(net
        .member_state(&mut chain, &n2.pubkey())
        .await
        .flags
        .has(MemberFlags::EARLY_REFEREE));
    assert!(
        !net.member_state(&mut chain, &n3.pubkey())
            .await
            .flags
            .has(MemberFlags::EARLY_REFEREE),
        "third referee"
    );
    assert!(
        !net.member_state(&mut chain, &late.pubkey())
            .await
            .flags
            .has(MemberFlags::EARLY_REFEREE),
        "after growth"
    );
    let all = keys(&[&r, &n1, &n2, &n3, &late]);
    assert_accounting(&mut chain, &net, &all, &[Wad::ZERO]).await;
}

#[tokio::test]
async fn members_open_slots_for_ledgers_added_after_they_joined() {
    let mut chain = Chain::start().await;
    let t = tables(
        &[class("account", &[], Some(("2", 1, BonusTrigger::AtLink)))],
        false,
    );
    let mut net = TestNetwork::create(
        &mut chain,
        "late-ledger",
        t,
        &[LedgerSetup::Points { name: "PTS".into() }],
    )
    .await;
    let a = net.join(&mut chain, 0, &[]).await;
    let before = chain.lamports(&net.member(&a.pubkey())).await;
    net.add_ledger(
        &mut chain,
        &LedgerSetup::Points {
            name: "LATE".into(),
        },
    )
    .await;

    // The bonus ledger did not exist for `a`: linking under it is refused until it opens a slot.
    let b = chain.wallet().await;
    let join = ix::join(
        &b.pubkey(),
        &b.pubkey(),
        &net.key,
        0,
        &[net.member(&a.pubkey())],
    );
    chain
        .expect_refusal(
            std::slice::from_ref(&join),
            &[&b],
            UplineError::LedgerNotOpened,
            &[net.key, net.member(&a.pubkey())],
        )
        .await;

    let anyone = chain.wallet().await;
    let open = ix::open_member_ledgers(&anyone.pubkey(), &net.key, &net.member(&a.pubkey()));
    let events = chain
        .send(std::slice::from_ref(&open), &[&anyone])
        .await
        .expect("open");
    assert!(matches!(&events[..], [UplineEvent::MemberLedgersOpened(e)] if e.ledger_slots == 2));
    let member = net.member_state(&mut chain, &a.pubkey()).await;
    assert_eq!(member.ledgers.len(), 2);
    assert!(
        chain.lamports(&net.member(&a.pubkey())).await > before,
        "rent topped up"
    );
    // Opening again is a no-op.
    assert!(chain
        .send(&[open], &[&anyone])
        .await
        .expect("idempotent")
        .is_empty());

    chain.send(&[join], &[&b]).await.expect("join now works");
    net.remember(&b.pubkey(), 0);
    // Another network's member cannot be grown through this network.
    let other = TestNetwork::from_preset(&mut chain, "aether").await;
    let stranger = other.join(&mut chain, 0, &[]).await;
    let mut foreign = ix::open_member_ledgers(&anyone.pubkey(), &net.key, &net.member(&a.pubkey()));
    foreign.accounts[2].pubkey = other.member(&stranger.pubkey());
    chain
        .expect_refusal(
            &[foreign],
            &[&anyone],
            UplineError::UnknownMember,
            &[other.member(&stranger.pubkey())],
        )
        .await;
    let all = keys(&[&a, &b]);
    assert_accounting(&mut chain, &net, &all, &[Wad::ZERO, wad("2")]).await;
}

#[tokio::test]
async fn same_class_rule_is_off_where_the_network_says_so() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "aether").await;
    let user = net.join(&mut chain, 0, &[]).await;
    let node = net.join(&mut chain, 1, &[&user]).await;
    assert_eq!(
        net.member_state(&mut chain, &node.pubkey()).await.referrer,
        net.member(&user.pubkey())
    );
}
