//! CSV as RFC 4180 has it: fields separated by commas, records by CRLF, a
//! field quoted when it holds a comma, a quote, CR or LF, and a quote inside
//! doubled. (The `csv` crate is not in the tree; this is the whole of what
//! the export needs.)

use std::borrow::Cow;

/// One field, quoted if it has to be.
pub fn field(text: &str) -> Cow<'_, str> {
    if text.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(text)
    }
}

/// A CSV document being written, one record at a time.
#[derive(Default)]
pub struct Csv {
    text: String,
}

impl Csv {
    pub fn record<S: AsRef<str>>(&mut self, fields: &[S]) {
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            self.text.push_str(&field(f.as_ref()));
        }
        self.text.push_str("\r\n");
    }

    pub fn finish(self) -> String {
        self.text
    }
}

/// A file name safe in a Content-Disposition header and on every file
/// system: letters, digits, `-`, `_` and `.` kept, anything else `_`.
pub fn file_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(field("1.875"), "1.875");
        assert_eq!(field(""), "");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("cr\r"), "\"cr\r\"");
    }

    #[test]
    fn records_end_in_crlf() {
        let mut csv = Csv::default();
        csv.record(&["time", "amount"]);
        csv.record(&["2026-01-01T00:00:00Z".to_string(), "1,5".to_string()]);
        assert_eq!(
            csv.finish(),
            "time,amount\r\n2026-01-01T00:00:00Z,\"1,5\"\r\n"
        );
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_name("credits-Ab9_x.csv"), "credits-Ab9_x.csv");
        assert_eq!(file_name("a b/\"c\".csv"), "a_b__c_.csv");
    }
}
