//! `upline simulate` against an independent model of DESIGN.md (issue 12):
//! random scenarios of every preset, from a seed, each compared field by
//! field (every member's referrer, downline and ledger values, the ledger
//! totals, and `rejected` with its step indices and error names).
//!
//! Environment: `UPLINE_MODEL_SEED` (default a fixed seed),
//! `UPLINE_MODEL_SCENARIOS` (scenarios per preset), `UPLINE_MODEL_THREADS`
//! (how many run at once per preset, default 2), `UPLINE_MODEL_ONLY=N`
//! (scenario N alone), `UPLINE_MODEL_KEEP=1` (keep every scenario file).
//! `--nocapture` prints what each preset's run exercised. A difference names
//! the preset, seed, scenario index and first differing field, and leaves the
//! scenario in a temp file.

#[path = "common/model/mod.rs"]
mod model;

use model::compare::differences;
use model::rng::scenario_seed;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

const DEFAULT_SEED: u64 = 0x5EED_0012;

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text:?} is not a number")))
}

/// One scenario that `simulate` answered differently from the model.
struct Disagreement {
    index: usize,
    first: String,
    all: Vec<String>,
    file: String,
}

/// `upline simulate FILE --json`, as scripts outside the project run it.
fn simulate(file: &Path) -> Result<Value, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_upline"))
        .args(["simulate", file.to_str().expect("a UTF-8 path"), "--json"])
        .env("RUST_LOG", "error")
        .output()
        .map_err(|e| format!("cannot run upline: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "upline simulate exited with {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("its output is not one JSON object: {e}"))
}

/// What one scenario showed.
struct Outcome {
    index: usize,
    tally: BTreeMap<String, u64>,
    audit: Option<Value>,
    disagreement: Option<Disagreement>,
}

/// Generate scenario `index`, run it through the model and `simulate`, compare.
fn run_one(preset: &str, seed: u64, index: usize, dir: &Path) -> Outcome {
    let (scenario, aimed) = model::gen::scenario(preset, scenario_seed(seed, preset, index));
    let (expected, run) = model::run(&scenario);
    let text = serde_json::to_string_pretty(&scenario).expect("JSON");
    let file = dir.join(format!(
        "{preset}-{seed:#x}-{index}-{}.json",
        std::process::id()
    ));
    std::fs::write(&file, &text).expect("write the scenario");
    let mut tally = BTreeMap::new();
    let length = |key: &str| scenario[key].as_array().map_or(0, Vec::len) as u64;
    tally.insert("scenarios".to_string(), 1);
    tally.insert("members declared".to_string(), length("members"));
    tally.insert("steps".to_string(), length("steps"));
    for (key, n) in run.tally.iter().chain(&aimed) {
        *tally.entry(key.clone()).or_default() += n;
    }
    let mut audit = None;
    let differ = match simulate(&file) {
        Ok(actual) => {
            if actual["audit"]["verdict"] != "pass" {
                audit = Some(actual["audit"].clone());
            }
            differences(&expected, &actual)
        }
        Err(e) => vec![format!("simulate refused the scenario: {e}")],
    };
    if differ.is_empty() && std::env::var_os("UPLINE_MODEL_KEEP").is_none() {
        let _ = std::fs::remove_file(&file);
    }
    let disagreement = (!differ.is_empty()).then(|| Disagreement {
        index,
        first: differ[0].clone(),
        all: differ,
        file: file.display().to_string(),
    });
    Outcome {
        index,
        tally,
        audit,
        disagreement,
    }
}

fn check_preset(preset: &str, default_count: u64) {
    let seed = env_number("UPLINE_MODEL_SEED").unwrap_or(DEFAULT_SEED);
    let count = env_number("UPLINE_MODEL_SCENARIOS").unwrap_or(default_count) as usize;
    let only = env_number("UPLINE_MODEL_ONLY").map(|n| n as usize);
    let workers = env_number("UPLINE_MODEL_THREADS").unwrap_or(2).max(1);
    let began = Instant::now();
    let dir = std::env::temp_dir().join("upline-simulate-model");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let indices: Vec<usize> = (0..count)
        .filter(|i| only.is_none_or(|o| o == *i))
        .collect();
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                let Some(&index) = indices.get(at) else { break };
                let outcome = run_one(preset, seed, index, &dir);
                outcomes.lock().expect("outcomes").push(outcome);
            });
        }
    });
    let mut outcomes = outcomes.into_inner().expect("outcomes");
    outcomes.sort_by_key(|o| o.index);

    let mut summary: BTreeMap<String, u64> = BTreeMap::new();
    for o in &outcomes {
        for (key, n) in &o.tally {
            *summary.entry(key.clone()).or_default() += n;
        }
    }
    println!(
        "== {preset}: seed {seed:#x}, {} scenarios in {:.1} s (UPLINE_MODEL_SEED, UPLINE_MODEL_SCENARIOS)",
        outcomes.len(),
        began.elapsed().as_secs_f64()
    );
    for (key, n) in &summary {
        println!("  {key}: {n}");
    }
    for o in &outcomes {
        if let Some(audit) = &o.audit {
            println!("  audit not passed in scenario {}: {audit}", o.index);
        }
    }
    let disagreements: Vec<&Disagreement> = outcomes
        .iter()
        .filter_map(|o| o.disagreement.as_ref())
        .collect();
    if let Some(first) = disagreements.first() {
        let mut message = format!(
            "{preset}: simulate and the model of DESIGN.md disagree in {} of {} scenarios (seed {seed:#x}).\n\
             First: scenario {} ({}): {}\n",
            disagreements.len(),
            outcomes.len(),
            first.index,
            first.file,
            first.first
        );
        for d in &disagreements {
            message.push_str(&format!(
                "  scenario {} ({}): {} difference(s), first {}\n",
                d.index,
                d.file,
                d.all.len(),
                d.first
            ));
            for other in d.all.iter().skip(1).take(5) {
                message.push_str(&format!("      also {other}\n"));
            }
        }
        message.push_str(&format!(
            "Rerun one: UPLINE_MODEL_SEED={seed:#x} UPLINE_MODEL_ONLY=N cargo test -p upline-cli --test simulate_model {preset}"
        ));
        panic!("{message}");
    }
}

#[test]
fn cxmpute_agrees_with_the_model() {
    check_preset("cxmpute", 100);
}

#[test]
fn clore_agrees_with_the_model() {
    check_preset("clore", 100);
}

#[test]
fn aether_agrees_with_the_model() {
    check_preset("aether", 100);
}

/// The model itself against the figures DESIGN.md prints, so that it cannot
/// drift into agreeing with a wrong simulate.
#[test]
fn the_model_reproduces_the_documents_figures() {
    let scenario = |name: &str| -> Value {
        let path = format!("{}/../scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).expect("example")).expect("JSON")
    };
    let field = |r: &Value, m: &str, l: &str, f: &str| r["members"][m]["ledgers"][l][f].clone();
    let (r, _) = model::run(&scenario("cxmpute.json"));
    assert_eq!(field(&r, "mariana", "CXPT", "own"), "0.375");
    assert_eq!(field(&r, "blue", "CXPT", "own"), "0.045");
    assert_eq!(field(&r, "ocean", "CXPT", "own"), "0.02625");
    assert_eq!(field(&r, "p2", "CXPT", "level1"), "0.0375");
    assert_eq!(field(&r, "p1", "CXPT", "level2"), "0.01875");
    assert_eq!(field(&r, "p0", "CXPT", "level3"), "0.009375");
    assert_eq!(field(&r, "u1", "POINTS", "own"), "2");
    assert_eq!(field(&r, "u0", "POINTS", "level1"), "0.3");
    assert_eq!(field(&r, "p0", "POINTS", "bonus"), "50");
    assert_eq!(r["ledgers"]["CXPT"]["credited"], "0.886875");
    assert_eq!(r["ledgers"]["POINTS"]["credited"], "177.3");

    let (r, _) = model::run(&scenario("clore.json"));
    assert_eq!(field(&r, "alice", "CLORE", "level1"), "5.95");
    assert_eq!(field(&r, "bob", "CLORE", "level1"), "4");
    assert_eq!(field(&r, "alice", "BTC", "level1"), "0.000018");
    assert_eq!(r["ledgers"]["CLORE"]["vault"], "1000");

    let (r, _) = model::run(&scenario("aether.json"));
    assert_eq!(field(&r, "n1", "AETH", "own"), "1.8");
    assert_eq!(field(&r, "early", "AETH", "level1"), "0.391");
    assert_eq!(
        r["rejected"],
        serde_json::json!([
            {"member": "clone", "error": "DuplicateDevice"},
            {"step": 3, "error": "InvalidCoefficient"},
            {"step": 4, "error": "InvalidDemandMultiplier"},
            {"step": 5, "error": "UnattestedNode"}
        ])
    );
}

/// A report whose work falls in the epoch before one its referrer's other
/// nodes already reached is judged by its own epoch ("current" is the work
/// time's, DESIGN.md §4.4), not the newest: the program and the model agree.
#[test]
fn late_work_is_judged_by_its_own_epoch() {
    const WEEK: i64 = 7 * 86_400;
    let mut members = vec![serde_json::json!({"name": "hub", "class": "user"})];
    let mut steps = Vec::new();
    for i in 1..=7 {
        members.push(serde_json::json!({"name": format!("n{i}"), "class": "node",
            "referrer": "hub", "fingerprint": format!("f{i}"), "subnet": format!("s{i}")}));
        let (at, work_at) = if i < 7 {
            (WEEK + 100, WEEK + 100)
        } else {
            (WEEK + 200, WEEK - 100)
        };
        steps.push(
            serde_json::json!({"at": at, "op": "bandwidth", "id": 1, "node": format!("n{i}"),
            "bytes": 1_000_000_000u64, "quality": "1", "stability": "1", "demand": "1",
            "work_at": work_at}),
        );
    }
    let scenario = serde_json::json!({"preset": "aether", "members": members, "steps": steps});
    let (r, model) = model::run(&scenario);
    // n1-n5 at 17%, n6 at 18% (six active in the epoch); n7's own epoch has one.
    assert_eq!(r["members"]["hub"]["ledgers"]["AETH"]["level1"], "1.2");
    assert_eq!(model.epoch_ambiguities, 1, "the newest epoch would say 18%");
    let dir = std::env::temp_dir().join("upline-simulate-model");
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let file = dir.join("late-work-own-epoch.json");
    std::fs::write(&file, scenario.to_string()).expect("written");
    let out = simulate(&file).expect("simulate runs");
    assert_eq!(out["members"]["hub"]["ledgers"]["AETH"]["level1"], "1.2");
    assert_eq!(out["members"], r["members"]);
}
