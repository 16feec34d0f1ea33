//! `network tables update FILE`: prints what changes, asks on a terminal
//! unless `--yes`, refuses without a terminal and without `--yes`.

use super::NetworkTarget;
use crate::commands::{address, admin_signer, connect};
use crate::ClusterArgs;
use clap::Subcommand;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use upline_cli::admin::Outcome;
use upline_cli::{exit, operate, Failure};
use upline_sdk::preset::Preset;

#[derive(Subcommand)]
pub enum TablesCommand {
    /// Replace the network's tables and report tables with a preset file's
    /// (the format `network init --tables` takes); prints what changes,
    /// class by class and field by field, and asks before sending.
    Update {
        /// The preset file (migrations/presets/*.json format).
        file: PathBuf,
        /// Apply without asking (needed where there is no terminal to ask on).
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        target: NetworkTarget,
    },
}

fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}

pub async fn run(
    args: &ClusterArgs,
    command: TablesCommand,
    out: &mut impl Write,
) -> Result<(Outcome, bool), Failure> {
    let TablesCommand::Update { file, yes, target } = command;
    let network = address(&target.network, "--network")?;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Failure::input(format!("{}: {e}", file.display())))?;
    let preset =
        Preset::parse(&text, &file.display().to_string()).map_err(|e| Failure::input(e.0))?;
    let admin = admin_signer(args)?;
    let mut cluster = connect(args).await?;
    let plan = operate::plan_tables(&mut cluster, network, &preset).await?;
    if let Some(outcome) = plan.unchanged() {
        return Ok((outcome, target.json));
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure {
                code: exit::BAD_INPUT,
                message: format!(
                    "tables update: {} to network {network}:\n{}no terminal to confirm on: re-run with --yes to apply",
                    operate::plural(plan.changes.len() as u64, "change"),
                    plan.text()
                ),
            });
        }
        let _ = write!(out, "changes to network {network}:\n{}", plan.text());
        let _ = out.flush();
        if !confirm("apply them?") {
            return Ok((plan.not_applied(), target.json));
        }
    }
    Ok((plan.apply(&mut cluster, admin.as_ref()).await?, target.json))
}
