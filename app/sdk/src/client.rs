//! One chain interface over both back ends: the in-process sandbox
//! ([`crate::sandbox::Chain`], feature `sandbox`) and a real cluster over
//! JSON-RPC ([`crate::rpc::RpcCluster`], feature `rpc`). The CLI's network,
//! oracle and member commands are written once against [`Cluster`].

use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::AccountDeserialize;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction::{InstructionError, TransactionError};
use upline::errors::{error_by_code, UplineError};

/// Why a transaction (or a read) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxFailure {
    /// The program (or a program it called) returned custom error `code`.
    Custom { instruction: u8, code: u32 },
    /// The cluster could not be reached or answered with something unusable.
    Transport(String),
    /// Any other failure, as text.
    Other(String),
}

impl TxFailure {
    /// Whether this is the Upline error `error`.
    pub fn is(&self, error: UplineError) -> bool {
        matches!(self, TxFailure::Custom { code, .. } if *code == u32::from(error))
    }

    /// The error's name: an Upline error by its DESIGN.md name, an Anchor
    /// framework error by its Anchor name (`AccountNotInitialized`), another
    /// program's custom error by code, anything else as text.
    pub fn name(&self) -> String {
        match self {
            TxFailure::Custom { code, .. } => error_by_code(*code)
                .map(|e| e.name())
                .or_else(|| anchor_error_name(*code))
                .unwrap_or_else(|| format!("custom program error {code}")),
            TxFailure::Transport(text) | TxFailure::Other(text) => text.clone(),
        }
    }
}

/// Every Anchor framework error (anchor-lang {100..=5000}), so that a code
/// the framework returned can be named rather than shown as a number.
const ANCHOR_ERRORS: &[ErrorCode] = &[
    ErrorCode::InstructionMissing,
    ErrorCode::InstructionFallbackNotFound,
    ErrorCode::InstructionDidNotDeserialize,
    ErrorCode::InstructionDidNotSerialize,
    ErrorCode::IdlInstructionStub,
    ErrorCode::IdlInstructionInvalidProgram,
    ErrorCode::IdlAccountNotEmpty,
    ErrorCode::EventInstructionStub,
    ErrorCode::ConstraintMut,
    ErrorCode::ConstraintHasOne,
    ErrorCode::ConstraintSigner,
    ErrorCode::ConstraintRaw,
    ErrorCode::ConstraintOwner,
    ErrorCode::ConstraintRentExempt,
    ErrorCode::ConstraintSeeds,
    ErrorCode::ConstraintExecutable,
    ErrorCode::ConstraintState,
    ErrorCode::ConstraintAssociated,
    ErrorCode::ConstraintAssociatedInit,
    ErrorCode::ConstraintClose,
    ErrorCode::ConstraintAddress,
    ErrorCode::ConstraintZero,
    ErrorCode::ConstraintTokenMint,
    ErrorCode::ConstraintTokenOwner,
    ErrorCode::ConstraintMintMintAuthority,
    ErrorCode::ConstraintMintFreezeAuthority,
    ErrorCode::ConstraintMintDecimals,
    ErrorCode::ConstraintSpace,
    ErrorCode::ConstraintAccountIsNone,
    ErrorCode::ConstraintTokenTokenProgram,
    ErrorCode::ConstraintMintTokenProgram,
    ErrorCode::ConstraintAssociatedTokenTokenProgram,
    ErrorCode::ConstraintMintGroupPointerExtension,
    ErrorCode::ConstraintMintGroupPointerExtensionAuthority,
    ErrorCode::ConstraintMintGroupPointerExtensionGroupAddress,
    ErrorCode::ConstraintMintGroupMemberPointerExtension,
    ErrorCode::ConstraintMintGroupMemberPointerExtensionAuthority,
    ErrorCode::ConstraintMintGroupMemberPointerExtensionMemberAddress,
    ErrorCode::ConstraintMintMetadataPointerExtension,
    ErrorCode::ConstraintMintMetadataPointerExtensionAuthority,
    ErrorCode::ConstraintMintMetadataPointerExtensionMetadataAddress,
    ErrorCode::ConstraintMintCloseAuthorityExtension,
    ErrorCode::ConstraintMintCloseAuthorityExtensionAuthority,
    ErrorCode::ConstraintMintPermanentDelegateExtension,
    ErrorCode::ConstraintMintPermanentDelegateExtensionDelegate,
    ErrorCode::ConstraintMintTransferHookExtension,
    ErrorCode::ConstraintMintTransferHookExtensionAuthority,
    ErrorCode::ConstraintMintTransferHookExtensionProgramId,
    ErrorCode::ConstraintDuplicateMutableAccount,
    ErrorCode::AccountAlreadyMigrated,
    ErrorCode::AccountNotMigrated,
    ErrorCode::ConstraintMintPausableExtension,
    ErrorCode::ConstraintMintPausableAuthority,
    ErrorCode::RequireViolated,
    ErrorCode::RequireEqViolated,
    ErrorCode::RequireKeysEqViolated,
    ErrorCode::RequireNeqViolated,
    ErrorCode::RequireKeysNeqViolated,
    ErrorCode::RequireGtViolated,
    ErrorCode::RequireGteViolated,
    ErrorCode::AccountDiscriminatorAlreadySet,
    ErrorCode::AccountDiscriminatorNotFound,
    ErrorCode::AccountDiscriminatorMismatch,
    ErrorCode::AccountDidNotDeserialize,
    ErrorCode::AccountDidNotSerialize,
    ErrorCode::AccountNotEnoughKeys,
    ErrorCode::AccountNotMutable,
    ErrorCode::AccountOwnedByWrongProgram,
    ErrorCode::InvalidProgramId,
    ErrorCode::InvalidProgramExecutable,
    ErrorCode::AccountNotSigner,
    ErrorCode::AccountNotSystemOwned,
    ErrorCode::AccountNotInitialized,
    ErrorCode::AccountNotProgramData,
    ErrorCode::AccountNotAssociatedTokenAccount,
    ErrorCode::AccountSysvarMismatch,
    ErrorCode::AccountReallocExceedsLimit,
    ErrorCode::AccountDuplicateReallocs,
    ErrorCode::DeclaredProgramIdMismatch,
    ErrorCode::TryingToInitPayerAsProgramAccount,
    ErrorCode::InvalidNumericConversion,
    ErrorCode::Deprecated,
];

/// The Anchor name of framework error `code` (`3012` → `AccountNotInitialized`).
pub fn anchor_error_name(code: u32) -> Option<String> {
    ANCHOR_ERRORS
        .iter()
        .find(|e| u32::from(**e) == code)
        .map(|e| e.name())
}

impl std::fmt::Display for TxFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TxFailure::Custom { instruction, .. } => {
                write!(f, "{} (instruction {instruction})", self.name())
            }
            TxFailure::Transport(text) => write!(f, "cluster unreachable: {text}"),
            TxFailure::Other(text) => f.write_str(text),
        }
    }
}

impl From<TransactionError> for TxFailure {
    fn from(err: TransactionError) -> TxFailure {
        match err {
            TransactionError::InstructionError(instruction, InstructionError::Custom(code)) => {
                TxFailure::Custom { instruction, code }
            }
            TransactionError::AccountNotFound | TransactionError::InsufficientFundsForFee => {
                TxFailure::Other(
                    "the fee payer has no SOL to pay for the transaction (on localhost or devnet: `upline airdrop 1`)"
                        .into(),
                )
            }
            other => TxFailure::Other(format!("{other:?}")),
        }
    }
}

/// An account as a cluster stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    pub lamports: u64,
    pub owner: Pubkey,
    pub data: Vec<u8>,
}

/// What the CLI needs of a chain, whichever back end serves it.
#[allow(async_fn_in_trait)]
pub trait Cluster {
    /// Sign `instructions` with `signers` (the first pays the fees), send them as
    /// one transaction and wait until it is confirmed or refused.
    async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), TxFailure>;

    /// [`Cluster::send`] with signers that may hold their keys elsewhere: a
    /// signature made on another machine (`--signer PUBKEY=SIGNATURE`), or a
    /// key to be signed for later (`--sign-only`). Only a cluster that can
    /// keep or merge such signatures implements it (JSON-RPC).
    async fn send_with(
        &mut self,
        _instructions: &[Instruction],
        _signers: &[&dyn Signer],
    ) -> Result<(), TxFailure> {
        Err(TxFailure::Other(
            "signing with keys held elsewhere needs a JSON-RPC cluster".into(),
        ))
    }

    /// Transactions signed for keys held elsewhere and kept instead of sent
    /// (`--sign-only`), taken out of the cluster.
    fn take_kept(&mut self) -> Vec<Transaction> {
        Vec::new()
    }

    /// Accounts by address, `None` where none exists, in the order asked.
    async fn accounts(&mut self, keys: &[Pubkey]) -> Result<Vec<Option<AccountState>>, TxFailure>;

    /// Lamports an account of `len` bytes needs to be rent-exempt.
    async fn rent_exempt(&mut self, len: usize) -> Result<u64, TxFailure>;

    /// The cluster's clock, unix seconds.
    async fn now(&mut self) -> Result<i64, TxFailure>;

    /// The compute budget instructions this cluster puts before `count`
    /// instructions of a transaction (none unless asked for), so that senders
    /// that pack transactions leave room for them.
    fn budget_instructions(&self, _count: usize) -> Vec<Instruction> {
        Vec::new()
    }

    /// One account, `None` if it does not exist.
    async fn account(&mut self, key: &Pubkey) -> Result<Option<AccountState>, TxFailure> {
        Ok(self
            .accounts(std::slice::from_ref(key))
            .await?
            .pop()
            .flatten())
    }

    /// Decode the Upline account at `key`; `None` if there is none, an error if
    /// something else lives there.
    async fn decode<T: AccountDeserialize>(
        &mut self,
        key: &Pubkey,
    ) -> Result<Option<T>, TxFailure> {
        match self.account(key).await? {
            None => Ok(None),
            Some(account) if account.owner != upline::ID => Err(TxFailure::Other(format!(
                "{key} is not an Upline account (owner {})",
                account.owner
            ))),
            Some(account) => crate::decode_account::<T>(&account.data)
                .map(Some)
                .map_err(|e| TxFailure::Other(format!("{key}: {e}"))),
        }
    }
}

/// The member accounts above `member`, referrer first, up to `depth` levels,
/// as the member accounts store them (links store memberships, not wallets).
pub async fn stored_upline<C: Cluster>(
    cluster: &mut C,
    member: &Pubkey,
    depth: usize,
) -> Result<Vec<Pubkey>, TxFailure> {
    let mut out = Vec::with_capacity(depth);
    let mut next = *member;
    while out.len() < depth {
        let member = cluster.decode::<upline::state::Member>(&next).await?;
        match member {
            Some(m) if m.referrer != Pubkey::default() => {
                out.push(m.referrer);
                next = m.referrer;
            }
            _ => break,
        }
    }
    Ok(out)
}

/// What linking to the membership `referrer` passes: its account followed by
/// its stored upline, up to the three levels a link checks.
pub async fn link_chain<C: Cluster>(
    cluster: &mut C,
    referrer: &Pubkey,
) -> Result<Vec<Pubkey>, TxFailure> {
    let mut chain = vec![*referrer];
    let above = upline::constants::MAX_REFERRAL_DEPTH - 1;
    chain.extend(stored_upline(cluster, referrer, above).await?);
    Ok(chain)
}

/// Which membership a referral code names (DESIGN.md §3 rule 6): the code is
/// `wallet`; the membership is its one in `joiner_class` where it exists, else
/// its only one, else the one in `named_class` (the joiner's choice). `Ok(None)`
/// when the wallet holds no such membership (the program's `UnknownReferrer`).
pub async fn referrer_membership<C: Cluster>(
    cluster: &mut C,
    network: &Pubkey,
    wallet: &Pubkey,
    joiner_class: u8,
    named_class: Option<u8>,
) -> Result<Option<Pubkey>, TxFailure> {
    let classes = upline::constants::MAX_CLASSES as u8;
    let mut held = Vec::new();
    for class in 0..classes {
        let address = crate::pda::member(network, wallet, class);
        if cluster.account(&address).await?.is_some() {
            held.push((class, address));
        }
    }
    Ok(choose_membership(&held, joiner_class, named_class))
}

/// The choice of [`referrer_membership`] among the `(class, address)` pairs a
/// wallet holds.
pub fn choose_membership(
    held: &[(u8, Pubkey)],
    joiner_class: u8,
    named_class: Option<u8>,
) -> Option<Pubkey> {
    let in_class = |class: u8| held.iter().find(|(c, _)| *c == class).map(|(_, a)| *a);
    in_class(joiner_class)
        .or_else(|| (held.len() == 1).then(|| held[0].1))
        .or_else(|| named_class.and_then(in_class))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_errors_are_named_not_numbered() {
        let name = |code| {
            TxFailure::Custom {
                instruction: 0,
                code,
            }
            .name()
        };
        assert_eq!(name(3012), "AccountNotInitialized");
        assert_eq!(name(2006), "ConstraintSeeds");
        assert_eq!(name(100), "InstructionMissing");
        assert_eq!(name(6001), "UnknownMember");
        assert_eq!(name(1), "custom program error 1");
        assert_eq!(ANCHOR_ERRORS.len(), 82);
    }

    #[test]
    fn a_referral_code_names_the_joiners_class_first() {
        let (user, provider) = (Pubkey::new_unique(), Pubkey::new_unique());
        let both = [(0, user), (1, provider)];
        assert_eq!(choose_membership(&both, 1, None), Some(provider));
        assert_eq!(choose_membership(&both, 0, Some(1)), Some(user));
        // Neither in the joiner's class: only a named class decides.
        assert_eq!(choose_membership(&both, 2, None), None);
        assert_eq!(choose_membership(&both, 2, Some(1)), Some(provider));
        // A single membership answers for any class.
        assert_eq!(choose_membership(&both[..1], 2, None), Some(user));
        assert_eq!(choose_membership(&[], 0, Some(0)), None);
    }
}
