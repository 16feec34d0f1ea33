//! `attest_provider` / `attest_node`: an oracle vouches for a member's device.

use super::pda_account::{create_pda, exists};
// The composite `OracleContext` needs its generated client and bump types in scope.
use super::report::*;
use crate::constants::{DEVICE_SEED, SUBNET_SEED};
use crate::errors::UplineError;
use crate::events::{NodeAttested, ProviderAttested};
use crate::state::{Device, MemberFlags, Subnet};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct AttestProvider<'info> {
    pub oracle: OracleContext<'info>,
    /// CHECK: the provider's membership, loaded by `load_earner` (`UnknownMember`, `WrongClass`).
    #[account(mut)]
    pub member: UncheckedAccount<'info>,
}

impl<'info> AttestProvider<'info> {
    pub fn validate(&self, co_signers: &[AccountInfo<'info>]) -> Result<()> {
        self.oracle.validate(co_signers)?;
        let compute = &self.oracle.reward_tables.data.compute;
        require!(compute.enabled, UplineError::ReportKindDisabled);
        load_earner(
            self.member.as_ref(),
            &self.oracle.network.key(),
            compute.provider_class,
        )?;
        Ok(())
    }

    /// Sets the provider's compute tier from its VRAM (MiB). A provider that
    /// upgrades its hardware is attested again and moves to the new tier.
    pub fn attest_provider(ctx: Context<'info, AttestProvider<'info>>, vram_mb: u32) -> Result<()> {
        let data = &ctx.accounts.oracle.reward_tables.data;
        let tier = data.compute_tier(vram_mb);
        let network = ctx.accounts.oracle.network.key();
        let mut provider = load_earner(
            ctx.accounts.member.as_ref(),
            &network,
            data.compute.provider_class,
        )?;
        provider.member.device_tier = tier;
        provider.member.flags.set(MemberFlags::ATTESTED, true);
        provider.store()?;
        emit_cpi!(ProviderAttested {
            network,
            oracle: ctx.accounts.oracle.oracle_authority.key(),
            co_signers: ctx
                .accounts
                .oracle
                .approvals(ctx.remaining_accounts)?
                .co_signers(),
            member: ctx.accounts.member.key(),
            wallet: provider.member.wallet,
            vram_mb,
            tier,
            at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct AttestNodeArgs {
    /// Hash of the device fingerprint; unique per network.
    pub fingerprint: [u8; 32],
    /// Hash of the node's subnet.
    pub subnet: [u8; 32],
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: AttestNodeArgs)]
pub struct AttestNode<'info> {
    pub oracle: OracleContext<'info>,
    /// Pays for the device (and a new subnet) account.
    #[account(mut)]
    pub payer: Signer<'info>,
    /// CHECK: the node's membership, loaded by `load_earner` (`UnknownMember`, `WrongClass`).
    #[account(mut)]
    pub member: UncheckedAccount<'info>,
    /// CHECK: the device PDA, created here; an existing one means a duplicate fingerprint.
    #[account(mut, seeds = [DEVICE_SEED, oracle.network.key().as_ref(), args.fingerprint.as_ref()], bump)]
    pub device: UncheckedAccount<'info>,
    /// CHECK: the subnet PDA, created at its first node and counted at each.
    #[account(mut, seeds = [SUBNET_SEED, oracle.network.key().as_ref(), args.subnet.as_ref()], bump)]
    pub subnet: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> AttestNode<'info> {
    pub fn validate(&self, co_signers: &[AccountInfo<'info>]) -> Result<()> {
        self.oracle.validate(co_signers)?;
        let bandwidth = &self.oracle.reward_tables.data.bandwidth;
        require!(bandwidth.enabled, UplineError::ReportKindDisabled);
        let node = load_earner(
            self.member.as_ref(),
            &self.oracle.network.key(),
            bandwidth.node_class,
        )?;
        require!(
            !node.member.flags.has(MemberFlags::ATTESTED),
            UplineError::AlreadyAttested
        );
        require!(!exists(&self.device), UplineError::DuplicateDevice);
        Ok(())
    }

    pub fn attest_node(ctx: Context<'info, AttestNode<'info>>, args: AttestNodeArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &ctx.accounts;
        let network = accounts.oracle.network.key();

        let bump = [ctx.bumps.device];
        let seeds: &[&[u8]] = &[
            DEVICE_SEED,
            network.as_ref(),
            args.fingerprint.as_ref(),
            &bump,
        ];
        create_pda(
            &accounts.payer,
            &accounts.device,
            &accounts.system_program,
            Device::SPACE,
            seeds,
        )?;
        let device = Device {
            bump: ctx.bumps.device,
            network,
            member: accounts.member.key(),
            fingerprint: args.fingerprint,
            subnet: args.subnet,
            attested_at: now,
        };
        device.try_serialize(&mut &mut accounts.device.try_borrow_mut_data()?[..])?;

        let subnet = if exists(&accounts.subnet) {
            let mut subnet = Subnet::try_deserialize(&mut &accounts.subnet.try_borrow_data()?[..])?;
            subnet.nodes = subnet
                .nodes
                .checked_add(1)
                .ok_or(UplineError::MathOverflow)?;
            subnet
        } else {
            let bump = [ctx.bumps.subnet];
            let seeds: &[&[u8]] = &[SUBNET_SEED, network.as_ref(), args.subnet.as_ref(), &bump];
            create_pda(
                &accounts.payer,
                &accounts.subnet,
                &accounts.system_program,
                Subnet::SPACE,
                seeds,
            )?;
            Subnet {
                bump: ctx.bumps.subnet,
                network,
                subnet: args.subnet,
                nodes: 1,
            }
        };
        subnet.try_serialize(&mut &mut accounts.subnet.try_borrow_mut_data()?[..])?;

        let node_class = accounts.oracle.reward_tables.data.bandwidth.node_class;
        let mut node = load_earner(accounts.member.as_ref(), &network, node_class)?;
        node.member.flags.set(MemberFlags::ATTESTED, true);
        node.store()?;
        emit_cpi!(NodeAttested {
            network,
            oracle: ctx.accounts.oracle.oracle_authority.key(),
            co_signers: ctx
                .accounts
                .oracle
                .approvals(ctx.remaining_accounts)?
                .co_signers(),
            member: ctx.accounts.member.key(),
            wallet: node.member.wallet,
            fingerprint: args.fingerprint,
            subnet: args.subnet,
            subnet_nodes: subnet.nodes,
            at: now,
        });
        Ok(())
    }
}
