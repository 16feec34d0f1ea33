//! A report's `work_time` as an oracle writes it: unix seconds or an RFC 3339
//! time (parsed by chrono, not by hand).

use serde_json::Value;

/// A `work_time` value: unix seconds (a JSON number, or a string of digits)
/// or an RFC 3339 time (`2026-01-01T12:00:00Z`, `…+01:00`; a fraction of a
/// second is dropped); the message names the field and both forms. Times
/// before 1970 are refused: no report can be that old.
pub fn work_time(value: &Value) -> Result<i64, String> {
    let parsed = match value {
        Value::Number(n) => n.as_i64().filter(|t| *t >= 0),
        Value::String(text) => {
            let text = text.trim();
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                text.parse().ok()
            } else {
                rfc3339(text)
            }
        }
        _ => None,
    };
    parsed.ok_or_else(|| {
        format!(
            "\"work_time\" {value}: not an RFC 3339 time (\"2026-01-01T12:00:00Z\") \
             or unix seconds (a whole number, 0 or more)"
        )
    })
}

/// Unix seconds of an RFC 3339 date-time; `None` if it is not one, or before 1970.
pub fn rfc3339(text: &str) -> Option<i64> {
    let time = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(time.timestamp()).filter(|t| *t >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_times_are_rfc_3339_or_unix_seconds() {
        use serde_json::json;
        // 2026-01-01T00:00:00Z is 1_767_225_600.
        let cases = [
            (json!("2026-01-01T00:00:00Z"), 1_767_225_600),
            (json!("2026-01-01t00:00:00z"), 1_767_225_600),
            (json!("2026-01-01 12:30:15Z"), 1_767_225_600 + 45_015),
            (json!("2026-01-01T01:00:00+01:00"), 1_767_225_600),
            (json!("2025-12-31T23:00:00-01:00"), 1_767_225_600),
            (json!("2026-01-01T00:00:00.999Z"), 1_767_225_600),
            (json!("2024-02-29T00:00:00Z"), 1_709_164_800),
            (json!("1970-01-01T00:00:00Z"), 0),
            (json!(1_767_225_600), 1_767_225_600),
            (json!("1767225600"), 1_767_225_600),
            (json!(0), 0),
        ];
        for (value, unix) in cases {
            assert_eq!(work_time(&value), Ok(unix), "{value}");
        }
        for bad in [
            json!("2026-02-29T00:00:00Z"),
            json!("2026-13-01T00:00:00Z"),
            json!("2026-01-01T24:00:00Z"),
            json!("2026-01-01T00:00:00"),
            json!("2026-01-01T00:00:00+0100"),
            json!("2026-01-01T00:00:00.Z"),
            json!("2026-01-01"),
            json!("1969-12-31T23:59:59Z"),
            json!("yesterday"),
            json!(""),
            json!(-1),
            json!(1.5),
            json!(null),
            json!([1]),
        ] {
            let message = work_time(&bad).expect_err(&bad.to_string());
            assert!(
                message.starts_with(&format!("\"work_time\" {bad}: not an RFC 3339 time")),
                "{message}"
            );
        }
    }
}
