//! The oracle's side and the network's trust settings: oracles, quorum and
//! caps, report tables and models, attestations, reports (with co-signers),
//! freezes and device deregistration.

use super::{build, upline_members};
use crate::pda;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::system_program;
use upline::instructions::{
    AttestNodeArgs, BandwidthReportArgs, ComputeReportArgs, ModelArgs, OracleCapArgs,
    RentalReportArgs, UsageReportArgs,
};
use upline::state::RewardTablesData;
use upline::{accounts, instruction};

/// `add_oracle`: authorise `authority` to report and attest.
pub fn add_oracle(
    admin: &Pubkey,
    payer: &Pubkey,
    network: &Pubkey,
    authority: &Pubkey,
) -> Instruction {
    build(
        accounts::AddOracle {
            admin: *admin,
            payer: *payer,
            network: *network,
            oracle: pda::oracle(network, authority),
            system_program: system_program::ID,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::AddOracle {
            authority: *authority,
        },
    )
}

/// `remove_oracle`: the rent goes back to the admin.
pub fn remove_oracle(admin: &Pubkey, network: &Pubkey, authority: &Pubkey) -> Instruction {
    build(
        accounts::RemoveOracle {
            admin: *admin,
            network: *network,
            oracle: pda::oracle(network, authority),
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::RemoveOracle {},
    )
}

/// `set_reward_tables`.
pub fn set_reward_tables(admin: &Pubkey, network: &Pubkey, data: RewardTablesData) -> Instruction {
    build(
        accounts::SetRewardTables {
            admin: *admin,
            network: *network,
            reward_tables: pda::reward_tables(network),
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::SetRewardTables { data },
    )
}

/// `register_model`.
pub fn register_model(
    admin: &Pubkey,
    payer: &Pubkey,
    network: &Pubkey,
    args: ModelArgs,
) -> Instruction {
    build(
        accounts::RegisterModel {
            admin: *admin,
            payer: *payer,
            network: *network,
            model: pda::model(network, &args.name),
            system_program: system_program::ID,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::RegisterModel { args },
    )
}

/// `update_model`.
pub fn update_model(admin: &Pubkey, network: &Pubkey, args: ModelArgs) -> Instruction {
    build(
        accounts::UpdateModel {
            admin: *admin,
            network: *network,
            model: pda::model(network, &args.name),
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::UpdateModel { args },
    )
}

/// The accounts every report and attestation starts with.
fn oracle_context(oracle: &Pubkey, network: &Pubkey) -> accounts::OracleContext {
    accounts::OracleContext {
        oracle_authority: *oracle,
        oracle: pda::oracle(network, oracle),
        network: *network,
        reward_tables: pda::reward_tables(network),
    }
}

/// The upline levels a report pays: the member accounts above its earner (referrer first).
fn upline_accounts(upline: &[Pubkey]) -> accounts::UplineAccounts {
    let [upline1, upline2, upline3] = upline_members(upline);
    accounts::UplineAccounts {
        upline1,
        upline2,
        upline3,
    }
}

/// `attest_provider`: the provider `member`'s device has `vram_mb` MiB of VRAM.
pub fn attest_provider(
    oracle: &Pubkey,
    network: &Pubkey,
    member: &Pubkey,
    vram_mb: u32,
) -> Instruction {
    build(
        accounts::AttestProvider {
            oracle: oracle_context(oracle, network),
            member: *member,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::AttestProvider { vram_mb },
    )
}

/// `attest_node`: the node `member`'s device fingerprint and subnet (hashes).
pub fn attest_node(
    oracle: &Pubkey,
    payer: &Pubkey,
    network: &Pubkey,
    member: &Pubkey,
    args: AttestNodeArgs,
) -> Instruction {
    build(
        accounts::AttestNode {
            oracle: oracle_context(oracle, network),
            payer: *payer,
            member: *member,
            device: pda::device(network, &args.fingerprint),
            subnet: pda::subnet(network, &args.subnet),
            system_program: system_program::ID,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::AttestNode { args },
    )
}

/// `report_compute` about the member account `provider`, with its upline
/// (member accounts, referrer first) as far as the provider class's schedule pays.
pub fn report_compute(
    oracle: &Pubkey,
    network: &Pubkey,
    provider: &Pubkey,
    model: &[u8; 32],
    upline: &[Pubkey],
    args: ComputeReportArgs,
) -> Instruction {
    build(
        accounts::ReportCompute {
            oracle: oracle_context(oracle, network),
            provider: *provider,
            model: pda::model(network, model),
            upline: upline_accounts(upline),
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::ReportCompute { args },
    )
}

/// `report_usage` about the member account `user`, with its upline (member accounts, referrer first).
pub fn report_usage(
    oracle: &Pubkey,
    network: &Pubkey,
    user: &Pubkey,
    upline: &[Pubkey],
    args: UsageReportArgs,
) -> Instruction {
    build(
        accounts::ReportUsage {
            oracle: oracle_context(oracle, network),
            user: *user,
            upline: upline_accounts(upline),
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::ReportUsage { args },
    )
}

/// The member accounts of a rental: both sides and each one's referrer, if any.
#[derive(Clone, Copy, Debug)]
pub struct RentalParties {
    pub renter: Pubkey,
    pub host: Pubkey,
    pub renter_referrer: Option<Pubkey>,
    pub host_referrer: Option<Pubkey>,
}

/// `report_rental`.
pub fn report_rental(
    oracle: &Pubkey,
    network: &Pubkey,
    parties: &RentalParties,
    args: RentalReportArgs,
) -> Instruction {
    build(
        accounts::ReportRental {
            oracle: oracle_context(oracle, network),
            ledger: pda::ledger(network, args.ledger),
            renter: parties.renter,
            host: parties.host,
            renter_referrer: parties.renter_referrer,
            host_referrer: parties.host_referrer,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::ReportRental { args },
    )
}

/// `report_bandwidth` about the member account `node` (its referrer's member
/// account in `referrer`), attested with `device` = (fingerprint, subnet)
/// hashes, or `None` for a node without an attested device (refused by name).
pub fn report_bandwidth(
    oracle: &Pubkey,
    network: &Pubkey,
    node: &Pubkey,
    device: Option<(&[u8; 32], &[u8; 32])>,
    referrer: Option<&Pubkey>,
    args: BandwidthReportArgs,
) -> Instruction {
    build(
        accounts::ReportBandwidth {
            oracle: oracle_context(oracle, network),
            node: *node,
            device: device.map(|(fingerprint, _)| pda::device(network, fingerprint)),
            subnet: device.map(|(_, subnet)| pda::subnet(network, subnet)),
            referrer: referrer.copied(),
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::ReportBandwidth { args },
    )
}

/// Add co-signing oracles to a report or attestation built above: each
/// co-signer's key (a transaction signer) and its registration (writable: it
/// counts the credits the oracle approves), after the instruction's own
/// accounts. The transaction must be signed by every co-signer.
pub fn with_co_signers(
    mut instruction: Instruction,
    network: &Pubkey,
    co_signers: &[Pubkey],
) -> Instruction {
    for key in co_signers {
        instruction
            .accounts
            .push(AccountMeta::new_readonly(*key, true));
        instruction
            .accounts
            .push(AccountMeta::new(pda::oracle(network, key), false));
    }
    instruction
}

/// `set_oracle_quorum`: `quorum` distinct oracles approve each report.
pub fn set_oracle_quorum(admin: &Pubkey, network: &Pubkey, quorum: u8) -> Instruction {
    build(
        accounts::SetOracleQuorum {
            admin: *admin,
            network: *network,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::SetOracleQuorum { quorum },
    )
}

/// `set_oracle_cap` of the oracle key `authority`.
pub fn set_oracle_cap(
    admin: &Pubkey,
    network: &Pubkey,
    authority: &Pubkey,
    args: OracleCapArgs,
) -> Instruction {
    build(
        accounts::SetOracleCap {
            admin: *admin,
            network: *network,
            oracle: pda::oracle(network, authority),
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::SetOracleCap { args },
    )
}

/// `set_member_frozen` of the member account `member`.
pub fn set_member_frozen(
    admin: &Pubkey,
    network: &Pubkey,
    member: &Pubkey,
    frozen: bool,
) -> Instruction {
    build(
        accounts::SetMemberFrozen {
            admin: *admin,
            network: *network,
            member: *member,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::SetMemberFrozen { frozen },
    )
}

/// `deregister_device` of the node `member`, whose device has `fingerprint`
/// and `subnet` (hashes).
pub fn deregister_device(
    admin: &Pubkey,
    network: &Pubkey,
    member: &Pubkey,
    (fingerprint, subnet): (&[u8; 32], &[u8; 32]),
) -> Instruction {
    build(
        accounts::DeregisterDevice {
            admin: *admin,
            network: *network,
            member: *member,
            device: pda::device(network, fingerprint),
            subnet: pda::subnet(network, subnet),
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::DeregisterDevice {},
    )
}
