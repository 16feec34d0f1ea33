//! `upline oracle run`: the oracle node's flags checked and its parts put
//! together (the service itself is `upline_cli::oracle_node`).

use crate::args::CoSignerArgs;
use crate::commands::{address, connect, signer};
use crate::oracle_commands::co_signers;
use crate::ClusterArgs;
use solana_signer::Signer;
use std::io::Write;
use upline_cli::oracle_node::RunArgs;
use upline_cli::submit::REPORT_COMPUTE_UNITS;
use upline_cli::Failure;

/// Reports per send at most: a long queue (after an outage) is sent in
/// steps that each settle and are kept, and a stop waits for one step only.
const MOST_PER_SEND: usize = 512;

pub(crate) async fn run_node(
    args: &ClusterArgs,
    request: RunArgs,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let network = address(&request.network, "--network")?;
    let shown = request.token_file.display().to_string();
    let token = std::fs::read_to_string(&request.token_file)
        .map_err(|e| Failure::input(format!("--token-file {shown}: {e}")))?
        .trim()
        .to_string();
    if token.is_empty() {
        return Err(Failure::input(format!(
            "--token-file {shown}: the file is empty"
        )));
    }
    if request.batch_size == 0 {
        return Err(Failure::input("--batch-size: at least 1"));
    }
    let oracle = signer(args)?;
    let given = CoSignerArgs {
        co_signers: request.co_signers.clone(),
    };
    let co = co_signers(&given, &oracle.pubkey(), &[])?;
    let intake = connect(args).await?;
    let mut cluster = connect(args).await?;
    cluster.budget.units_per_instruction = Some(REPORT_COMPUTE_UNITS);
    let who = oracle.pubkey();
    let sender = upline_cli::oracle_node::Sender {
        cluster,
        oracle,
        co_signers: co,
        network,
        max_in_flight: request.max_in_flight,
    };
    let config = upline_cli::oracle_node::NodeConfig {
        listen: request.listen,
        db: request.db.clone(),
        token,
        batching: upline_cli::oracle_node::Batching {
            age: std::time::Duration::from_millis(request.batch_ms),
            size: request.batch_size,
            most: MOST_PER_SEND.max(request.batch_size),
        },
    };
    let db = request.db.display().to_string();
    let ready = |address: std::net::SocketAddr| {
        let _ = writeln!(
            out,
            "upline oracle run: serving on http://{address} (oracle {who}, network {network}, queue {db}); SIGTERM stops it after the batch being sent (at most 60 s)"
        );
    };
    upline_cli::oracle_node::run(
        config,
        intake,
        sender,
        upline_cli::oracle_node::stop_signal(),
        ready,
    )
    .await
    .map_err(Failure::refused)?;
    eprintln!("upline oracle run: stopped");
    Ok(0)
}
