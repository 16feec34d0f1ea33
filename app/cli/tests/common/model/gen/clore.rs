//! Clore scenarios: accounts (class often omitted), tiers, promotion windows
//! (rentals worked in one and reported after it), rentals in CLORE and BTC,
//! funding and per-currency minimum withdrawals.

use super::{Gen, DAY, HOUR};
use serde_json::{json, Value};

const TIERS: [&str; 3] = ["standard", "premium", "vip"];
const RATES: [&str; 5] = ["0.5", "0.25", "0.4", "1", "0.35"];

fn account(gen: &mut Gen) -> Value {
    let name = gen.fresh("a");
    let mut entry = json!({"name": name});
    if gen.rng.chance(50) {
        entry["class"] = "account".into();
    }
    let wallet = gen.wallet_for("account");
    if let Some(w) = &wallet {
        entry["wallet"] = w.clone().into();
    }
    let wallet = wallet.unwrap_or_else(|| name.clone());
    if let Some(r) = gen.referrer_for(&name, &wallet, "account", 25) {
        entry["referrer"] = r.into();
    }
    if gen.rng.chance(35) {
        entry["tier"] = (*gen.rng.pick(&TIERS)).into();
    }
    entry
}

/// A fee in whole units with at most 8 decimals.
fn fee(gen: &mut Gen, btc: bool) -> String {
    let text = fee_digits(gen, btc);
    gen.vary(text, 8)
}

fn fee_digits(gen: &mut Gen, btc: bool) -> String {
    if gen.rng.chance(12) {
        return "0".into();
    }
    if btc {
        let units = gen.rng.range(1, 2_000_000);
        return format!("{}.{:08}", units / 100_000_000, units % 100_000_000);
    }
    match gen.rng.weighted(&[4, 4, 2]) {
        0 => gen
            .rng
            .pick(&["1", "5", "10", "12.5", "40", "100"])
            .to_string(),
        1 => format!("{}", gen.rng.range(1, 300)),
        _ => {
            let units = gen.rng.range(1, 50_000_000_000);
            format!("{}.{:08}", units / 100_000_000, units % 100_000_000)
        }
    }
}

fn rental(gen: &mut Gen) {
    let Some(renter) = gen.subject("account") else {
        return;
    };
    let Some(host) = gen.subject("account") else {
        return;
    };
    let referrer = |gen: &Gen, n: &str| {
        gen.model
            .member(n)
            .ok()
            .and_then(|m| gen.model.members[m].referrer)
    };
    if renter == host {
        gen.count("rental: the renter is the host");
    } else if referrer(gen, &renter).is_some() && referrer(gen, &renter) == referrer(gen, &host) {
        gen.count("rental: both sides share a referrer");
    }
    let btc = gen.rng.chance(35);
    let id = gen.id_for(&renter);
    // Aim at the promotion window's edges and inside it (also once it has ended).
    let window = gen.model.promotion.clone();
    let work_at = match window {
        Some(w) if gen.rng.chance(35) => {
            let (s, e) = (w.start - gen.model.start, w.end - gen.model.start);
            let at = *gen.rng.pick(&[s, e - 1, e, s + (e - s) / 2, s - 1]);
            gen.count("work_at: at a promotion edge");
            (at >= 0 && at <= gen.at).then_some(at)
        }
        _ => gen.work_at(&renter),
    };
    let mut step = json!({
        "op": "rental", "id": id, "currency": if btc { "BTC" } else { "CLORE" },
        "renter": renter, "host": host,
        "renter_base_fee": fee(gen, btc), "renter_extra_fee": fee(gen, btc),
        "host_base_fee": fee(gen, btc), "host_extra_fee": fee(gen, btc),
    });
    Gen::with_work_at(&mut step, work_at);
    gen.step(step);
}

fn promotion(gen: &mut Gen) {
    let at = gen.at;
    let (a, b) = (gen.rng.range(1, 2 * DAY), gen.rng.range(HOUR, 3 * DAY));
    let (start, end, kind) = match gen.rng.weighted(&[5, 3, 2]) {
        0 => (at - a.min(at), at + b, "open now"),
        1 => ((at - a - b).max(0), (at - a).max(1), "already over"),
        _ => (at + a, at + a + b, "in the future"),
    };
    gen.count(format!("promotion {kind}"));
    let rate = gen.rng.pick(&RATES).to_string();
    let rate = gen.vary(rate, 6);
    gen.step(json!({"op": "promotion", "rate": rate, "start": start, "end": end}));
}

fn set_tier(gen: &mut Gen) {
    let Some(member) = gen.subject("account") else {
        return;
    };
    let tier = *gen.rng.pick(&TIERS);
    gen.step(json!({"op": "set_tier", "member": member, "tier": tier}));
}

pub fn generate(gen: &mut Gen) {
    for _ in 0..gen.rng.range(4, 9) {
        let entry = account(gen);
        gen.entry(entry);
    }
    let steps = gen.rng.range(20, 40);
    while (gen.steps.len() as i64) < steps {
        gen.advance();
        match gen.rng.weighted(&[36, 7, 7, 7, 6, 30]) {
            0 => rental(gen),
            1 => promotion(gen),
            2 => set_tier(gen),
            3 => {
                let mut entry = account(gen);
                entry["op"] = "join".into();
                gen.step(entry);
            }
            4 => gen.set_referrer_step(),
            _ => gen.money_step(30),
        }
    }
}
