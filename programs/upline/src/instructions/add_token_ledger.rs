//! `add_token_ledger`: a withdrawable ledger backed by a program-owned vault.

use crate::constants::{LEDGER_SEED, MAX_LABEL_LEN, MAX_LEDGERS, VAULT_SEED};
use crate::errors::UplineError;
use crate::events::LedgerAdded;
use crate::math::Wad;
use crate::state::{
    label, BonusTrigger, CircuitBreaker, CircuitBreakerConfig, Ledger, LedgerKind, Network,
};
use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::extension::{
    BaseStateWithExtensions, ExtensionType, StateWithExtensions,
};
use anchor_spl::token_2022::spl_token_2022::state::Mint as MintState;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AddTokenLedgerArgs {
    /// Ledger name, 1 to 16 bytes ("CXPT", "CLORE", "BTC").
    pub name: String,
    /// Smallest withdrawal in base units.
    pub min_withdrawal: u64,
    /// Optional outflow limit per window.
    pub circuit_breaker: Option<CircuitBreakerConfig>,
    /// Accept a mint with a freeze authority (USDC, most bridged tokens):
    /// whoever holds it can freeze the vault and stop every withdrawal. The
    /// authority is recorded on the ledger and in the event so that members
    /// and explorers see whom the vault trusts. Without it such a mint is refused.
    pub allow_freeze_authority: bool,
}

#[event_cpi]
#[derive(Accounts)]
pub struct AddTokenLedger<'info> {
    pub admin: Signer<'info>,
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(mut, has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    #[account(
        init,
        payer = payer,
        space = Ledger::SPACE,
        seeds = [LEDGER_SEED, network.key().as_ref(), &[network.ledger_count]],
        bump,
    )]
    pub ledger: Box<Account<'info, Ledger>>,
    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// The vault: a token account at a PDA, owned by the ledger PDA.
    #[account(
        init,
        payer = payer,
        seeds = [VAULT_SEED, ledger.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = ledger,
        token::token_program = token_program,
    )]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

/// Token-2022 mint extensions that cannot move, tax, hook, block or freeze
/// vault funds. Anything else (transfer fees, permanent delegate, transfer
/// hook, default-frozen accounts, pausable, confidential transfers, unknown
/// future extensions) would break "vault = funded - withdrawn".
const ALLOWED_MINT_EXTENSIONS: [ExtensionType; 9] = [
    ExtensionType::MintCloseAuthority,
    ExtensionType::InterestBearingConfig,
    ExtensionType::ScaledUiAmount,
    ExtensionType::MetadataPointer,
    ExtensionType::TokenMetadata,
    ExtensionType::GroupPointer,
    ExtensionType::TokenGroup,
    ExtensionType::GroupMemberPointer,
    ExtensionType::TokenGroupMember,
];

impl AddTokenLedger<'_> {
    pub fn validate(&self, args: &AddTokenLedgerArgs) -> Result<()> {
        require!(
            usize::from(self.network.ledger_count) < MAX_LEDGERS,
            UplineError::TooManyLedgers
        );
        label::<MAX_LABEL_LEN>(&args.name).ok_or(UplineError::InvalidName)?;
        if let Some(breaker) = &args.circuit_breaker {
            breaker.validate()?;
        }
        Wad::per_base_unit(self.mint.decimals).map_err(|_| UplineError::UnsupportedMint)?;
        require!(
            self.mint.freeze_authority.is_none() || args.allow_freeze_authority,
            UplineError::MintHasFreezeAuthority
        );
        // A class that pays its direct bonus at link must pay it in points:
        // withdrawable tokens for a bare sign-up would fund sybils.
        let index = self.network.ledger_count;
        let link_bonus_here = self.network.tables.active_classes().iter().any(|class| {
            class.direct_bonus_trigger == BonusTrigger::AtLink && class.direct_bonus_ledger == index
        });
        require!(!link_bonus_here, UplineError::LinkBonusOnTokenLedger);
        self.validate_mint_extensions()
    }

    fn validate_mint_extensions(&self) -> Result<()> {
        let info = self.mint.to_account_info();
        if info.owner != &anchor_spl::token_2022::ID {
            return Ok(());
        }
        let data = info.try_borrow_data()?;
        let mint = StateWithExtensions::<MintState>::unpack(&data)
            .map_err(|_| UplineError::UnsupportedMint)?;
        let extensions = mint
            .get_extension_types()
            .map_err(|_| UplineError::UnsupportedMint)?;
        let all_allowed = extensions
            .iter()
            .all(|extension| ALLOWED_MINT_EXTENSIONS.contains(extension));
        require!(all_allowed, UplineError::UnsupportedMint);
        Ok(())
    }

    pub fn add_token_ledger(ctx: Context<AddTokenLedger>, args: AddTokenLedgerArgs) -> Result<()> {
        let name = label::<MAX_LABEL_LEN>(&args.name).ok_or(UplineError::InvalidName)?;
        let network = &mut ctx.accounts.network;
        let circuit_breaker = args
            .circuit_breaker
            .map_or_else(CircuitBreaker::default, |config| CircuitBreaker {
                window_seconds: config.window_seconds,
                max_outflow: config.max_outflow,
                window_start: 0,
                window_outflow: 0,
            });
        let ledger = &mut ctx.accounts.ledger;
        ledger.set_inner(Ledger {
            bump: ctx.bumps.ledger,
            vault_bump: ctx.bumps.vault,
            network: network.key(),
            index: 0,
            name,
            kind: LedgerKind::Token,
            mint: ctx.accounts.mint.key(),
            token_program: ctx.accounts.token_program.key(),
            vault: ctx.accounts.vault.key(),
            decimals: ctx.accounts.mint.decimals,
            min_withdrawal: args.min_withdrawal,
            circuit_breaker,
            funded: 0,
            withdrawn: 0,
            accepted_freeze_authority: ctx.accounts.mint.freeze_authority.unwrap_or_default(),
        });
        network.append_ledger(ledger)?;
        emit_cpi!(LedgerAdded::of(ledger.key(), ledger));
        Ok(())
    }
}
