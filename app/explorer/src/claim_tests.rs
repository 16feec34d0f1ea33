//! The claim endpoints' pure parts: refusals named in the member's terms,
//! amounts, the withdraw found in a signed transaction, token accounts.

use crate::claim::{chain_of, token_amount};
use crate::claim_tx::{amount, find_withdraw, refusal, Claim};
use anchor_lang::prelude::Pubkey;
use serde_json::Value;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;
use upline::errors::UplineError;
use upline::state::{label, CircuitBreaker, Ledger, LedgerKind};
use upline_sdk::client::TxFailure;
use upline_sdk::ix::{self, TokenDestination};
use upline_sdk::pda;

/// CXPT as the cxmpute preset has it: 9 decimals, a minimum of 1.
fn cxpt() -> Ledger {
    Ledger {
        bump: 0,
        vault_bump: 0,
        network: Pubkey::new_unique(),
        index: 0,
        name: label("CXPT").expect("a label"),
        kind: LedgerKind::Token,
        mint: Pubkey::new_unique(),
        token_program: Pubkey::new_unique(),
        vault: Pubkey::new_unique(),
        decimals: 9,
        min_withdrawal: 1_000_000_000,
        circuit_breaker: CircuitBreaker::default(),
        funded: 0,
        withdrawn: 0,
        accepted_freeze_authority: Pubkey::default(),
    }
}

fn said(failure: TxFailure, amount: Option<u64>) -> (u16, Value) {
    let ledger = cxpt();
    let response = refusal(
        &failure,
        &Claim {
            ledger: &ledger,
            amount,
        },
        None,
    );
    let body = serde_json::from_str(&response.body).expect("JSON");
    (response.status, body)
}

#[test]
fn refusals_are_named_in_the_members_terms() {
    let custom = |e: UplineError| TxFailure::Custom {
        instruction: 1,
        code: u32::from(e),
    };
    let (status, body) = said(custom(UplineError::BelowMinimum), Some(500_000_000));
    assert_eq!(status, 422);
    assert_eq!(
        body["error"],
        "claim 0.5 CXPT: below the 1 CXPT minimum (BelowMinimum)"
    );
    assert_eq!(body["name"], "BelowMinimum");
    let (_, body) = said(custom(UplineError::MemberFrozen), None);
    assert_eq!(
        body["error"],
        "claim all of the CXPT balance: the member is frozen: it earns, links and withdraws nothing until unfrozen (MemberFrozen)"
    );
    // An Anchor framework error by its Anchor name, never a number.
    let (_, body) = said(
        TxFailure::Custom {
            instruction: 1,
            code: 3012,
        },
        None,
    );
    assert_eq!(
        body["error"],
        "claim all of the CXPT balance: AccountNotInitialized"
    );
    let (status, _) = said(TxFailure::Transport("connection refused".into()), None);
    assert_eq!(status, 502);
}

#[test]
fn amounts_are_whole_units_with_the_ledgers_decimals() {
    let ledger = cxpt();
    assert_eq!(amount(&ledger, "all").ok(), Some(None));
    assert_eq!(amount(&ledger, "").ok(), Some(None));
    assert_eq!(amount(&ledger, "2").ok(), Some(Some(2_000_000_000)));
    assert_eq!(amount(&ledger, "0.000000001").ok(), Some(Some(1)));
    for bad in ["0.0000000001", "-1", "1e3", "two"] {
        let refused = amount(&ledger, bad).expect_err(bad);
        assert_eq!(refused.status, 400, "{bad}");
        assert!(
            refused.body.contains("at most 9 decimals"),
            "{}",
            refused.body
        );
    }
}

#[test]
fn the_withdraw_of_a_signed_claim_is_found_with_its_accounts() {
    let (wallet, network) = (Pubkey::new_unique(), Pubkey::new_unique());
    let to = TokenDestination {
        mint: Pubkey::new_unique(),
        destination: Pubkey::new_unique(),
        token_program: Pubkey::new_unique(),
    };
    let withdraw = ix::withdraw(&wallet, &network, 1, 0, Some(&to), Some(7));
    let tx = Transaction::new_with_payer(&[withdraw], Some(&wallet));
    let found = find_withdraw(&VersionedTransaction::from(tx)).expect("a withdraw");
    assert_eq!(
        (found.wallet, found.network, found.ledger, found.member),
        (
            wallet,
            network,
            pda::ledger(&network, 0),
            pda::member(&network, &wallet, 1)
        )
    );
    assert_eq!((found.destination, found.amount), (to.destination, Some(7)));
    // Anything else is not a claim.
    let other = ix::set_paused(&wallet, &network, true);
    let tx = Transaction::new_with_payer(&[other], Some(&wallet));
    assert!(find_withdraw(&VersionedTransaction::from(tx)).is_none());
}

#[test]
fn token_accounts_and_chains() {
    let mut data = vec![0u8; 165];
    data[64..72].copy_from_slice(&2_000_000_000u64.to_le_bytes());
    assert_eq!(token_amount(Some(&data)), 2_000_000_000);
    assert_eq!(token_amount(None), 0);
    assert_eq!(token_amount(Some(&data[..70])), 0);
    assert_eq!(chain_of("http://127.0.0.1:8899"), "solana:localnet");
    assert_eq!(chain_of("https://api.devnet.solana.com"), "solana:devnet");
    assert_eq!(
        chain_of("https://api.mainnet-beta.solana.com"),
        "solana:mainnet"
    );
}
