//! `register_model` / `update_model`: the compute model registry.

use crate::constants::MODEL_SEED;
use crate::errors::UplineError;
use crate::events::ModelSet;
use crate::math::Ppm;
use crate::state::{validate_label, Model, Network, COMPUTE_TIERS};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct ModelArgs {
    /// Lower-case name, zero-padded to 32 bytes; part of the PDA seeds.
    pub name: [u8; 32],
    /// Complexity multiplier (> 0).
    pub complexity: Ppm,
    /// Lowest 1-based compute tier that may serve it.
    pub min_tier: u8,
}

impl ModelArgs {
    fn validate(&self) -> Result<()> {
        validate_label(&self.name).map_err(|_| error!(UplineError::InvalidModel))?;
        let tier_ok = (1..=COMPUTE_TIERS as u8).contains(&self.min_tier);
        require!(
            self.complexity > Ppm::ZERO && tier_ok,
            UplineError::InvalidModel
        );
        Ok(())
    }
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: ModelArgs)]
pub struct RegisterModel<'info> {
    pub admin: Signer<'info>,
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    #[account(
        init,
        payer = payer,
        space = Model::SPACE,
        seeds = [MODEL_SEED, network.key().as_ref(), args.name.as_ref()],
        bump,
    )]
    pub model: Box<Account<'info, Model>>,
    pub system_program: Program<'info, System>,
}

impl RegisterModel<'_> {
    pub fn validate(&self, args: &ModelArgs) -> Result<()> {
        args.validate()
    }

    pub fn register_model(ctx: Context<RegisterModel>, args: ModelArgs) -> Result<()> {
        let model = &mut ctx.accounts.model;
        model.set_inner(Model {
            bump: ctx.bumps.model,
            network: ctx.accounts.network.key(),
            name: args.name,
            complexity: args.complexity,
            min_tier: args.min_tier,
        });
        emit_cpi!(ModelSet::of(
            model.key(),
            model,
            Clock::get()?.unix_timestamp
        ));
        Ok(())
    }
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateModel<'info> {
    pub admin: Signer<'info>,
    #[account(has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    #[account(mut, has_one = network @ UplineError::InvalidModel)]
    pub model: Box<Account<'info, Model>>,
}

impl UpdateModel<'_> {
    /// The name cannot change (it is the address); `args.name` must match.
    pub fn validate(&self, args: &ModelArgs) -> Result<()> {
        args.validate()?;
        require!(args.name == self.model.name, UplineError::InvalidModel);
        Ok(())
    }

    pub fn update_model(ctx: Context<UpdateModel>, args: ModelArgs) -> Result<()> {
        let model = &mut ctx.accounts.model;
        model.complexity = args.complexity;
        model.min_tier = args.min_tier;
        emit_cpi!(ModelSet::of(
            model.key(),
            model,
            Clock::get()?.unix_timestamp
        ));
        Ok(())
    }
}
