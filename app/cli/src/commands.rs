//! The commands that talk to a cluster, and `sandbox`, which serves one.

use crate::ClusterArgs;
use anchor_lang::prelude::Pubkey;
use clap::Subcommand;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};
use upline::instructions::AttestNodeArgs;
use upline::math::decimal::parse_fixed;
use upline_cli::keys::{default_keypair_path, parse_wallet, read_keypair, write_keypair};
use upline_cli::submit::{submit, SubmitSummary};
use upline_cli::world::hash32;
use upline_cli::{exit, idl, member, reports, Failure};
use upline_sdk::client::Cluster;
use upline_sdk::preset::Preset;
use upline_sdk::rpc::{resolve_url, RpcCluster};
use upline_sdk::sandbox::server::SandboxServer;
use upline_sdk::sandbox::Chain;
use upline_sdk::setup::{init_network, InitOptions, Step};

#[derive(Subcommand)]
pub enum NetworkCommand {
    /// Create a network with its ledgers, report tables, models and oracles
    /// (safe to re-run: what exists is kept).
    Init {
        /// A built-in preset: cxmpute, clore or aether (migrations/presets/).
        #[arg(long, conflicts_with = "tables", required_unless_present = "tables")]
        preset: Option<String>,
        /// A preset file of your own (the format of migrations/presets/*.json).
        #[arg(long)]
        tables: Option<PathBuf>,
        /// Network name (default: the preset's).
        #[arg(long)]
        name: Option<String>,
        /// Mint of a token ledger, as LEDGER=MINT (default: a new mint, the admin its authority).
        #[arg(long = "mint", value_name = "LEDGER=MINT")]
        mints: Vec<String>,
        /// Oracle wallet to authorise (repeat for more).
        #[arg(long = "oracle", value_name = "WALLET")]
        oracles: Vec<String>,
    },
    /// Pay tokens into a ledger's vault from your associated token account.
    Fund {
        #[arg(long)]
        network: String,
        /// Ledger name.
        #[arg(long)]
        ledger: String,
        /// Whole units, decimal.
        #[arg(long)]
        amount: String,
        /// Mint the amount first (you are the mint's authority, as after `network init` without --mint).
        #[arg(long)]
        mint_first: bool,
    },
}

#[derive(Subcommand)]
pub enum OracleCommand {
    /// Attest a member's device.
    #[command(subcommand)]
    Attest(AttestCommand),
    /// Send the reports of a JSON-lines file (format: README, "Running a network").
    Submit {
        /// The reports file, one JSON object per line.
        file: PathBuf,
        #[arg(long)]
        network: String,
    },
}

#[derive(Subcommand)]
pub enum AttestCommand {
    /// A compute provider's GPU (Cxmpute): its VRAM sets the provider's tier.
    Provider {
        #[arg(long)]
        network: String,
        /// The provider's wallet.
        #[arg(long)]
        wallet: String,
        /// VRAM in MiB.
        #[arg(long)]
        vram_mb: u32,
    },
    /// A bandwidth node's device (Aether): one member per device, a few per subnet.
    Node {
        #[arg(long)]
        network: String,
        /// The node's wallet.
        #[arg(long)]
        wallet: String,
        /// Device fingerprint (hashed before it goes on chain).
        #[arg(long)]
        device: String,
        /// Subnet, e.g. 203.0.113.0/24 (hashed before it goes on chain).
        #[arg(long)]
        subnet: String,
    },
}

#[derive(Subcommand)]
pub enum MemberCommand {
    /// Join a network, linked to a referrer if given.
    Join {
        #[arg(long)]
        network: String,
        /// Member class, by name (user, provider, renter, host, node...).
        #[arg(long)]
        class: String,
        /// The referrer's wallet (its referral code).
        #[arg(long)]
        referrer: Option<String>,
    },
    /// Link to a referrer after joining (once; links are permanent).
    SetReferrer {
        #[arg(long)]
        network: String,
        /// The referrer's wallet.
        referrer: String,
    },
    /// Withdraw from a token ledger to your token account.
    Withdraw {
        #[arg(long)]
        network: String,
        /// Ledger name (CXPT, CLORE, AETH...).
        #[arg(long)]
        ledger: String,
        /// Whole units, decimal, or "all".
        #[arg(long, default_value = "all")]
        amount: String,
        /// Token account to pay (default: your associated token account, created if missing).
        #[arg(long)]
        to: Option<String>,
    },
    /// Referral stats: totals by source, downline and rewards by level, 30-day history, tier.
    Stats {
        #[arg(long)]
        network: String,
        /// Whose stats (default: the --keypair wallet).
        #[arg(long)]
        wallet: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn keypair_path(args: &ClusterArgs) -> PathBuf {
    args.keypair.clone().unwrap_or_else(default_keypair_path)
}

fn signer(args: &ClusterArgs) -> Result<Keypair, Failure> {
    read_keypair(&keypair_path(args)).map_err(Failure::input)
}

async fn connect(args: &ClusterArgs) -> Result<RpcCluster, Failure> {
    let url = resolve_url(&args.url).map_err(Failure::input)?;
    RpcCluster::connect(&url).await.map_err(|e| Failure {
        code: exit::UNREACHABLE,
        message: format!(
            "--url {}: cannot reach the cluster at {url}: {}",
            args.url,
            e.name()
        ),
    })
}

fn address(text: &str, flag: &str) -> Result<Pubkey, Failure> {
    Pubkey::from_str(text.trim())
        .map_err(|_| Failure::input(format!("{flag} {text:?}: not a base-58 address")))
}

pub async fn sandbox(port: u16, out: &mut impl Write) -> Result<u8, Failure> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| Failure::input(format!("--port {port}: {e}")))?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let chain = Chain::start().await;
    let _ = writeln!(
        out,
        "upline sandbox: JSON-RPC on http://127.0.0.1:{port} (use --url http://127.0.0.1:{port}{}); \
         airdrops come from the sandbox's faucet. Ctrl-C ends it; nothing is kept.",
        if port == 8899 { " or --url localhost" } else { "" }
    );
    SandboxServer::new(chain)
        .serve(listener)
        .await
        .map_err(|e| Failure::refused(format!("sandbox: {e}")))?;
    Ok(0)
}

pub fn keygen(
    args: &ClusterArgs,
    outfile: Option<PathBuf>,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let path = outfile.unwrap_or_else(|| keypair_path(args));
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
    let (preset, tables, name, mints, oracles) = match command {
        NetworkCommand::Init {
            preset,
            tables,
            name,
            mints,
            oracles,
        } => (preset, tables, name, mints, oracles),
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

pub async fn oracle(
    args: &ClusterArgs,
    command: OracleCommand,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    match command {
        OracleCommand::Attest(attest) => {
            let (network, wallet, instruction, what) = {
                let oracle = signer(args)?.pubkey();
                match &attest {
                    AttestCommand::Provider {
                        network,
                        wallet,
                        vram_mb,
                    } => {
                        let network = address(network, "--network")?;
                        let wallet = parse_wallet(wallet, "--wallet").map_err(Failure::input)?;
                        let ix =
                            upline_sdk::ix::attest_provider(&oracle, &network, &wallet, *vram_mb);
                        (
                            network,
                            wallet,
                            ix,
                            format!("provider {wallet}: {vram_mb} MiB VRAM"),
                        )
                    }
                    AttestCommand::Node {
                        network,
                        wallet,
                        device,
                        subnet,
                    } => {
                        let network = address(network, "--network")?;
                        let wallet = parse_wallet(wallet, "--wallet").map_err(Failure::input)?;
                        let args = AttestNodeArgs {
                            fingerprint: hash32(device),
                            subnet: hash32(subnet),
                        };
                        let ix =
                            upline_sdk::ix::attest_node(&oracle, &oracle, &network, &wallet, args);
                        (
                            network,
                            wallet,
                            ix,
                            format!("node {wallet}: device {device:?}, subnet {subnet:?}"),
                        )
                    }
                }
            };
            let oracle = signer(args)?;
            let mut cluster = connect(args).await?;
            member::NetworkView::load(&mut cluster, network).await?;
            member::load_member(&mut cluster, &network, &wallet).await?;
            cluster
                .send(&[instruction], &[&oracle])
                .await
                .map_err(Failure::from)?;
            let _ = writeln!(out, "attested {what}");
            Ok(0)
        }
        OracleCommand::Submit { file, network } => {
            let network = address(&network, "--network")?;
            let shown = file.display().to_string();
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::input(format!("{shown}: {e}")))?;
            let lines = reports::parse(&text, &shown).map_err(|errors| {
                Failure::input(format!(
                    "{shown}: {} malformed line(s), nothing sent:\n  {}",
                    errors.len(),
                    errors.join("\n  ")
                ))
            })?;
            let oracle = signer(args)?;
            let mut cluster = connect(args).await?;
            let mut progress = Progress::new();
            let summary = submit(&mut cluster, &oracle, network, &lines, |s| progress.show(s))
                .await
                .map_err(Failure::from)?;
            progress.finish();
            let _ = write!(out, "{}", render_summary(&shown, &summary));
            Ok(if !summary.unsent.is_empty() {
                exit::UNREACHABLE
            } else if !summary.rejected.is_empty() {
                exit::REFUSED
            } else {
                0
            })
        }
    }
}

/// Progress of a long submission on standard error: a line rewritten in
/// place on a terminal, a line every few seconds otherwise.
struct Progress {
    terminal: bool,
    last: Option<Instant>,
}

impl Progress {
    fn new() -> Progress {
        // SAFETY: isatty only inspects the descriptor.
        let terminal = unsafe { libc::isatty(libc::STDERR_FILENO) } == 1;
        Progress {
            terminal,
            last: None,
        }
    }

    fn show(&mut self, s: &SubmitSummary) {
        let every = if self.terminal {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(5)
        };
        if self.last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        let line = format!(
            "{}/{} reports: {} recorded, {} already recorded, {} rejected",
            s.done(),
            s.total,
            s.recorded,
            s.already,
            s.rejected.len()
        );
        if self.terminal {
            eprint!("\r{line}");
        } else {
            eprintln!("{line}");
        }
    }

    fn finish(&self) {
        if self.terminal && self.last.is_some() {
            eprintln!();
        }
    }
}

fn render_summary(file: &str, s: &SubmitSummary) -> String {
    let mut out = format!(
        "{file}: {} reports in {} transactions\n  recorded now      {:>8}\n  already recorded  {:>8}\n  rejected          {:>8}\n",
        s.total,
        s.transactions,
        s.recorded,
        s.already,
        s.rejected.len()
    );
    for (line, reason) in &s.rejected {
        out += &format!("    line {line}: {reason}\n");
    }
    if !s.unsent.is_empty() {
        out += &format!("  not sent          {:>8}\n", s.unsent.len());
        if let Some((line, reason)) = s.unsent.first() {
            out += &format!("    from line {line}: {reason}; run again to send them\n");
        }
    }
    out
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
        } => {
            let network = address(&network, "--network")?;
            let referrer = referrer
                .map(|r| parse_wallet(&r, "--referrer").map_err(Failure::input))
                .transpose()?;
            let wallet = signer(args)?;
            let mut cluster = connect(args).await?;
            member::join(&mut cluster, &wallet, network, &class, referrer).await?
        }
        MemberCommand::SetReferrer { network, referrer } => {
            let network = address(&network, "--network")?;
            let referrer = parse_wallet(&referrer, "referrer").map_err(Failure::input)?;
            let wallet = signer(args)?;
            let mut cluster = connect(args).await?;
            member::set_referrer(&mut cluster, &wallet, network, referrer).await?
        }
        MemberCommand::Withdraw {
            network,
            ledger,
            amount,
            to,
        } => {
            let network = address(&network, "--network")?;
            let to = to.map(|t| address(&t, "--to")).transpose()?;
            let wallet = signer(args)?;
            let mut cluster = connect(args).await?;
            member::withdraw(&mut cluster, &wallet, network, &ledger, &amount, to).await?
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
            let stats = member::stats(&mut cluster, network, wallet).await?;
            if json {
                serde_json::to_string_pretty(&stats).unwrap_or_default() + "\n"
            } else {
                member::render_stats(&stats)
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
