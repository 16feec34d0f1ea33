//! The commands that talk to a cluster, and `sandbox`, which serves one.

use crate::{ClusterArgs, MemberCommand, NetworkCommand};
use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_presigner::Presigner;
use solana_signer::null_signer::NullSigner;
use solana_signer::Signer;
use solana_transaction::Hash;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;
use upline::math::decimal::parse_fixed;
use upline_cli::keys::{default_keypair_path, parse_wallet, read_keypair, write_keypair};
use upline_cli::solana_config::{self, SolanaConfig};
use upline_cli::{admin, exit, idl, member, offline, Failure};
use upline_sdk::preset::Preset;
use upline_sdk::rpc::{resolve_url, ComputeBudget, RpcCluster};
use upline_sdk::sandbox::server::{Faults, SandboxServer};
use upline_sdk::sandbox::Chain;
use upline_sdk::setup::{init_network, InitOptions, Step};

/// config.yml of the Solana CLI, if there is one (a malformed one is an error naming it).
fn solana_config() -> Result<SolanaConfig, Failure> {
    Ok(solana_config::load()
        .map_err(Failure::input)?
        .unwrap_or_default())
}

fn keypair_path(args: &ClusterArgs) -> Result<PathBuf, Failure> {
    if let Some(path) = &args.keypair {
        return Ok(path.clone());
    }
    Ok(solana_config()?
        .keypair_path
        .unwrap_or_else(default_keypair_path))
}

pub(crate) fn signer(args: &ClusterArgs) -> Result<Keypair, Failure> {
    read_keypair(&keypair_path(args)?).map_err(Failure::input)
}

/// The `--keypair` signer of an admin (or proposed admin) command: a keypair
/// file, or the public key of a key held elsewhere, which signs through a
/// `--signer PUBKEY=SIGNATURE` made over the transaction `--sign-only`
/// printed, or is left to sign later with `--sign-only`.
pub(crate) fn admin_signer(args: &ClusterArgs) -> Result<Box<dyn Signer>, Failure> {
    let path = keypair_path(args)?;
    let read = read_keypair(&path);
    let key = match (read, Pubkey::from_str(path.to_string_lossy().trim())) {
        (Ok(keypair), _) => return Ok(Box::new(keypair)),
        (Err(_), Ok(key)) if !path.exists() => key,
        (Err(e), _) => return Err(Failure::input(e)),
    };
    for text in &args.signers {
        let given = offline::parse_signer(text).map_err(Failure::input)?;
        if given.key == key {
            return Ok(Box::new(Presigner::new(&key, &given.signature)));
        }
    }
    if args.sign_only {
        return Ok(Box::new(NullSigner::new(&key)));
    }
    Err(Failure::input(format!(
        "--keypair {key}: a public key, not a keypair file; its holder signs elsewhere: run this \
         command with --sign-only, sign the message it prints with `upline sign MESSAGE --keypair \
         FILE` there, then run it again with --blockhash HASH --signer {key}=SIGNATURE"
    )))
}

/// The cluster of `--url` (else config.yml's, else localhost) at
/// `--commitment` (else config.yml's, else confirmed), every transaction with
/// the compute budget the flags ask for.
pub(crate) async fn connect(args: &ClusterArgs) -> Result<RpcCluster, Failure> {
    let config = if args.url.is_some() && args.commitment.is_some() {
        SolanaConfig::default()
    } else {
        solana_config()?
    };
    let given = args
        .url
        .clone()
        .or(config.json_rpc_url)
        .unwrap_or_else(|| "localhost".to_string());
    let url = resolve_url(&given).map_err(Failure::input)?;
    let commitment = match args.commitment.as_deref().or(config.commitment.as_deref()) {
        Some("processed") => CommitmentConfig::processed(),
        Some("finalized") => CommitmentConfig::finalized(),
        _ => CommitmentConfig::confirmed(),
    };
    let mut cluster = RpcCluster::connect_with(&url, commitment)
        .await
        .map_err(|e| Failure {
            code: exit::UNREACHABLE,
            message: format!(
                "--url {given}: cannot reach the cluster at {url}: {}",
                e.name()
            ),
        })?;
    cluster.budget = ComputeBudget {
        unit_price: args.with_compute_unit_price,
        unit_limit: args.compute_unit_limit,
        units_per_instruction: None,
    };
    cluster.offline.sign_only = args.sign_only;
    cluster.offline.blockhash = args
        .blockhash
        .as_deref()
        .map(|text| {
            Hash::from_str(text.trim())
                .map_err(|_| Failure::input(format!("--blockhash {text:?}: not a base-58 hash")))
        })
        .transpose()?;
    Ok(cluster)
}

pub(crate) fn address(text: &str, flag: &str) -> Result<Pubkey, Failure> {
    Pubkey::from_str(text.trim())
        .map_err(|_| Failure::input(format!("{flag} {text:?}: not a base-58 address")))
}

/// Where `upline sandbox` serves Yellowstone gRPC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrpcPort {
    /// Two after the JSON-RPC port (any free port with `--port 0`).
    AfterPubSub,
    /// This port (0: any free port).
    At(u16),
    Off,
}

impl GrpcPort {
    pub fn from_flags(port: Option<u16>, off: bool) -> GrpcPort {
        match (port, off) {
            (_, true) => GrpcPort::Off,
            (Some(port), false) => GrpcPort::At(port),
            (None, false) => GrpcPort::AfterPubSub,
        }
    }
}

pub async fn sandbox(
    port: u16,
    grpc: GrpcPort,
    drop_every: u64,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    // The program's log lines go into the transactions' logs, as on a validator.
    upline_cli::quiet::capture_program_logs()
        .map_err(|e| Failure::refused(format!("sandbox: standard output: {e}")))?;
    let bind = |port: u16, what: &'static str| async move {
        tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| Failure::input(format!("--port: {what} port {port}: {e}")))
    };
    let http = bind(port, "JSON-RPC").await?;
    let requested = port;
    let port = http.local_addr().map(|a| a.port()).unwrap_or(port);
    // The PubSub port follows the HTTP one, as solana-test-validator's does
    // (clients derive it from the HTTP URL); with --port 0, any free port.
    let pubsub_port = match requested {
        0 => 0,
        _ => port.checked_add(1).ok_or_else(|| {
            Failure::input(format!(
                "--port {port}: the PubSub port after it does not exist"
            ))
        })?,
    };
    let pubsub = bind(pubsub_port, "PubSub").await?;
    let pubsub_port = pubsub.local_addr().map(|a| a.port()).unwrap_or(pubsub_port);
    let grpc_port = match (grpc, requested) {
        (GrpcPort::Off, _) => None,
        (GrpcPort::At(port), _) => Some(port),
        (GrpcPort::AfterPubSub, 0) => Some(0),
        (GrpcPort::AfterPubSub, _) => Some(port.checked_add(2).ok_or_else(|| {
            Failure::input(format!(
                "--port {port}: the gRPC port two after it does not exist; give --grpc-port"
            ))
        })?),
    };
    let grpc = match grpc_port {
        Some(wanted) => {
            let bound = tokio::net::TcpListener::bind(("127.0.0.1", wanted)).await;
            Some(match (bound, grpc) {
                (Ok(listener), _) => listener,
                // The default port is taken (tools that look for two free
                // ports know nothing of the third): any free one, printed.
                (Err(_), GrpcPort::AfterPubSub) => {
                    tokio::net::TcpListener::bind(("127.0.0.1", 0))
                        .await
                        .map_err(|e| Failure::input(format!("Yellowstone gRPC: {e}")))?
                }
                (Err(e), _) => {
                    return Err(Failure::input(format!(
                        "--grpc-port: Yellowstone gRPC port {wanted}: {e} (choose another, or --no-grpc)"
                    )))
                }
            })
        }
        None => None,
    };
    let grpc_url = grpc
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map(|a| format!(", Yellowstone gRPC on http://127.0.0.1:{}", a.port()))
        .unwrap_or_default();
    let chain = Chain::start().await;
    let _ = writeln!(
        out,
        "upline sandbox: JSON-RPC on http://127.0.0.1:{port} (use --url http://127.0.0.1:{port}{}), \
         PubSub on ws://127.0.0.1:{pubsub_port}{grpc_url}; airdrops come from the sandbox's faucet. \
         Ctrl-C ends it; nothing is kept.",
        if port == 8899 { " or --url localhost" } else { "" }
    );
    if drop_every > 0 {
        let _ = writeln!(
            out,
            "fault injection on (--drop-every {drop_every}): of the transactions sendTransaction accepts, \
             numbers {drop_every}, {}, … are acknowledged and never executed",
            drop_every.saturating_mul(2)
        );
    }
    let _ = out.flush();
    let faults = Faults { drop_every };
    SandboxServer::with_faults(chain, faults)
        .serve_all(http, pubsub, grpc)
        .await
        .map_err(|e| Failure::refused(format!("sandbox: {e}")))?;
    Ok(0)
}

/// `upline sign MESSAGE`: sign a message `--sign-only` printed (or a file
/// holding it) with the --keypair key.
pub fn sign(args: &ClusterArgs, message: &str, out: &mut impl Write) -> Result<u8, Failure> {
    let path = std::path::Path::new(message);
    let text = if message.len() < 512 && path.is_file() {
        std::fs::read_to_string(path).map_err(|e| Failure::input(format!("{message}: {e}")))?
    } else {
        message.to_string()
    };
    let keypair = signer(args)?;
    let signed = offline::sign_message(&text, &keypair).map_err(Failure::input)?;
    let _ = write!(out, "{signed}");
    Ok(0)
}

pub fn keygen(
    args: &ClusterArgs,
    outfile: Option<PathBuf>,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let path = match outfile {
        Some(path) => path,
        None => keypair_path(args)?,
    };
    let keypair = Keypair::new();
    write_keypair(&path, &keypair).map_err(Failure::input)?;
    let _ = writeln!(
        out,
        "wrote {} (wallet {})",
        path.display(),
        keypair.pubkey()
    );
    Ok(0)
}

pub async fn airdrop(
    args: &ClusterArgs,
    sol: &str,
    to: Option<String>,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let lamports = parse_fixed(sol, 9)
        .ok()
        .and_then(|l| u64::try_from(l).ok())
        .filter(|l| *l > 0)
        .ok_or_else(|| {
            Failure::input(format!(
                "{sol:?}: an amount of SOL above 0, at most 9 decimals"
            ))
        })?;
    let to = match to {
        Some(text) => parse_wallet(&text, "--to").map_err(Failure::input)?,
        None => signer(args)?.pubkey(),
    };
    let mut cluster = connect(args).await?;
    cluster
        .airdrop(&to, lamports)
        .await
        .map_err(Failure::from)?;
    let _ = writeln!(out, "{sol} SOL to {to}");
    Ok(0)
}

pub async fn network(
    args: &ClusterArgs,
    command: NetworkCommand,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let (preset, tables, name, mints, allow_freeze_authority, oracles, quorum) = match command {
        NetworkCommand::Init {
            preset,
            tables,
            name,
            mints,
            allow_freeze_authority,
            oracles,
            quorum,
        } => (
            preset,
            tables,
            name,
            mints,
            allow_freeze_authority,
            oracles,
            quorum,
        ),
        NetworkCommand::Fund {
            network,
            ledger,
            amount,
            mint_first,
        } => {
            let network = address(&network, "--network")?;
            let funder = signer(args)?;
            let mut cluster = connect(args).await?;
            let text = upline_cli::vault::fund(
                &mut cluster,
                &funder,
                network,
                &ledger,
                &amount,
                mint_first,
            )
            .await?;
            let _ = write!(out, "{text}");
            return Ok(0);
        }
        other => return crate::network_admin::run(args, other, out).await,
    };
    let preset = match (preset, tables) {
        (Some(name), _) => {
            Preset::builtin(&name).map_err(|e| Failure::input(format!("--preset: {e}")))?
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Failure::input(format!("--tables {}: {e}", path.display())))?;
            Preset::parse(&text, &path.display().to_string())
                .map_err(|e| Failure::input(e.to_string()))?
        }
        (None, None) => return Err(Failure::input("give --preset NAME or --tables FILE")),
    };
    let mut mint_of = BTreeMap::new();
    for entry in &mints {
        let (ledger, mint) = entry
            .split_once('=')
            .ok_or_else(|| Failure::input(format!("--mint {entry:?}: expected LEDGER=MINT")))?;
        if preset.ledger_index(ledger).is_none() {
            return Err(Failure::input(format!(
                "--mint {entry:?}: the preset has no ledger {ledger:?}"
            )));
        }
        mint_of.insert(ledger.to_string(), address(mint, "--mint")?);
    }
    let oracles = oracles
        .iter()
        .map(|o| parse_wallet(o, "--oracle").map_err(Failure::input))
        .collect::<Result<Vec<_>, _>>()?;
    let admin = signer(args)?;
    let mut cluster = connect(args).await?;
    let options = InitOptions {
        preset: &preset,
        name,
        mints: mint_of,
        allow_freeze_authority,
        oracles,
    };
    let network = init_network(&mut cluster, &admin, &options, |what, step| {
        let verb = match step {
            Step::Created => "created",
            Step::Existing => "exists ",
        };
        let _ = writeln!(out, "  {verb}  {what}");
    })
    .await
    .map_err(Failure::from)?;
    if let Some(quorum) = quorum {
        let step = admin::init_quorum(&mut cluster, &admin, network.address, quorum).await?;
        let _ = writeln!(out, "{step}");
    }
    let _ = writeln!(out, "\nnetwork {} {}", network.name, network.address);
    for ledger in &network.ledgers {
        match ledger.token {
            Some((mint, vault)) => {
                let _ = writeln!(
                    out,
                    "  ledger {} {}: mint {mint}, vault {vault}",
                    ledger.index, ledger.name
                );
            }
            None => {
                let _ = writeln!(out, "  ledger {} {}: points", ledger.index, ledger.name);
            }
        }
    }
    Ok(0)
}

pub async fn member(
    args: &ClusterArgs,
    command: MemberCommand,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let text = match command {
        MemberCommand::Join {
            network,
            class,
            referrer,
            referrer_class,
            sponsor,
        } => {
            let network = address(&network, "--network")?;
            let referrer = referrer
                .map(|r| parse_wallet(&r, "--referrer").map_err(Failure::input))
                .transpose()?;
            let wallet = signer(args)?;
            let sponsor = sponsor
                .map(|p| read_keypair(&p).map_err(|e| Failure::input(format!("--sponsor {e}"))))
                .transpose()?;
            let mut cluster = connect(args).await?;
            member::join(
                &mut cluster,
                (&wallet, sponsor.as_ref()),
                network,
                &class,
                referrer,
                referrer_class.as_deref(),
            )
            .await?
        }
        command @ MemberCommand::OpenLedgers { .. } => {
            return crate::operate_cli::member(args, command, out).await
        }
        MemberCommand::SetReferrer {
            network,
            referrer,
            class,
            referrer_class,
        } => {
            let network = address(&network, "--network")?;
            let referrer = parse_wallet(&referrer, "referrer").map_err(Failure::input)?;
            let wallet = signer(args)?;
            let mut cluster = connect(args).await?;
            member::set_referrer(
                &mut cluster,
                &wallet,
                network,
                class.as_deref(),
                referrer,
                referrer_class.as_deref(),
            )
            .await?
        }
        command @ MemberCommand::Withdraw {
            all_ledgers: true, ..
        } => return crate::operate_cli::member(args, command, out).await,
        MemberCommand::Withdraw {
            network,
            ledger,
            amount,
            class,
            to,
            ..
        } => {
            let ledger = ledger.unwrap_or_default();
            let network = address(&network, "--network")?;
            let to = to.map(|t| address(&t, "--to")).transpose()?;
            let wallet = signer(args)?;
            let mut cluster = connect(args).await?;
            let request = member::WithdrawRequest {
                ledger: &ledger,
                amount: &amount,
                class: class.as_deref(),
                to,
            };
            member::withdraw(&mut cluster, &wallet, network, request).await?
        }
        MemberCommand::Stats {
            network,
            wallet,
            json,
        } => {
            let network = address(&network, "--network")?;
            let wallet = match wallet {
                Some(w) => parse_wallet(&w, "--wallet").map_err(Failure::input)?,
                None => signer(args)?.pubkey(),
            };
            let mut cluster = connect(args).await?;
            let stats = upline_cli::stats::stats(&mut cluster, network, wallet).await?;
            if json {
                serde_json::to_string_pretty(&stats).unwrap_or_default() + "\n"
            } else {
                upline_cli::stats::render_stats(&stats)
            }
        }
    };
    let _ = write!(out, "{text}");
    Ok(0)
}

pub fn idl(out: &mut impl Write) -> Result<u8, Failure> {
    let here = std::env::current_dir().map_err(|e| Failure::input(e.to_string()))?;
    let root = idl::workspace_root(&here).ok_or_else(|| {
        Failure::input(
            "upline idl: run it inside the Upline repository (no Anchor.toml found above here)",
        )
    })?;
    let (path, instructions) = idl::write_idl(&root).map_err(Failure::refused)?;
    let _ = writeln!(
        out,
        "wrote {} ({instructions} instructions)",
        path.display()
    );
    Ok(0)
}
