//! `upline network quorum|oracle-cap|freeze|unfreeze|deregister-device`.

use crate::args::MemberTarget;
use crate::commands::{address, admin_signer, connect};
use crate::operate_cli::{self, Operate};
use crate::{ClusterArgs, NetworkCommand};
use std::io::Write;
use upline_cli::admin::{self, CapRequest};
use upline_cli::keys::parse_wallet;
use upline_cli::member::NetworkView;
use upline_cli::world::hash32;
use upline_cli::{history, Failure};

fn wallet(text: &str, flag: &str) -> Result<anchor_lang::prelude::Pubkey, Failure> {
    parse_wallet(text, flag).map_err(Failure::input)
}

async fn freeze(
    args: &ClusterArgs,
    target: MemberTarget,
    frozen: bool,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let network = address(&target.network, "--network")?;
    let who = wallet(&target.wallet, "--wallet")?;
    let admin = admin_signer(args)?;
    let mut cluster = connect(args).await?;
    let outcome = admin::set_frozen(
        &mut cluster,
        admin.as_ref(),
        network,
        (who, target.class.as_deref()),
        frozen,
    )
    .await?;
    let _ = write!(out, "{}", outcome.render(target.json));
    Ok(0)
}

/// The admin commands `network init` and `network fund` leave to this module.
pub async fn run(
    args: &ClusterArgs,
    command: NetworkCommand,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let (outcome, json) = match command {
        NetworkCommand::Quorum {
            quorum,
            network,
            json,
        } => {
            let network = address(&network, "--network")?;
            let admin = admin_signer(args)?;
            let mut cluster = connect(args).await?;
            let outcome = admin::set_quorum(&mut cluster, admin.as_ref(), network, quorum).await?;
            (outcome, json)
        }
        NetworkCommand::OracleCap {
            network,
            oracle,
            ledger,
            limit,
            window,
            json,
        } => {
            let network = address(&network, "--network")?;
            let request = CapRequest {
                oracle: wallet(&oracle, "--oracle")?,
                ledger: &ledger,
                limit: &limit,
                window,
            };
            let admin = admin_signer(args)?;
            let mut cluster = connect(args).await?;
            (
                admin::set_cap(&mut cluster, admin.as_ref(), network, request).await?,
                json,
            )
        }
        NetworkCommand::Freeze(target) => return freeze(args, target, true, out).await,
        NetworkCommand::Unfreeze(target) => return freeze(args, target, false, out).await,
        NetworkCommand::DeregisterDevice {
            network,
            wallet: node,
            device,
            subnet,
            json,
        } => {
            let network = address(&network, "--network")?;
            let node = wallet(&node, "--wallet")?;
            let admin = admin_signer(args)?;
            let mut cluster = connect(args).await?;
            let view = NetworkView::load(&mut cluster, network).await?;
            let hashes = match (device, subnet) {
                (Some(d), Some(s)) => Some((hash32(&d), hash32(&s))),
                _ => {
                    let member = admin::node_membership(&mut cluster, &view, &node).await?;
                    history::attested_device(&cluster, &member)
                        .await
                        .map_err(Failure::from)?
                }
            };
            let outcome =
                admin::deregister_device(&mut cluster, admin.as_ref(), &view, node, hashes).await?;
            (outcome, json)
        }
        NetworkCommand::Show(t) => return operate_cli::run(args, Operate::Show(t), out).await,
        NetworkCommand::Tier(t) => return operate_cli::run(args, Operate::Tier(t), out).await,
        NetworkCommand::Promotion(c) => {
            return operate_cli::run(args, Operate::Promotion(c), out).await
        }
        NetworkCommand::Pause(t) => {
            return operate_cli::run(args, Operate::Pause(t, true), out).await
        }
        NetworkCommand::Unpause(t) => {
            return operate_cli::run(args, Operate::Pause(t, false), out).await
        }
        NetworkCommand::OracleSet(c) => {
            return operate_cli::run(args, Operate::Oracle(c), out).await
        }
        NetworkCommand::Admin(c) => return operate_cli::run(args, Operate::Admin(c), out).await,
        NetworkCommand::Model(c) => return operate_cli::run(args, Operate::Model(c), out).await,
        NetworkCommand::Ledger(c) => return operate_cli::run(args, Operate::Ledger(c), out).await,
        NetworkCommand::Tables(c) => return operate_cli::run(args, Operate::Tables(c), out).await,
        NetworkCommand::Init { .. } | NetworkCommand::Fund { .. } => {
            return Err(Failure::input(
                "network init and fund are run by `commands`",
            ))
        }
    };
    let _ = write!(out, "{}", outcome.render(json));
    Ok(0)
}
