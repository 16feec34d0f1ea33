//! What people see (issue 16): the network page and the member page, the
//! JSON they read, the credits CSV, and the stream that tells them to
//! refresh. Everything answers from the typed tables (migration 3) with
//! queries whose cost does not grow with the index's history: by primary
//! key, by an index, or one page at a time.
//!
//! - `GET /networks/{network}`, `GET /members/{member}`: the pages (static
//!   shells; their scripts under `/assets/` read the API below).
//! - `GET /api/networks/{network}`: summary, promotion, tables versions,
//!   solvency per ledger.
//! - `GET /api/networks/{network}/leaderboard?ledger=&limit=`
//! - `GET /api/networks/{network}/members?page=&per_page=&sort=&order=&ledger=`
//! - `GET /api/members/{member}`, `.../referees?page=&per_page=`,
//!   `.../credits?before=&limit=`, `.../credits.csv`
//! - `GET /api/head`: the index's newest position (what `/api/stream`
//!   sends as server-sent events; pages poll this when they cannot stream).

pub mod amounts;
pub mod args;
pub mod csv;
mod member;
mod members;
mod network;
mod rows;
pub mod stream;

use crate::http::{Request, Response};
use crate::store::Store;
use crate::ExplorerError;
use anchor_lang::prelude::Pubkey;
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::str::FromStr;

pub use members::members_page;

const NETWORK_HTML: &str = include_str!("network.html");
const MEMBER_HTML: &str = include_str!("member.html");
const PAGES_CSS: &str = include_str!("pages.css");
const COMMON_JS: &str = include_str!("common.js");
const NETWORK_JS: &str = include_str!("network.js");
const MEMBER_JS: &str = include_str!("member.js");

/// A refusal or failure, ready to answer with.
pub(crate) type Answer<T> = Result<T, Response>;

pub(crate) fn failed(e: ExplorerError) -> Response {
    Response::error(500, e.to_string())
}

/// `text` as an account address, or a 400 naming what it should be.
pub(crate) fn address(text: &str, what: &str) -> Answer<Pubkey> {
    Pubkey::from_str(text)
        .map_err(|_| Response::error(400, format!("{text:?} is not {what} address")))
}

fn static_file(content_type: &'static str, body: &str) -> Response {
    Response {
        status: 200,
        content_type,
        body: body.to_string(),
    }
}

fn asset(name: &str) -> Option<Response> {
    Some(match name {
        "pages.css" => static_file("text/css", PAGES_CSS),
        "common.js" => static_file("text/javascript", COMMON_JS),
        "network.js" => static_file("text/javascript", NETWORK_JS),
        "member.js" => static_file("text/javascript", MEMBER_JS),
        _ => return None,
    })
}

/// `GET /api/head`: the newest indexed position (0 for an empty index).
async fn head(store: &Store) -> Response {
    match store.number("SELECT MAX(position) FROM transactions").await {
        Ok(position) => Response::json(200, &serde_json::json!({ "position": position })),
        Err(e) => failed(e),
    }
}

fn answer(result: Answer<Response>) -> Response {
    result.unwrap_or_else(|refusal| refusal)
}

/// `GET /api/members/{member}/credits.csv` as a download: the CSV [`route`]
/// answers, with `Content-Disposition: attachment` and its file name.
async fn download(store: Store, member: String) -> axum::response::Response {
    let (name, csv) = match member::credits_csv(&store, &member).await {
        Ok((name, csv)) => (Some(name), csv),
        Err(refusal) => (None, refusal),
    };
    let status = StatusCode::from_u16(csv.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, csv.body).into_response();
    let headers = response.headers_mut();
    let typed = format!("{}; charset=utf-8", csv.content_type);
    if let Ok(value) = HeaderValue::from_str(&typed) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The name keeps only letters, digits, `-`, `_` and `.`: no quoting needed.
    let disposition = name.map(|n| format!("attachment; filename=\"{n}\""));
    if let Some(value) = disposition.and_then(|d| HeaderValue::from_str(&d).ok()) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The pages' routes that answer with more than a [`Response`] can carry,
/// to merge into the explorer's router ahead of [`route`]: the event stream
/// (`/api/stream`) and the credits CSV as a download.
pub fn router(store: Store) -> Router {
    let csv_store = store.clone();
    stream::router(store).route(
        "/api/members/{member}/credits.csv",
        get(move |Path(member): Path<String>| download(csv_store.clone(), member)),
    )
}

/// Answer the pages' requests; `None` for every other path (the caller
/// goes on to the API's other routes).
pub async fn route(store: &Store, request: &Request) -> Option<Response> {
    if request.method != "GET" {
        return None;
    }
    let parts: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    Some(match parts.as_slice() {
        ["networks", _] => static_file("text/html", NETWORK_HTML),
        ["members", _] => static_file("text/html", MEMBER_HTML),
        ["assets", name] => asset(name)?,
        ["api", "head"] => head(store).await,
        ["api", "networks", n] => answer(network::summary(store, n).await),
        ["api", "networks", n, "leaderboard"] => {
            answer(network::leaderboard(store, n, request).await)
        }
        ["api", "networks", n, "members"] => members_page(store, n, request).await,
        ["api", "members", m] => answer(member::summary(store, m).await),
        ["api", "members", m, "referees"] => answer(member::referees(store, m, request).await),
        ["api", "members", m, "credits"] => answer(member::credits(store, m, request).await),
        ["api", "members", m, "credits.csv"] => {
            answer(member::credits_csv(store, m).await.map(|(_, csv)| csv))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
