//! The wallet side: `upline member join|set-referrer|withdraw|stats`.
//!
//! A wallet holds one membership per class of a network (DESIGN.md §3 rule
//! 6). Commands that act on the wallet's own membership take `--class`, which
//! may be left out while the wallet holds one. A referral code is a wallet:
//! the membership it names is the referrer's in the joiner's class where it
//! holds one, else its only one; where it holds several and none in the
//! joiner's class, the joiner names it with `--referrer-class`.

use crate::Failure;
use anchor_lang::prelude::Pubkey;
use anchor_spl::associated_token::{
    get_associated_token_address_with_program_id, spl_associated_token_account,
};
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::math::decimal::{format_fixed, parse_fixed};
use upline::state::{label_text, Ledger, LedgerKind, Member, Network, RewardTables};
use upline_sdk::client::{choose_membership, link_chain, Cluster, TxFailure};
use upline_sdk::ix::{self, TokenDestination};
use upline_sdk::pda;

/// A network and its ledgers, read from the cluster.
pub struct NetworkView {
    pub address: Pubkey,
    pub network: Network,
    pub ledgers: Vec<Ledger>,
    /// The network's report tables (which class each report kind is about).
    pub reports: Option<RewardTables>,
}

/// One membership of a wallet: its class, member account and state.
pub struct Membership {
    pub class: u8,
    pub account: Pubkey,
    pub member: Member,
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
        let reports = cluster
            .decode::<RewardTables>(&pda::reward_tables(&address))
            .await
            .map_err(Failure::from)?;
        Ok(NetworkView {
            address,
            network,
            ledgers,
            reports,
        })
    }

    /// The network's name.
    pub fn name(&self) -> &str {
        label_text(&self.network.name)
    }

    /// The network's class names, by index.
    pub fn class_names(&self) -> Vec<&str> {
        let tables = &self.network.tables;
        tables.classes[..usize::from(tables.class_count)]
            .iter()
            .map(|c| label_text(&c.name))
            .collect()
    }

    /// The name of class `index`.
    pub fn class_name(&self, index: u8) -> String {
        self.class_names()
            .get(usize::from(index))
            .map_or_else(|| format!("class {index}"), |n| (*n).to_string())
    }

    /// The class called `name`, given as `flag`.
    pub fn class(&self, name: &str, flag: &str) -> Result<u8, Failure> {
        let names = self.class_names();
        names
            .iter()
            .position(|n| *n == name)
            .and_then(|i| u8::try_from(i).ok())
            .ok_or_else(|| {
                Failure::input(format!(
                    "{flag} {name:?}: the network's classes are {}",
                    names.join(", ")
                ))
            })
    }

    /// The membership of `wallet` in `class`, by its member account.
    pub fn member(&self, wallet: &Pubkey, class: u8) -> Pubkey {
        pda::member(&self.address, wallet, class)
    }

    /// The memberships `wallet` holds: (class, member account, member), by class.
    pub async fn memberships<C: Cluster>(
        &self,
        cluster: &mut C,
        wallet: &Pubkey,
    ) -> Result<Vec<Membership>, Failure> {
        let mut held = Vec::new();
        for class in 0..self.network.tables.class_count {
            let account = self.member(wallet, class);
            if let Some(member) = cluster
                .decode::<Member>(&account)
                .await
                .map_err(Failure::from)?
            {
                held.push(Membership {
                    class,
                    account,
                    member,
                });
            }
        }
        Ok(held)
    }

    /// The wallet's own membership a command acts on: in `class` (named by
    /// `--class`), or, without one, the only membership it holds.
    pub async fn own_membership<C: Cluster>(
        &self,
        cluster: &mut C,
        wallet: &Pubkey,
        class: Option<&str>,
    ) -> Result<Membership, Failure> {
        let network = self.address;
        match class {
            Some(name) => {
                let class = self.class(name, "--class")?;
                let account = self.member(wallet, class);
                let member = cluster
                    .decode::<Member>(&account)
                    .await
                    .map_err(Failure::from)?
                    .ok_or_else(|| {
                        Failure::input(format!(
                            "UnknownMember: {wallet} is not a member of network {network} as a {name}"
                        ))
                    })?;
                Ok(Membership {
                    class,
                    account,
                    member,
                })
            }
            None => {
                let mut held = self.memberships(cluster, wallet).await?;
                match held.len() {
                    0 => Err(Failure::input(format!(
                        "UnknownMember: {wallet} is not a member of network {network}"
                    ))),
                    1 => Ok(held.remove(0)),
                    _ => {
                        let names: Vec<String> =
                            held.iter().map(|m| self.class_name(m.class)).collect();
                        Err(Failure::input(format!(
                            "{wallet} holds {} memberships in network {network} ({}): choose one with --class",
                            held.len(),
                            names.join(", ")
                        )))
                    }
                }
            }
        }
    }

    /// The membership the referral code `referrer` (a wallet) names for a
    /// joiner of `joiner_class` (DESIGN.md §3 rule 6): its membership in that
    /// class, else its only one, else the one `named` (`--referrer-class`)
    /// gives. A wallet holding no such membership is `UnknownReferrer`.
    pub async fn referrer_membership<C: Cluster>(
        &self,
        cluster: &mut C,
        referrer: &Pubkey,
        joiner_class: u8,
        named: Option<&str>,
    ) -> Result<Membership, Failure> {
        let network = self.address;
        let named_class = named
            .map(|n| self.class(n, "--referrer-class"))
            .transpose()?;
        let mut held = self.memberships(cluster, referrer).await?;
        let pairs: Vec<(u8, Pubkey)> = held.iter().map(|m| (m.class, m.account)).collect();
        let held_names: Vec<String> = held.iter().map(|m| self.class_name(m.class)).collect();
        let Some(chosen) = choose_membership(&pairs, joiner_class, named_class) else {
            return Err(match (held.is_empty(), named) {
                (true, _) => Failure::input(format!(
                    "UnknownReferrer: --referrer {referrer} is not a member of network {network}"
                )),
                (false, Some(name)) => Failure::input(format!(
                    "UnknownReferrer: --referrer {referrer} holds no {name} membership in network {network} (it holds {})",
                    held_names.join(", ")
                )),
                (false, None) => Failure::input(format!(
                    "--referrer {referrer} holds memberships in {} but none in class {}: name the one that refers you with --referrer-class",
                    held_names.join(" and "),
                    self.class_name(joiner_class)
                )),
            });
        };
        let index = held.iter().position(|m| m.account == chosen).unwrap_or(0);
        let membership = held.remove(index);
        if let Some((name, class)) = named.zip(named_class) {
            if class != membership.class {
                return Err(Failure::input(format!(
                    "--referrer-class {name}: the code {referrer} names its {} membership \
                     (its membership in your class, or its only one); --referrer-class chooses \
                     only where the referrer holds several and none in your class",
                    self.class_name(membership.class)
                )));
            }
        }
        Ok(membership)
    }

    /// The class a report kind's member has (`"compute"`: the provider
    /// class, `"bandwidth"`: the node class), from the report tables.
    pub fn report_class(&self, kind: &str) -> Option<u8> {
        let tables = &self.reports.as_ref()?.data;
        match kind {
            "compute" => Some(tables.compute.provider_class),
            "usage" => Some(tables.usage.user_class),
            "bandwidth" => Some(tables.bandwidth.node_class),
            _ => None,
        }
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

/// `member join`: `wallet` joins in `class`, linked to `referrer` (a wallet,
/// its referral code) if given; `referrer_class` chooses the referrer's
/// membership where the rule does not (DESIGN.md §3 rule 6). A `sponsor`
/// (`--sponsor`) pays the rent and the fee, and signs too.
pub async fn join<C: Cluster>(
    cluster: &mut C,
    (wallet, sponsor): (&Keypair, Option<&Keypair>),
    network: Pubkey,
    class: &str,
    referrer: Option<Pubkey>,
    referrer_class: Option<&str>,
) -> Result<String, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let class_index = view.class(class, "--class")?;
    let (upline, linked) = match referrer {
        Some(r) => {
            let chosen = view
                .referrer_membership(cluster, &r, class_index, referrer_class)
                .await?;
            let upline = link_chain(cluster, &chosen.account)
                .await
                .map_err(Failure::from)?;
            let linked = format!(
                ", referred by {r} (its {} membership {})",
                view.class_name(chosen.class),
                chosen.account
            );
            (upline, linked)
        }
        None => (Vec::new(), String::new()),
    };
    let me = wallet.pubkey();
    let payer = sponsor.unwrap_or(wallet);
    let join = ix::join(&me, &payer.pubkey(), &network, class_index, &upline);
    let signers: Vec<&Keypair> = match sponsor {
        Some(s) if s.pubkey() != me => vec![s, wallet],
        _ => vec![wallet],
    };
    cluster
        .send(&[join], &signers)
        .await
        .map_err(Failure::from)?;
    let paid = match sponsor {
        Some(s) if s.pubkey() != me => format!(", rent paid by {}", s.pubkey()),
        _ => String::new(),
    };
    Ok(format!(
        "{me} joined {} ({network}) as {class}{linked}{paid}\nmember account {}\n",
        view.name(),
        view.member(&me, class_index)
    ))
}

/// `member set-referrer`: link `wallet`'s membership (in `class`, or its only
/// one) to the code `referrer` (once, permanently).
pub async fn set_referrer<C: Cluster>(
    cluster: &mut C,
    wallet: &Keypair,
    network: Pubkey,
    class: Option<&str>,
    referrer: Pubkey,
    referrer_class: Option<&str>,
) -> Result<String, Failure> {
    let me = wallet.pubkey();
    let view = NetworkView::load(cluster, network).await?;
    let own = view.own_membership(cluster, &me, class).await?;
    let chosen = view
        .referrer_membership(cluster, &referrer, own.class, referrer_class)
        .await?;
    let upline = link_chain(cluster, &chosen.account)
        .await
        .map_err(Failure::from)?;
    cluster
        .send(
            &[ix::set_referrer(&me, &network, own.class, &upline)],
            &[wallet],
        )
        .await
        .map_err(Failure::from)?;
    Ok(format!(
        "{me} ({} membership) is now referred by {referrer} (its {} membership {})\n",
        view.class_name(own.class),
        view.class_name(chosen.class),
        chosen.account
    ))
}

/// What `member withdraw` takes: the ledger, the amount (whole units, or
/// "all"), the membership's class (default: the wallet's only one) and the
/// token account to pay (default: the wallet's associated token account,
/// created if missing).
pub struct WithdrawRequest<'a> {
    pub ledger: &'a str,
    pub amount: &'a str,
    pub class: Option<&'a str>,
    pub to: Option<Pubkey>,
}

/// `member withdraw`: from the wallet's membership's balance on a token ledger.
pub async fn withdraw<C: Cluster>(
    cluster: &mut C,
    wallet: &Keypair,
    network: Pubkey,
    request: WithdrawRequest<'_>,
) -> Result<String, Failure> {
    let WithdrawRequest {
        ledger,
        amount,
        class,
        to,
    } = request;
    let view = NetworkView::load(cluster, network).await?;
    let ledger = view.ledger(ledger)?;
    let me = wallet.pubkey();
    let own = view.own_membership(cluster, &me, class).await?;
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
    let before = member_balance(cluster, &own.account, ledger.index).await?;
    instructions.push(ix::withdraw(
        &me,
        &network,
        own.class,
        ledger.index,
        destination.as_ref(),
        base_units,
    ));
    cluster
        .send(&instructions, &[wallet])
        .await
        .map_err(Failure::from)?;
    let after = member_balance(cluster, &own.account, ledger.index).await?;
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
    account: &Pubkey,
    ledger: u8,
) -> Result<u128, Failure> {
    let member = cluster
        .decode::<Member>(account)
        .await
        .map_err(Failure::from)?
        .ok_or_else(|| Failure::refused(format!("member account {account} is missing")))?;
    member
        .ledgers
        .get(usize::from(ledger))
        .and_then(|l| l.balance().ok())
        .map(|b| b.0)
        .ok_or_else(|| Failure::refused(format!("{account} has no slot on ledger {ledger}")))
}
