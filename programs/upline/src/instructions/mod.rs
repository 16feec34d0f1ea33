//! One module per instruction: its arguments, accounts, validation and handler.

pub mod accept_admin;
pub mod add_points_ledger;
pub mod add_token_ledger;
pub mod create_network;
pub mod fund_vault;
pub mod join;
pub mod open_member_ledgers;
pub mod propose_admin;
pub mod referral;
pub mod set_member_tier;
pub mod set_paused;
pub mod set_promotion;
pub mod set_referrer;
pub mod update_ledger;
pub mod update_tables;
pub mod withdraw;

pub use accept_admin::*;
pub use add_points_ledger::*;
pub use add_token_ledger::*;
pub use create_network::*;
pub use fund_vault::*;
pub use join::*;
pub use open_member_ledgers::*;
pub use propose_admin::*;
pub use set_member_tier::*;
pub use set_paused::*;
pub use set_promotion::*;
pub use set_referrer::*;
pub use update_ledger::*;
pub use update_tables::*;
pub use withdraw::*;
