//! `network oracle add|remove` and `network admin propose|accept|cancel`.

use super::plural;
use crate::admin::{send_as_admin, Outcome};
use crate::member::NetworkView;
use crate::Failure;
use anchor_lang::prelude::Pubkey;
use serde_json::json;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::state::Oracle;
use upline_sdk::client::Cluster;
use upline_sdk::{ix, pda};

async fn is_oracle<C: Cluster>(
    cluster: &mut C,
    network: &Pubkey,
    key: &Pubkey,
) -> Result<bool, Failure> {
    Ok(cluster
        .decode::<Oracle>(&pda::oracle(network, key))
        .await
        .map_err(Failure::from)?
        .is_some())
}

/// `network oracle add WALLET` (the admin pays the registration's rent).
pub async fn add_oracle<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    oracle: Pubkey,
) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let (count, quorum) = (view.network.oracle_count, view.network.oracle_quorum);
    if is_oracle(cluster, &network, &oracle).await? {
        return Ok(Outcome {
            text: format!(
                "{oracle} is already an oracle of network {network} ({}, quorum {quorum})\n",
                plural(count, "oracle")
            ),
            json: json!({"network": network.to_string(), "oracle": oracle.to_string(), "oracles": count, "was": count, "quorum": quorum, "changed": false}),
        });
    }
    let me = admin.pubkey();
    let instruction = ix::add_oracle(&me, &me, &network, &oracle);
    send_as_admin(cluster, admin, &view, instruction, |_| None)
        .await
        .map_err(|f| super::prefixed(f, &format!("oracle add {oracle}: ")))?;
    let now = count + 1;
    Ok(Outcome {
        text: format!(
            "added oracle {oracle} to network {network}: {}, quorum {quorum} (was {})\n",
            plural(now, "oracle"),
            plural(count, "oracle")
        ),
        json: json!({"network": network.to_string(), "oracle": oracle.to_string(), "oracles": now, "was": count, "quorum": quorum, "changed": true}),
    })
}

/// `network oracle remove WALLET` (the rent goes back to the admin);
/// refused when it would leave fewer oracles than the quorum.
pub async fn remove_oracle<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    oracle: Pubkey,
) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let (count, quorum) = (view.network.oracle_count, view.network.oracle_quorum);
    if !is_oracle(cluster, &network, &oracle).await? {
        return Ok(Outcome {
            text: format!(
                "{oracle} is already not an oracle of network {network} ({}, quorum {quorum})\n",
                plural(count, "oracle")
            ),
            json: json!({"network": network.to_string(), "oracle": oracle.to_string(), "oracles": count, "was": count, "quorum": quorum, "changed": false}),
        });
    }
    let left = count.saturating_sub(1);
    let unreachable = || {
        Failure::refused(format!(
            "oracle remove {oracle}: QuorumUnreachable: it would leave {} for a quorum of {quorum}; lower the quorum first (`upline network quorum {left}`) or add an oracle",
            plural(left, "oracle")
        ))
    };
    if quorum > 1 && u16::from(quorum) > left {
        return Err(unreachable());
    }
    let instruction = ix::remove_oracle(&admin.pubkey(), &network, &oracle);
    send_as_admin(cluster, admin, &view, instruction, |f| {
        f.is(UplineError::QuorumUnreachable)
            .then(|| unreachable().message)
    })
    .await
    .map_err(|f| super::prefixed(f, &format!("oracle remove {oracle}: ")))?;
    Ok(Outcome {
        text: format!(
            "removed oracle {oracle} from network {network}: its reports and attestations are refused from now on; {}, quorum {quorum} (was {})\n",
            plural(left, "oracle"),
            plural(count, "oracle")
        ),
        json: json!({"network": network.to_string(), "oracle": oracle.to_string(), "oracles": left, "was": count, "quorum": quorum, "changed": true}),
    })
}

fn pending_text(pending: &Pubkey) -> String {
    if *pending == Pubkey::default() {
        "no proposal".into()
    } else {
        format!("{pending} proposed")
    }
}

/// `network admin propose WALLET` (`Some`) and `network admin cancel` (`None`).
pub async fn propose_admin<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    proposed: Option<Pubkey>,
) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let before = view.network.pending_admin;
    let after = proposed.unwrap_or_default();
    let show = |k: &Pubkey| (*k != Pubkey::default()).then(|| k.to_string());
    let json = |changed: bool| {
        json!({"network": network.to_string(), "admin": view.network.admin.to_string(),
               "pending_admin": show(&after), "was": show(&before), "changed": changed})
    };
    if before == after {
        let text = match proposed {
            Some(p) => format!("{p} is already the proposed admin of network {network}\n"),
            None => format!("network {network} already has no admin proposal\n"),
        };
        return Ok(Outcome {
            text,
            json: json(false),
        });
    }
    if after == view.network.admin {
        return Err(Failure::refused(format!(
            "admin propose {after}: NotPendingAdmin: {after} is already the admin of network {network}"
        )));
    }
    let instruction = ix::propose_admin(&admin.pubkey(), &network, &after);
    send_as_admin(cluster, admin, &view, instruction, |_| None).await?;
    let text = match proposed {
        Some(p) => format!(
            "proposed {p} as admin of network {network}: it becomes the admin when it runs `upline network admin accept` (was {})\n",
            pending_text(&before)
        ),
        None => format!(
            "cancelled the admin proposal of network {network} (was {})\n",
            pending_text(&before)
        ),
    };
    Ok(Outcome {
        text,
        json: json(true),
    })
}

/// `network admin accept`, signed by the proposed admin.
pub async fn accept_admin<C: Cluster>(
    cluster: &mut C,
    proposed: &dyn Signer,
    network: Pubkey,
) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let (me, was) = (proposed.pubkey(), view.network.admin);
    let json = |changed: bool| json!({"network": network.to_string(), "admin": me.to_string(), "was": was.to_string(), "changed": changed});
    if was == me {
        return Ok(Outcome {
            text: format!("{me} is already the admin of network {network}\n"),
            json: json(false),
        });
    }
    let pending = view.network.pending_admin;
    if pending != me {
        return Err(Failure::refused(format!(
            "admin accept: NotPendingAdmin: {me} is not the proposed admin of network {network} ({})",
            pending_text(&pending)
        )));
    }
    let instruction = ix::accept_admin(&me, &network);
    cluster
        .send_with(&[instruction], &[proposed])
        .await
        .map_err(Failure::from)?;
    crate::admin::signed_only(cluster)?;
    Ok(Outcome {
        text: format!("{me} is now the admin of network {network} (was {was})\n"),
        json: json(true),
    })
}
