//! What Upline costs in bytes: accounts and their rent, report transactions
//! and how many fit one legacy or one v0 transaction, and what each report
//! write-locks.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;
use upline::instructions::{
    BandwidthReportArgs, ComputeReportArgs, RentalReportArgs, UsageReportArgs,
};
use upline::math::Ppm;
use upline::state::{
    label, Device, Endpoint, Ledger, Member, Model, Network, Oracle, RewardTables, Service, Subnet,
};
use upline_sdk::client::Cluster;
use upline_sdk::ix::{self, RentalParties};
use upline_sdk::pda;
use upline_sdk::preset::Preset;
use upline_sdk::sandbox::{Chain, SandboxNetwork};

/// Solana's packet limit: the most a transaction may take on the wire.
pub const PACKET_DATA_SIZE: usize = 1232;

/// Bytes on the wire of `message` signed by `signers` signatures.
fn wire(message: VersionedMessage) -> usize {
    let signatures = usize::from(message.header().num_required_signatures);
    let tx = VersionedTransaction {
        signatures: vec![Default::default(); signatures],
        message,
    };
    bincode::serialize(&tx).map_or(usize::MAX, |b| b.len())
}

pub(super) fn legacy_bytes(instructions: &[Instruction], payer: &Pubkey) -> usize {
    let tx = Transaction::new_with_payer(instructions, Some(payer));
    wire(VersionedMessage::Legacy(tx.message))
}

pub(super) fn v0_bytes(
    instructions: &[Instruction],
    payer: &Pubkey,
    table: &AddressLookupTableAccount,
) -> usize {
    match v0::Message::try_compile(
        payer,
        instructions,
        std::slice::from_ref(table),
        Default::default(),
    ) {
        Ok(message) => wire(VersionedMessage::V0(message)),
        Err(_) => usize::MAX,
    }
}

/// Accounts by kind: bytes and rent-exempt lamports on the sandbox's bank.
pub async fn accounts(chain: &mut Chain) -> Result<Vec<Value>, String> {
    let vault = 165; // an SPL Token account (Token-2022 without extensions: the same)
    let kinds: [(&str, usize); 10] = [
        ("network", Network::SPACE),
        ("ledger", Ledger::SPACE),
        ("member, 1 ledger", Member::space(1)),
        ("member, 2 ledgers", Member::space(2)),
        ("member, 4 ledgers", Member::space(4)),
        ("vault (token account)", vault),
        ("reward tables", RewardTables::SPACE),
        ("oracle", Oracle::SPACE),
        ("model", Model::SPACE),
        ("device (Aether node)", Device::SPACE),
    ];
    let mut out = Vec::new();
    for (kind, bytes) in kinds.into_iter().chain([("subnet", Subnet::SPACE)]) {
        let rent = chain.rent_exempt(bytes).await.map_err(|e| e.to_string())?;
        out.push(json!({"kind": kind, "bytes": bytes, "rent_lamports": rent}));
    }
    Ok(out)
}

/// A new member of `net` in `class`, under `upline` (member accounts,
/// nearest first): its member account.
async fn member(
    chain: &mut Chain,
    net: &SandboxNetwork,
    class: u8,
    upline: &[Pubkey],
) -> Result<Pubkey, String> {
    let wallet = Keypair::new();
    let payer = chain.payer();
    let ix = ix::join(&wallet.pubkey(), &payer.pubkey(), &net.key, class, upline);
    chain
        .send_quiet(&[ix], &[&wallet])
        .await
        .map_err(|e| format!("join: {e}"))?;
    Ok(net.member(&wallet.pubkey(), class))
}

/// A member at the bottom of a fresh three-level upline: (bottom, [l1, l2,
/// l3]), member accounts.
pub(super) async fn chain_of_four(
    chain: &mut Chain,
    net: &SandboxNetwork,
    class: u8,
) -> Result<(Pubkey, Vec<Pubkey>), String> {
    let mut above: Vec<Pubkey> = Vec::new();
    for _ in 0..3 {
        let m = member(chain, net, class, &above).await?;
        above.insert(0, m);
    }
    let bottom = member(chain, net, class, &above).await?;
    Ok((bottom, above))
}

pub(super) fn class(preset: &Preset, name: &str) -> Result<u8, String> {
    preset
        .class_index(name)
        .ok_or_else(|| format!("the {} preset has no class {name}", preset.name))
}

pub(super) async fn network(
    chain: &mut Chain,
    name: &str,
) -> Result<(Preset, SandboxNetwork), String> {
    let preset = Preset::builtin(name).map_err(|e| e.to_string())?;
    let net = SandboxNetwork::from_preset(chain, &preset)
        .await
        .map_err(|e| e.to_string())?;
    Ok((preset, net))
}

/// Work time of the reports measured: the sandbox's start (only their size
/// matters; a work time is 8 bytes whatever its value).
const WORK_TIME: i64 = upline_sdk::sandbox::START;

pub(super) fn compute_args(id: u64) -> ComputeReportArgs {
    ComputeReportArgs {
        id,
        work_time: WORK_TIME,
        service: Service::Chat,
        tokens: 1_000,
        latency_ms: 5_000,
    }
}

/// One report of a kind: its instruction and what it locks.
fn report_row(kind: &str, ix: &Instruction, payer: &Pubkey, network_wide: &[Pubkey]) -> Value {
    let writable: Vec<&Pubkey> = ix
        .accounts
        .iter()
        .filter(|m| m.is_writable)
        .map(|m| &m.pubkey)
        .collect();
    let shared: Vec<String> = writable
        .iter()
        .filter(|k| network_wide.contains(k))
        .map(|k| k.to_string())
        .collect();
    json!({
        "kind": kind,
        "accounts": ix.accounts.len(),
        "writable": writable.len(),
        "network_wide_writable": shared,
        "data_bytes": ix.data.len(),
        "legacy_bytes": legacy_bytes(std::slice::from_ref(ix), payer),
    })
}

/// Accounts every report of `net` shares: the network, its tables, ledgers,
/// vaults, the oracle's registration, the event authority, the program, the
/// models. Of these a report writes only the approving oracles' own
/// registrations (their credit caps): see [`written_by_every_report`].
pub(super) fn network_wide(net: &SandboxNetwork, models: &[[u8; 32]]) -> Vec<Pubkey> {
    let mut keys = vec![
        net.key,
        pda::reward_tables(&net.key),
        pda::oracle(&net.key, &net.oracle.pubkey()),
        pda::event_authority(),
        upline::ID,
    ];
    for l in &net.ledgers {
        keys.push(l.address);
        keys.push(pda::vault(&l.address));
    }
    keys.extend(models.iter().map(|m| pda::model(&net.key, m)));
    keys
}

/// The accounts of `shared` no report may write: all but the oracle
/// registrations, which each approving oracle's report writes (its own, not
/// the network's: oracles do not contend with each other).
fn written_by_every_report(shared: &[Pubkey], net: &SandboxNetwork) -> Vec<Pubkey> {
    let registration = pda::oracle(&net.key, &net.oracle.pubkey());
    shared
        .iter()
        .copied()
        .filter(|k| *k != registration)
        .collect()
}

/// Report sizes, write locks and batch capacity.
pub async fn reports(chain: &mut Chain) -> Result<(Vec<Value>, Value), String> {
    let llama = label::<32>("llama3-70b").ok_or("model name")?;
    let (cx_preset, cx) = network(chain, "cxmpute").await?;
    let provider = class(&cx_preset, "provider")?;
    let user = class(&cx_preset, "user")?;
    let oracle = cx.oracle.pubkey();
    let shared = network_wide(&cx, &[llama]);
    let mut rows = Vec::new();

    let (p, above) = chain_of_four(chain, &cx, provider).await?;
    let attest = ix::attest_provider(&oracle, &cx.key, &p, 24 * 1024);
    chain
        .send_quiet(&[attest], &[&cx.oracle])
        .await
        .map_err(|e| e.to_string())?;
    let compute = ix::report_compute(&oracle, &cx.key, &p, &llama, &above, compute_args(1));
    rows.push(report_row(
        "compute, full 3-level upline",
        &compute,
        &oracle,
        &written_by_every_report(&shared, &cx),
    ));
    let (u, above_u) = chain_of_four(chain, &cx, user).await?;
    let usage = ix::report_usage(
        &oracle,
        &cx.key,
        &u,
        &above_u,
        UsageReportArgs {
            id: 1,
            work_time: WORK_TIME,
            endpoint: Endpoint::Chat,
            tokens: 1_000,
        },
    );
    rows.push(report_row(
        "usage, full 3-level upline",
        &usage,
        &oracle,
        &written_by_every_report(&shared, &cx),
    ));

    let (cl_preset, cl) = network(chain, "clore").await?;
    let account = class(&cl_preset, "account")?;
    let r0 = member(chain, &cl, account, &[]).await?;
    let r1 = member(chain, &cl, account, &[r0]).await?;
    let h0 = member(chain, &cl, account, &[]).await?;
    let h1 = member(chain, &cl, account, &[h0]).await?;
    let parties = RentalParties {
        renter: r1,
        host: h1,
        renter_referrer: Some(r0),
        host_referrer: Some(h0),
    };
    let rental_args = RentalReportArgs {
        id: 1,
        work_time: WORK_TIME,
        ledger: 0,
        renter_base_fee: 1,
        renter_extra_fee: 1,
        host_base_fee: 1,
        host_extra_fee: 1,
    };
    let rental = ix::report_rental(&cl.oracle.pubkey(), &cl.key, &parties, rental_args);
    rows.push(report_row(
        "rental, both referrers",
        &rental,
        &cl.oracle.pubkey(),
        &written_by_every_report(&network_wide(&cl, &[]), &cl),
    ));

    let (ae_preset, ae) = network(chain, "aether").await?;
    let node = class(&ae_preset, "node")?;
    let n0 = member(chain, &ae, node, &[]).await?;
    let n1 = member(chain, &ae, node, &[n0]).await?;
    let (fingerprint, subnet) = ([7u8; 32], [9u8; 32]);
    let bw_args = BandwidthReportArgs {
        id: 1,
        work_time: WORK_TIME,
        bytes: 1_000_000_000,
        quality: Ppm::ONE,
        stability: Ppm::ONE,
        demand: Ppm::ONE,
        suppressed: false,
    };
    let bandwidth = ix::report_bandwidth(
        &ae.oracle.pubkey(),
        &ae.key,
        &n1,
        Some((&fingerprint, &subnet)),
        Some(&n0),
        bw_args,
    );
    let mut ae_shared = network_wide(&ae, &[]);
    ae_shared.push(pda::subnet(&ae.key, &subnet));
    rows.push(report_row(
        "bandwidth, with referrer",
        &bandwidth,
        &ae.oracle.pubkey(),
        &written_by_every_report(&ae_shared, &ae),
    ));

    // Batches: compute reports about different providers, each under its own
    // full upline (nothing shared but the network's accounts), until the next
    // one would not fit; legacy, then v0 with the network's accounts in a
    // lookup table.
    // A third layout: the oracle keeps its members in lookup tables too
    // (member accounts live as long as the network; a table holds 256).
    let table = AddressLookupTableAccount {
        key: Pubkey::new_unique(),
        addresses: shared.clone(),
    };
    let report = |provider: &Pubkey, above: &[Pubkey], id: u64| {
        ix::report_compute(&oracle, &cx.key, provider, &llama, above, compute_args(id))
    };
    let mut members = table.clone();
    let mut batch = Vec::new();
    let (mut legacy, mut legacy_size, mut v0, mut v0_size) = (0, 0, 0, 0);
    let (mut v0m, mut v0m_size) = (0, 0);
    let (mut batched, mut batched_size) = (0, 0);
    for id in 1..=60u64 {
        let (p, above) = chain_of_four(chain, &cx, provider).await?;
        members.addresses.push(p);
        members.addresses.extend(above.iter().copied());
        batch.push(report(&p, &above, id));
        let l = legacy_bytes(&batch, &oracle);
        if l <= PACKET_DATA_SIZE {
            (legacy, legacy_size) = (batch.len(), l);
        }
        let v = v0_bytes(&batch, &oracle, &table);
        if v <= PACKET_DATA_SIZE {
            (v0, v0_size) = (batch.len(), v);
        }
        if members.addresses.len() > 256 {
            break;
        }
        let m = v0_bytes(&batch, &oracle, &members);
        if m <= PACKET_DATA_SIZE {
            (v0m, v0m_size) = (batch.len(), m);
        }
        // As `oracle submit` sends them: one `report_batch` instruction.
        let b = v0_bytes(&ix::coalesce(&batch), &oracle, &members);
        if b <= PACKET_DATA_SIZE {
            (batched, batched_size) = (batch.len(), b);
        } else {
            break;
        }
    }
    // And about one provider (its upline shared by every report).
    let mut same = Vec::new();
    let (mut same_legacy, mut same_v0) = (0, 0);
    for id in 1..=200u64 {
        same.push(report(&p, &above, id));
        if legacy_bytes(&same, &oracle) <= PACKET_DATA_SIZE {
            same_legacy = same.len();
        }
        if v0_bytes(&same, &oracle, &table) <= PACKET_DATA_SIZE {
            same_v0 = same.len();
        } else {
            break;
        }
    }
    let capacity = json!({
        "packet_bytes": PACKET_DATA_SIZE,
        "lookup_table_addresses": table.addresses.len(),
        "legacy": {"separate_uplines": legacy, "bytes": legacy_size, "one_provider": same_legacy},
        "v0_with_lookup_table": {"separate_uplines": v0, "bytes": v0_size, "one_provider": same_v0},
        "v0_with_members_in_lookup_table": {"separate_uplines": v0m, "bytes": v0m_size, "table_addresses": members.addresses.len().min(256)},
        "v0_batch_with_members_in_lookup_table": {"separate_uplines": batched, "bytes": batched_size},
    });
    Ok((rows, capacity))
}
