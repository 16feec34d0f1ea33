//! Aether on program-test: each part of the effective rate on its own, subnet
//! weights, suppression, ranges and device attestation.
#![allow(deprecated)]

use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::events::{Commission, RateParts};
use upline::math::{Ppm, Wad};
use upline::state::MemberFlags;
use upline_sdk::events::UplineEvent;
use upline_sdk::preset::Preset;
use upline_tests::checks::assert_accounting;
use upline_tests::reports::bandwidth;
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

const USER: u8 = 0;
const NODE: u8 = 1;
const DAY: i64 = 86_400;
const GB: u64 = 1_000_000_000;

fn wad(text: &str) -> Wad {
    Wad::from_decimal_str(text).expect("amount")
}

/// The preset with no early bonuses, so that each other part shows on its own.
fn no_early_bonuses(preset: &mut Preset) {
    preset.early_bonus = None;
}

/// A node that joins under `upline` and is attested with its own fingerprint and subnet.
async fn node(chain: &mut Chain, net: &TestNetwork, upline: &[&Keypair], name: &str) -> Keypair {
    node_in(chain, net, upline, name, name).await
}

async fn node_in(
    chain: &mut Chain,
    net: &TestNetwork,
    upline: &[&Keypair],
    name: &str,
    subnet: &str,
) -> Keypair {
    let wallet = net.join(chain, NODE, upline).await;
    let attest = net.attest_node_ix(&wallet.pubkey(), name, subnet);
    net.as_oracle(chain, &[attest]).await.expect("attest node");
    wallet
}

/// Report 1 GB at Q = S = DDM = 1 (node reward 1 AETH); the event.
async fn report(
    chain: &mut Chain,
    net: &TestNetwork,
    node: &Keypair,
    device: (&str, &str),
    id: u64,
) -> Box<upline::events::BandwidthReported> {
    let ix = net
        .bandwidth_ix(
            chain,
            &node.pubkey(),
            Some(device),
            bandwidth(id, GB, 1_000_000, 1_000_000, 1_000_000),
        )
        .await;
    let events = net.as_oracle(chain, &[ix]).await.expect("bandwidth report");
    match events.into_iter().next() {
        Some(UplineEvent::BandwidthReported(e)) => Box::new(e),
        other => panic!("unexpected {other:?}"),
    }
}

fn paid(e: &upline::events::BandwidthReported) -> Wad {
    e.referral.map_or(Wad::ZERO, |c: Commission| c.amount)
}

#[tokio::test]
async fn node_reward_and_base_rate() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset_with(&mut chain, "aether", no_early_bonuses).await;
    let user = net.join(&mut chain, USER, &[]).await;
    let n = node(&mut chain, &net, &[&user], "n1").await;
    let args = bandwidth(1, 2 * GB, 900_000, 800_000, 1_250_000);
    let ix = net
        .bandwidth_ix(&mut chain, &n.pubkey(), Some(("n1", "n1")), args)
        .await;
    let events = net.as_oracle(&mut chain, &[ix]).await.expect("report");
    let UplineEvent::BandwidthReported(e) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        e.node_reward,
        wad("1.8"),
        "2 GB × 0.9 × 0.8 × 1.25 × 1 AETH"
    );
    assert_eq!(e.effective_rate, Ppm(120_000));
    assert_eq!(
        e.rate_parts,
        RateParts {
            base: Ppm(120_000),
            cap: Ppm(220_000),
            ..RateParts::default()
        }
    );
    assert_eq!(paid(e), wad("0.216"), "12% of 1.8");
    assert_eq!(e.subnet_nodes, 1);
    let m = net.member_state(&mut chain, &user.pubkey()).await;
    assert_eq!(m.ledgers[0].level1, wad("0.216"));
    // A node without a referrer earns its own reward only.
    let alone = node(&mut chain, &net, &[], "n2").await;
    let e = report(&mut chain, &net, &alone, ("n2", "n2"), 1).await;
    assert_eq!((e.node_reward, e.referral), (wad("1"), None));
    let all = [user.pubkey(), n.pubkey(), alone.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[wad("3.016")]).await;
}

#[tokio::test]
async fn stability_streaks_of_7_and_30_days_and_a_broken_one() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset_with(&mut chain, "aether", no_early_bonuses).await;
    let user = net.join(&mut chain, USER, &[]).await;
    let n = node(&mut chain, &net, &[&user], "n1").await;
    let start = chain.now;
    let mut stability = Vec::new();
    // One report a day, exactly 24 h apart (not more than the 24 h gap).
    for day in 0..=30 {
        chain.warp_to(start + day * DAY).await;
        let e = report(&mut chain, &net, &n, ("n1", "n1"), day as u64 + 1).await;
        assert_eq!(e.stable_since, start);
        stability.push(e.rate_parts.stability);
    }
    assert_eq!(stability[6], Ppm(0), "6 days");
    assert_eq!(stability[7], Ppm(20_000), "7 days: +2%");
    assert_eq!(stability[29], Ppm(20_000), "29 days");
    assert_eq!(stability[30], Ppm(50_000), "30 days: +5%");
    // One second more than 24 h breaks the streak: it starts again at this report.
    let late = start + 31 * DAY + 1;
    chain.warp_to(late).await;
    let e = report(&mut chain, &net, &n, ("n1", "n1"), 100).await;
    assert_eq!(
        (e.stable_since, e.rate_parts.stability, e.effective_rate),
        (late, Ppm(0), Ppm(120_000))
    );
    // Suppressed reports do not extend a streak either.
    let mut suppressed = bandwidth(101, GB, 1_000_000, 1_000_000, 1_000_000);
    suppressed.suppressed = true;
    chain.warp_to(late + DAY).await;
    let ix = net
        .bandwidth_ix(&mut chain, &n.pubkey(), Some(("n1", "n1")), suppressed)
        .await;
    net.as_oracle(&mut chain, &[ix]).await.expect("suppressed");
    chain.warp_to(late + 2 * DAY).await;
    let e = report(&mut chain, &net, &n, ("n1", "n1"), 102).await;
    assert_eq!(
        e.stable_since,
        late + 2 * DAY,
        "48 h since the last valid report"
    );
}

#[tokio::test]
async fn growth_bonus_by_active_referrals_across_epochs() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset_with(&mut chain, "aether", no_early_bonuses).await;
    let referrer = net.join(&mut chain, USER, &[]).await;
    let mut growth = Vec::new();
    let mut nodes = Vec::new();
    for i in 1..=101u32 {
        let name = format!("n{i}");
        let n = node(&mut chain, &net, &[&referrer], &name).await;
        let e = report(&mut chain, &net, &n, (&name, &name), 1).await;
        assert_eq!(e.active_referrals, i, "this report included");
        growth.push(e.rate_parts.growth);
        nodes.push((n, name));
    }
    for (active, bonus) in [
        (5, 0),
        (6, 10_000),
        (20, 10_000),
        (21, 20_000),
        (50, 20_000),
        (51, 30_000),
        (100, 30_000),
        (101, 50_000),
    ] {
        assert_eq!(growth[active - 1], Ppm(bonus), "{active} active referrals");
    }
    // A second report in the same epoch does not count the node twice.
    let (n1, name1) = &nodes[0];
    let e = report(&mut chain, &net, n1, (name1, name1), 2).await;
    assert_eq!(
        (e.active_referrals, e.rate_parts.growth, e.effective_rate),
        (101, Ppm(50_000), Ppm(170_000))
    );
    // Next epoch: 1 active now, 101 in the previous epoch: the larger counts.
    let epoch = 7 * DAY;
    let next_epoch = (chain.now / epoch + 1) * epoch;
    chain.warp_to(next_epoch).await;
    let e = report(&mut chain, &net, n1, (name1, name1), 3).await;
    assert_eq!(
        (e.active_referrals, e.rate_parts.growth),
        (101, Ppm(50_000))
    );
    // Two epochs later only this epoch's count is left.
    chain.warp_to(next_epoch + 2 * epoch).await;
    let e = report(&mut chain, &net, n1, (name1, name1), 4).await;
    assert_eq!((e.active_referrals, e.rate_parts.growth), (1, Ppm(0)));
}

#[tokio::test]
async fn early_node_and_early_member_bonuses() {
    let mut chain = Chain::start().await;
    // The preset: first 10 referees in the first 180 days, first 1000 members.
    let net = TestNetwork::from_preset(&mut chain, "aether").await;
    let referrer = net.join(&mut chain, USER, &[]).await;
    let mut parts = Vec::new();
    for i in 1..=11 {
        let name = format!("n{i}");
        let n = node(&mut chain, &net, &[&referrer], &name).await;
        parts.push(
            report(&mut chain, &net, &n, (&name, &name), 1)
                .await
                .rate_parts,
        );
    }
    assert_eq!(
        (parts[9].early_node, parts[9].early_member),
        (Ppm(30_000), Ppm(20_000)),
        "10th referee"
    );
    assert_eq!(
        (parts[10].early_node, parts[10].early_member),
        (Ppm(0), Ppm(20_000)),
        "11th referee"
    );
    // A referrer linked after the 180-day growth phase gets no early node bonus.
    let later = net.join(&mut chain, USER, &[]).await;
    chain.warp_to(chain.now + 180 * DAY).await;
    let n = node(&mut chain, &net, &[&later], "late").await;
    let e = report(&mut chain, &net, &n, ("late", "late"), 1).await;
    assert_eq!(
        (e.rate_parts.early_node, e.effective_rate),
        (Ppm(0), Ppm(140_000)),
        "12% + 2% early member"
    );

    // A referrer that is not among the first members gets no early member bonus,
    // and that is "fixed at the account level": making the first 1000 members
    // early after `second` joined changes nothing for it.
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset_with(&mut chain, "aether", |p| {
        p.early_bonus
            .as_mut()
            .expect("early bonus")
            .early_member_limit = 1;
    })
    .await;
    let first = net.join(&mut chain, USER, &[]).await;
    let second = net.join(&mut chain, USER, &[]).await;
    let mut tables = net.state(&mut chain).await.tables;
    tables.early_bonus.early_member_limit = 1_000;
    let admin = net.admin.pubkey();
    chain
        .send(
            &[upline_sdk::ix::update_tables(&admin, &net.key, tables)],
            &[&net.admin],
        )
        .await
        .expect("update tables");
    let a = node(&mut chain, &net, &[&first], "a").await;
    let b = node(&mut chain, &net, &[&second], "b").await;
    let ea = report(&mut chain, &net, &a, ("a", "a"), 1).await;
    let eb = report(&mut chain, &net, &b, ("b", "b"), 1).await;
    assert_eq!(
        (ea.rate_parts.early_member, ea.effective_rate),
        (Ppm(20_000), Ppm(170_000))
    );
    assert_eq!(
        (eb.rate_parts.early_member, eb.effective_rate),
        (Ppm(0), Ppm(150_000))
    );
    // Members who joined after the update are early under it.
    let node_a = net.member_state(&mut chain, &a.pubkey()).await;
    assert!(node_a.flags.has(upline::state::MemberFlags::EARLY_MEMBER));
}

/// DESIGN.md §4.4: "the first 10 referred *nodes*": users a member refers
/// do not use up its early-node slots.
#[tokio::test]
async fn referred_users_do_not_use_early_node_slots() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "aether").await;
    let referrer = net.join(&mut chain, USER, &[]).await;
    let mut users = Vec::new();
    for _ in 0..5 {
        users.push(net.join(&mut chain, USER, &[&referrer]).await);
    }
    // Its first five referees, linked in the growth phase, are users: not early nodes.
    for user in &users {
        let state = net.member_state(&mut chain, &user.pubkey()).await;
        assert!(!state.flags.has(MemberFlags::EARLY_REFEREE));
    }
    let mut parts = Vec::new();
    for i in 1..=11 {
        let name = format!("n{i}");
        let n = node(&mut chain, &net, &[&referrer], &name).await;
        parts.push(
            report(&mut chain, &net, &n, (&name, &name), 1)
                .await
                .rate_parts,
        );
    }
    assert_eq!(parts[9].early_node, Ppm(30_000), "10th node, 15th referee");
    assert_eq!(parts[10].early_node, Ppm(0), "11th node");
    let state = net.member_state(&mut chain, &referrer.pubkey()).await;
    assert_eq!((state.downline[0], state.early_class_referees), (16, 11));
}

#[tokio::test]
async fn the_22_percent_cap_comes_before_early_bonuses() {
    let mut chain = Chain::start().await;
    // Base 20% and +5% at one active referral make 25%, above the 22% cap.
    let net = TestNetwork::from_preset_with(&mut chain, "aether", |p| {
        let bw = p
            .rewards
            .as_mut()
            .and_then(|r| r.bandwidth.as_mut())
            .expect("bandwidth");
        bw.base_rate = "0.2".into();
        bw.growth[0].active = 1;
        bw.growth[0].bonus = "0.05".into();
    })
    .await;
    let referrer = net.join(&mut chain, USER, &[]).await;
    let n = node(&mut chain, &net, &[&referrer], "n1").await;
    let e = report(&mut chain, &net, &n, ("n1", "n1"), 1).await;
    assert_eq!(
        (e.rate_parts.base, e.rate_parts.growth),
        (Ppm(200_000), Ppm(50_000))
    );
    assert_eq!(
        e.effective_rate,
        Ppm(270_000),
        "min(25%, 22%) + 3% early node + 2% early member"
    );
    assert_eq!(paid(&e), wad("0.27"));
}

#[tokio::test]
async fn subnet_weights_one_half_third_and_zero() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset_with(&mut chain, "aether", no_early_bonuses).await;
    let referrer = net.join(&mut chain, USER, &[]).await;
    let mut expected = Vec::new();
    let mut nodes = Vec::new();
    for (i, share) in ["0.12", "0.06", "0.04", "0"].iter().enumerate() {
        let name = format!("n{i}");
        nodes.push((
            node_in(&mut chain, &net, &[&referrer], &name, "shared").await,
            name,
        ));
        expected.push(wad(share));
    }
    for (i, (n, name)) in nodes.iter().enumerate() {
        let e = report(&mut chain, &net, n, (name, "shared"), 1).await;
        assert_eq!(e.subnet_nodes, 4);
        assert_eq!(
            paid(&e),
            Wad::ZERO,
            "with 4 nodes in the subnet nobody earns ({i})"
        );
    }
    // Weights as the subnet fills: a fresh network, reporting after each attestation.
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset_with(&mut chain, "aether", no_early_bonuses).await;
    let referrer = net.join(&mut chain, USER, &[]).await;
    for (i, share) in expected.iter().enumerate() {
        let name = format!("n{i}");
        let n = node_in(&mut chain, &net, &[&referrer], &name, "shared").await;
        let e = report(&mut chain, &net, &n, (&name, "shared"), 1).await;
        assert_eq!(
            (e.subnet_nodes, paid(&e)),
            (i as u32 + 1, *share),
            "{} nodes",
            i + 1
        );
    }
}

#[tokio::test]
async fn suppression_ranges_and_attestation_refusals() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "aether").await;
    let user = net.join(&mut chain, USER, &[]).await;
    let n = node(&mut chain, &net, &[&user], "n1").await;
    let watched = [net.member(&user.pubkey()), net.member(&n.pubkey())];
    let oracle = net.oracle.insecure_clone();

    // Suppressed: recorded (the id is used), pays nobody.
    let mut args = bandwidth(1, GB, 1_000_000, 1_000_000, 1_000_000);
    args.suppressed = true;
    let ix = net
        .bandwidth_ix(&mut chain, &n.pubkey(), Some(("n1", "n1")), args)
        .await;
    let events = net
        .as_oracle(&mut chain, std::slice::from_ref(&ix))
        .await
        .expect("suppressed");
    assert!(
        matches!(&events[..], [UplineEvent::BandwidthReported(e)] if e.suppressed && e.node_reward == Wad::ZERO && e.referral.is_none())
    );
    assert_eq!(
        net.member_state(&mut chain, &n.pubkey()).await.ledgers[0].credited(),
        Ok(Wad::ZERO)
    );
    chain
        .expect_refusal(&[ix], &[&oracle], UplineError::StaleReport, &watched)
        .await;

    // Q and S in [0, 1], DDM in [1.0, 1.5].
    for (q, s, d, error) in [
        (
            1_000_001,
            1_000_000,
            1_000_000,
            UplineError::InvalidCoefficient,
        ),
        (
            1_000_000,
            1_000_001,
            1_000_000,
            UplineError::InvalidCoefficient,
        ),
        (
            1_000_000,
            1_000_000,
            999_999,
            UplineError::InvalidDemandMultiplier,
        ),
        (
            1_000_000,
            1_000_000,
            1_500_001,
            UplineError::InvalidDemandMultiplier,
        ),
    ] {
        let ix = net
            .bandwidth_ix(
                &mut chain,
                &n.pubkey(),
                Some(("n1", "n1")),
                bandwidth(2, GB, q, s, d),
            )
            .await;
        chain
            .expect_refusal(&[ix], &[&oracle], error, &watched)
            .await;
    }
    let edge = net
        .bandwidth_ix(
            &mut chain,
            &n.pubkey(),
            Some(("n1", "n1")),
            bandwidth(2, GB, 0, 1_000_000, 1_500_000),
        )
        .await;
    net.as_oracle(&mut chain, &[edge])
        .await
        .expect("Q = 0 and DDM = 1.5 are in range");

    // A second node with the same fingerprint; the same node attested twice; a user as node.
    let twin = net.join(&mut chain, NODE, &[&user]).await;
    let dup = net.attest_node_ix(&twin.pubkey(), "n1", "elsewhere");
    chain
        .expect_refusal(
            &[dup],
            &[&oracle],
            UplineError::DuplicateDevice,
            &[net.member(&twin.pubkey())],
        )
        .await;
    let again = net.attest_node_ix(&n.pubkey(), "n1-new", "n1");
    chain
        .expect_refusal(&[again], &[&oracle], UplineError::AlreadyAttested, &watched)
        .await;
    let as_node = net.attest_node_ix(&user.pubkey(), "u1", "u1");
    chain
        .expect_refusal(&[as_node], &[&oracle], UplineError::WrongClass, &watched)
        .await;
    // The unattested twin cannot report, with or without someone else's device.
    let unattested = net
        .bandwidth_ix(
            &mut chain,
            &twin.pubkey(),
            None,
            bandwidth(1, GB, 1_000_000, 1_000_000, 1_000_000),
        )
        .await;
    chain
        .expect_refusal(
            &[unattested],
            &[&oracle],
            UplineError::UnattestedNode,
            &watched,
        )
        .await;
    let borrowed = net
        .bandwidth_ix(
            &mut chain,
            &twin.pubkey(),
            Some(("n1", "n1")),
            bandwidth(1, GB, 1_000_000, 1_000_000, 1_000_000),
        )
        .await;
    chain
        .expect_failure(&[borrowed], &[&oracle], &watched)
        .await;
    // A device attested by a non-oracle.
    let impostor = chain.wallet().await;
    let mut forged = net.attest_node_ix(&twin.pubkey(), "t1", "t1");
    forged.accounts[0].pubkey = impostor.pubkey();
    forged.accounts[4].pubkey = impostor.pubkey();
    chain
        .expect_refusal(
            &[forged],
            &[&impostor],
            UplineError::NotOracle,
            &[net.member(&twin.pubkey())],
        )
        .await;
}
