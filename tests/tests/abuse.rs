//! Referral-specific abuse the other suites do not already try (self-referral,
//! cycles, unsigned links, foreign referrers, mismatched chains, replays and
//! removed oracles are in `member`, `cxmpute`, `oracle` and `attacks`;
//! someone else's token account in `withdraw`): reviving a closed oracle
//! within one transaction, a member address off its canonical bump, and
//! draining a vault through rounding.
#![allow(deprecated)]

use anchor_lang::error::ErrorCode;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::math::Wad;
use upline::state::{BonusTrigger, Endpoint, Service};
use upline_sdk::ix;
use upline_sdk::pda;
use upline_tests::checks::assert_accounting;
use upline_tests::network::{class, tables, LedgerSetup};
use upline_tests::refusal::Refusal;
use upline_tests::reports::{compute, usage};
use upline_tests::tokens::TOKEN;
use upline_tests::{Chain, TestNetwork};
use upline_tests::{Expect, TxFailure};

/// `remove_oracle` closes the oracle's account. Sending lamports back to it in
/// the same transaction leaves a system-owned husk, not an oracle: the report
/// that follows (the third instruction) is refused with `NotOracle`, and the
/// whole transaction fails.
#[tokio::test]
async fn a_closed_oracle_cannot_be_revived_within_a_transaction() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let user = net.join(&mut chain, 0, &[]).await;
    let oracle = net.oracle.insecure_clone();
    let oracle_account = pda::oracle(&net.key, &oracle.pubkey());
    let remove = ix::remove_oracle(&net.admin.pubkey(), &net.key, &oracle.pubkey());
    let revive = solana_system_interface::instruction::transfer(
        &oracle.pubkey(),
        &oracle_account,
        10_000_000,
    );
    let report = net
        .usage_ix(&mut chain, &user.pubkey(), usage(1, Endpoint::Chat, 1_000))
        .await;
    let watched = [oracle_account, net.member(&user.pubkey()), net.key];
    let failure = chain
        .expect_failure(
            &[remove.clone(), revive, report.clone()],
            &[&net.admin, &oracle],
            &watched,
        )
        .await;
    assert_eq!(
        failure,
        TxFailure::Custom {
            instruction: 2,
            code: u32::from(UplineError::NotOracle)
        },
        "the report about the revived oracle is refused as from a non-oracle: {failure}"
    );
    // Removed for real, the oracle cannot report either.
    chain.send(&[remove], &[&net.admin]).await.expect("remove");
    chain
        .expect_refusal(&[report], &[&oracle], UplineError::NotOracle, &watched[1..])
        .await;
}

/// Many tiny credits with fractions below a base unit, then many one-unit
/// withdrawals and a final "all": every payout is whole base units, the sum
/// paid never exceeds what was credited, the fraction stays in the balance,
/// and the vault holds exactly funded - withdrawn.
#[tokio::test]
async fn rounding_cannot_drain_a_vault() {
    let mut chain = Chain::start().await;
    // A bonus of 0.0000013 TOK (1.3 base units) per referee, withdrawable from 1 base unit.
    let t = tables(
        &[class(
            "member",
            &[],
            Some(("0.0000013", 0, BonusTrigger::FirstWork)),
        )],
        false,
    );
    let ledgers = [LedgerSetup::Token {
        name: "TOK".into(),
        decimals: 6,
        min_withdrawal: 1,
        circuit_breaker: None,
        token_program: TOKEN,
    }];
    let net = TestNetwork::create(&mut chain, "rounding", t, &ledgers).await;
    net.enable_unpaid_work(&mut chain, 0, 0).await;
    net.fund(&mut chain, 0, 1_000).await;
    let earner = net.join(&mut chain, 0, &[]).await;
    let mut wallets = vec![earner.pubkey()];
    for _ in 0..15 {
        wallets.push(net.join_and_work(&mut chain, 0, &earner).await.pubkey());
    }
    // 15 × 1.3 = 19.5 base units credited.
    let to = chain
        .token_account(net.ledgers[0].mint(), &earner.pubkey())
        .await;
    let mut paid = 0;
    for _ in 0..19 {
        let one = net.withdraw_ix(0, &earner.pubkey(), &to, Some(1));
        chain.send(&[one], &[&earner]).await.expect("one base unit");
        paid += 1;
    }
    // Half a base unit is left: neither one unit nor "all" pays it out.
    let member = net.member(&earner.pubkey());
    for amount in [Some(1), None] {
        let ix = net.withdraw_ix(0, &earner.pubkey(), &to, amount);
        let failure = chain.expect_failure(&[ix], &[&earner], &[member]).await;
        assert!(
            failure.is(UplineError::InsufficientBalance) || failure.is(UplineError::BelowMinimum),
            "{failure}"
        );
    }
    assert_eq!(chain.token_balance(&to).await, paid);
    let state = net.member_state(&mut chain, &earner.pubkey()).await;
    assert_eq!(
        state.ledgers[0].balance(),
        Ok(Wad(500_000_000_000)),
        "0.0000005 TOK stays"
    );
    let credited = Wad::from_decimal_str("0.0000195").expect("amount");
    assert_accounting(&mut chain, &net, &wallets, &[credited]).await;

    // The same on compute rewards: many reports of a few tokens each, whose
    // commissions round down at every level, never pay more than credited.
    let cx = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let p0 = cx.join(&mut chain, 1, &[]).await;
    let p1 = cx.join(&mut chain, 1, &[&p0]).await;
    cx.attest_provider(&mut chain, &p1.pubkey(), 4).await;
    for id in 1..=40 {
        let ix = cx
            .compute_ix(
                &mut chain,
                &p1.pubkey(),
                "gemma-2b",
                compute(id, Service::Scrape, id % 3, 5_000),
            )
            .await;
        cx.as_oracle(&mut chain, &[ix]).await.expect("report");
    }
    let referrer = cx.member_state(&mut chain, &p0.pubkey()).await;
    let earner = cx.member_state(&mut chain, &p1.pubkey()).await;
    // Each commission is floor(reward × 10%) of its own report: never more than 10% of the sum.
    let level1 = referrer.ledgers[0].level1.0;
    assert!(
        level1 * 10 <= earner.ledgers[0].own.0,
        "{level1} vs {}",
        earner.ledgers[0].own.0
    );
}

/// A member account must sit at the canonical bump of its seeds: an address
/// derived from the same seeds with another valid bump is refused, for a new
/// member and for an existing one.
#[tokio::test]
async fn member_addresses_off_the_canonical_bump_are_refused() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let wallet = chain.wallet().await;
    let owner = wallet.pubkey();
    let class = [0u8];
    let seeds: [&[u8]; 4] = [
        upline::constants::MEMBER_SEED,
        net.key.as_ref(),
        owner.as_ref(),
        &class,
    ];
    let (canonical, bump) = anchor_lang::prelude::Pubkey::find_program_address(&seeds, &upline::ID);
    let other = (0..bump)
        .rev()
        .find_map(|b| {
            let mut with_bump = seeds.to_vec();
            let b = [b];
            with_bump.push(&b);
            anchor_lang::prelude::Pubkey::create_program_address(&with_bump, &upline::ID).ok()
        })
        .expect("another valid bump below the canonical one");
    assert_ne!(other, canonical);
    let swap = |mut ix: anchor_lang::solana_program::instruction::Instruction| {
        for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == canonical) {
            meta.pubkey = other;
        }
        ix
    };
    let join = ix::join(&wallet.pubkey(), &wallet.pubkey(), &net.key, 0, &[]);
    let failure = chain
        .expect_failure(
            &[swap(join.clone())],
            &[&wallet],
            &[other, canonical, net.key],
        )
        .await;
    // The member's `seeds` constraint derives the canonical address only.
    assert_eq!(
        Refusal::of(&failure),
        Refusal::from(ErrorCode::ConstraintSeeds),
        "{failure}"
    );
    chain
        .send(&[join], &[&wallet])
        .await
        .expect("joins at the canonical address");
    let points = ix::withdraw(&wallet.pubkey(), &net.key, 0, 1, None, None);
    // Nothing lives at the other address: no membership there.
    chain
        .expect_refusal(
            &[swap(points)],
            &[&wallet],
            UplineError::UnknownMember,
            &[canonical],
        )
        .await;
}
