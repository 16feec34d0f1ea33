//! Refusals by name: what a failed transaction returned, named from Upline's
//! error enum (codes 6000 and up), Anchor's (100 to 5000) or the runtime's
//! instruction errors, so that the security tests can expect one refusal and
//! print what they hit.

use anchor_lang::error::ErrorCode;
use std::fmt;
use upline::errors::{error_by_code, UplineError, ERROR_CODE_OFFSET};
use upline_sdk::client::anchor_error_name;
use upline_sdk::sandbox::TxFailure;

/// Why one instruction was refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Refusal {
    /// A custom error code: Upline's (6000 and up), Anchor's (below), or
    /// another program's.
    Code(u32),
    /// An instruction error of the runtime, or a `ProgramError` a program
    /// returned (`InvalidAccountData`, `UninitializedAccount`...), by its name.
    Runtime(String),
    /// The transaction did not run (signing, fees...), as text.
    Other(String),
}

impl Refusal {
    /// What `failure` says, as a refusal. Instruction errors other than custom
    /// codes come as the text of their `Debug` form (`InstructionError(0,
    /// InvalidAccountData)`); the inner name is kept.
    pub fn of(failure: &TxFailure) -> Refusal {
        match failure {
            TxFailure::Custom { code, .. } => Refusal::Code(*code),
            TxFailure::Transport(text) => Refusal::Other(text.clone()),
            TxFailure::Other(text) => match text
                .strip_prefix("InstructionError(")
                .and_then(|rest| rest.strip_suffix(')'))
                .and_then(|rest| rest.split_once(", "))
            {
                Some((_, inner)) => Refusal::Runtime(inner.to_string()),
                None => Refusal::Other(text.clone()),
            },
        }
    }

    /// The custom code, if this is one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Refusal::Code(code) => Some(*code),
            _ => None,
        }
    }

    /// Whether this is one of Upline's own errors, which only the program's
    /// checks (its `validate` functions, handlers and named constraints) return.
    pub fn is_upline(&self) -> bool {
        self.code().and_then(error_by_code).is_some()
    }

    /// The name: Upline's or Anchor's error name, or the runtime's.
    pub fn name(&self) -> String {
        match self {
            Refusal::Code(code) if *code >= ERROR_CODE_OFFSET => error_by_code(*code)
                .map(|e| e.name())
                .unwrap_or_else(|| format!("Custom({code})")),
            Refusal::Code(code) => {
                anchor_error_name(*code).unwrap_or_else(|| format!("Custom({code})"))
            }
            Refusal::Runtime(name) => name.clone(),
            Refusal::Other(text) => text.clone(),
        }
    }
}

impl From<UplineError> for Refusal {
    fn from(error: UplineError) -> Refusal {
        Refusal::Code(u32::from(error))
    }
}

impl From<ErrorCode> for Refusal {
    fn from(error: ErrorCode) -> Refusal {
        Refusal::Code(u32::from(error))
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Code(code) => write!(f, "{} ({code})", self.name()),
            Refusal::Runtime(name) => write!(f, "{name} (runtime)"),
            Refusal::Other(text) => f.write_str(text),
        }
    }
}

/// Counts by name, printed as `Name n, Name n` in descending order.
#[derive(Default, Debug, Clone)]
pub struct Histogram(pub std::collections::BTreeMap<String, u64>);

impl Histogram {
    pub fn add(&mut self, name: impl Into<String>) {
        *self.0.entry(name.into()).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (name, n) in &other.0 {
            *self.0.entry(name.clone()).or_default() += n;
        }
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

impl fmt::Display for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut entries: Vec<_> = self.0.iter().collect();
        entries.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = entries.iter().map(|(n, c)| format!("{n} {c}")).collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_of_both_enums_and_the_runtime() {
        assert_eq!(Refusal::from(UplineError::NotAdmin).name(), "NotAdmin");
        assert_eq!(
            Refusal::from(ErrorCode::AccountNotSigner),
            Refusal::Code(3010)
        );
        assert_eq!(Refusal::Code(3010).name(), "AccountNotSigner");
        assert_eq!(Refusal::Code(2006).name(), "ConstraintSeeds");
        let failure = TxFailure::Other("InstructionError(0, InvalidAccountData)".into());
        assert_eq!(
            Refusal::of(&failure),
            Refusal::Runtime("InvalidAccountData".into())
        );
        assert!(Refusal::from(UplineError::NotOracle).is_upline());
        assert!(!Refusal::Code(3012).is_upline());
    }
}
