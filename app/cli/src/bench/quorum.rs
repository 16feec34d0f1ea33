//! What the oracle quorum costs a report transaction. Co-signers are
//! transaction signers: at a quorum of M, a transaction carries M
//! signatures and, once, each co-signer's key and registration, and each
//! report names them (two account indices per co-signer). Measured at
//! M = 1, 2, 3 on compute reports with full uplines, each batch landed on
//! the sandbox with its co-signers.

use super::layout::{
    chain_of_four, class, compute_args, legacy_bytes, network, network_wide, v0_bytes,
    PACKET_DATA_SIZE,
};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_message::AddressLookupTableAccount;
use solana_signer::Signer;
use upline::state::label;
use upline_sdk::client::Cluster;
use upline_sdk::sandbox::Chain;
use upline_sdk::{ix, pda};

/// Providers, each under its own full upline: more than fit one transaction,
/// even with the members in lookup tables.
const PROVIDERS: usize = 30;

/// The largest prefix of `reports` that `size` keeps within a packet: (count, bytes).
fn capacity(reports: &[Instruction], size: impl Fn(&[Instruction]) -> usize) -> (usize, usize) {
    let mut best = (0, 0);
    for n in 1..=reports.len() {
        let bytes = size(&reports[..n]);
        if bytes > PACKET_DATA_SIZE {
            break;
        }
        best = (n, bytes);
    }
    best
}

/// Transaction bytes and compute reports per transaction at M = 1, 2, 3.
pub async fn quorum(chain: &mut Chain) -> Result<Vec<Value>, String> {
    let llama = label::<32>("llama3-70b").ok_or("model name")?;
    let (preset, net) = network(chain, "cxmpute").await?;
    let provider = class(&preset, "provider")?;
    let admin = net.admin.pubkey();
    let mut co_signers: Vec<Keypair> = Vec::new();
    for _ in 0..2 {
        let oracle = chain.wallet().await;
        let add = ix::add_oracle(&admin, &admin, &net.key, &oracle.pubkey());
        chain
            .send_quiet(&[add], &[&net.admin])
            .await
            .map_err(|e| format!("add_oracle: {e}"))?;
        co_signers.push(oracle);
    }
    let oracle = net.oracle.pubkey();
    let mut providers = Vec::with_capacity(PROVIDERS);
    for _ in 0..PROVIDERS {
        let (p, above) = chain_of_four(chain, &net, provider).await?;
        let attest = ix::attest_provider(&oracle, &net.key, &p, 24 * 1024);
        chain
            .send_quiet(&[attest], &[&net.oracle])
            .await
            .map_err(|e| format!("attest: {e}"))?;
        providers.push((p, above));
    }
    let mut rows = Vec::new();
    for m in 1..=3u8 {
        let set = ix::set_oracle_quorum(&admin, &net.key, m);
        chain
            .send_quiet(&[set], &[&net.admin])
            .await
            .map_err(|e| format!("quorum {m}: {e}"))?;
        let co = &co_signers[..usize::from(m - 1)];
        let co_keys: Vec<Pubkey> = co.iter().map(Signer::pubkey).collect();
        let reports: Vec<Instruction> = providers
            .iter()
            .map(|(p, above)| {
                let report = ix::report_compute(
                    &oracle,
                    &net.key,
                    p,
                    &llama,
                    above,
                    compute_args(u64::from(m)),
                );
                ix::with_co_signers(report, &net.key, &co_keys)
            })
            .collect();
        // The lookup table holds the network's accounts and the co-signers'
        // registrations (a signer's own key must stay in the message).
        let mut table = AddressLookupTableAccount {
            key: Pubkey::new_unique(),
            addresses: network_wide(&net, &[llama]),
        };
        table
            .addresses
            .extend(co_keys.iter().map(|k| pda::oracle(&net.key, k)));
        let mut members = table.clone();
        for (p, above) in &providers {
            members.addresses.push(*p);
            members.addresses.extend(above.iter().copied());
        }
        let (legacy, legacy_size) = capacity(&reports, |r| legacy_bytes(r, &oracle));
        let (v0, v0_size) = capacity(&reports, |r| v0_bytes(r, &oracle, &table));
        // One table holds 256 addresses: as many providers as fit it.
        let fit = (256 - table.addresses.len()) / 4;
        members.addresses.truncate(table.addresses.len() + fit * 4);
        let (v0m, v0m_size) = capacity(&reports[..fit.min(PROVIDERS)], |r| {
            v0_bytes(r, &oracle, &members)
        });
        let (batched, batched_size) = capacity(&reports[..fit.min(PROVIDERS)], |r| {
            v0_bytes(&ix::coalesce(r), &oracle, &members)
        });
        let mut signers: Vec<&Keypair> = vec![&net.oracle];
        signers.extend(co.iter());
        let landed = Cluster::send(chain, &reports[..legacy], &signers).await;
        rows.push(json!({
            "quorum": m,
            "signatures": signers.len(),
            "one_report_bytes": legacy_bytes(&reports[..1], &oracle),
            "legacy": {"separate_uplines": legacy, "bytes": legacy_size},
            "v0_with_lookup_table": {"separate_uplines": v0, "bytes": v0_size},
            "v0_with_members_in_lookup_table": {"separate_uplines": v0m, "bytes": v0m_size},
            "v0_batch": {"separate_uplines": batched, "bytes": batched_size},
            "landed": landed.is_ok(),
            "refused": landed.err().map(|e| e.name()),
        }));
    }
    Ok(rows)
}

/// The quorum rows as a table.
pub fn render(rows: &[Value]) -> String {
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    };
    let mut out = String::from(
        "\noracle quorum: compute reports with full uplines per transaction, co-signers signing\n",
    );
    for r in rows {
        out += &format!(
            "  M = {}: one report {:>4} bytes; legacy {} ({} bytes){}; v0, network in a lookup table {} ({} bytes); v0, members too {} ({} bytes); one report_batch {} ({} bytes)\n",
            text(&r["quorum"]),
            text(&r["one_report_bytes"]),
            text(&r["legacy"]["separate_uplines"]),
            text(&r["legacy"]["bytes"]),
            if r["landed"] == true {
                ", landed".to_string()
            } else {
                format!(", REFUSED {}", text(&r["refused"]))
            },
            text(&r["v0_with_lookup_table"]["separate_uplines"]),
            text(&r["v0_with_lookup_table"]["bytes"]),
            text(&r["v0_with_members_in_lookup_table"]["separate_uplines"]),
            text(&r["v0_with_members_in_lookup_table"]["bytes"]),
            text(&r["v0_batch"]["separate_uplines"]),
            text(&r["v0_batch"]["bytes"]),
        );
    }
    out
}
