//! `network model register|update` and `network ledger add|update`.

use super::prefixed;
use crate::admin::{send_as_admin, Outcome};
use crate::member::NetworkView;
use crate::Failure;
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::instructions::ModelArgs;
use upline::math::decimal::{format_fixed, parse_fixed};
use upline::math::Ppm;
use upline::state::{label, label_text, CircuitBreakerConfig, Ledger, Model};
use upline_sdk::client::Cluster;
use upline_sdk::ix::{self, TokenLedgerSpec};
use upline_sdk::pda;

/// A model as `network model register|update` sets it.
pub struct ModelRequest<'a> {
    pub name: &'a str,
    pub complexity: &'a str,
    /// 1 to 4, or a compute tier's name ("mariana-depth").
    pub min_tier: &'a str,
    /// `update` (else `register`).
    pub update: bool,
}

fn model_text(complexity: Ppm, min_tier: u8) -> String {
    format!("complexity {complexity}x, providers of tier {min_tier} and up")
}

/// `--min-tier`: a 1-based tier number or the name of one of the network's compute tiers.
fn min_tier_index(view: &NetworkView, text: &str) -> Result<u8, Failure> {
    if let Ok(n) = text.trim().parse::<u8>() {
        return Ok(n);
    }
    let names: Vec<&str> = view
        .reports
        .iter()
        .flat_map(|r| r.data.compute.tiers.iter())
        .map(|t| label_text(&t.name))
        .filter(|n| !n.is_empty())
        .collect();
    names
        .iter()
        .position(|n| *n == text.trim())
        .and_then(|i| u8::try_from(i + 1).ok())
        .ok_or_else(|| {
            Failure::input(format!(
                "--min-tier {text:?}: 1 to 4 or a compute tier of the network ({})",
                names.join(", ")
            ))
        })
}

/// `network model register NAME` / `network model update NAME`.
pub async fn set_model<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    request: ModelRequest<'_>,
) -> Result<Outcome, Failure> {
    let ModelRequest {
        name,
        complexity,
        min_tier,
        update,
    } = request;
    let verb = if update { "update" } else { "register" };
    let complexity = Ppm::from_decimal_str(complexity.trim())
        .map_err(|e| Failure::input(format!("--complexity {complexity:?}: {e}")))?;
    let bytes = label::<32>(name)
        .ok_or_else(|| Failure::input(format!("model {name:?}: 1 to 32 bytes")))?;
    let view = NetworkView::load(cluster, network).await?;
    let min_tier = min_tier_index(&view, min_tier)?;
    let before = cluster
        .decode::<Model>(&pda::model(&network, &bytes))
        .await
        .map_err(Failure::from)?;
    let now = model_text(complexity, min_tier);
    let was = before
        .as_ref()
        .map(|m| model_text(m.complexity, m.min_tier));
    let json = |changed: bool| {
        json!({"network": network.to_string(), "model": name, "complexity": complexity.to_string(),
               "min_tier": min_tier, "was": before.as_ref().map(|m| json!({"complexity": m.complexity.to_string(), "min_tier": m.min_tier})),
               "changed": changed})
    };
    match (&before, update) {
        (Some(m), _) if m.complexity == complexity && m.min_tier == min_tier => {
            return Ok(Outcome {
                text: format!("model {name} of network {network} is already {now}\n"),
                json: json(false),
            })
        }
        (Some(_), false) => {
            return Err(Failure::refused(format!(
                "model register {name}: ModelExists: network {network} has it already ({}); change it with `upline network model update`",
                was.unwrap_or_default()
            )))
        }
        (None, true) => {
            return Err(Failure::refused(format!(
                "model update {name}: UnknownModel: network {network} has no model {name}; add it with `upline network model register`"
            )))
        }
        _ => {}
    }
    let args = ModelArgs {
        name: bytes,
        complexity,
        min_tier,
    };
    let me = admin.pubkey();
    let instruction = if update {
        ix::update_model(&me, &network, args)
    } else {
        ix::register_model(&me, &me, &network, args)
    };
    send_as_admin(cluster, admin, &view, instruction, |f| {
        f.is(UplineError::InvalidModel).then(|| {
            format!("InvalidModel: a model needs a complexity above 0 and --min-tier 1 to 4 (got {complexity}, {min_tier})")
        })
    })
    .await
    .map_err(|f| prefixed(f, &format!("model {verb} {name}: ")))?;
    let text = match was {
        Some(was) => format!("model {name} of network {network}: {now} (was {was})\n"),
        None => format!("registered model {name} in network {network}: {now}\n"),
    };
    Ok(Outcome {
        text,
        json: json(true),
    })
}

/// `AMOUNT/WINDOW_SECONDS` in `ledger`'s base units, or `off`.
pub fn parse_breaker(text: &str, decimals: u8) -> Result<Option<CircuitBreakerConfig>, Failure> {
    if text.trim() == "off" {
        return Ok(None);
    }
    let bad = || {
        Failure::input(format!(
            "--breaker {text:?}: AMOUNT/WINDOW_SECONDS (at most AMOUNT whole units out per window), or off"
        ))
    };
    let (amount, window) = text.split_once('/').ok_or_else(bad)?;
    let max_outflow = parse_fixed(amount.trim(), decimals)
        .ok()
        .and_then(|u| u64::try_from(u).ok())
        .ok_or_else(bad)?;
    let window_seconds = window.trim().parse::<i64>().map_err(|_| bad())?;
    Ok(Some(CircuitBreakerConfig {
        window_seconds,
        max_outflow,
    }))
}

fn amount(decimals: u8, base: u64) -> String {
    format_fixed(u128::from(base), decimals)
}

fn breaker_text(b: Option<CircuitBreakerConfig>, decimals: u8) -> String {
    match b {
        None => "off".into(),
        Some(b) => format!("{}/{} s", amount(decimals, b.max_outflow), b.window_seconds),
    }
}

fn current_breaker(ledger: &Ledger) -> Option<CircuitBreakerConfig> {
    let b = ledger.circuit_breaker;
    (b.window_seconds > 0).then_some(CircuitBreakerConfig {
        window_seconds: b.window_seconds,
        max_outflow: b.max_outflow,
    })
}

fn ledger_state(min: u64, breaker: Option<CircuitBreakerConfig>, decimals: u8) -> Value {
    json!({"min_withdrawal": amount(decimals, min), "circuit_breaker": breaker.map(|b| json!({
        "max_outflow": amount(decimals, b.max_outflow), "window_seconds": b.window_seconds}))})
}

/// `network ledger update --ledger NAME [--min AMOUNT] [--breaker A/W|off]`:
/// what is not given is kept.
pub async fn update_ledger<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    (name, min, breaker): (&str, Option<&str>, Option<&str>),
) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let ledger = view.ledger(name)?;
    let (index, decimals) = (ledger.index, ledger.decimals);
    if !ledger.is_withdrawable() {
        return Err(Failure::input(format!(
            "--ledger {name}: a points ledger has no withdrawals, so no minimum or circuit breaker"
        )));
    }
    let (was_min, was_breaker) = (ledger.min_withdrawal, current_breaker(ledger));
    let new_min = match min {
        Some(text) => parse_fixed(text.trim(), decimals)
            .ok()
            .and_then(|u| u64::try_from(u).ok())
            .ok_or_else(|| {
                Failure::input(format!(
                    "--min {text:?}: a decimal amount with at most {decimals} decimals"
                ))
            })?,
        None => was_min,
    };
    let new_breaker = match breaker {
        Some(text) => parse_breaker(text, decimals)?,
        None => was_breaker,
    };
    let now_text = format!(
        "minimum withdrawal {}, circuit breaker {}",
        amount(decimals, new_min),
        breaker_text(new_breaker, decimals)
    );
    let was_text = format!(
        "minimum withdrawal {}, circuit breaker {}",
        amount(decimals, was_min),
        breaker_text(was_breaker, decimals)
    );
    let json = |changed: bool| {
        let mut v = ledger_state(new_min, new_breaker, decimals);
        v["network"] = json!(network.to_string());
        v["ledger"] = json!(name);
        v["was"] = ledger_state(was_min, was_breaker, decimals);
        v["changed"] = json!(changed);
        v
    };
    if new_min == was_min && new_breaker == was_breaker {
        return Ok(Outcome {
            text: format!("ledger {name} of network {network}: already {now_text}\n"),
            json: json(false),
        });
    }
    let instruction = ix::update_ledger(&admin.pubkey(), &network, index, new_min, new_breaker);
    send_as_admin(cluster, admin, &view, instruction, |f| {
        f.is(UplineError::InvalidCircuitBreaker).then(|| {
            "InvalidCircuitBreaker: --breaker needs an amount above 0 and a window of at least 1 second (or off)".to_string()
        })
    })
    .await
    .map_err(|f| prefixed(f, &format!("ledger update {name}: ")))?;
    Ok(Outcome {
        text: format!("ledger {name} of network {network}: {now_text} (was {was_text})\n"),
        json: json(true),
    })
}

/// What `network ledger add` adds.
pub struct LedgerRequest<'a> {
    pub name: &'a str,
    /// The mint of a token ledger; `None`: a points ledger.
    pub mint: Option<Pubkey>,
    pub min: Option<&'a str>,
    pub breaker: Option<&'a str>,
    pub allow_freeze_authority: bool,
}

/// `network ledger add --name NAME (--mint MINT | --points)`.
pub async fn add_ledger<C: Cluster>(
    cluster: &mut C,
    admin: &dyn Signer,
    network: Pubkey,
    request: LedgerRequest<'_>,
) -> Result<Outcome, Failure> {
    let view = NetworkView::load(cluster, network).await?;
    let name = request.name;
    let index = view.network.ledger_count;
    if let Some(existing) = view.ledgers.iter().find(|l| label_text(&l.name) == name) {
        let same = match request.mint {
            Some(mint) => existing.mint == mint,
            None => !existing.is_withdrawable(),
        };
        if same {
            return Ok(Outcome {
                text: format!(
                    "network {network} already has ledger {} {name}\n",
                    existing.index
                ),
                json: json!({"network": network.to_string(), "ledger": name, "index": existing.index, "changed": false}),
            });
        }
        return Err(Failure::refused(format!(
            "ledger add {name}: network {network} has a different ledger {name} (ledger {})",
            existing.index
        )));
    }
    let me = admin.pubkey();
    let (instruction, kind) = match request.mint {
        None => (
            ix::add_points_ledger(&me, &me, &network, index, name),
            "points".to_string(),
        ),
        Some(mint) => {
            let account = cluster
                .account(&mint)
                .await
                .map_err(Failure::from)?
                .ok_or_else(|| Failure::input(format!("--mint {mint}: no such account")))?;
            let decimals = *account
                .data
                .get(44)
                .ok_or_else(|| Failure::input(format!("--mint {mint}: not a mint")))?;
            let parse = |text: &str| {
                parse_fixed(text.trim(), decimals)
                    .ok()
                    .and_then(|u| u64::try_from(u).ok())
                    .ok_or_else(|| Failure::input(format!("--min {text:?}: a decimal amount")))
            };
            let spec = TokenLedgerSpec {
                name: name.to_string(),
                mint,
                token_program: account.owner,
                min_withdrawal: request.min.map(parse).transpose()?.unwrap_or(0),
                circuit_breaker: match request.breaker {
                    Some(text) => parse_breaker(text, decimals)?,
                    None => None,
                },
                allow_freeze_authority: request.allow_freeze_authority,
            };
            let kind = format!(
                "token {mint}, minimum withdrawal {}, circuit breaker {}",
                amount(decimals, spec.min_withdrawal),
                breaker_text(spec.circuit_breaker, decimals)
            );
            (ix::add_token_ledger(&me, &me, &network, index, &spec), kind)
        }
    };
    send_as_admin(cluster, admin, &view, instruction, |f| {
        f.is(UplineError::MintHasFreezeAuthority).then(|| {
            "MintHasFreezeAuthority: the mint's freeze authority could freeze the vault; accept it with --allow-freeze-authority".to_string()
        })
    })
    .await
    .map_err(|f| prefixed(f, &format!("ledger add {name}: ")))?;
    Ok(Outcome {
        text: format!("added ledger {index} {name} to network {network}: {kind}\n"),
        json: json!({"network": network.to_string(), "ledger": name, "index": index,
                     "ledger_account": pda::ledger(&network, index).to_string(), "changed": true}),
    })
}
