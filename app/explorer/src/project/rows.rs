//! The rows a batch of events updates: read by key before the batch, kept
//! in memory while its events are added, written back (only those that
//! changed) after it.

use super::{int, key, Credit, Source, Touched};
use crate::store::dialect::Dialect;
use crate::store::{text_at, Cell, Rows, Statement};
use crate::ExplorerError;
use anchor_lang::prelude::Pubkey;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use upline::events::LedgerAdded;
use upline::state::{label_text, LedgerKind};

/// Keys per `IN (…)` list: far below either database's parameter limit.
const CHUNK: usize = 500;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkRow {
    pub name: String,
    pub admin: String,
    pub created_signature: String,
    pub created_at: i64,
    pub members: i64,
    pub paused: bool,
    /// Start, end, rate (ppm) of the promotion window; all zero when closed.
    pub promotion: (i64, i64, i64),
    pub tables_version: i64,
    pub reward_tables_version: i64,
    pub last_position: i64,
    pub last_event_at: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LedgerRow {
    pub address: String,
    pub name: String,
    pub kind: String,
    pub mint: Option<String>,
    pub vault: Option<String>,
    pub decimals: i64,
    pub min_withdrawal_base: u128,
    pub funded_base: u128,
    pub paid_out_base: u128,
    pub credited_wad: u128,
    pub withdrawn_wad: u128,
}

impl LedgerRow {
    pub fn added(e: &LedgerAdded) -> LedgerRow {
        let token = e.kind == LedgerKind::Token;
        LedgerRow {
            address: e.ledger.to_string(),
            name: label_text(&e.name).to_string(),
            kind: if token { "token" } else { "points" }.to_string(),
            mint: token.then(|| e.mint.to_string()),
            vault: token.then(|| e.vault.to_string()),
            decimals: i64::from(e.decimals),
            min_withdrawal_base: u128::from(e.min_withdrawal),
            ..LedgerRow::default()
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberRow {
    pub network: String,
    pub wallet: String,
    pub class: i64,
    pub join_ordinal: i64,
    pub joined_at: i64,
    pub referrer: Option<String>,
    pub referrer_wallet: Option<String>,
    pub linked_at: Option<i64>,
    pub downline: [i64; 3],
    pub reports: i64,
    pub last_work_time: i64,
    pub frozen: bool,
}

/// A member's totals on one ledger, WAD.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TotalsRow {
    pub network: String,
    pub own: u128,
    pub levels: [u128; 3],
    pub bonus: u128,
    pub withdrawn: u128,
}

impl TotalsRow {
    fn referral(&self) -> u128 {
        self.levels.iter().sum::<u128>() + self.bonus
    }
}

/// The touched rows, as read and as the batch leaves them.
#[derive(Default)]
pub struct Current {
    pub networks: BTreeMap<Pubkey, NetworkRow>,
    pub ledgers: BTreeMap<(Pubkey, u8), LedgerRow>,
    pub members: BTreeMap<Pubkey, MemberRow>,
    pub totals: BTreeMap<(Pubkey, u8), TotalsRow>,
    pub contributions: BTreeMap<(Pubkey, Pubkey, u8), u128>,
    /// The rows read, to write back only those that changed.
    read: Option<Box<Current>>,
}

fn in_chunks<'a>(keys: &'a BTreeSet<Pubkey>) -> impl Iterator<Item = (String, Vec<Cell>)> + 'a {
    let keys: Vec<&Pubkey> = keys.iter().collect();
    keys.chunks(CHUNK)
        .map(|chunk| {
            (
                Dialect::in_list(1, chunk.len()),
                chunk.iter().map(|k| key(k)).collect(),
            )
        })
        .collect::<Vec<_>>()
        .into_iter()
}

/// The reads that load every row `touched` names. Each row starts with a
/// tag saying which table it is from.
pub fn reads_for(touched: &Touched) -> Vec<Statement> {
    let mut reads = Vec::new();
    for (list, params) in in_chunks(&touched.networks) {
        reads.push((format!("SELECT 'n', address, name, admin, created_signature, created_at, members, paused, promotion_start, promotion_end, promotion_rate_ppm, tables_version, reward_tables_version, last_position, last_event_at FROM networks WHERE address {list}"), params.clone()));
        reads.push((format!("SELECT 'l', network, ledger_index, address, name, kind, mint, vault, decimals, min_withdrawal_base::text, funded_base::text, paid_out_base::text, credited_wad::text, withdrawn_wad::text FROM ledgers WHERE network {list}"), params));
    }
    for (list, params) in in_chunks(&touched.members) {
        reads.push((format!("SELECT 'm', member, network, wallet, class, join_ordinal, joined_at, referrer, referrer_wallet, linked_at, downline1, downline2, downline3, reports, last_work_time, frozen FROM members WHERE member {list}"), params.clone()));
        reads.push((format!("SELECT 't', member, ledger_index, network, own_wad::text, level1_wad::text, level2_wad::text, level3_wad::text, bonus_wad::text, withdrawn_wad::text FROM member_totals WHERE member {list}"), params));
    }
    // Contributions by (member, origin) pair: exactly the rows this batch
    // adds to, however long either's history.
    let pairs: Vec<&(Pubkey, Pubkey)> = touched.contributions.iter().collect();
    for chunk in pairs.chunks(CHUNK / 2) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}::text, ${}::text)", 2 * i + 1, 2 * i + 2))
            .collect();
        let params = chunk
            .iter()
            .flat_map(|(member, origin)| [key(member), key(origin)])
            .collect();
        reads.push((
            format!(
                "SELECT 'c', member, origin, ledger_index, amount_wad::text FROM contributions WHERE (member, origin) IN (VALUES {})",
                values.join(", ")
            ),
            params,
        ));
    }
    reads
}

fn pubkey(row: &[Cell], i: usize) -> Result<Pubkey, ExplorerError> {
    let text = text_at(row, i);
    Pubkey::from_str(&text).map_err(|_| ExplorerError::Corrupt(format!("not an address: {text:?}")))
}

fn number(row: &[Cell], i: usize) -> i64 {
    row.get(i).and_then(Cell::int).unwrap_or_default()
}

fn wad(row: &[Cell], i: usize) -> Result<u128, ExplorerError> {
    let text = text_at(row, i);
    text.parse::<u128>()
        .map_err(|_| ExplorerError::Corrupt(format!("not an exact amount: {text:?}")))
}

fn optional(row: &[Cell], i: usize) -> Option<String> {
    row.get(i).and_then(Cell::text).map(str::to_string)
}

impl Current {
    /// The rows the reads of [`reads_for`] returned.
    pub fn from_results(results: &[Rows]) -> Result<Current, ExplorerError> {
        let mut current = Current::default();
        for row in results.iter().flatten() {
            match text_at(row, 0).as_str() {
                "n" => {
                    current.networks.insert(
                        pubkey(row, 1)?,
                        NetworkRow {
                            name: text_at(row, 2),
                            admin: text_at(row, 3),
                            created_signature: text_at(row, 4),
                            created_at: number(row, 5),
                            members: number(row, 6),
                            paused: number(row, 7) != 0,
                            promotion: (number(row, 8), number(row, 9), number(row, 10)),
                            tables_version: number(row, 11),
                            reward_tables_version: number(row, 12),
                            last_position: number(row, 13),
                            last_event_at: number(row, 14),
                        },
                    );
                }
                "l" => {
                    let index = u8::try_from(number(row, 2)).unwrap_or(u8::MAX);
                    current.ledgers.insert(
                        (pubkey(row, 1)?, index),
                        LedgerRow {
                            address: text_at(row, 3),
                            name: text_at(row, 4),
                            kind: text_at(row, 5),
                            mint: optional(row, 6),
                            vault: optional(row, 7),
                            decimals: number(row, 8),
                            min_withdrawal_base: wad(row, 9)?,
                            funded_base: wad(row, 10)?,
                            paid_out_base: wad(row, 11)?,
                            credited_wad: wad(row, 12)?,
                            withdrawn_wad: wad(row, 13)?,
                        },
                    );
                }
                "m" => {
                    current.members.insert(
                        pubkey(row, 1)?,
                        MemberRow {
                            network: text_at(row, 2),
                            wallet: text_at(row, 3),
                            class: number(row, 4),
                            join_ordinal: number(row, 5),
                            joined_at: number(row, 6),
                            referrer: optional(row, 7),
                            referrer_wallet: optional(row, 8),
                            linked_at: row.get(9).and_then(Cell::int),
                            downline: [number(row, 10), number(row, 11), number(row, 12)],
                            reports: number(row, 13),
                            last_work_time: number(row, 14),
                            frozen: number(row, 15) != 0,
                        },
                    );
                }
                "t" => {
                    let index = u8::try_from(number(row, 2)).unwrap_or(u8::MAX);
                    current.totals.insert(
                        (pubkey(row, 1)?, index),
                        TotalsRow {
                            network: text_at(row, 3),
                            own: wad(row, 4)?,
                            levels: [wad(row, 5)?, wad(row, 6)?, wad(row, 7)?],
                            bonus: wad(row, 8)?,
                            withdrawn: wad(row, 9)?,
                        },
                    );
                }
                "c" => {
                    let index = u8::try_from(number(row, 3)).unwrap_or(u8::MAX);
                    current
                        .contributions
                        .insert((pubkey(row, 1)?, pubkey(row, 2)?, index), wad(row, 4)?);
                }
                other => {
                    return Err(ExplorerError::Corrupt(format!(
                        "unexpected read tag {other:?}"
                    )))
                }
            }
        }
        current.read = Some(Box::new(Current {
            networks: current.networks.clone(),
            ledgers: current.ledgers.clone(),
            members: current.members.clone(),
            totals: current.totals.clone(),
            contributions: current.contributions.clone(),
            read: None,
        }));
        Ok(current)
    }

    /// A credit (not withheld) to `credit.member`, from `origin`'s work or link.
    pub fn credit(&mut self, network: &Pubkey, credit: &Credit, origin: &Pubkey) {
        let totals = self
            .totals
            .entry((credit.member, credit.ledger))
            .or_insert_with(|| TotalsRow {
                network: network.to_string(),
                ..TotalsRow::default()
            });
        match credit.source {
            Source::Work => totals.own += credit.amount,
            Source::Level(l) => totals.levels[usize::from(l.clamp(1, 3) - 1)] += credit.amount,
            Source::Bonus => totals.bonus += credit.amount,
        }
        if let Some(l) = self.ledgers.get_mut(&(*network, credit.ledger)) {
            l.credited_wad += credit.amount;
        }
        if credit.member != *origin {
            *self
                .contributions
                .entry((credit.member, *origin, credit.ledger))
                .or_default() += credit.amount;
        }
    }

    pub fn withdrawn(
        &mut self,
        network: &Pubkey,
        ledger: u8,
        member: &Pubkey,
        base: u128,
        wad: u128,
    ) {
        let totals = self
            .totals
            .entry((*member, ledger))
            .or_insert_with(|| TotalsRow {
                network: network.to_string(),
                ..TotalsRow::default()
            });
        totals.withdrawn += wad;
        if let Some(l) = self.ledgers.get_mut(&(*network, ledger)) {
            l.paid_out_base += base;
            l.withdrawn_wad += wad;
        }
    }

    pub fn reported(&mut self, member: &Pubkey, work_time: i64) {
        if let Some(m) = self.members.get_mut(member) {
            m.reports += 1;
            m.last_work_time = m.last_work_time.max(work_time);
        }
    }

    /// The upserts that write back every row that changed.
    pub fn upserts(&self) -> Vec<Statement> {
        let empty = Current::default();
        let read = self.read.as_deref().unwrap_or(&empty);
        let mut out: Vec<Statement> = Vec::new();
        for (address, n) in self
            .networks
            .iter()
            .filter(|(k, v)| read.networks.get(k) != Some(v))
        {
            out.push(("INSERT INTO networks (address, name, admin, created_signature, created_at, members, paused, promotion_start, promotion_end, promotion_rate_ppm, tables_version, reward_tables_version, last_position, last_event_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (address) DO UPDATE SET name = excluded.name, admin = excluded.admin, members = excluded.members, paused = excluded.paused, promotion_start = excluded.promotion_start, promotion_end = excluded.promotion_end, promotion_rate_ppm = excluded.promotion_rate_ppm, tables_version = excluded.tables_version, reward_tables_version = excluded.reward_tables_version, last_position = excluded.last_position, last_event_at = excluded.last_event_at".into(),
                vec![key(address), n.name.clone().into(), n.admin.clone().into(), n.created_signature.clone().into(), int(n.created_at), int(n.members), int(n.paused), int(n.promotion.0), int(n.promotion.1), int(n.promotion.2), int(n.tables_version), int(n.reward_tables_version), int(n.last_position), int(n.last_event_at)]));
        }
        for ((network, index), l) in self
            .ledgers
            .iter()
            .filter(|(k, v)| read.ledgers.get(k) != Some(v))
        {
            out.push(("INSERT INTO ledgers (network, ledger_index, address, name, kind, mint, vault, decimals, min_withdrawal_base, funded_base, paid_out_base, credited_wad, withdrawn_wad) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::numeric, $10::text::numeric, $11::text::numeric, $12::text::numeric, $13::text::numeric) ON CONFLICT (network, ledger_index) DO UPDATE SET min_withdrawal_base = excluded.min_withdrawal_base, funded_base = excluded.funded_base, paid_out_base = excluded.paid_out_base, credited_wad = excluded.credited_wad, withdrawn_wad = excluded.withdrawn_wad".into(),
                vec![key(network), int(*index), l.address.clone().into(), l.name.clone().into(), l.kind.clone().into(), l.mint.clone().into(), l.vault.clone().into(), int(l.decimals), super::amount(l.min_withdrawal_base), super::amount(l.funded_base), super::amount(l.paid_out_base), super::amount(l.credited_wad), super::amount(l.withdrawn_wad)]));
        }
        for (member, m) in self
            .members
            .iter()
            .filter(|(k, v)| read.members.get(k) != Some(v))
        {
            out.push(("INSERT INTO members (member, network, wallet, class, join_ordinal, joined_at, referrer, referrer_wallet, linked_at, downline1, downline2, downline3, reports, last_work_time, frozen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (member) DO UPDATE SET referrer = excluded.referrer, referrer_wallet = excluded.referrer_wallet, linked_at = excluded.linked_at, downline1 = excluded.downline1, downline2 = excluded.downline2, downline3 = excluded.downline3, reports = excluded.reports, last_work_time = excluded.last_work_time, frozen = excluded.frozen".into(),
                vec![key(member), m.network.clone().into(), m.wallet.clone().into(), int(m.class), int(m.join_ordinal), int(m.joined_at), m.referrer.clone().into(), m.referrer_wallet.clone().into(), m.linked_at.map_or(Cell::Null, Cell::Int), int(m.downline[0]), int(m.downline[1]), int(m.downline[2]), int(m.reports), int(m.last_work_time), int(m.frozen)]));
        }
        for ((member, index), t) in self
            .totals
            .iter()
            .filter(|(k, v)| read.totals.get(k) != Some(v))
        {
            let referral = t.referral();
            let balance = (t.own + referral).saturating_sub(t.withdrawn);
            out.push(("INSERT INTO member_totals (member, ledger_index, network, own_wad, level1_wad, level2_wad, level3_wad, bonus_wad, referral_wad, withdrawn_wad, balance_wad) VALUES ($1, $2, $3, $4::text::numeric, $5::text::numeric, $6::text::numeric, $7::text::numeric, $8::text::numeric, $9::text::numeric, $10::text::numeric, $11::text::numeric) ON CONFLICT (member, ledger_index) DO UPDATE SET own_wad = excluded.own_wad, level1_wad = excluded.level1_wad, level2_wad = excluded.level2_wad, level3_wad = excluded.level3_wad, bonus_wad = excluded.bonus_wad, referral_wad = excluded.referral_wad, withdrawn_wad = excluded.withdrawn_wad, balance_wad = excluded.balance_wad".into(),
                vec![key(member), int(*index), t.network.clone().into(), super::amount(t.own), super::amount(t.levels[0]), super::amount(t.levels[1]), super::amount(t.levels[2]), super::amount(t.bonus), super::amount(referral), super::amount(t.withdrawn), super::amount(balance)]));
        }
        for ((member, origin, index), total) in self
            .contributions
            .iter()
            .filter(|(k, v)| read.contributions.get(k) != Some(v))
        {
            out.push(("INSERT INTO contributions (member, origin, ledger_index, amount_wad) VALUES ($1, $2, $3, $4::text::numeric) ON CONFLICT (member, origin, ledger_index) DO UPDATE SET amount_wad = excluded.amount_wad".into(),
                vec![key(member), key(origin), int(*index), super::amount(*total)]));
        }
        out
    }
}
