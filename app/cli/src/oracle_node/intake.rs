//! `POST /reports`: a request's reports checked as `oracle submit` checks a
//! file (the same parser, then the same per-report checks against the
//! chain), then against the queue, and stored all together or not at all.

use super::store::{Known, NewReport, Row, Store};
use crate::reports::{self, ReportLine, Unusable};
use crate::submit::prepare;
use anchor_lang::prelude::Pubkey;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use upline_sdk::client::TxFailure;
use upline_sdk::rpc::RpcCluster;

/// Why a request was refused: nothing of it was stored.
#[derive(Debug)]
pub enum Refusal {
    /// Lines that are not reports (HTTP 400): each "request:LINE: reason".
    Malformed(Vec<String>),
    /// Reports the node will not send (HTTP 422): unknown member or model,
    /// stale id, another network.
    Refused(Vec<String>),
    /// The cluster or the queue did not answer (HTTP 503): post again.
    Unavailable(String),
}

/// What the node reports for: its network and approvers.
pub struct Approvers {
    pub network: Pubkey,
    pub oracle: Pubkey,
    pub co_signers: Vec<Pubkey>,
}

/// One line of a request, before parsing: as posted (without its
/// `network`), and as an object, for filling in the work time.
struct Posted {
    raw: String,
    object: Option<serde_json::Map<String, Value>>,
}

/// Take each line's optional `"network"` off (it must be the node's): the
/// reports-file parser knows no such field. Line numbers are kept.
fn split_networks(body: &str, network: &Pubkey) -> (String, Vec<Option<Posted>>, Vec<String>) {
    let mut text = String::with_capacity(body.len());
    let mut posted = Vec::new();
    let mut refusals = Vec::new();
    for (index, line) in body.lines().enumerate() {
        let raw = line.trim();
        if raw.is_empty() {
            text.push('\n');
            posted.push(None);
            continue;
        }
        let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(raw) else {
            // Not an object: the parser names what is wrong with it.
            text += raw;
            text.push('\n');
            posted.push(Some(Posted {
                raw: raw.to_string(),
                object: None,
            }));
            continue;
        };
        if let Some(given) = object.remove("network") {
            let given = given.as_str().unwrap_or_default().to_string();
            if given != network.to_string() {
                refusals.push(format!(
                    "request:{}: WrongNetwork: the report is for network {given:?}; this node reports to network {network}",
                    index + 1
                ));
            }
        }
        let stripped = Value::Object(object.clone()).to_string();
        text += &stripped;
        text.push('\n');
        posted.push(Some(Posted {
            raw: stripped,
            object: Some(object),
        }));
    }
    (text, posted, refusals)
}

/// Check `body` and store its reports; the answer for each report line.
pub async fn accept(
    cluster: &mut RpcCluster,
    store: &Arc<Mutex<Store>>,
    who: &Approvers,
    body: &str,
) -> Result<Vec<(usize, Option<Row>, NewReport)>, Refusal> {
    let (text, posted, wrong_network) = split_networks(body, &who.network);
    let lines = reports::parse(&text, "request").map_err(Refusal::Malformed)?;
    if lines.is_empty() {
        return Err(Refusal::Malformed(vec![
            "request: no reports (one JSON object per line)".into(),
        ]));
    }
    if !wrong_network.is_empty() {
        return Err(Refusal::Refused(wrong_network));
    }
    let prepared = prepare(cluster, who.oracle, &who.co_signers, who.network, &lines)
        .await
        .map_err(unavailable)?;
    let mut builder = prepared.builder;
    if !prepared.summary.rejected.is_empty() {
        let reasons = prepared.summary.rejected.iter();
        return Err(Refusal::Refused(
            reasons.map(|(l, r)| format!("request:{l}: {r}")).collect(),
        ));
    }
    let queued: HashSet<usize> = prepared.queue.iter().map(|q| q.line).collect();
    let mut reports = Vec::with_capacity(lines.len());
    // The chain's last id about the member of each report it already holds.
    let mut on_chain: HashMap<usize, u64> = HashMap::new();
    for line in &lines {
        let (member, _) = builder
            .member_of(cluster, &line.op)
            .await
            .map_err(|e| match e {
                Unusable::Rejected(r) => {
                    Refusal::Refused(vec![format!("request:{}: {r}", line.line)])
                }
                Unusable::Unreachable(r) => Refusal::Unavailable(format!("the cluster: {r}")),
            })?;
        if !queued.contains(&line.line) {
            let last = builder
                .recorded_id(cluster, &member)
                .await
                .map_err(unavailable)?;
            on_chain.insert(line.line, last);
        }
        let Some(Some(p)) = posted.get(line.line - 1) else {
            continue;
        };
        reports.push((
            line.line,
            new_report(line, p, member, builder.default_work_time),
        ));
    }
    let to_store: Vec<NewReport> = reports.iter().map(|(_, r)| r.clone()).collect();
    let store = Arc::clone(store);
    let lines_of: Vec<usize> = reports.iter().map(|(l, _)| *l).collect();
    let stored = tokio::task::spawn_blocking(move || {
        let mut store = store.lock().map_err(|_| "the queue's lock is poisoned".to_string())?;
        store.accept(&to_store, |i, known| {
            let (line, report) = (lines_of[i], &to_store[i]);
            let id = report.id;
            match (known, on_chain.get(&line)) {
                (Known::Same(_), _) => Ok(()),
                (_, Some(last)) => Err(format!(
                    "request:{line}: StaleReport: id {id} is not above {last}, the last id recorded on chain about {}",
                    report.wallet
                )),
                (Known::Stale(highest), None) => Err(format!(
                    "request:{line}: StaleReport: id {id} is not above {highest}, already queued about {}",
                    report.wallet
                )),
                (Known::Fresh, None) => Ok(()),
            }
        })
    })
    .await
    .map_err(|e| Refusal::Unavailable(format!("the queue: {e}")))?
    .map_err(|e| Refusal::Unavailable(format!("the queue: {e}")))?;
    let answers = stored.map_err(Refusal::Refused)?;
    Ok(reports
        .into_iter()
        .zip(answers)
        .map(|((line, report), before)| (line, before, report))
        .collect())
}

fn unavailable(failure: TxFailure) -> Refusal {
    Refusal::Unavailable(format!("the cluster: {}", failure.name()))
}

/// The report to store for `line`: a missing work time becomes `now`, the
/// cluster's clock when it was accepted, so that a resend carries the same.
fn new_report(line: &ReportLine, posted: &Posted, member: Pubkey, now: i64) -> NewReport {
    let mut object = posted.object.clone().unwrap_or_default();
    object
        .entry("work_time")
        .or_insert_with(|| Value::from(line.work_time.unwrap_or(now)));
    NewReport {
        id: reports::report_id(&line.op),
        kind: object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        wallet: reports::subject(&line.op).to_string(),
        member: member.to_string(),
        raw: posted.raw.clone(),
        line: Value::Object(object).to_string(),
    }
}
