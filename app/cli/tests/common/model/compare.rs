//! Field-by-field comparison of `simulate`'s §8 object with the model's.

use serde_json::Value;

const MEMBER_LEDGER_FIELDS: [&str; 7] = [
    "balance",
    "withdrawn",
    "own",
    "level1",
    "level2",
    "level3",
    "bonus",
];
const LEDGER_FIELDS: [&str; 3] = ["credited", "withdrawn", "vault"];

/// Every difference, most telling first: the refusals, which members exist,
/// then each member's referrer, downline and ledgers, then the ledger totals.
pub fn differences(model: &Value, simulate: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut differ = |path: String, m: &Value, s: &Value| {
        if m != s {
            out.push(format!("{path}: model {m}, simulate {s}"));
        }
    };
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v
            .as_object()
            .map_or(Vec::new(), |o| o.keys().cloned().collect());
        k.sort();
        k
    };
    let (mm, sm) = (&model["members"], &simulate["members"]);

    // Refusals by what they are about (each step or member has at most one),
    // so that one missing refusal does not shift every later one.
    let refusals = |v: &Value| -> Vec<(String, Value)> {
        v["rejected"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let about = match (r.get("step"), r.get("member")) {
                    (Some(step), _) => format!("step {step}"),
                    (None, Some(member)) => format!("member {}", member.as_str().unwrap_or("?")),
                    _ => format!("{r}"),
                };
                (about, r["error"].clone())
            })
            .collect()
    };
    let (mr, sr) = (refusals(model), refusals(simulate));
    let error = |list: &[(String, Value)], about: &str| {
        list.iter()
            .find(|(a, _)| a == about)
            .map_or(Value::Null, |(_, e)| e.clone())
    };
    let mut abouts: Vec<&String> = mr.iter().map(|(a, _)| a).collect();
    abouts.extend(
        sr.iter()
            .map(|(a, _)| a)
            .filter(|a| !mr.iter().any(|(m, _)| m == *a)),
    );
    for about in abouts {
        differ(
            format!("rejected ({about})"),
            &error(&mr, about),
            &error(&sr, about),
        );
    }
    let order = |list: &[(String, Value)]| -> Value {
        list.iter()
            .map(|(a, _)| a.clone())
            .collect::<Vec<_>>()
            .into()
    };
    if mr.len() == sr.len() {
        differ("rejected (order)".into(), &order(&mr), &order(&sr));
    }

    differ("members (names)".into(), &keys(mm).into(), &keys(sm).into());
    for name in keys(mm) {
        let (m, s) = (&mm[&name], &sm[&name]);
        if s.is_null() {
            continue;
        }
        differ(
            format!("members.{name}.referrer"),
            &m["referrer"],
            &s["referrer"],
        );
        differ(
            format!("members.{name}.downline"),
            &m["downline"],
            &s["downline"],
        );
        for ledger in keys(&m["ledgers"]) {
            for field in MEMBER_LEDGER_FIELDS {
                differ(
                    format!("members.{name}.ledgers.{ledger}.{field}"),
                    &m["ledgers"][&ledger][field],
                    &s["ledgers"][&ledger][field],
                );
            }
        }
        differ(
            format!("members.{name}.ledgers (names)"),
            &keys(&m["ledgers"]).into(),
            &keys(&s["ledgers"]).into(),
        );
    }
    let (ml, sl) = (&model["ledgers"], &simulate["ledgers"]);
    differ("ledgers (names)".into(), &keys(ml).into(), &keys(sl).into());
    for ledger in keys(ml) {
        for field in LEDGER_FIELDS {
            differ(
                format!("ledgers.{ledger}.{field}"),
                &ml[&ledger][field],
                &sl[&ledger][field],
            );
        }
    }
    out
}
