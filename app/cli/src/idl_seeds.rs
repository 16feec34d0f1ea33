//! PDA seeds the IDL builder leaves out, added so that clients generated from
//! the IDL (Anchor's TypeScript `Program`, Codama) resolve those accounts
//! without hand-written code.
//!
//! The program loads member, oracle and model accounts by hand so that a
//! wrong account is refused with Upline's own error (`UnknownMember`,
//! `NotOracle`) instead of Anchor's `ConstraintSeeds`; a `seeds` constraint
//! would put the seeds in the IDL only by adding that framework refusal (and
//! a bump search per account). So the seeds are stated here, from
//! `upline::constants`, for each account whose address the instruction's own
//! accounts and arguments determine. Accounts whose seeds need data the
//! instruction does not carry (a withdrawal's member: its class is in the
//! member account itself) stay as they are.

use anchor_lang_idl::types::{
    Idl, IdlInstructionAccount, IdlInstructionAccountItem, IdlPda, IdlSeed, IdlSeedAccount,
    IdlSeedArg, IdlSeedConst,
};
use upline::constants::{MEMBER_SEED, MODEL_SEED, ORACLE_SEED, REWARD_TABLES_SEED, VAULT_SEED};

/// The seed of `#[event_cpi]`'s event authority.
const EVENT_AUTHORITY_SEED: &[u8] = b"__event_authority";

fn constant(value: &[u8]) -> IdlSeed {
    IdlSeed::Const(IdlSeedConst {
        value: value.to_vec(),
    })
}

fn account(path: &str) -> IdlSeed {
    IdlSeed::Account(IdlSeedAccount {
        path: path.to_string(),
        account: None,
    })
}

fn arg(path: &str) -> IdlSeed {
    IdlSeed::Arg(IdlSeedArg {
        path: path.to_string(),
    })
}

/// The seeds of the account `name` in instruction `instruction`, where
/// `siblings` are the names of the accounts beside it (seed paths are
/// relative to its group, as Anchor writes them for composite accounts).
fn seeds_of(instruction: &str, name: &str, siblings: &[String]) -> Option<Vec<IdlSeed>> {
    let has = |n: &str| siblings.iter().any(|s| s == n);
    match name {
        "event_authority" => Some(vec![constant(EVENT_AUTHORITY_SEED)]),
        "reward_tables" if has("network") => {
            Some(vec![constant(REWARD_TABLES_SEED), account("network")])
        }
        "oracle" if has("network") && has("oracle_authority") => Some(vec![
            constant(ORACLE_SEED),
            account("network"),
            account("oracle_authority"),
        ]),
        "vault" if has("ledger") => Some(vec![constant(VAULT_SEED), account("ledger")]),
        "member" if instruction == "join" && has("network") && has("wallet") => Some(vec![
            constant(MEMBER_SEED),
            account("network"),
            account("wallet"),
            arg("args.class"),
        ]),
        "model" if instruction == "update_model" && has("network") => Some(vec![
            constant(MODEL_SEED),
            account("network"),
            arg("args.name"),
        ]),
        _ => None,
    }
}

/// Add the missing seeds (and the program's own address) to `idl`; returns
/// how many accounts gained seeds.
pub fn add_seeds(idl: &mut Idl) -> usize {
    let program = upline::ID.to_string();
    let mut added = 0;
    for instruction in &mut idl.instructions {
        added += add_in(&instruction.name, &mut instruction.accounts, &program);
    }
    added
}

fn add_in(instruction: &str, accounts: &mut [IdlInstructionAccountItem], program: &str) -> usize {
    let siblings: Vec<String> = accounts
        .iter()
        .map(|item| match item {
            IdlInstructionAccountItem::Single(a) => a.name.clone(),
            IdlInstructionAccountItem::Composite(c) => c.name.clone(),
        })
        .collect();
    let mut added = 0;
    for item in accounts.iter_mut() {
        match item {
            IdlInstructionAccountItem::Composite(group) => {
                added += add_in(instruction, &mut group.accounts, program);
            }
            IdlInstructionAccountItem::Single(single) => {
                added += usize::from(add_one(instruction, single, &siblings, program));
            }
        }
    }
    added
}

fn add_one(
    instruction: &str,
    single: &mut IdlInstructionAccount,
    siblings: &[String],
    program: &str,
) -> bool {
    if single.name == "program" && single.address.is_none() {
        single.address = Some(program.to_string());
        return false;
    }
    if single.pda.is_some() || single.address.is_some() {
        return false;
    }
    let Some(seeds) = seeds_of(instruction, &single.name, siblings) else {
        return false;
    };
    single.pda = Some(IdlPda {
        seeds,
        program: None,
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;

    /// A seed's bytes for the given accounts and arguments.
    fn bytes(seed: &IdlSeed, keys: &[(&str, Pubkey)], args: &[(&str, Vec<u8>)]) -> Vec<u8> {
        match seed {
            IdlSeed::Const(c) => c.value.clone(),
            IdlSeed::Account(a) => keys
                .iter()
                .find(|(n, _)| *n == a.path)
                .map(|(_, k)| k.to_bytes().to_vec())
                .expect("a named account"),
            IdlSeed::Arg(a) => args
                .iter()
                .find(|(n, _)| *n == a.path)
                .map(|(_, v)| v.clone())
                .expect("a named argument"),
        }
    }

    fn derive(seeds: &[IdlSeed], keys: &[(&str, Pubkey)], args: &[(&str, Vec<u8>)]) -> Pubkey {
        let parts: Vec<Vec<u8>> = seeds.iter().map(|s| bytes(s, keys, args)).collect();
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        Pubkey::find_program_address(&refs, &upline::ID).0
    }

    /// The seeds stated here derive the addresses the SDK derives.
    #[test]
    fn stated_seeds_derive_the_sdks_addresses() {
        let (network, wallet, authority, ledger) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let keys = [
            ("network", network),
            ("wallet", wallet),
            ("oracle_authority", authority),
            ("ledger", ledger),
        ];
        let member = seeds_of("join", "member", &names(&["network", "wallet"])).expect("member");
        let class = [("args.class", vec![2u8])];
        assert_eq!(
            derive(&member, &keys, &class),
            upline_sdk::pda::member(&network, &wallet, 2)
        );
        let siblings = names(&["network", "oracle_authority"]);
        let oracle = seeds_of("report_usage", "oracle", &siblings).expect("oracle");
        assert_eq!(
            derive(&oracle, &keys, &[]),
            upline_sdk::pda::oracle(&network, &authority)
        );
        let tables = seeds_of("x", "reward_tables", &names(&["network"])).expect("tables");
        assert_eq!(
            derive(&tables, &keys, &[]),
            upline_sdk::pda::reward_tables(&network)
        );
        let vault = seeds_of("withdraw", "vault", &names(&["ledger"])).expect("vault");
        assert_eq!(derive(&vault, &keys, &[]), upline_sdk::pda::vault(&ledger));
        let events = seeds_of("x", "event_authority", &[]).expect("event authority");
        assert_eq!(
            derive(&events, &keys, &[]),
            upline_sdk::pda::event_authority()
        );
        let name = [("args.name", [7u8; 32].to_vec())];
        let model = seeds_of("update_model", "model", &names(&["network"])).expect("model");
        assert_eq!(
            derive(&model, &keys, &name),
            upline_sdk::pda::model(&network, &[7u8; 32])
        );
        // Without the accounts its seeds name, an account gets none.
        assert!(seeds_of("withdraw", "member", &names(&["network", "wallet"])).is_none());
        assert!(seeds_of("remove_oracle", "oracle", &names(&["network"])).is_none());
    }
}
