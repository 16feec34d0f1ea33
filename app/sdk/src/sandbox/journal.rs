//! The sandbox's transaction journal: every transaction the bank processed, as
//! a cluster's ledger keeps it, so that explorers index the sandbox exactly as
//! they index a real cluster (`getSignaturesForAddress`, then `getTransaction`).

use crate::events::{decode_event, UplineEvent};
use anchor_lang::prelude::Pubkey;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::TransactionError;

/// One compiled inner instruction: the program's index among the
/// transaction's keys, the accounts' indexes, the data.
#[derive(Clone, Debug)]
pub struct InnerInstruction {
    pub program_id_index: u8,
    pub accounts: Vec<u8>,
    pub data: Vec<u8>,
    pub stack_height: Option<u32>,
}

/// One processed transaction.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub signature: String,
    pub slot: u64,
    /// Unix seconds of the bank's clock when it ran.
    pub block_time: i64,
    pub transaction: VersionedTransaction,
    /// `None` when it succeeded.
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    /// Per top-level instruction (by index), the inner instructions it invoked.
    pub inner_instructions: Vec<(u8, Vec<InnerInstruction>)>,
    pub units_consumed: u64,
}

/// What a simulation saw: the outcome, logs, inner instructions, units and return data.
pub struct Simulated {
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub inner_instructions: Vec<(u8, Vec<InnerInstruction>)>,
    pub units_consumed: u64,
    /// What the program set with `set_return_data`: the program and the bytes.
    pub return_data: Option<(Pubkey, Vec<u8>)>,
}

impl Recorded {
    /// Whether `key` is among the transaction's static account keys.
    pub fn mentions(&self, key: &Pubkey) -> bool {
        self.transaction.message.static_account_keys().contains(key)
    }

    /// The data of every inner instruction of the Upline program, in order:
    /// its `emit_cpi!` events (and nothing, for a failed transaction).
    pub fn event_data(&self) -> Vec<&[u8]> {
        if self.err.is_some() {
            return Vec::new();
        }
        let keys = self.transaction.message.static_account_keys();
        self.inner_instructions
            .iter()
            .flat_map(|(_, list)| list.iter())
            .filter(|inner| keys.get(usize::from(inner.program_id_index)) == Some(&upline::ID))
            .map(|inner| inner.data.as_slice())
            .collect()
    }

    /// The decoded events, in order.
    pub fn events(&self) -> Vec<UplineEvent> {
        self.event_data()
            .into_iter()
            .filter_map(decode_event)
            .collect()
    }
}
