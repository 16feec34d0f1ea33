//! The generator of the demo's two referral networks, and the check that the
//! committed files are its output.
//!
//! DESIGN.md §8 has no way to repeat a step, so `app/scenarios/demo/
//! cxmpute-user-network.json` (1,015 usage reports) and
//! `cxmpute-provider-network.json` (7,800 compute reports) list every report.
//! They are written here rather than by hand: change this file, then
//!
//! ```sh
//! UPLINE_REGENERATE=1 cargo test -p upline-cli --test demo_networks
//! ```
//!
//! rewrites them (members, steps and `expect` block alike); without the variable
//! the test fails if a file differs from what this generator writes.

use std::fmt::Write;

/// A member entry: name, class, referrer, VRAM in GiB.
struct Member {
    name: String,
    class: &'static str,
    referrer: Option<String>,
    vram_gb: Option<u32>,
}

/// A figure of the `expect` block: label, member, ledger, field, value.
type Figure = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// A scenario file in the layout of the hand-written ones: one member, step
/// or figure per line, start at the default.
fn file(
    preset: &str,
    members: &[Member],
    steps: &[String],
    title: &str,
    figures: &[Figure],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{{\n  \"preset\": {},\n  \"members\": [",
        quoted(preset)
    );
    let lines: Vec<String> = members
        .iter()
        .map(|m| {
            let mut line = format!(
                "{{\"name\": {}, \"class\": {}",
                quoted(&m.name),
                quoted(m.class)
            );
            if let Some(r) = &m.referrer {
                let _ = write!(line, ", \"referrer\": {}", quoted(r));
            }
            if let Some(gb) = m.vram_gb {
                let _ = write!(line, ", \"vram_gb\": {gb}");
            }
            line + "}"
        })
        .collect();
    let list = |lines: &[String], indent: &str| {
        lines
            .iter()
            .map(|l| format!("{indent}{l}"))
            .collect::<Vec<_>>()
            .join(",\n")
    };
    let _ = writeln!(out, "{}\n  ],\n  \"steps\": [", list(&lines, "    "));
    let _ = writeln!(out, "{}\n  ],", list(steps, "    "));
    let figures: Vec<String> = figures
        .iter()
        .map(|(label, member, ledger, field, value)| {
            format!(
                "{{\"label\": {}, \"member\": {}, \"ledger\": {}, \"field\": {}, \"value\": {}}}",
                quoted(label),
                quoted(member),
                quoted(ledger),
                quoted(field),
                quoted(value)
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "  \"expect\": {{\n    \"title\": {},\n    \"figures\": [\n{}\n    ]\n  }}\n}}",
        quoted(title),
        list(&figures, "      ")
    );
    out
}

fn member(name: &str, class: &'static str, referrer: Option<&str>, vram_gb: Option<u32>) -> Member {
    Member {
        name: name.into(),
        class,
        referrer: referrer.map(Into::into),
        vram_gb,
    }
}

/// Referral network example 1: 5 / 15 / 30 developers earning 100 / 50 / 25
/// points a month, each point from usage reports (a 1000-token chat earns 2
/// points, a 0-token request 1), all an hour after the start.
fn user_network() -> String {
    let mut members = vec![member("you", "user", None, None)];
    let mut steps = Vec::new();
    let work = |name: &str, points: u64, steps: &mut Vec<String>| {
        let report = |id: u64, tokens: u64| {
            format!(
                "{{\"at\": 3600, \"op\": \"usage\", \"id\": {id}, \"user\": {}, \"endpoint\": \"chat\", \"tokens\": {tokens}}}",
                quoted(name)
            )
        };
        for id in 1..=points / 2 {
            steps.push(report(id, 1000));
        }
        if points % 2 == 1 {
            steps.push(report(points / 2 + 1, 0));
        }
    };
    for a in 0..5 {
        let l1 = format!("dev{a}");
        members.push(member(&l1, "user", Some("you"), None));
        work(&l1, 100, &mut steps);
        for b in 0..3 {
            let l2 = format!("dev{a}.{b}");
            members.push(member(&l2, "user", Some(&l1), None));
            work(&l2, 50, &mut steps);
            for c in 0..2 {
                let l3 = format!("dev{a}.{b}.{c}");
                members.push(member(&l3, "user", Some(&l2), None));
                work(&l3, 25, &mut steps);
            }
        }
    }
    file(
        "cxmpute",
        &members,
        &steps,
        "Cxmpute: active developer network (1,015 usage reports)",
        &[
            (
                "Direct referrals: 15% × (5 × 100)",
                "you",
                "POINTS",
                "level1",
                "75",
            ),
            (
                "Secondary referrals: 8% × (15 × 50)",
                "you",
                "POINTS",
                "level2",
                "60",
            ),
            (
                "Tertiary referrals: 4% × (30 × 25)",
                "you",
                "POINTS",
                "level3",
                "30",
            ),
            (
                "Total: 165 points/month passive income",
                "you",
                "POINTS",
                "referral",
                "165",
            ),
        ],
    )
}

/// Referral network example 2: 3 / 6 / 6 Mariana Depth providers serving
/// 1000 / 500 / 300 chat requests of 1000 tokens on llama3-70b, all an hour
/// after the start.
fn provider_network() -> String {
    let mut members = vec![member("you", "provider", None, Some(24))];
    let mut steps = Vec::new();
    let work = |name: &str, requests: u64, steps: &mut Vec<String>| {
        for id in 1..=requests {
            steps.push(format!(
                "{{\"at\": 3600, \"op\": \"compute\", \"id\": {id}, \"provider\": {}, \"service\": \"chat\", \"model\": \"llama3-70b\", \"tokens\": 1000, \"latency_ms\": 5000}}",
                quoted(name)
            ));
        }
    };
    for a in 0..3 {
        let l1 = format!("gpu{a}");
        members.push(member(&l1, "provider", Some("you"), Some(24)));
        work(&l1, 1000, &mut steps);
        for b in 0..2 {
            let l2 = format!("gpu{a}.{b}");
            let l3 = format!("gpu{a}.{b}.0");
            members.push(member(&l2, "provider", Some(&l1), Some(24)));
            members.push(member(&l3, "provider", Some(&l2), Some(24)));
            work(&l2, 500, &mut steps);
            work(&l3, 300, &mut steps);
        }
    }
    file(
        "cxmpute",
        &members,
        &steps,
        "Cxmpute: high-end provider network (7,800 compute reports)",
        &[
            (
                "Direct referrals: 10% × (3 × 375)",
                "you",
                "CXPT",
                "level1",
                "112.5",
            ),
            (
                "Secondary referrals: 5% × (6 × 187.5)",
                "you",
                "CXPT",
                "level2",
                "56.25",
            ),
            (
                "Tertiary referrals: 2.5% × (6 × 112.5)",
                "you",
                "CXPT",
                "level3",
                "16.875",
            ),
            (
                "Total: 185.625/month passive income",
                "you",
                "CXPT",
                "referral",
                "185.625",
            ),
            (
                "Referred provider: 1000 requests × 0.375",
                "gpu0",
                "CXPT",
                "own",
                "375",
            ),
        ],
    )
}

#[test]
fn demo_networks_are_this_generators_output() {
    let dir = format!("{}/../scenarios/demo", env!("CARGO_MANIFEST_DIR"));
    let regenerate = std::env::var_os("UPLINE_REGENERATE").is_some();
    for (name, text, reports) in [
        ("cxmpute-user-network.json", user_network(), 1_015),
        ("cxmpute-provider-network.json", provider_network(), 7_800),
    ] {
        let parsed: serde_json::Value =
            serde_json::from_str(&text).expect("the generator writes JSON");
        assert_eq!(
            parsed["steps"].as_array().map(Vec::len),
            Some(reports),
            "{name}"
        );
        let path = format!("{dir}/{name}");
        if regenerate {
            std::fs::write(&path, &text).expect("write the scenario file");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "{path} is not what app/cli/tests/demo_networks.rs generates; \
             run UPLINE_REGENERATE=1 cargo test -p upline-cli --test demo_networks"
        );
    }
}
