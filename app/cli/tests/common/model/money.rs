//! Funding and withdrawals (DESIGN.md §5, §8): whole base units, the ledger's
//! minimum, the balance and the vault.

use super::graph::Refusal;
use super::num::{dec, floor_units, wad_floor};
use super::reports::text;
use super::state::Model;
use serde_json::Value;

impl Model {
    /// `fund`: NotWithdrawable on a points ledger; else the vault grows.
    pub fn fund(&mut self, step: &Value) -> Result<(), Refusal> {
        let ledger = self.tables.ledger(text(step, "ledger")).expect("ledger");
        if self.tables.ledgers[ledger].decimals.is_none() {
            return Err("NotWithdrawable");
        }
        let amount = wad_floor(&dec(text(step, "amount")).expect("a decimal amount"));
        self.vault[ledger] += amount;
        Ok(())
    }

    /// `withdraw`: UnknownMember, NotWithdrawable, BelowMinimum,
    /// InsufficientBalance, VaultUnderfunded. "all" is every whole base unit
    /// of the balance.
    pub fn withdraw(&mut self, step: &Value) -> Result<(), Refusal> {
        let member = self.member(text(step, "member"))?;
        let ledger = self.tables.ledger(text(step, "ledger")).expect("ledger");
        let table = &self.tables.ledgers[ledger];
        let Some(decimals) = table.decimals else {
            return Err("NotWithdrawable");
        };
        let balance = self.members[member].slots[ledger].balance();
        let amount = match text(step, "amount") {
            "all" => floor_units(&balance, decimals),
            digits => wad_floor(&dec(digits).expect("a decimal amount")),
        };
        if amount < wad_floor(&table.minimum) {
            return Err("BelowMinimum");
        }
        if amount > balance {
            return Err("InsufficientBalance");
        }
        if amount > self.vault[ledger] {
            return Err("VaultUnderfunded");
        }
        self.members[member].slots[ledger].withdrawn += &amount;
        self.vault[ledger] -= amount;
        Ok(())
    }
}
