//! `GET /api/stream`: server-sent events telling open pages that the index
//! has grown, so they refetch what they show. One task per server reads the
//! index's newest position once a second (a lookup on a unique index) and
//! every stream hears it: a thousand open pages cost the database the same
//! one query a second as one page.

use crate::store::Store;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::sync::{Arc, Once};
use std::time::Duration;
use tokio::sync::watch;

/// How often the index is asked for its newest position.
const POLL: Duration = Duration::from_secs(1);

const NEWEST: &str = "SELECT MAX(position) FROM transactions";

/// The newest position as the poller last read it (`None` before its first
/// read, or while the database cannot be read).
struct Newest {
    store: Store,
    sender: watch::Sender<Option<i64>>,
    started: Once,
}

impl Newest {
    /// Start the poller on the first stream (a runtime is running then).
    fn start(self: &Arc<Self>) {
        let newest = Arc::clone(self);
        self.started.call_once(move || {
            tokio::spawn(async move {
                loop {
                    let position = newest.store.number(NEWEST).await.ok();
                    newest.sender.send_if_modified(|last| {
                        let changed = *last != position;
                        *last = position;
                        changed
                    });
                    tokio::time::sleep(POLL).await;
                }
            });
        });
    }
}

fn position_event(position: i64) -> Event {
    Event::default()
        .event("position")
        .data(position.to_string())
}

/// The events of one stream: the position now, then each time it changes.
fn positions(newest: &Arc<Newest>) -> impl Stream<Item = Result<Event, Infallible>> {
    newest.start();
    let receiver = newest.sender.subscribe();
    stream::unfold((receiver, true), |(mut receiver, first)| async move {
        loop {
            if !first || receiver.borrow().is_none() {
                // The sender lives as long as the poller, which never ends.
                receiver.changed().await.ok()?;
            }
            let position = *receiver.borrow_and_update();
            if let Some(position) = position {
                return Some((Ok(position_event(position)), (receiver, false)));
            }
        }
    })
}

/// The `/api/stream` route.
pub fn router(store: Store) -> Router {
    let (sender, _) = watch::channel(None);
    let newest = Arc::new(Newest {
        store,
        sender,
        started: Once::new(),
    });
    Router::new().route(
        "/api/stream",
        get(move || {
            let newest = Arc::clone(&newest);
            async move { Sse::new(positions(&newest)).keep_alive(KeepAlive::default()) }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Read from `stream` until the text so far contains `needle`.
    async fn read_until(stream: &mut tokio::net::TcpStream, seen: &mut String, needle: &str) {
        let mut chunk = [0u8; 1024];
        while !seen.contains(needle) {
            let n = stream.read(&mut chunk).await.expect("read the stream");
            assert!(n > 0, "the stream ended before {needle:?}: {seen}");
            seen.push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    }

    #[tokio::test]
    async fn a_stream_sends_the_position_then_each_new_one() {
        let dir = std::env::temp_dir().join(format!("upline-sse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("index.sqlite");
        let store = Store::open(path.to_str().expect("utf-8 path"))
            .await
            .expect("open");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let at = listener.local_addr().expect("address");
        let app = router(store.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let mut stream = tokio::net::TcpStream::connect(at).await.expect("connect");
        stream
            .write_all(b"GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("send");
        let mut seen = String::new();
        read_until(&mut stream, &mut seen, "event: position\ndata: 0\n").await;
        assert!(seen.contains("text/event-stream"), "{seen}");
        store
            .execute(
                "INSERT INTO transactions (signature, position, slot, block_time, failed) VALUES ($1, $2, $3, $4, $5)",
                vec!["sig".into(), 1.into(), 1.into(), 0.into(), 0.into()],
            )
            .await
            .expect("a new transaction");
        read_until(&mut stream, &mut seen, "event: position\ndata: 1\n").await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
