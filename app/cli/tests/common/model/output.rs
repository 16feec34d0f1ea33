//! The §8 output object of the model's state.

use super::num::{format_wad, Wad};
use super::state::Model;
use num_traits::Zero;
use serde_json::{json, Map, Value};

impl Model {
    /// `members`, `ledgers` and `rejected` as §8 prints them.
    pub fn output(&self) -> Value {
        let names: Vec<&str> = self
            .tables
            .ledgers
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        let mut members = Map::new();
        let mut credited = vec![Wad::zero(); names.len()];
        let mut withdrawn = vec![Wad::zero(); names.len()];
        for m in &self.members {
            let mut ledgers = Map::new();
            for (index, name) in names.iter().enumerate() {
                let slot = &m.slots[index];
                credited[index] += slot.credited();
                withdrawn[index] += &slot.withdrawn;
                ledgers.insert(
                    name.to_string(),
                    json!({
                        "balance": format_wad(&slot.balance()),
                        "withdrawn": format_wad(&slot.withdrawn),
                        "own": format_wad(&slot.own),
                        "level1": format_wad(&slot.levels[0]),
                        "level2": format_wad(&slot.levels[1]),
                        "level3": format_wad(&slot.levels[2]),
                        "bonus": format_wad(&slot.bonus),
                    }),
                );
            }
            let referrer = m
                .referrer
                .map_or(Value::Null, |r| Value::String(self.members[r].name.clone()));
            members.insert(
                m.name.clone(),
                json!({"referrer": referrer, "downline": m.downline, "ledgers": ledgers}),
            );
        }
        let mut ledgers = Map::new();
        for (index, name) in names.iter().enumerate() {
            ledgers.insert(
                name.to_string(),
                json!({
                    "credited": format_wad(&credited[index]),
                    "withdrawn": format_wad(&withdrawn[index]),
                    "vault": format_wad(&self.vault[index]),
                }),
            );
        }
        json!({"members": members, "ledgers": ledgers, "rejected": self.rejected})
    }
}
