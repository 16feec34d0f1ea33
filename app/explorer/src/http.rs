//! The explorer's HTTP side: requests as method, path, query pairs and body,
//! served by axum (the routes themselves are in `api` and `claim`).

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, Method, StatusCode, Uri};
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};

/// Largest request body accepted (a signed claim transaction is at most
/// 1,232 bytes; base64 and JSON around it stay far below this).
const MAX_BODY: usize = 64 * 1024;

/// A parsed request: method, path, query pairs (percent-decoded) and body.
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A response: status line, content type, body.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response {
            status,
            content_type: "application/json",
            body: value.to_string(),
        }
    }

    pub fn error(status: u16, message: impl Into<String>) -> Response {
        Response::json(status, &serde_json::json!({"error": message.into()}))
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse a request head (`GET /path?query HTTP/1.1`).
pub fn parse_head(head: &str) -> Option<Request> {
    let line = head.lines().next()?;
    let mut parts = line.split(' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    Some(Request {
        method,
        path: percent_decode(path),
        query,
        body: Vec::new(),
    })
}

/// A response's status code, falling back to 500 for one out of range.
fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// How long one request may take before it is answered 503 (a claim waits
/// for its confirmation; nothing else comes near).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);

/// Answer requests on `listener` with `routes` (axum routes of their own,
/// such as the event stream), then `handler` for every other path, until
/// the process ends. axum (hyper) speaks HTTP: keep-alive, bodies and
/// concurrent connections are its business; tower-http compresses answers
/// (never the event stream) and lets any page GET the API (CORS); the
/// explorer routes on the path it hands over, so the request and response
/// types stay the small ones above.
pub async fn serve<H, F>(listener: TcpListener, routes: Router, handler: H) -> std::io::Result<()>
where
    H: Fn(Request) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    let handler = Arc::new(handler);
    let app = routes
        .fallback(move |method: Method, uri: Uri, body: Bytes| {
            let handler = Arc::clone(&handler);
            async move {
                let target = uri.path_and_query().map_or("/", |p| p.as_str());
                let response = match parse_head(&format!("{method} {target} HTTP/1.1")) {
                    None => Response::error(400, "malformed HTTP request"),
                    Some(mut request) => {
                        request.body = body.to_vec();
                        let path = request.path.clone();
                        tokio::time::timeout(REQUEST_TIMEOUT, handler(request))
                            .await
                            .unwrap_or_else(|_| {
                                Response::error(
                                    503,
                                    format!(
                                        "{path}: no answer within {}s",
                                        REQUEST_TIMEOUT.as_secs()
                                    ),
                                )
                            })
                    }
                };
                (
                    status_code(response.status),
                    [
                        (
                            header::CONTENT_TYPE,
                            format!("{}; charset=utf-8", response.content_type),
                        ),
                        (header::CACHE_CONTROL, "no-store".to_string()),
                    ],
                    response.body,
                )
            }
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(CompressionLayer::new())
        .layer(
            CorsLayer::new()
                .allow_methods([Method::GET])
                .allow_origin(Any),
        );
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_into_path_and_query() {
        let r =
            parse_head("GET /api/networks/abc/members?page=2&per_page=10%20 HTTP/1.1\r\nHost: x")
                .expect("parses");
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/api/networks/abc/members");
        assert_eq!(r.param("page"), Some("2"));
        assert_eq!(r.param("per_page"), Some("10 "));
        assert_eq!(r.param("missing"), None);
        assert!(parse_head("").is_none());
    }
}
