//! The typed tables (schema migration 3), written from each event as it is
//! recorded and in the same database transaction: a read of the rows the new
//! events touch, then one pure step ([`Projection::apply`]) that adds the
//! events to them in Rust (u128, exact; SQLite could only add amounts as
//! floats), then the rows written back. A request reads what it needs from
//! these tables by key, so its cost does not grow with the history.

mod credits;
mod history;
mod rows;
mod tables_json;

use crate::index::Fetched;
use crate::store::{Cell, Statement};
use crate::subject::subject;
use anchor_lang::prelude::Pubkey;
use credits::report_of;
pub use credits::{credits_of, Credit, Source};
pub use history::project_history;
pub use rows::{reads_for, Current};
use std::collections::BTreeSet;
use upline::state::label_text;
use upline_sdk::events::UplineEvent;

/// One new transaction with its decoded events, as the projection takes it.
pub struct NewTransaction {
    pub fetched: Fetched,
    pub position: i64,
    pub events: Vec<UplineEvent>,
}

/// What a batch of events names: the keys whose rows it reads and updates.
#[derive(Default)]
pub struct Touched {
    pub networks: BTreeSet<Pubkey>,
    pub members: BTreeSet<Pubkey>,
    /// (member, origin) of each credit from someone else's work or link
    /// (commissions, bonuses): the contributions rows that may change.
    pub contributions: BTreeSet<(Pubkey, Pubkey)>,
}

impl Touched {
    pub fn of<'a>(events: impl Iterator<Item = &'a UplineEvent>) -> Touched {
        let mut touched = Touched::default();
        for event in events {
            let (network, member) = subject(event);
            touched.networks.insert(network);
            touched.members.extend(member);
            for (credit, origin) in credits_of(event) {
                touched.members.insert(credit.member);
                if credit.member != origin {
                    touched.contributions.insert((credit.member, origin));
                }
            }
            match event {
                UplineEvent::ReferrerLinked(e) => {
                    touched.members.insert(e.referrer);
                    touched.members.insert(e.upline2);
                    touched.members.insert(e.upline3);
                }
                UplineEvent::RentalReported(e) => {
                    touched.members.insert(e.host);
                }
                _ => {}
            }
        }
        touched.members.remove(&Pubkey::default());
        touched
    }
}

fn int(n: impl TryInto<i64>) -> Cell {
    Cell::Int(n.try_into().unwrap_or(i64::MAX))
}

fn key(k: &Pubkey) -> Cell {
    Cell::Text(k.to_string())
}

fn amount(n: u128) -> Cell {
    Cell::Text(n.to_string())
}

/// Adds events to the rows they touch, and lists the inserts they make.
pub struct Projection {
    pub current: Current,
    pub inserts: Vec<Statement>,
}

impl Projection {
    pub fn new(current: Current) -> Projection {
        Projection {
            current,
            inserts: Vec::new(),
        }
    }

    /// Apply the `ordinal`th event of `tx`.
    pub fn apply(&mut self, tx: &NewTransaction, ordinal: usize, event: &UplineEvent) {
        let at = tx.fetched.block_time;
        let (network, _) = subject(event);
        let sig = || Cell::Text(tx.fetched.signature.clone());
        let ordinal_cell = int(ordinal);
        if let Some(n) = self.current.networks.get_mut(&network) {
            n.last_position = tx.position;
            n.last_event_at = n.last_event_at.max(at);
        }
        let report = report_of(event);
        for (index, (credit, origin)) in credits_of(event).into_iter().enumerate() {
            self.inserts.push((
                "INSERT INTO credits (signature, ordinal, credit, member, source, network, ledger_index, amount_wad, origin, report_kind, report_id, withheld, position, slot, block_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::numeric, $9, $10, $11::text::numeric, $12, $13, $14, $15)".into(),
                vec![
                    sig(),
                    ordinal_cell.clone(),
                    int(index),
                    key(&credit.member),
                    credit.source.name().into(),
                    key(&network),
                    int(credit.ledger),
                    amount(credit.amount),
                    key(&origin),
                    report.as_ref().map(|r| r.kind.to_string()).into(),
                    report.as_ref().map(|r| r.id.to_string()).into(),
                    int(credit.withheld),
                    int(tx.position),
                    int(tx.fetched.slot),
                    int(at),
                ],
            ));
            if credit.withheld {
                continue;
            }
            self.current.credit(&network, &credit, &origin);
        }
        if let Some(r) = report {
            self.inserts.push((
                "INSERT INTO reports (signature, ordinal, network, kind, report_id, member, oracle, ledger_index, reward_wad, tables_version, work_time, position, block_time) VALUES ($1, $2, $3, $4, $5::text::numeric, $6, $7, $8, $9::text::numeric, $10, $11, $12, $13)".into(),
                vec![sig(), ordinal_cell.clone(), key(&network), r.kind.into(), r.id.to_string().into(), key(&r.earner), key(&r.oracle), int(r.ledger), amount(r.reward), int(r.tables_version), int(r.work_time), int(tx.position), int(at)],
            ));
            self.current.reported(&r.earner, r.work_time);
            if let UplineEvent::RentalReported(e) = event {
                self.current.reported(&e.host, r.work_time);
            }
        }
        self.apply_state(tx, ordinal, event, &network);
    }

    /// Events that change networks, ledgers, members, links and tables.
    fn apply_state(
        &mut self,
        tx: &NewTransaction,
        ordinal: usize,
        event: &UplineEvent,
        network: &Pubkey,
    ) {
        let at = tx.fetched.block_time;
        let head = || vec![Cell::Text(tx.fetched.signature.clone()), int(ordinal)];
        let current = &mut self.current;
        match event {
            UplineEvent::NetworkCreated(e) => {
                current.networks.insert(
                    e.network,
                    rows::NetworkRow {
                        name: label_text(&e.name).to_string(),
                        admin: e.admin.to_string(),
                        created_signature: tx.fetched.signature.clone(),
                        created_at: e.created_at,
                        last_position: tx.position,
                        last_event_at: at,
                        // A network starts at version 1 of its tables (create_network).
                        tables_version: 1,
                        ..rows::NetworkRow::default()
                    },
                );
                self.inserts.push(tables_json::version_row(
                    e.network,
                    "network",
                    1,
                    tx,
                    tables_json::network_tables(&e.tables),
                ));
            }
            UplineEvent::TablesUpdated(e) => {
                if let Some(n) = current.networks.get_mut(network) {
                    n.tables_version = i64::from(e.tables_version);
                }
                self.inserts.push(tables_json::version_row(
                    e.network,
                    "network",
                    e.tables_version,
                    tx,
                    tables_json::network_tables(&e.tables),
                ));
            }
            UplineEvent::RewardTablesSet(e) => {
                if let Some(n) = current.networks.get_mut(network) {
                    n.reward_tables_version = i64::from(e.version);
                }
                self.inserts.push(tables_json::version_row(
                    e.network,
                    "rewards",
                    e.version,
                    tx,
                    tables_json::reward_tables(&e.data),
                ));
            }
            UplineEvent::PauseSet(e) => {
                if let Some(n) = current.networks.get_mut(network) {
                    n.paused = e.paused;
                }
            }
            UplineEvent::PromotionSet(e) => {
                if let Some(n) = current.networks.get_mut(network) {
                    n.promotion = (
                        e.window.start,
                        e.window.end,
                        i64::try_from(e.window.rate.0).unwrap_or(i64::MAX),
                    );
                }
            }
            UplineEvent::AdminAccepted(e) => {
                if let Some(n) = current.networks.get_mut(network) {
                    n.admin = e.admin.to_string();
                }
            }
            UplineEvent::LedgerAdded(e) => {
                current
                    .ledgers
                    .insert((e.network, e.index), rows::LedgerRow::added(e));
            }
            UplineEvent::LedgerUpdated(e) => {
                if let Some(l) = current.ledgers.get_mut(&(e.network, e.index)) {
                    l.min_withdrawal_base = u128::from(e.min_withdrawal);
                }
            }
            UplineEvent::VaultFunded(e) => {
                if let Some(l) = current.ledgers.get_mut(&(e.network, e.index)) {
                    l.funded_base = e.funded;
                }
                let mut row = head();
                row.extend([
                    key(network),
                    int(e.index),
                    key(&e.funder),
                    amount(u128::from(e.amount)),
                    amount(e.funded),
                    int(tx.position),
                    int(at),
                ]);
                self.inserts.push(("INSERT INTO fundings (signature, ordinal, network, ledger_index, funder, amount_base, funded_after_base, position, block_time) VALUES ($1, $2, $3, $4, $5, $6::text::numeric, $7::text::numeric, $8, $9)".into(), row));
            }
            UplineEvent::Withdrawn(e) => {
                current.withdrawn(
                    network,
                    e.ledger_index,
                    &e.member,
                    u128::from(e.amount),
                    e.amount_wad.0,
                );
                let mut row = head();
                row.extend([
                    key(network),
                    key(&e.member),
                    key(&e.wallet),
                    int(e.ledger_index),
                    key(&e.destination),
                    amount(u128::from(e.amount)),
                    amount(e.amount_wad.0),
                    amount(e.balance_after.0),
                    int(tx.position),
                    int(at),
                ]);
                self.inserts.push(("INSERT INTO withdrawals (signature, ordinal, network, member, wallet, ledger_index, destination, amount_base, amount_wad, balance_after_wad, position, block_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::numeric, $9::text::numeric, $10::text::numeric, $11, $12)".into(), row));
            }
            UplineEvent::MemberJoined(e) => {
                if let Some(n) = current.networks.get_mut(network) {
                    n.members += 1;
                }
                current.members.insert(
                    e.member,
                    rows::MemberRow {
                        network: e.network.to_string(),
                        wallet: e.wallet.to_string(),
                        class: i64::from(e.class),
                        join_ordinal: i64::from(e.join_ordinal),
                        joined_at: e.at,
                        ..rows::MemberRow::default()
                    },
                );
            }
            UplineEvent::ReferrerLinked(e) => {
                if let Some(m) = current.members.get_mut(&e.member) {
                    m.referrer = Some(e.referrer.to_string());
                    m.referrer_wallet = Some(e.referrer_wallet.to_string());
                    m.linked_at = Some(e.at);
                }
                for (level, upline) in [e.referrer, e.upline2, e.upline3].iter().enumerate() {
                    if let Some(m) = current.members.get_mut(upline) {
                        m.downline[level] += 1;
                    }
                }
            }
            UplineEvent::MemberFrozenSet(e) => {
                if let Some(m) = current.members.get_mut(&e.member) {
                    m.frozen = e.frozen;
                }
            }
            _ => {}
        }
    }
}

/// The projection of `transactions` (new ones, oldest first) onto `current`:
/// the statements that write it.
pub fn project(transactions: &[NewTransaction], current: Current) -> Vec<Statement> {
    let mut projection = Projection::new(current);
    for tx in transactions {
        for (ordinal, event) in tx.events.iter().enumerate() {
            projection.apply(tx, ordinal, event);
        }
    }
    let mut statements = projection.inserts;
    statements.extend(projection.current.upserts());
    statements
}
