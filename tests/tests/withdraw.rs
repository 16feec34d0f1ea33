//! Withdrawals: whole base units to the member's own token account, never more.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::math::Wad;
use upline::state::{BonusTrigger, CircuitBreakerConfig};
use upline_sdk::events::UplineEvent;
use upline_sdk::ix::{self, TokenDestination};
use upline_tests::checks::{assert_accounting, assert_accounting_with_strays};
use upline_tests::network::{class, tables, LedgerSetup};
use upline_tests::tokens::{TOKEN, TOKEN_2022};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

/// 6 decimals: one token is 1_000_000 base units.
const UNIT: u64 = 1_000_000;

fn wad(text: &str) -> Wad {
    Wad::from_decimal_str(text).expect("amount")
}

/// A network whose only class earns a direct bonus of 1.0000005 TOK per referee
/// (half a base unit more than a whole token) at the referee's first work, plus
/// a points ledger that the (unpaid) work reports credit.
async fn bonus_network(
    chain: &mut Chain,
    token_program: Pubkey,
    breaker: Option<CircuitBreakerConfig>,
) -> TestNetwork {
    let t = tables(
        &[class(
            "member",
            &[],
            Some(("1.0000005", 0, BonusTrigger::FirstWork)),
        )],
        false,
    );
    let ledgers = [
        LedgerSetup::Token {
            name: "TOK".into(),
            decimals: 6,
            min_withdrawal: 2 * UNIT,
            circuit_breaker: breaker,
            token_program,
        },
        LedgerSetup::Points { name: "PTS".into() },
    ];
    let net = TestNetwork::create(chain, "withdrawals", t, &ledgers).await;
    net.enable_unpaid_work(chain, 0, 1).await;
    net
}

/// A referrer with `referees` referees that have each worked once, so a bonus
/// balance of `referees` × 1.0000005.
async fn earner(chain: &mut Chain, net: &TestNetwork, referees: usize) -> (Keypair, Vec<Pubkey>) {
    let referrer = net.join(chain, 0, &[]).await;
    let mut wallets = vec![referrer.pubkey()];
    for _ in 0..referees {
        wallets.push(net.join_and_work(chain, 0, &referrer).await.pubkey());
    }
    (referrer, wallets)
}

async fn withdraws_whole_units_and_keeps_the_fraction(token_program: Pubkey) {
    let mut chain = Chain::start().await;
    let net = bonus_network(&mut chain, token_program, None).await;
    net.fund(&mut chain, 0, 100 * UNIT).await;
    let (earner, wallets) = earner(&mut chain, &net, 4).await;
    let destination = chain
        .token_account(net.ledgers[0].mint(), &earner.pubkey())
        .await;

    let events = chain
        .send(
            &[net.withdraw_ix(0, &earner.pubkey(), &destination, Some(3 * UNIT))],
            &[&earner],
        )
        .await
        .expect("withdraw 3");
    match &events[..] {
        [UplineEvent::Withdrawn(w)] => {
            assert_eq!(
                (w.amount, w.amount_wad, w.balance_after),
                (3 * UNIT, wad("3"), wad("1.000002"))
            );
            assert_eq!(w.destination, destination);
            assert_eq!(
                (w.member, w.wallet),
                (net.member(&earner.pubkey()), earner.pubkey())
            );
        }
        other => panic!("unexpected events {other:?}"),
    }
    assert_eq!(chain.token_balance(&destination).await, 3 * UNIT);

    // "All" takes the whole base units of 1.000002; the fraction below one base unit stays.
    let all = net.withdraw_ix(0, &earner.pubkey(), &destination, None);
    chain
        .expect_refusal(
            std::slice::from_ref(&all),
            &[&earner],
            UplineError::BelowMinimum,
            &[net.member(&earner.pubkey())],
        )
        .await;
    let more = net.join_and_work(&mut chain, 0, &earner).await;
    chain.send(&[all], &[&earner]).await.expect("withdraw all");
    let member = net.member_state(&mut chain, &earner.pubkey()).await;
    assert_eq!(
        member.ledgers[0].balance(),
        Ok(Wad(500_000_000_000)),
        "0.0000005 TOK stays"
    );
    assert_eq!(member.ledgers[0].withdrawn, wad("5.000002"));
    assert_eq!(chain.token_balance(&destination).await, 5 * UNIT + 2);
    let ledger = net.ledger_state(&mut chain, 0).await;
    assert_eq!(
        (ledger.funded, ledger.withdrawn),
        (u128::from(100 * UNIT), u128::from(5 * UNIT + 2))
    );

    let mut everyone = wallets;
    everyone.push(more.pubkey());
    assert_accounting(&mut chain, &net, &everyone, &[wad("5.0000025"), Wad::ZERO]).await;
}

#[tokio::test]
async fn spl_token_withdrawal_pays_whole_units() {
    withdraws_whole_units_and_keeps_the_fraction(TOKEN).await;
}

#[tokio::test]
async fn token_2022_withdrawal_pays_whole_units() {
    withdraws_whole_units_and_keeps_the_fraction(TOKEN_2022).await;
}

#[tokio::test]
async fn refusals_leave_balance_vault_and_ledger_untouched() {
    let mut chain = Chain::start().await;
    let net = bonus_network(&mut chain, TOKEN, None).await;
    let (earner, wallets) = earner(&mut chain, &net, 3).await;
    let mint = net.ledgers[0].mint();
    let destination = chain.token_account(mint, &earner.pubkey()).await;
    let vault = net.ledger_state(&mut chain, 0).await.vault;
    let watched = [
        net.member(&earner.pubkey()),
        net.ledgers[0].address,
        vault,
        destination,
    ];
    let send = |amount| net.withdraw_ix(0, &earner.pubkey(), &destination, amount);

    // Balance 3.0000015, so 3_000_001 whole base units: below the 2-token
    // minimum, and one base unit more than the whole units, are refused.
    chain
        .expect_refusal(
            &[send(Some(2 * UNIT - 1))],
            &[&earner],
            UplineError::BelowMinimum,
            &watched,
        )
        .await;
    chain
        .expect_refusal(
            &[send(Some(3 * UNIT + 2))],
            &[&earner],
            UplineError::InsufficientBalance,
            &watched,
        )
        .await;
    // Nothing funded yet: the vault cannot pay.
    chain
        .expect_refusal(
            &[send(Some(3 * UNIT))],
            &[&earner],
            UplineError::VaultUnderfunded,
            &watched,
        )
        .await;
    net.fund(&mut chain, 0, 2 * UNIT + 5).await;
    chain
        .expect_refusal(
            &[send(Some(3 * UNIT))],
            &[&earner],
            UplineError::VaultUnderfunded,
            &watched,
        )
        .await;
    // Tokens sent to the vault by a plain transfer are not funding.
    chain.mint_to(mint, &vault, 10 * UNIT).await;
    let watched = [
        net.member(&earner.pubkey()),
        net.ledgers[0].address,
        destination,
    ];
    chain
        .expect_refusal(
            &[send(Some(3 * UNIT))],
            &[&earner],
            UplineError::VaultUnderfunded,
            &watched,
        )
        .await;

    // A token ledger's withdrawal needs every token account.
    let mut missing = send(Some(2 * UNIT));
    missing.accounts[6].pubkey = upline::ID;
    chain
        .expect_refusal(&[missing], &[&earner], UplineError::WrongLedger, &watched)
        .await;

    // Someone else's token account, someone else's member, no signature.
    let thief = net.join(&mut chain, 0, &[]).await;
    let thief_account = chain.token_account(mint, &thief.pubkey()).await;
    let mut watched_thief = watched.to_vec();
    watched_thief.push(thief_account);
    let to_thief = net.withdraw_ix(0, &earner.pubkey(), &thief_account, Some(2 * UNIT));
    chain
        .expect_refusal(
            &[to_thief],
            &[&earner],
            UplineError::WrongDestination,
            &watched_thief,
        )
        .await;
    let mut as_thief = net.withdraw_ix(0, &thief.pubkey(), &thief_account, Some(2 * UNIT));
    as_thief.accounts[3].pubkey = net.member(&earner.pubkey());
    chain
        .expect_refusal(
            &[as_thief],
            &[&thief],
            UplineError::UnknownMember,
            &watched_thief,
        )
        .await;
    let mut unsigned = send(Some(2 * UNIT));
    unsigned.accounts[0].is_signer = false;
    chain.expect_failure(&[unsigned], &[], &watched).await;

    // Paused network.
    chain
        .send(
            &[ix::set_paused(&net.admin.pubkey(), &net.key, true)],
            &[&net.admin],
        )
        .await
        .expect("pause");
    chain
        .expect_refusal(
            &[send(Some(2 * UNIT))],
            &[&earner],
            UplineError::NetworkPaused,
            &watched,
        )
        .await;
    chain
        .send(
            &[ix::set_paused(&net.admin.pubkey(), &net.key, false)],
            &[&net.admin],
        )
        .await
        .expect("unpause");
    chain
        .send(&[send(Some(2 * UNIT))], &[&earner])
        .await
        .expect("now it pays");

    let mut everyone = wallets;
    everyone.push(thief.pubkey());
    let credits = [wad("3.0000015"), Wad::ZERO];
    assert_accounting_with_strays(&mut chain, &net, &everyone, &credits, &[10 * UNIT, 0]).await;
}

#[tokio::test]
async fn points_ledger_refuses_withdrawal_by_name() {
    let mut chain = Chain::start().await;
    let t = tables(
        &[class("member", &[], Some(("5", 1, BonusTrigger::AtLink)))],
        false,
    );
    let ledgers = [
        LedgerSetup::Token {
            name: "TOK".into(),
            decimals: 6,
            min_withdrawal: 0,
            circuit_breaker: None,
            token_program: TOKEN,
        },
        LedgerSetup::Points { name: "PTS".into() },
    ];
    let net = TestNetwork::create(&mut chain, "points", t, &ledgers).await;
    net.enable_unpaid_work(&mut chain, 0, 1).await;
    let (earner, wallets) = earner(&mut chain, &net, 1).await;
    assert_eq!(
        net.member_state(&mut chain, &earner.pubkey()).await.ledgers[1].bonus,
        wad("5")
    );
    let watched = [net.member(&earner.pubkey()), net.ledgers[1].address];
    for amount in [Some(1), None] {
        let points = ix::withdraw(&earner.pubkey(), &net.key, 0, 1, None, amount);
        chain
            .expect_refusal(
                &[points],
                &[&earner],
                UplineError::NotWithdrawable,
                &watched,
            )
            .await;
    }
    // Even with the token ledger's accounts passed, a points ledger does not pay.
    let mint = net.ledgers[0].mint();
    let destination = chain.token_account(mint, &earner.pubkey()).await;
    let to = TokenDestination {
        mint: mint.address,
        destination,
        token_program: TOKEN,
    };
    let mut disguised = ix::withdraw(&earner.pubkey(), &net.key, 0, 1, Some(&to), Some(1));
    disguised.accounts[5].pubkey = upline_sdk::pda::vault(&net.ledgers[0].address);
    chain
        .expect_failure(&[disguised], &[&earner], &watched)
        .await;
    assert_accounting(&mut chain, &net, &wallets, &[Wad::ZERO, wad("5")]).await;
}

#[tokio::test]
async fn circuit_breaker_limits_outflow_per_window() {
    let mut chain = Chain::start().await;
    let breaker = CircuitBreakerConfig {
        window_seconds: 3_600,
        max_outflow: 5 * UNIT,
    };
    let net = bonus_network(&mut chain, TOKEN, Some(breaker)).await;
    net.fund(&mut chain, 0, 100 * UNIT).await;
    let (a, mut wallets) = earner(&mut chain, &net, 4).await;
    let (b, more) = earner(&mut chain, &net, 6).await;
    wallets.extend(more);
    let mint = net.ledgers[0].mint();
    let dest_a = chain.token_account(mint, &a.pubkey()).await;
    let dest_b = chain.token_account(mint, &b.pubkey()).await;

    chain
        .send(
            &[net.withdraw_ix(0, &a.pubkey(), &dest_a, Some(3 * UNIT))],
            &[&a],
        )
        .await
        .expect("3 of 5");
    let watched = [net.member(&b.pubkey()), net.ledgers[0].address, dest_b];
    let over = net.withdraw_ix(0, &b.pubkey(), &dest_b, Some(3 * UNIT));
    chain
        .expect_refusal(
            std::slice::from_ref(&over),
            &[&b],
            UplineError::CircuitBreakerTripped,
            &watched,
        )
        .await;
    chain
        .send(
            &[net.withdraw_ix(0, &b.pubkey(), &dest_b, Some(2 * UNIT))],
            &[&b],
        )
        .await
        .expect("exactly the limit");

    // The next window starts at the first withdrawal after this one ends.
    let now = chain.now;
    chain.warp_to(now + 3_599).await;
    chain
        .expect_refusal(
            std::slice::from_ref(&over),
            &[&b],
            UplineError::CircuitBreakerTripped,
            &watched,
        )
        .await;
    chain.warp_to(now + 3_600).await;
    chain.send(&[over], &[&b]).await.expect("new window");
    let ledger = net.ledger_state(&mut chain, 0).await;
    assert_eq!(
        (
            ledger.circuit_breaker.window_start,
            ledger.circuit_breaker.window_outflow
        ),
        (now + 3_600, 3 * UNIT)
    );
    assert_accounting(&mut chain, &net, &wallets, &[wad("10.000005"), Wad::ZERO]).await;
}
