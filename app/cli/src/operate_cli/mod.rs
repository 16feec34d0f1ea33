//! The flags and dispatch of the admin's day-to-day commands: `network
//! show|tier|promotion|pause|unpause|oracle|admin` (the work is in
//! `upline_cli::operate`).

use crate::commands::{address, admin_signer, connect};
use crate::ClusterArgs;
use clap::{Args, Subcommand};
use std::io::Write;
use upline_cli::admin::Outcome;
use upline_cli::keys::parse_wallet;
use upline_cli::{operate, Failure};

mod members;
mod tables;
pub use members::member;
pub use tables::TablesCommand;

/// A network and the output format.
#[derive(Args)]
pub struct NetworkTarget {
    #[arg(long)]
    pub network: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `network tier`.
#[derive(Args)]
pub struct TierArgs {
    #[arg(long)]
    pub network: String,
    /// The member's wallet.
    #[arg(long)]
    pub wallet: String,
    /// standard, premium or vip.
    #[arg(long)]
    pub tier: String,
    /// Which of the wallet's memberships (default: its only one).
    #[arg(long)]
    pub class: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum PromotionCommand {
    /// Open (or replace) the promotion window: every referrer's rental
    /// commission is RATE for work done from --start until --end.
    Open {
        /// The commission rate, a fraction: 0.5 is 50% (at most 1).
        #[arg(long)]
        rate: String,
        /// First second of the window: RFC 3339 or unix seconds.
        #[arg(long)]
        start: String,
        /// First second after the window: RFC 3339 or unix seconds.
        #[arg(long)]
        end: String,
        #[command(flatten)]
        target: NetworkTarget,
    },
    /// Close the promotion: an open window ends now, any other is cleared.
    Close(NetworkTarget),
}

/// An oracle wallet and its network.
#[derive(Args)]
pub struct OracleTarget {
    /// The oracle's key (wallet address or keypair file).
    pub wallet: String,
    #[command(flatten)]
    pub target: NetworkTarget,
}

#[derive(Subcommand)]
pub enum OracleSetCommand {
    /// Authorise an oracle (the admin pays its registration's rent).
    Add(OracleTarget),
    /// Remove an oracle (refused when it would leave the quorum unreachable).
    Remove(OracleTarget),
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Propose WALLET as the next admin.
    Propose(OracleTarget),
    /// Become the admin: the --keypair wallet is the proposed one.
    Accept(NetworkTarget),
    /// Withdraw the pending proposal.
    Cancel(NetworkTarget),
}

fn wallet(text: &str, flag: &str) -> Result<anchor_lang::prelude::Pubkey, Failure> {
    parse_wallet(text, flag).map_err(Failure::input)
}

async fn show(args: &ClusterArgs, t: NetworkTarget) -> Result<(Outcome, bool), Failure> {
    let network = address(&t.network, "--network")?;
    let mut cluster = connect(args).await?;
    Ok((operate::show(&mut cluster, network).await?, t.json))
}

async fn tier(args: &ClusterArgs, t: TierArgs) -> Result<(Outcome, bool), Failure> {
    let network = address(&t.network, "--network")?;
    let who = wallet(&t.wallet, "--wallet")?;
    let tier = operate::parse_tier(&t.tier)?;
    let admin = admin_signer(args)?;
    let mut cluster = connect(args).await?;
    let target = (who, t.class.as_deref());
    let outcome = operate::set_tier(&mut cluster, admin.as_ref(), network, target, tier).await?;
    Ok((outcome, t.json))
}

async fn promotion(
    args: &ClusterArgs,
    command: PromotionCommand,
) -> Result<(Outcome, bool), Failure> {
    match command {
        PromotionCommand::Open {
            rate,
            start,
            end,
            target,
        } => {
            let network = address(&target.network, "--network")?;
            let window = (
                operate::parse_time(&start, "--start")?,
                operate::parse_time(&end, "--end")?,
            );
            let admin = admin_signer(args)?;
            let mut cluster = connect(args).await?;
            let outcome =
                operate::open_promotion(&mut cluster, admin.as_ref(), network, &rate, window)
                    .await?;
            Ok((outcome, target.json))
        }
        PromotionCommand::Close(target) => {
            let network = address(&target.network, "--network")?;
            let admin = admin_signer(args)?;
            let mut cluster = connect(args).await?;
            let outcome = operate::close_promotion(&mut cluster, admin.as_ref(), network).await?;
            Ok((outcome, target.json))
        }
    }
}

async fn pause(
    args: &ClusterArgs,
    t: NetworkTarget,
    paused: bool,
) -> Result<(Outcome, bool), Failure> {
    let network = address(&t.network, "--network")?;
    let admin = admin_signer(args)?;
    let mut cluster = connect(args).await?;
    let outcome = operate::set_paused(&mut cluster, admin.as_ref(), network, paused).await?;
    Ok((outcome, t.json))
}

async fn oracle(args: &ClusterArgs, command: OracleSetCommand) -> Result<(Outcome, bool), Failure> {
    let (add, t) = match command {
        OracleSetCommand::Add(t) => (true, t),
        OracleSetCommand::Remove(t) => (false, t),
    };
    let network = address(&t.target.network, "--network")?;
    let key = wallet(&t.wallet, "WALLET")?;
    let admin = admin_signer(args)?;
    let mut cluster = connect(args).await?;
    let outcome = if add {
        operate::add_oracle(&mut cluster, admin.as_ref(), network, key).await?
    } else {
        operate::remove_oracle(&mut cluster, admin.as_ref(), network, key).await?
    };
    Ok((outcome, t.target.json))
}

async fn admin(args: &ClusterArgs, command: AdminCommand) -> Result<(Outcome, bool), Failure> {
    let (proposed, t, accept) = match command {
        AdminCommand::Propose(t) => (Some(wallet(&t.wallet, "WALLET")?), t.target, false),
        AdminCommand::Cancel(t) => (None, t, false),
        AdminCommand::Accept(t) => (None, t, true),
    };
    let network = address(&t.network, "--network")?;
    let keypair = admin_signer(args)?;
    let mut cluster = connect(args).await?;
    let outcome = if accept {
        operate::accept_admin(&mut cluster, keypair.as_ref(), network).await?
    } else {
        operate::propose_admin(&mut cluster, keypair.as_ref(), network, proposed).await?
    };
    Ok((outcome, t.json))
}

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Register a model.
    Register(ModelFlags),
    /// Change a registered model.
    Update(ModelFlags),
}

/// A model and what it is set to.
#[derive(Args)]
pub struct ModelFlags {
    /// The model's name as reports give it (lower case, at most 32 bytes).
    pub name: String,
    /// Complexity multiplier, decimal (3 is 3x).
    #[arg(long)]
    pub complexity: String,
    /// Lowest provider compute tier that may serve it: 1 to 4 or its name.
    #[arg(long)]
    pub min_tier: String,
    #[command(flatten)]
    pub target: NetworkTarget,
}

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Add a ledger: a token ledger of --mint, or --points.
    Add {
        /// Ledger name (at most 16 bytes).
        #[arg(long)]
        name: String,
        /// The token's mint (its token program is the mint's owner).
        #[arg(long, conflicts_with = "points", required_unless_present = "points")]
        mint: Option<String>,
        /// A points ledger (not withdrawable).
        #[arg(long)]
        points: bool,
        /// Smallest withdrawal, whole units, decimal (default 0).
        #[arg(long, conflicts_with = "points")]
        min: Option<String>,
        /// Circuit breaker: at most AMOUNT whole units out per WINDOW_SECONDS.
        #[arg(long, value_name = "AMOUNT/WINDOW_SECONDS", conflicts_with = "points")]
        breaker: Option<String>,
        /// Accept a mint that has a freeze authority.
        #[arg(long)]
        allow_freeze_authority: bool,
        #[command(flatten)]
        target: NetworkTarget,
    },
    /// Change a token ledger's minimum withdrawal or circuit breaker (what is
    /// not given is kept).
    Update {
        /// Ledger name.
        #[arg(long)]
        ledger: String,
        /// Smallest withdrawal, whole units, decimal.
        #[arg(long)]
        min: Option<String>,
        /// AMOUNT/WINDOW_SECONDS (at most AMOUNT whole units out per window), or off.
        #[arg(long, value_name = "AMOUNT/WINDOW_SECONDS|off")]
        breaker: Option<String>,
        #[command(flatten)]
        target: NetworkTarget,
    },
}

async fn model(args: &ClusterArgs, command: ModelCommand) -> Result<(Outcome, bool), Failure> {
    let (update, flags) = match command {
        ModelCommand::Register(f) => (false, f),
        ModelCommand::Update(f) => (true, f),
    };
    let network = address(&flags.target.network, "--network")?;
    let admin = admin_signer(args)?;
    let mut cluster = connect(args).await?;
    let request = operate::ModelRequest {
        name: &flags.name,
        complexity: &flags.complexity,
        min_tier: &flags.min_tier,
        update,
    };
    let outcome = operate::set_model(&mut cluster, admin.as_ref(), network, request).await?;
    Ok((outcome, flags.target.json))
}

async fn ledger(args: &ClusterArgs, command: LedgerCommand) -> Result<(Outcome, bool), Failure> {
    match command {
        LedgerCommand::Add {
            name,
            mint,
            points: _,
            min,
            breaker,
            allow_freeze_authority,
            target,
        } => {
            let network = address(&target.network, "--network")?;
            let mint = mint.map(|m| address(&m, "--mint")).transpose()?;
            let admin = admin_signer(args)?;
            let mut cluster = connect(args).await?;
            let request = operate::LedgerRequest {
                name: &name,
                mint,
                min: min.as_deref(),
                breaker: breaker.as_deref(),
                allow_freeze_authority,
            };
            let outcome =
                operate::add_ledger(&mut cluster, admin.as_ref(), network, request).await?;
            Ok((outcome, target.json))
        }
        LedgerCommand::Update {
            ledger,
            min,
            breaker,
            target,
        } => {
            let network = address(&target.network, "--network")?;
            let admin = admin_signer(args)?;
            let mut cluster = connect(args).await?;
            let change = (ledger.as_str(), min.as_deref(), breaker.as_deref());
            let outcome =
                operate::update_ledger(&mut cluster, admin.as_ref(), network, change).await?;
            Ok((outcome, target.json))
        }
    }
}

/// The commands of this module, as `network_admin::run` hands them on.
pub enum Operate {
    Show(NetworkTarget),
    Tier(TierArgs),
    Promotion(PromotionCommand),
    Pause(NetworkTarget, bool),
    Oracle(OracleSetCommand),
    Admin(AdminCommand),
    Model(ModelCommand),
    Ledger(LedgerCommand),
    Tables(TablesCommand),
}

pub async fn run(
    args: &ClusterArgs,
    command: Operate,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let (outcome, json) = match command {
        Operate::Show(t) => show(args, t).await?,
        Operate::Tier(t) => tier(args, t).await?,
        Operate::Promotion(c) => promotion(args, c).await?,
        Operate::Pause(t, paused) => pause(args, t, paused).await?,
        Operate::Oracle(c) => oracle(args, c).await?,
        Operate::Admin(c) => admin(args, c).await?,
        Operate::Model(c) => model(args, c).await?,
        Operate::Ledger(c) => ledger(args, c).await?,
        Operate::Tables(c) => tables::run(args, c, out).await?,
    };
    let _ = write!(out, "{}", outcome.render(json));
    Ok(0)
}
