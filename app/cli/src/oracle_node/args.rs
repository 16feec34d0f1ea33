//! The flags of `upline oracle run` and the signals that stop it.

/// `upline oracle run`'s flags (the --keypair wallet is the oracle).
#[derive(clap::Args)]
pub struct RunArgs {
    #[arg(long)]
    pub network: String,
    /// Address to serve on (port 0: any free port; the URL is printed). The
    /// default keeps clear of a local cluster's 8899 and its PubSub 8900.
    #[arg(long, default_value = "127.0.0.1:9400")]
    pub listen: std::net::SocketAddr,
    /// The queue: a SQLite file, created if missing (keep it across restarts).
    #[arg(long)]
    pub db: std::path::PathBuf,
    /// A file holding the bearer token that POST /reports and GET /reports need.
    #[arg(long)]
    pub token_file: std::path::PathBuf,
    /// Send a batch once its oldest report has waited this long (milliseconds)...
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub batch_ms: u64,
    /// ...or once this many reports wait.
    #[arg(long, default_value_t = 256, value_name = "N", value_parser = clap::value_parser!(usize))]
    pub batch_size: usize,
    /// A co-signing oracle's keypair file (repeat for more): it signs every
    /// transaction and each report names it as an approver.
    #[arg(long = "co-signer", value_name = "KEYPAIR")]
    pub co_signers: Vec<std::path::PathBuf>,
    /// How many v0 transactions may be sent and awaiting confirmation at once.
    #[arg(long, value_name = "N", default_value_t = crate::sender::MAX_IN_FLIGHT, value_parser = clap::value_parser!(usize))]
    pub max_in_flight: usize,
}

/// SIGTERM or Ctrl-C.
pub async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
