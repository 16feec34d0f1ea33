//! Ledgers: adding token and points ledgers, their limits, and funding vaults.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use anchor_spl::token::spl_token;
use solana_program_pack::Pack;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::state::{CircuitBreaker, CircuitBreakerConfig, LedgerKind};
use upline_sdk::events::UplineEvent;
use upline_sdk::ix::{self, TokenLedgerSpec};
use upline_sdk::pda;
use upline_tests::network::{class, tables, LedgerSetup};
use upline_tests::tokens::{TestMint, TOKEN, TOKEN_2022};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

async fn empty_network(chain: &mut Chain) -> TestNetwork {
    TestNetwork::create(
        chain,
        "ledgers",
        tables(&[class("account", &[], None)], false),
        &[],
    )
    .await
}

fn spec(mint: &TestMint, name: &str) -> TokenLedgerSpec {
    TokenLedgerSpec {
        name: name.to_string(),
        mint: mint.address,
        token_program: mint.token_program,
        min_withdrawal: 500,
        circuit_breaker: Some(CircuitBreakerConfig {
            window_seconds: 60,
            max_outflow: 9_000,
        }),
        allow_freeze_authority: false,
    }
}

async fn adds_a_token_ledger_with_a_vault_owned_by_the_ledger(token_program: Pubkey) {
    let mut chain = Chain::start().await;
    let net = empty_network(&mut chain).await;
    let mint = chain.create_mint(token_program, 8).await;
    let admin = net.admin.pubkey();
    let events = chain
        .send(
            &[ix::add_token_ledger(
                &admin,
                &admin,
                &net.key,
                0,
                &spec(&mint, "CLORE"),
            )],
            &[&net.admin],
        )
        .await
        .expect("add");
    let address = pda::ledger(&net.key, 0);
    let ledger: upline::state::Ledger = chain.account(&address).await;
    assert_eq!(
        (ledger.kind, ledger.index, ledger.decimals),
        (LedgerKind::Token, 0, 8)
    );
    assert_eq!(
        (ledger.mint, ledger.token_program, ledger.vault),
        (mint.address, token_program, pda::vault(&address))
    );
    assert_eq!(ledger.min_withdrawal, 500);
    assert_eq!(
        ledger.circuit_breaker,
        CircuitBreaker {
            window_seconds: 60,
            max_outflow: 9_000,
            window_start: 0,
            window_outflow: 0
        }
    );
    assert_eq!(upline::state::label_text(&ledger.name), "CLORE");
    assert_eq!(net.state(&mut chain).await.ledger_count, 1);
    // The vault is a token account of the mint whose owner is the ledger PDA.
    let vault = chain.data(&ledger.vault).await.expect("vault");
    let state =
        spl_token::state::Account::unpack_from_slice(&vault[..spl_token::state::Account::LEN])
            .expect("token account");
    assert_eq!(
        (state.mint, state.owner, state.amount),
        (mint.address, address, 0)
    );
    assert!(
        matches!(&events[..], [UplineEvent::LedgerAdded(e)] if e.ledger == address && e.vault == ledger.vault)
    );
}

#[tokio::test]
async fn spl_token_ledger() {
    adds_a_token_ledger_with_a_vault_owned_by_the_ledger(TOKEN).await;
}

#[tokio::test]
async fn token_2022_ledger() {
    adds_a_token_ledger_with_a_vault_owned_by_the_ledger(TOKEN_2022).await;
}

#[tokio::test]
async fn token_ledger_refusals() {
    let mut chain = Chain::start().await;
    let net = empty_network(&mut chain).await;
    let admin = net.admin.pubkey();
    let ledger0 = pda::ledger(&net.key, 0);
    let watched = [net.key, ledger0];
    let plain = chain.create_mint(TOKEN, 6).await;

    let intruder = chain.wallet().await;
    let by_intruder = ix::add_token_ledger(
        &intruder.pubkey(),
        &intruder.pubkey(),
        &net.key,
        0,
        &spec(&plain, "TOK"),
    );
    chain
        .expect_refusal(
            &[by_intruder],
            &[&intruder],
            UplineError::NotAdmin,
            &watched,
        )
        .await;
    for name in ["", "SEVENTEEN-BYTES!!"] {
        let ix = ix::add_token_ledger(&admin, &admin, &net.key, 0, &spec(&plain, name));
        chain
            .expect_refusal(&[ix], &[&net.admin], UplineError::InvalidName, &watched)
            .await;
    }
    for breaker in [
        CircuitBreakerConfig {
            window_seconds: 0,
            max_outflow: 1,
        },
        CircuitBreakerConfig {
            window_seconds: 1,
            max_outflow: 0,
        },
    ] {
        let mut s = spec(&plain, "TOK");
        s.circuit_breaker = Some(breaker);
        let ix = ix::add_token_ledger(&admin, &admin, &net.key, 0, &s);
        chain
            .expect_refusal(
                &[ix],
                &[&net.admin],
                UplineError::InvalidCircuitBreaker,
                &watched,
            )
            .await;
    }
    // More decimals than WAD holds, a transfer fee: refused. A metadata pointer: fine.
    let too_precise = chain.create_mint(TOKEN, 19).await;
    let ix = ix::add_token_ledger(&admin, &admin, &net.key, 0, &spec(&too_precise, "TOK"));
    chain
        .expect_refusal(&[ix], &[&net.admin], UplineError::UnsupportedMint, &watched)
        .await;
    let taxed = chain.create_mint_with_transfer_fee(6).await;
    let ix = ix::add_token_ledger(&admin, &admin, &net.key, 0, &spec(&taxed, "TOK"));
    chain
        .expect_refusal(&[ix], &[&net.admin], UplineError::UnsupportedMint, &watched)
        .await;
    // A mint passed with the other token program.
    let mut wrong_program = spec(&plain, "TOK");
    wrong_program.token_program = TOKEN_2022;
    let ix = ix::add_token_ledger(&admin, &admin, &net.key, 0, &wrong_program);
    chain.expect_failure(&[ix], &[&net.admin], &watched).await;

    let described = chain.create_mint_with_metadata_pointer(6).await;
    chain
        .send(
            &[ix::add_token_ledger(
                &admin,
                &admin,
                &net.key,
                0,
                &spec(&described, "TOK"),
            )],
            &[&net.admin],
        )
        .await
        .expect("metadata pointer is allowed");
    // Four ledgers at most.
    for index in 1..4u8 {
        chain
            .send(
                &[ix::add_points_ledger(
                    &admin, &admin, &net.key, index, "PTS",
                )],
                &[&net.admin],
            )
            .await
            .expect("add");
    }
    let fifth = ix::add_points_ledger(&admin, &admin, &net.key, 4, "PTS");
    chain
        .expect_refusal(
            &[fifth],
            &[&net.admin],
            UplineError::TooManyLedgers,
            &[net.key],
        )
        .await;
}

#[tokio::test]
async fn points_ledger_has_no_mint_and_only_the_admin_adds_one() {
    let mut chain = Chain::start().await;
    let net = empty_network(&mut chain).await;
    let admin = net.admin.pubkey();
    let intruder = chain.wallet().await;
    let by_intruder =
        ix::add_points_ledger(&intruder.pubkey(), &intruder.pubkey(), &net.key, 0, "PTS");
    chain
        .expect_refusal(
            &[by_intruder],
            &[&intruder],
            UplineError::NotAdmin,
            &[net.key],
        )
        .await;
    let events = chain
        .send(
            &[ix::add_points_ledger(&admin, &admin, &net.key, 0, "POINTS")],
            &[&net.admin],
        )
        .await
        .expect("add");
    let ledger: upline::state::Ledger = chain.account(&pda::ledger(&net.key, 0)).await;
    assert_eq!(
        (ledger.kind, ledger.mint, ledger.vault),
        (LedgerKind::Points, Pubkey::default(), Pubkey::default())
    );
    assert!(
        matches!(&events[..], [UplineEvent::LedgerAdded(e)] if e.kind == LedgerKind::Points && e.index == 0)
    );
    // Ledger indices are dense: index 0 again is refused (the account exists).
    let twice = ix::add_points_ledger(&admin, &admin, &net.key, 0, "POINTS");
    chain
        .expect_failure(&[twice], &[&net.admin], &[net.key])
        .await;
}

#[tokio::test]
async fn update_ledger_changes_limits_and_keeps_the_window() {
    let mut chain = Chain::start().await;
    let breaker = Some(CircuitBreakerConfig {
        window_seconds: 3_600,
        max_outflow: 10,
    });
    let ledgers = [
        LedgerSetup::Token {
            name: "TOK".into(),
            decimals: 0,
            min_withdrawal: 1,
            circuit_breaker: breaker,
            token_program: TOKEN,
        },
        LedgerSetup::Points { name: "PTS".into() },
    ];
    let t = tables(
        &[class(
            "member",
            &[],
            Some(("4", 0, upline::state::BonusTrigger::FirstWork)),
        )],
        false,
    );
    let net = TestNetwork::create(&mut chain, "limits", t, &ledgers).await;
    net.enable_unpaid_work(&mut chain, 0, 1).await;
    net.fund(&mut chain, 0, 100).await;
    let a = net.join(&mut chain, 0, &[]).await;
    net.join_and_work(&mut chain, 0, &a).await;
    net.join_and_work(&mut chain, 0, &a).await; // a holds 8 TOK
    let mint = net.ledgers[0].mint();
    let destination = chain.token_account(mint, &a.pubkey()).await;
    chain
        .send(
            &[net.withdraw_ix(0, &a.pubkey(), &destination, Some(3))],
            &[&a],
        )
        .await
        .expect("withdraw 3");

    let admin = net.admin.pubkey();
    let tighter = Some(CircuitBreakerConfig {
        window_seconds: 7_200,
        max_outflow: 4,
    });
    let events = chain
        .send(
            &[ix::update_ledger(&admin, &net.key, 0, 2, tighter)],
            &[&net.admin],
        )
        .await
        .expect("update");
    let ledger = net.ledger_state(&mut chain, 0).await;
    assert_eq!(ledger.min_withdrawal, 2);
    assert_eq!(
        ledger.circuit_breaker,
        CircuitBreaker {
            window_seconds: 7_200,
            max_outflow: 4,
            window_start: chain.now,
            window_outflow: 3
        }
    );
    assert!(
        matches!(&events[..], [UplineEvent::LedgerUpdated(e)] if e.circuit_breaker == ledger.circuit_breaker)
    );
    // What already left in this window still counts: 3 + 1 = 4 is the limit.
    let two = net.withdraw_ix(0, &a.pubkey(), &destination, Some(2));
    chain
        .expect_refusal(
            &[two],
            &[&a],
            UplineError::CircuitBreakerTripped,
            &[net.ledgers[0].address],
        )
        .await;
    chain
        .send(
            &[ix::update_ledger(&admin, &net.key, 0, 2, None)],
            &[&net.admin],
        )
        .await
        .expect("breaker off");
    assert_eq!(
        net.ledger_state(&mut chain, 0).await.circuit_breaker,
        CircuitBreaker::default()
    );

    let watched = [net.ledgers[0].address, net.ledgers[1].address];
    let bad = Some(CircuitBreakerConfig {
        window_seconds: -5,
        max_outflow: 4,
    });
    chain
        .expect_refusal(
            &[ix::update_ledger(&admin, &net.key, 0, 2, bad)],
            &[&net.admin],
            UplineError::InvalidCircuitBreaker,
            &watched,
        )
        .await;
    chain
        .expect_refusal(
            &[ix::update_ledger(&admin, &net.key, 1, 2, None)],
            &[&net.admin],
            UplineError::NotATokenLedger,
            &watched,
        )
        .await;
    chain
        .expect_refusal(
            &[ix::update_ledger(&a.pubkey(), &net.key, 0, 0, None)],
            &[&a],
            UplineError::NotAdmin,
            &watched,
        )
        .await;
    // Another network's admin cannot reach this ledger through its own network.
    let other = empty_network(&mut chain).await;
    let mut foreign = ix::update_ledger(&other.admin.pubkey(), &other.key, 0, 0, None);
    foreign.accounts[2].pubkey = net.ledgers[0].address;
    chain
        .expect_refusal(
            &[foreign],
            &[&other.admin],
            UplineError::WrongLedger,
            &watched,
        )
        .await;
}

#[tokio::test]
async fn anyone_funds_a_vault_and_only_that_counts() {
    let mut chain = Chain::start().await;
    for token_program in [TOKEN, TOKEN_2022] {
        let ledgers = [
            LedgerSetup::Token {
                name: "TOK".into(),
                decimals: 6,
                min_withdrawal: 0,
                circuit_breaker: None,
                token_program,
            },
            LedgerSetup::Token {
                name: "TWO".into(),
                decimals: 6,
                min_withdrawal: 0,
                circuit_breaker: None,
                token_program,
            },
            LedgerSetup::Points { name: "PTS".into() },
        ];
        let net = TestNetwork::create(
            &mut chain,
            "funding",
            tables(&[class("a", &[], None)], false),
            &ledgers,
        )
        .await;
        let funder = chain.wallet().await;
        let mint = net.ledgers[0].mint();
        let source = chain.token_account(mint, &funder.pubkey()).await;
        chain.mint_to(mint, &source, 1_000).await;
        let fund = |amount| {
            ix::fund_vault(
                &funder.pubkey(),
                &net.key,
                0,
                &mint.address,
                &source,
                &token_program,
                amount,
            )
        };

        let events = chain.send(&[fund(600)], &[&funder]).await.expect("fund");
        assert!(
            matches!(&events[..], [UplineEvent::VaultFunded(e)] if e.amount == 600 && e.funded == 600 && e.funder == funder.pubkey())
        );
        chain
            .send(&[fund(400)], &[&funder])
            .await
            .expect("fund again");
        let ledger = net.ledger_state(&mut chain, 0).await;
        assert_eq!(ledger.funded, 1_000);
        assert_eq!(chain.token_balance(&ledger.vault).await, 1_000);
        assert_eq!(chain.token_balance(&source).await, 0);

        let watched = [net.ledgers[0].address, ledger.vault, source];
        chain
            .expect_refusal(&[fund(0)], &[&funder], UplineError::ZeroAmount, &watched)
            .await;
        chain.expect_failure(&[fund(1)], &[&funder], &watched).await; // the source is empty
                                                                      // Someone else's tokens, the wrong vault, a points ledger.
        let other = chain.wallet().await;
        chain.mint_to(mint, &source, 10).await;
        let mut not_theirs = fund(10);
        not_theirs.accounts[0].pubkey = other.pubkey();
        chain
            .expect_failure(&[not_theirs], &[&other], &watched)
            .await;
        let mut wrong_vault = fund(10);
        wrong_vault.accounts[4].pubkey = pda::vault(&net.ledgers[1].address);
        chain
            .expect_refusal(
                &[wrong_vault],
                &[&funder],
                UplineError::WrongLedger,
                &watched,
            )
            .await;
        let mut points = fund(10);
        points.accounts[2].pubkey = net.ledgers[2].address;
        chain.expect_failure(&[points], &[&funder], &watched).await;
    }
}
