//! Work reports of DESIGN.md §4.1-4.3 and the checks §5 and §8 put on every
//! report: ids strictly increasing per member, work time within
//! [now - max age, now] and never decreasing per member.

use super::graph::Refusal;
use super::num::{dec, q_int, wad_floor, Q};
use super::state::{Model, Source};
use serde_json::Value;

pub fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{key} in {v}"))
}

pub fn uint(v: &Value, key: &str) -> u64 {
    v.get(key)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{key} in {v}"))
}

impl Model {
    /// The work time of a report step: `work_at` (or its `at`) after the start.
    pub fn work_time(&self, step: &Value) -> i64 {
        match step.get("work_at").and_then(Value::as_i64) {
            Some(w) => self.start + w,
            None => self.now,
        }
    }

    /// StaleReport (id), ReportInFuture, ReportTooOld, StaleReport (work time).
    pub fn check_stamp(&self, member: usize, id: u64, work_time: i64) -> Result<(), Refusal> {
        let m = &self.members[member];
        if id <= m.last_id {
            return Err("StaleReport");
        }
        if work_time > self.now {
            return Err("ReportInFuture");
        }
        if work_time < self.now - self.tables.max_report_age {
            return Err("ReportTooOld");
        }
        if work_time < m.last_work {
            return Err("StaleReport");
        }
        Ok(())
    }

    pub fn record_stamp(&mut self, member: usize, id: u64, work_time: i64) {
        let m = &mut self.members[member];
        m.last_id = id;
        m.last_work = work_time;
    }

    /// §4.1: UnknownMember, WrongClass, the stamp, TierTooLow; then the
    /// provider's reward and its three levels of commission.
    pub fn compute(&mut self, step: &Value) -> Result<(), Refusal> {
        let tables = self.tables.clone();
        let c = tables.compute.as_ref().expect("compute tables");
        let provider = self.member(text(step, "provider"))?;
        if self.members[provider].class != c.class {
            return Err("WrongClass");
        }
        let (id, work_time) = (uint(step, "id"), self.work_time(step));
        self.check_stamp(provider, id, work_time)?;
        let vram = self.members[provider]
            .vram_mb
            .expect("scenarios attest every provider");
        let tier = c
            .tiers
            .iter()
            .position(|t| t.max_vram_mb.is_none_or(|max| vram <= max))
            .expect("a top tier");
        let (min_tier, complexity) = &c.models[text(step, "model")];
        if tier < *min_tier {
            return Err("TierTooLow");
        }
        self.record_stamp(provider, id, work_time);
        let service = &c.services[text(step, "service")];
        let t = &c.tiers[tier];
        let tokens = q_int(uint(step, "tokens") as i64);
        let latency = uint(step, "latency_ms");
        let perf = if latency < c.fast_below_ms {
            c.fast.clone()
        } else if latency > c.slow_above_ms {
            c.slow.clone()
        } else {
            q_int(1)
        };
        let reward: Q = (&t.base * service * complexity + tokens * &t.per_token * service) * perf;
        self.credit_with_commissions(provider, c.ledger, &wad_floor(&reward));
        Ok(())
    }

    /// §4.2: UnknownMember, WrongClass, the stamp; points and three levels.
    pub fn usage(&mut self, step: &Value) -> Result<(), Refusal> {
        let tables = self.tables.clone();
        let u = tables.usage.as_ref().expect("usage tables");
        let user = self.member(text(step, "user"))?;
        if self.members[user].class != u.class {
            return Err("WrongClass");
        }
        let (id, work_time) = (uint(step, "id"), self.work_time(step));
        self.check_stamp(user, id, work_time)?;
        self.record_stamp(user, id, work_time);
        let (base, per_token) = &u.endpoints[text(step, "endpoint")];
        let points = base + q_int(uint(step, "tokens") as i64) * per_token;
        self.credit_with_commissions(user, u.ledger, &wad_floor(&points));
        Ok(())
    }

    /// §4.3: UnknownMember (renter, then host), the renter's stamp; each
    /// side's referrer earns its side's fees at the promotion rate when the
    /// work time is in the window, else at its own tier's rate.
    pub fn rental(&mut self, step: &Value) -> Result<(), Refusal> {
        assert!(self.tables.rental, "rental tables");
        let renter = self.member(text(step, "renter"))?;
        let host = self.member(text(step, "host"))?;
        let (id, work_time) = (uint(step, "id"), self.work_time(step));
        self.check_stamp(renter, id, work_time)?;
        self.record_stamp(renter, id, work_time);
        let ledger = self
            .tables
            .ledger(text(step, "currency"))
            .expect("currency");
        let fee = |key: &str| dec(text(step, key)).expect("a decimal fee");
        let promotion = self
            .promotion
            .as_ref()
            .filter(|p| p.start <= work_time && work_time < p.end)
            .map(|p| p.rate.clone());
        self.count(if promotion.is_some() {
            "rental in a promotion"
        } else {
            "rental at tier rates"
        });
        let sides = [
            (renter, fee("renter_base_fee") + fee("renter_extra_fee")),
            (host, fee("host_base_fee") + fee("host_extra_fee")),
        ];
        for (party, fees) in sides {
            let Some(referrer) = self.members[party].referrer else {
                continue;
            };
            let rate = match &promotion {
                Some(rate) => rate.clone(),
                None => {
                    let tiers = self.tables.tier_rates.as_ref().expect("tier rates");
                    tiers[self.members[referrer].tier].clone()
                }
            };
            let amount = wad_floor(&(fees * rate));
            self.credit(referrer, ledger, Source::Level(0), &amount);
        }
        Ok(())
    }

    /// `promotion`: replaces the network's one window.
    pub fn promotion(&mut self, step: &Value) -> Result<(), Refusal> {
        let at = |key: &str| self.start + step[key].as_i64().expect("seconds");
        self.promotion = Some(super::state::Promotion {
            rate: dec(text(step, "rate")).expect("rate"),
            start: at("start"),
            end: at("end"),
        });
        Ok(())
    }
}
