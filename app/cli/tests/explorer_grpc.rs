//! The explorer following `upline sandbox` live over Yellowstone gRPC: the
//! index it builds equals the one JSON-RPC indexing builds of the same chain
//! (transactions, events, typed tables, and the program's accounts), through
//! a dropped connection (a proxy that cuts every stream and refuses new ones
//! while transactions land) and a follower that stopped and catches up.

mod common;

use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use upline_explorer::geyser::{catch_up, follow, Followed, GrpcEndpoint};
use upline_explorer::source::index_rpc;
use upline_explorer::Store;
use upline_sdk::rpc::RpcCluster;

/// The sandbox's gRPC URL, from its banner.
fn grpc_url(sandbox: &Sandbox) -> String {
    let banner = sandbox.server.lines.join("\n");
    let (_, after) = banner
        .split_once("Yellowstone gRPC on ")
        .unwrap_or_else(|| panic!("a gRPC URL in the banner: {banner}"));
    after
        .split([';', ',', ' ', '\n'])
        .next()
        .expect("the URL")
        .to_string()
}

/// A TCP proxy in front of the gRPC port that can cut every connection and
/// refuse new ones (a provider's server going away), then take them again.
struct Proxy {
    port: u16,
    open: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let open = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0u64);
        let (accepting, cut_watch) = (Arc::clone(&open), cuts.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes at once
                }
                let upstream = upstream.clone();
                let mut cut = cut_watch.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy { port, open, cuts }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// The index's content as JSON-RPC and gRPC both give it: every table but
/// the accounts, and the accounts without the slot they were read at.
async fn content(store: &Store) -> (Vec<String>, Vec<String>) {
    let (accounts, rest): (Vec<String>, Vec<String>) = index_dump(store)
        .await
        .into_iter()
        // What an audit of the served index keeps is not indexed content.
        .filter(|line| !line.starts_with("audit_"))
        .partition(|line| line.starts_with("accounts: "));
    let program_accounts = accounts
        .iter()
        .filter_map(|line| {
            let fields: Vec<&str> = line.trim_start_matches("accounts: ").split(" | ").collect();
            // address | kind | network | slot | data
            (fields.len() == 5).then(|| {
                format!(
                    "{} | {} | {} | {}",
                    fields[0], fields[1], fields[2], fields[4]
                )
            })
        })
        .collect();
    (rest, program_accounts)
}

async fn transactions(store: &Store) -> i64 {
    store
        .number("SELECT COUNT(*) FROM transactions")
        .await
        .expect("count")
}

/// JSON-RPC indexing of the sandbox into `reference`, then wait for the
/// follower's index to hold as many transactions, and compare the two.
async fn agrees_with_json_rpc(reference: &Store, followed: &Store, url: &str, when: &str) {
    let mut cluster = RpcCluster::connect(url).await.expect("JSON-RPC");
    index_rpc(reference, &mut cluster, &mut |_, _| {})
        .await
        .expect("JSON-RPC indexing");
    let expected = transactions(reference).await;
    let want = content(reference).await;
    // A hang guard, not a speed assertion: the follower streams within a second.
    for _ in 0..1_200 {
        if content(followed).await == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (want, want_accounts) = want;
    assert!(!want_accounts.is_empty(), "{when}: no accounts to compare");
    let (got, got_accounts) = content(followed).await;
    assert_eq!(
        transactions(followed).await,
        expected,
        "{when}: transactions"
    );
    assert_eq!(got, want, "{when}: the index differs from JSON-RPC's");
    assert_eq!(
        got_accounts, want_accounts,
        "{when}: the program's accounts"
    );
}

async fn store(dir: &std::path::Path, name: &str) -> Store {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    Store::open(path.to_str().expect("utf-8"))
        .await
        .expect("open")
}

/// Run blocking `upline` commands without stalling the follower's task.
fn cli<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_grpc_follower_indexes_what_json_rpc_indexes_through_disconnects() {
    let s = Sandbox::start("explorer-grpc");
    let grpc = grpc_url(&s);
    let proxy = Proxy::start(grpc.trim_start_matches("http://").to_string()).await;
    let endpoint = GrpcEndpoint::new(&format!("http://127.0.0.1:{}", proxy.port));
    let (network, alice, bob) = cli(|| {
        s.wallet("admin");
        let oracle = s.wallet("oracle");
        let alice = s.wallet("alice");
        let bob = s.wallet("bob");
        s.wallet("carol");
        s.wallet("dave");
        (network_address(&s.init("cxmpute", &oracle)), alice, bob)
    });

    let reference = store(&s.dir, "json-rpc.sqlite").await;
    let followed = store(&s.dir, "grpc.sqlite").await;
    let (stop, stopped) = oneshot::channel::<()>();
    let (heard, mut hearing) = mpsc::unbounded_channel::<String>();
    let following = {
        let (store, endpoint) = (followed.clone(), endpoint.clone());
        tokio::spawn(async move {
            let mut report = |followed: Followed| {
                if let Followed::Disconnected { error, .. } = followed {
                    let _ = heard.send(error);
                }
            };
            // Slot 0: the sandbox replays its whole journal (network init included).
            let until_stopped = async {
                let _ = stopped.await;
            };
            follow(store, &endpoint, Some(0), until_stopped, &mut report).await
        })
    };

    // Live: members join and reports land (lookup-table transactions) while it streams.
    cli(|| {
        s.join("alice", &network, "provider", None);
        s.join("bob", &network, "provider", Some(&alice));
        s.attest_provider(&network, &bob, "24576");
        let reports: String = (1..=12).map(|id| compute(id, &bob, "llama3-70b")).collect();
        let file = write(&s.dir.join("first.jsonl"), &reports);
        assert_eq!(code(&s.submit("oracle", &file, &network, &[])), 0);
        // The vault changes: the follower watches it since the ledger's event.
        let fund = ["network", "fund", "--network", &network, "--ledger", "CXPT"];
        s.ok(
            "admin",
            &[&fund[..], &["--amount", "100", "--mint-first"]].concat(),
        );
    });
    agrees_with_json_rpc(&reference, &followed, &s.url, "streaming live").await;

    // The connection drops and stays down while more transactions land.
    proxy.cut();
    let error = tokio::time::timeout(Duration::from_secs(60), hearing.recv())
        .await
        .expect("the follower notices the disconnect")
        .expect("a disconnect");
    assert!(error.contains(&proxy.port.to_string()), "{error}");
    cli(|| {
        s.join("carol", &network, "provider", Some(&bob));
        let reports: String = (13..=20)
            .map(|id| compute(id, &bob, "llama3-70b"))
            .collect();
        let file = write(&s.dir.join("second.jsonl"), &reports);
        assert_eq!(code(&s.submit("oracle", &file, &network, &[])), 0);
        let withdraw = [
            "member",
            "withdraw",
            "--network",
            &network,
            "--ledger",
            "CXPT",
        ];
        s.ok("bob", &[&withdraw[..], &["--amount", "1"]].concat());
    });
    proxy.restore();
    agrees_with_json_rpc(&reference, &followed, &s.url, "after reconnecting").await;

    // The follower stops; what lands meanwhile comes with one catch-up.
    stop.send(()).expect("the follower runs");
    following
        .await
        .expect("the follower's task")
        .expect("it stops cleanly");
    let before = transactions(&followed).await;
    cli(|| {
        s.join("dave", &network, "user", None);
        let reports: String = (21..=24)
            .map(|id| compute(id, &bob, "llama3-70b"))
            .collect();
        let file = write(&s.dir.join("third.jsonl"), &reports);
        assert_eq!(code(&s.submit("oracle", &file, &network, &[])), 0);
    });
    let caught = catch_up(&followed, &endpoint).await.expect("catch up");
    assert!(caught.transactions > 0, "{caught:?}");
    assert_eq!(
        transactions(&followed).await,
        before + i64::try_from(caught.transactions).expect("count")
    );
    agrees_with_json_rpc(&reference, &followed, &s.url, "after a catch-up").await;
    let again = catch_up(&followed, &endpoint)
        .await
        .expect("catch up again");
    assert_eq!(
        again.transactions, 0,
        "a second catch-up records nothing twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explorer_serve_backfills_then_streams_from_the_grpc_endpoint() {
    let s = Sandbox::start("explorer-serve-grpc");
    let grpc = grpc_url(&s);
    let network = cli(|| {
        s.wallet("admin");
        let oracle = s.wallet("oracle");
        s.wallet("alice");
        network_address(&s.init("cxmpute", &oracle))
    });
    let db = s.dir.join("served.sqlite");
    let db = db.to_str().expect("utf-8");
    // The network's set-up comes by JSON-RPC backfill, what follows by gRPC.
    let _explorer = Server::start_marked(
        &[
            "--url", &s.url, "explorer", "serve", "--db", db, "--port", "0", "--grpc", &grpc,
        ],
        "dashboard and API",
    );
    cli(|| s.join("alice", &network, "provider", None));
    let served = Store::open(db).await.expect("open the served index");
    let reference = store(&s.dir, "reference.sqlite").await;
    agrees_with_json_rpc(&reference, &served, &s.url, "explorer serve --grpc").await;
    let sources = served
        .query("SELECT source FROM cursors ORDER BY source", vec![])
        .await
        .expect("cursors");
    let sources: Vec<String> = sources
        .iter()
        .filter_map(|r| r.first().and_then(|c| c.text()).map(str::to_string))
        .collect();
    assert_eq!(
        sources,
        vec![format!("grpc:{grpc}"), format!("rpc:{}", s.url)],
        "the join came by gRPC, the set-up by JSON-RPC"
    );
}
