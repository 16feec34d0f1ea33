//! Instruction names by discriminator, for showing what a message asks a
//! signer to approve (`upline sign`) without the IDL at hand.

use anchor_lang::Discriminator;
use upline::instruction as i;

macro_rules! names {
    ($($ty:ident => $name:literal,)*) => {
        /// The Upline instruction whose data starts with `data`'s discriminator.
        pub fn instruction_name(data: &[u8]) -> Option<&'static str> {
            let tag = data.get(..8)?;
            $(if tag == i::$ty::DISCRIMINATOR { return Some($name); })*
            None
        }
    };
}

names!(
    CreateNetwork => "create_network",
    UpdateTables => "update_tables",
    AddTokenLedger => "add_token_ledger",
    AddPointsLedger => "add_points_ledger",
    UpdateLedger => "update_ledger",
    FundVault => "fund_vault",
    Join => "join",
    SetReferrer => "set_referrer",
    OpenMemberLedgers => "open_member_ledgers",
    SetMemberTier => "set_member_tier",
    OpenPromotion => "open_promotion",
    ClosePromotion => "close_promotion",
    SetPaused => "set_paused",
    ProposeAdmin => "propose_admin",
    AcceptAdmin => "accept_admin",
    Withdraw => "withdraw",
    AddOracle => "add_oracle",
    RemoveOracle => "remove_oracle",
    SetOracleQuorum => "set_oracle_quorum",
    SetOracleCap => "set_oracle_cap",
    SetMemberFrozen => "set_member_frozen",
    DeregisterDevice => "deregister_device",
    SetRewardTables => "set_reward_tables",
    RegisterModel => "register_model",
    UpdateModel => "update_model",
    AttestProvider => "attest_provider",
    AttestNode => "attest_node",
    ReportCompute => "report_compute",
    ReportUsage => "report_usage",
    ReportRental => "report_rental",
    ReportBandwidth => "report_bandwidth",
    ReportBatch => "report_batch",
);

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::InstructionData;

    #[test]
    fn instructions_are_named_by_their_discriminator() {
        let data = i::SetPaused { paused: true }.data();
        assert_eq!(instruction_name(&data), Some("set_paused"));
        assert_eq!(instruction_name(&[0; 8]), None);
        assert_eq!(instruction_name(&[1, 2]), None);
    }
}
