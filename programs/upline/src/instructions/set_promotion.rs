//! `open_promotion` / `close_promotion`: the network's one promotion window.

use crate::errors::UplineError;
use crate::events::PromotionSet;
use crate::math::Ppm;
use crate::state::{Network, PromotionWindow};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct OpenPromotionArgs {
    /// Commission rate during the window (Clore: 50%).
    pub rate: Ppm,
    /// First second of the window, unix time (may be in the past or future).
    pub start: i64,
    /// First second after the window, unix time.
    pub end: i64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct SetPromotion<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
}

impl SetPromotion<'_> {
    pub fn validate(&self, args: &OpenPromotionArgs) -> Result<()> {
        require!(
            args.rate.is_fraction() && args.start < args.end,
            UplineError::InvalidPromotion
        );
        Ok(())
    }

    /// Replace the window (DESIGN.md §8: a promotion replaces the network's one window).
    pub fn open_promotion(ctx: Context<SetPromotion>, args: OpenPromotionArgs) -> Result<()> {
        let window = PromotionWindow {
            rate: args.rate,
            start: args.start,
            end: args.end,
        };
        Self::set_window(ctx, window)
    }

    /// End the window now: an open window ends at the current second, a future
    /// one is cancelled, a past one is cleared.
    pub fn close_promotion(ctx: Context<SetPromotion>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let current = ctx.accounts.network.promotion;
        let window = if current.is_open(now) {
            PromotionWindow {
                end: now,
                ..current
            }
        } else {
            PromotionWindow::default()
        };
        Self::set_window(ctx, window)
    }

    fn set_window(ctx: Context<SetPromotion>, window: PromotionWindow) -> Result<()> {
        let network = &mut ctx.accounts.network;
        network.promotion = window;
        network.invariant()?;
        emit_cpi!(PromotionSet {
            network: network.key(),
            window,
            at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}
