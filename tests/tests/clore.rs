//! Clore on program-test: rental commissions on both sides, tiers, promotions,
//! per-currency ledgers and minimum withdrawals.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::instructions::RentalReportArgs;
use upline::math::{Ppm, Wad};
use upline::state::CommissionTier;
use upline_sdk::events::UplineEvent;
use upline_sdk::ix::{self, TokenDestination};
use upline_tests::checks::assert_accounting;
use upline_tests::reports::{WorkedAt, WORKED_NOW};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

const CLORE: u64 = 100_000_000;
const LEDGER_CLORE: u8 = 0;
const LEDGER_BTC: u8 = 1;

fn wad(text: &str) -> Wad {
    Wad::from_decimal_str(text).expect("amount")
}

/// 100 CLORE/day with a 10% fee split 5/5, no PoH discount, worked now.
fn rental(id: u64, ledger: u8) -> RentalReportArgs {
    RentalReportArgs {
        id,
        work_time: WORKED_NOW,
        ledger,
        renter_base_fee: 5 * CLORE,
        renter_extra_fee: 0,
        host_base_fee: 5 * CLORE,
        host_extra_fee: 0,
    }
}

fn level1(m: &upline::state::Member, ledger: u8) -> Wad {
    m.ledgers[usize::from(ledger)].level1
}

/// `wallet`'s level-1 commissions on the CLORE ledger.
async fn clore_level1(net: &TestNetwork, chain: &mut Chain, wallet: &Pubkey) -> Wad {
    level1(&net.member_state(chain, wallet).await, LEDGER_CLORE)
}

/// Report a rental between `renter` and `host` and expect it recorded; its events.
async fn rent(
    net: &TestNetwork,
    chain: &mut Chain,
    renter: &Pubkey,
    host: &Pubkey,
    args: RentalReportArgs,
) -> Vec<UplineEvent> {
    let ix = net.rental_ix(chain, renter, host, args).await;
    net.as_oracle(chain, &[ix]).await.expect("rental recorded")
}

#[tokio::test]
async fn both_sides_earn_at_tier_and_promotion_rates() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "clore").await;
    let a = net.join(&mut chain, 0, &[]).await; // refers the renter
    let b = net.join(&mut chain, 0, &[]).await; // refers the host
    let both = net.join(&mut chain, 0, &[]).await; // refers both sides of another rental
    let renter = net.join(&mut chain, 0, &[&a]).await;
    let host = net.join(&mut chain, 0, &[&b]).await;
    let renter2 = net.join(&mut chain, 0, &[&both]).await;
    let host2 = net.join(&mut chain, 0, &[&both]).await;

    let events = rent(
        &net,
        &mut chain,
        &renter.pubkey(),
        &host.pubkey(),
        rental(1, LEDGER_CLORE),
    )
    .await;
    match &events[..] {
        [UplineEvent::RentalReported(e)] => {
            assert!(!e.promotion);
            let renter_side = e.renter_commission.expect("renter's referrer");
            let host_side = e.host_commission.expect("host's referrer");
            assert_eq!(
                (renter_side.member, renter_side.rate, renter_side.amount),
                (net.member(&a.pubkey()), Ppm(150_000), wad("0.75"))
            );
            assert_eq!(
                (host_side.member, host_side.amount),
                (net.member(&b.pubkey()), wad("0.75"))
            );
            assert_eq!(
                (e.renter, e.host),
                (net.member(&renter.pubkey()), net.member(&host.pubkey()))
            );
        }
        other => panic!("unexpected events {other:?}"),
    }
    rent(
        &net,
        &mut chain,
        &renter2.pubkey(),
        &host2.pubkey(),
        rental(1, LEDGER_CLORE),
    )
    .await;
    assert_eq!(
        clore_level1(&net, &mut chain, &both.pubkey()).await,
        wad("1.5"),
        "both sides"
    );
    // The renter and host themselves earn nothing.
    let m = net.member_state(&mut chain, &renter.pubkey()).await;
    assert_eq!(m.ledgers[0].credited(), Ok(Wad::ZERO));

    // Premium and VIP tiers.
    let admin = net.admin.pubkey();
    chain
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
    chain
        .send(
            &[ix::set_member_tier(
                &admin,
                &net.key,
                &net.member(&b.pubkey()),
                CommissionTier::Vip,
            )],
            &[&net.admin],
        )
        .await
        .expect("tier");
    rent(
        &net,
        &mut chain,
        &renter.pubkey(),
        &host.pubkey(),
        rental(2, LEDGER_CLORE),
    )
    .await;
    assert_eq!(
        clore_level1(&net, &mut chain, &a.pubkey()).await,
        wad("1.75"),
        "0.75 + 5 × 20%"
    );
    assert_eq!(
        clore_level1(&net, &mut chain, &b.pubkey()).await,
        wad("2.25"),
        "0.75 + 5 × 30%"
    );

    // During the promotion everyone earns 50%, whatever the tier; on the end second it is over.
    let now = chain.now;
    chain
        .send(
            &[ix::open_promotion(
                &admin,
                &net.key,
                Ppm(500_000),
                now,
                now + 86_400,
            )],
            &[&net.admin],
        )
        .await
        .expect("promo");
    let events = rent(
        &net,
        &mut chain,
        &renter2.pubkey(),
        &host2.pubkey(),
        rental(2, LEDGER_CLORE),
    )
    .await;
    assert!(matches!(&events[0], UplineEvent::RentalReported(e) if e.promotion));
    assert_eq!(
        clore_level1(&net, &mut chain, &both.pubkey()).await,
        wad("6.5"),
        "1.5 + 2.5 + 2.5"
    );
    rent(
        &net,
        &mut chain,
        &renter.pubkey(),
        &host.pubkey(),
        rental(3, LEDGER_CLORE),
    )
    .await;
    assert_eq!(
        clore_level1(&net, &mut chain, &b.pubkey()).await,
        wad("4.75"),
        "VIP earns 50% too"
    );
    chain.warp_to(now + 86_400).await;
    rent(
        &net,
        &mut chain,
        &renter.pubkey(),
        &host.pubkey(),
        rental(4, LEDGER_CLORE),
    )
    .await;
    assert_eq!(
        clore_level1(&net, &mut chain, &b.pubkey()).await,
        wad("6.25"),
        "back to 30%"
    );

    // Each currency is its own ledger: a BTC rental touches only BTC balances.
    let btc = RentalReportArgs {
        id: 5,
        work_time: WORKED_NOW,
        ledger: LEDGER_BTC,
        renter_base_fee: 10_000,
        renter_extra_fee: 2_000,
        host_base_fee: 0,
        host_extra_fee: 0,
    };
    rent(&net, &mut chain, &renter.pubkey(), &host.pubkey(), btc).await;
    let m = net.member_state(&mut chain, &a.pubkey()).await;
    assert_eq!(
        (level1(&m, LEDGER_BTC), level1(&m, LEDGER_CLORE)),
        (wad("0.000024"), wad("5.25"))
    );

    let all: Vec<Pubkey> = [&a, &b, &both, &renter, &host, &renter2, &host2]
        .iter()
        .map(|k| k.pubkey())
        .collect();
    // CLORE: a 0.75 + 1 + 2.5 + 1, b 0.75 + 1.5 + 2.5 + 1.5, both 1.5 + 5.
    assert_accounting(&mut chain, &net, &all, &[wad("18"), wad("0.000024")]).await;

    // Minimum withdrawals per currency: 5 CLORE, 0.0005 BTC.
    net.fund(&mut chain, LEDGER_CLORE, 100 * CLORE).await;
    net.fund(&mut chain, LEDGER_BTC, 100_000).await;
    let clore_mint = net.ledgers[0].mint();
    let btc_mint = net.ledgers[1].mint();
    let clore_to = chain.token_account(clore_mint, &a.pubkey()).await;
    let btc_to = chain.token_account(btc_mint, &a.pubkey()).await;
    let clore_dest = TokenDestination {
        mint: clore_mint.address,
        destination: clore_to,
        token_program: clore_mint.token_program,
    };
    let btc_dest = TokenDestination {
        mint: btc_mint.address,
        destination: btc_to,
        token_program: btc_mint.token_program,
    };
    let watched = [net.member(&a.pubkey())];
    let below = ix::withdraw(
        &a.pubkey(),
        &net.key,
        0,
        LEDGER_CLORE,
        Some(&clore_dest),
        Some(5 * CLORE - 1),
    );
    chain
        .expect_refusal(&[below], &[&a], UplineError::BelowMinimum, &watched)
        .await;
    let btc_all = ix::withdraw(&a.pubkey(), &net.key, 0, LEDGER_BTC, Some(&btc_dest), None);
    chain
        .expect_refusal(&[btc_all], &[&a], UplineError::BelowMinimum, &watched)
        .await;
    let clore_all = ix::withdraw(
        &a.pubkey(),
        &net.key,
        0,
        LEDGER_CLORE,
        Some(&clore_dest),
        None,
    );
    chain
        .send(&[clore_all], &[&a])
        .await
        .expect("withdraw 5.25 CLORE");
    assert_eq!(chain.token_balance(&clore_to).await, 525_000_000);
    assert_accounting(&mut chain, &net, &all, &[wad("18"), wad("0.000024")]).await;
}

#[tokio::test]
async fn one_account_in_several_roles_is_credited_once_per_role() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "clore").await;
    let top = net.join(&mut chain, 0, &[]).await;
    let host = net.join(&mut chain, 0, &[&top]).await;
    let renter = net.join(&mut chain, 0, &[&host, &top]).await; // the host referred the renter
    rent(
        &net,
        &mut chain,
        &renter.pubkey(),
        &host.pubkey(),
        rental(1, LEDGER_CLORE),
    )
    .await;
    assert_eq!(
        clore_level1(&net, &mut chain, &host.pubkey()).await,
        wad("0.75"),
        "renter side"
    );
    assert_eq!(
        clore_level1(&net, &mut chain, &top.pubkey()).await,
        wad("0.75"),
        "host side"
    );
    // A host renting its own machine: both sides' referrer is the same account, paid twice.
    rent(
        &net,
        &mut chain,
        &host.pubkey(),
        &host.pubkey(),
        rental(1, LEDGER_CLORE),
    )
    .await;
    assert_eq!(
        clore_level1(&net, &mut chain, &top.pubkey()).await,
        wad("2.25")
    );
    assert_eq!(
        net.member_state(&mut chain, &host.pubkey())
            .await
            .last_report_id,
        1
    );
    let all = [top.pubkey(), host.pubkey(), renter.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[wad("3"), Wad::ZERO]).await;
}

#[tokio::test]
async fn rental_refusals_change_nothing() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "clore").await;
    let a = net.join(&mut chain, 0, &[]).await;
    let renter = net.join(&mut chain, 0, &[&a]).await;
    let host = net.join(&mut chain, 0, &[]).await;
    let watched = [
        net.member(&a.pubkey()),
        net.member(&renter.pubkey()),
        net.member(&host.pubkey()),
    ];
    let oracle = net.oracle.insecure_clone();
    let parties = ix::RentalParties {
        renter: net.member(&renter.pubkey()),
        host: net.member(&host.pubkey()),
        renter_referrer: Some(net.member(&a.pubkey())),
        host_referrer: None,
    };
    let now = chain.now;
    let report = |args: RentalReportArgs| {
        ix::report_rental(&oracle.pubkey(), &net.key, &parties, args.worked_at(now))
    };

    net.as_oracle(&mut chain, &[report(rental(9, LEDGER_CLORE))])
        .await
        .expect("first");
    chain
        .expect_refusal(
            &[report(rental(9, LEDGER_CLORE))],
            &[&oracle],
            UplineError::StaleReport,
            &watched,
        )
        .await;
    // The renter's referrer left out, or a referrer passed for a host that has none.
    let mut missing = parties;
    missing.renter_referrer = None;
    let ix = ix::report_rental(
        &oracle.pubkey(),
        &net.key,
        &missing,
        rental(10, LEDGER_CLORE).worked_at(now),
    );
    chain
        .expect_refusal(&[ix], &[&oracle], UplineError::UplineMismatch, &watched)
        .await;
    let mut extra = parties;
    extra.host_referrer = Some(net.member(&a.pubkey()));
    let rental10 = rental(10, LEDGER_CLORE).worked_at(now);
    let ix = ix::report_rental(&oracle.pubkey(), &net.key, &extra, rental10);
    chain
        .expect_refusal(&[ix], &[&oracle], UplineError::UplineMismatch, &watched)
        .await;
    // A ledger the network does not have; the BTC ledger account for a CLORE report.
    let ix = report(rental(10, 7));
    chain.expect_failure(&[ix], &[&oracle], &watched).await;
    let mut swapped = report(rental(10, LEDGER_CLORE));
    swapped.accounts[4].pubkey = net.ledgers[1].address;
    chain
        .expect_refusal(
            &[swapped],
            &[&oracle],
            UplineError::LedgerMismatch,
            &watched,
        )
        .await;
    // Compute reports are not part of Clore.
    let model = upline_tests::reports::model("llama3-70b");
    let compute =
        upline_tests::reports::compute(11, upline::state::Service::Chat, 1, 1).worked_at(now);
    let ix = ix::report_compute(
        &oracle.pubkey(),
        &net.key,
        &net.member(&renter.pubkey()),
        &model,
        &[net.member(&a.pubkey())],
        compute,
    );
    chain.expect_failure(&[ix], &[&oracle], &watched).await;
}
