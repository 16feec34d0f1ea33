//! Regression tests for the findings of the independent security review
//! (issue 11). Each test failed on the code before its fix; the comment on each
//! says how.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022::state::Mint as MintState;
use solana_account::AccountSharedData;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_signer::Signer;
use upline::constants::MAX_REPORT_ID_STEP;
use upline::errors::UplineError;
use upline::math::Wad;
use upline::state::{BonusTrigger, Endpoint, RewardTables};
use upline_sdk::events::UplineEvent;
use upline_sdk::ix::{self, TokenLedgerSpec};
use upline_sdk::pda;
use upline_sdk::sandbox::SandboxNetwork;
use upline_tests::network::{class, tables, LedgerSetup};
use upline_tests::reports::{bandwidth, usage};
use upline_tests::tokens::{TestMint, TOKEN};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

/// One whole token at 18 decimals, in base units.
const TOKEN_18: u64 = 1_000_000_000_000_000_000;

/// An 18-decimal token ledger whose class pays a 10-token bonus at each
/// referee's first (unpaid) work, and a points ledger the work reports credit.
async fn high_decimal_network(chain: &mut Chain) -> TestNetwork {
    let t = tables(
        &[class(
            "member",
            &[],
            Some(("10", 0, BonusTrigger::FirstWork)),
        )],
        false,
    );
    let ledgers = [
        LedgerSetup::Token {
            name: "WEI".into(),
            decimals: 18,
            min_withdrawal: 1,
            circuit_breaker: None,
            token_program: TOKEN,
        },
        LedgerSetup::Points { name: "PTS".into() },
    ];
    let net = TestNetwork::create(chain, "eighteen", t, &ledgers).await;
    net.enable_unpaid_work(chain, 0, 1).await;
    net
}

/// A member holding 20 tokens at 18 decimals: 2 × 10^19 base units, more than
/// u64::MAX (about 1.8 × 10^19).
async fn rich_member(chain: &mut Chain, net: &TestNetwork) -> Keypair {
    let earner = net.join(chain, 0, &[]).await;
    net.join_and_work(chain, 0, &earner).await;
    net.join_and_work(chain, 0, &earner).await;
    let member = net.member_state(chain, &earner.pubkey()).await;
    assert_eq!(
        member.ledgers[0].balance(),
        Ok(Wad::from_decimal_str("20").expect("20"))
    );
    earner
}

/// Before: `validate` converted the whole balance to u64 base units even for an
/// explicit amount, so every withdrawal failed with `MathOverflow` once the
/// balance passed 18.45 tokens at 18 decimals.
#[tokio::test]
async fn a_balance_beyond_u64_base_units_still_withdraws() {
    let mut chain = Chain::start().await;
    let net = high_decimal_network(&mut chain).await;
    net.fund(&mut chain, 0, 18 * TOKEN_18).await;
    let earner = rich_member(&mut chain, &net).await;
    let account = chain
        .token_account(net.ledgers[0].mint(), &earner.pubkey())
        .await;

    let one = net.withdraw_ix(0, &earner.pubkey(), &account, Some(TOKEN_18));
    chain
        .send(&[one], &[&earner])
        .await
        .expect("withdraw 1 token");
    // "All" is capped at what one transfer can move (u64::MAX base units); the
    // vault holds 17 tokens, less than that, so it is refused by name.
    let all = net.withdraw_ix(0, &earner.pubkey(), &account, None);
    chain
        .expect_refusal(
            &[all],
            &[&earner],
            UplineError::VaultUnderfunded,
            &[net.member(&earner.pubkey())],
        )
        .await;
    let rest = net.withdraw_ix(0, &earner.pubkey(), &account, Some(17 * TOKEN_18));
    chain.send(&[rest], &[&earner]).await.expect("withdraw 17");
    assert_eq!(chain.token_balance(&account).await, 18 * TOKEN_18);
    let member = net.member_state(&mut chain, &earner.pubkey()).await;
    assert_eq!(
        member.ledgers[0].balance(),
        Ok(Wad::from_decimal_str("2").expect("2"))
    );
}

/// Before: `funded` and `withdrawn` were u64 lifetime totals, so once u64::MAX
/// base units had passed through the vault every fund and withdrawal failed.
#[tokio::test]
async fn lifetime_flows_beyond_u64_base_units_keep_the_ledger_working() {
    let mut chain = Chain::start().await;
    let net = high_decimal_network(&mut chain).await;
    net.fund(&mut chain, 0, 18 * TOKEN_18).await;
    let earner = rich_member(&mut chain, &net).await;
    let mint = net.ledgers[0].mint();
    let account = chain.token_account(mint, &earner.pubkey()).await;
    let out = net.withdraw_ix(0, &earner.pubkey(), &account, Some(18 * TOKEN_18));
    chain.send(&[out], &[&earner]).await.expect("withdraw 18");

    // The same tokens come back through fund_vault (the supply cannot grow past
    // u64::MAX): 36 tokens funded over the ledger's life.
    let back = ix::fund_vault(
        &earner.pubkey(),
        &net.key,
        0,
        &mint.address,
        &account,
        &mint.token_program,
        18 * TOKEN_18,
    );
    chain.send(&[back], &[&earner]).await.expect("fund again");
    let out = net.withdraw_ix(0, &earner.pubkey(), &account, Some(2 * TOKEN_18));
    chain.send(&[out], &[&earner]).await.expect("withdraw 2");

    let ledger = net.ledger_state(&mut chain, 0).await;
    let unit = u128::from(TOKEN_18);
    assert_eq!((ledger.funded, ledger.withdrawn), (36 * unit, 20 * unit));
    let vault = chain
        .token_balance(&pda::vault(&net.ledgers[0].address))
        .await;
    assert_eq!(u128::from(vault), ledger.funded - ledger.withdrawn);
}

/// Before: tables accepted any epoch length, but the epoch number was a u16:
/// with one-hour epochs every report about a referred node failed with
/// `MathOverflow`. Now epochs are u32 and at least an hour long.
#[tokio::test]
async fn short_activity_epochs_are_refused_and_hour_epochs_work() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "aether").await;
    let tables_key = pda::reward_tables(&net.key);
    let mut data = chain.account::<RewardTables>(&tables_key).await.data;
    data.bandwidth.epoch_seconds = 60;
    let admin = net.admin.pubkey();
    chain
        .expect_refusal(
            &[ix::set_reward_tables(&admin, &net.key, data)],
            &[&net.admin],
            UplineError::InvalidTables,
            &[tables_key],
        )
        .await;
    data.bandwidth.epoch_seconds = 3_600;
    chain
        .send(
            &[ix::set_reward_tables(&admin, &net.key, data)],
            &[&net.admin],
        )
        .await
        .expect("hour epochs");

    let user = net.join(&mut chain, 0, &[]).await;
    let node = net.join(&mut chain, 1, &[&user]).await;
    let attest = net.attest_node_ix(&node.pubkey(), "n1", "s1");
    net.as_oracle(&mut chain, &[attest]).await.expect("attest");
    let report = net
        .bandwidth_ix(
            &mut chain,
            &node.pubkey(),
            Some(("n1", "s1")),
            bandwidth(1, 1_000_000_000, 1_000_000, 1_000_000, 1_000_000),
        )
        .await;
    let events = net.as_oracle(&mut chain, &[report]).await.expect("report");
    let Some(UplineEvent::BandwidthReported(e)) = events.first() else {
        panic!("{events:?}")
    };
    assert_eq!(e.active_referrals, 1);
    let referrer = net.member_state(&mut chain, &user.pubkey()).await;
    assert_eq!(u64::from(referrer.activity_epoch), chain.now as u64 / 3_600);
}

/// The link rule that makes cycles impossible lets a stranger who joins under a
/// member with no referrer block that member's later link. Clients therefore
/// join and link in one transaction (`ix::join` with the upline); this shows
/// the risk they avoid, and that the one-transaction join leaves no window.
#[tokio::test]
async fn a_stranger_can_block_a_later_link_but_not_a_join_with_referrer() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "clore").await;
    let referrer = net.join(&mut chain, 0, &[]).await;
    let late = net.join(&mut chain, 0, &[]).await;
    net.join(&mut chain, 0, &[&late]).await; // the stranger
    let link = ix::set_referrer(
        &late.pubkey(),
        &net.key,
        0,
        &[net.member(&referrer.pubkey())],
    );
    chain
        .expect_refusal(
            &[link],
            &[&late],
            UplineError::HasReferees,
            &[net.member(&late.pubkey())],
        )
        .await;
    // Joined with its referrer in one instruction, a member is linked before
    // anyone can join under it.
    let linked = net.join(&mut chain, 0, &[&referrer]).await;
    let state = net.member_state(&mut chain, &linked.pubkey()).await;
    assert_eq!(state.referrer, net.member(&referrer.pubkey()));
}

/// Rewrite `mint`'s account on the bank with `edit` applied to its state.
async fn edit_mint(chain: &mut Chain, mint: &TestMint, edit: impl FnOnce(&mut MintState)) {
    let mut account = chain
        .ctx
        .banks_client
        .get_account(mint.address)
        .await
        .expect("bank")
        .expect("mint exists");
    let mut state = MintState::unpack(&account.data).expect("mint");
    edit(&mut state);
    MintState::pack(state, &mut account.data).expect("pack");
    chain
        .ctx
        .set_account(&mint.address, &AccountSharedData::from(account));
}

fn spec(mint: &TestMint, allow_freeze_authority: bool) -> TokenLedgerSpec {
    TokenLedgerSpec {
        name: "USD".into(),
        mint: mint.address,
        token_program: mint.token_program,
        min_withdrawal: 1,
        circuit_breaker: None,
        allow_freeze_authority,
    }
}

/// Before: a mint whose issuer can freeze the vault was accepted silently.
#[tokio::test]
async fn a_mint_with_a_freeze_authority_needs_the_admins_explicit_consent() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::create(
        &mut chain,
        "frozen",
        tables(&[class("member", &[], None)], false),
        &[],
    )
    .await;
    let mint = chain.create_mint(TOKEN, 6).await;
    let issuer = Pubkey::new_unique();
    edit_mint(&mut chain, &mint, |m| {
        m.freeze_authority = Some(issuer).into();
    })
    .await;
    let admin = net.admin.pubkey();
    let refused = ix::add_token_ledger(&admin, &admin, &net.key, 0, &spec(&mint, false));
    chain
        .expect_refusal(
            &[refused],
            &[&net.admin],
            UplineError::MintHasFreezeAuthority,
            &[net.key],
        )
        .await;
    let accepted = ix::add_token_ledger(&admin, &admin, &net.key, 0, &spec(&mint, true));
    let events = chain
        .send(&[accepted], &[&net.admin])
        .await
        .expect("accepted with consent");
    assert!(
        matches!(&events[..], [UplineEvent::LedgerAdded(e)] if e.accepted_freeze_authority == issuer)
    );
    let ledger = chain
        .account::<upline::state::Ledger>(&pda::ledger(&net.key, 0))
        .await;
    assert_eq!(ledger.accepted_freeze_authority, issuer);
}

/// Before: fund and withdraw trusted the mint's current decimals; a mint
/// closed and re-created at the same address with other decimals would have
/// changed what a base unit is worth.
#[tokio::test]
async fn a_mint_whose_decimals_changed_is_refused() {
    let mut chain = Chain::start().await;
    let net = high_decimal_network(&mut chain).await;
    net.fund(&mut chain, 0, 18 * TOKEN_18).await;
    let earner = rich_member(&mut chain, &net).await;
    let mint = net.ledgers[0].mint();
    let account = chain.token_account(mint, &earner.pubkey()).await;
    edit_mint(&mut chain, mint, |m| m.decimals = 6).await;

    let out = net.withdraw_ix(0, &earner.pubkey(), &account, Some(1));
    let ledger = net.ledgers[0].address;
    chain
        .expect_refusal(
            &[out],
            &[&earner],
            UplineError::MintDecimalsChanged,
            &[ledger, net.member(&earner.pubkey())],
        )
        .await;
    let funder = chain.wallet().await;
    let failure = net
        .0
        .fund(&mut chain, &funder, 0, 1)
        .await
        .expect_err("funding refused");
    assert!(failure.is(UplineError::MintDecimalsChanged), "{failure:?}");
}

/// Before: an oracle could set a member's last report id to u64::MAX and so
/// refuse every later report about it. Each id may now move at most 2^48.
#[tokio::test]
async fn a_report_id_cannot_jump_to_the_end_of_the_id_space() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let user = net.join(&mut chain, 0, &[]).await;
    let member = net.member(&user.pubkey());
    for id in [u64::MAX, MAX_REPORT_ID_STEP + 1] {
        let ix = net
            .usage_ix(&mut chain, &user.pubkey(), usage(id, Endpoint::Chat, 1_000))
            .await;
        let oracle = net.oracle.insecure_clone();
        chain
            .expect_refusal(&[ix], &[&oracle], UplineError::ReportIdTooFar, &[member])
            .await;
    }
    // A millisecond timestamp is a fine id, and so is the largest step.
    for id in [1_767_225_600_000, 1_767_225_600_000 + MAX_REPORT_ID_STEP] {
        let ix = net
            .usage_ix(&mut chain, &user.pubkey(), usage(id, Endpoint::Chat, 1_000))
            .await;
        net.as_oracle(&mut chain, &[ix]).await.expect("report");
    }
}

/// Before: a bonus at link could be paid in withdrawable tokens (free tokens
/// per sign-up), and `update_tables` could point a bonus at a ledger that does
/// not exist, after which every join with a referrer failed.
#[tokio::test]
async fn direct_bonuses_go_to_existing_ledgers_and_link_bonuses_to_points() {
    let mut chain = Chain::start().await;
    let token = LedgerSetup::Token {
        name: "TOK".into(),
        decimals: 6,
        min_withdrawal: 1,
        circuit_breaker: None,
        token_program: TOKEN,
    };
    // A token ledger at the index a class pays its at-link bonus to is refused.
    let at_link_on_token = tables(
        &[class("member", &[], Some(("1", 0, BonusTrigger::AtLink)))],
        false,
    );
    let failure = SandboxNetwork::create(
        &mut chain,
        "link-bonus",
        at_link_on_token,
        std::slice::from_ref(&token),
    )
    .await
    .err()
    .expect("refused");
    assert!(
        failure.is(UplineError::LinkBonusOnTokenLedger),
        "{failure:?}"
    );

    let net = TestNetwork::create(
        &mut chain,
        "bonuses",
        tables(&[class("member", &[], None)], false),
        &[token, LedgerSetup::Points { name: "PTS".into() }],
    )
    .await;
    let admin = net.admin.pubkey();
    let cases = [
        (0, BonusTrigger::AtLink, UplineError::LinkBonusOnTokenLedger),
        (2, BonusTrigger::AtLink, UplineError::UnknownLedger),
        (3, BonusTrigger::FirstWork, UplineError::UnknownLedger),
    ];
    for (ledger, trigger, error) in cases {
        let t = tables(&[class("member", &[], Some(("1", ledger, trigger)))], false);
        chain
            .expect_refusal(
                &[ix::update_tables(&admin, &net.key, t)],
                &[&net.admin],
                error,
                &[net.key],
            )
            .await;
    }
    // Points at link and tokens at first work are fine.
    for (ledger, trigger) in [(1, BonusTrigger::AtLink), (0, BonusTrigger::FirstWork)] {
        let t = tables(&[class("member", &[], Some(("1", ledger, trigger)))], false);
        chain
            .send(&[ix::update_tables(&admin, &net.key, t)], &[&net.admin])
            .await
            .expect("valid bonus ledger");
    }
}

/// Found by the structure-aware instruction fuzz: a commission rate near
/// u64::MAX overflowed the sum of a class's rates and panicked the program
/// (`ProgramFailedToComplete`) instead of refusing the tables by name.
#[tokio::test]
async fn a_huge_commission_rate_is_refused_not_a_panic() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let mut t = net.state(&mut chain).await.tables;
    t.classes[0].commission_rates = [
        upline::math::Ppm(u64::MAX),
        upline::math::Ppm(1),
        upline::math::Ppm(0),
    ];
    t.classes[0].referral_depth = 2;
    let admin = net.admin.pubkey();
    chain
        .expect_refusal(
            &[ix::update_tables(&admin, &net.key, t)],
            &[&net.admin],
            UplineError::InvalidTables,
            &[net.key],
        )
        .await;
}
