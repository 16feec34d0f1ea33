//! A ledger: one unit of account of a network, token (withdrawable) or points.

use crate::errors::UplineError;
use anchor_lang::prelude::*;

/// What a ledger counts.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerKind {
    /// An SPL Token or Token-2022 mint, paid out of a program-owned vault.
    Token,
    /// Points: no mint, never withdrawable.
    Points,
}

/// At most `max_outflow` base units leave the vault per fixed window of
/// `window_seconds`; a window starts at the first withdrawal after the last one ended.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, Default, PartialEq, Eq,
)]
pub struct CircuitBreaker {
    /// Window length in seconds; 0 turns the breaker off.
    pub window_seconds: i64,
    /// Base units allowed out per window.
    pub max_outflow: u64,
    /// Unix time the current window started.
    pub window_start: i64,
    /// Base units withdrawn in the current window.
    pub window_outflow: u64,
}

impl CircuitBreaker {
    /// Whether the breaker limits withdrawals at all.
    pub fn is_on(&self) -> bool {
        self.window_seconds > 0
    }

    /// Count `amount` against the window at `now`, or refuse with `CircuitBreakerTripped`.
    pub fn record_outflow(&mut self, amount: u64, now: i64) -> Result<()> {
        if !self.is_on() {
            return Ok(());
        }
        let window_end = self.window_start.saturating_add(self.window_seconds);
        if now >= window_end {
            self.window_start = now;
            self.window_outflow = 0;
        }
        let outflow = self
            .window_outflow
            .checked_add(amount)
            .ok_or_else(|| error!(UplineError::CircuitBreakerTripped))?;
        require!(
            outflow <= self.max_outflow,
            UplineError::CircuitBreakerTripped
        );
        self.window_outflow = outflow;
        Ok(())
    }
}

/// The configurable part of a circuit breaker.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CircuitBreakerConfig {
    /// Window length in seconds (> 0).
    pub window_seconds: i64,
    /// Base units allowed out per window (> 0).
    pub max_outflow: u64,
}

impl CircuitBreakerConfig {
    /// A breaker needs a positive window and a positive limit.
    pub fn validate(&self) -> Result<()> {
        require!(
            self.window_seconds > 0 && self.max_outflow > 0,
            UplineError::InvalidCircuitBreaker
        );
        Ok(())
    }
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Ledger {
    /// Canonical bump of this PDA.
    pub bump: u8,
    /// Canonical bump of the vault PDA (token ledgers; 0 for points).
    pub vault_bump: u8,
    /// The network this ledger belongs to.
    pub network: Pubkey,
    /// Position among the network's ledgers; members' slots use the same index.
    pub index: u8,
    /// UTF-8 name, zero-padded ("CXPT", "POINTS").
    pub name: [u8; 16],
    /// Token or points.
    pub kind: LedgerKind,
    /// The mint (token ledgers; `Pubkey::default()` for points).
    pub mint: Pubkey,
    /// SPL Token or Token-2022 (token ledgers).
    pub token_program: Pubkey,
    /// Token account owned by this ledger's PDA that pays withdrawals.
    pub vault: Pubkey,
    /// The mint's decimals; WAD = base units × 10^(18 - decimals).
    pub decimals: u8,
    /// Smallest withdrawal, in base units.
    pub min_withdrawal: u64,
    /// Optional outflow limit per window.
    pub circuit_breaker: CircuitBreaker,
    /// Base units received by the vault through `fund_vault`, over the ledger's
    /// life. u128 because lifetime flows can pass `u64::MAX` base units (18.4
    /// tokens at 18 decimals) although the vault never holds that much at once.
    pub funded: u128,
    /// Base units paid out by withdrawals, over the ledger's life (u128, as `funded`).
    pub withdrawn: u128,
    /// The mint's freeze authority when the admin accepted one at creation
    /// (`allow_freeze_authority`); `Pubkey::default()` when the mint has none.
    /// Whoever holds it can freeze the vault: explorers show it.
    pub accepted_freeze_authority: Pubkey,
}

impl Ledger {
    /// Account size including the discriminator.
    pub const SPACE: usize = 8 + Ledger::INIT_SPACE;

    /// Whether members can withdraw from this ledger.
    pub fn is_withdrawable(&self) -> bool {
        self.kind == LedgerKind::Token
    }

    /// Refuse a mint whose decimals are no longer the ledger's: a mint closed
    /// and re-created at the same address would change what a base unit is worth.
    pub fn require_mint_decimals(&self, decimals: u8) -> Result<()> {
        require!(decimals == self.decimals, UplineError::MintDecimalsChanged);
        Ok(())
    }

    /// State that must hold after every mutation.
    pub fn invariant(&self) -> Result<()> {
        // The vault can never have paid out more than it received.
        require!(self.withdrawn <= self.funded, UplineError::VaultUnderfunded);
        if self.kind == LedgerKind::Points {
            require!(
                self.funded == 0 && self.mint == Pubkey::default(),
                UplineError::NotATokenLedger
            );
        }
        Ok(())
    }
}
