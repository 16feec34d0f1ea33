//! The wallet side: `upline member join|set-referrer|withdraw|stats`.

use crate::Failure;
use anchor_lang::prelude::Pubkey;
use anchor_spl::associated_token::{
    get_associated_token_address_with_program_id, spl_associated_token_account,
};
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::math::decimal::{format_fixed, parse_fixed};
use upline::state::{label_text, Ledger, LedgerKind, Member, Network};
use upline_sdk::client::{link_chain, Cluster, TxFailure};
use upline_sdk::ix::{self, TokenDestination};
use upline_sdk::pda;

/// A network and its ledgers, read from the cluster.
pub struct NetworkView {
    pub address: Pubkey,
    pub network: Network,
    pub ledgers: Vec<Ledger>,
}

impl NetworkView {
    pub async fn load<C: Cluster>(cluster: &mut C, address: Pubkey) -> Result<Self, Failure> {
        let network = cluster
            .decode::<Network>(&address)
            .await
            .map_err(|e| match e {
                TxFailure::Transport(_) => Failure::from(e),
                other => Failure::input(format!("--network {address}: {other}")),
            })?
            .ok_or_else(|| {
                Failure::input(format!("--network {address}: no such Upline network"))
            })?;
        let mut ledgers = Vec::with_capacity(usize::from(network.ledger_count));
        for index in 0..network.ledger_count {
            let ledger = cluster
                .decode::<Ledger>(&pda::ledger(&address, index))
                .await
                .map_err(Failure::from)?
                .ok_or_else(|| {
                    Failure::refused(format!("ledger {index} of {address} is missing"))
                })?;
            ledgers.push(ledger);
        }
        Ok(NetworkView {
            address,
            network,
            ledgers,
        })
    }

    /// The network's name.
    pub fn name(&self) -> &str {
        label_text(&self.network.name)
    }

    /// The class called `name` (or given by index).
    fn class(&self, name: &str) -> Result<u8, Failure> {
        let tables = &self.network.tables;
        let names: Vec<&str> = tables.classes[..usize::from(tables.class_count)]
            .iter()
            .map(|c| label_text(&c.name))
            .collect();
        names
            .iter()
            .position(|n| *n == name)
            .and_then(|i| u8::try_from(i).ok())
            .ok_or_else(|| {
                Failure::input(format!(
                    "--class {name:?}: the network's classes are {}",
                    names.join(", ")
                ))
            })
    }

    pub fn ledger(&self, name: &str) -> Result<&Ledger, Failure> {
        self.ledgers
            .iter()
            .find(|l| label_text(&l.name) == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.ledgers.iter().map(|l| label_text(&l.name)).collect();
                Failure::input(format!(
                    "--ledger {name:?}: the network's ledgers are {}",
                    names.join(", ")
                ))
            })
    }
}

/// `referrer` followed by its stored upline, for a link; refuses a referrer that is not a member.
async fn chain_from<C: Cluster>(
    cluster: &mut C,
    network: &Pubkey,
    referrer: &Pubkey,
) -> Result<Vec<Pubkey>, Failure> {
    if cluster
        .account(&pda::member(network, referrer))
        .await
        .map_err(Failure::from)?
        .is_none()
    {
        return Err(Failure::input(format!(
            "--referrer {referrer}: not a member of network {network}"
        )));
    }
    link_chain(cluster, network, referrer)
        .await
        .map_err(Failure::from)
}

/// `member join`: `wallet` joins in `class`, linked to `referrer` if given.
pub async fn join<C: Cluster>(
    cluster: &mut C,
    wallet: &Keypair,
    network: Pubkey,
    class: &str,
    referrer: Option<Pubkey>,
) -> Result<String, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let class_index = view.class(class)?;
    let upline = match referrer {
        Some(r) => chain_from(cluster, &network, &r).await?,
        None => Vec::new(),
    };
    let me = wallet.pubkey();
    let join = ix::join(&me, &me, &network, class_index, &upline);
    cluster
        .send(&[join], &[wallet])
        .await
        .map_err(Failure::from)?;
    let linked = referrer.map_or(String::new(), |r| format!(", referred by {r}"));
    Ok(format!(
        "{me} joined {} ({network}) as {class}{linked}\nmember account {}\n",
        view.name(),
        pda::member(&network, &me)
    ))
}

/// `member set-referrer`: link `wallet` to `referrer` (once, permanently).
pub async fn set_referrer<C: Cluster>(
    cluster: &mut C,
    wallet: &Keypair,
    network: Pubkey,
    referrer: Pubkey,
) -> Result<String, Failure> {
    let me = wallet.pubkey();
    load_member(cluster, &network, &me).await?;
    let upline = chain_from(cluster, &network, &referrer).await?;
    cluster
        .send(&[ix::set_referrer(&me, &network, &upline)], &[wallet])
        .await
        .map_err(Failure::from)?;
    Ok(format!("{me} is now referred by {referrer}\n"))
}

/// `member withdraw`: `amount` whole units ("all" for the whole balance) of
/// ledger `ledger`, to `to` or the wallet's associated token account (created if missing).
pub async fn withdraw<C: Cluster>(
    cluster: &mut C,
    wallet: &Keypair,
    network: Pubkey,
    ledger: &str,
    amount: &str,
    to: Option<Pubkey>,
) -> Result<String, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let ledger = view.ledger(ledger)?;
    let me = wallet.pubkey();
    let base_units = if amount == "all" {
        None
    } else {
        Some(base_units(ledger, amount)?)
    };
    let mut instructions = Vec::with_capacity(2);
    let destination = if ledger.kind == LedgerKind::Points {
        None
    } else {
        let destination = match to {
            Some(account) => account,
            None => {
                let (address, create) = associated_account(&me, ledger);
                instructions.push(create);
                address
            }
        };
        Some(TokenDestination {
            mint: ledger.mint,
            destination,
            token_program: ledger.token_program,
        })
    };
    let before = member_balance(cluster, &network, &me, ledger.index).await?;
    instructions.push(ix::withdraw(
        &me,
        &network,
        ledger.index,
        destination.as_ref(),
        base_units,
    ));
    cluster
        .send(&instructions, &[wallet])
        .await
        .map_err(Failure::from)?;
    let after = member_balance(cluster, &network, &me, ledger.index).await?;
    let paid = before.saturating_sub(after);
    let name = label_text(&ledger.name);
    let to = destination.map_or(String::new(), |d| format!(" to {}", d.destination));
    Ok(format!(
        "withdrew {} {name}{to}\nbalance left {} {name}\n",
        format_fixed(paid, 18),
        format_fixed(after, 18)
    ))
}

/// `amount` whole units of `ledger`'s token in base units.
pub fn base_units(ledger: &Ledger, amount: &str) -> Result<u64, Failure> {
    parse_fixed(amount, ledger.decimals)
        .ok()
        .and_then(|u| u64::try_from(u).ok())
        .ok_or_else(|| {
            Failure::input(format!(
                "--amount {amount:?}: a decimal amount with at most {} decimals",
                ledger.decimals
            ))
        })
}

/// The associated token account of `owner` for `ledger`'s mint, and the
/// instruction that creates it if it does not exist.
pub fn associated_account(
    owner: &Pubkey,
    ledger: &Ledger,
) -> (
    Pubkey,
    anchor_lang::solana_program::instruction::Instruction,
) {
    let create =
        spl_associated_token_account::instruction::create_associated_token_account_idempotent(
            owner,
            owner,
            &ledger.mint,
            &ledger.token_program,
        );
    let address =
        get_associated_token_address_with_program_id(owner, &ledger.mint, &ledger.token_program);
    (address, create)
}

async fn member_balance<C: Cluster>(
    cluster: &mut C,
    network: &Pubkey,
    wallet: &Pubkey,
    ledger: u8,
) -> Result<u128, Failure> {
    let member = load_member(cluster, network, wallet).await?;
    member
        .ledgers
        .get(usize::from(ledger))
        .and_then(|l| l.balance().ok())
        .map(|b| b.0)
        .ok_or_else(|| Failure::refused(format!("{wallet} has no slot on ledger {ledger}")))
}

/// The member account of `wallet`; a wallet that never joined is bad input.
pub async fn load_member<C: Cluster>(
    cluster: &mut C,
    network: &Pubkey,
    wallet: &Pubkey,
) -> Result<Member, Failure> {
    cluster
        .decode::<Member>(&pda::member(network, wallet))
        .await
        .map_err(Failure::from)?
        .ok_or_else(|| Failure::input(format!("{wallet} is not a member of network {network}")))
}
