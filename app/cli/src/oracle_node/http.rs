//! The node's HTTP interface (axum): `POST /reports`, `GET /reports/{id}`,
//! `GET /health`, `GET /metrics`. The report routes need the bearer token;
//! health and metrics are for the operator's probes and scraper.

use super::intake::{self, Approvers, Refusal};
use super::metrics::Metrics;
use super::store::{now_ms, Store};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use upline_sdk::rpc::RpcCluster;

/// What the handlers share.
pub struct Shared {
    pub store: Arc<Mutex<Store>>,
    /// The connection that checks posted reports (the sender has its own).
    pub intake: tokio::sync::Mutex<RpcCluster>,
    pub approvers: Approvers,
    pub token: String,
    /// Wakes the batcher when reports are stored.
    pub stored: Arc<Notify>,
    /// False once the node is stopping: new posts are refused.
    pub accepting: AtomicBool,
    pub metrics: Metrics,
    pub started_ms: i64,
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/reports", post(post_reports))
        .route("/reports/{id}", get(get_report))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

fn error(status: StatusCode, error: &str, reasons: &[String]) -> Response {
    (
        status,
        Json(json!({"error": error, "reasons": reasons, "queued": 0})),
    )
        .into_response()
}

/// Compare without stopping at the first difference (no timing hint of the token).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `None` when the request carries the node's bearer token, else the 401.
fn unauthorized(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let reason = match given {
        None => "Unauthorized: no bearer token (Authorization: Bearer TOKEN, the --token-file's)",
        Some(t) if same(t.trim().as_bytes(), shared.token.as_bytes()) => return None,
        Some(_) => "Unauthorized: wrong bearer token",
    };
    let mut response = error(StatusCode::UNAUTHORIZED, reason, &[]);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    Some(response)
}

async fn post_reports(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Some(refused) = unauthorized(&shared, &headers) {
        return refused;
    }
    if !shared.accepting.load(Ordering::SeqCst) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ShuttingDown: the node is stopping; post again when it is back",
            &[],
        );
    }
    let answer = {
        let mut cluster = shared.intake.lock().await;
        intake::accept(&mut cluster, &shared.store, &shared.approvers, &body).await
    };
    let accepted = match answer {
        Ok(accepted) => accepted,
        Err(Refusal::Malformed(reasons)) => {
            let what = format!(
                "MalformedReport: {} malformed line(s), nothing queued",
                reasons.len()
            );
            return error(StatusCode::BAD_REQUEST, &what, &reasons);
        }
        Err(Refusal::Refused(reasons)) => {
            let what = format!(
                "ReportsRefused: {} report(s) refused, nothing queued",
                reasons.len()
            );
            return error(StatusCode::UNPROCESSABLE_ENTITY, &what, &reasons);
        }
        Err(Refusal::Unavailable(reason)) => {
            let what = format!("Unavailable: {reason}; nothing queued, post again");
            return error(StatusCode::SERVICE_UNAVAILABLE, &what, &[]);
        }
    };
    shared.stored.notify_one();
    let queued = accepted
        .iter()
        .filter(|(_, before, _)| before.is_none())
        .count();
    let reports: Vec<Value> = accepted
        .iter()
        .map(|(line, before, report)| {
            let status = before.as_ref().map_or("queued", |r| r.status.as_str());
            json!({
                "line": line,
                "id": report.id,
                "wallet": report.wallet,
                "status": status,
                "repeated": before.is_some(),
            })
        })
        .collect();
    Json(json!({
        "queued": queued,
        "repeated": accepted.len() - queued,
        "reports": reports,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct ReportQuery {
    member: Option<String>,
    kind: Option<String>,
}

async fn get_report(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Response {
    if let Some(refused) = unauthorized(&shared, &headers) {
        return refused;
    }
    let Ok(id) = id.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("BadId: {id:?} is not a report id"),
            &[],
        );
    };
    let Some(member) = query.member else {
        return error(
            StatusCode::BAD_REQUEST,
            "MissingMember: give ?member=WALLET (ids are per member)",
            &[],
        );
    };
    let found = match shared.store.lock() {
        Ok(store) => store.find(member.trim(), id),
        Err(_) => Err("the queue's lock is poisoned".to_string()),
    };
    let mut rows = match found {
        Ok(rows) => rows,
        Err(e) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("Unavailable: {e}"),
                &[],
            )
        }
    };
    if let Some(kind) = &query.kind {
        rows.retain(|r| &r.kind == kind);
    }
    match rows.as_slice() {
        [] => error(
            StatusCode::NOT_FOUND,
            &format!("UnknownReport: no report {id} about {member} was accepted by this node"),
            &[],
        ),
        [one] => Json(json!(one)).into_response(),
        // A wallet's memberships in several classes each have their ids.
        several => Json(json!(several)).into_response(),
    }
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let counts = shared
        .store
        .lock()
        .map_err(|_| ())
        .and_then(|s| s.counts().map_err(|_| ()));
    match counts {
        Ok(counts) => Json(json!({
            "status": if shared.accepting.load(Ordering::SeqCst) { "ok" } else { "stopping" },
            "network": shared.approvers.network.to_string(),
            "oracle": shared.approvers.oracle.to_string(),
            "uptime_seconds": (now_ms() - shared.started_ms) / 1000,
            "queue": counts,
        }))
        .into_response(),
        Err(()) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Unavailable: the queue does not answer",
            &[],
        ),
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let counts = shared
        .store
        .lock()
        .map_err(|_| ())
        .and_then(|s| s.counts().map_err(|_| ()));
    match counts {
        Ok(counts) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            shared.metrics.render(&counts),
        )
            .into_response(),
        Err(()) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Unavailable: the queue does not answer",
            &[],
        ),
    }
}
