//! The admin's trust and fraud-response commands: `upline network quorum`,
//! `oracle-cap`, `freeze` / `unfreeze` and `deregister-device`. Each prints
//! what it did (or that nothing needed doing: re-running is safe), and a
//! refusal names the program's error in the command's terms.

use crate::member::{Membership, NetworkView};
use crate::Failure;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use serde_json::{json, Value};
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::instructions::OracleCapArgs;
use upline::math::Wad;
use upline::state::{label_text, Device, Oracle, Subnet};
use upline_sdk::client::{Cluster, TxFailure};
use upline_sdk::{ix, pda};

/// What an admin command did: its text and JSON.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub text: String,
    pub json: Value,
}

impl Outcome {
    /// The outcome as printed: JSON or text.
    pub fn render(&self, json: bool) -> String {
        if json {
            serde_json::to_string_pretty(&self.json).unwrap_or_default() + "\n"
        } else {
            self.text.clone()
        }
    }
}

/// After a send that succeeded: with `--sign-only` nothing was sent, and
/// the transaction signed so far is the command's output (a `Failure` of
/// exit code 0: the command stops there, nothing changed).
pub(crate) fn signed_only<C: Cluster>(cluster: &mut C) -> Result<(), Failure> {
    let kept = cluster.take_kept();
    if kept.is_empty() {
        return Ok(());
    }
    Err(Failure::signed_only(crate::offline::render_kept(&kept)))
}

/// Send `instruction` as the admin; a refusal is named, `NotAdmin` with
/// the network's admin, anything else by `explain` or its name.
pub(crate) async fn send_as_admin<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    view: &NetworkView,
    instruction: Instruction,
    explain: impl Fn(&TxFailure) -> Option<String>,
) -> Result<(), Failure> {
    let failure = match cluster.send_with(&[instruction], &[admin]).await {
        Ok(()) => return signed_only(cluster),
        Err(failure) => failure,
    };
    if failure.is(UplineError::NotAdmin) {
        return Err(Failure::refused(format!(
            "NotAdmin: {} is not the admin of network {} (its admin is {})",
            admin.pubkey(),
            view.address,
            view.network.admin
        )));
    }
    match explain(&failure) {
        Some(message) => Err(Failure::refused(message)),
        None => Err(Failure::from(failure)),
    }
}

/// `network quorum M`.
pub async fn set_quorum<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    quorum: u8,
) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let (was, oracles) = (view.network.oracle_quorum, view.network.oracle_count);
    let json = |changed: bool| json!({"network": network.to_string(), "quorum": quorum, "oracles": oracles, "was": was, "changed": changed});
    if was == quorum {
        return Ok(Outcome {
            text: format!("quorum of network {network} is already {quorum} of {oracles} oracles\n"),
            json: json(false),
        });
    }
    let instruction = ix::set_oracle_quorum(&admin.pubkey(), &network, quorum);
    send_as_admin(cluster, admin, &view, instruction, |f| {
        f.is(UplineError::QuorumUnreachable).then(|| match quorum {
            0 => "quorum 0: at least 1 oracle must approve (QuorumUnreachable)".to_string(),
            _ => format!("quorum {quorum}: the network has {oracles} oracles (QuorumUnreachable)"),
        })
    })
    .await?;
    Ok(Outcome {
        text: format!(
            "quorum of network {network}: {quorum} of {oracles} oracles approve each report and attestation (was {was})\n"
        ),
        json: json(true),
    })
}

/// What `network oracle-cap` sets.
pub struct CapRequest<'a> {
    pub oracle: Pubkey,
    pub ledger: &'a str,
    /// Whole units, decimal; "0" removes the cap.
    pub limit: &'a str,
    pub window: Option<i64>,
}

fn cap_text(limit: Wad, window: i64, ledger: &str) -> String {
    if limit == Wad::ZERO {
        "no cap".into()
    } else {
        format!("at most {limit} {ledger} per {window} s window")
    }
}

/// `network oracle-cap`.
pub async fn set_cap<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    request: CapRequest<'_>,
) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let ledger = view.ledger(request.ledger)?;
    let (index, name) = (ledger.index, label_text(&ledger.name).to_string());
    let limit = Wad::from_decimal_str(request.limit.trim())
        .map_err(|e| Failure::input(format!("--limit {:?}: {e}", request.limit)))?;
    let window = match (limit == Wad::ZERO, request.window) {
        (true, _) => 0,
        (false, Some(w)) => w,
        (false, None) => {
            return Err(Failure::input(
                "--window SECONDS: a cap above 0 needs a window",
            ))
        }
    };
    let key = request.oracle;
    let registration = cluster
        .decode::<Oracle>(&pda::oracle(&network, &key))
        .await
        .map_err(Failure::from)?
        .ok_or_else(|| {
            Failure::refused(format!(
                "NotOracle: {key} is not an oracle of network {network}"
            ))
        })?;
    let before = registration
        .caps
        .get(usize::from(index))
        .copied()
        .unwrap_or_default();
    let json = |changed: bool| {
        json!({
            "network": network.to_string(), "oracle": key.to_string(),
            "ledger": name, "ledger_index": index,
            "limit": limit.to_string(), "window_seconds": window,
            "was": {"limit": before.limit.to_string(), "window_seconds": before.window_seconds},
            "credited_in_window": before.credited.to_string(),
            "changed": changed,
        })
    };
    let now = cap_text(limit, window, &name);
    if before.limit == limit && before.window_seconds == window {
        return Ok(Outcome {
            text: format!("oracle {key} on ledger {name}: already {now}\n"),
            json: json(false),
        });
    }
    let args = OracleCapArgs {
        ledger: index,
        limit,
        window_seconds: window,
    };
    let instruction = ix::set_oracle_cap(&admin.pubkey(), &network, &key, args);
    send_as_admin(cluster, admin, &view, instruction, |f| {
        f.is(UplineError::InvalidCap).then(|| {
            format!("--window {window}: a cap needs a window of at least 1 second (InvalidCap)")
        })
    })
    .await?;
    let was = cap_text(before.limit, before.window_seconds, &name);
    Ok(Outcome {
        text: format!("oracle {key} on ledger {name}: {now} (was {was})\n"),
        json: json(true),
    })
}

/// `network freeze` (`frozen`) and `network unfreeze`.
pub async fn set_frozen<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    (wallet, class): (Pubkey, Option<&str>),
    frozen: bool,
) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let Membership {
        class,
        account,
        member,
    } = view.own_membership(cluster, &wallet, class).await?;
    let class = view.class_name(class);
    let (verb, state) = if frozen {
        ("froze", "frozen")
    } else {
        ("unfroze", "not frozen")
    };
    let json = |changed: bool| {
        json!({"network": network.to_string(), "wallet": wallet.to_string(), "class": class,
               "member": account.to_string(), "frozen": frozen, "changed": changed})
    };
    if member.is_frozen() == frozen {
        return Ok(Outcome {
            text: format!("{wallet}'s {class} membership is already {state}\n"),
            json: json(false),
        });
    }
    let instruction = ix::set_member_frozen(&admin.pubkey(), &network, &account, frozen);
    send_as_admin(cluster, admin, &view, instruction, |_| None).await?;
    let effect = if frozen {
        "reports about it are refused, commissions that would reach it are withheld, it cannot withdraw, link or be linked to; its balances are kept"
    } else {
        "it earns, links and withdraws again"
    };
    Ok(Outcome {
        text: format!(
            "{verb} {wallet}'s {class} membership (member account {account}): {effect}\n"
        ),
        json: json(true),
    })
}

/// The node membership of `wallet` in the network `view`, checked: it exists.
pub async fn node_membership<C: Cluster>(
    cluster: &mut C,
    view: &NetworkView,
    wallet: &Pubkey,
) -> Result<Pubkey, Failure> {
    let class = view.report_class("bandwidth").ok_or_else(|| {
        Failure::input(format!(
            "--network {}: the network has no report tables",
            view.address
        ))
    })?;
    view.own_membership(cluster, wallet, Some(&view.class_name(class)))
        .await
        .map(|m| m.account)
}

/// `network deregister-device` of `wallet`'s node membership, whose device
/// has the (fingerprint, subnet) hashes `device` (`None`: no attested device
/// was found).
pub async fn deregister_device<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    view: &NetworkView,
    wallet: Pubkey,
    device: Option<([u8; 32], [u8; 32])>,
) -> Result<Outcome, Failure> {
    let network = view.address;
    let member = node_membership(cluster, view, &wallet).await?;
    let unattested = || {
        Failure::refused(format!(
            "UnattestedNode: {wallet} has no device attested in network {network}"
        ))
    };
    let (fingerprint, subnet) = device.ok_or_else(unattested)?;
    let device_key = pda::device(&network, &fingerprint);
    let stored = cluster
        .decode::<Device>(&device_key)
        .await
        .map_err(Failure::from)?;
    if stored.is_none_or(|d| d.member != member) {
        return Err(unattested());
    }
    let instruction =
        ix::deregister_device(&admin.pubkey(), &network, &member, (&fingerprint, &subnet));
    send_as_admin(cluster, admin, view, instruction, |_| None).await?;
    let subnet_key = pda::subnet(&network, &subnet);
    let nodes = cluster
        .decode::<Subnet>(&subnet_key)
        .await
        .map_err(Failure::from)?
        .map_or(0, |s| s.nodes);
    Ok(Outcome {
        text: format!(
            "deregistered {wallet}'s device (account {device_key}): its subnet counts {nodes} nodes now; the node is unattested until an oracle attests it again\n"
        ),
        json: json!({
            "network": network.to_string(), "wallet": wallet.to_string(), "member": member.to_string(),
            "device": device_key.to_string(), "subnet": subnet_key.to_string(), "subnet_nodes": nodes,
        }),
    })
}

/// After `network init --quorum M`: set the quorum unless it is already
/// `M`; the step as `init` prints it.
pub async fn init_quorum<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    quorum: u8,
) -> Result<String, Failure> {
    let outcome = set_quorum(cluster, admin, network, quorum).await?;
    let oracles = &outcome.json["oracles"];
    Ok(if outcome.json["changed"] == true {
        format!("  created  quorum {quorum} of {oracles} oracles")
    } else {
        format!("  exists   quorum {quorum} of {oracles} oracles")
    })
}
