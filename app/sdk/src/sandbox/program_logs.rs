//! The program's `msg!` lines, put back into the transactions that wrote
//! them. A native build's `msg!` writes to standard output (the `solana-msg`
//! crate prints off-chain), so a served sandbox's `logMessages` would lack
//! every `Program log:` line a validator shows: Anchor's `Instruction: …`
//! and, on a refusal, `AnchorError occurred. Error Code: BelowMinimum …`,
//! which Anchor's TypeScript client parses into an `AnchorError`.
//!
//! A process that serves a sandbox points standard output at a pipe and
//! hands its read end to [`install`]; a reader thread collects the lines.
//! Since the bank runs one transaction at a time and a transaction's prints
//! are done when its processing returns, [`take`] writes a marker line after
//! them and waits for the reader to reach it: the lines before the marker
//! are that transaction's. Without [`install`], [`take`] returns nothing.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

/// Marks a line as the capture's own, never a program's.
const MARK: &str = "\u{1}upline-program-logs-mark ";

/// The longest [`take`] waits for the reader (a stuck reader costs the logs,
/// never the transaction).
const WAIT: Duration = Duration::from_secs(2);

#[derive(Default)]
struct State {
    lines: Vec<String>,
    /// The last marker the reader reached, and the last one written.
    reached: u64,
    written: u64,
}

struct Capture {
    state: Mutex<State>,
    reached: Condvar,
}

static CAPTURE: OnceLock<Capture> = OnceLock::new();

/// Collect the lines read from `output` (the read end of the pipe standard
/// output now writes to). Only the first call installs; later ones are ignored.
pub fn install(output: impl Read + Send + 'static) {
    let fresh = CAPTURE
        .set(Capture {
            state: Mutex::new(State::default()),
            reached: Condvar::new(),
        })
        .is_ok();
    if !fresh {
        return;
    }
    std::thread::spawn(move || {
        let Some(capture) = CAPTURE.get() else { return };
        for line in BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            let Ok(mut state) = capture.state.lock() else {
                break;
            };
            match line.strip_prefix(MARK).map(str::parse::<u64>) {
                Some(Ok(mark)) => {
                    state.reached = mark;
                    capture.reached.notify_all();
                }
                _ => state.lines.push(line),
            }
        }
    });
}

/// The lines written since the last call (none when nothing is installed).
pub fn take() -> Vec<String> {
    let Some(capture) = CAPTURE.get() else {
        return Vec::new();
    };
    let mark = match capture.state.lock() {
        Ok(mut state) => {
            state.written += 1;
            state.written
        }
        Err(_) => return Vec::new(),
    };
    // Written without holding the state: the reader needs it to drain the
    // pipe, and a full pipe would block this write. Through standard
    // output's own lock, so it lands after the program's prints.
    {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{MARK}{mark}")
            .and_then(|()| out.flush())
            .is_err()
        {
            return Vec::new();
        }
    }
    let Ok(state) = capture.state.lock() else {
        return Vec::new();
    };
    let waited = capture
        .reached
        .wait_timeout_while(state, WAIT, |s| s.reached < mark);
    match waited {
        Ok((mut state, _)) => std::mem::take(&mut state.lines),
        Err(_) => Vec::new(),
    }
}

/// `logs` with the program's lines as a validator shows them (`Program log:
/// …`), after the first top-level invocation of `program`, where its
/// instruction's own lines begin.
pub fn merged(logs: Vec<String>, lines: Vec<String>, program: &str) -> Vec<String> {
    if lines.is_empty() {
        return logs;
    }
    let invoked = format!("Program {program} invoke [1]");
    let at = logs
        .iter()
        .position(|l| *l == invoked)
        .map_or(logs.len(), |i| i + 1);
    let mut out = Vec::with_capacity(logs.len() + lines.len());
    out.extend_from_slice(&logs[..at]);
    out.extend(lines.into_iter().map(|l| format!("Program log: {l}")));
    out.extend_from_slice(&logs[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_lines_follow_the_first_top_level_invocation() {
        let logs = vec![
            "Program Budget invoke [1]".to_string(),
            "Program Budget success".to_string(),
            "Program UPL invoke [1]".to_string(),
            "Program UPL failed: custom program error: 0x177f".to_string(),
        ];
        let lines = vec![
            "Instruction: Withdraw".to_string(),
            "AnchorError occurred.".to_string(),
        ];
        let out = merged(logs.clone(), lines, "UPL");
        assert_eq!(out[3], "Program log: Instruction: Withdraw");
        assert_eq!(out[4], "Program log: AnchorError occurred.");
        assert_eq!(out[5], logs[3]);
        assert_eq!(merged(logs.clone(), Vec::new(), "UPL"), logs);
        let elsewhere = merged(logs[..2].to_vec(), vec!["x".into()], "UPL");
        assert_eq!(elsewhere.last().map(String::as_str), Some("Program log: x"));
    }
}
