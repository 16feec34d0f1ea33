//! `set_oracle_cap`: the most the reports one oracle approves may credit on
//! one ledger per window (admin). A stolen oracle key is then a bounded loss.

use crate::errors::UplineError;
use crate::events::OracleCapSet;
use crate::math::Wad;
use crate::state::{Network, Oracle};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct OracleCapArgs {
    /// The ledger index the cap counts credits on.
    pub ledger: u8,
    /// Most credited per window, in WAD; zero removes the cap.
    pub limit: Wad,
    /// Window length in seconds (at least 1 when `limit` is set).
    pub window_seconds: i64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct SetOracleCap<'info> {
    pub admin: Signer<'info>,
    #[account(has_one = admin @ UplineError::NotAdmin)]
    pub network: Box<Account<'info, Network>>,
    /// CHECK: the oracle's registration, loaded by hand so that a key that is
    /// not an oracle of this network gets `NotOracle`, not a framework error.
    #[account(mut)]
    pub oracle: UncheckedAccount<'info>,
}

impl SetOracleCap<'_> {
    /// The registration, if it is one of this network's oracles.
    fn registration(&self) -> Result<Oracle> {
        let info = self.oracle.as_ref();
        require!(info.owner == &crate::ID, UplineError::NotOracle);
        let oracle = {
            let data = info.try_borrow_data()?;
            Oracle::try_deserialize(&mut &data[..]).map_err(|_| error!(UplineError::NotOracle))?
        };
        require_keys_eq!(oracle.network, self.network.key(), UplineError::NotOracle);
        Ok(oracle)
    }
}

impl SetOracleCap<'_> {
    pub fn validate(&self, args: &OracleCapArgs) -> Result<()> {
        self.registration()?;
        require!(
            self.network.has_ledger(args.ledger),
            UplineError::UnknownLedger
        );
        let unset = args.limit == Wad::ZERO;
        require!(unset || args.window_seconds >= 1, UplineError::InvalidCap);
        Ok(())
    }

    /// What was already credited in the current window still counts, as
    /// with the withdrawal circuit breaker.
    pub fn set_oracle_cap(ctx: Context<SetOracleCap>, args: OracleCapArgs) -> Result<()> {
        let mut oracle = ctx.accounts.registration()?;
        let cap = oracle
            .caps
            .get_mut(usize::from(args.ledger))
            .ok_or(UplineError::UnknownLedger)?;
        cap.limit = args.limit;
        cap.window_seconds = if args.limit == Wad::ZERO {
            0
        } else {
            args.window_seconds
        };
        let window_seconds = cap.window_seconds;
        {
            let mut data = ctx.accounts.oracle.try_borrow_mut_data()?;
            let mut writer: &mut [u8] = &mut data;
            oracle.try_serialize(&mut writer)?;
        }
        emit_cpi!(OracleCapSet {
            network: oracle.network,
            oracle: oracle.authority,
            ledger_index: args.ledger,
            limit: args.limit,
            window_seconds,
            at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}
