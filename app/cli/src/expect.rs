//! The `expect` block of a scenario file: the figures a document states, each
//! read from the run's DESIGN.md §8 result and set beside the document's value.
//!
//! ```json
//! "expect": {"title": "Cxmpute: per-request rewards",
//!            "figures": [{"label": "Example 1: 70B on Mariana Depth, 1000 tokens",
//!                         "member": "mariana", "ledger": "CXPT", "field": "own",
//!                         "value": "0.375"}]}
//! ```
//!
//! `title` is optional. `field` is one of a member's per-ledger values in the §8
//! output (`balance`, `withdrawn`, `own`, `level1`, `level2`, `level3`, `bonus`)
//! or `referral` (level1 + level2 + level3). `value` is a decimal string in whole
//! units; values compare as exact decimals, so "0.50" matches "0.5". Unknown keys
//! and fields, and a `value` that is not a decimal, are refused when the file is
//! parsed; members and ledgers the scenario does not have, before it runs
//! ([`crate::world::World::check`]).

use crate::tables::table;
use serde::Deserialize;
use serde_json::Value;
use upline::math::Wad;

/// What a document says a scenario's run shows.
#[derive(Debug, Clone)]
pub struct Expect {
    pub title: Option<String>,
    pub figures: Vec<Figure>,
}

/// One figure a document prints and where the run shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    /// What the document says, briefly.
    pub label: String,
    pub member: String,
    pub ledger: String,
    pub field: Field,
    /// The document's figure, as it writes it.
    pub value: String,
}

/// Which total of a member's ledger a figure reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Balance,
    Withdrawn,
    Own,
    Level1,
    Level2,
    Level3,
    Bonus,
    /// level1 + level2 + level3.
    Referral,
}

impl Field {
    /// The §8 values this field adds up.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Field::Balance => &["balance"],
            Field::Withdrawn => &["withdrawn"],
            Field::Own => &["own"],
            Field::Level1 => &["level1"],
            Field::Level2 => &["level2"],
            Field::Level3 => &["level3"],
            Field::Bonus => &["bonus"],
            Field::Referral => &["level1", "level2", "level3"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Field::Referral => "referral",
            other => other.keys()[0],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    #[serde(default)]
    title: Option<String>,
    figures: Vec<Value>,
}

impl Expect {
    /// Parse an `expect` block; each message names what is wrong, for the
    /// caller to prefix with the file.
    pub fn parse(value: Value) -> Result<Expect, String> {
        let raw: RawExpect = serde_json::from_value(value).map_err(|e| format!("expect: {e}"))?;
        let mut figures = Vec::with_capacity(raw.figures.len());
        for (index, value) in raw.figures.into_iter().enumerate() {
            let figure: Figure = serde_json::from_value(value)
                .map_err(|e| format!("expect: figure {index}: {e}"))?;
            Wad::from_decimal_str(&figure.value).map_err(|e| {
                format!(
                    "expect: figure {index} ({:?}): value {:?}: {e}",
                    figure.label, figure.value
                )
            })?;
            figures.push(figure);
        }
        Ok(Expect {
            title: raw.title,
            figures,
        })
    }

    /// Each figure against `result`, a §8 result.
    pub fn check(&self, result: &Value) -> Vec<Checked<'_>> {
        self.figures
            .iter()
            .map(|figure| {
                let got = read(result, figure);
                let matches = match (
                    Wad::from_decimal_str(&figure.value),
                    Wad::from_decimal_str(&got),
                ) {
                    (Ok(expected), Ok(got)) => expected == got,
                    _ => false,
                };
                Checked {
                    figure,
                    got,
                    matches,
                }
            })
            .collect()
    }
}

/// A figure and what the run shows for it.
#[derive(Debug, Clone)]
pub struct Checked<'a> {
    pub figure: &'a Figure,
    /// The run's value, or "?" where the result has none.
    pub got: String,
    pub matches: bool,
}

/// The value of `figure` in a §8 result, trimmed as §8 prints values, or "?"
/// where the result lacks it (a member whose join failed).
pub fn read(result: &Value, figure: &Figure) -> String {
    let ledger = &result["members"][&figure.member]["ledgers"][&figure.ledger];
    let mut sum = Wad::ZERO;
    for key in figure.field.keys() {
        let value = ledger[key]
            .as_str()
            .and_then(|text| Wad::from_decimal_str(text).ok());
        match value.and_then(|v| sum.checked_add(v).ok()) {
            Some(total) => sum = total,
            None => return "?".into(),
        }
    }
    sum.to_string()
}

/// Every figure beside the document's, and whether it matches.
pub fn figures_table(checked: &[Checked]) -> String {
    let rows: Vec<Vec<String>> = checked
        .iter()
        .map(|c| {
            vec![
                c.figure.label.clone(),
                c.figure.member.clone(),
                c.figure.ledger.clone(),
                c.figure.value.clone(),
                c.got.clone(),
                if c.matches { "yes" } else { "NO" }.into(),
            ]
        })
        .collect();
    table(
        &[
            "the document says",
            "member",
            "ledger",
            "document",
            "Upline",
            "match",
        ],
        &rows,
    )
}

/// The figures that differ, each named with what the run shows; `None` when
/// every figure matches.
pub fn mismatches(checked: &[Checked]) -> Option<String> {
    let differ: Vec<String> = checked
        .iter()
        .filter(|c| !c.matches)
        .map(|c| {
            let f = c.figure;
            format!(
                "{:?} ({} {} {}) is {}, expected {}",
                f.label,
                f.member,
                f.ledger,
                f.field.name(),
                c.got,
                f.value
            )
        })
        .collect();
    (!differ.is_empty()).then(|| {
        format!(
            "{} of {} expected figures differ: {}",
            differ.len(),
            checked.len(),
            differ.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_sums_and_compares_exact_decimals() {
        let result = json!({"members": {"you": {"ledgers": {"CXPT": {
            "own": "0.375", "level1": "112.5", "level2": "56.25", "level3": "16.875"}}}}});
        let expect = Expect::parse(json!({"figures": [
            {"label": "total", "member": "you", "ledger": "CXPT", "field": "referral", "value": "185.625"},
            {"label": "own", "member": "you", "ledger": "CXPT", "field": "own", "value": "0.3750"},
            {"label": "ghost", "member": "ghost", "ledger": "CXPT", "field": "own", "value": "0"},
            {"label": "wrong", "member": "you", "ledger": "CXPT", "field": "level1", "value": "112"}
        ]}))
        .expect("valid");
        let checked = expect.check(&result);
        let seen: Vec<(&str, bool)> = checked
            .iter()
            .map(|c| (c.got.as_str(), c.matches))
            .collect();
        assert_eq!(
            seen,
            [
                ("185.625", true),
                ("0.375", true),
                ("?", false),
                ("112.5", false)
            ]
        );
        let message = mismatches(&checked).expect("two differ");
        assert!(
            message.starts_with("2 of 4 expected figures differ: \"ghost\" (ghost CXPT own) is ?")
                && message.ends_with("\"wrong\" (you CXPT level1) is 112.5, expected 112"),
            "{message}"
        );
        assert!(mismatches(&checked[..2]).is_none());
    }

    #[test]
    fn names_what_is_wrong() {
        let err = |value: Value| Expect::parse(value).expect_err("invalid");
        let figure = |field: &str, value: &str| json!({"figures": [{"label": "a", "member": "m", "ledger": "L", "field": field, "value": value}]});
        assert!(err(figure("ownn", "1")).starts_with("expect: figure 0: unknown variant `ownn`"));
        assert!(err(figure("own", "1,5")).starts_with("expect: figure 0 (\"a\"): value \"1,5\""));
        assert!(err(json!({"figures": [], "titel": "x"})).contains("unknown field `titel`"));
        let extra = err(
            json!({"figures": [{"label": "a", "member": "m", "ledger": "L",
            "field": "own", "value": "1", "note": "x"}]}),
        );
        assert!(extra.contains("figure 0: unknown field `note`"), "{extra}");
    }
}
