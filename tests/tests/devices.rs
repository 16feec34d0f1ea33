//! Device deregistration (Aether): the admin removes a node's attested
//! device; its subnet counts one node fewer (the referral weight of the
//! nodes left there moves accordingly), the node's reports are refused until
//! an oracle attests it again, on a new device or the same one.
#![allow(deprecated)]

use solana_account::AccountSharedData;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::events::BandwidthReported;
use upline::math::Wad;
use upline::state::{MemberFlags, Subnet};
use upline_sdk::events::UplineEvent;
use upline_sdk::{ix, pda};
use upline_tests::checks::assert_accounting;
use upline_tests::oracles::wad;
use upline_tests::refusal::Refusal;
use upline_tests::reports::{bandwidth, hash32};
use upline_tests::tokens::TOKEN;
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

const USER: u8 = 0;
const NODE: u8 = 1;
const GB: u64 = 1_000_000_000;

async fn aether(chain: &mut Chain) -> TestNetwork {
    TestNetwork::from_preset_with(chain, "aether", |p| p.early_bonus = None).await
}

/// A node under `referrer`, attested on device `fingerprint` in `subnet`.
async fn node(
    chain: &mut Chain,
    net: &TestNetwork,
    referrer: &Keypair,
    fingerprint: &str,
    subnet: &str,
) -> Keypair {
    let wallet = net.join(chain, NODE, &[referrer]).await;
    attest(chain, net, &wallet, fingerprint, subnet).await;
    wallet
}

/// Attest `wallet` on (`fingerprint`, `subnet`); the subnet's nodes after.
async fn attest(
    chain: &mut Chain,
    net: &TestNetwork,
    wallet: &Keypair,
    fingerprint: &str,
    subnet: &str,
) -> u32 {
    let ix = net.attest_node_ix(&wallet.pubkey(), fingerprint, subnet);
    let events = net.as_oracle(chain, &[ix]).await.expect("attest");
    match &events[..] {
        [UplineEvent::NodeAttested(e)] => e.subnet_nodes,
        other => panic!("unexpected events {other:?}"),
    }
}

/// 1 GB at Q = S = DDM = 1 (a 1 AETH node reward): the event.
async fn report(
    chain: &mut Chain,
    net: &TestNetwork,
    node: &Keypair,
    device: (&str, &str),
    id: u64,
) -> BandwidthReported {
    let args = bandwidth(id, GB, 1_000_000, 1_000_000, 1_000_000);
    let ix = net
        .bandwidth_ix(chain, &node.pubkey(), Some(device), args)
        .await;
    let events = net.as_oracle(chain, &[ix]).await.expect("report");
    match events.into_iter().next() {
        Some(UplineEvent::BandwidthReported(e)) => e,
        other => panic!("unexpected {other:?}"),
    }
}

/// (subnet nodes, referral paid) of a report.
async fn weight(
    chain: &mut Chain,
    net: &TestNetwork,
    node: &Keypair,
    device: (&str, &str),
    id: u64,
) -> (u32, Wad) {
    let e = report(chain, net, node, device, id).await;
    let referral = e.referral.expect("a referrer");
    assert!(!referral.withheld);
    (e.subnet_nodes, referral.amount)
}

/// Deregister `node`'s device as the admin; checks the event, the subnet,
/// the closed device and the node's flag; the nodes left in the subnet.
async fn deregister(
    chain: &mut Chain,
    net: &TestNetwork,
    node: &Keypair,
    (fingerprint, subnet): (&str, &str),
) -> u32 {
    let (f, s) = (hash32(fingerprint), hash32(subnet));
    let device = pda::device(&net.key, &f);
    let admin = net.admin.pubkey();
    let (rent, before) = (chain.lamports(&device).await, chain.lamports(&admin).await);
    let member = net.member(&node.pubkey());
    let ix = ix::deregister_device(&admin, &net.key, &member, (&f, &s));
    let events = chain.send(&[ix], &[&net.admin]).await.expect("deregister");
    let nodes: Subnet = chain.account(&pda::subnet(&net.key, &s)).await;
    let [UplineEvent::DeviceDeregistered(e)] = &events[..] else {
        panic!("unexpected events {events:?}")
    };
    assert_eq!(
        (e.network, e.member, e.wallet, e.fingerprint, e.subnet),
        (net.key, member, node.pubkey(), f, s)
    );
    assert_eq!((e.subnet_nodes, e.at), (nodes.nodes, chain.now));
    assert!(chain.data(&device).await.is_none(), "the device is closed");
    // The sandbox's payer pays the fee: the admin gets the rent back whole.
    assert_eq!(chain.lamports(&admin).await, before + rent);
    let state = net.member_at(chain, &member).await;
    assert!(!state.flags.has(MemberFlags::ATTESTED));
    nodes.nodes
}

#[tokio::test]
async fn deregistration_lowers_the_subnet_count_and_the_node_is_attested_again() {
    let mut chain = Chain::start().await;
    let net = aether(&mut chain).await;
    let r = net.join(&mut chain, USER, &[]).await;
    let n0 = node(&mut chain, &net, &r, "n0", "shared").await;
    let n1 = node(&mut chain, &net, &r, "n1", "shared").await;
    let n2 = node(&mut chain, &net, &r, "n2", "shared").await;
    // Three nodes in the subnet: a referral weight of 1/3 (12% × 1/3).
    let w = weight(&mut chain, &net, &n0, ("n0", "shared"), 1).await;
    assert_eq!(w, (3, wad("0.04")));
    assert_eq!(deregister(&mut chain, &net, &n2, ("n2", "shared")).await, 2);
    // Two left: 1/2 each.
    let w = weight(&mut chain, &net, &n0, ("n0", "shared"), 2).await;
    assert_eq!(w, (2, wad("0.06")));
    let w = weight(&mut chain, &net, &n1, ("n1", "shared"), 1).await;
    assert_eq!(w, (2, wad("0.06")));
    // The deregistered node reports nothing until attested again.
    let oracle = net.oracle.insecure_clone();
    let watched = [net.member(&r.pubkey()), net.member(&n2.pubkey())];
    let args = bandwidth(1, GB, 1_000_000, 1_000_000, 1_000_000);
    let bare = net.bandwidth_ix(&mut chain, &n2.pubkey(), None, args).await;
    chain
        .expect_refusal(&[bare], &[&oracle], UplineError::UnattestedNode, &watched)
        .await;
    let old_device = Some(("n2", "shared"));
    let old = net
        .bandwidth_ix(&mut chain, &n2.pubkey(), old_device, args)
        .await;
    let failure = chain.expect_failure(&[old], &[&oracle], &watched).await;
    assert_eq!(
        Refusal::of(&failure),
        UplineError::UnattestedNode.into(),
        "its old device is gone"
    );
    // On a new device in a new subnet it is alone there: the full weight.
    assert_eq!(attest(&mut chain, &net, &n2, "n2-new", "other").await, 1);
    let w = weight(&mut chain, &net, &n2, ("n2-new", "other"), 1).await;
    assert_eq!(w, (1, wad("0.12")));
    // n1 leaves: n0 alone in the subnet; n1 comes back on the same device.
    assert_eq!(deregister(&mut chain, &net, &n1, ("n1", "shared")).await, 1);
    let w = weight(&mut chain, &net, &n0, ("n0", "shared"), 3).await;
    assert_eq!(w, (1, wad("0.12")));
    assert_eq!(attest(&mut chain, &net, &n1, "n1", "shared").await, 2);
    let w = weight(&mut chain, &net, &n1, ("n1", "shared"), 2).await;
    assert_eq!(w, (2, wad("0.06")));
    let device: upline::state::Device = chain.account(&pda::device(&net.key, &hash32("n1"))).await;
    assert_eq!(
        (device.member, device.subnet, device.attested_at),
        (net.member(&n1.pubkey()), hash32("shared"), chain.now)
    );
    // Node rewards 3 + 2 + 1; referrals 0.04 + 0.06 + 0.06 + 0.12 + 0.12 + 0.06.
    let all = [r.pubkey(), n0.pubkey(), n1.pubkey(), n2.pubkey()];
    assert_accounting(&mut chain, &net, &all, &[wad("6.46")]).await;
    let referrer = net.member_state(&mut chain, &r.pubkey()).await;
    assert_eq!(referrer.ledgers[0].level1, wad("0.46"));
}

#[tokio::test]
async fn only_the_admin_deregisters_a_members_own_device_in_its_subnet() {
    let mut chain = Chain::start().await;
    let net = aether(&mut chain).await;
    let r = net.join(&mut chain, USER, &[]).await;
    let n0 = node(&mut chain, &net, &r, "n0", "shared").await;
    let n1 = node(&mut chain, &net, &r, "n1", "shared").await;
    node(&mut chain, &net, &r, "n2", "other").await;
    let (m0, m1) = (net.member(&n0.pubkey()), net.member(&n1.pubkey()));
    let (f0, f1) = (hash32("n0"), hash32("n1"));
    let (shared, other) = (hash32("shared"), hash32("other"));
    let watched = [
        m0,
        m1,
        pda::device(&net.key, &f0),
        pda::device(&net.key, &f1),
        pda::subnet(&net.key, &shared),
        pda::subnet(&net.key, &other),
    ];
    let admin = net.admin.insecure_clone();
    let intruder = chain.wallet().await;
    let by = |signer: &Keypair, member, device| {
        ix::deregister_device(&signer.pubkey(), &net.key, member, device)
    };
    let cases = [
        (
            by(&intruder, &m0, (&f0, &shared)),
            &intruder,
            UplineError::NotAdmin,
        ),
        // n1's device named as n0's.
        (
            by(&admin, &m0, (&f1, &shared)),
            &admin,
            UplineError::UnattestedNode,
        ),
        // n0's device with a subnet that is not its own.
        (
            by(&admin, &m0, (&f0, &other)),
            &admin,
            UplineError::UnattestedNode,
        ),
    ];
    for (ix, signer, error) in cases {
        chain
            .expect_refusal(&[ix], &[signer], error, &watched)
            .await;
    }
    // A device's member account that no longer loads as a member of the
    // network (its owner changed on the bank: no instruction can do that).
    let real = chain.ctx.banks_client.get_account(m0).await;
    let real = real.expect("bank").expect("n0's member");
    let mut foreign = real.clone();
    foreign.owner = TOKEN;
    chain
        .ctx
        .set_account(&m0, &AccountSharedData::from(foreign));
    let ix = by(&admin, &m0, (&f0, &shared));
    chain
        .expect_refusal(&[ix], &[&admin], UplineError::UnknownMember, &watched)
        .await;
    chain.ctx.set_account(&m0, &AccountSharedData::from(real));
    // Done once; a second time the device account is gone.
    assert_eq!(deregister(&mut chain, &net, &n0, ("n0", "shared")).await, 1);
    let again = by(&admin, &m0, (&f0, &shared));
    let failure = chain.expect_failure(&[again], &[&admin], &watched).await;
    assert_eq!(Refusal::of(&failure), UplineError::UnattestedNode.into());
    let subnet: Subnet = chain.account(&watched[4]).await;
    assert_eq!(subnet.nodes, 1);
}
