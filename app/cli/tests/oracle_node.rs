//! `upline oracle run` (issue 17): every bad request is refused with its
//! reason and nothing of it queued or sent; 5,000 reports posted while the
//! node is killed (SIGKILL, then SIGTERM) three times at random moments and
//! the sandbox drops every tenth transaction are each recorded exactly once,
//! and every member's totals are what the preset's figures say.

mod common;
#[path = "common/node.rs"]
mod node;
#[path = "common/node_world.rs"]
mod node_world;

use common::{network_address, stdout, write, Sandbox, Server};
use node::{
    call, get, post, queued, refused, sandbox_drops, usage, wait_settled, write_token, Node,
    NodeArgs, TOKEN,
};
use node_world::{expected, points, world, Report, Rng};
use reqwest::Method;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_refused_with_their_reason_and_nothing_is_queued_or_sent() {
    let s = Sandbox::start("oracle-node-input");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let network = network_address(&s.init("cxmpute", &oracle));
    let alice = s.wallet("alice");
    s.join("alice", &network, "user", None);
    let stranger = s.wallet("stranger");
    // Ids 1 and 2 are on chain before the node starts.
    let first = [usage(1, &alice, 1000), usage(2, &alice, 2000)].concat();
    let file = write(&s.dir.join("first.jsonl"), &first);
    let out = s.submit("oracle", &file, &network, &[]);
    assert!(out.status.success(), "{}", stdout(&out));

    let mut args = NodeArgs {
        cluster: s.url.clone(),
        keypair: s.key("oracle"),
        network: network.clone(),
        db: s.dir.join("queue.sqlite"),
        token_file: write_token(&s.dir, TOKEN),
        // Nothing is sent while the refusals are checked.
        extra: ["--batch-ms", "600000", "--batch-size", "100000"]
            .map(String::from)
            .to_vec(),
    };
    let node = Node::start(&args);
    let url = node.url.clone();
    let client = reqwest::Client::new();
    let good = usage(5, &alice, 5000);

    refused(
        &post(&client, &url, None, &good).await,
        401,
        "Unauthorized: no bearer token",
    );
    refused(
        &post(&client, &url, Some("guess"), &good).await,
        401,
        "Unauthorized: wrong bearer token",
    );
    let malformed = [
        usage(3, &alice, 1000),
        "{\"kind\": \"usage\", \"id\": 4,\n".into(),
    ]
    .concat();
    let answer = post(&client, &url, Some(TOKEN), &malformed).await;
    refused(
        &answer,
        400,
        "MalformedReport: 1 malformed line(s), nothing queued",
    );
    assert!(
        answer.json["reasons"][0]
            .as_str()
            .unwrap_or("")
            .starts_with("request:2: "),
        "{}",
        answer.text
    );
    let unknown = [usage(3, &alice, 1000), usage(1, &stranger, 1000)].concat();
    refused(
        &post(&client, &url, Some(TOKEN), &unknown).await,
        422,
        &format!("request:2: unknown member {stranger}: it has not joined this network as a user"),
    );
    refused(
        &post(&client, &url, Some(TOKEN), &usage(2, &alice, 9000)).await,
        422,
        "request:1: StaleReport: id 2 is not above 2, the last id recorded on chain",
    );
    let elsewhere = format!(
        "{{\"kind\": \"usage\", \"id\": 3, \"user\": \"{alice}\", \"endpoint\": \"chat\", \"tokens\": 1000, \"network\": \"{oracle}\"}}\n"
    );
    refused(
        &post(&client, &url, Some(TOKEN), &elsewhere).await,
        422,
        "request:1: WrongNetwork: the report is for network",
    );

    let accepted = post(&client, &url, Some(TOKEN), &good).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert_eq!(accepted.json["queued"], 1, "{}", accepted.text);
    refused(
        &post(&client, &url, Some(TOKEN), &usage(4, &alice, 1000)).await,
        422,
        "request:1: StaleReport: id 4 is not above 5, already queued",
    );
    // The same report posted again (a backend retrying) is acknowledged once.
    let again = post(&client, &url, Some(TOKEN), &good).await;
    let repeated = (
        again.json["queued"].as_u64(),
        again.json["repeated"].as_u64(),
    );
    assert_eq!(
        (again.status, repeated),
        (200, (Some(0), Some(1))),
        "{}",
        again.text
    );

    // Nothing of a refused request is queued: not its good lines either.
    for id in [3, 4, 6] {
        let found = get(&client, &url, &format!("/reports/{id}?member={alice}")).await;
        assert_eq!(found.status, 404, "id {id}: {}", found.text);
    }
    let five = get(&client, &url, &format!("/reports/5?member={alice}")).await;
    assert_eq!(five.json["status"], "queued", "{}", five.text);
    assert_eq!(queued(&client, &url).await["queued"], 1);
    let metrics = call(&client, Method::GET, &format!("{url}/metrics"), None, None)
        .await
        .expect("metrics");
    assert!(
        metrics.text.contains("upline_oracle_node_queue_depth 1\n"),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains("upline_oracle_node_reports_rejected_total 0\n"),
        "{}",
        metrics.text
    );
    assert!(node.stop(libc::SIGTERM).success());

    // Sent at last: the member's work is ids 1, 2 and 5 (2 + 3 + 6 points), nothing refused.
    args.extra = vec!["--batch-ms".into(), "50".into()];
    let node = Node::start(&args);
    wait_settled(&client, &node.url, 1, Duration::from_secs(60)).await;
    let five = get(&client, &node.url, &format!("/reports/5?member={alice}")).await;
    assert_eq!(five.json["status"], "recorded", "{}", five.text);
    assert!(five.json["signature"].is_string(), "{}", five.text);
    let work = &s.stats(&network, &alice)["ledgers"];
    let points_ledger = work
        .as_array()
        .and_then(|l| l.iter().find(|l| l["ledger"] == "POINTS"))
        .expect("POINTS");
    assert_eq!(
        node_world::hundredths(points_ledger["totals"]["work"].as_str().unwrap_or("")),
        1_100
    );
    assert!(node.stop(libc::SIGTERM).success());
}

/// Reported members (the first 7 of the tree have partial uplines and are reported on by none).
const MEMBERS: usize = 207;
const REPORTED_FROM: usize = 7;
const REQUESTS: usize = 50;
const IDS: u64 = 25;

async fn faults(name: &str, signal: i32) {
    let started = Instant::now();
    let mut rng = Rng::seeded(name);
    // UPLINE_TEST_DROP_EVERY=N changes how often the sandbox drops (0: never).
    let every = std::env::var("UPLINE_TEST_DROP_EVERY").unwrap_or_else(|_| "10".into());
    let drops = every != "0" && sandbox_drops();
    let mut sandbox_args = vec!["sandbox", "--port", "0"];
    if drops {
        sandbox_args.extend(["--drop-every", every.as_str()]);
    } else {
        eprintln!(
            "{name}: the sandbox drops no transactions (--drop-every {every}, offered: {})",
            sandbox_drops()
        );
    }
    let sandbox = Server::start(&sandbox_args);
    let dir = std::env::temp_dir().join(format!("upline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let world = world(&sandbox.url, &dir, MEMBERS).await;
    eprintln!(
        "{name}: {MEMBERS} members set up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut reports = Vec::new();
    for id in 1..=IDS {
        for member in REPORTED_FROM..MEMBERS {
            reports.push(Report {
                member,
                id,
                tokens: 1000 * rng.below(10),
            });
        }
    }
    let bodies: Vec<String> = reports
        .chunks(reports.len() / REQUESTS)
        .map(|chunk| chunk.iter().map(|r| r.line(&world)).collect())
        .collect();
    let mut kills: Vec<usize> = Vec::new();
    while kills.len() < 3 {
        let at = 1 + rng.below(REQUESTS as u64 - 1) as usize;
        if !kills.contains(&at) {
            kills.push(at);
        }
    }
    let delays: Vec<u64> = (0..3).map(|_| rng.below(1500)).collect();
    eprintln!("{name}: {} reports in {REQUESTS} requests; signal {signal} while posting request {kills:?}, after {delays:?} ms", reports.len());

    let args = NodeArgs {
        cluster: sandbox.url.clone(),
        keypair: world.oracle.clone(),
        network: world.network.to_string(),
        db: dir.join("queue.sqlite"),
        token_file: write_token(&dir, TOKEN),
        extra: vec!["--batch-ms".into(), "200".into()],
    };
    let client = reqwest::Client::new();
    let mut node = Node::start(&args);
    let posting = Instant::now();
    for (i, body) in bodies.iter().enumerate() {
        let mut answer = None;
        if let Some(k) = kills.iter().position(|k| *k == i) {
            let (c, url, b) = (client.clone(), node.url.clone(), body.clone());
            let pending = tokio::spawn(async move {
                call(
                    &c,
                    Method::POST,
                    &format!("{url}/reports"),
                    Some(TOKEN),
                    Some(b),
                )
                .await
            });
            tokio::time::sleep(Duration::from_millis(delays[k])).await;
            let status = node.stop(signal);
            if signal == libc::SIGTERM {
                assert!(status.success(), "SIGTERM: the node exits 0, not {status}");
            }
            node = Node::start(&args);
            answer = pending
                .await
                .expect("the post's task")
                .ok()
                .filter(|a| a.status == 200);
        }
        // Unanswered (the node stopped under it): the backend posts it again.
        let answer = match answer {
            Some(a) => a,
            None => post(&client, &node.url, Some(TOKEN), body).await,
        };
        assert_eq!(answer.status, 200, "request {i}: {}", answer.text);
        let acknowledged = answer.json["reports"].as_array().map_or(0, Vec::len);
        assert_eq!(
            acknowledged,
            reports.len() / REQUESTS,
            "request {i}: {}",
            answer.text
        );
    }
    let posted = posting.elapsed().as_secs_f64();
    let settled = wait_settled(
        &client,
        &node.url,
        reports.len() as u64,
        Duration::from_secs(300),
    )
    .await;
    eprintln!(
        "{name}: posted in {posted:.1} s, all settled after {:.1} s: {settled}",
        posting.elapsed().as_secs_f64()
    );
    assert_eq!(settled["rejected"], 0, "{settled}");
    let recorded = settled["recorded"].as_u64().unwrap_or(0)
        + settled["already_recorded"].as_u64().unwrap_or(0);
    assert_eq!(recorded, reports.len() as u64, "{settled}");

    // Each report is on chain exactly once: each member's totals are the sum of its reports'.
    let mut rpc = upline_sdk::rpc::RpcCluster::connect(&sandbox.url)
        .await
        .expect("connect");
    let want = expected(MEMBERS, &reports);
    for (i, wallet) in world.wallets.iter().enumerate() {
        let stats = upline_cli::stats::stats(&mut rpc, world.network, *wallet)
            .await
            .expect("stats");
        assert_eq!(
            points(&stats),
            want[i],
            "member {i} ({wallet}): [work, level 1-3, direct bonus] in hundredths"
        );
    }
    // And each acknowledged report's status says so.
    let sample = &reports[rng.below(reports.len() as u64) as usize];
    let wallet = world.wallets[sample.member];
    let one = get(
        &client,
        &node.url,
        &format!("/reports/{}?member={wallet}", sample.id),
    )
    .await;
    assert!(
        ["recorded", "already_recorded"].contains(&one.json["status"].as_str().unwrap_or("")),
        "{}",
        one.text
    );
    let metrics = call(
        &client,
        Method::GET,
        &format!("{}/metrics", node.url),
        None,
        None,
    )
    .await
    .expect("metrics");
    assert!(
        metrics.text.contains("upline_oracle_node_queue_depth 0\n"),
        "{}",
        metrics.text
    );
    assert!(node.stop(libc::SIGTERM).success());
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "{name}: {:.1} s in all (dropped transactions: {drops})",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_survive_sigkill_and_dropped_transactions_recorded_exactly_once() {
    faults("oracle-node-sigkill", libc::SIGKILL).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_survive_sigterm_and_dropped_transactions_recorded_exactly_once() {
    faults("oracle-node-sigterm", libc::SIGTERM).await;
}
