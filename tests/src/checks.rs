//! Whole-network checks that end every multi-step test.

use crate::{Chain, TestNetwork};
use anchor_lang::prelude::Pubkey;
use std::collections::HashMap;
use upline::math::Wad;
use upline::state::Member;
use upline_sdk::graph::recount_downline;

/// DESIGN.md §6, per ledger: the credits the test expects (computed by the test
/// from the rules, independently of the program) equal what the members hold
/// plus what they withdrew, exactly; members' withdrawals match the ledger's;
/// and a token vault holds exactly funded - withdrawn. The members are every
/// membership the listed `wallets` joined.
pub async fn assert_accounting(
    chain: &mut Chain,
    network: &TestNetwork,
    wallets: &[Pubkey],
    expected_credits: &[Wad],
) {
    let no_strays = vec![0; network.ledgers.len()];
    assert_accounting_with_strays(chain, network, wallets, expected_credits, &no_strays).await;
}

/// [`assert_accounting`] for a vault that also received `strays` base units by
/// plain transfers (not funding, not withdrawable): vault = funded - withdrawn + strays.
pub async fn assert_accounting_with_strays(
    chain: &mut Chain,
    network: &TestNetwork,
    wallets: &[Pubkey],
    expected_credits: &[Wad],
    strays: &[u64],
) {
    assert_eq!(
        expected_credits.len(),
        network.ledgers.len(),
        "one expected total per ledger"
    );
    assert_eq!(
        strays.len(),
        network.ledgers.len(),
        "one stray amount per ledger"
    );
    let mut members = Vec::new();
    for member in memberships(network, wallets) {
        members.push(network.member_at(chain, &member).await);
    }
    for ((ledger, expected), stray) in network.ledgers.iter().zip(expected_credits).zip(strays) {
        let state = network.ledger_state(chain, ledger.index).await;
        let mut balances = Wad::ZERO;
        let mut withdrawn = Wad::ZERO;
        for member in &members {
            let slot = &member.ledgers[usize::from(ledger.index)];
            balances = balances
                .checked_add(slot.balance().expect("balance"))
                .expect("sum");
            withdrawn = withdrawn.checked_add(slot.withdrawn).expect("sum");
        }
        let held = balances.checked_add(withdrawn).expect("sum");
        assert_eq!(
            held, *expected,
            "ledger {}: balances + withdrawals != credits",
            ledger.index
        );
        let ledger_withdrawn =
            Wad(state.withdrawn * Wad::per_base_unit(state.decimals).expect("decimals"));
        assert_eq!(
            withdrawn, ledger_withdrawn,
            "ledger {}: members' withdrawals != ledger's",
            ledger.index
        );
        if ledger.mint.is_some() {
            let vault = chain.token_balance(&state.vault).await;
            assert_eq!(
                vault,
                u64::try_from(state.funded - state.withdrawn).expect("vault fits u64") + stray,
                "ledger {}: vault != funded - withdrawn",
                ledger.index
            );
        }
    }
}

/// Every membership the listed wallets joined, each once.
fn memberships(network: &TestNetwork, wallets: &[Pubkey]) -> Vec<Pubkey> {
    let mut out: Vec<Pubkey> = Vec::new();
    for wallet in wallets {
        let held = network.memberships(wallet);
        assert!(!held.is_empty(), "{wallet} has not joined");
        for member in held {
            if !out.contains(&member) {
                out.push(member);
            }
        }
    }
    out
}

/// The stored downline counts equal a recount of the stored links, keyed by
/// member account, over every membership the listed wallets joined.
pub async fn assert_downline_matches_graph(
    chain: &mut Chain,
    network: &TestNetwork,
    wallets: &[Pubkey],
) {
    let mut members: HashMap<Pubkey, Member> = HashMap::new();
    for member in memberships(network, wallets) {
        members.insert(member, network.member_at(chain, &member).await);
    }
    let counted =
        recount_downline(members.iter()).expect("the stored links form a graph of listed members");
    for (member, state) in &members {
        assert_eq!(
            state.downline, counted[member],
            "downline of member {member}"
        );
    }
}
