//! Who may approve reports, as the events say: the registered oracles, the
//! quorum in force and each oracle's credit caps per ledger. Every report and
//! attestation is checked against them (DESIGN.md §5: M of N, caps).

use anchor_lang::prelude::Pubkey;
use std::collections::{HashMap, HashSet};

/// One oracle's cap on one ledger, and what it approved in its window.
#[derive(Default, Clone, Copy)]
struct Cap {
    limit: u128,
    window_seconds: i64,
    window_start: i64,
    credited: u128,
}

/// The network's oracle set as the replay knows it.
#[derive(Default)]
pub struct OracleBook {
    registered: HashSet<Pubkey>,
    quorum: u8,
    caps: HashMap<(Pubkey, u8), Cap>,
}

impl OracleBook {
    pub fn added(&mut self, oracle: Pubkey) {
        self.registered.insert(oracle);
    }

    pub fn removed(&mut self, oracle: &Pubkey) {
        self.registered.remove(oracle);
        // A re-added key starts with no caps (a new registration account).
        self.caps.retain(|(o, _), _| o != oracle);
    }

    pub fn quorum_set(&mut self, quorum: u8) {
        self.quorum = quorum;
    }

    pub fn cap_set(&mut self, oracle: Pubkey, ledger: u8, limit: u128, window_seconds: i64) {
        let cap = self.caps.entry((oracle, ledger)).or_default();
        cap.limit = limit;
        cap.window_seconds = window_seconds;
    }

    /// Check that `oracle` and `co_signers` are distinct registered oracles,
    /// at least the quorum, and that `credits` (per ledger, WAD) fit every
    /// approver's cap at `at`; count them. Each problem as a sentence.
    pub fn approve(
        &mut self,
        oracle: Pubkey,
        co_signers: &[Pubkey],
        credits: &[(u8, u128)],
        at: i64,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let approvers: Vec<Pubkey> = std::iter::once(oracle)
            .chain(co_signers.iter().copied())
            .collect();
        let distinct: HashSet<&Pubkey> = approvers.iter().collect();
        if distinct.len() != approvers.len() {
            problems.push(format!("an oracle approved twice among {approvers:?}"));
        }
        for approver in &approvers {
            if !self.registered.contains(approver) {
                problems.push(format!("approved by {approver}, not a registered oracle"));
            }
        }
        let quorum = usize::from(self.quorum.max(1));
        if distinct.len() < quorum {
            problems.push(format!(
                "approved by {} oracles, the quorum was {quorum}",
                distinct.len()
            ));
        }
        for approver in distinct {
            for (ledger, amount) in credits {
                let Some(cap) = self.caps.get_mut(&(*approver, *ledger)) else {
                    continue;
                };
                if cap.limit == 0 || *amount == 0 {
                    continue;
                }
                if at >= cap.window_start.saturating_add(cap.window_seconds) {
                    cap.window_start = at;
                    cap.credited = 0;
                }
                cap.credited += amount;
                if cap.credited > cap.limit {
                    problems.push(format!(
                        "{approver} approved {} on ledger {ledger} in a window capped at {}",
                        cap.credited, cap.limit
                    ));
                }
            }
        }
        problems
    }
}
