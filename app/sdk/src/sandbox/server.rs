//! The sandbox as a local cluster every Solana client can use: JSON-RPC over
//! HTTP (batches too, keep-alive, concurrent connections, any origin) and the
//! PubSub WebSocket on the next port, as `solana-test-validator` serves them
//! (`upline sandbox`, then `--url localhost`). The methods are in
//! [`super::rpc`]; one bank behind one lock serializes calls, not connections.

use super::rpc::{self, error_reply, RpcError, Shared};
use super::Chain;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::cors::CorsLayer;

/// Most calls in one batch, as validators allow.
const MAX_BATCH: usize = 1_000;

/// Faults a test asks the sandbox to inject.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Every Nth transaction `sendTransaction` accepts is answered with its
    /// signature and never executed, as a cluster that loses it (0: off).
    pub drop_every: u64,
}

/// The sandbox behind the endpoint.
#[derive(Clone)]
pub struct SandboxServer {
    pub(super) shared: Arc<Shared>,
}

impl SandboxServer {
    pub fn new(chain: Chain) -> SandboxServer {
        SandboxServer::with_faults(chain, Faults::default())
    }

    pub fn with_faults(chain: Chain, faults: Faults) -> SandboxServer {
        SandboxServer {
            shared: Shared::new(chain, faults.drop_every),
        }
    }

    /// One JSON-RPC call, answered (what a POST of that object answers).
    pub async fn call(&self, call: &Value) -> Value {
        self.shared.call(call).await
    }

    /// Serve JSON-RPC on `http` until the process ends.
    pub async fn serve(self, http: TcpListener) -> std::io::Result<()> {
        axum::serve(http, self.http_router()).await
    }

    /// Serve JSON-RPC on `http` and the PubSub WebSocket on `pubsub`.
    pub async fn serve_with_pubsub(
        self,
        http: TcpListener,
        pubsub: TcpListener,
    ) -> std::io::Result<()> {
        let ws = axum::serve(pubsub, self.pubsub_router());
        let rpc = axum::serve(http, self.http_router());
        tokio::select! {
            result = ws => result,
            result = rpc => result,
        }
    }

    fn http_router(&self) -> Router {
        Router::new()
            .route("/", post(http_call))
            .route("/health", get(|| async { "ok" }))
            // Browser dApps call a local validator from their own origin.
            .layer(CorsLayer::permissive())
            .with_state(self.shared.clone())
    }

    fn pubsub_router(&self) -> Router {
        Router::new()
            .fallback(get(upgrade))
            .with_state(self.shared.clone())
    }
}

async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| rpc::pubsub::connection(shared, socket))
}

/// A POST body: one call or a batch.
async fn http_call(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    if body.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "a JSON-RPC request body is required",
        )
            .into_response();
    }
    let reply = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(calls)) if calls.is_empty() || calls.len() > MAX_BATCH => error_reply(
            Value::Null,
            RpcError(
                rpc::INVALID_REQUEST,
                format!("Invalid request: a batch holds 1 to {MAX_BATCH} calls"),
                Value::Null,
            ),
        ),
        Ok(Value::Array(calls)) => {
            let mut replies = Vec::with_capacity(calls.len());
            for call in &calls {
                replies.push(shared.call(call).await);
            }
            Value::Array(replies)
        }
        Ok(call) => shared.call(&call).await,
        Err(e) => error_reply(
            Value::Null,
            RpcError(rpc::PARSE_ERROR, format!("Parse error: {e}"), Value::Null),
        ),
    };
    Json(reply).into_response()
}
