//! `member open-ledgers` and `member withdraw --all-ledgers`.

use crate::commands::{address, connect, signer};
use crate::{ClusterArgs, MemberCommand};
use solana_signer::Signer;
use std::io::Write;
use upline_cli::keys::parse_wallet;
use upline_cli::{operate, Failure};

pub async fn member(
    args: &ClusterArgs,
    command: MemberCommand,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let ((text, value), json) = match command {
        MemberCommand::OpenLedgers {
            network,
            wallet,
            class,
            json,
        } => {
            let network = address(&network, "--network")?;
            let payer = signer(args)?;
            let wallet = match wallet {
                Some(w) => parse_wallet(&w, "--wallet").map_err(Failure::input)?,
                None => payer.pubkey(),
            };
            let mut cluster = connect(args).await?;
            let target = (wallet, class.as_deref());
            (
                operate::open_ledgers(&mut cluster, &payer, network, target).await?,
                json,
            )
        }
        MemberCommand::Withdraw {
            network,
            class,
            json,
            ..
        } => {
            let network = address(&network, "--network")?;
            let wallet = signer(args)?;
            let mut cluster = connect(args).await?;
            (
                operate::withdraw_all(&mut cluster, &wallet, network, class.as_deref()).await?,
                json,
            )
        }
        _ => return Err(Failure::input("not a command of operate_cli::member")),
    };
    let _ = if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        )
    } else {
        write!(out, "{text}")
    };
    Ok(0)
}
