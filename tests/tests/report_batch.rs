//! `report_batch`: compute and usage reports under one approval, as the
//! oracle's v0 sender packs them. A batch must record each report exactly as
//! its single instruction would, refuse what the single instructions refuse,
//! and carry at least 20 reports with separate full uplines in one v0
//! transaction.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{InstructionData, ToAccountMetas};
use solana_keypair::Keypair;
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use upline::errors::UplineError;
use upline::instructions::{BatchedReport, BatchedWork, ReportBatchArgs};
use upline::state::{Endpoint, Member, Service};
use upline_sdk::events::UplineEvent;
use upline_sdk::{ix, lookup, pda};
use upline_tests::reports::{compute, usage};
use upline_tests::Expect;
use upline_tests::{Chain, TestNetwork};

const PACKET_DATA_SIZE: usize = 1232;
const PROVIDER: u8 = 1;
const USER: u8 = 0;
const MODEL: &str = "llama3-70b";

/// Four members of `class` linked in a line; the bottom one (last) has a
/// full three-level upline. Providers are attested.
async fn line_of_four(chain: &mut Chain, net: &TestNetwork, class: u8) -> Vec<Keypair> {
    let mut line: Vec<Keypair> = Vec::new();
    for _ in 0..4 {
        let upline: Vec<&Keypair> = line.iter().rev().take(3).collect();
        let wallet = net.join(chain, class, &upline).await;
        if class == PROVIDER {
            net.attest_provider(chain, &wallet.pubkey(), 24).await;
        }
        line.push(wallet);
    }
    line
}

/// The accounts `instructions` write.
fn writable(instructions: &[Instruction]) -> Vec<Pubkey> {
    instructions
        .iter()
        .flat_map(|ix| {
            ix.accounts
                .iter()
                .filter(|m| m.is_writable)
                .map(|m| m.pubkey)
        })
        .collect()
}

/// What a member has earned, per ledger and source.
fn earned(member: &Member) -> Vec<[u128; 5]> {
    member
        .ledgers
        .iter()
        .map(|l| [l.own.0, l.level1.0, l.level2.0, l.level3.0, l.bonus.0])
        .collect()
}

/// The amounts an event credited, in order: reward, then each commission.
fn credited(events: &[UplineEvent]) -> Vec<Vec<u128>> {
    events
        .iter()
        .filter_map(|event| match event {
            UplineEvent::ComputeReported(e) => Some(
                std::iter::once(e.reward.0)
                    .chain(e.commissions.iter().map(|c| c.amount.0))
                    .collect(),
            ),
            UplineEvent::UsageReported(e) => Some(
                std::iter::once(e.points.0)
                    .chain(e.commissions.iter().map(|c| c.amount.0))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// One network's members and the reports about them, built the same way on
/// every network: two provider lines, a user line, and reports where an
/// earner of the batch is also an upline of another report in it.
struct Case {
    members: Vec<Pubkey>,
    reports: Vec<Instruction>,
}

async fn case(chain: &mut Chain, net: &TestNetwork) -> Case {
    let first = line_of_four(chain, net, PROVIDER).await;
    let second = line_of_four(chain, net, PROVIDER).await;
    let users = line_of_four(chain, net, USER).await;
    let mut reports = Vec::new();
    let worked = |service| compute(1, service, 1_000, 5_000);
    reports.push(
        net.compute_ix(chain, &first[3].pubkey(), MODEL, worked(Service::Chat))
            .await,
    );
    let again = compute(2, Service::Tts, 250, 20_000);
    reports.push(
        net.compute_ix(chain, &first[3].pubkey(), "llama3-8b", again)
            .await,
    );
    reports.push(
        net.usage_ix(chain, &users[3].pubkey(), usage(1, Endpoint::Chat, 400))
            .await,
    );
    // first[2] is first[3]'s referrer: credited as an upline, then as an earner.
    reports.push(
        net.compute_ix(
            chain,
            &first[2].pubkey(),
            MODEL,
            worked(Service::Embeddings),
        )
        .await,
    );
    reports.push(
        net.compute_ix(chain, &second[3].pubkey(), MODEL, worked(Service::Scrape))
            .await,
    );
    reports.push(
        net.usage_ix(chain, &users[2].pubkey(), usage(1, Endpoint::Tts, 90))
            .await,
    );
    let members = first
        .iter()
        .chain(&second)
        .chain(&users)
        .map(|w| net.member(&w.pubkey()))
        .collect();
    Case { members, reports }
}

#[tokio::test]
async fn a_batch_records_each_report_as_its_single_instruction_would() {
    let mut chain = Chain::start().await;
    let singles_net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let batch_net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let singles = case(&mut chain, &singles_net).await;
    let batched = case(&mut chain, &batch_net).await;

    let mut single_events = Vec::new();
    for report in &singles.reports {
        let events = singles_net
            .as_oracle(&mut chain, std::slice::from_ref(report))
            .await;
        single_events.extend(events.expect("a single report"));
    }
    let coalesced = ix::coalesce(&batched.reports);
    assert_eq!(
        coalesced.len(),
        1,
        "six reports under one oracle make one batch"
    );
    assert_eq!(ix::batch::reports_per_instruction(&coalesced), vec![6]);
    let batch_events = batch_net
        .as_oracle(&mut chain, &coalesced)
        .await
        .expect("the batch");

    let (expected, got) = (credited(&single_events), credited(&batch_events));
    println!(
        "{} reports, credits per report: {expected:?}",
        expected.len()
    );
    assert_eq!(got.len(), 6);
    assert_eq!(
        got, expected,
        "the batch credits what the single reports credit"
    );
    for (a, b) in singles.members.iter().zip(&batched.members) {
        let (a, b) = (
            singles_net.member_at(&mut chain, a).await,
            batch_net.member_at(&mut chain, b).await,
        );
        assert_eq!(earned(&b), earned(&a));
        assert_eq!(b.last_report_id, a.last_report_id);
    }
    // A replayed batch is refused like a replayed report, and changes nothing.
    let oracle = batch_net.oracle.insecure_clone();
    let watched = writable(&coalesced);
    chain
        .expect_refusal(&coalesced, &[&oracle], UplineError::StaleReport, &watched)
        .await;
}

/// A `report_batch` with `args` and the remaining accounts `rest`, signed by `net`'s oracle.
fn raw_batch(net: &TestNetwork, args: ReportBatchArgs, rest: &[Pubkey]) -> Instruction {
    let mut ix = Instruction {
        program_id: upline::ID,
        accounts: upline::accounts::ReportBatch {
            oracle: upline::accounts::OracleContext {
                oracle_authority: net.oracle.pubkey(),
                oracle: pda::oracle(&net.key, &net.oracle.pubkey()),
                network: net.key,
                reward_tables: pda::reward_tables(&net.key),
            },
            event_authority: pda::event_authority(),
            program: upline::ID,
        }
        .to_account_metas(None),
        data: upline::instruction::ReportBatch { args }.data(),
    };
    ix.accounts.extend(
        rest.iter()
            .map(|k| anchor_lang::solana_program::instruction::AccountMeta::new(*k, false)),
    );
    ix
}

fn usage_entry(id: u64, work_time: i64, upline_levels: u8) -> BatchedReport {
    BatchedReport {
        id,
        work_time,
        upline_levels,
        work: BatchedWork::Usage {
            endpoint: Endpoint::Chat,
            tokens: 10,
        },
    }
}

#[tokio::test]
async fn a_batch_refuses_by_name_and_changes_nothing() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let users = line_of_four(&mut chain, &net, USER).await;
    let providers = line_of_four(&mut chain, &net, PROVIDER).await;
    let members: Vec<Pubkey> = users.iter().map(|w| net.member(&w.pubkey())).collect();
    let (bottom, upline) = (members[3], [members[2], members[1], members[0]]);
    let oracle = net.oracle.insecure_clone();
    let now = chain.now;
    let mut watched = members.clone();
    watched.push(pda::oracle(&net.key, &oracle.pubkey()));
    let chain_of = |levels: usize| {
        let mut keys = vec![bottom];
        keys.extend(&upline[..levels]);
        keys
    };

    let empty = ReportBatchArgs {
        models: 0,
        reports: vec![],
    };
    let ixs = [raw_batch(&net, empty, &[])];
    chain
        .expect_refusal(&ixs, &[&oracle], UplineError::EmptyBatch, &watched)
        .await;

    // Fewer accounts than the reports name.
    let short = ReportBatchArgs {
        models: 0,
        reports: vec![usage_entry(1, now, 3)],
    };
    let ixs = [raw_batch(&net, short, &chain_of(2))];
    let mismatch = UplineError::BatchAccountsMismatch;
    chain
        .expect_refusal(&ixs, &[&oracle], mismatch, &watched)
        .await;

    // More upline levels than any chain pays.
    let deep = ReportBatchArgs {
        models: 0,
        reports: vec![usage_entry(1, now, 4)],
    };
    let mut keys = chain_of(3);
    keys.push(members[0]);
    let ixs = [raw_batch(&net, deep, &keys)];
    chain
        .expect_refusal(&ixs, &[&oracle], mismatch, &watched)
        .await;

    // A compute report naming a model the batch does not carry.
    let provider = net.member(&providers[3].pubkey());
    let unnamed_model = ReportBatchArgs {
        models: 0,
        reports: vec![BatchedReport {
            id: 1,
            work_time: now,
            upline_levels: 0,
            work: BatchedWork::Compute {
                model: 0,
                service: Service::Chat,
                tokens: 1,
                latency_ms: 1,
            },
        }],
    };
    let ixs = [raw_batch(&net, unnamed_model.clone(), &[provider])];
    chain
        .expect_refusal(&ixs, &[&oracle], mismatch, &watched)
        .await;

    // A member account passed as the model.
    let mut as_model = unnamed_model;
    as_model.models = 1;
    let ixs = [raw_batch(&net, as_model, &[bottom, provider])];
    let invalid = UplineError::InvalidModel;
    chain
        .expect_refusal(&ixs, &[&oracle], invalid, &watched)
        .await;

    // A stranger cannot sign a batch.
    let stranger = chain.wallet().await;
    let mut forged = raw_batch(
        &net,
        ReportBatchArgs {
            models: 0,
            reports: vec![usage_entry(1, now, 3)],
        },
        &chain_of(3),
    );
    forged.accounts[0].pubkey = stranger.pubkey();
    forged.accounts[1].pubkey = pda::oracle(&net.key, &stranger.pubkey());
    let ixs = [forged];
    chain
        .expect_refusal(&ixs, &[&stranger], UplineError::NotOracle, &watched)
        .await;

    // The wrong upline for the report: the levels are checked against the stored links.
    let wrong = ReportBatchArgs {
        models: 0,
        reports: vec![usage_entry(1, now, 3)],
    };
    let ixs = [raw_batch(
        &net,
        wrong,
        &[bottom, upline[1], upline[0], upline[2]],
    )];
    let mismatched = UplineError::UplineMismatch;
    chain
        .expect_refusal(&ixs, &[&oracle], mismatched, &watched)
        .await;

    // One bad report (a stale id, after a good one) fails the whole batch.
    let good = net
        .usage_ix(&mut chain, &users[3].pubkey(), usage(5, Endpoint::Chat, 10))
        .await;
    let stale = net
        .usage_ix(&mut chain, &users[2].pubkey(), usage(0, Endpoint::Chat, 10))
        .await;
    let ixs = ix::coalesce(&[good.clone(), stale]);
    assert_eq!(ixs.len(), 1);
    let stale_report = UplineError::StaleReport;
    chain
        .expect_refusal(&ixs, &[&oracle], stale_report, &watched)
        .await;

    // And the good one alone, batched with a second report about the same member, lands.
    let later = net
        .usage_ix(&mut chain, &users[3].pubkey(), usage(6, Endpoint::Chat, 10))
        .await;
    let ixs = ix::coalesce(&[good, later]);
    let events = net
        .as_oracle(&mut chain, &ixs)
        .await
        .expect("two reports about one member");
    assert_eq!(credited(&events).len(), 2);
    let recorded = net.member_at(&mut chain, &bottom).await;
    assert_eq!(recorded.last_report_id, 6);
}

/// Reports that share no account but the network's, each about the bottom of
/// its own full upline, packed into one v0 transaction whose lookup table
/// holds every account: how many fit, and that the transaction lands.
#[tokio::test]
async fn at_least_twenty_full_upline_reports_fit_one_v0_transaction() {
    let mut chain = Chain::start().await;
    let net = TestNetwork::from_preset(&mut chain, "cxmpute").await;
    let oracle = net.oracle.insecure_clone();
    let payer = oracle.pubkey();
    let mut singles = Vec::new();
    for _ in 0..26 {
        let line = line_of_four(&mut chain, &net, PROVIDER).await;
        let args = compute(1, Service::Chat, 1_000, 5_000);
        singles.push(
            net.compute_ix(&mut chain, &line[3].pubkey(), MODEL, args)
                .await,
        );
    }
    let mut addresses: Vec<Pubkey> = Vec::new();
    for meta in singles.iter().flat_map(|ix| &ix.accounts) {
        if !meta.is_signer && meta.pubkey != upline::ID && !addresses.contains(&meta.pubkey) {
            addresses.push(meta.pubkey);
        }
    }
    let table = lookup_table(&mut chain, &addresses).await;
    let tables = [AddressLookupTableAccount {
        key: table,
        addresses,
    }];
    let size = |instructions: &[Instruction]| {
        let message = v0::Message::try_compile(&payer, instructions, &tables, Default::default())
            .expect("compile");
        let tx = VersionedTransaction {
            signatures: vec![Default::default(); 1],
            message: VersionedMessage::V0(message),
        };
        bincode_size(&tx)
    };
    let (mut fit, mut fit_bytes, mut unbatched) = (0, 0, 0);
    for n in 1..=singles.len() {
        if size(&singles[..n]) <= PACKET_DATA_SIZE {
            unbatched = n;
        }
        let bytes = size(&ix::coalesce(&singles[..n]));
        if bytes <= PACKET_DATA_SIZE {
            (fit, fit_bytes) = (n, bytes);
        }
    }
    println!(
        "v0 with a lookup table: {fit} full-upline compute reports per batch ({fit_bytes} bytes), \
         {unbatched} as single instructions"
    );
    assert!(fit >= 20, "only {fit} reports fit one v0 transaction");
    assert!(fit > unbatched);

    let batch = ix::coalesce(&singles[..fit]);
    let message = v0::Message::try_compile(&payer, &batch, &tables, chain.ctx.last_blockhash)
        .expect("compile");
    let tx =
        VersionedTransaction::try_new(VersionedMessage::V0(message), &[&oracle]).expect("sign");
    let simulated = chain.simulate(&tx).await.expect("simulate");
    assert_eq!(simulated.err, None, "{:?}", simulated.logs);
    chain
        .commit(tx, simulated)
        .await
        .expect("commit")
        .expect("landed");
    for single in &singles[..fit] {
        let member = net.member_at(&mut chain, &single.accounts[4].pubkey).await;
        assert_eq!(
            member.last_report_id, 1,
            "every report of the batch is recorded"
        );
    }
}

fn bincode_size(tx: &VersionedTransaction) -> usize {
    let signatures = tx.signatures.len();
    1 + 64 * signatures + tx.message.serialize().len()
}

/// A lookup table holding `addresses`, created and extended by the chain's
/// payer, and active (the clock moved past its creation slot).
async fn lookup_table(chain: &mut Chain, addresses: &[Pubkey]) -> Pubkey {
    let payer = chain.payer();
    let hashes = chain.data(&lookup::SLOT_HASHES).await.expect("SlotHashes");
    let slot = lookup::recent_slot(&hashes).expect("a recent slot");
    let (create, table) = lookup::create(&payer.pubkey(), &payer.pubkey(), slot);
    chain
        .send_quiet(&[create], &[])
        .await
        .expect("create the table");
    for part in addresses.chunks(20) {
        let extend = lookup::extend(&table, &payer.pubkey(), &payer.pubkey(), part);
        chain
            .send_quiet(&[extend], &[])
            .await
            .expect("extend the table");
    }
    let now = chain.now;
    chain.warp_to(now).await;
    table
}
