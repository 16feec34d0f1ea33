//! Reading the typed tables: cells by column, exact amounts, the ledgers of
//! a network, a member's totals, and account snapshots decoded.

use super::amounts::{self, parse_amount, wad};
use crate::store::dialect::Dialect;
use crate::store::{Cell, Store};
use crate::ExplorerError;
use anchor_lang::AccountDeserialize;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use upline::math::decimal::format_fixed;
use upline::state::{label_text, Network};

/// One row of a query, read by column number.
pub struct Row<'a>(pub &'a [Cell]);

impl Row<'_> {
    pub fn text(&self, i: usize) -> String {
        self.opt(i).unwrap_or_default()
    }

    pub fn opt(&self, i: usize) -> Option<String> {
        self.0
            .get(i)
            .and_then(Cell::text)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    }

    pub fn int(&self, i: usize) -> i64 {
        self.0.get(i).and_then(Cell::int).unwrap_or_default()
    }

    /// An amount column read as `column::text`; NULL reads as 0 (a LEFT
    /// JOIN with nothing on the right).
    pub fn amount(&self, i: usize, what: &str) -> Result<u128, ExplorerError> {
        match self.0.get(i) {
            None | Some(Cell::Null) => Ok(0),
            Some(Cell::Text(t)) => parse_amount(t)
                .ok_or_else(|| ExplorerError::Corrupt(format!("{what} is {t:?}, not an amount"))),
            Some(Cell::Int(n)) => u128::try_from(*n)
                .map_err(|_| ExplorerError::Corrupt(format!("{what} is {n}, not an amount"))),
        }
    }
}

/// A ledger as the `ledgers` table holds it.
pub struct LedgerRow {
    pub index: i64,
    pub address: String,
    pub name: String,
    pub kind: String,
    pub mint: Option<String>,
    pub vault: Option<String>,
    pub decimals: u8,
    pub min_withdrawal_base: u128,
    pub funded_base: u128,
    pub paid_out_base: u128,
    pub credited_wad: u128,
    pub withdrawn_wad: u128,
}

impl LedgerRow {
    /// Base units of this ledger as a decimal string.
    pub fn units(&self, base: u128) -> String {
        format_fixed(base, self.decimals)
    }

    /// A token ledger has a vault; a points ledger has none.
    pub fn is_token(&self) -> bool {
        self.vault.is_some()
    }
}

/// The ledgers of `network`, by index.
pub async fn ledgers(store: &Store, network: &str) -> Result<Vec<LedgerRow>, ExplorerError> {
    let rows = store
        .query(
            "SELECT ledger_index, address, name, kind, mint, vault, decimals, min_withdrawal_base::text, funded_base::text, paid_out_base::text, credited_wad::text, withdrawn_wad::text FROM ledgers WHERE network = $1 ORDER BY ledger_index",
            vec![network.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let row = Row(r);
            let name = row.text(2);
            let amount = |i: usize, column: &str| row.amount(i, &format!("ledger {name} {column}"));
            Ok(LedgerRow {
                index: row.int(0),
                address: row.text(1),
                kind: row.text(3),
                mint: row.opt(4),
                vault: row.opt(5),
                decimals: u8::try_from(row.int(6)).unwrap_or(u8::MAX),
                min_withdrawal_base: amount(7, "min_withdrawal_base")?,
                funded_base: amount(8, "funded_base")?,
                paid_out_base: amount(9, "paid_out_base")?,
                credited_wad: amount(10, "credited_wad")?,
                withdrawn_wad: amount(11, "withdrawn_wad")?,
                name,
            })
        })
        .collect()
}

/// The columns of `member_totals` [`Totals::read`] expects, in order.
pub const TOTALS_COLUMNS: &str = "own_wad::text, level1_wad::text, level2_wad::text, level3_wad::text, bonus_wad::text, referral_wad::text, withdrawn_wad::text, balance_wad::text";

/// A member's totals on one ledger (WAD).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub own: u128,
    pub level: [u128; 3],
    pub bonus: u128,
    pub referral: u128,
    pub withdrawn: u128,
    pub balance: u128,
}

impl Totals {
    /// The [`TOTALS_COLUMNS`] starting at column `at`.
    pub fn read(row: &Row<'_>, at: usize) -> Result<Totals, ExplorerError> {
        let a = |i: usize| row.amount(at + i, "member_totals");
        Ok(Totals {
            own: a(0)?,
            level: [a(1)?, a(2)?, a(3)?],
            bonus: a(4)?,
            referral: a(5)?,
            withdrawn: a(6)?,
            balance: a(7)?,
        })
    }

    /// Own work and referral together.
    pub fn earned(&self) -> u128 {
        self.own.saturating_add(self.referral)
    }

    /// Nothing on this ledger, ever.
    pub fn is_empty(&self) -> bool {
        *self == Totals::default()
    }

    pub fn json(&self) -> Value {
        json!({
            "earned": wad(self.earned()),
            "own": wad(self.own),
            "referral": wad(self.referral),
            "referral_share": amounts::percent(self.referral, self.earned()),
            "level1": wad(self.level[0]),
            "level2": wad(self.level[1]),
            "level3": wad(self.level[2]),
            "bonus": wad(self.bonus),
            "withdrawn": wad(self.withdrawn),
            "balance": wad(self.balance),
        })
    }
}

/// The latest snapshot of the account at `address` (of `kind`), its data.
pub async fn snapshot_data(
    store: &Store,
    address: &str,
    kind: &str,
) -> Result<Option<Vec<u8>>, ExplorerError> {
    let rows = store
        .query(
            "SELECT data FROM accounts WHERE address = $1 AND kind = $2",
            vec![address.into(), kind.into()],
        )
        .await?;
    let Some(text) = rows.first().and_then(|r| Row(r).opt(0)) else {
        return Ok(None);
    };
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(Some)
        .map_err(|e| ExplorerError::Corrupt(format!("{kind} {address} snapshot: {e}")))
}

/// A snapshot decoded as the program's account type `T`.
pub async fn snapshot<T: AccountDeserialize>(
    store: &Store,
    address: &str,
    kind: &str,
) -> Result<Option<T>, ExplorerError> {
    let Some(data) = snapshot_data(store, address, kind).await? else {
        return Ok(None);
    };
    T::try_deserialize(&mut data.as_slice())
        .map(Some)
        .map_err(|e| ExplorerError::Corrupt(format!("{kind} {address} snapshot: {e}")))
}

/// The names of a network's classes, by class index.
pub fn class_names(network: Option<&Network>) -> Vec<String> {
    network.map_or_else(Vec::new, |n| {
        n.tables
            .active_classes()
            .iter()
            .map(|c| label_text(&c.name).to_string())
            .collect()
    })
}

/// The name of class `class` ("class 3" when the tables do not name it).
pub fn class_name(names: &[String], class: i64) -> String {
    usize::try_from(class)
        .ok()
        .and_then(|i| names.get(i))
        .cloned()
        .unwrap_or_else(|| format!("class {class}"))
}

/// The time the pages judge "now" by: the wall clock, or the network's
/// newest event when that is later (a cluster whose clock runs ahead, as a
/// warped sandbox's does).
pub fn now(last_event_at: i64) -> i64 {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    wall.max(last_event_at)
}

/// Unix time as ISO 8601 in UTC (`2026-01-01T12:00:00Z`).
pub fn iso_time(time: i64) -> String {
    let day = time.div_euclid(86_400);
    let second = time.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        upline_sdk::stats::day_text(day),
        second / 3600,
        second / 60 % 60,
        second % 60
    )
}

/// The totals of `members` on every ledger: (member, ledger index) → totals.
pub async fn totals_of(
    store: &Store,
    members: &[String],
) -> Result<HashMap<(String, i64), Totals>, ExplorerError> {
    if members.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT member, ledger_index, {} FROM member_totals WHERE member {}",
        TOTALS_COLUMNS,
        Dialect::in_list(1, members.len())
    );
    let params = members.iter().map(|m| Cell::from(m.as_str())).collect();
    let mut out = HashMap::new();
    for r in store.query(&sql, params).await? {
        let row = Row(&r);
        out.insert((row.text(0), row.int(1)), Totals::read(&row, 2)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_amounts_or_say_why_not() {
        let cells = [
            Cell::Text("1875000000000000000".into()),
            Cell::Null,
            Cell::Int(5),
            Cell::Text("1.5".into()),
        ];
        let row = Row(&cells);
        assert_eq!(row.amount(0, "x"), Ok(1_875_000_000_000_000_000));
        assert_eq!(row.amount(1, "x"), Ok(0));
        assert_eq!(row.amount(2, "x"), Ok(5));
        assert_eq!(
            row.amount(3, "credits.amount_wad"),
            Err(ExplorerError::Corrupt(
                "credits.amount_wad is \"1.5\", not an amount".into()
            ))
        );
    }

    #[test]
    fn totals_add_up_and_know_when_empty() {
        let t = Totals {
            own: 3,
            referral: 1,
            ..Totals::default()
        };
        assert_eq!(t.earned(), 4);
        assert!(!t.is_empty());
        assert!(Totals::default().is_empty());
        assert_eq!(t.json()["referral_share"], "25.00");
    }

    #[test]
    fn times_print_in_utc_and_classes_by_name() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_time(1_767_225_600 + 3_723), "2026-01-01T01:02:03Z");
        assert_eq!(class_name(&["user".into()], 0), "user");
        assert_eq!(class_name(&[], 2), "class 2");
    }
}
