//! Report steps (scenario files and reports files alike) as the program's
//! instruction arguments: names of services and endpoints, decimal rates, and
//! the work time the caller gives (a scenario's `work_at`, a reports file's
//! `work_time`).

use crate::scenario::{Bandwidth, Compute, Usage};
use upline::instructions::{BandwidthReportArgs, ComputeReportArgs, UsageReportArgs};
use upline::math::Ppm;
use upline::state::{Endpoint, Service};

/// A Cxmpute provider service by name.
pub fn service(name: &str) -> Option<Service> {
    Some(match name {
        "chat" => Service::Chat,
        "tts" => Service::Tts,
        "embeddings" => Service::Embeddings,
        "scrape" => Service::Scrape,
        _ => return None,
    })
}

/// A Cxmpute user endpoint by name.
pub fn endpoint(name: &str) -> Option<Endpoint> {
    Some(match name {
        "chat" => Endpoint::Chat,
        "embeddings" => Endpoint::Embeddings,
        "scrape" => Endpoint::Scrape,
        "tts" => Endpoint::Tts,
        _ => return None,
    })
}

/// A decimal rate ("0.95") as parts per million.
pub fn ppm(text: &str, what: &str) -> Result<Ppm, String> {
    Ppm::from_decimal_str(text).map_err(|e| format!("{what} {text:?}: {e}"))
}

impl Compute {
    /// The instruction's arguments, the work done at unix time `work_time`.
    pub fn args(&self, work_time: i64) -> Result<ComputeReportArgs, String> {
        Ok(ComputeReportArgs {
            id: self.id,
            work_time,
            service: service(&self.service).ok_or(format!("unknown service {:?}", self.service))?,
            tokens: self.tokens,
            latency_ms: self.latency_ms,
        })
    }
}

impl Usage {
    /// The instruction's arguments, the work done at unix time `work_time`.
    pub fn args(&self, work_time: i64) -> Result<UsageReportArgs, String> {
        Ok(UsageReportArgs {
            id: self.id,
            work_time,
            endpoint: endpoint(&self.endpoint)
                .ok_or(format!("unknown endpoint {:?}", self.endpoint))?,
            tokens: self.tokens,
        })
    }
}

impl Bandwidth {
    /// The instruction's arguments, the work done at unix time `work_time`.
    pub fn args(&self, work_time: i64) -> Result<BandwidthReportArgs, String> {
        Ok(BandwidthReportArgs {
            id: self.id,
            work_time,
            bytes: self.bytes,
            quality: ppm(&self.quality, "quality")?,
            stability: ppm(&self.stability, "stability")?,
            demand: ppm(&self.demand, "demand")?,
            suppressed: self.suppressed,
        })
    }
}
