//! Readable tables of a §8 result, for people.

use serde_json::Value;
use std::fmt::Write;

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// Render `rows` under `header`, columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "  {}", padded.join("  ").trim_end());
    };
    line(header.to_vec(), &mut out);
    line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
        &mut out,
    );
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// The whole result: members per ledger, ledger totals, refusals, audit.
pub fn render(result: &Value) -> String {
    let mut out = String::new();
    let members = result["members"].as_object().cloned().unwrap_or_default();
    let ledgers = result["ledgers"].as_object().cloned().unwrap_or_default();
    for (ledger, totals) in &ledgers {
        let _ = writeln!(out, "\n{ledger}");
        let rows: Vec<Vec<String>> = members
            .iter()
            .map(|(name, m)| {
                let l = &m["ledgers"][ledger];
                let downline = m["downline"].as_array().map_or(String::new(), |d| {
                    d.iter().map(text).collect::<Vec<_>>().join("/")
                });
                vec![
                    name.clone(),
                    text(&m["referrer"]),
                    downline,
                    text(&l["own"]),
                    text(&l["level1"]),
                    text(&l["level2"]),
                    text(&l["level3"]),
                    text(&l["bonus"]),
                    text(&l["withdrawn"]),
                    text(&l["balance"]),
                ]
            })
            .collect();
        let header = [
            "member",
            "referrer",
            "downline",
            "own",
            "level 1",
            "level 2",
            "level 3",
            "bonus",
            "withdrawn",
            "balance",
        ];
        out.push_str(&table(&header, &rows));
        let _ = writeln!(
            out,
            "  credited {}, withdrawn {}, vault {}",
            text(&totals["credited"]),
            text(&totals["withdrawn"]),
            text(&totals["vault"])
        );
    }
    if let Some(rejected) = result["rejected"].as_array().filter(|r| !r.is_empty()) {
        let _ = writeln!(out, "\nrefused");
        for r in rejected {
            let at = r.get("step").map_or_else(
                || format!("member {}", text(&r["member"])),
                |s| format!("step {s}"),
            );
            let _ = writeln!(out, "  {at}: {}", text(&r["error"]));
        }
    }
    let audit = &result["audit"];
    let _ = writeln!(
        out,
        "\naudit: {} ({} events, {} reports recomputed)",
        text(&audit["verdict"]),
        text(&audit["events"]),
        text(&audit["reports"])
    );
    for m in audit["mismatches"].as_array().into_iter().flatten() {
        let what = m.get("detail").map_or_else(|| text(m), text);
        let _ = writeln!(out, "  mismatch: {what}");
    }
    out
}
