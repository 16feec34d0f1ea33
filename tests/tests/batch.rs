//! Batches of reports: all-or-nothing, what they lock, and how many fit.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use std::collections::BTreeSet;
use upline::errors::UplineError;
use upline::instructions::RentalReportArgs;
use upline::state::{Endpoint, Service};
use upline_sdk::ix;
use upline_tests::reports::{bandwidth, compute, hash32, model, usage, WORKED_NOW};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

/// Solana's packet limit: the most a legacy transaction may take on the wire.
const PACKET_DATA_SIZE: usize = 1232;

fn wire_size(instructions: &[Instruction], payer: &Pubkey) -> usize {
    let tx = Transaction::new_with_payer(instructions, Some(payer));
    let signatures = usize::from(tx.message.header.num_required_signatures);
    // short-vec length of the signatures (1 byte below 128) + signatures + message.
    1 + 64 * signatures + tx.message_data().len()
}

async fn provider(chain: &mut Chain, net: &TestNetwork, upline: &[&Keypair]) -> Keypair {
    let wallet = net.join(chain, 1, upline).await;
    net.attest_provider(chain, &wallet.pubkey(), 24).await;
    wallet
}

/// `count` providers, each at the bottom of its own full three-level upline:
/// the worst case for a batch (no account shared between reports).
async fn separate_chains(chain: &mut Chain, net: &TestNetwork, count: usize) -> Vec<Keypair> {
    let mut bottoms = Vec::new();
    for _ in 0..count {
        let p0 = provider(chain, net, &[]).await;
        let p1 = provider(chain, net, &[&p0]).await;
        let p2 = provider(chain, net, &[&p1, &p0]).await;
        bottoms.push(provider(chain, net, &[&p2, &p1, &p0]).await);
    }
    bottoms
}

#[tokio::test]
async fn a_batch_is_all_or_nothing() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let bottoms = separate_chains(&mut chain, &net, 2).await;
    let tide = net.join(&mut chain, 1, &[]).await;
    net.attest_provider(&mut chain, &tide.pubkey(), 4).await;
    let mut batch = Vec::new();
    for p in &bottoms {
        batch.push(
            net.compute_ix(
                &mut chain,
                &p.pubkey(),
                "llama3-70b",
                compute(1, Service::Chat, 1000, 5_000),
            )
            .await,
        );
    }
    let gated = net
        .compute_ix(
            &mut chain,
            &tide.pubkey(),
            "llama3-70b",
            compute(1, Service::Chat, 1000, 5_000),
        )
        .await;
    let mut watched: Vec<Pubkey> = batch
        .iter()
        .flat_map(|ix| {
            ix.accounts
                .iter()
                .filter(|m| m.is_writable)
                .map(|m| m.pubkey)
        })
        .collect();
    watched.push(net.member(&tide.pubkey()));
    let mut failing = batch.clone();
    failing.push(gated);
    let oracle = net.oracle.insecure_clone();
    let failure = chain.expect_failure(&failing, &[&oracle], &watched).await;
    assert_eq!(
        failure,
        upline_tests::TxFailure::Custom {
            instruction: 2,
            code: u32::from(UplineError::TierTooLow)
        }
    );
    // The same reports without the bad one go through, and count once.
    net.as_oracle(&mut chain, &batch).await.expect("good batch");
    chain
        .expect_refusal(&batch, &[&oracle], UplineError::StaleReport, &watched)
        .await;
}

/// Add the oracle `co` to `net` and require a quorum of 2.
async fn second_oracle(chain: &mut Chain, net: &TestNetwork) -> Keypair {
    let co = chain.wallet().await;
    let admin = net.admin.pubkey();
    let ixs = [
        ix::add_oracle(&admin, &admin, &net.key, &co.pubkey()),
        ix::set_oracle_quorum(&admin, &net.key, 2),
    ];
    chain.send(&ixs, &[&net.admin]).await.expect("quorum of 2");
    co
}

#[tokio::test]
async fn reports_write_only_the_member_accounts_they_credit() {
    let mut chain = Chain::start().await;
    let cx = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let p = separate_chains(&mut chain, &cx, 1).await.remove(0);
    let u0 = cx.join(&mut chain, 0, &[]).await;
    let u1 = cx.join(&mut chain, 0, &[&u0]).await;
    // Cxmpute's reports are approved by two oracles: both registrations are written.
    let co = second_oracle(&mut chain, &cx).await;
    let clore = TestNetwork::from_preset(&mut chain, "clore").await;
    let a = clore.join(&mut chain, 0, &[]).await;
    let renter = clore.join(&mut chain, 0, &[&a]).await;
    let host = clore.join(&mut chain, 0, &[&a]).await;
    let aether = TestNetwork::from_preset(&mut chain, "aether").await;
    let user = aether.join(&mut chain, 0, &[]).await;
    let node = aether.join(&mut chain, 1, &[&user]).await;
    aether
        .as_oracle(
            &mut chain,
            &[aether.attest_node_ix(&node.pubkey(), "f", "s")],
        )
        .await
        .expect("attest");

    let rental = RentalReportArgs {
        id: 1,
        work_time: WORKED_NOW,
        ledger: 0,
        renter_base_fee: 1,
        renter_extra_fee: 0,
        host_base_fee: 1,
        host_extra_fee: 0,
    };
    let co_signed = |ix| ix::with_co_signers(ix, &cx.key, &[co.pubkey()]);
    let compute_ix = cx
        .compute_ix(
            &mut chain,
            &p.pubkey(),
            "llama3-70b",
            compute(1, Service::Chat, 1, 1),
        )
        .await;
    let usage_ix = cx
        .usage_ix(&mut chain, &u1.pubkey(), usage(1, Endpoint::Chat, 1))
        .await;
    let cases = [
        (&cx, co_signed(compute_ix), 4, vec![co.pubkey()]),
        (&cx, co_signed(usage_ix), 2, vec![co.pubkey()]),
        (
            &clore,
            clore
                .rental_ix(&mut chain, &renter.pubkey(), &host.pubkey(), rental)
                .await,
            3,
            vec![],
        ),
        (
            &aether,
            aether
                .bandwidth_ix(
                    &mut chain,
                    &node.pubkey(),
                    Some(("f", "s")),
                    bandwidth(1, 1, 1, 1, 1_000_000),
                )
                .await,
            2,
            vec![],
        ),
    ];
    for (net, ix, members, co_signers) in cases {
        let what = format!("{:?}", ix.data[..8].to_vec());
        let writable: BTreeSet<Pubkey> = ix
            .accounts
            .iter()
            .filter(|m| m.is_writable)
            .map(|m| m.pubkey)
            .collect();
        // Exactly the approving oracles' registrations, which count what
        // they approve against their caps...
        let mut approvers = vec![net.oracle.pubkey()];
        approvers.extend(&co_signers);
        let registrations: BTreeSet<Pubkey> = approvers
            .iter()
            .map(|key| upline_sdk::pda::oracle(&net.key, key))
            .collect();
        assert_eq!(registrations.len(), 1 + co_signers.len());
        assert!(registrations.is_subset(&writable), "{what}");
        // ...and otherwise member accounts (owned by the program, decoding as members).
        let others: Vec<&Pubkey> = writable.difference(&registrations).collect();
        for key in &others {
            let state: upline::state::Member = chain.account(key).await;
            assert_eq!(state.network, net.key, "{what}");
        }
        assert_eq!(others.len(), members, "{what}");
        let mut shared = vec![net.key, upline_sdk::pda::reward_tables(&net.key)];
        for ledger in &net.ledgers {
            shared.push(ledger.address);
            if ledger.mint.is_some() {
                shared.push(upline_sdk::pda::vault(&ledger.address));
            }
        }
        shared.push(upline_sdk::pda::model(&net.key, &model("llama3-70b")));
        shared.push(upline_sdk::pda::device(&net.key, &hash32("f")));
        shared.push(upline_sdk::pda::subnet(&net.key, &hash32("s")));
        for key in shared {
            assert!(
                !writable.contains(&key),
                "{what}: a network-wide account ({key}) is writable"
            );
        }
        // The accounts the report names that are not writable include the
        // network-wide ones it reads (the network, the tables, its ledger...).
        assert!(ix
            .accounts
            .iter()
            .any(|m| m.pubkey == net.key && !m.is_writable));
        let mut signers = vec![net.oracle.insecure_clone()];
        if !co_signers.is_empty() {
            signers.push(co.insecure_clone());
        }
        let signers: Vec<&Keypair> = signers.iter().collect();
        let events = chain.send(&[ix], &signers).await.expect(&what);
        assert!(!events.is_empty(), "{what}");
    }
}

#[tokio::test]
async fn how_many_full_upline_compute_reports_fit_one_legacy_transaction() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    // On a cluster the oracle pays for its own reports: it is the fee payer and only signer.
    let payer = net.oracle.pubkey();
    let oracle = net.oracle.insecure_clone();
    let bottoms = separate_chains(&mut chain, &net, 8).await;
    let mut batch = Vec::new();
    for p in &bottoms {
        let ix = net
            .compute_ix(
                &mut chain,
                &p.pubkey(),
                "llama3-70b",
                compute(1, Service::Chat, 1000, 5_000),
            )
            .await;
        let mut longer = batch.clone();
        longer.push(ix);
        if wire_size(&longer, &payer) > PACKET_DATA_SIZE {
            break;
        }
        batch = longer;
    }
    let worst = batch.len();
    println!(
        "legacy transaction: {worst} compute reports with separate full uplines, {} bytes",
        wire_size(&batch, &payer)
    );
    assert!(worst >= 5, "only {worst} full-upline reports fit");
    chain
        .send_paid_by(&oracle, &batch)
        .await
        .expect("the largest batch goes through");

    // Reports about one provider share its upline: many more fit.
    let p = &bottoms[0];
    let mut same = Vec::new();
    for id in 2.. {
        let ix = net
            .compute_ix(
                &mut chain,
                &p.pubkey(),
                "llama3-70b",
                compute(id, Service::Chat, 1000, 5_000),
            )
            .await;
        let mut longer = same.clone();
        longer.push(ix);
        if wire_size(&longer, &payer) > PACKET_DATA_SIZE {
            break;
        }
        same = longer;
    }
    println!(
        "legacy transaction: {} compute reports about one provider, {} bytes",
        same.len(),
        wire_size(&same, &payer)
    );
    assert!(same.len() > worst);
    chain
        .send_paid_by(&oracle, &same)
        .await
        .expect("a batch about one provider");
}
