//! Who may approve reports, as the events say: the registered oracles, the
//! quorum in force and each oracle's credit caps per ledger. Every report and
//! attestation is checked against them (DESIGN.md §5: M of N, caps).

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AnchorDeserialize, AnchorSerialize};
use std::collections::{HashMap, HashSet};

/// One oracle's cap on one ledger, and what it approved in its window.
#[derive(Default, Clone, Copy, AnchorSerialize, AnchorDeserialize)]
struct Cap {
    limit: u128,
    window_seconds: i64,
    window_start: i64,
    credited: u128,
}

/// The network's oracle set as the replay knows it.
#[derive(Default, AnchorSerialize, AnchorDeserialize)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvals_need_the_quorum_of_distinct_registered_oracles() {
        let [a, b, c] = [(); 3].map(|_| Pubkey::new_unique());
        let mut book = OracleBook::default();
        book.added(a);
        book.added(b);
        assert!(
            book.approve(a, &[], &[], 0).is_empty(),
            "quorum 1 by default"
        );
        book.quorum_set(2);
        assert_eq!(book.approve(a, &[], &[], 0).len(), 1, "one of two");
        assert!(book.approve(a, &[b], &[], 0).is_empty());
        // Twice the same oracle is one approver, and flagged.
        assert_eq!(book.approve(a, &[a], &[], 0).len(), 2);
        // An unregistered or removed co-signer does not count.
        assert_eq!(book.approve(a, &[c], &[], 0).len(), 1);
        book.removed(&b);
        assert_eq!(book.approve(a, &[b], &[], 0).len(), 1);
    }

    #[test]
    fn caps_count_per_oracle_ledger_and_window() {
        let [a, b] = [(); 2].map(|_| Pubkey::new_unique());
        let mut book = OracleBook::default();
        book.added(a);
        book.added(b);
        book.cap_set(a, 0, 10, 60);
        assert!(book.approve(a, &[], &[(0, 6)], 100).is_empty());
        assert!(
            book.approve(b, &[], &[(0, 100)], 110).is_empty(),
            "b has no cap"
        );
        assert!(
            book.approve(a, &[], &[(1, 100)], 110).is_empty(),
            "other ledger"
        );
        assert!(
            book.approve(a, &[], &[(0, 4)], 159).is_empty(),
            "exactly 10"
        );
        assert_eq!(book.approve(a, &[], &[(0, 1)], 159).len(), 1, "11 > 10");
        // A new window starts at the first credit after the last one ended.
        assert!(book.approve(a, &[], &[(0, 10)], 160).is_empty());
        // With quorum 2 each approver is charged the whole credit.
        book.quorum_set(2);
        book.cap_set(b, 0, 5, 60);
        assert_eq!(book.approve(b, &[a], &[(0, 6)], 300).len(), 1, "b's cap");
    }
}
