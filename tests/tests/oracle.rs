//! The oracle side's set-up: the oracle set, reward tables, models, provider
//! attestation, and the direct bonus paid on first work.
#![allow(deprecated)]

use solana_signer::Signer;
use upline::errors::UplineError;
use upline::instructions::ModelArgs;
use upline::math::{Ppm, Wad};
use upline::state::{BonusTrigger, Endpoint, MemberFlags, Model, Oracle, RewardTables, Service};
use upline_sdk::events::UplineEvent;
use upline_sdk::{ix, pda};
use upline_tests::checks::assert_accounting;
use upline_tests::network::{class, tables, LedgerSetup};
use upline_tests::reports::{compute, model, usage};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

fn wad(text: &str) -> Wad {
    Wad::from_decimal_str(text).expect("amount")
}

#[tokio::test]
async fn the_admin_keeps_the_oracle_set() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let admin = net.admin.pubkey();
    let second = chain.wallet().await;
    let events = chain
        .send(
            &[ix::add_oracle(&admin, &admin, &net.key, &second.pubkey())],
            &[&net.admin],
        )
        .await
        .expect("add");
    assert!(matches!(&events[..], [UplineEvent::OracleAdded(e)] if e.oracle == second.pubkey()));
    let record: Oracle = chain
        .account(&pda::oracle(&net.key, &second.pubkey()))
        .await;
    assert_eq!(
        (record.network, record.authority, record.added_at),
        (net.key, second.pubkey(), chain.now)
    );

    let intruder = chain.wallet().await;
    let watched = [
        pda::oracle(&net.key, &intruder.pubkey()),
        pda::oracle(&net.key, &second.pubkey()),
    ];
    let self_added = ix::add_oracle(
        &intruder.pubkey(),
        &intruder.pubkey(),
        &net.key,
        &intruder.pubkey(),
    );
    chain
        .expect_refusal(&[self_added], &[&intruder], UplineError::NotAdmin, &watched)
        .await;
    let removal = ix::remove_oracle(&intruder.pubkey(), &net.key, &second.pubkey());
    chain
        .expect_refusal(&[removal], &[&intruder], UplineError::NotAdmin, &watched)
        .await;
    // Another network's oracle cannot be removed through this network.
    let other = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let mut foreign = ix::remove_oracle(&admin, &net.key, &second.pubkey());
    foreign.accounts[2].pubkey = pda::oracle(&other.key, &other.oracle.pubkey());
    chain
        .expect_refusal(
            &[foreign],
            &[&net.admin],
            UplineError::NotOracle,
            &[pda::oracle(&other.key, &other.oracle.pubkey())],
        )
        .await;

    let before = chain.lamports(&admin).await;
    let events = chain
        .send(
            &[ix::remove_oracle(&admin, &net.key, &second.pubkey())],
            &[&net.admin],
        )
        .await
        .expect("remove");
    assert!(matches!(&events[..], [UplineEvent::OracleRemoved(e)] if e.oracle == second.pubkey()));
    assert!(
        chain
            .data(&pda::oracle(&net.key, &second.pubkey()))
            .await
            .is_none(),
        "closed"
    );
    assert!(
        chain.lamports(&admin).await > before,
        "rent returned to the admin"
    );
}

#[tokio::test]
async fn reward_tables_and_models_are_the_admins_and_apply_from_now_on() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let admin = net.admin.pubkey();
    let tables_key = pda::reward_tables(&net.key);
    let mut data = chain.account::<RewardTables>(&tables_key).await.data;
    let user = net.join(&mut chain, 0, &[]).await;

    // Double the chat points from now on: the version moves, the event carries the tables.
    data.usage.endpoints[0].base = wad("2");
    let events = chain
        .send(
            &[ix::set_reward_tables(&admin, &net.key, data)],
            &[&net.admin],
        )
        .await
        .expect("set");
    assert!(
        matches!(&events[..], [UplineEvent::RewardTablesSet(e)] if e.version == 2 && e.data == data)
    );
    let report = net
        .usage_ix(&mut chain, &user.pubkey(), usage(1, Endpoint::Chat, 1000))
        .await;
    let events = net.as_oracle(&mut chain, &[report]).await.expect("usage");
    assert!(
        matches!(&events[0], UplineEvent::UsageReported(e) if e.points == wad("3") && e.tables_version == 2)
    );

    let watched = [tables_key];
    let intruder = chain.wallet().await;
    let by_intruder = ix::set_reward_tables(&intruder.pubkey(), &net.key, data);
    chain
        .expect_refusal(
            &[by_intruder],
            &[&intruder],
            UplineError::NotAdmin,
            &watched,
        )
        .await;
    let mut bad = data;
    bad.compute.ledger = 9;
    chain
        .expect_refusal(
            &[ix::set_reward_tables(&admin, &net.key, bad)],
            &[&net.admin],
            UplineError::InvalidTables,
            &watched,
        )
        .await;
    let mut unordered = data;
    unordered.compute.tiers.swap(0, 1);
    chain
        .expect_refusal(
            &[ix::set_reward_tables(&admin, &net.key, unordered)],
            &[&net.admin],
            UplineError::InvalidTables,
            &watched,
        )
        .await;

    // Turning a kind off refuses its reports by name.
    let mut off = data;
    off.usage.enabled = false;
    chain
        .send(
            &[ix::set_reward_tables(&admin, &net.key, off)],
            &[&net.admin],
        )
        .await
        .expect("off");
    let report = net
        .usage_ix(&mut chain, &user.pubkey(), usage(2, Endpoint::Chat, 1000))
        .await;
    let oracle = net.oracle.insecure_clone();
    chain
        .expect_refusal(
            &[report],
            &[&oracle],
            UplineError::ReportKindDisabled,
            &[net.member(&user.pubkey())],
        )
        .await;

    // Models: registered and updated by the admin, with a valid complexity and tier.
    let name = model("llama4-400b");
    let args = ModelArgs {
        name,
        complexity: Ppm(4_000_000),
        min_tier: 4,
    };
    let model_key = pda::model(&net.key, &name);
    let by_intruder = ix::register_model(&intruder.pubkey(), &intruder.pubkey(), &net.key, args);
    chain
        .expect_refusal(
            &[by_intruder],
            &[&intruder],
            UplineError::NotAdmin,
            &[model_key],
        )
        .await;
    for bad in [
        ModelArgs {
            complexity: Ppm(0),
            ..args
        },
        ModelArgs {
            min_tier: 0,
            ..args
        },
        ModelArgs {
            min_tier: 5,
            ..args
        },
    ] {
        chain
            .expect_refusal(
                &[ix::register_model(&admin, &admin, &net.key, bad)],
                &[&net.admin],
                UplineError::InvalidModel,
                &[model_key],
            )
            .await;
    }
    chain
        .send(
            &[ix::register_model(&admin, &admin, &net.key, args)],
            &[&net.admin],
        )
        .await
        .expect("register");
    let update = ModelArgs {
        complexity: Ppm(3_500_000),
        ..args
    };
    let events = chain
        .send(&[ix::update_model(&admin, &net.key, update)], &[&net.admin])
        .await
        .expect("update");
    assert!(matches!(&events[..], [UplineEvent::ModelSet(e)] if e.complexity == Ppm(3_500_000)));
    let stored: Model = chain.account(&model_key).await;
    assert_eq!((stored.complexity, stored.min_tier), (Ppm(3_500_000), 4));
    let by_intruder = ix::update_model(&intruder.pubkey(), &net.key, args);
    chain
        .expect_refusal(
            &[by_intruder],
            &[&intruder],
            UplineError::NotAdmin,
            &[model_key],
        )
        .await;
}

#[tokio::test]
async fn provider_attestation_sets_and_moves_the_tier() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let p = net.join(&mut chain, 1, &[]).await;
    let oracle = net.oracle.pubkey();
    for (vram_mb, tier) in [
        (4096, 1),
        (4097, 2),
        (8192, 2),
        (8193, 3),
        (22527, 3),
        (22528, 4),
        (81920, 4),
    ] {
        let events = net
            .as_oracle(
                &mut chain,
                &[ix::attest_provider(
                    &oracle,
                    &net.key,
                    &net.member(&p.pubkey()),
                    vram_mb,
                )],
            )
            .await
            .expect("attest");
        assert!(
            matches!(&events[..], [UplineEvent::ProviderAttested(e)] if e.tier == tier && e.vram_mb == vram_mb && e.member == net.member(&p.pubkey()) && e.wallet == p.pubkey()),
            "{vram_mb} MiB"
        );
        let m = net.member_state(&mut chain, &p.pubkey()).await;
        assert_eq!(m.device_tier, tier);
        assert!(m.flags.has(MemberFlags::ATTESTED));
    }
    // Upgraded to Mariana Depth, the provider may serve the 70B model.
    let ix = net
        .compute_ix(
            &mut chain,
            &p.pubkey(),
            "llama3-70b",
            compute(1, Service::Chat, 1000, 5_000),
        )
        .await;
    net.as_oracle(&mut chain, &[ix])
        .await
        .expect("70B on Mariana");

    let user = net.join(&mut chain, 0, &[]).await;
    let watched = [net.member(&user.pubkey()), net.member(&p.pubkey())];
    let wrong_class = ix::attest_provider(&oracle, &net.key, &net.member(&user.pubkey()), 24_576);
    let signer = net.oracle.insecure_clone();
    chain
        .expect_refusal(
            &[wrong_class],
            &[&signer],
            UplineError::WrongClass,
            &watched,
        )
        .await;
    let impostor = chain.wallet().await;
    let mut forged = ix::attest_provider(&oracle, &net.key, &net.member(&p.pubkey()), 1);
    forged.accounts[0].pubkey = impostor.pubkey();
    chain
        .expect_refusal(&[forged], &[&impostor], UplineError::NotOracle, &watched)
        .await;
    // An oracle of another network.
    let other = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let foreign = ix::attest_provider(
        &other.oracle.pubkey(),
        &other.key,
        &net.member(&p.pubkey()),
        1,
    );
    let foreign_oracle = other.oracle.insecure_clone();
    chain
        .expect_refusal(
            &[foreign],
            &[&foreign_oracle],
            UplineError::UnknownMember,
            &watched,
        )
        .await;
}

#[tokio::test]
async fn paused_networks_refuse_reports_and_attestations() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let user = net.join(&mut chain, 0, &[]).await;
    let p = net.join(&mut chain, 1, &[]).await;
    let admin = net.admin.pubkey();
    chain
        .send(&[ix::set_paused(&admin, &net.key, true)], &[&net.admin])
        .await
        .expect("pause");
    let oracle = net.oracle.insecure_clone();
    let watched = [net.member(&user.pubkey()), net.member(&p.pubkey())];
    let report = net
        .usage_ix(&mut chain, &user.pubkey(), usage(1, Endpoint::Chat, 10))
        .await;
    chain
        .expect_refusal(
            std::slice::from_ref(&report),
            &[&oracle],
            UplineError::NetworkPaused,
            &watched,
        )
        .await;
    let attest = ix::attest_provider(&oracle.pubkey(), &net.key, &net.member(&p.pubkey()), 24_576);
    chain
        .expect_refusal(&[attest], &[&oracle], UplineError::NetworkPaused, &watched)
        .await;
    chain
        .send(&[ix::set_paused(&admin, &net.key, false)], &[&net.admin])
        .await
        .expect("unpause");
    net.as_oracle(&mut chain, &[report])
        .await
        .expect("reports resume");
}

#[tokio::test]
async fn first_work_bonus_is_paid_at_the_first_report_only() {
    let mut chain = Chain::start().await;
    // Users earn 10 points per referee, but only once the referee has done real work.
    let t = tables(
        &[class(
            "user",
            &[150_000],
            Some(("10", 0, BonusTrigger::FirstWork)),
        )],
        false,
    );
    let net = TestNetwork::create(
        &mut chain,
        "sybil-proof",
        t,
        &[LedgerSetup::Points { name: "PTS".into() }],
    )
    .await;
    let mut data = upline_sdk::preset::Preset::builtin("cxmpute")
        .expect("cx")
        .reward_tables()
        .expect("tables");
    data.compute.enabled = false;
    data.usage.ledger = 0;
    data.usage.user_class = 0;
    let admin = net.admin.pubkey();
    chain
        .send(
            &[ix::set_reward_tables(&admin, &net.key, data)],
            &[&net.admin],
        )
        .await
        .expect("tables");
    let r = net.join(&mut chain, 0, &[]).await;
    let idle = net.join(&mut chain, 0, &[&r]).await;
    let worker = net.join(&mut chain, 0, &[&r]).await;
    assert_eq!(
        net.member_state(&mut chain, &r.pubkey()).await.ledgers[0].bonus,
        Wad::ZERO,
        "nothing at link"
    );

    let first = net
        .usage_ix(&mut chain, &worker.pubkey(), usage(1, Endpoint::Chat, 1000))
        .await;
    let events = net
        .as_oracle(&mut chain, &[first])
        .await
        .expect("first report");
    match &events[..] {
        [UplineEvent::UsageReported(_), UplineEvent::DirectBonusCredited(b)] => {
            assert_eq!(
                (b.referrer, b.referee, b.amount),
                (
                    net.member(&r.pubkey()),
                    net.member(&worker.pubkey()),
                    wad("10")
                )
            );
        }
        other => panic!("unexpected events {other:?}"),
    }
    let second = net
        .usage_ix(&mut chain, &worker.pubkey(), usage(2, Endpoint::Chat, 1000))
        .await;
    let events = net
        .as_oracle(&mut chain, &[second])
        .await
        .expect("second report");
    assert_eq!(events.len(), 1, "paid once");
    let m = net.member_state(&mut chain, &worker.pubkey()).await;
    assert!(m.flags.has(MemberFlags::HAS_WORKED) && !m.flags.has(MemberFlags::BONUS_DUE));
    assert!(net
        .member_state(&mut chain, &idle.pubkey())
        .await
        .flags
        .has(MemberFlags::BONUS_DUE));
    let rm = net.member_state(&mut chain, &r.pubkey()).await;
    assert_eq!(
        (rm.ledgers[0].bonus, rm.ledgers[0].level1),
        (wad("10"), wad("0.6"))
    );
    // A member that worked before linking pays its new referrer at link.
    let late = net.join(&mut chain, 0, &[]).await;
    let work = net
        .usage_ix(&mut chain, &late.pubkey(), usage(1, Endpoint::Chat, 0))
        .await;
    net.as_oracle(&mut chain, &[work])
        .await
        .expect("work before link");
    let link = ix::set_referrer(&late.pubkey(), &net.key, 0, &[net.member(&r.pubkey())]);
    let events = chain.send(&[link], &[&late]).await.expect("link");
    assert!(matches!(
        &events[..],
        [
            UplineEvent::ReferrerLinked(_),
            UplineEvent::DirectBonusCredited(_)
        ]
    ));
    let all = [r.pubkey(), idle.pubkey(), worker.pubkey(), late.pubkey()];
    // Points: 2 + 2 + 1 own, 0.3 + 0.3 commission, 2 × 10 bonus.
    assert_accounting(&mut chain, &net, &all, &[wad("25.6")]).await;
}
