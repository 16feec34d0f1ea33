//! `upline oracle attest|submit|sign`: the --keypair oracle approves, with
//! its co-signers (`--co-signer`), or, for co-signers on other machines,
//! through the offline flow (`submit --sign-only`, `sign`, `submit --messages`);
//! `upline oracle run`, the oracle as a service (`upline_cli::oracle_node`).

use crate::args::{CoSignerArgs, SubmitArgs};
use crate::commands::{address, connect, signer};
use crate::{AttestCommand, ClusterArgs, OracleCommand};
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_message::AddressLookupTableAccount;
use solana_signer::Signer;
use solana_transaction::Hash;
use std::io::Write;
use std::path::Path;
use std::str::FromStr;
use upline::errors::UplineError;
use upline::instructions::AttestNodeArgs;
use upline_cli::keys::{parse_wallet, read_keypair};
use upline_cli::lookup_tables;
use upline_cli::offline::{self, MessagesFile, SendSigned, SignOnly};
pub use upline_cli::oracle_node::RunArgs;
use upline_cli::reports::{self, ReportLine};
use upline_cli::submit::{
    prepare, render_summary, submit, Progress, SubmitSummary, REPORT_COMPUTE_UNITS,
};
use upline_cli::world::hash32;
use upline_cli::{exit, member, Failure};
use upline_sdk::client::Cluster;
use upline_sdk::rpc::RpcCluster;

/// The co-signers' keypairs, checked: none twice, none the --keypair oracle
/// itself, none among `remote` (the program refuses a duplicate approver).
pub(crate) fn co_signers(
    co: &CoSignerArgs,
    oracle: &Pubkey,
    remote: &[Pubkey],
) -> Result<Vec<Keypair>, Failure> {
    let mut keys: Vec<Keypair> = Vec::with_capacity(co.co_signers.len());
    for path in &co.co_signers {
        let key = read_keypair(path)
            .map_err(|e| Failure::input(e.replacen("--keypair", "--co-signer", 1)))?;
        keys.push(key);
    }
    let mut seen = vec![*oracle];
    for key in keys
        .iter()
        .map(Signer::pubkey)
        .chain(remote.iter().copied())
    {
        if key == *oracle {
            return Err(Failure::input(format!(
                "DuplicateCoSigner: co-signer {key} is the --keypair oracle itself"
            )));
        }
        if seen.contains(&key) {
            return Err(Failure::input(format!(
                "DuplicateCoSigner: co-signer {key} is given twice"
            )));
        }
        seen.push(key);
    }
    Ok(keys)
}

async fn attest(
    args: &ClusterArgs,
    attest: AttestCommand,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let signing = signer(args)?;
    let oracle = signing.pubkey();
    let (network, wallet, kind, co) = match &attest {
        AttestCommand::Provider {
            network,
            wallet,
            co,
            ..
        } => (network, wallet, "compute", co),
        AttestCommand::Node {
            network,
            wallet,
            co,
            ..
        } => (network, wallet, "bandwidth", co),
    };
    let co = co_signers(co, &oracle, &[])?;
    let co_keys: Vec<Pubkey> = co.iter().map(Signer::pubkey).collect();
    let network = address(network, "--network")?;
    let wallet = parse_wallet(wallet, "--wallet").map_err(Failure::input)?;
    let mut cluster = connect(args).await?;
    let view = member::NetworkView::load(&mut cluster, network).await?;
    // The membership attested is the wallet's in the class the kind is about.
    let class = view.report_class(kind).ok_or_else(|| {
        Failure::input(format!(
            "--network {network}: the network has no report tables"
        ))
    })?;
    let class_name = view.class_name(class);
    let account = view.member(&wallet, class);
    if cluster
        .account(&account)
        .await
        .map_err(Failure::from)?
        .is_none()
    {
        return Err(Failure::input(format!(
            "UnknownMember: {wallet} is not a member of network {network} as a {class_name}"
        )));
    }
    let (instruction, what) = match &attest {
        AttestCommand::Provider { vram_mb, .. } => (
            upline_sdk::ix::attest_provider(&oracle, &network, &account, *vram_mb),
            format!("provider {wallet}: {vram_mb} MiB VRAM"),
        ),
        AttestCommand::Node { device, subnet, .. } => {
            let args = AttestNodeArgs {
                fingerprint: hash32(device),
                subnet: hash32(subnet),
            };
            (
                upline_sdk::ix::attest_node(&oracle, &oracle, &network, &account, args),
                format!("node {wallet}: device {device:?}, subnet {subnet:?}"),
            )
        }
    };
    let instruction = upline_sdk::ix::with_co_signers(instruction, &network, &co_keys);
    let mut signers = vec![&signing];
    signers.extend(co.iter());
    let sent = cluster.send(&[instruction], &signers).await;
    if let Err(failure) = sent {
        if failure.is(UplineError::QuorumNotMet) {
            return Err(Failure::refused(format!(
                "QuorumNotMet: network {network} needs {} distinct oracles to approve; this attestation had {} (add --co-signer KEYPAIR)",
                view.network.oracle_quorum,
                signers.len()
            )));
        }
        return Err(Failure::from(failure));
    }
    let approvers = if co.is_empty() {
        String::new()
    } else {
        format!(" (co-signed by {})", join(&co_keys))
    };
    let _ = writeln!(out, "attested {what}{approvers}");
    Ok(0)
}

fn join(keys: &[Pubkey]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The exit code of a submission: unsent, then rejected, reports decide it.
fn verdict(summary: &SubmitSummary) -> u8 {
    if !summary.unsent.is_empty() {
        exit::UNREACHABLE
    } else if !summary.rejected.is_empty() {
        exit::REFUSED
    } else {
        0
    }
}

/// The reports file: its text and its reports (every malformed line named).
fn read_reports(file: &Path) -> Result<(String, Vec<ReportLine>), Failure> {
    let shown = file.display().to_string();
    let text =
        std::fs::read_to_string(file).map_err(|e| Failure::input(format!("{shown}: {e}")))?;
    let lines = reports::parse(&text, &shown).map_err(|errors| {
        Failure::input(format!(
            "{shown}: {} malformed line(s), nothing sent:\n  {}",
            errors.len(),
            errors.join("\n  ")
        ))
    })?;
    Ok((text, lines))
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    std::fs::write(path, text).map_err(|e| Failure::input(format!("{}: {e}", path.display())))
}

/// The lookup tables that hold the accounts of the reports `oracle` sends
/// with `co` (created and extended as needed); what was done is printed.
async fn report_tables(
    cluster: &mut RpcCluster,
    oracle: &Keypair,
    co: &[Keypair],
    network: Pubkey,
    lines: &[ReportLine],
    out: &mut impl Write,
) -> Result<Vec<AddressLookupTableAccount>, Failure> {
    let co_keys: Vec<Pubkey> = co.iter().map(Signer::pubkey).collect();
    let prepared = prepare(cluster, oracle.pubkey(), &co_keys, network, lines)
        .await
        .map_err(Failure::from)?;
    let instructions: Vec<_> = prepared.queue.iter().map(|q| q.ix.clone()).collect();
    if instructions.is_empty() {
        return Ok(Vec::new());
    }
    let needed = lookup_tables::lookupable(&instructions);
    let mut notes = Vec::new();
    let tables =
        lookup_tables::tables_for(cluster, oracle, &network, &needed, &mut |n| notes.push(n))
            .await
            .map_err(Failure::from)?;
    for note in notes {
        let _ = writeln!(out, "{note}");
    }
    // The reports' transactions are printed after the summary; the tables' here.
    for signature in cluster.landed.drain(..) {
        let _ = writeln!(out, "  table transaction {signature}");
    }
    Ok(tables)
}

async fn submit_command(
    args: &ClusterArgs,
    request: SubmitArgs,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let network = address(&request.network, "--network")?;
    let shown = request.file.display().to_string();
    let (text, lines) = read_reports(&request.file)?;
    check_offline_flags(args, &request)?;
    if let Some(path) = &request.messages {
        return send_messages(args, &request, path, (&text, network), out).await;
    }
    let oracle = signer(args)?;
    let remote = request
        .co_signer_pubkeys
        .iter()
        .map(|k| address(k, "--co-signer-pubkey"))
        .collect::<Result<Vec<_>, _>>()?;
    let co = co_signers(&request.co, &oracle.pubkey(), &remote)?;
    let mut cluster = connect(args).await?;
    // Without --compute-unit-limit, each v0 transaction asks for the estimate
    // per report (a legacy one would fit a report fewer with the instruction).
    if !request.legacy {
        cluster.budget.units_per_instruction = Some(REPORT_COMPUTE_UNITS);
    }
    if !args.sign_only {
        let mut progress = Progress::on_stderr();
        let summary = if request.legacy {
            submit(&mut cluster, &oracle, &co, network, &lines, |s| {
                progress.show(s)
            })
            .await
        } else {
            let tables = report_tables(&mut cluster, &oracle, &co, network, &lines, out).await?;
            upline_cli::sender::submit_in_flight(
                &mut cluster,
                (&oracle, &co),
                network,
                &lines,
                &tables,
                request.max_in_flight,
                |s| progress.show(s),
            )
            .await
        }
        .map_err(Failure::from)?;
        progress.finish();
        let _ = write!(out, "{}", render_summary(&shown, &summary));
        for signature in &cluster.landed {
            let _ = writeln!(out, "  landed {signature}");
        }
        return Ok(verdict(&summary));
    }
    let blockhash = match &args.blockhash {
        Some(text) => Hash::from_str(text.trim())
            .map_err(|_| Failure::input(format!("--blockhash {text:?}: not a base-58 hash")))?,
        None => cluster.latest_blockhash().await.map_err(Failure::from)?,
    };
    let sign = SignOnly {
        submitter: &oracle,
        local: &co,
        remote: &remote,
        network,
        reports: &lines,
        file: &shown,
        contents: text.as_bytes(),
        blockhash,
    };
    let messages = offline::sign_only(&mut cluster, sign)
        .await
        .map_err(Failure::from)?;
    let code = if messages.rejected.is_empty() {
        0
    } else {
        exit::REFUSED
    };
    let Some(path) = &request.out else {
        let text = serde_json::to_string_pretty(&messages).unwrap_or_default();
        let _ = writeln!(out, "{text}");
        return Ok(code);
    };
    write_json(path, &messages)?;
    let signers = messages
        .transactions
        .first()
        .map_or_else(String::new, |t| t.signers.join(", "));
    let _ = writeln!(
        out,
        "wrote {}: {} transactions carrying {} of the {} reports ({} already recorded, {} rejected), over blockhash {}\n  each needs the signatures of {signers}\n  next: each co-signer runs `upline oracle sign {} --keypair ITS_KEYPAIR --out SIGS`, then `upline oracle submit {shown} --network {network} --messages {} --signatures SIGS...`",
        path.display(),
        messages.transactions.len(),
        messages.reports(),
        messages.total,
        messages.already,
        messages.rejected.len(),
        messages.blockhash,
        path.display(),
        path.display(),
    );
    for (line, reason) in &messages.rejected {
        let _ = writeln!(out, "    line {line}: {reason}");
    }
    Ok(code)
}

/// The offline flags of `oracle submit`, which are global (the admin
/// commands take them too), in the combinations a submission allows.
fn check_offline_flags(args: &ClusterArgs, request: &SubmitArgs) -> Result<(), Failure> {
    let misplaced = if args.sign_only && request.messages.is_some() {
        Some("--sign-only writes the messages file that --messages sends: use one of them")
    } else if !args.sign_only && !request.co_signer_pubkeys.is_empty() {
        Some("--co-signer-pubkey names an oracle that signs elsewhere: it goes with --sign-only")
    } else if !args.sign_only && request.out.is_some() {
        Some("--out is where --sign-only writes: it goes with --sign-only")
    } else if !args.sign_only && args.blockhash.is_some() {
        Some("--blockhash is the blockhash --sign-only signs over: it goes with --sign-only")
    } else if request.messages.is_none() && !args.signers.is_empty() {
        Some("--signer PUBKEY=SIGNATURE: with oracle submit it goes with --messages FILE")
    } else {
        None
    };
    misplaced.map_or(Ok(()), |why| Err(Failure::input(why)))
}

/// `oracle submit FILE --messages M --signatures ...`: merge and send.
async fn send_messages(
    args: &ClusterArgs,
    request: &SubmitArgs,
    path: &Path,
    (text, network): (&str, Pubkey),
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let shown_messages = path.display().to_string();
    let messages = MessagesFile::load(path).map_err(Failure::input)?;
    if messages.network != network.to_string() {
        return Err(Failure::input(format!(
            "--messages {shown_messages}: its transactions are for network {}, not {network}",
            messages.network
        )));
    }
    let shown = request.file.display().to_string();
    if messages.file_sha256 != offline::sha256_hex(text.as_bytes()) {
        return Err(Failure::input(format!(
            "--messages {shown_messages}: it was written for other contents of {shown} (run --sign-only again)"
        )));
    }
    let mut given = Vec::new();
    for file in &request.signatures {
        given.extend(offline::load_signatures(file).map_err(Failure::input)?);
    }
    for text in &args.signers {
        given.push(offline::parse_signer(text).map_err(Failure::input)?);
    }
    // The keys at hand sign where they are needed: the submitter's, if its
    // keypair is here, and any --co-signer.
    let submitter = signer(args).ok();
    let co = co_signers(&request.co, &Pubkey::default(), &[])?;
    let mut local: Vec<&Keypair> = submitter.iter().collect();
    local.extend(co.iter());
    let txs = offline::assemble(&messages, &local, &given)
        .map_err(|e| Failure::input(format!("--messages {shown_messages}: {e}; nothing sent")))?;
    let mut cluster = connect(args).await?;
    let mut progress = Progress::on_stderr();
    let summary = offline::send_signed_all(&mut cluster, &messages, &txs, |s| progress.show(s))
        .await
        .map_err(Failure::from)?;
    progress.finish();
    let _ = write!(out, "{}", render_summary(&shown, &summary));
    Ok(verdict(&summary))
}

fn sign(
    args: &ClusterArgs,
    messages: &Path,
    to: Option<&Path>,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let shown = messages.display().to_string();
    let file = MessagesFile::load(messages).map_err(Failure::input)?;
    let key = signer(args)?;
    let signatures =
        offline::sign(&file, &key).map_err(|e| Failure::input(format!("{shown}: {e}")))?;
    eprint!("signing as {}:\n{}", key.pubkey(), file.describe());
    match to {
        Some(path) => {
            write_json(path, &signatures)?;
            let _ = writeln!(
                out,
                "wrote {}: {} signed {} of the {} transactions of {shown}",
                path.display(),
                signatures.signer,
                signatures.signatures.len(),
                file.transactions.len()
            );
        }
        None => {
            let text = serde_json::to_string_pretty(&signatures).unwrap_or_default();
            let _ = writeln!(out, "{text}");
        }
    }
    Ok(0)
}

pub async fn oracle(
    args: &ClusterArgs,
    command: OracleCommand,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    match command {
        OracleCommand::Attest(command) => attest(args, command, out).await,
        OracleCommand::Submit(request) => submit_command(args, request, out).await,
        OracleCommand::Sign { messages, out: to } => sign(args, &messages, to.as_deref(), out),
        OracleCommand::Run(request) => crate::oracle_run::run_node(args, request, out).await,
    }
}
