//! `upline`: the sandbox demo and scenario simulation (the oracle, wallet and
//! network commands over JSON-RPC come next).

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;
use upline_cli::scenario::Scenario;
use upline_cli::{demo, simulate, tables};

#[derive(Parser)]
#[command(
    name = "upline",
    version,
    about = "Referral and reward engine for DePIN networks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every example of the Cxmpute, Clore.ai and Aether documents on the
    /// sandbox and show each figure next to the document's.
    Demo,
    /// Run a scenario file (DESIGN.md §8) on the sandbox.
    Simulate {
        /// The scenario file.
        file: String,
        /// Print the §8 JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
}

/// Exit codes: 0 done, 1 a figure or audit did not match, 2 bad input.
#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The sandbox bank logs every transaction at debug level unless told otherwise.
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    let mut out = match upline_cli::quiet::silence_program_logs() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("upline: cannot set up standard output: {e}");
            return ExitCode::from(2);
        }
    };
    run(cli, &mut out).await
}

async fn run(cli: Cli, out: &mut impl Write) -> ExitCode {
    match cli.command {
        Command::Simulate { file, json } => {
            let scenario = match Scenario::load(&file) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("upline simulate: {e}");
                    return ExitCode::from(2);
                }
            };
            match simulate(&scenario).await {
                Ok(result) if json => {
                    let _ = writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&result).unwrap_or_default()
                    );
                    ExitCode::SUCCESS
                }
                Ok(result) => {
                    let _ = write!(out, "{}", tables::render(&result));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("upline simulate: {file}: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Demo => {
            let mut all = true;
            for d in demo::scenarios() {
                let _ = writeln!(out, "\n== {}", d.title);
                let result = match simulate(&d.scenario).await {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("upline demo: {}: {e}", d.title);
                        return ExitCode::from(2);
                    }
                };
                let (figures, matched) = demo::figures_table(&result, &d.figures);
                let _ = write!(out, "{figures}");
                let verdict = result["audit"]["verdict"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string();
                let _ = writeln!(
                    out,
                    "  audit: {verdict} ({} events)",
                    result["audit"]["events"]
                );
                all &= matched && verdict == "pass";
            }
            let summary = if all {
                "every figure matches its document, every audit passes"
            } else {
                "MISMATCH: see above"
            };
            let _ = writeln!(out, "\n{summary}");
            if all {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}
