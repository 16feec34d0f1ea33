//! An independent model of DESIGN.md (§2-§5, §8): it reads a §8 scenario and
//! the preset's JSON numbers and answers the §8 output object, with exact
//! rationals rounded down to 18 decimals once per credit. It uses neither the
//! program's nor the SDK's code.

#![allow(dead_code)]

pub mod bandwidth;
pub mod compare;
pub mod gen;
pub mod graph;
pub mod money;
pub mod num;
pub mod output;
pub mod reports;
pub mod rng;
pub mod state;
pub mod tables;

use serde_json::Value;
pub use state::Model;
use std::rc::Rc;
use tables::Tables;

/// Unix time a scenario starts at when it gives none (DESIGN.md §8's example).
pub const DEFAULT_START: i64 = 1_767_225_600;

impl Model {
    /// A fresh network of `tables` at `start`.
    pub fn start(tables: Rc<Tables>, scenario: &Value) -> Model {
        let start = scenario
            .get("start")
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_START);
        Model::new(tables, start)
    }

    /// Join a member entry at the start, listing a refusal by its name.
    pub fn apply_entry(&mut self, entry: &Value) {
        if let Err(error) = self.join(entry) {
            let name = entry["name"].as_str().expect("name");
            self.rejected
                .push(serde_json::json!({"member": name, "error": error}));
        }
    }

    /// Run step `index` at its time, listing a refusal by its index.
    pub fn apply_step(&mut self, index: usize, step: &Value) {
        let at = step["at"].as_i64().expect("at");
        self.now = self.start + at;
        let op = step["op"].as_str().expect("op");
        let outcome = match op {
            "join" => self.join(step),
            "set_referrer" => self.set_referrer(step),
            "set_tier" => self.set_tier(step),
            "promotion" => self.promotion(step),
            "fund" => self.fund(step),
            "withdraw" => self.withdraw(step),
            "compute" => self.compute(step),
            "usage" => self.usage(step),
            "rental" => self.rental(step),
            "bandwidth" => self.bandwidth(step),
            other => panic!("op {other}"),
        };
        if op != "join" {
            let what = outcome.err().unwrap_or("ok");
            self.count(format!("{op} {what}"));
        }
        if let Err(error) = outcome {
            self.rejected
                .push(serde_json::json!({"step": index, "error": error}));
        }
    }
}

/// The model's answer to `scenario`: the §8 object without `audit`, and the model.
pub fn run(scenario: &Value) -> (Value, Model) {
    let preset = scenario["preset"].as_str().expect("preset");
    let mut model = Model::start(Rc::new(Tables::load(preset)), scenario);
    for entry in scenario["members"].as_array().into_iter().flatten() {
        model.apply_entry(entry);
    }
    for (index, step) in scenario["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        model.apply_step(index, step);
    }
    (model.output(), model)
}
