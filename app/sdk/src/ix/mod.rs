//! One builder per program instruction, for the ordinary case: every address
//! derived from the wallets and indices given. Attack tests build the
//! `upline::accounts::*` structs themselves to pass anything else.

use crate::pda;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use upline::instructions::{
    AddPointsLedgerArgs, AddTokenLedgerArgs, CreateNetworkArgs, JoinArgs, OpenPromotionArgs,
    UpdateLedgerArgs,
};
use upline::math::Ppm;
use upline::state::{CircuitBreakerConfig, CommissionTier, NetworkTables};
use upline::{accounts, instruction};

pub(crate) fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
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
pub(crate) fn upline_members(upline: &[Pubkey]) -> [Option<Pubkey>; 3] {
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

pub mod batch;
mod names;
pub use names::instruction_name;
mod oracle;
pub use batch::coalesce;
pub use oracle::*;
