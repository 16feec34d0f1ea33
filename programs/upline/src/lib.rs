//! Upline: an on-chain referral and reward engine for DePIN networks.
//!
//! This file only dispatches; each instruction lives in `instructions/` with
//! its arguments, accounts, validation and handler. See DESIGN.md and the
//! README for the rules and the decisions taken where the design is silent.
#![allow(unexpected_cfgs)]
// Anchor's generated code for `#[program]` trips these.
#![allow(clippy::too_many_arguments, clippy::result_large_err)]

use anchor_lang::prelude::*;

pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod rewards;
pub mod state;

pub use instructions::*;
pub use state::{CircuitBreakerConfig, CommissionTier, NetworkTables, RewardTablesData};

declare_id!("HJpGoALVznQnHTKxx5oJJZ7p3Lcog1wNgJbD2vjzo9jU");

#[program]
pub mod upline {
    use super::*;

    /// Create a network from rate tables (presets are data under `migrations/`).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn create_network(ctx: Context<CreateNetwork>, args: CreateNetworkArgs) -> Result<()> {
        CreateNetwork::create_network(ctx, args)
    }

    /// Replace the network's rate tables from now on (admin).
    #[access_control(ctx.accounts.validate(&tables))]
    pub fn update_tables(ctx: Context<UpdateTables>, tables: NetworkTables) -> Result<()> {
        UpdateTables::update_tables(ctx, tables)
    }

    /// Add a token ledger with a program-owned vault (admin).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn add_token_ledger(ctx: Context<AddTokenLedger>, args: AddTokenLedgerArgs) -> Result<()> {
        AddTokenLedger::add_token_ledger(ctx, args)
    }

    /// Add a points ledger: no mint, never withdrawable (admin).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn add_points_ledger(
        ctx: Context<AddPointsLedger>,
        args: AddPointsLedgerArgs,
    ) -> Result<()> {
        AddPointsLedger::add_points_ledger(ctx, args)
    }

    /// Change a token ledger's minimum withdrawal and circuit breaker (admin).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn update_ledger(ctx: Context<UpdateLedger>, args: UpdateLedgerArgs) -> Result<()> {
        UpdateLedger::update_ledger(ctx, args)
    }

    /// Deposit tokens into a ledger's vault (anyone).
    #[access_control(ctx.accounts.validate(amount))]
    pub fn fund_vault(ctx: Context<FundVault>, amount: u64) -> Result<()> {
        FundVault::fund_vault(ctx, amount)
    }

    /// Join the network, optionally linking a referrer in the same step (wallet signs).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn join<'info>(ctx: Context<'info, Join<'info>>, args: JoinArgs) -> Result<()> {
        Join::join(ctx, args)
    }

    /// Link a referrer later, once, while the member has no referees (wallet signs).
    #[access_control(ctx.accounts.validate())]
    pub fn set_referrer<'info>(ctx: Context<'info, SetReferrer<'info>>) -> Result<()> {
        SetReferrer::set_referrer(ctx)
    }

    /// Give a member slots for ledgers added after it joined (anyone pays).
    pub fn open_member_ledgers(ctx: Context<OpenMemberLedgers>) -> Result<()> {
        OpenMemberLedgers::open_member_ledgers(ctx)
    }

    /// Set a member's commission tier (admin).
    pub fn set_member_tier(ctx: Context<SetMemberTier>, tier: CommissionTier) -> Result<()> {
        SetMemberTier::set_member_tier(ctx, tier)
    }

    /// Replace the network's promotion window (admin).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn open_promotion(ctx: Context<SetPromotion>, args: OpenPromotionArgs) -> Result<()> {
        SetPromotion::open_promotion(ctx, args)
    }

    /// End the promotion window now (admin).
    pub fn close_promotion(ctx: Context<SetPromotion>) -> Result<()> {
        SetPromotion::close_promotion(ctx)
    }

    /// Pause or unpause member and oracle actions (admin).
    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        SetPaused::set_paused(ctx, paused)
    }

    /// Propose the next admin; `Pubkey::default()` cancels (admin).
    pub fn propose_admin(ctx: Context<ProposeAdmin>, proposed: Pubkey) -> Result<()> {
        ProposeAdmin::propose_admin(ctx, proposed)
    }

    /// Take over the admin role (the proposed admin signs).
    pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
        AcceptAdmin::accept_admin(ctx)
    }

    /// Withdraw whole base units to the member's own token account (wallet signs).
    /// `None` withdraws every whole base unit of the balance.
    #[access_control(ctx.accounts.validate(amount))]
    pub fn withdraw(ctx: Context<Withdraw>, amount: Option<u64>) -> Result<()> {
        Withdraw::withdraw(ctx, amount)
    }

    /// Authorise an oracle key to report and attest (admin).
    pub fn add_oracle(ctx: Context<AddOracle>, authority: Pubkey) -> Result<()> {
        AddOracle::add_oracle(ctx, authority)
    }

    /// Remove an oracle; its reports fail from now on (admin).
    pub fn remove_oracle(ctx: Context<RemoveOracle>) -> Result<()> {
        RemoveOracle::remove_oracle(ctx)
    }

    /// How many distinct oracles must approve each report and attestation (admin).
    #[access_control(ctx.accounts.validate(quorum))]
    pub fn set_oracle_quorum(ctx: Context<SetOracleQuorum>, quorum: u8) -> Result<()> {
        SetOracleQuorum::set_oracle_quorum(ctx, quorum)
    }

    /// Cap what one oracle's approved reports may credit on a ledger per window (admin).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn set_oracle_cap(ctx: Context<SetOracleCap>, args: OracleCapArgs) -> Result<()> {
        SetOracleCap::set_oracle_cap(ctx, args)
    }

    /// Freeze or unfreeze a member (admin fraud response).
    pub fn set_member_frozen(ctx: Context<SetMemberFrozen>, frozen: bool) -> Result<()> {
        SetMemberFrozen::set_member_frozen(ctx, frozen)
    }

    /// Remove a node's attested device; the node can be attested again (admin).
    pub fn deregister_device(ctx: Context<DeregisterDevice>) -> Result<()> {
        DeregisterDevice::deregister_device(ctx)
    }

    /// Replace the report kinds' tables from now on (admin).
    #[access_control(ctx.accounts.validate(&data))]
    pub fn set_reward_tables(ctx: Context<SetRewardTables>, data: RewardTablesData) -> Result<()> {
        SetRewardTables::set_reward_tables(ctx, data)
    }

    /// Add a model to the compute registry (admin).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn register_model(ctx: Context<RegisterModel>, args: ModelArgs) -> Result<()> {
        RegisterModel::register_model(ctx, args)
    }

    /// Change a model's complexity or minimum tier from now on (admin).
    #[access_control(ctx.accounts.validate(&args))]
    pub fn update_model(ctx: Context<UpdateModel>, args: ModelArgs) -> Result<()> {
        UpdateModel::update_model(ctx, args)
    }

    /// Attest a provider's VRAM, which sets its compute tier (oracle).
    #[access_control(ctx.accounts.validate(ctx.remaining_accounts))]
    pub fn attest_provider<'info>(
        ctx: Context<'info, AttestProvider<'info>>,
        vram_mb: u32,
    ) -> Result<()> {
        AttestProvider::attest_provider(ctx, vram_mb)
    }

    /// Register a node's device fingerprint and subnet (oracle).
    #[access_control(ctx.accounts.validate(ctx.remaining_accounts))]
    pub fn attest_node<'info>(
        ctx: Context<'info, AttestNode<'info>>,
        args: AttestNodeArgs,
    ) -> Result<()> {
        AttestNode::attest_node(ctx, args)
    }

    /// Record a compute report and pay the provider and its upline (oracle).
    pub fn report_compute<'info>(
        ctx: Context<'info, ReportCompute<'info>>,
        args: ComputeReportArgs,
    ) -> Result<()> {
        ReportCompute::report_compute(ctx, args)
    }

    /// Record a usage report and pay the user and its upline in points (oracle).
    pub fn report_usage<'info>(
        ctx: Context<'info, ReportUsage<'info>>,
        args: UsageReportArgs,
    ) -> Result<()> {
        ReportUsage::report_usage(ctx, args)
    }

    /// Record a rental and pay both sides' referrers (oracle).
    pub fn report_rental<'info>(
        ctx: Context<'info, ReportRental<'info>>,
        args: RentalReportArgs,
    ) -> Result<()> {
        ReportRental::report_rental(ctx, args)
    }

    /// Record a bandwidth report and pay the node and its referrer (oracle).
    pub fn report_bandwidth<'info>(
        ctx: Context<'info, ReportBandwidth<'info>>,
        args: BandwidthReportArgs,
    ) -> Result<()> {
        ReportBandwidth::report_bandwidth(ctx, args)
    }

    /// Record several compute and usage reports under one approval (oracle).
    pub fn report_batch<'info>(
        ctx: Context<'info, ReportBatch<'info>>,
        args: ReportBatchArgs,
    ) -> Result<()> {
        ReportBatch::report_batch(ctx, args)
    }
}
