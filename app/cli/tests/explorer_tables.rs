//! The explorer's typed tables (schema migration 3) against the chain: on
//! each demo network (every report kind, bonuses, withdrawals, funding),
//! every member's totals by source equal its member account's, downline
//! counts and referrers equal the account's, ledgers' funded and withdrawn
//! equal the ledger accounts', and the credits rows add up to the totals.
//! Indexed in many small batches, or rebuilt from stored events, the
//! tables are the same as indexed in one go.

mod common;

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use std::collections::BTreeMap;
use std::str::FromStr;
use upline::state::{Ledger, Member, Network, RewardTables};
use upline_cli::simulate_world;
use upline_explorer::index::{self, Fetched};
use upline_explorer::source::from_journal;
use upline_explorer::store::{text_at, Cell};
use upline_explorer::Store;

fn wad(row: &[Cell], i: usize) -> u128 {
    text_at(row, i).parse().expect("an exact amount")
}

fn int(row: &[Cell], i: usize) -> i64 {
    row.get(i).and_then(Cell::int).expect("a number")
}

/// Hold the typed tables to the account snapshots; returns what it compared.
async fn hold_to_accounts(store: &Store) -> (usize, usize) {
    let snapshots = index::snapshots(store).await.expect("snapshots");
    let totals = store
        .query("SELECT member, ledger_index, own_wad::text, level1_wad::text, level2_wad::text, level3_wad::text, bonus_wad::text, withdrawn_wad::text, balance_wad::text, referral_wad::text FROM member_totals", vec![])
        .await
        .expect("totals");
    let totals: BTreeMap<(String, i64), Vec<Cell>> = totals
        .into_iter()
        .map(|r| ((text_at(&r, 0), int(&r, 1)), r))
        .collect();
    let members = store
        .query(
            "SELECT member, wallet, class, referrer, downline1, downline2, downline3 FROM members",
            vec![],
        )
        .await
        .expect("members");
    let members: BTreeMap<String, Vec<Cell>> =
        members.into_iter().map(|r| (text_at(&r, 0), r)).collect();
    // Credits rows add up to the totals, per member, ledger and source.
    let credits = store
        .query(
            "SELECT member, ledger_index, source, amount_wad::text FROM credits WHERE withheld = 0",
            vec![],
        )
        .await
        .expect("credits");
    let mut summed: BTreeMap<(String, i64, String), u128> = BTreeMap::new();
    for r in &credits {
        *summed
            .entry((text_at(r, 0), int(r, 1), text_at(r, 2)))
            .or_default() += wad(r, 3);
    }
    let (mut member_count, mut ledger_count) = (0, 0);
    for s in &snapshots {
        match s.kind.as_str() {
            "member" => {
                let m = Member::try_deserialize(&mut s.data.as_slice()).expect("member");
                let address = s.address.to_string();
                let row = members
                    .get(&address)
                    .unwrap_or_else(|| panic!("{address} has a members row"));
                assert_eq!(text_at(row, 1), m.wallet.to_string());
                assert_eq!(int(row, 2), i64::from(m.class));
                let referrer = (m.referrer != Pubkey::default()).then(|| m.referrer.to_string());
                assert_eq!(
                    row.get(3).and_then(Cell::text).map(str::to_string),
                    referrer,
                    "{address} referrer"
                );
                for level in 0..3 {
                    assert_eq!(
                        int(row, 4 + level),
                        i64::from(m.downline[level]),
                        "{address} downline level {}",
                        level + 1
                    );
                }
                for (index, slot) in m.ledgers.iter().enumerate() {
                    let index = index as i64;
                    let sources = [
                        slot.own.0,
                        slot.level1.0,
                        slot.level2.0,
                        slot.level3.0,
                        slot.bonus.0,
                        slot.withdrawn.0,
                    ];
                    let Some(t) = totals.get(&(address.clone(), index)) else {
                        assert!(
                            sources.iter().all(|v| *v == 0),
                            "{address} ledger {index}: on chain {sources:?}, no totals row"
                        );
                        continue;
                    };
                    let got: Vec<u128> = (2..8).map(|i| wad(t, i)).collect();
                    assert_eq!(
                        got,
                        sources.to_vec(),
                        "{address} ledger {index}: own, l1, l2, l3, bonus, withdrawn"
                    );
                    assert_eq!(
                        wad(t, 8),
                        slot.balance().expect("balance").0,
                        "{address} balance"
                    );
                    assert_eq!(
                        wad(t, 9),
                        sources[1] + sources[2] + sources[3] + sources[4],
                        "{address} referral"
                    );
                    for (source, value) in ["work", "level1", "level2", "level3", "bonus"]
                        .iter()
                        .zip(sources)
                    {
                        let sum = summed
                            .get(&(address.clone(), index, source.to_string()))
                            .copied()
                            .unwrap_or(0);
                        assert_eq!(
                            sum, value,
                            "{address} ledger {index} {source}: credits rows"
                        );
                    }
                }
                member_count += 1;
            }
            "ledger" => {
                let l = Ledger::try_deserialize(&mut s.data.as_slice()).expect("ledger");
                let rows = store
                    .query("SELECT funded_base::text, paid_out_base::text, min_withdrawal_base::text FROM ledgers WHERE network = $1 AND ledger_index = $2", vec![l.network.to_string().into(), i64::from(l.index).into()])
                    .await
                    .expect("ledger row");
                let row = rows.first().expect("a ledgers row");
                assert_eq!(
                    (wad(row, 0), wad(row, 1), wad(row, 2)),
                    (l.funded, l.withdrawn, u128::from(l.min_withdrawal)),
                    "ledger {}",
                    s.address
                );
                ledger_count += 1;
            }
            "network" => {
                let n = Network::try_deserialize(&mut s.data.as_slice()).expect("network");
                let rows = store
                    .query(
                        "SELECT members, paused, admin, tables_version, reward_tables_version FROM networks WHERE address = $1",
                        vec![s.address.to_string().into()],
                    )
                    .await
                    .expect("network row");
                let row = rows.first().expect("a networks row");
                assert_eq!(
                    int(row, 0),
                    i64::from(n.member_count),
                    "network {} members",
                    s.address
                );
                assert_eq!(int(row, 1) != 0, n.paused);
                assert_eq!(text_at(row, 2), n.admin.to_string());
                assert_eq!(
                    int(row, 3),
                    i64::from(n.tables_version),
                    "network {} tables version",
                    s.address
                );
                let rewards = snapshots
                    .iter()
                    .find(|r| r.kind == "reward_tables" && r.network == s.address);
                if let Some(r) = rewards {
                    let tables = RewardTables::try_deserialize(&mut r.data.as_slice())
                        .expect("reward tables");
                    assert_eq!(
                        int(row, 4),
                        i64::from(tables.version),
                        "network {} reward tables version",
                        s.address
                    );
                }
            }
            _ => {}
        }
    }
    (member_count, ledger_count)
}

/// Index `fetched` into `store` in batches of `size`, then snapshot.
async fn index_in_batches(
    store: &Store,
    chain: &mut upline_sdk::sandbox::Chain,
    fetched: &[Fetched],
    size: usize,
) {
    for batch in fetched.chunks(size) {
        index::record(store, "test", batch).await.expect("record");
    }
    let slot = chain.slot;
    index::snapshot(store, chain, slot).await.expect("snapshot");
}

async fn stores(name: &str) -> Vec<(String, Store)> {
    let dir = std::env::temp_dir().join(format!("upline-tables-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut out = Vec::new();
    for label in ["one batch", "batches of 7"] {
        let file = dir.join(format!("{}.sqlite", label.replace(' ', "-")));
        let _ = std::fs::remove_file(&file);
        out.push((
            format!("sqlite, {label}"),
            Store::open(file.to_str().expect("path"))
                .await
                .expect("sqlite"),
        ));
    }
    if let Some(url) = common::pg::postgres_url() {
        let store =
            common::pg::fresh_postgres(&url, &format!("tables_{}", name.to_lowercase())).await;
        out.push(("postgresql, batches of 7".to_string(), store));
    }
    out
}

#[tokio::test]
async fn typed_tables_equal_the_accounts_on_every_demo_network() {
    let scenarios = upline_cli::demo::scenarios().expect("demo scenarios");
    for demo in scenarios.iter().filter(|d| !d.title.contains("7,800")) {
        let (mut world, _) = simulate_world(&demo.scenario).await.expect("runs");
        let fetched = from_journal(&world.chain.journal);
        let mut dumps = Vec::new();
        for (label, store) in stores(
            &demo
                .title
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(12)
                .collect::<String>(),
        )
        .await
        {
            let size = if label.contains("one batch") {
                fetched.len().max(1)
            } else {
                7
            };
            index_in_batches(&store, &mut world.chain, &fetched, size).await;
            let (members, ledgers) = hold_to_accounts(&store).await;
            println!("{}: {label}: {} transactions, {members} members and {ledgers} ledgers held to their accounts", demo.title, fetched.len());
            assert!(members > 0, "{}: members compared", demo.title);
            dumps.push((label, common::index_dump(&store).await));
        }
        let (first_label, first) = &dumps[0];
        for (label, other) in &dumps[1..] {
            assert_eq!(
                first.len(),
                other.len(),
                "{}: {label} against {first_label}",
                demo.title
            );
            for (a, b) in first.iter().zip(other) {
                assert_eq!(a, b, "{}: {label} against {first_label}", demo.title);
            }
        }
    }
}

#[tokio::test]
async fn an_index_from_before_the_typed_tables_gets_them_at_open() {
    let demo = upline_cli::demo::scenarios()
        .expect("demo scenarios")
        .into_iter()
        .find(|d| d.title.to_lowercase().contains("clore"))
        .expect("the Clore demo");
    let (mut world, _) = simulate_world(&demo.scenario).await.expect("runs");
    let fetched = from_journal(&world.chain.journal);
    let dir = std::env::temp_dir().join(format!("upline-tables-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("index.sqlite");
    let _ = std::fs::remove_file(&file);
    let path = file.to_str().expect("path").to_string();
    let store = Store::open(&path).await.expect("open");
    index_in_batches(&store, &mut world.chain, &fetched, 50).await;
    let expected = common::index_dump(&store).await;
    // As an index at schema version 2 would be: events, no typed tables.
    store
        .execute("DELETE FROM schema_migrations WHERE version = 3", vec![])
        .await
        .expect("unrecord");
    for table in [
        "networks",
        "ledgers",
        "members",
        "member_totals",
        "credits",
        "contributions",
        "reports",
        "withdrawals",
        "fundings",
        "tables_versions",
        "audit_checkpoints",
        "audit_members",
    ] {
        store
            .execute(&format!("DROP TABLE {table}"), vec![])
            .await
            .expect("drop");
    }
    for index in ["events_by_position", "accounts_by_kind"] {
        store
            .execute(&format!("DROP INDEX {index}"), vec![])
            .await
            .expect("drop index");
    }
    drop(store);
    let reopened = Store::open(&path)
        .await
        .expect("reopen migrates and projects");
    assert_eq!(reopened.schema_version().await.expect("version"), 3);
    let rebuilt = common::index_dump(&reopened).await;
    assert!(
        rebuilt.iter().any(|l| l.starts_with("credits: ")),
        "credits were rebuilt"
    );
    assert_eq!(rebuilt, expected);
}

#[test]
fn amounts_never_pass_through_floats() {
    // A balance beyond 2^63 and beyond f64's 53-bit mantissa survives the
    // typed tables exactly (SQLite keeps it as text).
    let amount: u128 = 123_456_789_012_345_678_901_234_567_891;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = Store::open(":memory:").await.expect("open");
        store
            .execute(
                "INSERT INTO contributions (member, origin, ledger_index, amount_wad) VALUES ($1, $2, $3, $4::text::numeric)",
                vec!["m".into(), "o".into(), 0.into(), amount.to_string().into()],
            )
            .await
            .expect("insert");
        let rows = store
            .query("SELECT amount_wad::text FROM contributions", vec![])
            .await
            .expect("read");
        assert_eq!(wad(&rows[0], 0), amount);
        let _ = Pubkey::from_str("11111111111111111111111111111111").expect("key");
    });
}
