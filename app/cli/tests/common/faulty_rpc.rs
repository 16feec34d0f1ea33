//! A JSON-RPC endpoint that misbehaves: a reverse proxy in front of a
//! sandbox's URL that, as a seeded random plan says, answers some requests
//! 429 (with and without Retry-After) or 502/503, closes the connection
//! without answering, or stalls past the client's timeout, and can hold a
//! method's requests after a number of answers (a process to kill while it
//! waits). The plan is a function of the seed and each request (method,
//! params, how many times it came), not of arrival order, so a seed repeats
//! a run even with requests in flight concurrently.

use axum::body::{Body, Bytes};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// What the proxy does to a request instead of forwarding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429, with Retry-After in seconds if given.
    TooMany(Option<u64>),
    /// A 5xx status.
    Status(u16),
    /// The connection closed without an answer.
    Dropped,
    /// No answer for [`Faults::stall`], then the connection closed.
    Stalled,
}

/// How often each fault happens, per mille of requests.
#[derive(Clone, Debug)]
pub struct Faults {
    pub plan: Vec<(Fault, u32)>,
    /// Every request of a faulted method gets this fault (a refusing endpoint).
    pub always: Option<Fault>,
    pub stall: Duration,
    /// Added before forwarding every request (a slow endpoint).
    pub delay: Duration,
    /// A request (same method and params) is faulted at most this many times
    /// in a row, so that a client that tries more often always gets through.
    pub max_in_a_row: u32,
    /// Methods never faulted.
    pub spared: Vec<&'static str>,
}

impl Faults {
    /// About one request in five faulted, every kind of fault in the mix.
    pub fn mixed(stall: Duration) -> Faults {
        Faults {
            plan: vec![
                (Fault::TooMany(None), 50),
                (Fault::TooMany(Some(1)), 15),
                (Fault::Status(502), 40),
                (Fault::Status(503), 40),
                (Fault::Dropped, 40),
                (Fault::Stalled, 15),
            ],
            always: None,
            stall,
            delay: Duration::ZERO,
            max_in_a_row: 3,
            spared: vec!["getVersion"],
        }
    }

    /// Every request but `getVersion` answered with `fault`.
    pub fn always(fault: Fault) -> Faults {
        Faults {
            always: Some(fault),
            ..Faults::mixed(Duration::ZERO)
        }
    }
}

/// The seed of a randomised test: `UPLINE_TEST_SEED` if set, else fresh;
/// printed, so that a failure can be repeated.
pub fn test_seed() -> u64 {
    let seed = std::env::var("UPLINE_TEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    eprintln!("{test}: seed {seed} (UPLINE_TEST_SEED={seed} repeats it)");
    seed
}

/// SplitMix64: one well-mixed number from another.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    faults: Faults,
    seed: u64,
    /// Per request (method and params): times seen, faults in a row.
    seen: Mutex<HashMap<u64, (u64, u32)>>,
    counts: Mutex<BTreeMap<String, usize>>,
    /// A method whose requests wait for `open` after this many more answers.
    hold: Mutex<Option<(String, usize)>>,
    open: watch::Sender<bool>,
}

/// The proxy, serving until dropped.
pub struct FaultyRpc {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultyRpc {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultyRpc {
    pub async fn start(upstream: &str, faults: Faults, seed: u64) -> FaultyRpc {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let shared = Arc::new(Shared {
            upstream: upstream.to_string(),
            http: reqwest::Client::new(),
            faults,
            seed,
            seen: Mutex::default(),
            counts: Mutex::default(),
            hold: Mutex::default(),
            open: watch::channel(true).0,
        });
        let serving = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        answer(Arc::clone(&shared), request)
                    });
                    // A connection closed unanswered ends in an error: expected.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FaultyRpc { url, shared, task }
    }

    /// How many requests of each method came, and of each fault.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.shared.counts.lock().expect("counts").clone()
    }

    pub fn count(&self, key: &str) -> usize {
        self.counts().get(key).copied().unwrap_or_default()
    }

    /// Answer `answers` more requests of `method`, then hold the rest until [`FaultyRpc::release`].
    pub fn hold_after(&self, method: &str, answers: usize) {
        *self.shared.hold.lock().expect("hold") = Some((method.to_string(), answers));
        self.shared.open.send_replace(false);
    }

    pub fn release(&self) {
        *self.shared.hold.lock().expect("hold") = None;
        self.shared.open.send_replace(true);
    }
}

impl Shared {
    fn tally(&self, key: &str) {
        *self
            .counts
            .lock()
            .expect("counts")
            .entry(key.to_string())
            .or_default() += 1;
    }

    /// The fault for this request, if any.
    fn fault(&self, method: &str, params: &str) -> Option<Fault> {
        if self.faults.spared.contains(&method) {
            return None;
        }
        if let Some(fault) = self.faults.always {
            return Some(fault);
        }
        let key = fnv(method) ^ fnv(params).rotate_left(17);
        let mut seen = self.seen.lock().expect("seen");
        let (times, in_a_row) = seen.entry(key).or_default();
        *times += 1;
        let mut roll = mix(self.seed ^ mix(key ^ *times)) % 1_000;
        let mut chosen = None;
        for (fault, per_mille) in &self.faults.plan {
            if roll < u64::from(*per_mille) {
                chosen = Some(*fault);
                break;
            }
            roll -= u64::from(*per_mille);
        }
        if chosen.is_none() || *in_a_row >= self.faults.max_in_a_row {
            *in_a_row = 0;
            return None;
        }
        *in_a_row += 1;
        chosen
    }

    /// Whether this request waits for the hold to be released.
    fn held(&self, method: &str) -> bool {
        let mut hold = self.hold.lock().expect("hold");
        match hold.as_mut() {
            Some((held, left)) if held == method => {
                if *left == 0 {
                    return true;
                }
                *left -= 1;
                false
            }
            _ => false,
        }
    }
}

type Answer = Result<Response<Body>, std::io::Error>;

fn closed() -> Answer {
    Err(std::io::Error::other("closed without an answer"))
}

async fn answer(shared: Arc<Shared>, request: Request<Incoming>) -> Answer {
    let body: Bytes = axum::body::to_bytes(Body::new(request.into_body()), 16 << 20)
        .await
        .map_err(std::io::Error::other)?;
    let call: Value = serde_json::from_slice(&body).unwrap_or_default();
    let method = call["method"].as_str().unwrap_or("?").to_string();
    shared.tally(&method);
    match shared.fault(&method, &call["params"].to_string()) {
        Some(Fault::TooMany(after)) => {
            let mut response = Response::builder().status(StatusCode::TOO_MANY_REQUESTS);
            if let Some(seconds) = after {
                shared.tally("fault: 429 with Retry-After");
                response = response.header("retry-after", seconds.to_string());
            } else {
                shared.tally("fault: 429");
            }
            return response
                .body(Body::from("rate limited"))
                .map_err(std::io::Error::other);
        }
        Some(Fault::Status(status)) => {
            shared.tally(&format!("fault: {status}"));
            return Response::builder()
                .status(status)
                .body(Body::from("upstream trouble"))
                .map_err(std::io::Error::other);
        }
        Some(Fault::Dropped) => {
            shared.tally("fault: dropped");
            return closed();
        }
        Some(Fault::Stalled) => {
            shared.tally("fault: stalled");
            tokio::time::sleep(shared.faults.stall).await;
            return closed();
        }
        None => {}
    }
    if shared.held(&method) {
        shared.tally(&format!("held: {method}"));
        let mut open = shared.open.subscribe();
        let _ = open.wait_for(|open| *open).await;
    }
    tokio::time::sleep(shared.faults.delay).await;
    let forwarded = shared
        .http
        .post(&shared.upstream)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(std::io::Error::other)?;
    let status = forwarded.status().as_u16();
    let bytes = forwarded.bytes().await.map_err(std::io::Error::other)?;
    shared.tally(&format!("answered: {method}"));
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(bytes))
        .map_err(std::io::Error::other)
}
