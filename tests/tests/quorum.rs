//! Oracle quorum: M of N registered oracles approve every report and
//! attestation, as signers of the same transaction (the primary in the
//! report's accounts, co-signers as (key, registration) pairs after them).
#![allow(deprecated)]

use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use upline::errors::UplineError;
use upline::instructions::UsageReportArgs;
use upline::math::Wad;
use upline::state::{Endpoint, Network};
use upline_sdk::events::UplineEvent;
use upline_sdk::{ix, pda};
use upline_tests::checks::assert_accounting;
use upline_tests::oracles::wad;
use upline_tests::refusal::Refusal;
use upline_tests::reports::{usage, WorkedAt};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

const USER: u8 = 0;
const PROVIDER: u8 = 1;

/// A network of `preset` with oracles A (the network's), B and C, quorum 2.
async fn three_oracles(chain: &mut Chain, preset: &str) -> (TestNetwork, Keypair, Keypair) {
    let net = TestNetwork::from_preset(chain, preset).await;
    let mut added = net.add_oracles(chain, 2).await;
    net.set_quorum(chain, 2).await;
    let state: Network = net.state(chain).await;
    assert_eq!((state.oracle_count, state.oracle_quorum), (3, 2));
    let c = added.pop().expect("C");
    let b = added.pop().expect("B");
    (net, b, c)
}

/// `report_usage` about `user` approved by `primary`, co-signed by `co`.
async fn usage_by(
    chain: &mut Chain,
    net: &TestNetwork,
    primary: &Pubkey,
    co: &[Pubkey],
    user: &Keypair,
    id: u64,
) -> Instruction {
    let member = net.member(&user.pubkey());
    let upline = net.upline_of(chain, &member, 3).await;
    let args: UsageReportArgs = usage(id, Endpoint::Chat, 1000).worked_at(chain.now);
    let report = ix::report_usage(primary, &net.key, &member, &upline, args);
    ix::with_co_signers(report, &net.key, co)
}

fn only_usage(events: &[UplineEvent]) -> &upline::events::UsageReported {
    match events {
        [UplineEvent::UsageReported(e)] => e,
        other => panic!("unexpected events {other:?}"),
    }
}

#[tokio::test]
async fn two_of_three_oracles_approve_and_the_event_names_the_co_signers() {
    let mut chain = Chain::start().await;
    let (net, b, c) = three_oracles(&mut chain, "cxmpute").await;
    let a = net.oracle.insecure_clone();
    let u0 = net.join(&mut chain, USER, &[]).await;
    let u1 = net.join(&mut chain, USER, &[&u0]).await;
    let cases = [(&a, vec![&b], 1), (&a, vec![&b, &c], 2), (&c, vec![&a], 3)];
    for (primary, co, id) in cases {
        let keys: Vec<Pubkey> = co.iter().map(|k| k.pubkey()).collect();
        let report = usage_by(&mut chain, &net, &primary.pubkey(), &keys, &u1, id).await;
        let mut signers = vec![primary];
        signers.extend(co);
        let events = chain.send(&[report], &signers).await.expect("approved");
        let e = only_usage(&events);
        assert_eq!((e.oracle, &e.co_signers), (primary.pubkey(), &keys));
        assert_eq!(e.points, wad("2"));
        let paid: Vec<(Pubkey, Wad, bool)> = e
            .commissions
            .iter()
            .map(|c| (c.member, c.amount, c.withheld))
            .collect();
        assert_eq!(paid, [(net.member(&u0.pubkey()), wad("0.3"), false)]);
    }
    let m = net.member_state(&mut chain, &u1.pubkey()).await;
    assert_eq!(m.ledgers[1].own, wad("6"));
    // Points: 25 at link, 3 × 2 own, 3 × 0.3 commission.
    let all = [u0.pubkey(), u1.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[Wad::ZERO, wad("31.9")]).await;
}

#[tokio::test]
async fn missing_duplicate_unsigned_and_foreign_approvals_are_refused() {
    let mut chain = Chain::start().await;
    let (net, b, c) = three_oracles(&mut chain, "cxmpute").await;
    let a = net.oracle.insecure_clone();
    let other = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let foreign = other.oracle.insecure_clone();
    let u0 = net.join(&mut chain, USER, &[]).await;
    let u1 = net.join(&mut chain, USER, &[&u0]).await;
    let registrations: Vec<Pubkey> = [&a, &b, &c]
        .iter()
        .map(|k| pda::oracle(&net.key, &k.pubkey()))
        .collect();
    let mut watched = vec![net.member(&u0.pubkey()), net.member(&u1.pubkey()), net.key];
    watched.extend(&registrations);
    let now = chain.now;
    let report = |co: &[Pubkey]| {
        let member = net.member(&u1.pubkey());
        let upline = [net.member(&u0.pubkey())];
        let args = usage(1, Endpoint::Chat, 1000).worked_at(now);
        let ix = ix::report_usage(&a.pubkey(), &net.key, &member, &upline, args);
        ix::with_co_signers(ix, &net.key, co)
    };
    let (ka, kb, kc) = (a.pubkey(), b.pubkey(), c.pubkey());
    let mut cases: Vec<(&str, Instruction, Vec<&Keypair>, UplineError)> = vec![
        (
            "one oracle of 2",
            report(&[]),
            vec![&a],
            UplineError::QuorumNotMet,
        ),
        (
            "the primary again",
            report(&[ka]),
            vec![&a],
            UplineError::DuplicateCoSigner,
        ),
        (
            "the same co-signer twice",
            report(&[kb, kb]),
            vec![&a, &b],
            UplineError::DuplicateCoSigner,
        ),
    ];
    let mut unsigned = report(&[kb]);
    unsigned
        .accounts
        .iter_mut()
        .rev()
        .nth(1)
        .expect("key")
        .is_signer = false;
    cases.push((
        "B did not sign",
        unsigned,
        vec![&a],
        UplineError::CoSignerDidNotSign,
    ));
    let mut read_only = report(&[kb]);
    read_only
        .accounts
        .last_mut()
        .expect("registration")
        .is_writable = false;
    cases.push((
        "B's registration read-only",
        read_only,
        vec![&a, &b],
        UplineError::OracleRegistrationReadOnly,
    ));
    let mut odd = report(&[kb]);
    odd.accounts.pop();
    cases.push((
        "a key without registration",
        odd,
        vec![&a, &b],
        UplineError::NotOracle,
    ));
    let mut swapped = report(&[kb]);
    swapped.accounts.last_mut().expect("registration").pubkey = registrations[2];
    cases.push((
        "B with C's registration",
        swapped,
        vec![&a, &b],
        UplineError::NotOracle,
    ));
    let mut elsewhere = report(&[foreign.pubkey()]);
    elsewhere.accounts.last_mut().expect("registration").pubkey =
        pda::oracle(&other.key, &foreign.pubkey());
    cases.push((
        "another network's oracle and registration",
        elsewhere,
        vec![&a, &foreign],
        UplineError::NotOracle,
    ));
    cases.push((
        "another network's oracle, unregistered here",
        report(&[foreign.pubkey()]),
        vec![&a, &foreign],
        UplineError::NotOracle,
    ));
    for (what, ix, signers, error) in cases {
        eprintln!("{what}: expecting {error:?}");
        chain.expect_refusal(&[ix], &signers, error, &watched).await;
    }
    // The primary's own registration read-only: Anchor's `mut` constraint
    // on the report's `oracle` account refuses it first.
    let mut primary_read_only = report(&[kc]);
    primary_read_only.accounts[1].is_writable = false;
    let failure = chain
        .expect_failure(&[primary_read_only], &[&a, &c], &watched)
        .await;
    assert_eq!(Refusal::of(&failure), ErrorCode::ConstraintMut.into());
    // Nothing was used up: the same report, approved, goes through once.
    let events = chain
        .send(&[report(&[kc])], &[&a, &c])
        .await
        .expect("approved");
    assert_eq!(only_usage(&events).co_signers, [kc]);
    chain
        .expect_refusal(
            &[report(&[kb])],
            &[&a, &b],
            UplineError::StaleReport,
            &watched,
        )
        .await;
}

#[tokio::test]
async fn the_quorum_stays_reachable_and_removed_oracles_do_not_count() {
    let mut chain = Chain::start().await;
    let (net, b, c) = three_oracles(&mut chain, "cxmpute").await;
    let a = net.oracle.insecure_clone();
    let admin = net.admin.insecure_clone();
    let user = net.join(&mut chain, USER, &[]).await;
    let watched = [
        net.key,
        pda::oracle(&net.key, &b.pubkey()),
        net.member(&user.pubkey()),
    ];
    for quorum in [0, 4] {
        let set = ix::set_oracle_quorum(&admin.pubkey(), &net.key, quorum);
        chain
            .expect_refusal(&[set], &[&admin], UplineError::QuorumUnreachable, &watched)
            .await;
    }
    let set = ix::set_oracle_quorum(&b.pubkey(), &net.key, 1);
    chain
        .expect_refusal(&[set], &[&b], UplineError::NotAdmin, &watched)
        .await;
    // Removing C leaves 2 oracles for a quorum of 2; its approval then counts for nothing.
    let remove = ix::remove_oracle(&admin.pubkey(), &net.key, &c.pubkey());
    chain.send(&[remove], &[&admin]).await.expect("remove C");
    let by_removed = usage_by(&mut chain, &net, &a.pubkey(), &[c.pubkey()], &user, 1).await;
    chain
        .expect_refusal(&[by_removed], &[&a, &c], UplineError::NotOracle, &watched)
        .await;
    // Removing B would leave 1 oracle for a quorum of 2.
    let remove_b = ix::remove_oracle(&admin.pubkey(), &net.key, &b.pubkey());
    chain
        .expect_refusal(
            std::slice::from_ref(&remove_b),
            &[&admin],
            UplineError::QuorumUnreachable,
            &watched,
        )
        .await;
    let set = ix::set_oracle_quorum(&admin.pubkey(), &net.key, 3);
    chain
        .expect_refusal(&[set], &[&admin], UplineError::QuorumUnreachable, &watched)
        .await;
    let ok = usage_by(&mut chain, &net, &a.pubkey(), &[b.pubkey()], &user, 1).await;
    chain.send(&[ok], &[&a, &b]).await.expect("A and B");
    // Lowered to 1, B may go, and A alone approves.
    net.set_quorum(&mut chain, 1).await;
    let events = chain.send(&[remove_b], &[&admin]).await.expect("remove B");
    assert!(matches!(&events[..], [UplineEvent::OracleRemoved(e)] if e.oracle == b.pubkey()));
    let state = net.state(&mut chain).await;
    assert_eq!((state.oracle_count, state.oracle_quorum), (1, 1));
    let alone = usage_by(&mut chain, &net, &a.pubkey(), &[], &user, 2).await;
    let events = chain.send(&[alone], &[&a]).await.expect("A alone");
    assert!(only_usage(&events).co_signers.is_empty());
}

#[tokio::test]
async fn attestations_need_the_quorum_too() {
    let mut chain = Chain::start().await;
    let (net, b, _) = three_oracles(&mut chain, "cxmpute").await;
    let a = net.oracle.insecure_clone();
    let p = net.join(&mut chain, PROVIDER, &[]).await;
    let member = net.member(&p.pubkey());
    let attest = ix::attest_provider(&a.pubkey(), &net.key, &member, 24_576);
    chain
        .expect_refusal(
            std::slice::from_ref(&attest),
            &[&a],
            UplineError::QuorumNotMet,
            &[member],
        )
        .await;
    let co_signed = ix::with_co_signers(attest, &net.key, &[b.pubkey()]);
    let events = chain.send(&[co_signed], &[&a, &b]).await.expect("attest");
    assert!(
        matches!(&events[..], [UplineEvent::ProviderAttested(e)] if e.co_signers == [b.pubkey()] && e.oracle == a.pubkey() && e.tier == 4)
    );

    let (aether, b, _) = three_oracles(&mut chain, "aether").await;
    let a = aether.oracle.insecure_clone();
    let node = aether.join(&mut chain, 1, &[]).await;
    let attest = aether.attest_node_ix(&node.pubkey(), "dev", "subnet");
    let watched = [aether.member(&node.pubkey())];
    chain
        .expect_refusal(
            std::slice::from_ref(&attest),
            &[&a],
            UplineError::QuorumNotMet,
            &watched,
        )
        .await;
    let co_signed = ix::with_co_signers(attest, &aether.key, &[b.pubkey()]);
    let events = chain.send(&[co_signed], &[&a, &b]).await.expect("attest");
    assert!(
        matches!(&events[..], [UplineEvent::NodeAttested(e)] if e.co_signers == [b.pubkey()] && e.subnet_nodes == 1)
    );
}

#[tokio::test]
async fn a_batch_pays_each_co_signature_once() {
    let mut chain = Chain::start().await;
    let (net, b, c) = three_oracles(&mut chain, "cxmpute").await;
    let a = net.oracle.insecure_clone();
    let u0 = net.join(&mut chain, USER, &[]).await;
    let u1 = net.join(&mut chain, USER, &[&u0]).await;
    let mut batch = Vec::new();
    for id in 1..=6 {
        batch.push(usage_by(&mut chain, &net, &a.pubkey(), &[b.pubkey()], &u1, id).await);
    }
    // Paid by the oracle, as on a cluster: A and B sign once, one report or six.
    let signatures = |ixs: &[Instruction]| {
        let tx = Transaction::new_with_payer(ixs, Some(&a.pubkey()));
        tx.message.header.num_required_signatures
    };
    assert_eq!(signatures(&batch[..1]), 2);
    assert_eq!(signatures(&batch), 2);
    let events = chain.send(&batch, &[&a, &b]).await.expect("batch");
    assert_eq!(events.len(), 6);
    for event in &events {
        let UplineEvent::UsageReported(e) = event else {
            panic!("{event:?}")
        };
        assert_eq!(
            (e.oracle, &e.co_signers[..]),
            (a.pubkey(), &[b.pubkey()][..])
        );
    }
    // The recorded transaction: the sandbox's fee payer, A and B.
    let recorded = chain.journal.last().expect("journal");
    assert_eq!(recorded.transaction.signatures.len(), 3);
    // Quorum 3: one more signature, still once for the batch.
    net.set_quorum(&mut chain, 3).await;
    let mut batch = Vec::new();
    for id in 7..=12 {
        let co = [b.pubkey(), c.pubkey()];
        batch.push(usage_by(&mut chain, &net, &a.pubkey(), &co, &u1, id).await);
    }
    assert_eq!(signatures(&batch), 3);
    let events = chain.send(&batch, &[&a, &b, &c]).await.expect("batch");
    assert_eq!(events.len(), 6);
    let recorded = chain.journal.last().expect("journal");
    assert_eq!(recorded.transaction.signatures.len(), 4);
    let m = net.member_state(&mut chain, &u1.pubkey()).await;
    assert_eq!(m.ledgers[1].own, wad("24"), "12 reports of 2 points");
}
