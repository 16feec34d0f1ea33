//! The index's schema, as numbered migrations. Each runs once, in order, and is
//! recorded in `schema_migrations`; the SQL is the common ground of SQLite and
//! PostgreSQL (TEXT and BIGINT only; 64-bit amounts and WAD values are kept as
//! decimal text, since they exceed BIGINT).

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
];
