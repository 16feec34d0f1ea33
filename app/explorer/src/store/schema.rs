//! The index's schema, as numbered migrations. Each runs once, in order, and is
//! recorded in `schema_migrations`. The SQL is PostgreSQL's, kept to what
//! SQLite also runs once [`super::dialect`] has rewritten it: exact amounts are
//! `NUMERIC(39,0)` (PostgreSQL; u128 has 39 digits) and decimal text
//! (SQLite, whose NUMERIC affinity would turn large values into floats).
//!
//! Amounts are whole units, never floats: `*_wad` columns in WAD (10^-18 of
//! a token or point, what balances are kept in), `*_base` columns in the
//! ledger's base units (what the vault holds).
//!
//! A statement that starts `-- sqlite` or `-- postgresql` runs on that
//! database only (indexes on expressions SQLite needs and PostgreSQL not).

/// (version, name, statements).
pub const MIGRATIONS: &[(i64, &str, &[&str])] = &[
    (
        1,
        "events, transactions, account snapshots, cursors, audits",
        &[
            "CREATE TABLE transactions (
            signature TEXT PRIMARY KEY,
            position BIGINT NOT NULL UNIQUE,
            slot BIGINT NOT NULL,
            block_time BIGINT NOT NULL,
            failed BIGINT NOT NULL
        )",
            // One row per event: `data` is the event's discriminator and borsh
            // body (base64), exactly as emitted; `kind`, `network` and `wallet`
            // are there for queries.
            "CREATE TABLE events (
            signature TEXT NOT NULL,
            ordinal BIGINT NOT NULL,
            position BIGINT NOT NULL,
            block_time BIGINT NOT NULL,
            network TEXT NOT NULL,
            kind TEXT NOT NULL,
            wallet TEXT,
            data TEXT NOT NULL,
            PRIMARY KEY (signature, ordinal)
        )",
            "CREATE INDEX events_by_network ON events (network, position, ordinal)",
            "CREATE INDEX events_by_wallet ON events (wallet)",
            // The latest snapshot of each account the events name.
            "CREATE TABLE accounts (
            address TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            network TEXT NOT NULL,
            slot BIGINT NOT NULL,
            data TEXT NOT NULL
        )",
            "CREATE INDEX accounts_by_network ON accounts (network, kind)",
            // Where each source's indexing stopped: its newest signature.
            "CREATE TABLE cursors (
            source TEXT PRIMARY KEY,
            signature TEXT NOT NULL,
            slot BIGINT NOT NULL
        )",
            "CREATE TABLE audits (
            id BIGINT PRIMARY KEY,
            at BIGINT NOT NULL,
            verdict TEXT NOT NULL,
            report TEXT NOT NULL
        )",
        ],
    ),
    // A wallet may hold one membership per class (DESIGN.md §3 rule 6): events
    // name member accounts, and so does the query column.
    (
        2,
        "events are about member accounts",
        &[
            "ALTER TABLE events RENAME COLUMN wallet TO member",
            "DROP INDEX events_by_wallet",
            "CREATE INDEX events_by_member ON events (member)",
        ],
    ),
    // Typed tables a database can answer from (issue 16): written by the
    // indexer from each event as it is recorded, in the same transaction.
    (
        3,
        "typed tables: networks, ledgers, members, member totals, credits, contributions, reports, withdrawals, fundings, tables versions, audit checkpoints",
        &[
            // One row per network: what its page heads with.
            "CREATE TABLE networks (
            address TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            admin TEXT NOT NULL,
            created_signature TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            members BIGINT NOT NULL,
            paused BIGINT NOT NULL,
            promotion_start BIGINT NOT NULL,
            promotion_end BIGINT NOT NULL,
            promotion_rate_ppm BIGINT NOT NULL,
            tables_version BIGINT NOT NULL,
            reward_tables_version BIGINT NOT NULL,
            last_position BIGINT NOT NULL,
            last_event_at BIGINT NOT NULL
        )",
            // Per ledger, the running totals solvency is judged by: what was
            // funded and paid out (base units), and what was credited to and
            // withdrawn by members (WAD); owed = credited - withdrawn.
            "CREATE TABLE ledgers (
            network TEXT NOT NULL,
            ledger_index BIGINT NOT NULL,
            address TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            mint TEXT,
            vault TEXT,
            decimals BIGINT NOT NULL,
            min_withdrawal_base NUMERIC(39,0) NOT NULL,
            funded_base NUMERIC(39,0) NOT NULL,
            paid_out_base NUMERIC(39,0) NOT NULL,
            credited_wad NUMERIC(39,0) NOT NULL,
            withdrawn_wad NUMERIC(39,0) NOT NULL,
            PRIMARY KEY (network, ledger_index)
        )",
            // One row per membership (a wallet holds one per class).
            "CREATE TABLE members (
            member TEXT PRIMARY KEY,
            network TEXT NOT NULL,
            wallet TEXT NOT NULL,
            class BIGINT NOT NULL,
            join_ordinal BIGINT NOT NULL,
            joined_at BIGINT NOT NULL,
            referrer TEXT,
            referrer_wallet TEXT,
            linked_at BIGINT,
            downline1 BIGINT NOT NULL,
            downline2 BIGINT NOT NULL,
            downline3 BIGINT NOT NULL,
            reports BIGINT NOT NULL,
            last_work_time BIGINT NOT NULL,
            frozen BIGINT NOT NULL
        )",
            "CREATE INDEX members_by_wallet ON members (wallet)",
            "CREATE INDEX members_by_join ON members (network, join_ordinal)",
            "CREATE INDEX members_by_referrer ON members (referrer, join_ordinal)",
            // A member's current totals on one ledger, by source. referral =
            // level1 + level2 + level3 + bonus; balance = own + referral -
            // withdrawn (what the member account holds, fraction included).
            "CREATE TABLE member_totals (
            member TEXT NOT NULL,
            ledger_index BIGINT NOT NULL,
            network TEXT NOT NULL,
            own_wad NUMERIC(39,0) NOT NULL,
            level1_wad NUMERIC(39,0) NOT NULL,
            level2_wad NUMERIC(39,0) NOT NULL,
            level3_wad NUMERIC(39,0) NOT NULL,
            bonus_wad NUMERIC(39,0) NOT NULL,
            referral_wad NUMERIC(39,0) NOT NULL,
            withdrawn_wad NUMERIC(39,0) NOT NULL,
            balance_wad NUMERIC(39,0) NOT NULL,
            PRIMARY KEY (member, ledger_index)
        )",
            // Every credit to a member, numbered within its event (a host
            // renting its own machine credits its referrer twice): the
            // source is `work` (its own report),
            // `level1`..`level3` (a commission) or `bonus`; `origin` is the
            // member whose report or link it came from. Withheld amounts
            // (a frozen member's) are rows with withheld = 1 and count nowhere.
            "CREATE TABLE credits (
            signature TEXT NOT NULL,
            ordinal BIGINT NOT NULL,
            credit BIGINT NOT NULL,
            member TEXT NOT NULL,
            source TEXT NOT NULL,
            network TEXT NOT NULL,
            ledger_index BIGINT NOT NULL,
            amount_wad NUMERIC(39,0) NOT NULL,
            origin TEXT NOT NULL,
            report_kind TEXT,
            report_id NUMERIC(39,0),
            withheld BIGINT NOT NULL,
            position BIGINT NOT NULL,
            slot BIGINT NOT NULL,
            block_time BIGINT NOT NULL,
            PRIMARY KEY (signature, ordinal, credit)
        )",
            "CREATE INDEX credits_by_member ON credits (member, position, ordinal)",
            "CREATE INDEX credits_by_network ON credits (network, position, ordinal)",
            // What each origin brought each member, per ledger (a referee's
            // contribution to its referrer, and up the chain).
            "CREATE TABLE contributions (
            member TEXT NOT NULL,
            origin TEXT NOT NULL,
            ledger_index BIGINT NOT NULL,
            amount_wad NUMERIC(39,0) NOT NULL,
            PRIMARY KEY (member, origin, ledger_index)
        )",
            // Work reports: kind is compute, usage, rental or bandwidth; the
            // earner is the member the report is about (a rental's renter).
            "CREATE TABLE reports (
            signature TEXT NOT NULL,
            ordinal BIGINT NOT NULL,
            network TEXT NOT NULL,
            kind TEXT NOT NULL,
            report_id NUMERIC(39,0) NOT NULL,
            member TEXT NOT NULL,
            oracle TEXT NOT NULL,
            ledger_index BIGINT NOT NULL,
            reward_wad NUMERIC(39,0) NOT NULL,
            tables_version BIGINT NOT NULL,
            work_time BIGINT NOT NULL,
            position BIGINT NOT NULL,
            block_time BIGINT NOT NULL,
            PRIMARY KEY (signature, ordinal)
        )",
            "CREATE INDEX reports_by_member ON reports (member, position)",
            "CREATE INDEX reports_by_network ON reports (network, position)",
            "CREATE TABLE withdrawals (
            signature TEXT NOT NULL,
            ordinal BIGINT NOT NULL,
            network TEXT NOT NULL,
            member TEXT NOT NULL,
            wallet TEXT NOT NULL,
            ledger_index BIGINT NOT NULL,
            destination TEXT NOT NULL,
            amount_base NUMERIC(39,0) NOT NULL,
            amount_wad NUMERIC(39,0) NOT NULL,
            balance_after_wad NUMERIC(39,0) NOT NULL,
            position BIGINT NOT NULL,
            block_time BIGINT NOT NULL,
            PRIMARY KEY (signature, ordinal)
        )",
            "CREATE INDEX withdrawals_by_member ON withdrawals (member, position)",
            "CREATE TABLE fundings (
            signature TEXT NOT NULL,
            ordinal BIGINT NOT NULL,
            network TEXT NOT NULL,
            ledger_index BIGINT NOT NULL,
            funder TEXT NOT NULL,
            amount_base NUMERIC(39,0) NOT NULL,
            funded_after_base NUMERIC(39,0) NOT NULL,
            position BIGINT NOT NULL,
            block_time BIGINT NOT NULL,
            PRIMARY KEY (signature, ordinal)
        )",
            "CREATE INDEX fundings_by_network ON fundings (network, position)",
            // Each version of a network's tables: `network` (NetworkTables,
            // TablesUpdated) or `rewards` (RewardTablesData, RewardTablesSet),
            // with the tables as JSON for the page.
            "CREATE TABLE tables_versions (
            network TEXT NOT NULL,
            kind TEXT NOT NULL,
            version BIGINT NOT NULL,
            signature TEXT NOT NULL,
            position BIGINT NOT NULL,
            block_time BIGINT NOT NULL,
            tables TEXT NOT NULL,
            PRIMARY KEY (network, kind, version)
        )",
            // The audit's replay of a network, saved after the event at
            // (position, ordinal), so that the next audit resumes from it.
            "CREATE TABLE audit_checkpoints (
            network TEXT PRIMARY KEY,
            position BIGINT NOT NULL,
            ordinal BIGINT NOT NULL,
            events BIGINT NOT NULL,
            state TEXT NOT NULL,
            saved_at BIGINT NOT NULL
        )",
            // Leaderboards and members pages sorted by an amount. SQLite sorts
            // decimal text by length first (`Dialect::amount_order`), and
            // its index must be on the same expressions.
            "-- postgresql\nCREATE INDEX member_totals_by_referral ON member_totals (network, ledger_index, referral_wad)",
            "-- sqlite\nCREATE INDEX member_totals_by_referral ON member_totals (network, ledger_index, LENGTH(referral_wad), referral_wad)",
            "-- postgresql\nCREATE INDEX member_totals_by_balance ON member_totals (network, ledger_index, balance_wad)",
            "-- sqlite\nCREATE INDEX member_totals_by_balance ON member_totals (network, ledger_index, LENGTH(balance_wad), balance_wad)",
            "CREATE INDEX members_by_downline ON members (network, downline1, join_ordinal)",
            // What the audit's checkpoint knows of each member, saved with
            // it: an incremental audit reads and writes only the members it
            // touches (a network's own state is in audit_checkpoints).
            "CREATE TABLE audit_members (
            network TEXT NOT NULL,
            member TEXT NOT NULL,
            state TEXT NOT NULL,
            PRIMARY KEY (network, member)
        )",
            // The events index's position order for incremental reads.
            "CREATE INDEX events_by_position ON events (position, ordinal)",
            "CREATE INDEX accounts_by_kind ON accounts (kind, network)",
        ],
    ),
];
