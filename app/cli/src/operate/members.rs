//! The wallet side of issue 14: what is claimable now per ledger (`member
//! stats`), `member open-ledgers` and `member withdraw --all-ledgers`.

use crate::member::{associated_account, NetworkView};
use crate::Failure;
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::math::decimal::format_fixed;
use upline::state::{label_text, Ledger, Member};
use upline_sdk::client::Cluster;
use upline_sdk::ix::{self, TokenDestination};

/// What one membership can withdraw from one ledger now.
#[derive(Debug, Clone)]
pub struct Claim {
    pub index: u8,
    pub name: String,
    /// Base units: the balance (rounded down), the ledger's minimum, what a
    /// withdrawal may take now.
    pub balance: u64,
    pub min: u64,
    pub claimable: u64,
    pub decimals: u8,
    /// Points ledger.
    pub points: bool,
    /// Why less than the balance is claimable, if so.
    pub note: Option<String>,
}

impl Claim {
    pub fn units(&self, base: u64) -> String {
        format_fixed(u128::from(base), self.decimals)
    }

    pub fn json(&self) -> Value {
        json!({"ledger": self.name, "min_withdrawal": if self.points { Value::Null } else { json!(self.units(self.min)) },
               "claimable": self.units(self.claimable), "note": self.note})
    }
}

fn claim(view: &NetworkView, ledger: &Ledger, member: &Member, now: i64) -> Claim {
    let claim = upline_sdk::claims::claim(view.network.paused, ledger, member, now);
    Claim {
        index: ledger.index,
        name: label_text(&ledger.name).to_string(),
        balance: claim.balance,
        min: ledger.min_withdrawal,
        claimable: claim.claimable,
        decimals: ledger.decimals,
        points: !ledger.is_withdrawable(),
        note: claim.note(ledger),
    }
}

/// What `member` can withdraw from each ledger of `view` at `now`.
pub fn claims(view: &NetworkView, member: &Member, now: i64) -> Vec<Claim> {
    view.ledgers
        .iter()
        .map(|l| claim(view, l, member, now))
        .collect()
}

/// Add `min_withdrawal`, `claimable` and `claimable_note` to each ledger of a
/// membership's stats object.
/// Ledgers the membership has no slot on yet go in `unopened_ledgers`.
pub fn annotate(stats: &mut Value, claims: &[Claim]) {
    let listed = |stats: &Value, name: &str| {
        stats["ledgers"]
            .as_array()
            .is_some_and(|l| l.iter().any(|e| e["ledger"] == name))
    };
    let unopened: Vec<&str> = claims
        .iter()
        .filter(|c| !listed(stats, &c.name))
        .map(|c| c.name.as_str())
        .collect();
    stats["unopened_ledgers"] = json!(unopened);
    let Some(ledgers) = stats["ledgers"].as_array_mut() else {
        return;
    };
    for entry in ledgers {
        let Some(c) = claims.iter().find(|c| entry["ledger"] == c.name.as_str()) else {
            continue;
        };
        let j = c.json();
        entry["min_withdrawal"] = j["min_withdrawal"].clone();
        entry["claimable"] = j["claimable"].clone();
        entry["claimable_note"] = j["note"].clone();
    }
}

/// `member open-ledgers`: give `wallet`'s memberships (in `class`, or all)
/// slots on the ledgers added since they joined; `payer` pays the rent.
pub async fn open_ledgers<C: Cluster>(
    cluster: &mut C,
    payer: &Keypair,
    network: Pubkey,
    (wallet, class): (Pubkey, Option<&str>),
) -> Result<(String, Value), Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let held = match class {
        Some(_) => vec![view.own_membership(cluster, &wallet, class).await?],
        None => view.memberships(cluster, &wallet).await?,
    };
    if held.is_empty() {
        return Err(Failure::input(format!(
            "UnknownMember: {wallet} is not a member of network {network}"
        )));
    }
    let count = view.network.ledger_count;
    let (mut text, mut rows) = (String::new(), Vec::new());
    for m in held {
        let class = view.class_name(m.class);
        let had = m.member.ledgers.len();
        if had >= usize::from(count) {
            text += &format!(
                "{wallet}'s {class} membership already has slots on all {count} ledgers\n"
            );
            rows.push(json!({"class": class, "member": m.account.to_string(), "slots": had, "was": had, "changed": false}));
            continue;
        }
        let instruction = ix::open_member_ledgers(&payer.pubkey(), &network, &m.account);
        cluster
            .send(&[instruction], &[payer])
            .await
            .map_err(Failure::from)?;
        text += &format!(
            "{wallet}'s {class} membership: slots on all {count} ledgers (was {had}), rent paid by {}\n",
            payer.pubkey()
        );
        rows.push(json!({"class": class, "member": m.account.to_string(), "slots": count, "was": had, "changed": true}));
    }
    let json =
        json!({"network": network.to_string(), "wallet": wallet.to_string(), "memberships": rows});
    Ok((text, json))
}

/// `member withdraw --all-ledgers`: from each token ledger, what is
/// claimable now (at or above the minimum); points and the rest are
/// skipped with a note.
pub async fn withdraw_all<C: Cluster>(
    cluster: &mut C,
    wallet: &Keypair,
    network: Pubkey,
    class: Option<&str>,
) -> Result<(String, Value), Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let me = wallet.pubkey();
    let own = view.own_membership(cluster, &me, class).await?;
    let now = cluster.now().await.map_err(Failure::from)?;
    let (mut text, mut rows) = (String::new(), Vec::new());
    for c in claims(&view, &own.member, now) {
        let ledger = &view.ledgers[usize::from(c.index)];
        if c.claimable == 0 {
            let why = c
                .note
                .clone()
                .unwrap_or_else(|| "nothing to withdraw".into());
            text += &format!("skipped {}: {why}\n", c.name);
            rows.push(json!({"ledger": c.name, "withdrawn": "0", "skipped": why}));
            continue;
        }
        let (destination, create) = associated_account(&me, ledger);
        let to = TokenDestination {
            mint: ledger.mint,
            destination,
            token_program: ledger.token_program,
        };
        let amount = (c.claimable < c.balance).then_some(c.claimable);
        let instruction = ix::withdraw(&me, &network, own.class, c.index, Some(&to), amount);
        cluster
            .send(&[create, instruction], &[wallet])
            .await
            .map_err(|f| {
                crate::operate::prefixed(Failure::from(f), &format!("withdraw {}: ", c.name))
            })?;
        let paid = c.units(c.claimable);
        let left = c.units(c.balance - c.claimable);
        text += &format!(
            "withdrew {paid} {} to {destination} (balance left {left})\n",
            c.name
        );
        rows.push(json!({"ledger": c.name, "withdrawn": paid, "to": destination.to_string(), "balance_left": left}));
    }
    let json = json!({"network": network.to_string(), "wallet": me.to_string(),
                      "class": view.class_name(own.class), "ledgers": rows});
    Ok((text, json))
}
