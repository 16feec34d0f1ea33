//! The attack harness: take an instruction that succeeds, then try it again
//! with each account tampered with in each way the sealevel-attacks catalogue
//! names, and require that every attempt fails and changes nothing.
//!
//! Per account position of the instruction:
//! - a signer: sent without its signature (signer authorization);
//! - any other account, substituted by a key that holds nothing
//!   (initialization), by the same role in a twin network (account data
//!   matching, PDA sharing), by another account of the same instruction
//!   (duplicate mutable accounts: each writable one in turn), and for
//!   programs by the System program (a
//!   fake program for an arbitrary CPI);
//! - an existing data account, tampered with in place: its owner changed to
//!   another program (owner checks), its data replaced by another type's
//!   (type cosplay), or zeroed (an uninitialised account).
//!
//! After each attempt every account the instruction names is compared with
//! its state before. The program's own account (passed for `emit_cpi!`) is
//! not substituted: see [`tampers`].

use crate::Chain;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::system_program;
use solana_account::{Account, AccountSharedData};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::HashMap;

/// One way to tamper with an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tamper {
    StripSigner(usize),
    Substitute(usize, Pubkey, &'static str),
    Owner(usize, Pubkey),
    Data(usize, Vec<u8>, &'static str),
}

/// What one run of the harness tried.
#[derive(Default, Debug)]
pub struct Tally {
    pub instructions: usize,
    pub attempts: usize,
}

/// An instruction that succeeds as given, with the keypairs that sign it.
pub struct Case {
    pub name: &'static str,
    pub ix: Instruction,
    pub signers: Vec<Keypair>,
}

/// Accounts whose data another account's may be swapped for: one of each
/// kind (network, ledger, member, token account...), by address.
pub type Cosplay = Vec<(Pubkey, &'static str)>;

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

/// The ways to tamper with `case`, given the accounts' current states.
async fn tampers(
    chain: &mut Chain,
    case: &Case,
    twins: &HashMap<Pubkey, Pubkey>,
    cosplay: &Cosplay,
) -> Vec<Tamper> {
    let metas = &case.ix.accounts;
    let mut out = Vec::new();
    for (i, meta) in metas.iter().enumerate() {
        if meta.is_signer {
            out.push(Tamper::StripSigner(i));
            continue;
        }
        // The program's own account, passed for `emit_cpi!`: without it the
        // event CPI has no program to call, which a validator refuses
        // (missing account) but solana-program-test's native CPI stub
        // panics on. Left alone here.
        if meta.pubkey == upline::ID {
            continue;
        }
        let account = state(chain, &meta.pubkey).await;
        out.push(Tamper::Substitute(
            i,
            Pubkey::new_unique(),
            "a key that holds nothing",
        ));
        if let Some(twin) = twins.get(&meta.pubkey) {
            out.push(Tamper::Substitute(
                i,
                *twin,
                "the same role in a twin network",
            ));
        }
        let mut others: Vec<Pubkey> = metas
            .iter()
            .filter(|m| m.pubkey != meta.pubkey && m.is_writable)
            .map(|m| m.pubkey)
            .collect();
        others.dedup();
        for other in others {
            out.push(Tamper::Substitute(
                i,
                other,
                "another writable account of the instruction",
            ));
        }
        if is_program(&meta.pubkey, account.as_ref()) {
            if meta.pubkey != system_program::ID {
                out.push(Tamper::Substitute(
                    i,
                    system_program::ID,
                    "the System program as a fake program",
                ));
            }
            continue;
        }
        let Some(account) = account else { continue };
        if account.owner == system_program::ID {
            continue;
        }
        let other_owner = if account.owner == upline::ID {
            spl_token_id()
        } else {
            upline::ID
        };
        out.push(Tamper::Owner(i, other_owner));
        if let Some((source, kind)) = cosplay.iter().find(|(key, _)| *key != meta.pubkey) {
            if let Some(data) = state(chain, source).await.map(|a| a.data) {
                if data != account.data {
                    out.push(Tamper::Data(i, data, kind));
                }
            }
        }
        out.push(Tamper::Data(
            i,
            vec![0; account.data.len()],
            "zeroed (uninitialised)",
        ));
    }
    out
}

fn spl_token_id() -> Pubkey {
    crate::tokens::TOKEN
}

/// Try every tamper on `case` (each must fail and change nothing), then send
/// it as given (it must succeed). Returns how many attempts were made.
pub async fn attack(
    chain: &mut Chain,
    case: &Case,
    twins: &HashMap<Pubkey, Pubkey>,
    cosplay: &Cosplay,
) -> usize {
    let watched: Vec<Pubkey> = case.ix.accounts.iter().map(|m| m.pubkey).collect();
    let all = tampers(chain, case, twins, cosplay).await;
    for tamper in &all {
        let mut ix = case.ix.clone();
        let mut signers: Vec<&Keypair> = case.signers.iter().collect();
        let mut restore: Option<(Pubkey, Account)> = None;
        match tamper {
            Tamper::StripSigner(i) => {
                let key = ix.accounts[*i].pubkey;
                for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == key) {
                    meta.is_signer = false;
                }
                signers.retain(|k| k.pubkey() != key);
            }
            Tamper::Substitute(i, key, _) => ix.accounts[*i].pubkey = *key,
            Tamper::Owner(i, _) | Tamper::Data(i, _, _) => {
                let key = ix.accounts[*i].pubkey;
                let original = state(chain, &key).await.expect("exists");
                let mut changed = original.clone();
                match tamper {
                    Tamper::Owner(_, owner) => changed.owner = *owner,
                    Tamper::Data(_, data, _) => changed.data = data.clone(),
                    _ => {}
                }
                chain
                    .ctx
                    .set_account(&key, &AccountSharedData::from(changed));
                restore = Some((key, original));
            }
        }
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
        assert!(
            outcome.is_err(),
            "{}: tampered with ({tamper:?}) and still succeeded",
            case.name
        );
        for ((key, b), a) in keys.iter().zip(&before).zip(&after) {
            assert_eq!(b, a, "{}: {tamper:?} failed but changed {key}", case.name);
        }
    }
    let signers: Vec<&Keypair> = case.signers.iter().collect();
    chain
        .send(std::slice::from_ref(&case.ix), &signers)
        .await
        .unwrap_or_else(|e| panic!("{}: the untampered instruction fails: {e}", case.name));
    all.len()
}
