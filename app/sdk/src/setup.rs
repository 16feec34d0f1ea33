//! Network set-up from a preset on any [`Cluster`]: the network, its report
//! tables, ledgers, models and oracles. Safe to re-run: every step first looks
//! for what it would create and skips what exists, so a run cut short is
//! finished by running it again.

use crate::client::{Cluster, TxFailure};
use crate::ix::{self, TokenLedgerSpec};
use crate::pda;
use crate::preset::Preset;
use anchor_lang::prelude::Pubkey;
use anchor_spl::token::spl_token;
use anchor_spl::token_2022::spl_token_2022;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_signer::Signer;
use std::collections::BTreeMap;
use upline::state::{label_text, Ledger, Network};

/// What to set up.
pub struct InitOptions<'a> {
    pub preset: &'a Preset,
    /// The network's name; the preset's when `None`.
    pub name: Option<String>,
    /// Mints of token ledgers, by ledger name; a ledger without one gets a new
    /// SPL Token mint whose authority is the admin.
    pub mints: BTreeMap<String, Pubkey>,
    /// Accept given mints that have a freeze authority (USDC, bridged tokens):
    /// its holder could freeze the vault, so the program refuses such a mint
    /// unless asked, and records the authority on the ledger.
    pub allow_freeze_authority: bool,
    /// Wallets allowed to report and attest.
    pub oracles: Vec<Pubkey>,
}

/// Whether a step sent a transaction or found its result already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Created,
    Existing,
}

/// A ledger of the set-up network.
#[derive(Debug, Clone)]
pub struct InitLedger {
    pub index: u8,
    pub name: String,
    pub address: Pubkey,
    /// Mint and vault of a token ledger.
    pub token: Option<(Pubkey, Pubkey)>,
}

/// The network that [`init_network`] set up.
#[derive(Debug, Clone)]
pub struct InitNetwork {
    pub address: Pubkey,
    pub name: String,
    pub ledgers: Vec<InitLedger>,
}

fn other(message: String) -> TxFailure {
    TxFailure::Other(message)
}

/// Set up `options.preset` with `admin` as admin and fee payer. `progress` hears
/// each step as it finishes: what it was and whether it was created or found.
pub async fn init_network<C: Cluster>(
    cluster: &mut C,
    admin: &Keypair,
    options: &InitOptions<'_>,
    mut progress: impl FnMut(&str, Step),
) -> Result<InitNetwork, TxFailure> {
    let preset = options.preset;
    let bad = |e: crate::preset::PresetError| other(e.to_string());
    let name = options.name.clone().unwrap_or_else(|| preset.name.clone());
    let label = pda::network_name(&name)
        .ok_or_else(|| other(format!("network name {name:?}: 1 to 32 bytes")))?;
    let me = admin.pubkey();
    let network = pda::network(&me, &label);

    match cluster.decode::<Network>(&network).await? {
        Some(existing) if existing.admin != me => {
            return Err(other(format!(
                "network {network} exists and its admin is {}, not {me}",
                existing.admin
            )))
        }
        Some(_) => progress(&format!("network {name} ({network})"), Step::Existing),
        None => {
            let tables = preset.tables().map_err(bad)?;
            cluster
                .send(&[ix::create_network(&me, &label, &me, tables)], &[admin])
                .await?;
            progress(&format!("network {name} ({network})"), Step::Created);
        }
    }
    let mut ledgers = Vec::with_capacity(preset.ledgers.len());
    for (index, spec) in preset.ledgers.iter().enumerate() {
        let index = u8::try_from(index).map_err(|_| other("too many ledgers".into()))?;
        let address = pda::ledger(&network, index);
        let what = format!("ledger {index} {}", spec.name);
        let token = match cluster.decode::<Ledger>(&address).await? {
            Some(ledger) => {
                if label_text(&ledger.name) != spec.name {
                    return Err(other(format!(
                        "{what}: the network's ledger {index} is {:?}",
                        label_text(&ledger.name)
                    )));
                }
                progress(&what, Step::Existing);
                ledger
                    .is_withdrawable()
                    .then_some((ledger.mint, ledger.vault))
            }
            None if spec.is_token() => {
                let mint = match options.mints.get(&spec.name) {
                    Some(mint) => *mint,
                    None => {
                        let mint = create_mint(cluster, admin, spec.decimals.unwrap_or(0)).await?;
                        progress(&format!("mint {mint} for {}", spec.name), Step::Created);
                        mint
                    }
                };
                let ledger_spec = TokenLedgerSpec {
                    name: spec.name.clone(),
                    mint,
                    token_program: spl_token::ID,
                    min_withdrawal: spec.min_withdrawal_base_units().map_err(bad)?,
                    circuit_breaker: None,
                    allow_freeze_authority: options.allow_freeze_authority,
                };
                cluster
                    .send(
                        &[ix::add_token_ledger(
                            &me,
                            &me,
                            &network,
                            index,
                            &ledger_spec,
                        )],
                        &[admin],
                    )
                    .await?;
                progress(&what, Step::Created);
                Some((mint, pda::vault(&address)))
            }
            None => {
                cluster
                    .send(
                        &[ix::add_points_ledger(&me, &me, &network, index, &spec.name)],
                        &[admin],
                    )
                    .await?;
                progress(&what, Step::Created);
                None
            }
        };
        ledgers.push(InitLedger {
            index,
            name: spec.name.clone(),
            address,
            token,
        });
    }

    // Report tables name ledgers, so they follow them; they are replaced as a
    // whole, so sending them again is harmless.
    let data = preset.reward_tables().map_err(bad)?;
    cluster
        .send(&[ix::set_reward_tables(&me, &network, data)], &[admin])
        .await?;
    progress("report tables", Step::Created);

    for model in preset.models().map_err(bad)? {
        let what = format!("model {}", label_text(&model.name));
        if cluster
            .account(&pda::model(&network, &model.name))
            .await?
            .is_some()
        {
            progress(&what, Step::Existing);
            continue;
        }
        cluster
            .send(&[ix::register_model(&me, &me, &network, model)], &[admin])
            .await?;
        progress(&what, Step::Created);
    }

    for oracle in &options.oracles {
        let what = format!("oracle {oracle}");
        if cluster
            .account(&pda::oracle(&network, oracle))
            .await?
            .is_some()
        {
            progress(&what, Step::Existing);
            continue;
        }
        cluster
            .send(&[ix::add_oracle(&me, &me, &network, oracle)], &[admin])
            .await?;
        progress(&what, Step::Created);
    }

    Ok(InitNetwork {
        address: network,
        name,
        ledgers,
    })
}

/// A new SPL Token mint with `authority` as mint authority and fee payer.
pub async fn create_mint<C: Cluster>(
    cluster: &mut C,
    authority: &Keypair,
    decimals: u8,
) -> Result<Pubkey, TxFailure> {
    let mint = Keypair::new();
    let space = spl_token::state::Mint::LEN;
    let rent = cluster.rent_exempt(space).await?;
    let create = solana_system_interface::instruction::create_account(
        &authority.pubkey(),
        &mint.pubkey(),
        rent,
        space as u64,
        &spl_token::ID,
    );
    let init = spl_token_2022::instruction::initialize_mint2(
        &spl_token::ID,
        &mint.pubkey(),
        &authority.pubkey(),
        None,
        decimals,
    )
    .map_err(|e| other(format!("mint: {e}")))?;
    cluster.send(&[create, init], &[authority, &mint]).await?;
    Ok(mint.pubkey())
}
