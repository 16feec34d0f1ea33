//! A JSON-RPC endpoint read patiently: every request is retried with
//! exponential backoff and jitter when the endpoint is rate-limiting (429,
//! honouring Retry-After), failing (5xx), slow (a timeout) or dropping
//! connections, a bounded number of times; a request the endpoint refuses
//! for what it is (any other 4xx, a JSON-RPC error) is not retried.

use anchor_lang::prelude::{Clock, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::sysvar::SysvarId;
use async_trait::async_trait;
use serde_json::Value;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client::rpc_client::RpcClientConfig;
use solana_rpc_client::rpc_sender::{RpcSender, RpcTransportStats};
use solana_rpc_client_api::client_error::reqwest::{self, header, StatusCode};
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_api::request::{RpcError, RpcRequest, RpcResponseErrorData};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use upline_sdk::client::{AccountState, Cluster, TxFailure};

/// How patiently an endpoint is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Tries of one request before giving up (at least 1).
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each (with jitter).
    pub first_delay: Duration,
    /// The longest wait between tries chosen by the backoff.
    pub max_delay: Duration,
    /// The longest wait a Retry-After header is obeyed for.
    pub max_retry_after: Duration,
    /// How long one request may take before it counts as unanswered.
    pub timeout: Duration,
}

impl Default for Retry {
    /// Eight tries over about half a minute; a request may take 30 s.
    fn default() -> Retry {
        Retry {
            attempts: 8,
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
            timeout: Duration::from_secs(30),
        }
    }
}

impl Retry {
    /// The wait after failed try number `attempt` (1-based): half the
    /// exponential delay plus a random share of the other half, so that
    /// concurrent requests refused together do not come back together.
    fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self
            .first_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        let half = exponential / 2;
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        half + half.mul_f64((random % 1_000) as f64 / 1_000.0)
    }
}

/// A JSON-RPC endpoint: its URL and a client whose every request is retried.
pub struct Endpoint {
    pub url: String,
    pub client: RpcClient,
}

impl Endpoint {
    pub fn new(url: &str, retry: Retry) -> Result<Endpoint, String> {
        let http = reqwest::Client::builder()
            .timeout(retry.timeout)
            .build()
            .map_err(|e| format!("an HTTP client for {url}: {e}"))?;
        let sender = PatientSender {
            http,
            url: url.to_string(),
            retry,
            request_id: AtomicU64::new(0),
        };
        Ok(Endpoint {
            url: url.to_string(),
            client: RpcClient::new_sender(
                sender,
                RpcClientConfig::with_commitment(CommitmentConfig::confirmed()),
            ),
        })
    }

    /// What went wrong with `method` (with `what`, e.g. a signature) at this endpoint.
    pub fn failure(&self, method: &str, what: &str, error: &ClientError) -> String {
        let said = match error.kind() {
            ErrorKind::Custom(reason) => reason.clone(),
            ErrorKind::RpcError(RpcError::RpcResponseError { code, message, .. }) => {
                format!("JSON-RPC error {code}: {message}")
            }
            _ => error.to_string(),
        };
        let what = if what.is_empty() {
            String::new()
        } else {
            format!(" {what}")
        };
        format!("{method}{what} at {}: {said}", self.url)
    }
}

/// What one try of a request came to.
enum Answer {
    Result(Value),
    /// Worth another try (after Retry-After, if the endpoint said).
    Transient(String, Option<Duration>),
    /// Another try would be refused the same way.
    Permanent(ClientError),
}

/// The HTTP transport of [`Endpoint`]'s client, retrying as [`Retry`] says.
struct PatientSender {
    http: reqwest::Client,
    url: String,
    retry: Retry,
    request_id: AtomicU64,
}

/// Why a request got no answer, in a user's terms.
fn unanswered(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        format!("no answer within {} s", timeout.as_secs_f64())
    } else if error.is_connect() {
        "the connection was refused or failed".into()
    } else {
        let mut cause: &dyn std::error::Error = error;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        format!("the connection closed before a whole answer ({cause})")
    }
}

/// Retry-After in seconds (the HTTP-date form is rare on JSON-RPC endpoints
/// and falls back to the backoff).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(header::RETRY_AFTER)?;
    let seconds: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds))
}

/// JSON-RPC errors an endpoint gives while it catches up: node unhealthy
/// (-32005) and block not available yet (-32004).
const CATCHING_UP: [i64; 2] = [-32005, -32004];

impl PatientSender {
    async fn once(&self, method: &str, body: &str) -> Answer {
        let sent = self
            .http
            .post(&self.url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_builder() => return Answer::Permanent(e.into()),
            Err(e) => return Answer::Transient(unanswered(&e, self.retry.timeout), None),
        };
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = retry_after(&response);
            let said = match wait {
                Some(wait) => format!("HTTP {status} (Retry-After {} s)", wait.as_secs()),
                None => format!("HTTP {status}"),
            };
            return Answer::Transient(said, wait.map(|w| w.min(self.retry.max_retry_after)));
        }
        if status.is_server_error() {
            return Answer::Transient(format!("HTTP {status}"), None);
        }
        if !status.is_success() {
            return Answer::Permanent(
                ErrorKind::Custom(format!("HTTP {status} (the endpoint refuses the request)"))
                    .into(),
            );
        }
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => return Answer::Transient(unanswered(&e, self.retry.timeout), None),
        };
        let mut json: Value = match serde_json::from_slice(&bytes) {
            Ok(json) => json,
            Err(e) => return Answer::Transient(format!("an answer that is not JSON ({e})"), None),
        };
        if let Some(error) = json.get("error").filter(|e| e.is_object()) {
            let code = error["code"].as_i64().unwrap_or_default();
            let message = error["message"].as_str().unwrap_or_default().to_string();
            if CATCHING_UP.contains(&code) {
                return Answer::Transient(format!("JSON-RPC error {code}: {message}"), None);
            }
            return Answer::Permanent(
                RpcError::RpcResponseError {
                    code,
                    message,
                    data: RpcResponseErrorData::Empty,
                }
                .into(),
            );
        }
        let result = json["result"].take();
        // A load-balanced endpoint may list a signature before every node
        // behind it can serve its transaction.
        if result.is_null() && method == "getTransaction" {
            return Answer::Transient("the transaction is not available yet".into(), None);
        }
        Answer::Result(result)
    }
}

#[async_trait]
impl RpcSender for PatientSender {
    async fn send(&self, request: RpcRequest, params: Value) -> Result<Value, ClientError> {
        let method = request.to_string();
        let id = self.request_id.fetch_add(1, Ordering::Relaxed);
        let body = request.build_request_json(id, params).to_string();
        let attempts = self.retry.attempts.max(1);
        let mut last = String::new();
        for attempt in 1..=attempts {
            let wait = match self.once(&method, &body).await {
                Answer::Result(result) => return Ok(result),
                Answer::Permanent(error) => return Err(error),
                Answer::Transient(said, wait) => {
                    last = said;
                    wait
                }
            };
            if attempt < attempts {
                tokio::time::sleep(wait.unwrap_or_else(|| self.retry.backoff(attempt))).await;
            }
        }
        Err(ErrorKind::Custom(format!(
            "no usable answer in {attempts} attempts, the last: {last} (the endpoint is overloaded, \
             rate-limiting or down: run again later, with a lower --concurrency, or use another --url)"
        ))
        .into())
    }

    fn get_transport_stats(&self) -> RpcTransportStats {
        RpcTransportStats::default()
    }

    fn url(&self) -> String {
        self.url.clone()
    }
}

/// The endpoint as a read-only [`Cluster`], for snapshots.
pub struct Reader<'a>(pub &'a Endpoint);

impl Cluster for Reader<'_> {
    async fn send(&mut self, _: &[Instruction], _: &[&Keypair]) -> Result<(), TxFailure> {
        Err(TxFailure::Other(
            "the indexer only reads the cluster".into(),
        ))
    }

    async fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<AccountState>>, TxFailure> {
        let mut out = Vec::with_capacity(keys.len());
        // getMultipleAccounts takes at most 100 addresses.
        for chunk in keys.chunks(100) {
            let accounts = self
                .0
                .client
                .get_multiple_accounts(chunk)
                .await
                .map_err(|e| TxFailure::Transport(self.0.failure("getMultipleAccounts", "", &e)))?;
            out.extend(accounts.into_iter().map(|a| {
                a.map(|a| AccountState {
                    lamports: a.lamports,
                    owner: a.owner,
                    data: a.data,
                })
            }));
        }
        Ok(out)
    }

    async fn rent_exempt(&mut self, len: usize) -> Result<u64, TxFailure> {
        self.0
            .client
            .get_minimum_balance_for_rent_exemption(len)
            .await
            .map_err(|e| {
                TxFailure::Transport(self.0.failure("getMinimumBalanceForRentExemption", "", &e))
            })
    }

    async fn now(&mut self) -> Result<i64, TxFailure> {
        let clock = self
            .account(&Clock::id())
            .await?
            .ok_or_else(|| TxFailure::Other("the cluster has no clock sysvar".into()))?;
        // Clock: slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp.
        clock
            .data
            .get(32..40)
            .and_then(|b| b.try_into().ok())
            .map(i64::from_le_bytes)
            .ok_or_else(|| TxFailure::Other("the clock sysvar is malformed".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_its_upper_half() {
        let retry = Retry {
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1_000),
            ..Retry::default()
        };
        for (attempt, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1_000),
            (40, 1_000),
        ] {
            let wait = retry.backoff(attempt);
            let full = Duration::from_millis(full);
            assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
        }
    }
}
