//! `upline oracle run` as a child process for the end-to-end tests: started,
//! stopped with SIGTERM or SIGKILL, restarted on the same queue, and
//! spoken to over HTTP.

use reqwest::Method;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;
use std::time::Instant;

/// What a node is started with (again on restart: the same queue).
pub struct NodeArgs {
    pub cluster: String,
    pub keypair: PathBuf,
    pub network: String,
    pub db: PathBuf,
    pub token_file: PathBuf,
    pub extra: Vec<String>,
}

pub struct Node {
    child: Child,
    pub url: String,
}

impl Node {
    pub fn start(args: &NodeArgs) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_upline"))
            .args(["--url", &args.cluster, "--keypair"])
            .arg(&args.keypair)
            .args(["oracle", "run", "--network", &args.network, "--listen"])
            .args(["127.0.0.1:0", "--db"])
            .arg(&args.db)
            .arg("--token-file")
            .arg(&args.token_file)
            .args(&args.extra)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the node");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let read = reader.read_line(&mut line).expect("the node's output");
        assert!(read > 0, "the node ended before serving");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("a URL on {line:?}"))
            .to_string();
        std::thread::spawn(move || reader.lines().for_each(drop));
        Node { child, url }
    }

    /// Send `signal` (libc's SIGTERM, SIGKILL) and wait for the process to end.
    pub fn stop(mut self, signal: i32) -> ExitStatus {
        let pid = i32::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill only sends a signal to our own child.
        unsafe {
            libc::kill(pid, signal);
        }
        let status = self.child.wait().expect("wait for the node");
        std::mem::forget(self);
        status
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer: status and JSON body (`Null` if not JSON), or the text.
pub struct Answer {
    pub status: u16,
    pub json: Value,
    pub text: String,
}

/// One request; `Err` when the node cannot be reached (stopped or killed).
pub async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<Answer, String> {
    let mut request = client
        .request(method, url)
        .timeout(Duration::from_secs(120));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| e.to_string())?;
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(Answer { status, json, text })
}

/// `upline sandbox --help` offers `--drop-every N` (the fault-injection flag).
pub fn sandbox_drops() -> bool {
    let out = Command::new(env!("CARGO_BIN_EXE_upline"))
        .args(["sandbox", "--help"])
        .output()
        .expect("upline sandbox --help");
    String::from_utf8_lossy(&out.stdout).contains("--drop-every")
}

pub fn write_token(dir: &Path, token: &str) -> PathBuf {
    let path = dir.join("token");
    std::fs::write(&path, format!("{token}\n")).expect("write the token file");
    path
}

pub const TOKEN: &str = "s3cret-token";

pub async fn post(client: &reqwest::Client, node: &str, token: Option<&str>, body: &str) -> Answer {
    call(
        client,
        Method::POST,
        &format!("{node}/reports"),
        token,
        Some(body.into()),
    )
    .await
    .expect("the node answers")
}

pub async fn get(client: &reqwest::Client, node: &str, path: &str) -> Answer {
    call(
        client,
        Method::GET,
        &format!("{node}{path}"),
        Some(TOKEN),
        None,
    )
    .await
    .expect("the node answers")
}

/// The request was refused with `status` and a reason containing `needle`.
pub fn refused(answer: &Answer, status: u16, needle: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.json["queued"], 0, "{}", answer.text);
    assert!(
        answer.text.contains(needle),
        "{needle:?} in {}",
        answer.text
    );
}

pub fn usage(id: u64, wallet: &str, tokens: u64) -> String {
    format!("{{\"kind\": \"usage\", \"id\": {id}, \"user\": \"{wallet}\", \"endpoint\": \"chat\", \"tokens\": {tokens}}}\n")
}

pub async fn queued(client: &reqwest::Client, node: &str) -> Value {
    let health = get(client, node, "/health").await;
    assert_eq!(health.status, 200, "{}", health.text);
    health.json["queue"].clone()
}

/// Wait until the queue is empty and at least `settled` reports are settled.
pub async fn wait_settled(
    client: &reqwest::Client,
    url: &str,
    settled: u64,
    within: Duration,
) -> Value {
    let started = Instant::now();
    loop {
        let q = queued(client, url).await;
        let done = ["recorded", "already_recorded", "rejected"]
            .iter()
            .map(|k| q[k].as_u64().unwrap_or(0))
            .sum::<u64>();
        if q["queued"] == 0 && done >= settled {
            return q;
        }
        assert!(started.elapsed() < within, "not settled in {within:?}: {q}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
