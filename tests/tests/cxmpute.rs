//! Cxmpute on program-test: every number its document prints, from real reports.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::math::Wad;
use upline::state::{Endpoint, Service};
use upline_sdk::events::UplineEvent;
use upline_tests::checks::{assert_accounting, assert_downline_matches_graph};
use upline_tests::reports::{compute, usage, WorkedAt};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

const USER: u8 = 0;
const PROVIDER: u8 = 1;
const NORMAL: u32 = 5_000;

fn wad(text: &str) -> Wad {
    Wad::from_decimal_str(text).expect("amount")
}

async fn provider(
    chain: &mut Chain,
    net: &TestNetwork,
    vram_gb: u32,
    upline: &[&Keypair],
) -> Keypair {
    let wallet = net.join(chain, PROVIDER, upline).await;
    net.attest_provider(chain, &wallet.pubkey(), vram_gb).await;
    wallet
}

async fn own(chain: &mut Chain, net: &TestNetwork, wallet: &Keypair) -> [Wad; 5] {
    let m = net.member_state(chain, &wallet.pubkey()).await;
    let cxpt = &m.ledgers[0];
    [cxpt.own, cxpt.level1, cxpt.level2, cxpt.level3, cxpt.bonus]
}

#[tokio::test]
async fn per_request_rewards_of_the_three_examples() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let mariana = provider(&mut chain, &net, 24, &[]).await;
    let blue = provider(&mut chain, &net, 8, &[]).await;
    let ocean = provider(&mut chain, &net, 16, &[]).await;
    let cases = [
        (&mariana, "llama3-70b", Service::Chat, 1000, "0.375"),
        (&blue, "mistral-7b", Service::Chat, 1000, "0.045"),
        (&ocean, "llama3-13b", Service::Embeddings, 500, "0.02625"),
    ];
    for (wallet, model, service, tokens, expected) in cases {
        let ix = net
            .compute_ix(
                &mut chain,
                &wallet.pubkey(),
                model,
                compute(1, service, tokens, NORMAL),
            )
            .await;
        let events = net.as_oracle(&mut chain, &[ix]).await.expect("report");
        match &events[..] {
            [UplineEvent::ComputeReported(e)] => {
                assert_eq!(e.reward, wad(expected), "{model}");
                assert!(e.commissions.is_empty());
                assert_eq!(
                    (e.tokens, e.latency_ms, e.ledger_index, e.tables_version),
                    (tokens, NORMAL, 0, 1)
                );
            }
            other => panic!("unexpected events {other:?}"),
        }
        assert_eq!(own(&mut chain, &net, wallet).await[0], wad(expected));
    }
    // Latency: fast +10%, slow -10%.
    let fast = net
        .compute_ix(
            &mut chain,
            &mariana.pubkey(),
            "llama3-70b",
            compute(2, Service::Chat, 1000, 1_999),
        )
        .await;
    let slow = net
        .compute_ix(
            &mut chain,
            &mariana.pubkey(),
            "llama3-70b",
            compute(3, Service::Chat, 1000, 10_001),
        )
        .await;
    net.as_oracle(&mut chain, &[fast, slow])
        .await
        .expect("batch");
    assert_eq!(
        own(&mut chain, &net, &mariana).await[0],
        wad("1.125"),
        "0.375 + 0.4125 + 0.3375"
    );
    let all = [mariana.pubkey(), blue.pubkey(), ocean.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[wad("1.19625"), Wad::ZERO]).await;
}

#[tokio::test]
async fn commissions_climb_three_levels_and_the_earner_keeps_everything() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let p0 = provider(&mut chain, &net, 24, &[]).await;
    let p1 = provider(&mut chain, &net, 24, &[&p0]).await;
    let p2 = provider(&mut chain, &net, 24, &[&p1, &p0]).await;
    let p3 = provider(&mut chain, &net, 24, &[&p2, &p1, &p0]).await;
    let p4 = provider(&mut chain, &net, 24, &[&p3, &p2, &p1]).await;

    let ix = net
        .compute_ix(
            &mut chain,
            &p3.pubkey(),
            "llama3-70b",
            compute(7, Service::Chat, 1000, NORMAL),
        )
        .await;
    let events = net.as_oracle(&mut chain, &[ix]).await.expect("report");
    let UplineEvent::ComputeReported(e) = &events[0] else {
        panic!("{events:?}")
    };
    let paid: Vec<(Pubkey, u8, Wad)> = e
        .commissions
        .iter()
        .map(|c| (c.member, c.level, c.amount))
        .collect();
    assert_eq!(
        paid,
        [
            (net.member(&p2.pubkey()), 1, wad("0.0375")),
            (net.member(&p1.pubkey()), 2, wad("0.01875")),
            (net.member(&p0.pubkey()), 3, wad("0.009375"))
        ]
    );
    assert_eq!(
        (e.provider, e.work_time, e.at),
        (net.member(&p3.pubkey()), chain.now, chain.now)
    );
    assert_eq!(
        own(&mut chain, &net, &p3).await,
        [wad("0.375"), Wad::ZERO, Wad::ZERO, Wad::ZERO, Wad::ZERO]
    );
    assert_eq!(own(&mut chain, &net, &p2).await[1], wad("0.0375"));
    assert_eq!(own(&mut chain, &net, &p1).await[2], wad("0.01875"));
    assert_eq!(own(&mut chain, &net, &p0).await[3], wad("0.009375"));
    // Four levels down earns nothing: p4's report pays p3, p2, p1 only.
    let ix = net
        .compute_ix(
            &mut chain,
            &p4.pubkey(),
            "llama3-70b",
            compute(1, Service::Chat, 1000, NORMAL),
        )
        .await;
    net.as_oracle(&mut chain, &[ix]).await.expect("report");
    assert_eq!(own(&mut chain, &net, &p0).await[3], wad("0.009375"));
    let history = net
        .member_state(&mut chain, &p2.pubkey())
        .await
        .history(0, chain.now)
        .expect("history");
    assert_eq!(
        history[29],
        37_500_000 + 18_750_000,
        "today's credits in nano-units"
    );

    let all: Vec<Pubkey> = [&p0, &p1, &p2, &p3, &p4]
        .iter()
        .map(|k| k.pubkey())
        .collect();
    // Two reports of 0.375 + 0.0375 + 0.01875 + 0.009375; four provider links × 50 points.
    assert_accounting(&mut chain, &net, &all, &[wad("0.88125"), wad("200")]).await;
    assert_downline_matches_graph(&mut chain, &net, &all).await;
}

#[tokio::test]
async fn usage_points_and_user_commissions() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let u0 = net.join(&mut chain, USER, &[]).await;
    let u1 = net.join(&mut chain, USER, &[&u0]).await;
    let u2 = net.join(&mut chain, USER, &[&u1, &u0]).await;
    let u3 = net.join(&mut chain, USER, &[&u2, &u1, &u0]).await;
    let ix = net
        .usage_ix(&mut chain, &u3.pubkey(), usage(1, Endpoint::Chat, 1000))
        .await;
    let events = net.as_oracle(&mut chain, &[ix]).await.expect("report");
    let UplineEvent::UsageReported(e) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(e.points, wad("2"), "a 1000-token chat is 2 points");
    let amounts: Vec<Wad> = e.commissions.iter().map(|c| c.amount).collect();
    assert_eq!(
        amounts,
        [wad("0.3"), wad("0.16"), wad("0.08")],
        "15% / 8% / 4%"
    );
    let points = |m: &upline::state::Member| m.ledgers[1];
    assert_eq!(
        points(&net.member_state(&mut chain, &u3.pubkey()).await).own,
        wad("2")
    );
    let cases = [
        (Endpoint::Embeddings, 1000, "1"),
        (Endpoint::Scrape, 1000, "0.2"),
        (Endpoint::Tts, 50, "0.8"),
    ];
    for (id, (endpoint, tokens, expected)) in (10..).zip(cases) {
        let ix = net
            .usage_ix(&mut chain, &u0.pubkey(), usage(id, endpoint, tokens))
            .await;
        let events = net.as_oracle(&mut chain, &[ix]).await.expect("report");
        assert!(
            matches!(&events[0], UplineEvent::UsageReported(e) if e.points == wad(expected)),
            "{endpoint:?}"
        );
    }
    let all = [u0.pubkey(), u1.pubkey(), u2.pubkey(), u3.pubkey()];
    // u3's 2 points and 0.54 of commissions, u0's 1 + 0.2 + 0.8, and 3 user links × 25.
    assert_accounting(&mut chain, &net, &all, &[Wad::ZERO, wad("79.54")]).await;
}

#[tokio::test]
async fn refusals_of_compute_and_usage_reports_change_nothing() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let p0 = provider(&mut chain, &net, 24, &[]).await;
    let tide = provider(&mut chain, &net, 4, &[&p0]).await;
    let fresh = net.join(&mut chain, PROVIDER, &[]).await;
    let user = net.join(&mut chain, USER, &[]).await;
    let watched = [
        net.member(&p0.pubkey()),
        net.member(&tide.pubkey()),
        net.member(&fresh.pubkey()),
        net.member(&user.pubkey()),
    ];
    let oracle = net.oracle.insecure_clone();

    // Tier gating: a 70B model on a Tide Pool provider; an unattested provider.
    let gated = net
        .compute_ix(
            &mut chain,
            &tide.pubkey(),
            "llama3-70b",
            compute(1, Service::Chat, 10, NORMAL),
        )
        .await;
    chain
        .expect_refusal(&[gated], &[&oracle], UplineError::TierTooLow, &watched)
        .await;
    let unattested = net
        .compute_ix(
            &mut chain,
            &fresh.pubkey(),
            "gemma-2b",
            compute(1, Service::Chat, 10, NORMAL),
        )
        .await;
    chain
        .expect_refusal(
            &[unattested],
            &[&oracle],
            UplineError::UnattestedProvider,
            &watched,
        )
        .await;
    // Wrong class both ways.
    let user_compute = net
        .compute_ix(
            &mut chain,
            &user.pubkey(),
            "gemma-2b",
            compute(1, Service::Chat, 10, NORMAL),
        )
        .await;
    chain
        .expect_refusal(
            &[user_compute],
            &[&oracle],
            UplineError::WrongClass,
            &watched,
        )
        .await;
    let provider_usage = net
        .usage_ix(&mut chain, &p0.pubkey(), usage(1, Endpoint::Chat, 10))
        .await;
    chain
        .expect_refusal(
            &[provider_usage],
            &[&oracle],
            UplineError::WrongClass,
            &watched,
        )
        .await;

    // Replay: the same id, and a lower one, after a recorded report.
    let first = net
        .compute_ix(
            &mut chain,
            &tide.pubkey(),
            "gemma-2b",
            compute(5, Service::Chat, 10, NORMAL),
        )
        .await;
    net.as_oracle(&mut chain, std::slice::from_ref(&first))
        .await
        .expect("first");
    chain
        .expect_refusal(&[first], &[&oracle], UplineError::StaleReport, &watched)
        .await;
    let lower = net
        .compute_ix(
            &mut chain,
            &tide.pubkey(),
            "gemma-2b",
            compute(4, Service::Chat, 10, NORMAL),
        )
        .await;
    chain
        .expect_refusal(&[lower], &[&oracle], UplineError::StaleReport, &watched)
        .await;

    // A report signed by someone who is not an oracle, and by a removed oracle.
    let impostor = chain.wallet().await;
    let mut forged = net
        .compute_ix(
            &mut chain,
            &tide.pubkey(),
            "gemma-2b",
            compute(6, Service::Chat, 10, NORMAL),
        )
        .await;
    forged.accounts[0].pubkey = impostor.pubkey();
    chain
        .expect_refusal(&[forged], &[&impostor], UplineError::NotOracle, &watched)
        .await;
    let admin = net.admin.pubkey();
    let remove = upline_sdk::ix::remove_oracle(&admin, &net.key, &oracle.pubkey());
    chain
        .send(&[remove], &[&net.admin])
        .await
        .expect("remove oracle");
    let after = net
        .compute_ix(
            &mut chain,
            &tide.pubkey(),
            "gemma-2b",
            compute(6, Service::Chat, 10, NORMAL),
        )
        .await;
    chain
        .expect_refusal(&[after], &[&oracle], UplineError::NotOracle, &watched)
        .await;
}

#[tokio::test]
async fn reports_must_pass_the_stored_upline() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let p0 = provider(&mut chain, &net, 24, &[]).await;
    let p1 = provider(&mut chain, &net, 24, &[&p0]).await;
    let p2 = provider(&mut chain, &net, 24, &[&p1, &p0]).await;
    let stranger = provider(&mut chain, &net, 24, &[]).await;
    let watched = [
        net.member(&p0.pubkey()),
        net.member(&p1.pubkey()),
        net.member(&p2.pubkey()),
        net.member(&stranger.pubkey()),
    ];
    let oracle = net.oracle.insecure_clone();
    let oracle_key = oracle.pubkey();
    let model = upline_tests::reports::model("llama3-70b");
    let now = chain.now;
    let p2_member = net.member(&p2.pubkey());
    let report = |upline: &[Pubkey]| {
        upline_sdk::ix::report_compute(
            &oracle_key,
            &net.key,
            &p2_member,
            &model,
            upline,
            compute(1, Service::Chat, 1000, NORMAL).worked_at(now),
        )
    };
    let m = |k: &Keypair| net.member(&k.pubkey());
    // Missing level 2, a stranger as level 1, levels swapped, an extra level,
    // no upline at all, and the wallets instead of their memberships.
    for upline in [
        vec![m(&p1)],
        vec![m(&stranger), m(&p0)],
        vec![m(&p0), m(&p1)],
        vec![m(&p1), m(&p0), m(&stranger)],
        vec![],
    ] {
        chain
            .expect_refusal(
                &[report(&upline)],
                &[&oracle],
                UplineError::UplineMismatch,
                &watched,
            )
            .await;
    }
    // Wallets are not member accounts: nothing there is a member.
    let wallets = report(&[p1.pubkey(), p0.pubkey()]);
    chain
        .expect_refusal(
            &[wallets],
            &[&oracle],
            UplineError::UplineMismatch,
            &watched,
        )
        .await;
    net.as_oracle(&mut chain, &[report(&[m(&p1), m(&p0)])])
        .await
        .expect("the stored chain pays");
}

/// Seed "Example 1: Active Developer Network": 5 direct referrals earning 100
/// points a month, 15 below them earning 50, 30 below those earning 25, built
/// from individual usage reports: 15% × 500 + 8% × 750 + 4% × 750 = 165.
#[tokio::test]
async fn user_network_example_pays_165_points() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let you = net.join(&mut chain, USER, &[]).await;
    let mut everyone = vec![you.pubkey()];
    let mut reports: Vec<(Keypair, Vec<Pubkey>, u32)> = Vec::new(); // member, upline, points
    let m = |k: &Keypair| net.member(&k.pubkey());
    for _ in 0..5 {
        let l1 = net.join(&mut chain, USER, &[&you]).await;
        for _ in 0..3 {
            let l2 = net.join(&mut chain, USER, &[&l1, &you]).await;
            for _ in 0..2 {
                let l3 = net.join(&mut chain, USER, &[&l2, &l1, &you]).await;
                reports.push((l3.insecure_clone(), vec![m(&l2), m(&l1), m(&you)], 25));
                everyone.push(l3.pubkey());
            }
            reports.push((l2.insecure_clone(), vec![m(&l1), m(&you)], 50));
            everyone.push(l2.pubkey());
        }
        reports.push((l1.insecure_clone(), vec![m(&you)], 100));
        everyone.push(l1.pubkey());
    }
    let oracle = net.oracle.insecure_clone();
    let mut count = 0;
    let now = chain.now;
    for (wallet, upline, points) in &reports {
        let member = m(wallet);
        // Whole months of 1000-token chats (2 points each), plus a 0-token chat (1 point) for odd totals.
        let mut batch = Vec::new();
        let mut id = 0;
        for _ in 0..points / 2 {
            id += 1;
            batch.push(upline_sdk::ix::report_usage(
                &oracle.pubkey(),
                &net.key,
                &member,
                upline,
                usage(id, Endpoint::Chat, 1000).worked_at(now),
            ));
        }
        if points % 2 == 1 {
            id += 1;
            batch.push(upline_sdk::ix::report_usage(
                &oracle.pubkey(),
                &net.key,
                &member,
                upline,
                usage(id, Endpoint::Chat, 0).worked_at(now),
            ));
        }
        count += batch.len();
        for chunk in batch.chunks(4) {
            if let Err(e) = chain.send_quiet(chunk, &[&oracle]).await {
                panic!(
                    "usage batch after {count} reports, member points {points}, chunk of {}: {e:?}",
                    chunk.len()
                );
            }
        }
    }
    assert_eq!(count, 250 + 375 + 390);
    let m = net.member_state(&mut chain, &you.pubkey()).await;
    let points = &m.ledgers[1];
    assert_eq!(
        (points.level1, points.level2, points.level3),
        (wad("75"), wad("60"), wad("30"))
    );
    let referral = points
        .level1
        .checked_add(points.level2)
        .and_then(|s| s.checked_add(points.level3));
    assert_eq!(referral, Ok(wad("165")));
    assert_eq!(points.bonus, wad("125"), "5 direct referrals × 25 points");
    assert_eq!(m.downline, [5, 15, 30]);
    // Credits, computed by hand: 2000 points earned (5 × 100 + 15 × 50 + 30 × 25);
    // commissions 5 × 15 + 15 × (7.5 + 4) + 30 × (3.75 + 2 + 1) = 450; 50 links × 25 = 1250.
    assert_accounting(&mut chain, &net, &everyone, &[Wad::ZERO, wad("3700")]).await;
    assert_downline_matches_graph(&mut chain, &net, &everyone).await;
}

/// Seed "Example 2: High-End Provider Network": 3 Mariana Depth referrals with
/// 1000 requests a month at 0.375, 6 below them with 500, 6 below those with
/// 300: 7,800 compute reports. 10% × 1125 + 5% × 1125 + 2.5% × 675 = 185.625.
#[tokio::test]
async fn provider_network_example_pays_185_625() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let you = provider(&mut chain, &net, 24, &[]).await;
    let mut everyone = vec![you.pubkey()];
    let mut work: Vec<(Keypair, u64)> = Vec::new();
    for _ in 0..3 {
        let l1 = provider(&mut chain, &net, 24, &[&you]).await;
        for _ in 0..2 {
            let l2 = provider(&mut chain, &net, 24, &[&l1, &you]).await;
            let l3 = provider(&mut chain, &net, 24, &[&l2, &l1, &you]).await;
            everyone.extend([l2.pubkey(), l3.pubkey()]);
            work.push((l2, 500));
            work.push((l3, 300));
        }
        everyone.push(l1.pubkey());
        work.push((l1, 1000));
    }
    let oracle = net.oracle.insecure_clone();
    let mut reports = 0;
    let now = chain.now;
    for (member, requests) in &work {
        let template = net
            .compute_ix(
                &mut chain,
                &member.pubkey(),
                "llama3-70b",
                compute(1, Service::Chat, 1000, NORMAL),
            )
            .await;
        let ids: Vec<u64> = (1..=*requests).collect();
        for chunk in ids.chunks(16) {
            let batch: Vec<_> = chunk
                .iter()
                .map(|id| {
                    let mut ix = template.clone();
                    ix.data =
                        anchor_lang::InstructionData::data(&upline::instruction::ReportCompute {
                            args: compute(*id, Service::Chat, 1000, NORMAL).worked_at(now),
                        });
                    ix
                })
                .collect();
            reports += batch.len();
            chain
                .send_paid_by(&oracle, &batch)
                .await
                .expect("compute batch");
        }
    }
    assert_eq!(reports, 7_800);
    let m = net.member_state(&mut chain, &you.pubkey()).await;
    let cxpt = &m.ledgers[0];
    assert_eq!(
        (cxpt.level1, cxpt.level2, cxpt.level3),
        (wad("112.5"), wad("56.25"), wad("16.875"))
    );
    let referral = cxpt
        .level1
        .checked_add(cxpt.level2)
        .and_then(|s| s.checked_add(cxpt.level3));
    assert_eq!(referral, Ok(wad("185.625")));
    assert_eq!(m.downline, [3, 6, 6]);
    // CXPT by hand: own 3 × 375 + 6 × 187.5 + 6 × 112.5 = 2925; commissions
    // 3000 × 0.0375 + 3000 × 0.05625 + 1800 × 0.065625 = 399.375. POINTS: 15 links × 50.
    assert_accounting(&mut chain, &net, &everyone, &[wad("3324.375"), wad("750")]).await;
    assert_downline_matches_graph(&mut chain, &net, &everyone).await;
}
