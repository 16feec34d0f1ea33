//! `deregister_device`: the admin removes a node's attested device (fraud
//! response, or a node that moved). Its subnet counts one node fewer, the
//! node is unattested (its reports are refused until an oracle attests it
//! again, on a new device or subnet), and the device's rent goes to the admin.

use super::pda_account::close_pda;
use super::referral::LoadedMember;
use crate::errors::UplineError;
use crate::events::DeviceDeregistered;
use crate::state::{Device, MemberFlags, Network, Subnet};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct DeregisterDevice<'info> {
    /// Receives the device account's rent.
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    /// CHECK: the node's membership, loaded by hand (`UnknownMember`).
    #[account(mut)]
    pub member: UncheckedAccount<'info>,
    /// CHECK: the node's device, loaded by hand (`UnattestedNode` when it is
    /// missing, already closed or another member's) and closed here.
    #[account(mut)]
    pub device: UncheckedAccount<'info>,
    /// CHECK: the device's subnet, loaded by hand (`UnattestedNode`).
    #[account(mut)]
    pub subnet: UncheckedAccount<'info>,
}

impl DeregisterDevice<'_> {
    pub fn deregister_device(ctx: Context<DeregisterDevice>) -> Result<()> {
        let network_key = ctx.accounts.network.key();
        let mut node = LoadedMember::load(
            ctx.accounts.member.as_ref(),
            &network_key,
            UplineError::UnknownMember,
        )?;
        let accounts = &ctx.accounts;
        let device = Device::load(&accounts.device, &network_key, accounts.member.key)?;
        let mut subnet = Subnet::load(&accounts.subnet, &device)?;
        node.member.flags.set(MemberFlags::ATTESTED, false);
        node.store()?;
        subnet.nodes = subnet
            .nodes
            .checked_sub(1)
            .ok_or(UplineError::MathOverflow)?;
        subnet.try_serialize(&mut &mut accounts.subnet.try_borrow_mut_data()?[..])?;
        close_pda(&accounts.device, &accounts.admin)?;
        emit_cpi!(DeviceDeregistered {
            network: network_key,
            member: ctx.accounts.member.key(),
            wallet: node.member.wallet,
            fingerprint: device.fingerprint,
            subnet: device.subnet,
            subnet_nodes: subnet.nodes,
            at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}
