//! Random §8 scenarios for each preset, from a seed. The generator drives the
//! model as it writes each step, so that it can aim at the interesting cases
//! (a withdrawal just above the balance, a work time just inside a promotion,
//! a report id just stale) and count what each scenario exercised.

mod aether;
mod clore;
mod cxmpute;
mod pick;

use super::num::{format_wad, Wad};
use super::rng::Rng;
use super::tables::Tables;
use super::Model;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::rc::Rc;

pub const DAY: i64 = 86_400;
pub const HOUR: i64 = 3_600;
pub const WEEK: i64 = 7 * DAY;

/// How time moves between steps.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pace {
    /// Seconds to minutes.
    Dense,
    /// Up to a few hours.
    Hours,
    /// Hours to days: work times can age past the 7-day limit.
    Days,
    /// About a day, for Aether's stable streaks.
    Daily,
}

/// A declared name: a member entry or a `join` step, whether or not it joined.
#[derive(Clone, Debug)]
pub struct Declared {
    pub name: String,
    pub class: String,
    pub wallet: String,
}

pub struct Gen {
    pub rng: Rng,
    pub model: Model,
    pub preset: String,
    pub start: Option<i64>,
    pub members: Vec<Value>,
    pub steps: Vec<Value>,
    pub declared: Vec<Declared>,
    /// The next step's `at`.
    pub at: i64,
    pub pace: Pace,
    /// What the generator aimed at (work_at kinds, wallets...).
    pub tally: BTreeMap<String, u64>,
    counter: usize,
}

impl Gen {
    pub fn new(preset: &str, seed: u64) -> Gen {
        let mut rng = Rng::new(seed);
        let start = match rng.weighted(&[5, 3, 2]) {
            0 => None,
            // Epoch boundaries elsewhere in the week.
            1 => Some(super::DEFAULT_START + rng.range(1, WEEK - 1)),
            _ => Some(super::DEFAULT_START + 3 * WEEK),
        };
        let pace = *rng.pick(&[Pace::Dense, Pace::Hours, Pace::Days, Pace::Days]);
        let mut scenario = json!({"preset": preset});
        if let Some(s) = start {
            scenario["start"] = s.into();
        }
        let model = Model::start(Rc::new(Tables::load(preset)), &scenario);
        Gen {
            rng,
            model,
            preset: preset.to_string(),
            start,
            members: Vec::new(),
            steps: Vec::new(),
            declared: Vec::new(),
            at: 0,
            pace,
            tally: BTreeMap::new(),
            counter: 0,
        }
    }

    pub fn count(&mut self, what: impl Into<String>) {
        *self.tally.entry(what.into()).or_default() += 1;
    }

    /// A fresh member name with `prefix`.
    pub fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    /// Add a member entry (joined at the start) and run it on the model.
    pub fn entry(&mut self, entry: Value) {
        self.declare(&entry);
        self.model.apply_entry(&entry);
        self.members.push(entry);
    }

    fn declare(&mut self, entry: &Value) {
        let name = entry["name"].as_str().expect("name").to_string();
        let class = match entry.get("class").and_then(Value::as_str) {
            Some(c) => c.to_string(),
            None => self.model.tables.classes[0].name.clone(),
        };
        let wallet = entry
            .get("wallet")
            .and_then(Value::as_str)
            .unwrap_or(&name)
            .to_string();
        self.declared.push(Declared {
            name,
            class,
            wallet,
        });
    }

    /// Add a step at the current `at` and run it on the model.
    pub fn step(&mut self, mut step: Value) {
        step["at"] = self.at.into();
        if step["op"] == "join" {
            self.declare(&step);
        }
        self.model.apply_step(self.steps.len(), &step);
        self.steps.push(step);
    }

    /// Would `step` be judged differently by its own epoch than by its
    /// referrer's newest? (See `bandwidth.rs`.)
    pub fn ambiguous(&self, step: &Value) -> bool {
        let mut trial = self.model.clone();
        let mut step = step.clone();
        step["at"] = self.at.into();
        let before = trial.epoch_ambiguities;
        trial.apply_step(self.steps.len(), &step);
        trial.epoch_ambiguities > before
    }

    /// Move time on, as the scenario's pace says.
    pub fn advance(&mut self) {
        let r = &mut self.rng;
        let step = match self.pace {
            Pace::Dense => *r.pick(&[0, 0, 1, 5, 30, 60, 120, 600]),
            Pace::Hours => r.range(0, 3 * HOUR),
            Pace::Days => match r.weighted(&[3, 3, 2, 1]) {
                0 => r.range(0, HOUR),
                1 => r.range(HOUR, 12 * HOUR),
                2 => r.range(12 * HOUR, 2 * DAY),
                _ => r.range(2 * DAY, 4 * DAY),
            },
            Pace::Daily => match r.weighted(&[2, 5, 2, 1]) {
                0 => DAY,
                1 => r.range(12 * HOUR, DAY),
                2 => r.range(DAY + 1, 30 * HOUR),
                _ => r.range(0, HOUR),
            },
        };
        self.at += step;
    }

    /// The scenario JSON.
    pub fn scenario(&self) -> Value {
        let mut s = json!({"preset": self.preset, "members": self.members, "steps": self.steps});
        if let Some(start) = self.start {
            s["start"] = start.into();
        }
        s
    }

    /// `text`, a decimal, now and then written with trailing zeros (up to
    /// `max_decimals` digits after the point): "5" as "5.00", "0.9" as "0.900".
    pub fn vary(&mut self, text: String, max_decimals: usize) -> String {
        let places = text.split_once('.').map_or(0, |(_, f)| f.len());
        if places >= max_decimals || !self.rng.chance(15) {
            return text;
        }
        let zeros = self.rng.range(1, (max_decimals - places) as i64) as usize;
        let point = if places == 0 { "." } else { "" };
        self.count("decimal written with trailing zeros");
        format!("{text}{point}{}", "0".repeat(zeros))
    }

    /// A WAD amount as a decimal string (callers keep it to the ledger's decimals).
    pub fn amount(w: &Wad) -> String {
        format_wad(w)
    }
}

/// A random scenario of `preset` from `seed`, with what the generator aimed at.
pub fn scenario(preset: &str, seed: u64) -> (Value, BTreeMap<String, u64>) {
    let mut gen = Gen::new(preset, seed);
    match preset {
        "cxmpute" => cxmpute::generate(&mut gen),
        "clore" => clore::generate(&mut gen),
        "aether" => aether::generate(&mut gen),
        other => panic!("no generator for {other}"),
    }
    let pace = format!("scenario: {:?} pace", gen.pace);
    gen.count(pace);
    (gen.scenario(), gen.tally)
}
