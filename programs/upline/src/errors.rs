//! Every refusal has a name. The first eighteen are the names DESIGN.md §8
//! prints; their order is fixed so their codes (6000 + n) stay stable.

use crate::math::MathError;
use anchor_lang::prelude::*;

/// Declares the error enum and the list of all its variants in code order, so
/// that clients can turn a code back into its name without a second list to keep.
macro_rules! upline_errors {
    ($($(#[$meta:meta])* $name:ident,)*) => {
        #[error_code]
        pub enum UplineError {
            $($(#[$meta])* $name,)*
        }

        /// Every error, in code order: `ALL_ERRORS[i]` has code `6000 + i`.
        pub const ALL_ERRORS: &[UplineError] = &[$(UplineError::$name,)*];
    };
}

upline_errors! {
    #[msg("this wallet is already a member of the network")]
    AlreadyMember,
    #[msg("the account is not a member of this network")]
    UnknownMember,
    #[msg("the referrer is not a member of this network")]
    UnknownReferrer,
    #[msg("a member cannot refer itself")]
    SelfReferral,
    #[msg("the member's referrer is already set; links are permanent")]
    ReferrerAlreadySet,
    #[msg("a member with referees of its own can no longer set a referrer")]
    HasReferees,
    #[msg("this network only links members of the same class")]
    ClassMismatch,
    #[msg("the member's class cannot do this")]
    WrongClass,
    #[msg("the report id is not greater than the last one recorded, or its work time is earlier than the last one")]
    StaleReport,
    #[msg("the provider's tier is below the model's minimum tier")]
    TierTooLow,
    #[msg("a node with this device fingerprint is already registered")]
    DuplicateDevice,
    #[msg("the node has no device attestation")]
    UnattestedNode,
    #[msg("a coefficient is outside [0, 1]")]
    InvalidCoefficient,
    #[msg("the demand multiplier is outside [1.0, 1.5]")]
    InvalidDemandMultiplier,
    #[msg("points are not withdrawable")]
    NotWithdrawable,
    #[msg("the amount is below the ledger's minimum withdrawal")]
    BelowMinimum,
    #[msg("the amount exceeds the whole base units of the balance")]
    InsufficientBalance,
    #[msg("the vault holds less than the amount asked for")]
    VaultUnderfunded,

    #[msg("only the network admin may do this")]
    NotAdmin,
    #[msg("only the proposed admin may accept the admin role")]
    NotPendingAdmin,
    #[msg("the network is paused")]
    NetworkPaused,
    #[msg("the withdrawal would exceed the ledger's outflow limit for this window")]
    CircuitBreakerTripped,
    #[msg("the upline accounts do not match the stored referral links")]
    UplineMismatch,
    #[msg("the network has no ledger with this index")]
    UnknownLedger,
    #[msg("the member has no slot for this ledger yet; open it first")]
    LedgerNotOpened,
    #[msg("the network already has the maximum number of ledgers")]
    TooManyLedgers,
    #[msg("the ledger does not belong to this network")]
    WrongLedger,
    #[msg("the reward tables are invalid")]
    InvalidTables,
    #[msg("a name is empty, too long or not unique")]
    InvalidName,
    #[msg("the class index is not one of the network's classes")]
    UnknownClass,
    #[msg("the promotion window is invalid: rate above 100% or start not before end")]
    InvalidPromotion,
    #[msg("the amount must be greater than zero")]
    ZeroAmount,
    #[msg("the mint has more than 18 decimals or an extension that can move, tax or freeze vault funds")]
    UnsupportedMint,
    #[msg("the circuit breaker needs a positive window and limit")]
    InvalidCircuitBreaker,
    #[msg("the ledger is a points ledger and has no vault")]
    NotATokenLedger,
    #[msg("arithmetic overflow")]
    MathOverflow,
    #[msg("the destination token account does not belong to the member's wallet")]
    WrongDestination,
    #[msg("the signer is not an oracle of this network")]
    NotOracle,
    #[msg("this network does not accept reports of this kind")]
    ReportKindDisabled,
    #[msg("the provider has no attested device")]
    UnattestedProvider,
    #[msg("the node already has an attested device")]
    AlreadyAttested,
    #[msg("the model is invalid: empty name, zero complexity or unknown minimum tier")]
    InvalidModel,
    #[msg("the ledger account does not match the report's ledger")]
    LedgerMismatch,
    #[msg("the mint has a freeze authority that could freeze the vault; add the ledger with allow_freeze_authority to accept it")]
    MintHasFreezeAuthority,
    #[msg("the mint's decimals differ from the ledger's (the mint was closed and re-created)")]
    MintDecimalsChanged,
    #[msg("the report id jumps too far ahead of the member's last one")]
    ReportIdTooFar,
    #[msg("a direct bonus paid at link must go to a points ledger, never to withdrawable tokens")]
    LinkBonusOnTokenLedger,
    #[msg("the report's work time is later than the cluster's clock")]
    ReportInFuture,
    #[msg("the report's work time is older than the network's maximum report age")]
    ReportTooOld,
    #[msg("fewer distinct registered oracles approved this than the network's quorum")]
    QuorumNotMet,
    #[msg("the same oracle is named twice among the approvers")]
    DuplicateCoSigner,
    #[msg("a co-signing oracle's key did not sign the transaction")]
    CoSignerDidNotSign,
    #[msg("the quorum must be at least 1 and at most the number of oracles the network has")]
    QuorumUnreachable,
    #[msg("an approving oracle's registration must be writable: it counts what the oracle approves")]
    OracleRegistrationReadOnly,
    #[msg("this would take an approving oracle past its credit cap for the window")]
    OracleCapExceeded,
    #[msg("a credit cap needs a window of at least one second")]
    InvalidCap,
    #[msg("the member is frozen: it earns, links and withdraws nothing until unfrozen")]
    MemberFrozen,
    #[msg("a report batch must carry at least one report")]
    EmptyBatch,
    #[msg("a report batch's accounts do not match its reports (models, earners and upline levels, in order)")]
    BatchAccountsMismatch,
}

/// Turn a math failure into a program error, logging the caller's location
/// (only on the failure path, so the cost is paid only when it fails).
#[track_caller]
pub fn math_error(error: MathError) -> Error {
    let at = core::panic::Location::caller();
    msg!("{} at {}:{}", error, at.file(), at.line());
    UplineError::MathOverflow.into()
}

/// `?`-friendly conversion of math results at their call site.
pub trait OrMathError<T> {
    /// Map a [`MathError`] to [`UplineError::MathOverflow`], naming the call site.
    fn or_math_error(self) -> Result<T>;
}

impl<T> OrMathError<T> for core::result::Result<T, MathError> {
    #[track_caller]
    fn or_math_error(self) -> Result<T> {
        match self {
            Ok(value) => Ok(value),
            Err(error) => Err(math_error(error)),
        }
    }
}

/// The error with custom code `code` (6000 and up), if it is one of Upline's.
pub fn error_by_code(code: u32) -> Option<UplineError> {
    let index = code.checked_sub(ERROR_CODE_OFFSET)?;
    ALL_ERRORS.get(usize::try_from(index).ok()?).copied()
}

/// Anchor numbers `#[error_code]` variants from 6000.
pub const ERROR_CODE_OFFSET: u32 = 6000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_names() {
        for (i, error) in ALL_ERRORS.iter().enumerate() {
            assert_eq!(u32::from(*error), ERROR_CODE_OFFSET + i as u32);
            assert_eq!(
                error_by_code(u32::from(*error)).map(u32::from),
                Some(u32::from(*error))
            );
        }
        assert_eq!(ALL_ERRORS[0].name(), "AlreadyMember");
        assert_eq!(
            error_by_code(6017).map(|e| e.name()),
            Some("VaultUnderfunded".to_string())
        );
        assert!(error_by_code(5999).is_none());
        assert!(error_by_code(ERROR_CODE_OFFSET + ALL_ERRORS.len() as u32).is_none());
    }
}
