#![allow(deprecated)]
use solana_signer::Signer;
use upline::errors::UplineError;
use upline_sdk::events::UplineEvent;
use upline_sdk::ix;
use upline_tests::{Chain, TestNetwork};

#[tokio::test]
async fn cxmpute_join_link_pays_bonus() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let a = net.join(&mut chain, 1, &[]).await;
    let b = chain.wallet().await;
    let ixj = ix::join(&b.pubkey(), &b.pubkey(), &net.key, 1, &[a.pubkey()]);
    let events = chain.send(&[ixj], &[&b]).await.expect("join");
    let names: Vec<&str> = events.iter().map(UplineEvent::name).collect();
    assert_eq!(
        names,
        ["MemberJoined", "ReferrerLinked", "DirectBonusCredited"]
    );
    let m = net.member_state(&mut chain, &a.pubkey()).await;
    assert_eq!(m.ledgers[1].bonus.to_string(), "50");
    let again = ix::join(&b.pubkey(), &b.pubkey(), &net.key, 1, &[]);
    chain
        .expect_refusal(&[again], &[&b], UplineError::AlreadyMember, &[net.key])
        .await;
}
