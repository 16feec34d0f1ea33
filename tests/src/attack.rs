//! The attack harness: take an instruction that succeeds, then try it again
//! with each account tampered with in each way the sealevel-attacks catalogue
//! names, and require that every attempt is refused by the check that should
//! catch it: each attempt expects one specific refusal (an Anchor error code,
//! one of Upline's own, or a runtime error), so a tamper that fails for an
//! unrelated reason fails the test.
//!
//! Per account position of the instruction:
//! - a signer: sent without its signature (signer authorization), and
//!   replaced by another key that does sign (a real signature by the wrong
//!   key), unless anybody may sign there (a payer);
//! - any other account, substituted by a key that holds nothing
//!   (initialization), by the same role in a twin network (account data
//!   matching, PDA sharing), by each other writable account of the
//!   instruction (duplicate mutable accounts), and for programs by the
//!   System program (a fake program for an arbitrary CPI);
//! - an existing data account, tampered with in place: its owner changed to
//!   another program (owner checks), its data replaced by each other account
//!   type's (type cosplay: network, ledger, member, reward tables, oracle,
//!   model, device, subnet, token account, mint), or zeroed (an
//!   uninitialised account).
//!
//! # Expected refusals
//!
//! Each position of a [`Case`] (its `Accounts` struct's fields, then the
//! remaining accounts it takes, such as a report's co-signing oracles) is
//! described by a [`Field`]: its name and how
//! the program loads it ([`Ty`], the field's type in the instruction's
//! `Accounts` struct, with the error its own constraint returns for a
//! well-formed but wrong account). The expected refusal of an attempt then
//! follows from rules, the way Anchor checks accounts: all fields are loaded
//! in order first, then `init` fields are created, then duplicate mutable
//! accounts are refused, then each field's constraints run in order, then the
//! instruction's `validate` and handler:
//!
//! | field type | tamper | expected |
//! |---|---|---|
//! | `Signer` | signature stripped | `AccountNotSigner` |
//! | `Signer` | signed by another key | the field's named error (`NotAdmin`, `NotOracle`, `UnknownMember`, `ConstraintSeeds` where the key seeds a PDA...) |
//! | co-signing oracle (a remaining account) | signature stripped | `CoSignerDidNotSign` (the program checks it) |
//! | co-signing oracle | signed by another key | `NotOracle` (its registration is not that key's) |
//! | `Account<T>` | nothing there (system-owned, no lamports) | `AccountNotInitialized` |
//! | `Account<T>` | owned by another program | `AccountOwnedByWrongProgram` |
//! | `Account<T>` | another type's data, zeroed | `AccountDiscriminatorMismatch` (`AccountDiscriminatorNotFound` under 8 bytes) |
//! | `Account<T>`, `InterfaceAccount<T>` | writable, the same account as another writable one | `ConstraintDuplicateMutableAccount` |
//! | `Account<T>`, `InterfaceAccount<T>` | a well-formed wrong account (twin network, another of the same type) | the field's named error (its `has_one` / `address` / `constraint`, or the first later check that catches it) |
//! | `InterfaceAccount<T>` | nothing there / not a token program's | `AccountNotInitialized` / `AccountOwnedByWrongProgram` |
//! | `InterfaceAccount<T>` | data that does not unpack | SPL Token's unpack error (`InvalidAccountData`, `UninitializedAccount`) |
//! | `init` PDA, `UncheckedAccount` with `seeds` | any other address | `ConstraintSeeds` |
//! | `Program`, `Interface` | any other key | `InvalidProgramId` |
//! | event authority | any other key | `ConstraintAddress` |
//! | `UncheckedAccount` the program loads itself | anything | the program's named error (`UnknownMember`, `UplineMismatch`, `UnknownReferrer`, `NotOracle`) |
//! | `UncheckedAccount` the program loads itself | another member of the same network | the field's later check (`UplineMismatch`: its links do not match) |
//! | `UncheckedAccount` whose address another field's constraint binds | another address | that constraint's error |
//!
//! Where an account of the right type but the wrong identity is caught by a
//! check that depends on its state (a member of the same network in another
//! member's place), a case lists an [`Exception`] with the reason. A mismatch
//! fails the test naming the instruction, the account position, the tamper,
//! and the expected and actual refusal. Every run prints, per instruction and
//! overall, the attempts and how many were refused with each error.
//!
//! # What is not covered
//!
//! The program's own account (passed for `emit_cpi!`) is not substituted: a
//! validator refuses a CPI whose program is missing, but solana-program-test's
//! native CPI stub panics on it instead. After each failed attempt every
//! account the instruction names is compared with its state before; in
//! solana-program-test this check cannot fail (the bank rolls a failed
//! transaction back as a whole), so it is kept as a guard of the harness
//! itself and not counted as coverage: the coverage is the expected refusal.

use crate::refusal::{Histogram, Refusal};
use crate::reports::hash32;
use crate::tokens::{TOKEN, TOKEN_2022};
use crate::{Chain, TestNetwork};
use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::system_program;
use anchor_lang::Discriminator;
use anchor_spl::token_2022::spl_token_2022;
use solana_account::{Account, AccountSharedData};
use solana_keypair::Keypair;
use solana_signer::Signer;
use spl_token_2022::extension::StateWithExtensions;
use std::collections::HashMap;
use upline::errors::UplineError;

/// The account types whose data can stand in for one another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Network,
    Ledger,
    Member,
    RewardTables,
    Oracle,
    Model,
    Device,
    Subnet,
    TokenAccount,
    Mint,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::Network,
        Kind::Ledger,
        Kind::Member,
        Kind::RewardTables,
        Kind::Oracle,
        Kind::Model,
        Kind::Device,
        Kind::Subnet,
        Kind::TokenAccount,
        Kind::Mint,
    ];

    /// The account discriminator of Upline's types.
    fn discriminator(self) -> Option<&'static [u8]> {
        use upline::state::*;
        Some(match self {
            Kind::Network => Network::DISCRIMINATOR,
            Kind::Ledger => Ledger::DISCRIMINATOR,
            Kind::Member => Member::DISCRIMINATOR,
            Kind::RewardTables => RewardTables::DISCRIMINATOR,
            Kind::Oracle => Oracle::DISCRIMINATOR,
            Kind::Model => Model::DISCRIMINATOR,
            Kind::Device => Device::DISCRIMINATOR,
            Kind::Subnet => Subnet::DISCRIMINATOR,
            Kind::TokenAccount | Kind::Mint => return None,
        })
    }

    /// The kind of an existing account, from its owner and data.
    pub fn of(account: &Account) -> Option<Kind> {
        if account.owner == upline::ID {
            return Kind::ALL.into_iter().find(|kind| {
                kind.discriminator()
                    .is_some_and(|d| account.data.starts_with(d))
            });
        }
        if account.owner != TOKEN && account.owner != TOKEN_2022 {
            return None;
        }
        if StateWithExtensions::<spl_token_2022::state::Account>::unpack(&account.data).is_ok() {
            Some(Kind::TokenAccount)
        } else if StateWithExtensions::<spl_token_2022::state::Mint>::unpack(&account.data).is_ok()
        {
            Some(Kind::Mint)
        } else {
            None
        }
    }
}

/// How the program loads the account at one position: the field's type in
/// the instruction's `Accounts` struct, and the refusal of its own checks.
#[derive(Clone, Debug)]
pub enum Ty {
    /// `Signer`. `wrong`: the refusal when another key signs in its place;
    /// `None` where anybody may sign (a payer), so no such attempt is made.
    Signer { wrong: Option<Refusal> },
    /// A co-signing oracle's key among a report's remaining accounts: a
    /// transaction signer the program checks itself (`CoSignerDidNotSign`
    /// unsigned, `NotOracle` for a key its registration is not).
    CoSigner,
    /// `Account<T>` of Upline (`T` is `kind`). `wrong`: the refusal of a
    /// well-formed account of that type that is not the right one.
    Account { kind: Kind, wrong: Refusal },
    /// `InterfaceAccount<Mint>` or `InterfaceAccount<TokenAccount>`; `wrong`
    /// as for [`Ty::Account`], `None` where any such account is acceptable.
    Token { kind: Kind, wrong: Option<Refusal> },
    /// An account created here by `init` at a PDA.
    Init,
    /// An `UncheckedAccount` at a PDA (`seeds`), created by the handler.
    Seeded,
    /// An `UncheckedAccount` the program loads and checks itself (a member of
    /// a report or a link, the oracle): refused with `refusal` whatever is
    /// wrong with the account. `member`: the refusal when another member of
    /// the same network (another account of the instruction) stands there,
    /// which loads and is caught by the program's later checks; `bound`: the
    /// refusal of another field's constraint that binds this address
    /// (`device.member == node.key()`), which Anchor checks first.
    Checked {
        refusal: Refusal,
        member: Option<Refusal>,
        bound: Option<Refusal>,
    },
    /// `Program<System>` or `Interface<TokenInterface>`.
    Program,
    /// The `emit_cpi!` event authority (an `address` constraint).
    EventAuthority,
    /// The program itself, for `emit_cpi!`: not tampered with.
    EventProgram,
}

/// One account position of an instruction.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
}

/// Shorthands for the instructions' field lists.
pub fn signer(name: &'static str, wrong: impl Into<Refusal>) -> Field {
    Field {
        name,
        ty: Ty::Signer {
            wrong: Some(wrong.into()),
        },
    }
}

/// A signer anybody may be (it only pays).
pub fn payer(name: &'static str) -> Field {
    Field {
        name,
        ty: Ty::Signer { wrong: None },
    }
}

pub fn account(name: &'static str, kind: Kind, wrong: impl Into<Refusal>) -> Field {
    Field {
        name,
        ty: Ty::Account {
            kind,
            wrong: wrong.into(),
        },
    }
}

pub fn token(name: &'static str, kind: Kind, wrong: impl Into<Refusal>) -> Field {
    Field {
        name,
        ty: Ty::Token {
            kind,
            wrong: Some(wrong.into()),
        },
    }
}

pub fn checked(name: &'static str, refusal: impl Into<Refusal>) -> Field {
    Field {
        name,
        ty: Ty::Checked {
            refusal: refusal.into(),
            member: None,
            bound: None,
        },
    }
}

impl Field {
    /// For [`Ty::Checked`]: the refusal when another member of the same
    /// network stands here.
    pub fn member(mut self, refusal: impl Into<Refusal>) -> Field {
        if let Ty::Checked { member, .. } = &mut self.ty {
            *member = Some(refusal.into());
        }
        self
    }

    /// For [`Ty::Checked`]: the refusal of the constraint of another field
    /// that binds this field's address.
    pub fn bound(mut self, refusal: impl Into<Refusal>) -> Field {
        if let Ty::Checked { bound, .. } = &mut self.ty {
            *bound = Some(refusal.into());
        }
        self
    }
}

pub fn field(name: &'static str, ty: Ty) -> Field {
    Field { name, ty }
}

/// An expected refusal that the rules do not give, with the reason.
#[derive(Clone, Debug)]
pub struct Exception {
    /// The field tampered with.
    pub field: &'static str,
    /// The tamper's label, as [`Tamper::label`] prints it.
    pub tamper: &'static str,
    pub expect: Refusal,
    pub why: &'static str,
}

/// An instruction that succeeds as given, with the keypairs that sign it and
/// its account fields in order (the event authority and program, which
/// `#[event_cpi]` appends, are added by the harness), then its remaining
/// accounts.
pub struct Case {
    pub name: &'static str,
    pub ix: Instruction,
    pub signers: Vec<Keypair>,
    pub fields: Vec<Field>,
    /// The accounts after the event authority and program (co-signers).
    pub remaining: Vec<Field>,
    pub exceptions: Vec<Exception>,
}

impl Case {
    pub fn new(
        name: &'static str,
        ix: Instruction,
        signers: &[&Keypair],
        fields: Vec<Field>,
    ) -> Case {
        Case {
            name,
            ix,
            signers: signers.iter().map(|k| k.insecure_clone()).collect(),
            fields,
            remaining: Vec::new(),
            exceptions: Vec::new(),
        }
    }

    /// The fields of the remaining accounts (after the event CPI's two).
    pub fn remaining(mut self, fields: Vec<Field>) -> Case {
        self.remaining = fields;
        self
    }

    /// Expect `expect` for `tamper` on `field`, for the reason `why`.
    pub fn except(
        mut self,
        field: &'static str,
        tamper: &'static str,
        expect: impl Into<Refusal>,
        why: &'static str,
    ) -> Case {
        self.exceptions.push(Exception {
            field,
            tamper,
            expect: expect.into(),
            why,
        });
        self
    }
}

/// One way to tamper with one position.
#[derive(Clone, Debug)]
pub enum Tamper {
    StripSigner,
    WrongSigner,
    /// Another key in its place, and what that key is.
    Substitute(Pubkey, String),
    Owner(Pubkey),
    /// Other data in place, and what it is.
    Data(Vec<u8>, String),
}

impl Tamper {
    /// How the tamper is named in expectations and failures.
    pub fn label(&self) -> String {
        match self {
            Tamper::StripSigner => "signature stripped".into(),
            Tamper::WrongSigner => "signed by another key".into(),
            Tamper::Substitute(_, what) => format!("replaced by {what}"),
            Tamper::Owner(_) => "owner changed".into(),
            Tamper::Data(_, what) => what.clone(),
        }
    }
}

/// Accounts whose data may stand in for another type's: one of each [`Kind`].
pub type Cosplay = Vec<(Kind, Pubkey)>;

/// A cxmpute and an aether network with one of every kind of account (a
/// member, a model, an oracle, an attested node's device and subnet, a vault
/// and its mint), for type cosplay.
pub async fn cosplay_library(chain: &mut Chain) -> Cosplay {
    use upline_sdk::pda;
    let cx = TestNetwork::from_preset(chain, "cxmpute").await;
    let member = cx.join(chain, 1, &[]).await;
    let ae = TestNetwork::from_preset(chain, "aether").await;
    let node = ae.join(chain, 1, &[]).await;
    let attest = ae.attest_node_ix(&node.pubkey(), "library-device", "library-subnet");
    ae.as_oracle(chain, &[attest]).await.expect("attest node");
    let ledger = &cx.ledgers[0];
    let out = vec![
        (Kind::Network, cx.key),
        (Kind::Ledger, ledger.address),
        (Kind::Member, cx.member(&member.pubkey())),
        (Kind::RewardTables, pda::reward_tables(&cx.key)),
        (Kind::Oracle, pda::oracle(&cx.key, &cx.oracle.pubkey())),
        (
            Kind::Model,
            pda::model(&cx.key, &crate::reports::model("llama3-70b")),
        ),
        (
            Kind::Device,
            pda::device(&ae.key, &hash32("library-device")),
        ),
        (
            Kind::Subnet,
            pda::subnet(&ae.key, &hash32("library-subnet")),
        ),
        (Kind::TokenAccount, pda::vault(&ledger.address)),
        (Kind::Mint, ledger.mint().address),
    ];
    for (kind, key) in &out {
        let account = state(chain, key).await.expect("library account exists");
        assert_eq!(Kind::of(&account), Some(*kind), "library account {key}");
    }
    out
}

async fn state(chain: &mut Chain, key: &Pubkey) -> Option<Account> {
    chain
        .ctx
        .banks_client
        .get_account(*key)
        .await
        .expect("the bank answers")
}

fn is_program(key: &Pubkey, account: Option<&Account>) -> bool {
    account.is_some_and(|a| a.executable) || *key == system_program::ID
}

fn absent(state: Option<&Account>) -> bool {
    state.is_none_or(|a| a.owner == system_program::ID && a.lamports == 0)
}

/// What Anchor refuses when it loads `state` into a field of type `ty`
/// (before any constraint), or `None` if it loads.
fn load_refusal(ty: &Ty, state: Option<&Account>) -> Option<Refusal> {
    match ty {
        Ty::Account { kind, .. } => {
            let disc = kind.discriminator().expect("an Upline type");
            let code = match state {
                _ if absent(state) => ErrorCode::AccountNotInitialized,
                Some(a) if a.owner != upline::ID => ErrorCode::AccountOwnedByWrongProgram,
                Some(a) if a.data.len() < disc.len() => ErrorCode::AccountDiscriminatorNotFound,
                Some(a) if !a.data.starts_with(disc) => ErrorCode::AccountDiscriminatorMismatch,
                _ => return None,
            };
            Some(code.into())
        }
        Ty::Token { kind, .. } => {
            let account = match state {
                _ if absent(state) => return Some(ErrorCode::AccountNotInitialized.into()),
                Some(a) if a.owner != TOKEN && a.owner != TOKEN_2022 => {
                    return Some(ErrorCode::AccountOwnedByWrongProgram.into())
                }
                Some(a) => a,
                None => unreachable!("absent"),
            };
            // anchor-spl's interface types unpack with Token-2022's parser;
            // its error reaches the runtime as the instruction's error.
            let unpacked = match kind {
                Kind::Mint => {
                    StateWithExtensions::<spl_token_2022::state::Mint>::unpack(&account.data)
                        .map(|_| ())
                }
                _ => StateWithExtensions::<spl_token_2022::state::Account>::unpack(&account.data)
                    .map(|_| ()),
            };
            unpacked.err().map(|e| Refusal::Runtime(format!("{e:?}")))
        }
        Ty::Program => Some(ErrorCode::InvalidProgramId.into()),
        _ => None,
    }
}

/// Whether `ty` is a type Anchor refuses as a duplicate when writable.
fn serializes_on_exit(ty: &Ty) -> bool {
    matches!(ty, Ty::Account { .. } | Ty::Token { .. })
}

/// The harness: the twin and cosplay accounts, the other signer, and what it
/// has counted.
pub struct Harness {
    pub twins: HashMap<Pubkey, Pubkey>,
    pub cosplay: Cosplay,
    /// Signs in place of the right signer.
    pub intruder: Keypair,
    /// Per instruction: its name, attempts, and refusals by name.
    pub tally: Vec<(&'static str, Histogram)>,
    pub mismatches: Vec<String>,
}

impl Harness {
    pub async fn new(
        chain: &mut Chain,
        twins: HashMap<Pubkey, Pubkey>,
        cosplay: Cosplay,
    ) -> Harness {
        let kinds: Vec<Kind> = cosplay.iter().map(|(k, _)| *k).collect();
        assert!(
            Kind::ALL.iter().all(|k| kinds.contains(k)),
            "the cosplay set has one account of every kind"
        );
        Harness {
            twins,
            cosplay,
            intruder: chain.wallet().await,
            tally: Vec::new(),
            mismatches: Vec::new(),
        }
    }

    /// The fields of `case` with the two `#[event_cpi]` appends.
    fn fields(case: &Case) -> Vec<Field> {
        let mut fields = case.fields.clone();
        fields.push(field("event_authority", Ty::EventAuthority));
        fields.push(field("program", Ty::EventProgram));
        fields.extend(case.remaining.iter().cloned());
        assert_eq!(
            fields.len(),
            case.ix.accounts.len(),
            "{}: one field per account meta",
            case.name
        );
        fields
    }

    /// The ways to tamper with `case`, given the accounts' current states.
    async fn tampers(
        &self,
        chain: &mut Chain,
        case: &Case,
        fields: &[Field],
    ) -> Vec<(usize, Tamper)> {
        let metas = &case.ix.accounts;
        let mut out = Vec::new();
        for (i, (meta, field)) in metas.iter().zip(fields).enumerate() {
            // An absent optional account is passed as the program id; the
            // program's own account for `emit_cpi!` is left alone (see the
            // module docs).
            if meta.pubkey == upline::ID || matches!(field.ty, Ty::EventProgram) {
                continue;
            }
            let wrong = match &field.ty {
                Ty::Signer { wrong } => Some(wrong.is_some()),
                Ty::CoSigner => Some(true),
                _ => None,
            };
            if let Some(wrong) = wrong {
                assert!(meta.is_signer, "{}: {} signs", case.name, field.name);
                let first = metas.iter().position(|m| m.pubkey == meta.pubkey) == Some(i);
                if first {
                    out.push((i, Tamper::StripSigner));
                }
                if wrong {
                    out.push((i, Tamper::WrongSigner));
                }
                continue;
            }
            let account = state(chain, &meta.pubkey).await;
            out.push((
                i,
                Tamper::Substitute(Pubkey::new_unique(), "a key that holds nothing".into()),
            ));
            if let Some(twin) = self.twins.get(&meta.pubkey) {
                out.push((
                    i,
                    Tamper::Substitute(*twin, "the same role in a twin network".into()),
                ));
            }
            let mut others: Vec<(Pubkey, &'static str)> = Vec::new();
            for (m, f) in metas.iter().zip(fields) {
                let new = m.pubkey != meta.pubkey
                    && m.pubkey != upline::ID
                    && m.is_writable
                    && !others.iter().any(|(k, _)| *k == m.pubkey);
                if new {
                    others.push((m.pubkey, f.name));
                }
            }
            for (other, name) in others {
                out.push((
                    i,
                    Tamper::Substitute(other, format!("the account at {name}")),
                ));
            }
            if is_program(&meta.pubkey, account.as_ref()) {
                if meta.pubkey != system_program::ID {
                    out.push((
                        i,
                        Tamper::Substitute(system_program::ID, "the System program".into()),
                    ));
                }
                continue;
            }
            let Some(account) = account else { continue };
            if account.owner == system_program::ID {
                continue;
            }
            let other_owner = if account.owner == upline::ID {
                TOKEN
            } else {
                upline::ID
            };
            out.push((i, Tamper::Owner(other_owner)));
            let own = Kind::of(&account);
            for (kind, source) in &self.cosplay {
                if Some(*kind) == own {
                    continue;
                }
                let data = state(chain, source).await.expect("cosplay account").data;
                out.push((i, Tamper::Data(data, format!("{kind:?}'s data"))));
            }
            out.push((
                i,
                Tamper::Data(vec![0; account.data.len()], "zeroed".into()),
            ));
        }
        out
    }

    /// The refusal the rules (or an exception) expect for `tamper` at `at`;
    /// `tampered` is what the position then holds (the substitute, or the
    /// account changed in place).
    fn expected(
        case: &Case,
        fields: &[Field],
        at: usize,
        tamper: &Tamper,
        tampered: Option<&Account>,
    ) -> Refusal {
        let field = &fields[at];
        let label = tamper.label();
        if let Some(e) = case
            .exceptions
            .iter()
            .find(|e| e.field == field.name && e.tamper == label)
        {
            return e.expect.clone();
        }
        let wrong = |f: &Field| -> Refusal {
            match &f.ty {
                Ty::Account { wrong, .. } => wrong.clone(),
                Ty::Token { wrong, .. } => wrong.clone().unwrap_or_else(|| {
                    panic!("{}: no expectation for a wrong {}", case.name, f.name)
                }),
                Ty::Checked { refusal, .. } => refusal.clone(),
                Ty::Init | Ty::Seeded => ErrorCode::ConstraintSeeds.into(),
                Ty::EventAuthority => ErrorCode::ConstraintAddress.into(),
                Ty::Program => ErrorCode::InvalidProgramId.into(),
                Ty::Signer { .. } | Ty::CoSigner | Ty::EventProgram => {
                    panic!("{}: {} is not tampered that way", case.name, f.name)
                }
            }
        };
        let metas = &case.ix.accounts;
        match tamper {
            Tamper::StripSigner => match &field.ty {
                Ty::CoSigner => UplineError::CoSignerDidNotSign.into(),
                _ => ErrorCode::AccountNotSigner.into(),
            },
            Tamper::WrongSigner => match &field.ty {
                Ty::Signer { wrong: Some(w) } => w.clone(),
                Ty::CoSigner => UplineError::NotOracle.into(),
                _ => unreachable!("only signers with a named refusal"),
            },
            Tamper::Substitute(key, _) => {
                if let Some(refusal) = load_refusal(&field.ty, tampered) {
                    return refusal;
                }
                // Both loaded: a writable account passed twice is refused
                // before any constraint.
                let duplicate = serializes_on_exit(&field.ty)
                    && metas[at].is_writable
                    && metas.iter().zip(fields).enumerate().any(|(j, (m, f))| {
                        j != at && m.pubkey == *key && m.is_writable && serializes_on_exit(&f.ty)
                    });
                if duplicate {
                    return ErrorCode::ConstraintDuplicateMutableAccount.into();
                }
                if let Ty::Checked { member, bound, .. } = &field.ty {
                    // Another member of the instruction (so of the same network).
                    let same_network = metas.iter().any(|m| m.pubkey == *key)
                        && tampered.and_then(Kind::of) == Some(Kind::Member);
                    match (bound, member) {
                        (Some(bound), _) => return bound.clone(),
                        (None, Some(member)) if same_network => return member.clone(),
                        _ => {}
                    }
                }
                wrong(field)
            }
            Tamper::Owner(_) | Tamper::Data(..) => {
                // The account may stand at several positions: Anchor loads
                // them all before any check of the program's own.
                let key = metas[at].pubkey;
                let positions: Vec<usize> = (0..metas.len())
                    .filter(|j| metas[*j].pubkey == key)
                    .collect();
                positions
                    .iter()
                    .find_map(|j| load_refusal(&fields[*j].ty, tampered))
                    .unwrap_or_else(|| wrong(&fields[positions[0]]))
            }
        }
    }

    /// Try every tamper on `case` (each must be refused as expected), then
    /// send it as given (it must succeed).
    pub async fn attack(&mut self, chain: &mut Chain, case: &Case) {
        let fields = Harness::fields(case);
        let watched: Vec<Pubkey> = case.ix.accounts.iter().map(|m| m.pubkey).collect();
        let all = self.tampers(chain, case, &fields).await;
        let mut histogram = Histogram::default();
        for (at, tamper) in &all {
            let mut ix = case.ix.clone();
            let mut signers: Vec<&Keypair> = case.signers.iter().collect();
            let mut restore: Option<(Pubkey, Account)> = None;
            let original = ix.accounts[*at].pubkey;
            let tampered = match tamper {
                Tamper::StripSigner => {
                    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == original) {
                        meta.is_signer = false;
                    }
                    signers.retain(|k| k.pubkey() != original);
                    None
                }
                Tamper::WrongSigner => {
                    ix.accounts[*at].pubkey = self.intruder.pubkey();
                    if !ix.accounts.iter().any(|m| m.pubkey == original) {
                        signers.retain(|k| k.pubkey() != original);
                    }
                    signers.push(&self.intruder);
                    None
                }
                Tamper::Substitute(key, _) => {
                    ix.accounts[*at].pubkey = *key;
                    state(chain, key).await
                }
                Tamper::Owner(_) | Tamper::Data(..) => {
                    let before = state(chain, &original).await.expect("exists");
                    let mut changed = before.clone();
                    match tamper {
                        Tamper::Owner(owner) => changed.owner = *owner,
                        Tamper::Data(data, _) => changed.data = data.clone(),
                        _ => {}
                    }
                    chain
                        .ctx
                        .set_account(&original, &AccountSharedData::from(changed.clone()));
                    restore = Some((original, before));
                    Some(changed)
                }
            };
            let expected = Harness::expected(case, &fields, *at, tamper, tampered.as_ref());
            let mut keys = watched.clone();
            keys.extend(ix.accounts.iter().map(|m| m.pubkey));
            let before = chain.snapshot(&keys).await;
            let outcome = chain.send(std::slice::from_ref(&ix), &signers).await;
            let after = chain.snapshot(&keys).await;
            if let Some((key, original)) = restore {
                chain
                    .ctx
                    .set_account(&key, &AccountSharedData::from(original));
            }
            let what = format!(
                "{}: account {at} ({}) {}",
                case.name,
                fields[*at].name,
                tamper.label()
            );
            let actual = match outcome {
                Ok(_) => panic!("{what}: the tampered instruction succeeded (expected {expected})"),
                Err(failure) => Refusal::of(&failure),
            };
            if actual != expected {
                self.mismatches
                    .push(format!("{what}: expected {expected}, got {actual}"));
            }
            histogram.add(actual.name());
            // Not coverage: in solana-program-test a failed transaction is
            // rolled back as a whole, so this cannot fail; it guards the
            // harness (a restore that did not happen, a tamper that leaked).
            for ((key, b), a) in keys.iter().zip(&before).zip(&after) {
                assert_eq!(b, a, "{what}: refused but changed {key}");
            }
        }
        // An exception that matches no attempt is stale: say so.
        for e in &case.exceptions {
            let used = all
                .iter()
                .any(|(at, t)| fields[*at].name == e.field && t.label() == e.tamper);
            assert!(
                used,
                "{}: the exception for {} {} matches no attempt",
                case.name, e.field, e.tamper
            );
        }
        let signers: Vec<&Keypair> = case.signers.iter().collect();
        chain
            .send(std::slice::from_ref(&case.ix), &signers)
            .await
            .unwrap_or_else(|e| panic!("{}: the untampered instruction fails: {e}", case.name));
        eprintln!(
            "  {}: {} attempts: {histogram}",
            case.name,
            histogram.total()
        );
        self.tally.push((case.name, histogram));
    }

    /// Print the totals under `title` and fail with every mismatch.
    pub fn finish(&self, title: &str) -> u64 {
        let mut total = Histogram::default();
        for (_, h) in &self.tally {
            total.merge(h);
        }
        eprintln!(
            "{title}: {} instructions, {} tampered transactions; refused with: {total}",
            self.tally.len(),
            total.total()
        );
        assert!(
            self.mismatches.is_empty(),
            "{} of {} attempts were refused otherwise than expected:\n{}",
            self.mismatches.len(),
            total.total(),
            self.mismatches.join("\n")
        );
        total.total()
    }
}

/// The refusal of a named Upline error (for field lists).
pub fn upline(error: UplineError) -> Refusal {
    error.into()
}
