//! What the end-to-end tests share: `upline sandbox --port 0` as a local
//! cluster, the `upline` binary run against it with per-test keypairs, and
//! the checks on a command's exit code and message.

// Each test binary uses its own share of these helpers.
#![allow(dead_code)]

pub mod faulty_rpc;
pub mod pg;
pub mod web;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// An `upline` command that serves until killed (`sandbox`, `explorer
/// serve`, `demo --serve`), started with `--port 0`: its URL is the first on
/// the first line that contains `marker`.
pub struct Server {
    child: Child,
    pub url: String,
    /// What it printed up to that line.
    pub lines: Vec<String>,
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        Server::start_marked(args, "http://")
    }

    pub fn start_marked(args: &[&str], marker: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_upline"))
            .args(args)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        let mut lines = Vec::new();
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let url = loop {
            let mut line = String::new();
            let read = reader.read_line(&mut line).expect("the server's output");
            assert!(
                read > 0,
                "the server ended before printing {marker:?}: {lines:?}"
            );
            lines.push(line.trim_end().to_string());
            if line.contains(marker) {
                break line
                    .split_whitespace()
                    .find(|w| w.starts_with("http://"))
                    .unwrap_or_else(|| panic!("a URL on {line:?}"))
                    .trim_end_matches(['/', ')', ';'])
                    .to_string();
            }
        };
        // Keep draining what it prints later, so it never blocks on a full pipe.
        std::thread::spawn(move || reader.lines().for_each(drop));
        Server { child, url, lines }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `upline sandbox --port 0`, killed when dropped.
pub struct Sandbox {
    pub server: Server,
    pub url: String,
    pub dir: PathBuf,
}

impl Sandbox {
    pub fn start(test: &str) -> Sandbox {
        let server = Server::start(&["sandbox", "--port", "0"]);
        let url = server.url.clone();
        let dir = std::env::temp_dir().join(format!("upline-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Sandbox { server, url, dir }
    }

    /// Run `upline --url URL --keypair KEY.json ARGS` against the sandbox.
    pub fn run(&self, key: &str, args: &[&str]) -> Output {
        self.run_at(&self.url, key, args)
    }

    /// Run `upline --url URL --keypair KEY.json ARGS` against any `url`.
    pub fn run_at(&self, url: &str, key: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_upline"))
            .args(["--url", url, "--keypair"])
            .arg(self.key(key))
            .args(args)
            .env("RUST_LOG", "error")
            .output()
            .expect("run upline")
    }

    /// Run and expect success; standard output.
    pub fn ok(&self, key: &str, args: &[&str]) -> String {
        let out = self.run(key, args);
        assert!(
            out.status.success(),
            "upline {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn key(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// A new funded wallet; its address.
    pub fn wallet(&self, name: &str) -> String {
        let out = self.ok(name, &["keygen"]);
        self.ok(name, &["airdrop", "5"]);
        out.split("wallet ")
            .nth(1)
            .expect("address")
            .trim_end_matches([')', '\n'])
            .to_string()
    }

    /// The admin runs `network init --preset PRESET --oracle ORACLE`; standard output.
    pub fn init(&self, preset: &str, oracle: &str) -> String {
        let args = ["network", "init", "--preset", preset, "--oracle", oracle];
        self.ok("admin", &args)
    }

    /// `key` joins `network` in `class`, referred by `referrer` if given; standard output.
    pub fn join(&self, key: &str, network: &str, class: &str, referrer: Option<&str>) -> String {
        let mut args = vec!["member", "join", "--network", network, "--class", class];
        if let Some(r) = referrer {
            args.extend(["--referrer", r]);
        }
        self.ok(key, &args)
    }

    /// The `oracle` key attests `wallet` as a provider with `vram_mb` MiB.
    pub fn attest_provider(&self, network: &str, wallet: &str, vram_mb: &str) -> String {
        let args = [
            "oracle",
            "attest",
            "provider",
            "--network",
            network,
            "--wallet",
            wallet,
            "--vram-mb",
            vram_mb,
        ];
        self.ok("oracle", &args)
    }

    /// `oracle submit FILE --network NETWORK EXTRA...` as `key`.
    pub fn submit(&self, key: &str, file: &str, network: &str, extra: &[&str]) -> Output {
        let mut args = vec!["oracle", "submit", file, "--network", network];
        args.extend(extra);
        self.run(key, &args)
    }

    /// `explorer index` into a fresh index, then `explorer audit --json`: the verdict.
    pub fn audit(&self, name: &str) -> Value {
        let db = self.dir.join(format!("{name}.sqlite"));
        let db = db.to_str().expect("utf-8 path");
        self.ok("admin", &["explorer", "index", "--db", db]);
        let out = self.run("admin", &["explorer", "audit", "--db", db, "--json"]);
        let verdict: Value = serde_json::from_slice(&out.stdout).expect("JSON verdict");
        assert_eq!(code(&out), 0, "{verdict}{}", stderr(&out));
        assert_eq!(verdict["verdict"], "pass", "{verdict}");
        verdict
    }

    /// `member stats --json` of a wallet that holds one membership: that membership's stats.
    pub fn stats(&self, network: &str, wallet: &str) -> Value {
        let all = self.all_stats(network, wallet);
        let memberships = all["memberships"].as_array().expect("memberships");
        assert_eq!(memberships.len(), 1, "one membership: {all}");
        memberships[0].clone()
    }

    /// `member stats --json`: `{"wallet", "memberships": [...]}`, one per class the wallet holds.
    pub fn all_stats(&self, network: &str, wallet: &str) -> Value {
        let out = self.ok(
            "admin",
            &[
                "member",
                "stats",
                "--network",
                network,
                "--wallet",
                wallet,
                "--json",
            ],
        );
        serde_json::from_str(&out).expect("stats JSON")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // The server is killed after this, when its field drops.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The command failed with exit code `expected` and a message containing `needle`.
pub fn fails_with(out: &Output, expected: i32, needle: &str) {
    let message = stderr(out);
    assert_eq!(code(out), expected, "{message}");
    assert!(message.contains(needle), "{message}");
}

pub fn compute(id: u64, provider: &str, model: &str) -> String {
    format!(
        "{{\"kind\": \"compute\", \"id\": {id}, \"provider\": \"{provider}\", \"service\": \"chat\", \"model\": \"{model}\", \"tokens\": 1000, \"latency_ms\": 5000}}\n"
    )
}

pub fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).expect("write");
    path.to_str().expect("utf-8 path").to_string()
}

pub fn network_address(init_output: &str) -> String {
    init_output
        .lines()
        .find_map(|l| l.strip_prefix("network ")?.split_once(' ').map(|(_, a)| a))
        .expect("the network's address")
        .trim()
        .to_string()
}

/// Tables of the index that are not its content: what an audit concluded,
/// where each source stopped, the migrations applied.
const NOT_CONTENT: [&str; 5] = [
    "audits",
    "cursors",
    "audit_checkpoints",
    "audit_members",
    "schema_migrations",
];

/// Every content table of the index, one line per row (`table: v1 | v2 …`,
/// every column as text), sorted: two indexes of the same chain give the
/// same lines whichever database holds them and however they were filled.
pub async fn index_dump(store: &upline_explorer::Store) -> Vec<String> {
    let tables_sql = match store.backend() {
        "sqlite" => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        _ => "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
    };
    let cell = |c: &upline_explorer::store::Cell| match c {
        upline_explorer::store::Cell::Int(n) => n.to_string(),
        upline_explorer::store::Cell::Text(t) => t.clone(),
        upline_explorer::store::Cell::Null => "NULL".to_string(),
    };
    let mut lines = Vec::new();
    for table in store.query(tables_sql, vec![]).await.expect("tables") {
        let table = cell(&table[0]);
        if NOT_CONTENT.contains(&table.as_str()) {
            continue;
        }
        let columns_sql = match store.backend() {
            "sqlite" => format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
            _ => format!(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
            ),
        };
        let columns: Vec<String> = store
            .query(&columns_sql, vec![])
            .await
            .expect("columns")
            .iter()
            .map(|row| cell(&row[0]))
            .collect();
        let select = columns
            .iter()
            .map(|c| format!("CAST({c} AS TEXT)"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = store
            .query(&format!("SELECT {select} FROM {table}"), vec![])
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        for row in rows {
            let values: Vec<String> = row.iter().map(cell).collect();
            lines.push(format!("{table}: {}", values.join(" | ")));
        }
    }
    lines.sort();
    lines
}
