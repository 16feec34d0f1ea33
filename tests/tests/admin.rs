//! The admin side: network creation, tables, pause, admin transfer, tiers, promotions.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::math::{Ppm, Wad};
use upline::state::{BonusTrigger, CommissionTier, Network, PromotionWindow};
use upline_sdk::events::UplineEvent;
use upline_sdk::{ix, pda};
use upline_tests::checks::assert_accounting;
use upline_tests::network::{class, tables, LedgerSetup};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

fn cxmpute_tables() -> upline::state::NetworkTables {
    upline_sdk::preset::Preset::builtin("cxmpute")
        .expect("preset")
        .tables()
        .expect("tables")
}

#[tokio::test]
async fn create_network_stores_tables_and_emits_them() {
    let mut chain = Chain::start().await;
    let creator = chain.wallet().await;
    let admin = Keypair::new();
    let t = cxmpute_tables();
    let name = pda::network_name("cxmpute").expect("name");
    let events = chain
        .send(
            &[ix::create_network(
                &creator.pubkey(),
                &name,
                &admin.pubkey(),
                t,
            )],
            &[&creator],
        )
        .await
        .expect("create");
    let key = pda::network(&creator.pubkey(), &name);
    let network: Network = chain.account(&key).await;
    assert_eq!(
        (network.admin, network.creator),
        (admin.pubkey(), creator.pubkey())
    );
    assert_eq!(
        (network.tables, network.tables_version, network.created_at),
        (t, 1, chain.now)
    );
    assert_eq!(
        (network.member_count, network.ledger_count, network.paused),
        (0, 0, false)
    );
    match &events[..] {
        [UplineEvent::NetworkCreated(e)] => assert_eq!(
            (e.network, e.tables, e.admin, e.name),
            (key, t, admin.pubkey(), name)
        ),
        other => panic!("unexpected events {other:?}"),
    }
    // The same creator and name again.
    let again = ix::create_network(&creator.pubkey(), &name, &admin.pubkey(), t);
    chain.expect_failure(&[again], &[&creator], &[key]).await;
    // The creator must sign (it pays and seeds the address).
    let other_name = pda::network_name("unsigned").expect("name");
    let mut unsigned = ix::create_network(&creator.pubkey(), &other_name, &admin.pubkey(), t);
    unsigned.accounts[0].is_signer = false;
    chain
        .expect_failure(
            &[unsigned],
            &[],
            &[pda::network(&creator.pubkey(), &other_name)],
        )
        .await;
}

#[tokio::test]
async fn create_network_refuses_bad_names_and_tables() {
    let mut chain = Chain::start().await;
    let creator = chain.wallet().await;
    let admin = Pubkey::new_unique();
    let good = cxmpute_tables();
    let padded = |name: &str| pda::network_name(name).expect("name");
    let refuse =
        |name: &str, tables| ix::create_network(&creator.pubkey(), &padded(name), &admin, tables);

    // Names are padded labels: empty, a zero byte inside, or not UTF-8 are refused.
    assert_eq!(pda::network_name(""), None);
    assert_eq!(pda::network_name("a-name-that-is-longer-than-32-byt"), None);
    let mut gap = padded("ab");
    gap[0] = 0;
    let mut not_utf8 = padded("ab");
    not_utf8[0] = 0xff;
    for name in [[0u8; 32], gap, not_utf8] {
        let key = pda::network(&creator.pubkey(), &name);
        let ix = ix::create_network(&creator.pubkey(), &name, &admin, good);
        chain
            .expect_refusal(&[ix], &[&creator], UplineError::InvalidName, &[key])
            .await;
    }
    let mut over_100 = good;
    over_100.classes[0].commission_rates = [Ppm(600_000), Ppm(300_000), Ppm(200_000)];
    let mut deep = good;
    deep.classes[0].referral_depth = 4;
    let mut stray_rate = good;
    stray_rate.classes[1].referral_depth = 2;
    let mut bonus_without_trigger = good;
    bonus_without_trigger.classes[0].direct_bonus_trigger = BonusTrigger::Never;
    let mut no_classes = good;
    no_classes.class_count = 0;
    let mut stale_slot = good;
    stale_slot.class_count = 1;
    let mut tier_over_100 = good;
    tier_over_100.tier_rates[2] = Ppm(1_000_001);
    let mut negative_growth = good;
    negative_growth.early_bonus.growth_phase_seconds = -1;
    for (i, bad) in [
        over_100,
        deep,
        stray_rate,
        bonus_without_trigger,
        no_classes,
        stale_slot,
        tier_over_100,
        negative_growth,
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("bad{i}");
        let key = pda::network(&creator.pubkey(), &padded(&name));
        chain
            .expect_refusal(
                &[refuse(&name, bad)],
                &[&creator],
                UplineError::InvalidTables,
                &[key],
            )
            .await;
    }
    let mut twin = good;
    twin.classes[1].name = twin.classes[0].name;
    chain
        .expect_refusal(
            &[refuse("twin", twin)],
            &[&creator],
            UplineError::InvalidName,
            &[],
        )
        .await;
    let no_admin = ix::create_network(
        &creator.pubkey(),
        &padded("noadmin"),
        &Pubkey::default(),
        good,
    );
    chain
        .expect_refusal(&[no_admin], &[&creator], UplineError::NotAdmin, &[])
        .await;
}

#[tokio::test]
async fn update_tables_applies_from_now_on_and_keeps_classes() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let admin = net.admin.pubkey();
    let u0 = net.join(&mut chain, 0, &[]).await;
    let u1 = net.join(&mut chain, 0, &[&u0]).await;

    let mut next = cxmpute_tables();
    next.classes[0].direct_bonus = Wad::from_decimal_str("30").expect("30");
    next.classes[2] = class("validator", &[50_000], None);
    next.class_count = 3;
    let events = chain
        .send(&[ix::update_tables(&admin, &net.key, next)], &[&net.admin])
        .await
        .expect("update");
    assert!(
        matches!(&events[..], [UplineEvent::TablesUpdated(e)] if e.tables_version == 2 && e.tables == next)
    );
    let state = net.state(&mut chain).await;
    assert_eq!((state.tables, state.tables_version), (next, 2));
    // Already credited bonuses stay as they were; the new rate pays from now on.
    let u2 = net.join(&mut chain, 0, &[&u0]).await;
    let m = net.member_state(&mut chain, &u0.pubkey()).await;
    let fifty_five = Wad::from_decimal_str("55").expect("25 + 30");
    assert_eq!(m.ledgers[1].bonus, fifty_five);
    let all = [u0.pubkey(), u1.pubkey(), u2.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[Wad::ZERO, fifty_five]).await;

    let watched = [net.key];
    let mut removed = next;
    removed.class_count = 2;
    removed.classes[2] = Default::default();
    chain
        .expect_refusal(
            &[ix::update_tables(&admin, &net.key, removed)],
            &[&net.admin],
            UplineError::InvalidTables,
            &watched,
        )
        .await;
    let mut renamed = next;
    renamed.classes[1].name = upline::state::label("host").expect("label");
    chain
        .expect_refusal(
            &[ix::update_tables(&admin, &net.key, renamed)],
            &[&net.admin],
            UplineError::InvalidTables,
            &watched,
        )
        .await;
    let intruder = chain.wallet().await;
    let not_admin = ix::update_tables(&intruder.pubkey(), &net.key, next);
    chain
        .expect_refusal(&[not_admin], &[&intruder], UplineError::NotAdmin, &watched)
        .await;
}

#[tokio::test]
async fn pause_stops_members_but_not_the_admin() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let admin = net.admin.pubkey();
    let a = net.join(&mut chain, 0, &[]).await;
    let b = net.join(&mut chain, 0, &[]).await;
    let intruder = chain.wallet().await;
    chain
        .expect_refusal(
            &[ix::set_paused(&intruder.pubkey(), &net.key, true)],
            &[&intruder],
            UplineError::NotAdmin,
            &[net.key],
        )
        .await;

    let events = chain
        .send(&[ix::set_paused(&admin, &net.key, true)], &[&net.admin])
        .await
        .expect("pause");
    assert!(matches!(&events[..], [UplineEvent::PauseSet(e)] if e.paused));
    let newcomer = chain.wallet().await;
    let join = ix::join(&newcomer.pubkey(), &newcomer.pubkey(), &net.key, 0, &[]);
    chain
        .expect_refusal(
            std::slice::from_ref(&join),
            &[&newcomer],
            UplineError::NetworkPaused,
            &[net.key],
        )
        .await;
    let link = ix::set_referrer(&b.pubkey(), &net.key, 0, &[net.member(&a.pubkey())]);
    chain
        .expect_refusal(
            std::slice::from_ref(&link),
            &[&b],
            UplineError::NetworkPaused,
            &[net.member(&b.pubkey())],
        )
        .await;
    // Admin work goes on while paused.
    chain
        .send(
            &[ix::set_member_tier(
                &admin,
                &net.key,
                &net.member(&a.pubkey()),
                CommissionTier::Vip,
            )],
            &[&net.admin],
        )
        .await
        .expect("tier");

    chain
        .send(&[ix::set_paused(&admin, &net.key, false)], &[&net.admin])
        .await
        .expect("unpause");
    chain
        .send(&[join], &[&newcomer])
        .await
        .expect("join after unpause");
    net.remember(&newcomer.pubkey(), 0);
    chain
        .send(&[link], &[&b])
        .await
        .expect("link after unpause");
    let all = [a.pubkey(), b.pubkey(), newcomer.pubkey()];
    let bonus = Wad::from_decimal_str("25").expect("one user link");
    assert_accounting(&mut chain, &net, &all, &[Wad::ZERO, bonus]).await;
}

#[tokio::test]
async fn admin_transfer_takes_two_steps() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let old = net.admin.pubkey();
    let next = chain.wallet().await;
    let intruder = chain.wallet().await;
    let watched = [net.key];

    chain
        .expect_refusal(
            &[ix::propose_admin(
                &intruder.pubkey(),
                &net.key,
                &intruder.pubkey(),
            )],
            &[&intruder],
            UplineError::NotAdmin,
            &watched,
        )
        .await;
    chain
        .expect_refusal(
            &[ix::propose_admin(&old, &net.key, &old)],
            &[&net.admin],
            UplineError::NotPendingAdmin,
            &watched,
        )
        .await;
    // Nothing pending: nobody can accept.
    chain
        .expect_refusal(
            &[ix::accept_admin(&next.pubkey(), &net.key)],
            &[&next],
            UplineError::NotPendingAdmin,
            &watched,
        )
        .await;

    let events = chain
        .send(
            &[ix::propose_admin(&old, &net.key, &next.pubkey())],
            &[&net.admin],
        )
        .await
        .expect("propose");
    assert!(matches!(&events[..], [UplineEvent::AdminProposed(e)] if e.proposed == next.pubkey()));
    assert_eq!(
        net.state(&mut chain).await.admin,
        old,
        "proposing changes nothing yet"
    );
    chain
        .expect_refusal(
            &[ix::accept_admin(&intruder.pubkey(), &net.key)],
            &[&intruder],
            UplineError::NotPendingAdmin,
            &watched,
        )
        .await;
    let mut unsigned = ix::accept_admin(&next.pubkey(), &net.key);
    unsigned.accounts[0].is_signer = false;
    chain.expect_failure(&[unsigned], &[], &watched).await;

    let events = chain
        .send(&[ix::accept_admin(&next.pubkey(), &net.key)], &[&next])
        .await
        .expect("accept");
    assert!(
        matches!(&events[..], [UplineEvent::AdminAccepted(e)] if e.previous == old && e.admin == next.pubkey())
    );
    let state = net.state(&mut chain).await;
    assert_eq!(
        (state.admin, state.pending_admin),
        (next.pubkey(), Pubkey::default())
    );
    chain
        .expect_refusal(
            &[ix::set_paused(&old, &net.key, true)],
            &[&net.admin],
            UplineError::NotAdmin,
            &watched,
        )
        .await;
    chain
        .send(&[ix::set_paused(&next.pubkey(), &net.key, true)], &[&next])
        .await
        .expect("new admin acts");
    // A proposal can be cancelled.
    chain
        .send(
            &[ix::propose_admin(
                &next.pubkey(),
                &net.key,
                &intruder.pubkey(),
            )],
            &[&next],
        )
        .await
        .expect("propose");
    chain
        .send(
            &[ix::propose_admin(
                &next.pubkey(),
                &net.key,
                &Pubkey::default(),
            )],
            &[&next],
        )
        .await
        .expect("cancel");
    chain
        .expect_refusal(
            &[ix::accept_admin(&intruder.pubkey(), &net.key)],
            &[&intruder],
            UplineError::NotPendingAdmin,
            &watched,
        )
        .await;
}

#[tokio::test]
async fn member_tier_is_set_by_the_admin_of_the_members_network() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "clore").await;
    let other = TestNetwork::from_preset(&mut chain, "clore").await;
    let a = net.join(&mut chain, 0, &[]).await;
    let admin = net.admin.pubkey();
    let events = chain
        .send(
            &[ix::set_member_tier(
                &admin,
                &net.key,
                &net.member(&a.pubkey()),
                CommissionTier::Premium,
            )],
            &[&net.admin],
        )
        .await
        .expect("tier");
    assert!(
        matches!(&events[..], [UplineEvent::MemberTierSet(e)] if e.tier == CommissionTier::Premium && e.wallet == a.pubkey() && e.member == net.member(&a.pubkey()))
    );
    assert_eq!(
        net.member_state(&mut chain, &a.pubkey())
            .await
            .commission_tier,
        CommissionTier::Premium
    );

    let member = net.member(&a.pubkey());
    let by_a = ix::set_member_tier(&a.pubkey(), &net.key, &member, CommissionTier::Vip);
    chain
        .expect_refusal(&[by_a], &[&a], UplineError::NotAdmin, &[member])
        .await;
    // The other network's admin, naming its own network, with this network's member.
    let foreign = ix::set_member_tier(
        &other.admin.pubkey(),
        &other.key,
        &member,
        CommissionTier::Vip,
    );
    chain
        .expect_refusal(
            &[foreign],
            &[&other.admin],
            UplineError::UnknownMember,
            &[member],
        )
        .await;
}

#[tokio::test]
async fn promotion_window_opens_replaces_and_closes() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::create(
        &mut chain,
        "promo",
        tables(&[class("account", &[], None)], false),
        &[LedgerSetup::Points { name: "PTS".into() }],
    )
    .await;
    let admin = net.admin.pubkey();
    let now = chain.now;
    let half = Ppm(500_000);
    let events = chain
        .send(
            &[ix::open_promotion(
                &admin,
                &net.key,
                half,
                now + 100,
                now + 200,
            )],
            &[&net.admin],
        )
        .await
        .expect("open");
    let future = PromotionWindow {
        rate: half,
        start: now + 100,
        end: now + 200,
    };
    assert!(matches!(&events[..], [UplineEvent::PromotionSet(e)] if e.window == future));
    let state = net.state(&mut chain).await;
    assert!(
        !state.promotion.is_open(now)
            && state.promotion.is_open(now + 100)
            && !state.promotion.is_open(now + 200)
    );

    // Closing a window that has not started cancels it.
    chain
        .send(&[ix::close_promotion(&admin, &net.key)], &[&net.admin])
        .await
        .expect("close");
    assert_eq!(
        net.state(&mut chain).await.promotion,
        PromotionWindow::default()
    );
    // Closing an open one ends it now.
    chain
        .send(
            &[ix::open_promotion(
                &admin,
                &net.key,
                half,
                now - 10,
                now + 1_000,
            )],
            &[&net.admin],
        )
        .await
        .expect("open");
    chain.warp_to(now + 50).await;
    chain
        .send(&[ix::close_promotion(&admin, &net.key)], &[&net.admin])
        .await
        .expect("close");
    let closed = net.state(&mut chain).await.promotion;
    assert_eq!(
        closed,
        PromotionWindow {
            rate: half,
            start: now - 10,
            end: now + 50
        }
    );
    assert!(!closed.is_open(now + 50));

    let watched = [net.key];
    let bad = [
        (Ppm(1_000_001), now, now + 1),
        (half, now, now),
        (half, now + 5, now),
    ];
    for (rate, start, end) in bad {
        let ix = ix::open_promotion(&admin, &net.key, rate, start, end);
        chain
            .expect_refusal(
                &[ix],
                &[&net.admin],
                UplineError::InvalidPromotion,
                &watched,
            )
            .await;
    }
    let intruder = chain.wallet().await;
    let ix = ix::open_promotion(&intruder.pubkey(), &net.key, half, now, now + 1);
    chain
        .expect_refusal(&[ix], &[&intruder], UplineError::NotAdmin, &watched)
        .await;
    let ix = ix::close_promotion(&intruder.pubkey(), &net.key);
    chain
        .expect_refusal(&[ix], &[&intruder], UplineError::NotAdmin, &watched)
        .await;
}
