//! One builder per program instruction, for the ordinary case: every address
//! derived from the wallets and indices given. Attack tests build the
//! `upline::accounts::*` structs themselves to pass anything else.

use crate::pda;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use upline::instructions::{
    AddPointsLedgerArgs, AddTokenLedgerArgs, AttestNodeArgs, BandwidthReportArgs,
    ComputeReportArgs, CreateNetworkArgs, JoinArgs, ModelArgs, OpenPromotionArgs, RentalReportArgs,
    UpdateLedgerArgs, UsageReportArgs,
};
use upline::math::Ppm;
use upline::state::RewardTablesData;
use upline::state::{CircuitBreakerConfig, CommissionTier, NetworkTables};
use upline::{accounts, instruction};

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: upline::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// `create_network`: `creator` pays and signs; the network PDA comes from
/// (creator, name), the name padded as [`pda::network_name`] makes it.
pub fn create_network(
    creator: &Pubkey,
    name: &[u8; 32],
    admin: &Pubkey,
    tables: NetworkTables,
) -> Instruction {
    build(
        accounts::CreateNetwork {
            creator: *creator,
            network: pda::network(creator, name),
            reward_tables: pda::reward_tables(&pda::network(creator, name)),
            system_program: system_program::ID,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::CreateNetwork {
            args: CreateNetworkArgs {
                name: *name,
                admin: *admin,
                tables,
            },
        },
    )
}

/// `update_tables`, signed by the admin.
pub fn update_tables(admin: &Pubkey, network: &Pubkey, tables: NetworkTables) -> Instruction {
    build(
        accounts::UpdateTables {
            admin: *admin,
            network: *network,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::UpdateTables { tables },
    )
}

/// What a token ledger is made of.
#[derive(Clone, Debug)]
pub struct TokenLedgerSpec {
    /// Ledger name, 1 to 16 bytes.
    pub name: String,
    /// The mint.
    pub mint: Pubkey,
    /// SPL Token or Token-2022.
    pub token_program: Pubkey,
    /// Smallest withdrawal in base units.
    pub min_withdrawal: u64,
    /// Optional outflow limit.
    pub circuit_breaker: Option<CircuitBreakerConfig>,
    /// Accept a mint that has a freeze authority (recorded on the ledger).
    pub allow_freeze_authority: bool,
}

/// `add_token_ledger` as ledger number `index` (the network's current ledger count).
pub fn add_token_ledger(
    admin: &Pubkey,
    payer: &Pubkey,
    network: &Pubkey,
    index: u8,
    spec: &TokenLedgerSpec,
) -> Instruction {
    let ledger = pda::ledger(network, index);
    build(
        accounts::AddTokenLedger {
            admin: *admin,
            payer: *payer,
            network: *network,
            ledger,
            mint: spec.mint,
            vault: pda::vault(&ledger),
            token_program: spec.token_program,
            system_program: system_program::ID,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::AddTokenLedger {
            args: AddTokenLedgerArgs {
                name: spec.name.clone(),
                min_withdrawal: spec.min_withdrawal,
                circuit_breaker: spec.circuit_breaker,
                allow_freeze_authority: spec.allow_freeze_authority,
            },
        },
    )
}

/// `add_points_ledger` as ledger number `index`.
pub fn add_points_ledger(
    admin: &Pubkey,
    payer: &Pubkey,
    network: &Pubkey,
    index: u8,
    name: &str,
) -> Instruction {
    build(
        accounts::AddPointsLedger {
            admin: *admin,
            payer: *payer,
            network: *network,
            ledger: pda::ledger(network, index),
            system_program: system_program::ID,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::AddPointsLedger {
            args: AddPointsLedgerArgs {
                name: name.to_string(),
            },
        },
    )
}

/// `update_ledger`: minimum withdrawal and circuit breaker of ledger `index`.
pub fn update_ledger(
    admin: &Pubkey,
    network: &Pubkey,
    index: u8,
    min_withdrawal: u64,
    circuit_breaker: Option<CircuitBreakerConfig>,
) -> Instruction {
    build(
        accounts::UpdateLedger {
            admin: *admin,
            network: *network,
            ledger: pda::ledger(network, index),
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::UpdateLedger {
            args: UpdateLedgerArgs {
                min_withdrawal,
                circuit_breaker,
            },
        },
    )
}

/// `fund_vault` of ledger `index` from the funder's token account `source`.
pub fn fund_vault(
    funder: &Pubkey,
    network: &Pubkey,
    index: u8,
    mint: &Pubkey,
    source: &Pubkey,
    token_program: &Pubkey,
    amount: u64,
) -> Instruction {
    let ledger = pda::ledger(network, index);
    build(
        accounts::FundVault {
            funder: *funder,
            network: *network,
            ledger,
            mint: *mint,
            vault: pda::vault(&ledger),
            source: *source,
            token_program: *token_program,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::FundVault { amount },
    )
}

/// Up to three upline member accounts (referrer first), as optional accounts.
fn upline_members(upline: &[Pubkey]) -> [Option<Pubkey>; 3] {
    let mut out = [None; 3];
    for (slot, member) in out.iter_mut().zip(upline) {
        *slot = Some(*member);
    }
    out
}

/// `join` in `class`, linking to `upline`: member accounts, the referrer's
/// membership first, then its stored referrer, then the next (as many as the
/// chain has, up to three), or nobody. [`crate::client`] picks which of a
/// referrer wallet's memberships to name (DESIGN.md §3 rule 6).
pub fn join(
    wallet: &Pubkey,
    payer: &Pubkey,
    network: &Pubkey,
    class: u8,
    upline: &[Pubkey],
) -> Instruction {
    let [referrer, upline2, upline3] = upline_members(upline);
    build(
        accounts::Join {
            wallet: *wallet,
            payer: *payer,
            network: *network,
            member: pda::member(network, wallet, class),
            referrer,
            upline2,
            upline3,
            system_program: system_program::ID,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::Join {
            args: JoinArgs { class },
        },
    )
}

/// `set_referrer` of `wallet`'s membership in `class` to `upline[0]`, with the
/// rest of its chain (member accounts, up to three).
pub fn set_referrer(
    wallet: &Pubkey,
    network: &Pubkey,
    class: u8,
    upline: &[Pubkey],
) -> Instruction {
    let [referrer, upline2, upline3] = upline_members(upline);
    build(
        accounts::SetReferrer {
            wallet: *wallet,
            network: *network,
            member: pda::member(network, wallet, class),
            referrer: referrer.unwrap_or_default(),
            upline2,
            upline3,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::SetReferrer {},
    )
}

/// `open_member_ledgers` for the member account `member`.
pub fn open_member_ledgers(payer: &Pubkey, network: &Pubkey, member: &Pubkey) -> Instruction {
    build(
        accounts::OpenMemberLedgers {
            payer: *payer,
            network: *network,
            member: *member,
            system_program: system_program::ID,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::OpenMemberLedgers {},
    )
}

/// `set_member_tier` of the member account `member`.
pub fn set_member_tier(
    admin: &Pubkey,
    network: &Pubkey,
    member: &Pubkey,
    tier: CommissionTier,
) -> Instruction {
    build(
        accounts::SetMemberTier {
            admin: *admin,
            network: *network,
            member: *member,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::SetMemberTier { tier },
    )
}

fn promotion_accounts(admin: &Pubkey, network: &Pubkey) -> accounts::SetPromotion {
    accounts::SetPromotion {
        admin: *admin,
        network: *network,
        event_authority: pda::event_authority(),
        program: upline::ID,
    }
}

/// `open_promotion`: `rate` from `start` (inclusive) to `end` (exclusive), unix time.
pub fn open_promotion(
    admin: &Pubkey,
    network: &Pubkey,
    rate: Ppm,
    start: i64,
    end: i64,
) -> Instruction {
    build(
        promotion_accounts(admin, network),
        instruction::OpenPromotion {
            args: OpenPromotionArgs { rate, start, end },
        },
    )
}

/// `close_promotion`.
pub fn close_promotion(admin: &Pubkey, network: &Pubkey) -> Instruction {
    build(
        promotion_accounts(admin, network),
        instruction::ClosePromotion {},
    )
}

/// `set_paused`.
pub fn set_paused(admin: &Pubkey, network: &Pubkey, paused: bool) -> Instruction {
    build(
        accounts::SetPaused {
            admin: *admin,
            network: *network,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::SetPaused { paused },
    )
}

/// `propose_admin`; `Pubkey::default()` cancels a proposal.
pub fn propose_admin(admin: &Pubkey, network: &Pubkey, proposed: &Pubkey) -> Instruction {
    build(
        accounts::ProposeAdmin {
            admin: *admin,
            network: *network,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::ProposeAdmin {
            proposed: *proposed,
        },
    )
}

/// `accept_admin`, signed by the proposed admin.
pub fn accept_admin(pending_admin: &Pubkey, network: &Pubkey) -> Instruction {
    build(
        accounts::AcceptAdmin {
            pending_admin: *pending_admin,
            network: *network,
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::AcceptAdmin {},
    )
}

/// Where a token withdrawal pays: the ledger's mint and token program, and
/// the member's own token account.
#[derive(Clone, Copy, Debug)]
pub struct TokenDestination {
    /// The ledger's mint.
    pub mint: Pubkey,
    /// The member's token account of that mint.
    pub destination: Pubkey,
    /// SPL Token or Token-2022, as the ledger records.
    pub token_program: Pubkey,
}

/// `withdraw` from ledger `index` of `wallet`'s membership in `class`; `None`
/// as amount takes every whole base unit. `to` is `None` for a points ledger
/// (which the program refuses by name).
pub fn withdraw(
    wallet: &Pubkey,
    network: &Pubkey,
    class: u8,
    index: u8,
    to: Option<&TokenDestination>,
    amount: Option<u64>,
) -> Instruction {
    let ledger = pda::ledger(network, index);
    build(
        accounts::Withdraw {
            wallet: *wallet,
            network: *network,
            ledger,
            member: pda::member(network, wallet, class),
            mint: to.map(|t| t.mint),
            vault: to.map(|_| pda::vault(&ledger)),
            destination: to.map(|t| t.destination),
            token_program: to.map(|t| t.token_program),
            event_authority: pda::event_authority(),
            program: upline::ID,
        },
        instruction::Withdraw { amount },
    )
}

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
