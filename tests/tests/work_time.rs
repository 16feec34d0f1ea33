//! Work time (DESIGN.md §5): a report carries when the work happened, within
//! the network's maximum report age of the clock (default 7 days) and never
//! before the member's last; refusals in §8's order; and rewards follow the
//! work time: Clore's promotion, Aether's stability streak, the 30-day history.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::constants::DEFAULT_MAX_REPORT_AGE;
use upline::errors::UplineError;
use upline::events::BandwidthReported;
use upline::instructions::RentalReportArgs;
use upline::math::{Ppm, Wad};
use upline::state::{Endpoint, Service};
use upline_sdk::events::UplineEvent;
use upline_sdk::ix;
use upline_sdk::preset::Preset;
use upline_tests::checks::assert_accounting;
use upline_tests::reports::{bandwidth, compute, usage, WorkedAt};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

const USER: u8 = 0;
const PROVIDER: u8 = 1;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
const CLORE: u64 = 100_000_000;

fn wad(text: &str) -> Wad {
    Wad::from_decimal_str(text).expect("amount")
}

#[tokio::test]
async fn work_times_must_be_recent_past_and_never_go_back() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let tables = net.state(&mut chain).await.tables;
    assert_eq!(tables.max_report_age_seconds, DEFAULT_MAX_REPORT_AGE);
    assert_eq!(DEFAULT_MAX_REPORT_AGE, 7 * DAY);
    let user = net.join(&mut chain, USER, &[]).await;
    let member = net.member(&user.pubkey());
    let oracle = net.oracle.insecure_clone();
    let now = chain.now;
    let cases = [
        // (id, work time, refusal or None for accepted)
        (1, now - 7 * DAY - 1, Some(UplineError::ReportTooOld)),
        (1, now - 7 * DAY, None), // exactly the maximum age
        (2, now - 3 * DAY, None),
        (3, now - 3 * DAY - 1, Some(UplineError::StaleReport)), // before the last
        (3, now - 3 * DAY, None),                               // equal is fine
        (4, now + 1, Some(UplineError::ReportInFuture)),
        (4, now, None),
    ];
    for (id, work_time, refusal) in cases {
        let args = usage(id, Endpoint::Chat, 1000).worked_at(work_time);
        let report = net.usage_ix(&mut chain, &user.pubkey(), args).await;
        match refusal {
            Some(error) => {
                chain
                    .expect_refusal(&[report], &[&oracle], error, &[member])
                    .await
            }
            None => {
                let events = net.as_oracle(&mut chain, &[report]).await.expect("report");
                assert!(
                    matches!(&events[0], UplineEvent::UsageReported(e) if (e.id, e.work_time, e.at) == (id, work_time, now)),
                    "{events:?}"
                );
            }
        }
    }
    let state = net.member_state(&mut chain, &user.pubkey()).await;
    assert_eq!((state.last_report_id, state.last_work_time), (4, now));
    assert_eq!(state.ledgers[1].own, wad("8"), "four reports of 2 points");
}

/// Where several refusals apply, the first in DESIGN.md §8's order. A work
/// time cannot be both in the future and too old, so that pair never arises.
#[tokio::test]
async fn refusals_follow_the_documented_order() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let user = net.join(&mut chain, USER, &[]).await;
    let tide = net.join(&mut chain, PROVIDER, &[]).await;
    net.attest_provider(&mut chain, &tide.pubkey(), 4).await;
    let stranger = chain.wallet().await;
    let watched = [net.member(&user.pubkey()), net.member(&tide.pubkey())];
    let oracle = net.oracle.insecure_clone();
    let now = chain.now;
    let first = net
        .usage_ix(&mut chain, &user.pubkey(), usage(5, Endpoint::Chat, 10))
        .await;
    net.as_oracle(&mut chain, &[first]).await.expect("first");
    let later = now + DAY;
    chain.warp_to(later).await;
    let stranger_m = net.member_in(&stranger.pubkey(), USER);
    let (u, t) = (watched[0], watched[1]);
    let used = |id: u64, time: i64| usage(id, Endpoint::Chat, 10).worked_at(time);
    let llama = |time: i64| compute(1, Service::Chat, 10, 5_000).worked_at(time);
    let (future, too_old) = (later + 1, later - 8 * DAY);
    let cases = [
        // A non-member, with a future work time: UnknownMember first.
        (
            net.usage_ix_at(&mut chain, &stranger_m, used(1, future))
                .await,
            UplineError::UnknownMember,
        ),
        // A provider in a usage report, with a future work time: WrongClass.
        (
            net.usage_ix_at(&mut chain, &t, used(1, future)).await,
            UplineError::WrongClass,
        ),
        // A stale id and a future work time: StaleReport (the id).
        (
            net.usage_ix_at(&mut chain, &u, used(5, future)).await,
            UplineError::StaleReport,
        ),
        // A stale id and a work time too old: StaleReport (the id).
        (
            net.usage_ix_at(&mut chain, &u, used(4, too_old)).await,
            UplineError::StaleReport,
        ),
        // Too old and before the last work time: ReportTooOld.
        (
            net.usage_ix_at(&mut chain, &u, used(6, too_old)).await,
            UplineError::ReportTooOld,
        ),
        // A model above the provider's tier, worked in the future: ReportInFuture,
        // and too old: ReportTooOld, both before TierTooLow.
        (
            net.compute_ix_at(&mut chain, &t, "llama3-70b", llama(future))
                .await,
            UplineError::ReportInFuture,
        ),
        (
            net.compute_ix_at(&mut chain, &t, "llama3-70b", llama(too_old))
                .await,
            UplineError::ReportTooOld,
        ),
    ];
    for (report, error) in cases {
        chain
            .expect_refusal(&[report], &[&oracle], error, &watched)
            .await;
    }
    let state = net.member_state(&mut chain, &user.pubkey()).await;
    assert_eq!((state.last_report_id, state.last_work_time), (5, now));
}

/// Clore: "rentals made during the promotion" earn its 50% whenever the report
/// lands; a rental worked after the window (closed early by the admin) pays
/// the referrer's tier rate, even in the same late batch.
#[tokio::test]
async fn a_rental_worked_in_the_promotion_and_reported_after_it_pays_50_percent() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "clore").await;
    let a = net.join(&mut chain, 0, &[]).await;
    let b = net.join(&mut chain, 0, &[]).await;
    let renter = net.join(&mut chain, 0, &[&a]).await;
    let host = net.join(&mut chain, 0, &[&b]).await;
    let admin = net.admin.pubkey();
    let t0 = chain.now;
    let open = ix::open_promotion(&admin, &net.key, Ppm(500_000), t0, t0 + DAY);
    chain.send(&[open], &[&net.admin]).await.expect("open");
    chain.warp_to(t0 + 18 * HOUR).await;
    let close = ix::close_promotion(&admin, &net.key);
    chain.send(&[close], &[&net.admin]).await.expect("close");
    let window = net.state(&mut chain).await.promotion;
    assert_eq!((window.start, window.end), (t0, t0 + 18 * HOUR));

    // Both land after the window, in one batch.
    let landed = t0 + DAY + 2 * HOUR;
    chain.warp_to(landed).await;
    let rental = |id: u64, work_time: i64| RentalReportArgs {
        id,
        work_time,
        ledger: 0,
        renter_base_fee: 5 * CLORE,
        renter_extra_fee: 0,
        host_base_fee: 5 * CLORE,
        host_extra_fee: 0,
    };
    let (renter_w, host_w) = (renter.pubkey(), host.pubkey());
    let during = net
        .rental_ix(&mut chain, &renter_w, &host_w, rental(1, t0 + 12 * HOUR))
        .await;
    let after = net
        .rental_ix(&mut chain, &renter_w, &host_w, rental(2, t0 + 20 * HOUR))
        .await;
    let events = net
        .as_oracle(&mut chain, &[during, after])
        .await
        .expect("late batch");
    let sides: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            UplineEvent::RentalReported(r) => Some((
                r.promotion,
                r.work_time,
                r.at,
                r.renter_commission.map(|c| (c.rate, c.amount)),
                r.host_commission.map(|c| (c.rate, c.amount)),
            )),
            _ => None,
        })
        .collect();
    let half = Some((Ppm(500_000), wad("2.5")));
    let standard = Some((Ppm(150_000), wad("0.75")));
    assert_eq!(
        sides,
        [
            (true, t0 + 12 * HOUR, landed, half, half),
            (false, t0 + 20 * HOUR, landed, standard, standard),
        ]
    );
    for referrer in [&a, &b] {
        let state = net.member_state(&mut chain, &referrer.pubkey()).await;
        assert_eq!(state.ledgers[0].level1, wad("3.25"), "2.5 + 0.75");
    }
    let all = [a.pubkey(), b.pubkey(), renter_w, host_w];
    assert_accounting(&mut chain, &net, &all, &[wad("6.5"), Wad::ZERO]).await;
}

/// Land one batch of 1 GB reports (node reward 1 AETH), each (node index,
/// id, work time) about `nodes` (a node and its device label); the events.
async fn land(
    chain: &mut Chain,
    net: &TestNetwork,
    nodes: &[(Keypair, &str)],
    reports: &[(usize, u64, i64)],
) -> Vec<BandwidthReported> {
    let mut batch = Vec::new();
    for &(n, id, work_time) in reports {
        let (node, name) = &nodes[n];
        let args = bandwidth(id, 1_000_000_000, 1_000_000, 1_000_000, 1_000_000);
        let args = args.worked_at(work_time);
        let device = Some((*name, *name));
        batch.push(net.bandwidth_ix(chain, &node.pubkey(), device, args).await);
    }
    let events = net.as_oracle(chain, &batch).await.expect("reports");
    events
        .into_iter()
        .filter_map(|e| match e {
            UplineEvent::BandwidthReported(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// Aether: the streak and its 24-hour gap are in work time. An oracle outage
/// of 30 hours (reports landing late, in one batch) keeps a streak whose work
/// times have no gap over 24 hours, and breaks one with a 25-hour gap.
#[tokio::test]
async fn a_stability_streak_survives_an_oracle_outage_but_not_a_gap_in_the_work() {
    let mut chain = Chain::start().await;
    let no_early = |p: &mut Preset| p.early_bonus = None;
    let net = TestNetwork::from_preset_with(&mut chain, "aether", no_early).await;
    let referrer = net.join(&mut chain, 0, &[]).await;
    let mut nodes = Vec::new();
    for name in ["steady", "gappy"] {
        let node = net.join(&mut chain, 1, &[&referrer]).await;
        let attest = net.attest_node_ix(&node.pubkey(), name, name);
        net.as_oracle(&mut chain, &[attest]).await.expect("attest");
        nodes.push((node, name));
    }
    let t0 = chain.now;
    let mut events = Vec::new();
    // Days 0 to 5, on time, for both.
    for day in 0..=5 {
        chain.warp_to(t0 + day * DAY).await;
        let id = day as u64 + 1;
        let reports = [(0, id, t0 + day * DAY), (1, id, t0 + day * DAY)];
        events.extend(land(&mut chain, &net, &nodes, &reports).await);
    }
    // The oracle is down for 30 hours; then one batch: the steady node worked
    // every 12 hours, the gappy one not for 25 hours.
    let batch_at = t0 + 6 * DAY + 6 * HOUR;
    chain.warp_to(batch_at).await;
    let late = [
        (0, 7, t0 + 5 * DAY + 12 * HOUR),
        (0, 8, t0 + 6 * DAY),
        (1, 7, t0 + 6 * DAY + HOUR),
    ];
    events.extend(land(&mut chain, &net, &nodes, &late).await);
    chain.warp_to(t0 + 7 * DAY).await;
    let on_time = [(0, 9, t0 + 7 * DAY), (1, 8, t0 + 7 * DAY)];
    events.extend(land(&mut chain, &net, &nodes, &on_time).await);

    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.id, e.work_time, e.at, e.stable_since))
        .collect();
    let (steady, gappy) = (
        net.member(&nodes[0].0.pubkey()),
        net.member(&nodes[1].0.pubkey()),
    );
    let of = |node: Pubkey| events.iter().filter(move |e| e.node == node);
    assert_eq!(of(steady).count(), 9);
    assert!(of(steady).all(|e| e.stable_since == t0), "{seen:?}");
    let last = of(steady).next_back().expect("reports");
    assert_eq!(
        (last.rate_parts.stability, last.effective_rate),
        (Ppm(20_000), Ppm(140_000)),
        "7 days of work: +2%"
    );
    assert_eq!(last.referral.map(|c| c.amount), Some(wad("0.14")));
    let gappy_late = of(gappy).nth(6).expect("the late report");
    assert_eq!(
        (gappy_late.work_time, gappy_late.at, gappy_late.stable_since),
        (t0 + 6 * DAY + HOUR, batch_at, t0 + 6 * DAY + HOUR),
        "a 25-hour gap restarts the streak"
    );
    let last = of(gappy).next_back().expect("reports");
    assert_eq!(
        (
            last.stable_since,
            last.rate_parts.stability,
            last.effective_rate
        ),
        (t0 + 6 * DAY + HOUR, Ppm(0), Ppm(120_000))
    );
    assert_eq!(last.referral.map(|c| c.amount), Some(wad("0.12")));
    // The referrer: 16 reports at 12% and one at 14% of 1 AETH.
    let state = net.member_state(&mut chain, &referrer.pubkey()).await;
    assert_eq!(state.ledgers[0].level1, wad("2.06"));
    let all = [referrer.pubkey(), nodes[0].0.pubkey(), nodes[1].0.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[wad("19.06")]).await;
}

/// The 30-day history charts work on the day it was done, however late it
/// is reported, in the earner's and its referrer's history.
#[tokio::test]
async fn the_30_day_history_puts_late_work_on_its_work_day() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let r = net.join(&mut chain, USER, &[]).await;
    let u = net.join(&mut chain, USER, &[&r]).await;
    chain.warp_to(chain.now + 10 * DAY).await;
    let now = chain.now;
    // The referrer's own work today moves its history to today first.
    let today = net
        .usage_ix(&mut chain, &r.pubkey(), usage(1, Endpoint::Chat, 1000))
        .await;
    let three_days_ago = usage(1, Endpoint::Chat, 1000).worked_at(now - 3 * DAY);
    let late = net.usage_ix(&mut chain, &u.pubkey(), three_days_ago).await;
    net.as_oracle(&mut chain, &[today, late])
        .await
        .expect("reports");
    let nano = |points: u64| points * 100_000_000; // tenths of a point
    let r_history = net
        .member_state(&mut chain, &r.pubkey())
        .await
        .history(1, now)
        .expect("history");
    assert_eq!(
        (r_history[29], r_history[26], r_history[19]),
        (nano(20), nano(3), nano(250)),
        "2 points today; 15% of 2 on the work day, 3 days ago; the link bonus 10 days ago"
    );
    let u_history = net
        .member_state(&mut chain, &u.pubkey())
        .await
        .history(1, now)
        .expect("history");
    assert_eq!((u_history[29], u_history[26]), (0, nano(20)));
    assert_eq!(r_history.iter().sum::<u64>(), nano(273));
    assert_eq!(u_history.iter().sum::<u64>(), nano(20));
}
