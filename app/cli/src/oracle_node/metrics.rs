//! `GET /metrics`: the queue's figures in the Prometheus text format
//! (OpenMetrics), read from the queue itself at each scrape, so that they
//! survive restarts as the reports do.

use super::store::{now_ms, Counts};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

pub struct Metrics {
    registry: Registry,
    queue_depth: Gauge,
    recorded: Counter,
    already: Counter,
    rejected: Counter,
    retried: Counter,
    oldest_age: Gauge<f64, AtomicU64>,
    last_slot: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("upline_oracle_node");
        let metrics = Metrics {
            registry: Registry::default(),
            queue_depth: Gauge::default(),
            recorded: Counter::default(),
            already: Counter::default(),
            rejected: Counter::default(),
            retried: Counter::default(),
            oldest_age: Gauge::default(),
            last_slot: Gauge::default(),
        };
        registry.register(
            "queue_depth",
            "Reports accepted and not yet settled (queued or in flight)",
            metrics.queue_depth.clone(),
        );
        registry.register(
            "reports_recorded",
            "Reports recorded on chain by this node's transactions",
            metrics.recorded.clone(),
        );
        registry.register(
            "reports_already_recorded",
            "Reports whose id the chain held before this node's transaction carried them",
            metrics.already.clone(),
        );
        registry.register(
            "reports_rejected",
            "Reports the program refused (the reason is kept with each)",
            metrics.rejected.clone(),
        );
        registry.register(
            "reports_retried",
            "Times a report was handed to the sender again (cluster not answering, restart, paused network)",
            metrics.retried.clone(),
        );
        registry.register(
            "oldest_queued_age_seconds",
            "Age of the oldest report not yet settled (0 when none)",
            metrics.oldest_age.clone(),
        );
        registry.register(
            "last_confirmed_slot",
            "Slot of the latest transaction of this node confirmed with a report",
            metrics.last_slot.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }
}

/// Raise `counter` to `value` (the queue's totals only grow).
fn raise(counter: &Counter, value: u64) {
    let now = counter.get();
    if value > now {
        counter.inc_by(value - now);
    }
}

impl Metrics {
    /// The text of a scrape for the queue's `counts`.
    pub fn render(&self, counts: &Counts) -> String {
        self.queue_depth
            .set(i64::try_from(counts.queued).unwrap_or(i64::MAX));
        raise(&self.recorded, counts.recorded);
        raise(&self.already, counts.already_recorded);
        raise(&self.rejected, counts.rejected);
        raise(&self.retried, counts.retried);
        let age_ms = counts
            .oldest_queued_ms
            .map_or(0, |t| now_ms().saturating_sub(t).max(0));
        // Milliseconds to seconds for display only: an exact figure is not needed here.
        self.oldest_age.set(age_ms as f64 / 1000.0);
        self.last_slot.set(
            counts
                .last_slot
                .and_then(|s| i64::try_from(s).ok())
                .unwrap_or(0),
        );
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}
