//! HTTP for the end-to-end tests: GET a page of a local server, and drive
//! Debian's chromium through chromedriver (the W3C WebDriver protocol).

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One HTTP/1.1 request to `base` (`http://127.0.0.1:PORT`): status and body.
pub fn http(base: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    let address = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    // Read the head, then exactly the body it announces: chromedriver keeps
    // connections open whatever the request says.
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "connection closed before the response head");
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let body = &buffer[head_end..];
        let complete = match length {
            Some(n) => body.len() >= n,
            None if chunked => body.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if complete {
            break;
        }
        let n = stream.read(&mut chunk).expect("read");
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..]).into_owned();
    let body = if chunked { dechunk(&body) } else { body };
    (status, body)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// GET `path` and parse the body as JSON.
pub fn get_json(base: &str, path: &str) -> (u16, Value) {
    let (status, body) = http(base, "GET", path, None);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Where Debian's packages put the browser and its driver.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless chromium session, ended (and its driver killed) when dropped.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    profile: std::path::PathBuf,
}

impl Browser {
    /// Start chromedriver and a session, or `None` when the browser is not
    /// installed (and `UPLINE_REQUIRE_SERVICES` does not demand it).
    pub fn start() -> Option<Browser> {
        if !std::path::Path::new(CHROMEDRIVER).exists() {
            assert!(
                std::env::var_os("UPLINE_REQUIRE_SERVICES").is_none(),
                "UPLINE_REQUIRE_SERVICES is set but {CHROMEDRIVER} is missing"
            );
            eprintln!(
                "skipped: install Debian's chromium and chromium-driver for the browser test"
            );
            return None;
        }
        // A free port: bind, read it, release it for the driver.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = std::env::temp_dir().join(format!("upline-chromium-{}", std::process::id()));
        // From here on, dropping `browser` (a panic included) ends the driver.
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            profile,
        };
        let profile = &browser.profile;
        let base = browser.base.clone();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         format!("--user-data-dir={}", profile.display())],
            },
        }}});
        let deadline = Instant::now() + Duration::from_secs(30);
        let session = loop {
            // The driver takes a moment to listen.
            if TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "chromedriver never listened on {port}"
                );
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            let (status, body) = http(&base, "POST", "/session", Some(&capabilities));
            let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            if status == 200 {
                break value["value"]["sessionId"]
                    .as_str()
                    .expect("session id")
                    .to_string();
            }
            assert!(Instant::now() < deadline, "no browser session: {body}");
            std::thread::sleep(Duration::from_millis(200));
        };
        browser.session = session;
        Some(browser)
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        let (status, text) = http(&self.base, method, &path, body.as_ref());
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(status, 200, "WebDriver {method} {path}: {text}");
        value["value"].clone()
    }

    pub fn open(&self, url: &str) {
        self.command("POST", "/url", Some(json!({"url": url})));
    }

    /// The first element matching a CSS selector, if any.
    pub fn find(&self, css: &str) -> Option<String> {
        let path = format!("/session/{}/element", self.session);
        let (status, text) = http(
            &self.base,
            "POST",
            &path,
            Some(&json!({"using": "css selector", "value": css})),
        );
        let value: Value = serde_json::from_str(&text).ok()?;
        (status == 200).then(|| {
            value["value"]
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(Value::as_str)
                .map(str::to_string)
        })?
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).unwrap_or_else(|| panic!("no {css}"));
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        );
    }

    pub fn clear(&self, css: &str) {
        let element = self.find(css).unwrap_or_else(|| panic!("no {css}"));
        self.command(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
    }

    pub fn click(&self, css: &str) {
        let element = self.find(css).unwrap_or_else(|| panic!("no {css}"));
        self.command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    /// The visible text of the first element matching `css`, waiting up to 20 s for it.
    pub fn text(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(element) = self.find(css) {
                let text = self.command("GET", &format!("/element/{element}/text"), None);
                return text.as_str().unwrap_or_default().to_string();
            }
            assert!(Instant::now() < deadline, "{css} never appeared");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// An attribute of the first element matching `css`.
    pub fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let element = self.find(css)?;
        self.command("GET", &format!("/element/{element}/attribute/{name}"), None)
            .as_str()
            .map(str::to_string)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = std::panic::catch_unwind(|| http(&self.base, "DELETE", &path, None));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Scripts, window size and screenshots, for the claim page's test.
impl Browser {
    /// Run `script` in the page (W3C "Execute Script": `arguments` are
    /// `args`; a returned promise is awaited); its result.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Resize the window (headless chromium starts at 800 × 600).
    pub fn resize(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// A PNG of the element matching `css` (W3C "Take Element Screenshot").
    pub fn screenshot(&self, css: &str, path: &std::path::Path) {
        use base64::Engine;
        let element = self.find(css).unwrap_or_else(|| panic!("no {css}"));
        let png = self.command("GET", &format!("/element/{element}/screenshot"), None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("a base64 PNG");
        std::fs::write(path, bytes).expect("write the screenshot");
    }

    /// The text of the first element matching `css` once it contains
    /// `needle`, waiting up to 60 s (a claim is confirmed on the cluster).
    pub fn text_containing(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            // The page redraws as the claim goes on: an element found may be
            // gone (stale) by the time its text is asked for; ask again.
            let path = |e: &str| format!("/session/{}/element/{e}/text", self.session);
            let text = self
                .find(css)
                .map(|e| http(&self.base, "GET", &path(&e), None))
                .filter(|(status, _)| *status == 200)
                .and_then(|(_, body)| serde_json::from_str::<Value>(&body).ok())
                .and_then(|v| v["value"].as_str().map(str::to_string));
            if let Some(text) = &text {
                if text.contains(needle) {
                    return text.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "{css} never said {needle:?} (last: {text:?})"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
