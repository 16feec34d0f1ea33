//! Cxmpute scenarios: users and providers (one wallet may be both), compute
//! and usage reports, same-class links, direct bonuses, CXPT and POINTS.

use super::Gen;
use serde_json::{json, Value};

const VRAM_GB: [u64; 10] = [2, 4, 5, 8, 9, 16, 21, 22, 24, 48];
const SERVICES: [&str; 4] = ["chat", "tts", "embeddings", "scrape"];
const ENDPOINTS: [&str; 4] = ["chat", "embeddings", "scrape", "tts"];
const MODELS: [&str; 7] = [
    "llama3-70b",
    "mixtral-8x7b",
    "llama3-13b",
    "llama3-8b",
    "mistral-7b",
    "phi-3-mini",
    "gemma-2b",
];
const LATENCY_MS: [u64; 8] = [300, 1999, 2000, 5000, 10000, 10001, 25000, 800];

/// A user or provider entry (for `members` or a `join` step).
fn member(gen: &mut Gen) -> Value {
    let provider = gen.rng.chance(55);
    let class = if provider { "provider" } else { "user" };
    let name = gen.fresh(if provider { "p" } else { "u" });
    let mut entry = json!({"name": name, "class": class});
    let wallet = gen.wallet_for(class);
    if let Some(w) = &wallet {
        entry["wallet"] = w.clone().into();
    }
    let wallet = wallet.unwrap_or_else(|| name.clone());
    if let Some(r) = gen.referrer_for(&name, &wallet, class, 30) {
        entry["referrer"] = r.into();
    }
    // Providers are attested; now and then a user is too (WrongClass).
    if provider || gen.rng.chance(4) {
        entry["vram_gb"] = (*gen.rng.pick(&VRAM_GB)).into();
    }
    entry
}

fn tokens(gen: &mut Gen) -> u64 {
    match gen.rng.weighted(&[5, 40, 30, 25]) {
        0 => 0,
        1 => gen.rng.range(1, 5_000) as u64,
        2 => gen.rng.range(5_000, 50_000) as u64,
        _ => gen.rng.range(50_000, 200_000) as u64,
    }
}

fn compute(gen: &mut Gen) {
    let Some(provider) = gen.subject("provider") else {
        return;
    };
    let id = gen.id_for(&provider);
    let work_at = gen.work_at(&provider);
    let mut step = json!({
        "op": "compute", "id": id, "provider": provider,
        "service": *gen.rng.pick(&SERVICES), "model": *gen.rng.pick(&MODELS),
        "tokens": tokens(gen), "latency_ms": *gen.rng.pick(&LATENCY_MS),
    });
    Gen::with_work_at(&mut step, work_at);
    gen.step(step);
}

fn usage(gen: &mut Gen) {
    let Some(user) = gen.subject("user") else {
        return;
    };
    let id = gen.id_for(&user);
    let work_at = gen.work_at(&user);
    let tokens = gen.rng.range(0, 4_000);
    let mut step = json!({
        "op": "usage", "id": id, "user": user,
        "endpoint": *gen.rng.pick(&ENDPOINTS), "tokens": tokens,
    });
    Gen::with_work_at(&mut step, work_at);
    gen.step(step);
}

pub fn generate(gen: &mut Gen) {
    for _ in 0..gen.rng.range(4, 9) {
        let entry = member(gen);
        gen.entry(entry);
    }
    let steps = gen.rng.range(20, 40);
    while (gen.steps.len() as i64) < steps {
        gen.advance();
        match gen.rng.weighted(&[28, 18, 8, 8, 26]) {
            0 => compute(gen),
            1 => usage(gen),
            2 => {
                let mut entry = member(gen);
                entry["op"] = "join".into();
                gen.step(entry);
            }
            3 => gen.set_referrer_step(),
            _ => gen.money_step(30),
        }
    }
}
