//! Creating a PDA by hand, for instructions that must tell "already exists"
//! apart by name (`AlreadyMember`, `DuplicateDevice`) instead of letting the
//! system program fail.

use crate::errors::UplineError;
use anchor_lang::prelude::*;
use anchor_lang::system_program::{self, Allocate, Assign, CreateAccount, Transfer};

/// Whether `account` already holds program data.
pub fn exists(account: &AccountInfo) -> bool {
    account.owner == &crate::ID && !account.data_is_empty()
}

/// Create `account` (a PDA of this program signed by `seeds`) with `space`
/// bytes, paid by `payer`. Works even if someone sent lamports to the address
/// beforehand, which would make a plain `create_account` fail.
pub fn create_pda<'info>(
    payer: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    system_program: &AccountInfo<'info>,
    space: usize,
    seeds: &[&[u8]],
) -> Result<()> {
    let rent = Rent::get()?.minimum_balance(space);
    let program = system_program.key();
    let signer = &[seeds];
    let space = u64::try_from(space).map_err(|_| UplineError::MathOverflow)?;
    if account.lamports() == 0 {
        let accounts = CreateAccount {
            from: payer.clone(),
            to: account.clone(),
        };
        let cpi = CpiContext::new_with_signer(program, accounts, signer);
        return system_program::create_account(cpi, rent, space, &crate::ID);
    }
    let top_up = rent.saturating_sub(account.lamports());
    if top_up > 0 {
        let accounts = Transfer {
            from: payer.clone(),
            to: account.clone(),
        };
        system_program::transfer(CpiContext::new(program, accounts), top_up)?;
    }
    let accounts = Allocate {
        account_to_allocate: account.clone(),
    };
    system_program::allocate(
        CpiContext::new_with_signer(program, accounts, signer),
        space,
    )?;
    let accounts = Assign {
        account_to_assign: account.clone(),
    };
    system_program::assign(
        CpiContext::new_with_signer(program, accounts, signer),
        &crate::ID,
    )
}

/// Close a program account checked by hand: its rent to `to`, its data gone,
/// owned by the system program again (what Anchor's `close` does). `to` is a
/// signer, never the PDA itself, so no rent is burnt.
pub fn close_pda(account: &AccountInfo, to: &AccountInfo) -> Result<()> {
    let rent = account.lamports();
    to.add_lamports(rent)?;
    account.sub_lamports(rent)?;
    account.assign(&system_program::ID);
    account.resize(0)?;
    Ok(())
}
