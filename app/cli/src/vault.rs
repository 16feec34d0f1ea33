//! `upline network fund`: the admin (or anyone) pays tokens into a ledger's
//! vault, from which members withdraw.

use crate::member::{associated_account, base_units, NetworkView};
use crate::Failure;
use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022;
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::state::{label_text, LedgerKind};
use upline_sdk::client::Cluster;
use upline_sdk::ix;

/// Fund ledger `ledger` of `network` with `amount` whole units from `funder`'s
/// associated token account. With `mint_first`, mint them there first (the
/// funder is the mint's authority, as after `network init` without `--mint`).
pub async fn fund<C: Cluster>(
    cluster: &mut C,
    funder: &Keypair,
    network: Pubkey,
    ledger: &str,
    amount: &str,
    mint_first: bool,
) -> Result<String, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let ledger = view.ledger(ledger)?;
    let name = label_text(&ledger.name);
    if ledger.kind == LedgerKind::Points {
        return Err(Failure::input(format!(
            "--ledger {name}: a points ledger has no vault"
        )));
    }
    let units = base_units(ledger, amount)?;
    let me = funder.pubkey();
    let (source, create) = associated_account(&me, ledger);
    let mut instructions = vec![create];
    if mint_first {
        instructions.push(
            spl_token_2022::instruction::mint_to(
                &ledger.token_program,
                &ledger.mint,
                &source,
                &me,
                &[],
                units,
            )
            .map_err(|e| Failure::input(format!("mint_to: {e}")))?,
        );
    }
    instructions.push(ix::fund_vault(
        &me,
        &network,
        ledger.index,
        &ledger.mint,
        &source,
        &ledger.token_program,
        units,
    ));
    cluster
        .send(&instructions, &[funder])
        .await
        .map_err(Failure::from)?;
    Ok(format!(
        "funded {amount} {name} into vault {}\n",
        ledger.vault
    ))
}
