//! `upline`: the sandbox demo and scenario simulation, a local sandbox
//! cluster, network set-up, the oracle's and the wallet's commands.

use clap::{Args, Parser, Subcommand};
use solana_signer::Signer;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use upline_cli::scenario::Scenario;
use upline_cli::{demo, exit, expect, simulate, simulate_world, tables, Failure};

mod args;
mod commands;
mod explorer;
mod network_admin;
mod operate_cli;
mod oracle_commands;
mod oracle_run;

pub use args::{AttestCommand, CoSignerArgs, NetworkCommand, OracleCommand, SubmitArgs};

#[derive(Parser)]
#[command(
    name = "upline",
    version,
    about = "Referral and reward engine for DePIN networks"
)]
struct Cli {
    #[command(flatten)]
    cluster: ClusterArgs,
    #[command(subcommand)]
    command: Command,
}

/// Where commands that talk to a cluster send their transactions.
#[derive(Args, Clone)]
pub struct ClusterArgs {
    /// JSON-RPC URL or moniker: localhost, devnet, testnet, mainnet-beta
    /// (default: json_rpc_url of ~/.config/solana/cli/config.yml, else localhost).
    #[arg(long, short = 'u', global = true)]
    pub url: Option<String>,
    /// Keypair file that signs and pays (default: keypair_path of the Solana
    /// CLI's config.yml, else ~/.config/solana/id.json).
    #[arg(long, short = 'k', global = true)]
    pub keypair: Option<PathBuf>,
    /// Commitment to read and confirm at: processed, confirmed or finalized
    /// (default: commitment of config.yml, else confirmed).
    #[arg(long, global = true, value_parser = ["processed", "confirmed", "finalized"])]
    pub commitment: Option<String>,
    /// Priority fee of every transaction sent, micro-lamports per compute unit.
    #[arg(long, global = true, value_name = "MICRO_LAMPORTS")]
    pub with_compute_unit_price: Option<u64>,
    /// Compute-unit limit of every transaction sent (default: the runtime's,
    /// or for `oracle submit` a per-report estimate; README, "Cost and throughput").
    #[arg(long, global = true, value_name = "UNITS", value_parser = clap::value_parser!(u32).range(1..=1_400_000))]
    pub compute_unit_limit: Option<u32>,
    /// Output format of a command that prints a result, as the Solana CLI
    /// takes it: display (default), json or json-compact (both the command's
    /// --json).
    #[arg(long, global = true, value_name = "FORMAT", value_parser = ["display", "json", "json-compact"])]
    pub output: Option<String>,
    /// Sign with the keys at hand and print (or for `oracle submit` write)
    /// the transaction for keys held elsewhere, instead of sending it; give
    /// such a key to --keypair as its public key.
    #[arg(long, global = true)]
    pub sign_only: bool,
    /// The recent blockhash to sign over (default: the cluster's latest).
    #[arg(long, global = true, value_name = "HASH")]
    pub blockhash: Option<String>,
    /// A signature made elsewhere, base-58 (repeat): with --blockhash, it
    /// signs for its key as --sign-only printed the transaction.
    #[arg(long = "signer", global = true, value_name = "PUBKEY=SIGNATURE")]
    pub signers: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run every example of the Cxmpute, Clore.ai and Aether documents on the
    /// sandbox and show each figure next to the document's.
    Demo {
        /// Then keep the demo's sandbox and serve the explorer's dashboard on it.
        #[arg(long)]
        serve: bool,
        /// The dashboard's port, with --serve.
        #[arg(long, default_value_t = 8080, requires = "serve")]
        port: u16,
        /// The first demo sandbox's JSON-RPC port, with --serve (its PubSub
        /// the next; the other sandboxes two ports apart; 0: any free ports).
        #[arg(long, default_value_t = 8899, requires = "serve")]
        sandbox_port: u16,
    },
    /// Run a scenario file (DESIGN.md §8) on the sandbox.
    Simulate {
        /// The scenario file.
        file: String,
        /// Print the §8 JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Sign a transaction message that `--sign-only` printed, with the
    /// --keypair key, on the machine that holds it: shows what the message
    /// does and prints PUBKEY=SIGNATURE for `--signer`.
    Sign {
        /// The message (base64, the Message line --sign-only printed), or a file holding it.
        message: String,
    },
    /// Serve the sandbox as a local cluster (JSON-RPC on 127.0.0.1, PubSub
    /// WebSocket on the next port, as solana-test-validator; Yellowstone gRPC
    /// after it), for `--url localhost` and any Solana client (web3.js,
    /// @solana/kit, Anchor, Yellowstone gRPC clients).
    Sandbox {
        /// JSON-RPC port (PubSub: the next one; 0: any free ports, printed).
        #[arg(long, default_value_t = 8899)]
        port: u16,
        /// Yellowstone gRPC (Geyser) port (default: the JSON-RPC port + 2,
        /// or any free port if that one is taken; 0: any free port; printed).
        #[arg(long, value_name = "PORT", conflicts_with = "no_grpc")]
        grpc_port: Option<u16>,
        /// Serve no Yellowstone gRPC.
        #[arg(long)]
        no_grpc: bool,
        /// For tests of retry logic: every Nth transaction sendTransaction
        /// accepts is answered with its signature but never executed, as a
        /// cluster that loses it (0: off).
        #[arg(long, default_value_t = 0, value_name = "N")]
        drop_every: u64,
    },
    /// Write a new keypair file.
    Keygen {
        /// Where to write it (default: the --keypair path).
        #[arg(long)]
        outfile: Option<PathBuf>,
    },
    /// Ask the cluster's faucet for SOL (localhost, devnet, the sandbox).
    Airdrop {
        /// Amount of SOL.
        sol: String,
        /// Recipient (default: the --keypair wallet).
        #[arg(long)]
        to: Option<String>,
    },
    /// Network set-up (the --keypair wallet is the admin).
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Oracle commands (the --keypair wallet is the oracle).
    #[command(subcommand)]
    Oracle(OracleCommand),
    /// Wallet commands (the --keypair wallet is the member).
    #[command(subcommand)]
    Member(MemberCommand),
    /// The explorer: index a cluster's Upline events, audit them, serve the
    /// referral-stats API and dashboard.
    #[command(subcommand)]
    Explorer(ExplorerCommand),
    /// Write the program's IDL to target/idl/upline.json (run inside the repository).
    Idl,
    /// Measure what Upline costs: account bytes and rent, report transaction
    /// bytes and batch capacity, write locks, sandbox and explorer throughput.
    Bench {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// A small run (300 members, no 7,800-report example): seconds, not minutes.
        #[arg(long)]
        quick: bool,
        /// Members of the generated network (default 10,000; 300 with --quick).
        #[arg(long)]
        members: Option<usize>,
        /// Members of each network the explorer is measured on
        /// (default 10000,100000; 300 with --quick).
        #[arg(long, value_delimiter = ',', value_name = "N,N")]
        explorer_members: Vec<usize>,
        /// Measure only the explorer at scale.
        #[arg(long)]
        explorer_only: bool,
    },
}

#[derive(Subcommand)]
pub enum ExplorerCommand {
    /// Index every Upline event of the --url cluster (resumes where it stopped).
    Index {
        /// The index: a SQLite file, or a postgres:// URL.
        #[arg(long, default_value = explorer::DEFAULT_DB)]
        db: String,
        /// Transactions fetched at once (lower it for an endpoint that rate-limits).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
        concurrency: u16,
    },
    /// Recompute every credit from the index and check the balances (exit 1 on any mismatch).
    Audit {
        /// The index: a SQLite file, or a postgres:// URL.
        #[arg(long, default_value = explorer::DEFAULT_DB)]
        db: String,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
        /// Replay every network from its creation instead of resuming from
        /// the last audit's checkpoint (re-reads what the checkpoint passed,
        /// e.g. an index row rewritten since; rewrites the checkpoints).
        #[arg(long)]
        full: bool,
    },
    /// Serve the referral-stats API, the dashboard and the network and
    /// member pages.
    Serve {
        /// The index: a SQLite file, or a postgres:// URL (TLS as libpq's
        /// sslmode asks: ?sslmode=require for managed databases).
        #[arg(long, default_value = explorer::DEFAULT_DB)]
        db: String,
        /// Address to listen on (0.0.0.0: every interface).
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Port to listen on (0: any free port; the URL is printed).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Index the --url cluster at start and then every this many seconds (0: serve the index as it is).
        #[arg(long, default_value_t = 0)]
        follow: u64,
        /// Follow the cluster live through this Yellowstone gRPC endpoint
        /// (`upline sandbox` serves one; providers' URLs need the token in
        /// UPLINE_GRPC_X_TOKEN): the --url cluster is backfilled over JSON-RPC
        /// first, then new transactions and the program's accounts stream in.
        #[arg(long, value_name = "URL")]
        grpc: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum MemberCommand {
    /// Join a network in a class, linked to a referrer if given (a wallet
    /// holds one membership per class).
    Join {
        #[arg(long)]
        network: String,
        /// Member class, by name (user, provider, account, node...).
        #[arg(long)]
        class: String,
        /// The referrer's wallet (its referral code): its membership in your
        /// class refers you, else its only one.
        #[arg(long)]
        referrer: Option<String>,
        /// Which of the referrer's memberships refers you, where it holds
        /// several and none in your class.
        #[arg(long, requires = "referrer")]
        referrer_class: Option<String>,
        /// A keypair that pays the membership's rent instead of you (it signs too).
        #[arg(long, value_name = "KEYPAIR")]
        sponsor: Option<std::path::PathBuf>,
    },
    /// Give your memberships (or --wallet's) slots on the ledgers added since
    /// they joined; anyone may pay (the --keypair wallet pays the rent).
    OpenLedgers {
        #[arg(long)]
        network: String,
        /// Whose memberships (default: the --keypair wallet).
        #[arg(long)]
        wallet: Option<String>,
        /// Only this membership (default: every one the wallet holds).
        #[arg(long)]
        class: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Link to a referrer after joining (once; links are permanent).
    SetReferrer {
        #[arg(long)]
        network: String,
        /// The referrer's wallet.
        referrer: String,
        /// Your membership to link (default: your only one).
        #[arg(long)]
        class: Option<String>,
        /// Which of the referrer's memberships refers you, where it holds
        /// several and none in your class.
        #[arg(long)]
        referrer_class: Option<String>,
    },
    /// Withdraw from a token ledger to your token account.
    Withdraw {
        #[arg(long)]
        network: String,
        /// Ledger name (CXPT, CLORE, AETH...).
        #[arg(long, required_unless_present = "all_ledgers")]
        ledger: Option<String>,
        /// Whole units, decimal, or "all".
        #[arg(long, default_value = "all")]
        amount: String,
        /// From every token ledger, what is claimable now (at or above its
        /// minimum); points and ledgers below their minimum are skipped with a note.
        #[arg(long, conflicts_with_all = ["ledger", "to"])]
        all_ledgers: bool,
        /// Print JSON (with --all-ledgers).
        #[arg(long, requires = "all_ledgers")]
        json: bool,
        /// The membership to withdraw from (default: your only one).
        #[arg(long)]
        class: Option<String>,
        /// Token account to pay (default: your associated token account, created if missing).
        #[arg(long)]
        to: Option<String>,
    },
    /// Referral stats of each membership the wallet holds: totals by source,
    /// downline and rewards by level, 30-day history, tier.
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

/// Parse `argv`; `--output json` (or `json-compact`) asks for the command's
/// own `--json`, which the leaf subcommand takes at the end of the line. A
/// command that prints no result has no `--json`: the format is moot there.
fn parse_cli(argv: Vec<std::ffi::OsString>) -> Cli {
    if wants_json(&argv) {
        let mut with_json = argv.clone();
        with_json.push("--json".into());
        match Cli::try_parse_from(with_json) {
            Ok(cli) => return cli,
            Err(e) if e.kind() == clap::error::ErrorKind::UnknownArgument => {}
            Err(e) => e.exit(),
        }
    }
    Cli::parse_from(argv)
}

/// Whether `argv` asks for JSON with `--output json|json-compact`.
fn wants_json(argv: &[std::ffi::OsString]) -> bool {
    let json = |v: &str| v == "json" || v == "json-compact";
    argv.iter().enumerate().any(|(i, arg)| match arg.to_str() {
        Some("--output") => argv.get(i + 1).and_then(|v| v.to_str()).is_some_and(json),
        Some(a) => a.strip_prefix("--output=").is_some_and(json),
        None => false,
    }) && !argv.iter().any(|a| a == "--json" || a == "--")
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = parse_cli(std::env::args_os().collect());
    // The sandbox bank logs every transaction at debug level unless told otherwise.
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    let mut out = match upline_cli::quiet::silence_program_logs() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("upline: cannot set up standard output: {e}");
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    match run(cli, &mut out).await {
        Ok(code) => ExitCode::from(code),
        Err(failure) if failure.code == exit::OK => {
            use std::io::Write;
            let _ = write!(out, "{}", failure.message);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("upline: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

async fn run(cli: Cli, out: &mut std::fs::File) -> Result<u8, Failure> {
    let cluster = cli.cluster;
    match cli.command {
        Command::Simulate { file, json } => {
            let scenario = Scenario::load(&file).map_err(|e| Failure::input(e.to_string()))?;
            let result = simulate(&scenario)
                .await
                .map_err(|e| Failure::input(format!("{file}: {e}")))?;
            let checked = scenario.expect.as_ref().map(|e| (e, e.check(&result)));
            if json {
                let text = serde_json::to_string_pretty(&result).unwrap_or_default();
                let _ = writeln!(out, "{text}");
            } else {
                let _ = write!(out, "{}", tables::render(&result));
                if let Some((block, checked)) = &checked {
                    let title = block.title.as_deref().unwrap_or("expected figures");
                    let _ = writeln!(out, "\n== {title}");
                    let _ = write!(out, "{}", expect::figures_table(checked));
                }
            }
            match checked.and_then(|(_, checked)| expect::mismatches(&checked)) {
                Some(differ) => Err(Failure::refused(format!("{file}: {differ}"))),
                None => Ok(0),
            }
        }
        Command::Demo {
            serve,
            port,
            sandbox_port,
        } => run_demo(out, serve.then_some((port, sandbox_port))).await,
        Command::Sandbox {
            port,
            grpc_port,
            no_grpc,
            drop_every,
        } => {
            let grpc = commands::GrpcPort::from_flags(grpc_port, no_grpc);
            commands::sandbox(port, grpc, drop_every, out).await
        }
        Command::Keygen { outfile } => commands::keygen(&cluster, outfile, out),
        Command::Sign { message } => commands::sign(&cluster, &message, out),
        Command::Airdrop { sol, to } => commands::airdrop(&cluster, &sol, to, out).await,
        Command::Network(command) => commands::network(&cluster, command, out).await,
        Command::Oracle(command) => oracle_commands::oracle(&cluster, command, out).await,
        Command::Member(command) => commands::member(&cluster, command, out).await,
        Command::Explorer(command) => explorer::explorer(&cluster, command, out).await,
        Command::Idl => commands::idl(out),
        Command::Bench {
            json,
            quick,
            members,
            explorer_members,
            explorer_only,
        } => {
            let options = bench_options(quick, members, explorer_members, explorer_only)?;
            run_bench(out, json, &options).await
        }
    }
}

async fn run_demo(out: &mut impl Write, serve: Option<(u16, u16)>) -> Result<u8, Failure> {
    let mut all = true;
    let mut kept = Vec::new();
    for d in demo::scenarios().map_err(|e| Failure::input(e.to_string()))? {
        let _ = writeln!(out, "\n== {}", d.title);
        let (world, result) = simulate_world(&d.scenario)
            .await
            .map_err(|e| Failure::input(format!("{}: {e}", d.title)))?;
        let checked = d.expect.check(&result);
        let _ = write!(out, "{}", expect::figures_table(&checked));
        let matched = expect::mismatches(&checked).is_none();
        let verdict = result["audit"]["verdict"]
            .as_str()
            .unwrap_or("?")
            .to_string();
        let _ = writeln!(
            out,
            "  audit: {verdict} ({} events, {} reports recomputed)",
            result["audit"]["events"], result["audit"]["reports"]
        );
        all &= matched && verdict == "pass";
        if serve.is_some() {
            kept.push((d.title.to_string(), world));
        }
    }
    let summary = if all {
        "every figure matches its document, every audit passes"
    } else {
        "MISMATCH: see above"
    };
    let _ = writeln!(out, "\n{summary}");
    let Some((port, sandbox_port)) = serve else {
        return Ok(if all { 0 } else { exit::REFUSED });
    };
    for (title, world) in &kept {
        let _ = writeln!(out, "\n{title}");
        for m in world.members.iter().take(4) {
            let _ = writeln!(out, "  {:<12} {}", m.name, m.wallet.pubkey());
        }
    }
    let chains = kept
        .into_iter()
        .map(|(title, world)| (title, world.chain))
        .collect();
    explorer::serve_demo(chains, port, sandbox_port, out).await
}

/// What `upline bench`'s flags ask for.
fn bench_options(
    quick: bool,
    members: Option<usize>,
    explorer_members: Vec<usize>,
    explorer_only: bool,
) -> Result<upline_cli::bench::BenchOptions, Failure> {
    let mut options = if quick {
        upline_cli::bench::BenchOptions::quick()
    } else {
        upline_cli::bench::BenchOptions::full()
    };
    if let Some(n) = members {
        if n < 1 {
            return Err(Failure::input("--members: at least 1"));
        }
        options.members = n;
    }
    if !explorer_members.is_empty() {
        if explorer_members.contains(&0) {
            return Err(Failure::input("--explorer-members: each size at least 1"));
        }
        options.explorer_members = explorer_members;
    }
    options.explorer_only = explorer_only;
    Ok(options)
}

async fn run_bench(
    out: &mut impl Write,
    json: bool,
    options: &upline_cli::bench::BenchOptions,
) -> Result<u8, Failure> {
    let mut progress = |part: &str| eprintln!("bench: {part}...");
    let result = upline_cli::bench::run(options, &mut progress)
        .await
        .map_err(|e| Failure::refused(format!("bench: {e}")))?;
    if json {
        let text = serde_json::to_string_pretty(&result).unwrap_or_default();
        let _ = writeln!(out, "{text}");
    } else {
        let _ = write!(out, "{}", upline_cli::bench::render(&result));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<std::ffi::OsString> {
        line.split_whitespace().map(Into::into).collect()
    }

    #[test]
    fn output_json_is_the_commands_own_json_wherever_it_is_given() {
        for line in [
            "upline --output json simulate f.json",
            "upline simulate f.json --output=json-compact",
            "upline simulate --output json f.json",
        ] {
            let cli = parse_cli(argv(line));
            assert!(
                matches!(cli.command, Command::Simulate { json: true, .. }),
                "{line}"
            );
        }
        let cli = parse_cli(argv("upline --output display simulate f.json"));
        assert!(matches!(cli.command, Command::Simulate { json: false, .. }));
        // A command that prints no result takes the flag and ignores it.
        let cli = parse_cli(argv("upline --output json keygen"));
        assert!(matches!(cli.command, Command::Keygen { .. }));
        assert!(!wants_json(&argv(
            "upline simulate f.json --json --output json"
        )));
    }
}
