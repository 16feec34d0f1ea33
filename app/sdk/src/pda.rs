//! Program-derived addresses, from the program's own seed constants.

use anchor_lang::prelude::Pubkey;
use upline::constants::{LEDGER_SEED, MAX_NETWORK_NAME_LEN, MEMBER_SEED, NETWORK_SEED, VAULT_SEED};
use upline::state::label;

/// A network name as the program stores and seeds it: 1 to 32 bytes of
/// UTF-8, zero-padded; `None` for an empty or over-long name.
pub fn network_name(name: &str) -> Option<[u8; MAX_NETWORK_NAME_LEN]> {
    label(name)
}

/// The network created by `creator` under the padded `name` (see [`network_name`]).
pub fn network(creator: &Pubkey, name: &[u8; MAX_NETWORK_NAME_LEN]) -> Pubkey {
    Pubkey::find_program_address(&[NETWORK_SEED, creator.as_ref(), name], &upline::ID).0
}

/// Ledger number `index` of `network`.
pub fn ledger(network: &Pubkey, index: u8) -> Pubkey {
    Pubkey::find_program_address(&[LEDGER_SEED, network.as_ref(), &[index]], &upline::ID).0
}

/// The vault token account of a token ledger.
pub fn vault(ledger: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[VAULT_SEED, ledger.as_ref()], &upline::ID).0
}

/// The member account of `wallet`'s membership in `class` of `network`
/// (a wallet holds at most one membership per class).
pub fn member(network: &Pubkey, wallet: &Pubkey, class: u8) -> Pubkey {
    Pubkey::find_program_address(
        &[MEMBER_SEED, network.as_ref(), wallet.as_ref(), &[class]],
        &upline::ID,
    )
    .0
}

/// The authority that signs `emit_cpi!` event instructions.
pub fn event_authority() -> Pubkey {
    Pubkey::find_program_address(&[b"__event_authority"], &upline::ID).0
}

/// The reward tables of `network`.
pub fn reward_tables(network: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[upline::constants::REWARD_TABLES_SEED, network.as_ref()],
        &upline::ID,
    )
    .0
}

/// The registration of oracle key `authority` in `network`.
pub fn oracle(network: &Pubkey, authority: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[
            upline::constants::ORACLE_SEED,
            network.as_ref(),
            authority.as_ref(),
        ],
        &upline::ID,
    )
    .0
}

/// The model called `name` (zero-padded to 32 bytes, see [`network_name`] for the rule).
pub fn model(network: &Pubkey, name: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(
        &[upline::constants::MODEL_SEED, network.as_ref(), name],
        &upline::ID,
    )
    .0
}

/// The device with fingerprint hash `fingerprint`.
pub fn device(network: &Pubkey, fingerprint: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(
        &[
            upline::constants::DEVICE_SEED,
            network.as_ref(),
            fingerprint,
        ],
        &upline::ID,
    )
    .0
}

/// The subnet with hash `subnet`.
pub fn subnet(network: &Pubkey, subnet: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(
        &[upline::constants::SUBNET_SEED, network.as_ref(), subnet],
        &upline::ID,
    )
    .0
}
