//! `network tier`, `network promotion open|close`, `network pause|unpause`.

use super::{percent, prefixed, tier_name, time_text};
use crate::admin::{send_as_admin, Outcome};
use crate::member::{Membership, NetworkView};
use crate::Failure;
use anchor_lang::prelude::Pubkey;
use serde_json::json;
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::math::Ppm;
use upline::state::{CommissionTier, PromotionWindow};
use upline_sdk::client::Cluster;
use upline_sdk::ix;

/// `network tier --wallet W --tier T [--class C]`.
pub async fn set_tier<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    (wallet, class): (Pubkey, Option<&str>),
    tier: CommissionTier,
) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let Membership {
        class,
        account,
        member,
    } = view
        .own_membership(cluster, &wallet, class)
        .await
        .map_err(|f| prefixed(f, &format!("tier {} for {wallet}: ", tier_name(tier))))?;
    let class = view.class_name(class);
    let (now, was) = (tier_name(tier), tier_name(member.commission_tier));
    let json = |changed: bool| {
        json!({"network": network.to_string(), "wallet": wallet.to_string(), "class": class,
               "member": account.to_string(), "tier": now, "was": was, "changed": changed})
    };
    if member.commission_tier == tier {
        return Ok(Outcome {
            text: format!("{wallet}'s {class} membership is already {now}\n"),
            json: json(false),
        });
    }
    let instruction = ix::set_member_tier(&admin.pubkey(), &network, &account, tier);
    send_as_admin(cluster, admin, &view, instruction, |_| None)
        .await
        .map_err(|f| prefixed(f, &format!("tier {now} for {wallet}: ")))?;
    Ok(Outcome {
        text: format!("{wallet}'s {class} membership: tier {now} (was {was})\n"),
        json: json(true),
    })
}

fn window_text(w: &PromotionWindow) -> String {
    if w.start == 0 && w.end == 0 {
        "no promotion".into()
    } else {
        format!(
            "{} from {} to {}",
            percent(w.rate),
            time_text(w.start),
            time_text(w.end)
        )
    }
}

fn window_json(w: &PromotionWindow) -> serde_json::Value {
    json!({"rate": w.rate.to_string(), "start": w.start, "end": w.end})
}

/// `network promotion open --rate R --start T --end T`.
pub async fn open_promotion<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    rate: &str,
    (start, end): (i64, i64),
) -> Result<Outcome, Failure> {
    let rate = Ppm::from_decimal_str(rate.trim())
        .map_err(|e| Failure::input(format!("--rate {rate:?}: {e}")))?;
    let view = NetworkView::load(cluster, network).await?;
    let before = view.network.promotion;
    let after = PromotionWindow { rate, start, end };
    let json = |changed: bool| {
        json!({"network": network.to_string(), "promotion": window_json(&after),
               "was": window_json(&before), "changed": changed})
    };
    if before == after {
        return Ok(Outcome {
            text: format!(
                "promotion of network {network} is already {}\n",
                window_text(&after)
            ),
            json: json(false),
        });
    }
    let instruction = ix::open_promotion(&admin.pubkey(), &network, rate, start, end);
    send_as_admin(cluster, admin, &view, instruction, |f| {
        f.is(UplineError::InvalidPromotion).then(|| {
            if !rate.is_fraction() {
                format!("InvalidPromotion: --rate {rate}: a promotion rate is at most 1 (100%)")
            } else {
                format!(
                    "InvalidPromotion: --start {} must come before --end {}",
                    time_text(start),
                    time_text(end)
                )
            }
        })
    })
    .await?;
    Ok(Outcome {
        text: format!(
            "promotion of network {network}: {}, every referrer whatever its tier (was {})\n",
            window_text(&after),
            window_text(&before)
        ),
        json: json(true),
    })
}

/// `network promotion close`: an open window ends now, any other is cleared.
pub async fn close_promotion<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let before = view.network.promotion;
    let json = |after: &PromotionWindow, changed: bool| {
        json!({"network": network.to_string(), "promotion": window_json(after),
               "was": window_json(&before), "changed": changed})
    };
    if before == PromotionWindow::default() {
        return Ok(Outcome {
            text: format!("network {network} already has no promotion\n"),
            json: json(&before, false),
        });
    }
    let instruction = ix::close_promotion(&admin.pubkey(), &network);
    send_as_admin(cluster, admin, &view, instruction, |_| None).await?;
    let after = NetworkView::load(cluster, network).await?.network.promotion;
    Ok(Outcome {
        text: format!(
            "promotion of network {network} closed: {} (was {})\n",
            window_text(&after),
            window_text(&before)
        ),
        json: json(&after, true),
    })
}

/// `network pause` (`paused`) and `network unpause`.
pub async fn set_paused<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    paused: bool,
) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let json = |changed: bool| json!({"network": network.to_string(), "paused": paused, "changed": changed});
    let state = if paused { "paused" } else { "not paused" };
    if view.network.paused == paused {
        return Ok(Outcome {
            text: format!("network {network} is already {state}\n"),
            json: json(false),
        });
    }
    let instruction = ix::set_paused(&admin.pubkey(), &network, paused);
    send_as_admin(cluster, admin, &view, instruction, |_| None).await?;
    let text = if paused {
        format!("paused network {network}: joins, links, withdrawals and reports are refused until `network unpause` (was active)\n")
    } else {
        format!("unpaused network {network}: joins, links, withdrawals and reports run again (was paused)\n")
    };
    Ok(Outcome {
        text,
        json: json(true),
    })
}
