//! Aether scenarios: users and nodes (one wallet may be both), hubs with many
//! referred nodes (early slots, growth), devices and subnets (duplicates,
//! unattested nodes, shared subnets), bandwidth reports with invalid and
//! suppressed ones, daily streaks in work time, and the end of the growth phase.

use super::{Gen, Pace, DAY, HOUR};
use serde_json::{json, Value};

const SUBNETS: [&str; 5] = [
    "10.0.1.0/24",
    "10.0.2.0/24",
    "10.0.2.0/24",
    "10.0.3.0/24",
    "10.0.4.0/24",
];

/// A node's device fields: mostly its own fingerprint in a shared subnet;
/// sometimes another node's fingerprint, none at all, or a fingerprint only.
fn device(gen: &mut Gen, entry: &mut Value, name: &str) {
    let nodes = gen.existing(Some("node"));
    match gen.rng.weighted(&[84, 5, 6, 5]) {
        1 if !nodes.is_empty() => {
            let other = gen.rng.pick(&nodes).clone();
            entry["fingerprint"] = format!("fp-{other}").into();
            entry["subnet"] = "10.0.9.0/24".into();
            gen.count("device: another node's fingerprint");
        }
        2 => gen.count("device: none (unattested)"),
        3 => {
            entry["fingerprint"] = format!("fp-{name}").into();
            gen.count("device: fingerprint only");
        }
        _ => {
            entry["fingerprint"] = format!("fp-{name}").into();
            entry["subnet"] = (*gen.rng.pick(&SUBNETS)).into();
        }
    }
}

/// A user or node entry; `hub`, when given, is the usual referrer.
fn member(gen: &mut Gen, hub: Option<&str>, node_share: u64) -> Value {
    let node = gen.rng.chance(node_share);
    let class = if node { "node" } else { "user" };
    let name = gen.fresh(if node { "n" } else { "u" });
    let mut entry = json!({"name": name, "class": class});
    let wallet = gen.wallet_for(class);
    if let Some(w) = &wallet {
        entry["wallet"] = w.clone().into();
    }
    let wallet = wallet.unwrap_or_else(|| name.clone());
    let referrer = match hub {
        Some(h) if gen.rng.chance(70) && gen.model.member(h).is_ok() && wallet != h => {
            Some(h.to_string())
        }
        _ => gen.referrer_for(&name, &wallet, class, 20),
    };
    if let Some(r) = referrer {
        entry["referrer"] = r.into();
    }
    if node {
        device(gen, &mut entry, &name);
    } else if gen.rng.chance(5) {
        // A user's device cannot be attested (WrongClass; the user stays).
        entry["fingerprint"] = format!("fp-{name}").into();
        entry["subnet"] = (*gen.rng.pick(&SUBNETS)).into();
    }
    entry
}

/// A coefficient in [0, 1] with at most 6 decimals, or (rarely) above 1.
fn coefficient(gen: &mut Gen) -> String {
    let text = coefficient_digits(gen);
    gen.vary(text, 6)
}

fn coefficient_digits(gen: &mut Gen) -> String {
    match gen.rng.weighted(&[30, 60, 4, 3, 3]) {
        0 => gen
            .rng
            .pick(&["1", "0.9", "0.8", "0.5", "0.95"])
            .to_string(),
        1 => format!("0.{:06}", gen.rng.range(0, 999_999)),
        2 => "0".into(),
        3 => "1.000001".into(),
        _ => "1.2".into(),
    }
}

fn demand(gen: &mut Gen) -> String {
    let text = demand_digits(gen);
    gen.vary(text, 6)
}

fn demand_digits(gen: &mut Gen) -> String {
    match gen.rng.weighted(&[30, 60, 3, 3, 2, 2]) {
        0 => gen.rng.pick(&["1", "1.25", "1.5", "1.1"]).to_string(),
        1 => format!("1.{:06}", gen.rng.range(0, 500_000)),
        2 => "1.6".into(),
        3 => "0.999999".into(),
        4 => "1.500001".into(),
        _ => "1.5".into(),
    }
}

fn bytes(gen: &mut Gen) -> u64 {
    match gen.rng.weighted(&[2, 30, 50, 18]) {
        0 => 0,
        1 => gen.rng.range(1, 1_000_000_000) as u64,
        2 => gen.rng.range(1_000_000_000, 5_000_000_000) as u64,
        _ => gen.rng.range(5_000_000_000, 20_000_000_000) as u64,
    }
}

/// A bandwidth report about a random node, or a valid one about `focus`.
fn bandwidth(gen: &mut Gen, hub: &str, focus: Option<&str>) {
    // Often one of the hub's attested nodes, so that its active referrals grow.
    let hub_nodes: Vec<String> = gen
        .existing(Some("node"))
        .into_iter()
        .filter(|n| {
            let m = &gen.model.members[gen.model.member(n).expect("node")];
            m.subnet.is_some() && m.referrer == gen.model.member(hub).ok()
        })
        .collect();
    let node = match focus {
        Some(f) => Some(f.to_string()),
        None if hub_nodes.len() >= 6 && gen.rng.chance(70) => {
            Some(gen.rng.pick(&hub_nodes).clone())
        }
        None if !hub_nodes.is_empty() && gen.rng.chance(40) => {
            Some(gen.rng.pick(&hub_nodes).clone())
        }
        None => gen.subject("node"),
    };
    let Some(node) = node else { return };
    let mut step = match focus {
        Some(_) => {
            let last = gen.model.members[gen.model.member(&node).expect("focus")].last_id;
            json!({
                "op": "bandwidth", "id": last + 1, "node": node, "bytes": bytes(gen),
                "quality": "0.9", "stability": "0.95", "demand": "1.25",
            })
        }
        None => {
            let id = gen.id_for(&node);
            json!({
                "op": "bandwidth", "id": id, "node": node, "bytes": bytes(gen),
                "quality": coefficient(gen), "stability": coefficient(gen), "demand": demand(gen),
            })
        }
    };
    let work_at = if focus.is_some() {
        // Late reports of work done in time: the streak follows work time.
        gen.rng
            .chance(15)
            .then(|| gen.at - gen.rng.range(0, 6 * HOUR))
    } else {
        gen.work_at(&node)
    };
    if focus.is_none() && gen.rng.chance(6) {
        step["suppressed"] = true.into();
    } else if gen.rng.chance(5) {
        step["suppressed"] = false.into();
    }
    Gen::with_work_at(&mut step, work_at);
    if step.get("work_at").is_some() && gen.ambiguous(&step) {
        // Work from an epoch its referrer's other nodes already left: growth
        // by the report's own epoch, whatever the newest says.
        gen.count("late work judged by its own epoch (differs from the newest's)");
    }
    gen.step(step);
}

pub fn generate(gen: &mut Gen) {
    // Marathon: one node reports about daily for a month (the 30-day bonus).
    let marathon = gen.rng.chance(12);
    // The growth phase ends mid-scenario (links after it use no early slot).
    let mut late = !marathon && gen.rng.chance(12);
    if marathon || gen.rng.chance(35) {
        gen.pace = Pace::Daily;
    }
    if marathon {
        gen.count("scenario: a month of daily reports");
    }
    let hub = gen.fresh("hub");
    let hub_class = if gen.rng.chance(60) { "user" } else { "node" };
    let mut entry = json!({"name": hub, "class": hub_class});
    if hub_class == "node" {
        device(gen, &mut entry, &hub);
    }
    gen.entry(entry);
    let many = gen.rng.chance(40);
    let count = if many {
        gen.rng.range(12, 18)
    } else {
        gen.rng.range(3, 9)
    };
    for _ in 0..count {
        let entry = member(gen, Some(&hub), 78);
        gen.entry(entry);
    }
    let focus = gen.existing(Some("node")).into_iter().find(|n| {
        gen.model.members[gen.model.member(n).expect("node")]
            .subnet
            .is_some()
    });
    let steps = if marathon { 48 } else { gen.rng.range(20, 40) };
    while (gen.steps.len() as i64) < steps {
        if marathon && focus.is_some() && gen.rng.chance(90) {
            // About a day between the focus node's work times; exactly 24 h at times.
            let gap = match gen.rng.weighted(&[3, 7]) {
                0 => DAY,
                _ => gen.rng.range(18 * HOUR, 23 * HOUR),
            };
            let node = gen
                .model
                .member(focus.as_deref().expect("focus"))
                .expect("member");
            let last = gen.model.members[node].last_work - gen.model.start;
            gen.at = gen.at.max(last + gap);
            bandwidth(gen, &hub, focus.as_deref());
            continue;
        }
        if marathon {
            gen.at += gen.rng.range(0, HOUR);
        } else {
            gen.advance();
        }
        if late && gen.steps.len() as i64 >= steps / 2 {
            late = false;
            gen.at += 181 * DAY;
            gen.count("growth phase over");
        }
        match gen.rng.weighted(&[62, 7, 6, 25]) {
            0 => bandwidth(gen, &hub, None),
            1 => {
                let mut entry = member(gen, Some(&hub), 70);
                entry["op"] = "join".into();
                gen.step(entry);
            }
            2 => gen.set_referrer_step(),
            _ => gen.money_step(35),
        }
    }
}
