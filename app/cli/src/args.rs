//! The flags of `upline network` and `upline oracle`.

use clap::{Args, Subcommand};
use std::path::PathBuf;

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
        /// Accept a --mint that has a freeze authority (USDC, most bridged
        /// tokens). Its holder can freeze the vault and stop every withdrawal;
        /// the ledger records it and the explorer shows it.
        #[arg(long)]
        allow_freeze_authority: bool,
        /// Oracle wallet to authorise (repeat for more).
        #[arg(long = "oracle", value_name = "WALLET")]
        oracles: Vec<String>,
        /// Distinct oracles that must approve each report and attestation
        /// (set after the oracles are added; at most their number).
        #[arg(long, value_name = "M")]
        quorum: Option<u8>,
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
    /// Set how many distinct oracles must approve each report and attestation.
    Quorum {
        /// The quorum: 1 to the number of oracles the network has.
        quorum: u8,
        #[arg(long)]
        network: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Cap what the reports one oracle approves may credit on a ledger per
    /// window (the earner's reward, every commission and bonus).
    OracleCap {
        #[arg(long)]
        network: String,
        /// The oracle's key (wallet address or keypair file).
        #[arg(long)]
        oracle: String,
        /// Ledger name.
        #[arg(long)]
        ledger: String,
        /// Most credited per window, whole units of the ledger, decimal; 0 removes the cap.
        #[arg(long)]
        limit: String,
        /// Window length in seconds (needed unless --limit is 0).
        #[arg(long, value_name = "SECONDS")]
        window: Option<i64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Freeze a membership (fraud response): reports about it are refused,
    /// commissions that would reach it are withheld, it cannot withdraw, link
    /// or be linked to; its balances are kept.
    Freeze(MemberTarget),
    /// Unfreeze a membership: it earns, links and withdraws again.
    Unfreeze(MemberTarget),
    /// Remove a node's attested device: its subnet counts one node fewer and
    /// the node's reports are refused until an oracle attests it again.
    DeregisterDevice {
        #[arg(long)]
        network: String,
        /// The node's wallet (its membership in the node class).
        #[arg(long)]
        wallet: String,
        /// The device fingerprint as attested (default: found in the node's
        /// history, its latest attestation).
        #[arg(long, requires = "subnet")]
        device: Option<String>,
        /// The subnet as attested, with --device.
        #[arg(long, requires = "device")]
        subnet: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The network: admin, pause, tables, promotion, oracles and quorum,
    /// each ledger's funds, minimum and circuit breaker.
    Show(crate::operate_cli::NetworkTarget),
    /// Assign a member's commission tier (Clore's premium and VIP).
    Tier(crate::operate_cli::TierArgs),
    /// Open or close the network's promotion window.
    #[command(subcommand)]
    Promotion(crate::operate_cli::PromotionCommand),
    /// Pause the network: joins, links, withdrawals and reports are refused.
    Pause(crate::operate_cli::NetworkTarget),
    /// Unpause the network.
    Unpause(crate::operate_cli::NetworkTarget),
    /// Add or remove an oracle.
    #[command(name = "oracle", subcommand)]
    OracleSet(crate::operate_cli::OracleSetCommand),
    /// Hand the admin role over: propose, accept (the proposed wallet signs), cancel.
    #[command(subcommand)]
    Admin(crate::operate_cli::AdminCommand),
    /// Register or update a model (complexity and the lowest provider tier).
    #[command(subcommand)]
    Model(crate::operate_cli::ModelCommand),
    /// Add a ledger, or change a ledger's minimum withdrawal and circuit breaker.
    #[command(subcommand)]
    Ledger(crate::operate_cli::LedgerCommand),
    /// Update the network's tables from a preset file.
    #[command(subcommand)]
    Tables(crate::operate_cli::TablesCommand),
}

/// A membership an admin command acts on.
#[derive(Args)]
pub struct MemberTarget {
    #[arg(long)]
    pub network: String,
    /// The member's wallet.
    #[arg(long)]
    pub wallet: String,
    /// Which of the wallet's memberships (default: its only one).
    #[arg(long)]
    pub class: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Oracles that approve with the --keypair oracle (the network's quorum).
#[derive(Args, Clone, Default)]
pub struct CoSignerArgs {
    /// A co-signing oracle's keypair file (repeat for more): it signs every
    /// transaction and each report or attestation names it as an approver.
    #[arg(long = "co-signer", value_name = "KEYPAIR")]
    pub co_signers: Vec<PathBuf>,
}

#[derive(Subcommand)]
pub enum OracleCommand {
    /// Attest a member's device.
    #[command(subcommand)]
    Attest(AttestCommand),
    /// Send the reports of a JSON-lines file (format: README, "Running a network").
    ///
    /// One JSON object per line: "kind" (compute, usage, rental, bandwidth) and
    /// the fields of the DESIGN.md §8 step of that name, wallets as base-58
    /// addresses (a report is about the wallet's membership in the kind's
    /// class: provider, user, node), bandwidth with "device" and "subnet", and
    /// "work_time": when the work happened, RFC 3339 ("2026-01-01T12:00:00Z")
    /// or unix seconds; omitted, the cluster's clock when the file is sent.
    ///
    /// Co-signing oracles on other machines: `--sign-only` writes the
    /// transactions to sign, each oracle runs `upline oracle sign` on them,
    /// and `--messages FILE --signatures SIGS...` sends them signed.
    Submit(SubmitArgs),
    /// Sign the transactions `oracle submit --sign-only` wrote, with the
    /// --keypair oracle's key; prints (or writes) its signatures.
    Sign {
        /// The file `oracle submit --sign-only` wrote.
        messages: PathBuf,
        /// Write the signatures here (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the oracle as a service: reports posted over HTTP, stored durably,
    /// sent in batches (README, "Running an oracle node").
    Run(crate::oracle_commands::RunArgs),
}

#[derive(Args)]
pub struct SubmitArgs {
    /// The reports file, one JSON object per line.
    pub file: PathBuf,
    #[arg(long)]
    pub network: String,
    #[command(flatten)]
    pub co: CoSignerArgs,
    /// Send legacy transactions (about 5 full-upline reports each) instead of
    /// v0 transactions through the oracle's address lookup tables.
    #[arg(long)]
    pub legacy: bool,
    /// How many v0 transactions may be sent and awaiting confirmation at once.
    #[arg(long, value_name = "N", default_value_t = upline_cli::sender::MAX_IN_FLIGHT, value_parser = clap::value_parser!(usize))]
    pub max_in_flight: usize,
    // --sign-only (write the transactions to be signed, JSON, instead of
    // sending them; sign and send them before their blockhash expires, about
    // a minute on a real cluster), --blockhash and --signer PUBKEY=SIGNATURE
    // (with --messages: one signature, counted for the transaction it
    // verifies against) are the global flags of `ClusterArgs`.
    /// With --sign-only: a co-signing oracle that signs on another machine, by its key (repeat).
    #[arg(long = "co-signer-pubkey", value_name = "PUBKEY")]
    pub co_signer_pubkeys: Vec<String>,
    /// With --sign-only: where to write (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Send the transactions --sign-only wrote to this file, with the signatures given.
    #[arg(long, value_name = "FILE")]
    pub messages: Option<PathBuf>,
    /// Signature files `upline oracle sign` wrote.
    #[arg(long, value_name = "FILE", num_args = 1.., requires = "messages")]
    pub signatures: Vec<PathBuf>,
}

#[derive(Subcommand)]
pub enum AttestCommand {
    /// A compute provider's GPU (Cxmpute): its VRAM sets the provider's tier.
    Provider {
        #[arg(long)]
        network: String,
        /// The provider's wallet (its membership in the provider class is attested).
        #[arg(long)]
        wallet: String,
        /// VRAM in MiB.
        #[arg(long)]
        vram_mb: u32,
        #[command(flatten)]
        co: CoSignerArgs,
    },
    /// A bandwidth node's device (Aether): one member per device, a few per subnet.
    Node {
        #[arg(long)]
        network: String,
        /// The node's wallet (its membership in the node class is attested).
        #[arg(long)]
        wallet: String,
        /// Device fingerprint (hashed before it goes on chain).
        #[arg(long)]
        device: String,
        /// Subnet, e.g. 203.0.113.0/24 (hashed before it goes on chain).
        #[arg(long)]
        subnet: String,
        #[command(flatten)]
        co: CoSignerArgs,
    },
}
