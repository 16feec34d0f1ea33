//! The wallet side: `upline member join|set-referrer|withdraw|stats`.

use crate::Failure;
use anchor_lang::prelude::Pubkey;
use anchor_spl::associated_token::{
    get_associated_token_address_with_program_id, spl_associated_token_account,
};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use upline::constants::HISTORY_DAYS;
use upline::math::decimal::{format_fixed, parse_fixed};
use upline::state::{label_text, CommissionTier, Ledger, LedgerKind, Member, MemberFlags, Network};
use upline_sdk::client::{stored_upline, Cluster, TxFailure};
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

    fn name(&self) -> &str {
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
    let mut upline = vec![*referrer];
    upline.extend(
        stored_upline(cluster, network, referrer, 2)
            .await
            .map_err(Failure::from)?,
    );
    Ok(upline)
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

/// `member stats`: the referral stats of DESIGN.md and the Cxmpute document,
/// as JSON (the same object `--json` prints).
pub async fn stats<C: Cluster>(
    cluster: &mut C,
    network: Pubkey,
    wallet: Pubkey,
) -> Result<Value, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let member = load_member(cluster, &network, &wallet).await?;
    let now = cluster.now().await.map_err(Failure::from)?;
    let class = view
        .network
        .tables
        .classes
        .get(usize::from(member.class))
        .map_or("?", |c| label_text(&c.name));
    let mut ledgers = Vec::with_capacity(view.ledgers.len());
    for ledger in &view.ledgers {
        let Some(slot) = member.ledgers.get(usize::from(ledger.index)) else {
            continue;
        };
        let wad = |w: upline::math::Wad| format_fixed(w.0, 18);
        let referral = [slot.level1, slot.level2, slot.level3]
            .iter()
            .try_fold(slot.bonus.0, |sum, w| sum.checked_add(w.0))
            .unwrap_or(u128::MAX);
        let history = member
            .history(ledger.index, now)
            .unwrap_or([0; HISTORY_DAYS]);
        let today = now.div_euclid(86_400);
        let history: Vec<Value> = history
            .iter()
            .enumerate()
            .map(|(age, nano)| {
                let day = today - (HISTORY_DAYS as i64 - 1) + age as i64;
                json!({"day": day_text(day), "credited": format_fixed(u128::from(*nano), 9)})
            })
            .collect();
        ledgers.push(json!({
            "ledger": label_text(&ledger.name),
            "totals": {
                "work": wad(slot.own),
                "referral": format_fixed(referral, 18),
                "credited": slot.credited().map(wad).unwrap_or_default(),
                "withdrawn": wad(slot.withdrawn),
                "balance": slot.balance().map(wad).unwrap_or_default(),
            },
            "rewards_by_level": {
                "level1": wad(slot.level1),
                "level2": wad(slot.level2),
                "level3": wad(slot.level3),
                "direct_bonus": wad(slot.bonus),
            },
            "history": history,
        }));
    }
    let referrer = (member.referrer != Pubkey::default()).then(|| member.referrer.to_string());
    Ok(json!({
        "wallet": wallet.to_string(),
        "network": network.to_string(),
        "network_name": view.name(),
        "class": class,
        "referrer": referrer,
        "tier": match member.commission_tier {
            CommissionTier::Standard => "standard",
            CommissionTier::Premium => "premium",
            CommissionTier::Vip => "vip",
        },
        "device_tier": member.device_tier,
        "attested": member.flags.has(MemberFlags::ATTESTED),
        "downline": {
            "level1": member.downline[0],
            "level2": member.downline[1],
            "level3": member.downline[2],
            "total": member.downline.iter().map(|n| u64::from(*n)).sum::<u64>(),
        },
        "ledgers": ledgers,
    }))
}

/// A day number (days since 1970-01-01) as YYYY-MM-DD.
pub fn day_text(day: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The stats object as readable text.
pub fn render_stats(stats: &Value) -> String {
    let s = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    };
    let mut out = format!(
        "member {} of {} ({})\nclass {}, tier {}, device tier {}, referrer {}\n",
        s(&stats["wallet"]),
        s(&stats["network_name"]),
        s(&stats["network"]),
        s(&stats["class"]),
        s(&stats["tier"]),
        s(&stats["device_tier"]),
        stats["referrer"].as_str().unwrap_or("none"),
    );
    let d = &stats["downline"];
    out += &format!(
        "downline: level 1 {}, level 2 {}, level 3 {} (total {})\n",
        d["level1"], d["level2"], d["level3"], d["total"]
    );
    for ledger in stats["ledgers"].as_array().into_iter().flatten() {
        let t = &ledger["totals"];
        let r = &ledger["rewards_by_level"];
        out += &format!("\n{}\n", s(&ledger["ledger"]));
        for (label, value) in [
            ("own work", &t["work"]),
            ("referral", &t["referral"]),
            ("  level 1", &r["level1"]),
            ("  level 2", &r["level2"]),
            ("  level 3", &r["level3"]),
            ("  direct bonus", &r["direct_bonus"]),
            ("credited", &t["credited"]),
            ("withdrawn", &t["withdrawn"]),
            ("balance", &t["balance"]),
        ] {
            out += &format!("  {label:<16} {:>32}\n", s(value));
        }
        let days: Vec<String> = ledger["history"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["credited"] != "0")
            .map(|d| format!("    {}  {}", s(&d["day"]), s(&d["credited"])))
            .collect();
        if days.is_empty() {
            out += "  last 30 days: nothing credited\n";
        } else {
            out += "  last 30 days (days with credits):\n";
            out += &days.join("\n");
            out += "\n";
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::day_text;

    #[test]
    fn day_numbers_print_as_calendar_dates() {
        assert_eq!(day_text(0), "1970-01-01");
        assert_eq!(day_text(1_767_225_600 / 86_400), "2026-01-01");
        assert_eq!(day_text(20_513), "2026-03-01");
        assert_eq!(day_text(19_782), "2024-02-29");
    }
}
