//! The audit on a large generated network (20,000 members by default, to
//! keep CI's debug build quick; `UPLINE_AUDIT_SCALE_MEMBERS=100000` for the
//! size `upline bench` measures): a full audit leaves a
//! checkpoint, and one new transaction is then audited from it. Prints what
//! the checkpoint weighs and what each step takes (figures, not assertions:
//! speed belongs in `upline bench`), and asserts the resumed verdict is the
//! full one.

use super::{audit, audit_incremental, save};
use crate::store::{Cell, Store};
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountSerialize, Event};
use base64::Engine;
use std::time::Instant;
use upline::events::{MemberJoined, NetworkCreated, ReferrerLinked};
use upline::state::{Member, MemberFlags, NetworkTables};

/// One generated member.
struct Generated {
    account: Pubkey,
    wallet: Pubkey,
    referrer: Option<usize>,
    referees: u32,
    downline: [u32; 3],
}

/// A small deterministic generator (xorshift64*), seeded per run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
    }
}

const CLASS: u8 = 1;

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Multi-row INSERTs of `rows` (each `width` cells) into `head` ("INSERT INTO t (a, b)").
async fn insert(store: &Store, head: &str, width: usize, rows: Vec<Vec<Cell>>) {
    let mut statements: Vec<(String, Vec<Cell>)> = Vec::new();
    for chunk in rows.chunks(200) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let cells: Vec<String> =
                    (1..=width).map(|c| format!("${}", r * width + c)).collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        let sql = format!("{head} VALUES {}", values.join(", "));
        statements.push((sql, chunk.concat()));
    }
    let batch: Vec<(&str, Vec<Cell>)> = statements
        .iter()
        .map(|(sql, params)| (sql.as_str(), params.clone()))
        .collect();
    store.atomically(&batch).await.expect("insert");
}

fn event_row(
    network: &Pubkey,
    (position, ordinal): (i64, i64),
    kind: &str,
    member: Option<Pubkey>,
    data: Vec<u8>,
) -> Vec<Cell> {
    vec![
        format!("tx{position}").into(),
        ordinal.into(),
        position.into(),
        position.into(),
        network.to_string().into(),
        kind.into(),
        member.map(|m| m.to_string()).into(),
        b64(&data).into(),
    ]
}

const EVENTS: &str =
    "INSERT INTO events (signature, ordinal, position, block_time, network, kind, member, data)";
const ACCOUNTS: &str = "INSERT INTO accounts (address, kind, network, slot, data)";

/// The join (and link, under `referrer`) of member `i` as event rows.
fn join(network: &Pubkey, members: &mut [Generated], i: usize, position: i64) -> Vec<Vec<Cell>> {
    let (account, wallet) = (members[i].account, members[i].wallet);
    let joined = MemberJoined {
        network: *network,
        member: account,
        wallet,
        class: CLASS,
        join_ordinal: i as u32 + 1,
        early_member: false,
        ledger_slots: 0,
        at: position,
    };
    let mut rows = vec![event_row(
        network,
        (position, 0),
        "MemberJoined",
        Some(account),
        joined.data(),
    )];
    let Some(referrer) = members[i].referrer else {
        return rows;
    };
    members[referrer].referees += 1;
    let up = |at: Option<usize>| at.and_then(|a| members[a].referrer);
    let (up2, up3) = (up(Some(referrer)), up(up(Some(referrer))));
    let key = |at: Option<usize>| at.map_or(Pubkey::default(), |a| members[a].account);
    let linked = ReferrerLinked {
        network: *network,
        member: account,
        wallet,
        class: CLASS,
        referrer: members[referrer].account,
        referrer_wallet: members[referrer].wallet,
        referrer_class: CLASS,
        upline2: key(up2),
        upline3: key(up3),
        referee_ordinal: members[referrer].referees,
        early_class_ordinal: 0,
        early_referee: false,
        at: position,
    };
    for (level, at) in [Some(referrer), up2, up3].into_iter().enumerate() {
        if let Some(at) = at {
            members[at].downline[level] += 1;
        }
    }
    rows.push(event_row(
        network,
        (position, 1),
        "ReferrerLinked",
        Some(account),
        linked.data(),
    ));
    rows
}

fn snapshot(network: &Pubkey, members: &[Generated], i: usize) -> Vec<Cell> {
    let m = &members[i];
    let mut account = Member::new(*network, m.wallet, 255, CLASS, MemberFlags(0), 0);
    account.referrer = m.referrer.map_or(Pubkey::default(), |r| members[r].account);
    account.downline = m.downline;
    let mut data = Vec::new();
    account.try_serialize(&mut data).expect("serialize");
    vec![
        m.account.to_string().into(),
        "member".into(),
        network.to_string().into(),
        1.into(),
        b64(&data).into(),
    ]
}

fn ms(since: Instant) -> String {
    format!("{:.0} ms", since.elapsed().as_secs_f64() * 1000.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_new_transaction_on_a_large_network_is_audited_from_the_checkpoint() {
    let count: usize = std::env::var("UPLINE_AUDIT_SCALE_MEMBERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    eprintln!("audit at scale: {count} members, seed {seed}");
    let mut rng = Rng(seed);
    let dir = std::env::temp_dir().join(format!("upline-audit-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("index.sqlite");
    let _ = std::fs::remove_file(&file);
    let store = Store::open(file.to_str().expect("utf-8"))
        .await
        .expect("open");

    let network = Pubkey::new_unique();
    let mut members: Vec<Generated> = (0..=count)
        .map(|i| Generated {
            account: Pubkey::new_unique(),
            wallet: Pubkey::new_unique(),
            referrer: (i > 0).then(|| rng.below(i)),
            referees: 0,
            downline: [0; 3],
        })
        .collect();
    let created = NetworkCreated {
        network,
        creator: Pubkey::new_unique(),
        admin: Pubkey::new_unique(),
        name: [0; 32],
        tables: NetworkTables::default(),
        created_at: 0,
    };
    let started = Instant::now();
    let mut rows = vec![event_row(
        &network,
        (1, 0),
        "NetworkCreated",
        None,
        created.data(),
    )];
    for i in 0..count {
        rows.extend(join(&network, &mut members, i, i as i64 + 2));
    }
    insert(&store, EVENTS, 8, rows).await;
    let snapshots = (0..count)
        .map(|i| snapshot(&network, &members, i))
        .collect();
    insert(&store, ACCOUNTS, 5, snapshots).await;
    eprintln!(
        "  generated and stored {count} joins and links: {}",
        ms(started)
    );

    let started = Instant::now();
    let full = audit(&store).await.expect("full audit");
    eprintln!("  full audit ({} events): {}", full.events, ms(started));
    assert!(full.passed(), "{}", full.render());
    let pending = &full.pending[0];
    let member_bytes: usize = pending.rows.iter().map(|(k, s)| k.len() + s.len()).sum();
    eprintln!(
        "  checkpoint: network state {} bytes, {} member rows, {:.1} MB of member rows (base64)",
        pending.state.len(),
        pending.rows.len(),
        member_bytes as f64 / 1e6
    );
    let started = Instant::now();
    for (_, state) in &pending.rows {
        let row: Option<super::replay::state::MemberRow> = super::replay::state::decode(state);
        assert!(row.is_some());
    }
    eprintln!("  decoding every member row in memory: {}", ms(started));
    let started = Instant::now();
    save(&store, &full, 1).await.expect("save");
    eprintln!(
        "  saving the full audit with its checkpoint: {}",
        ms(started)
    );

    // One new transaction: a member joins under a random one.
    let started = Instant::now();
    members[count].referrer = Some(rng.below(count));
    let position = count as i64 + 2;
    insert(
        &store,
        EVENTS,
        8,
        join(&network, &mut members, count, position),
    )
    .await;
    let mut touched = vec![count];
    let mut at = members[count].referrer;
    while let (Some(up), true) = (at, touched.len() < 4) {
        touched.push(up);
        at = members[up].referrer;
    }
    for i in touched {
        let row = snapshot(&network, &members, i);
        store
            .execute(
                "INSERT INTO accounts (address, kind, network, slot, data) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (address) DO UPDATE SET data = excluded.data",
                row,
            )
            .await
            .expect("snapshot");
    }
    eprintln!("  indexing the new transaction (by hand): {}", ms(started));

    let started = Instant::now();
    let resumed = audit_incremental(&store).await.expect("incremental audit");
    let audited = started.elapsed();
    save(&store, &resumed, 2).await.expect("save");
    eprintln!(
        "  incremental audit of it: {:.0} ms, with saving: {} ({} events replayed, {} member rows written)",
        audited.as_secs_f64() * 1000.0,
        ms(started),
        resumed.replayed_events,
        resumed.pending.first().map_or(0, |p| p.rows.len())
    );
    assert_eq!(resumed.replayed_events, 2);
    let full = audit(&store).await.expect("full audit");
    assert_eq!(resumed.to_json(), full.to_json());
    assert!(resumed.passed(), "{}", resumed.render());
    let _ = std::fs::remove_dir_all(&dir);
}
