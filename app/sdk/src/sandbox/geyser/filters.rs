//! A `SubscribeRequest`'s filters, checked once and matched against what
//! the sandbox announces, with Yellowstone's rules: within a filter the
//! fields are a logical AND and the values of one field a logical OR (all of
//! `account_required`); an update carries the names of the filters it matched.

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use std::collections::HashMap;
use std::str::FromStr;
use yellowstone_grpc_proto::geyser::subscribe_request_filter_accounts_filter::Filter;
use yellowstone_grpc_proto::geyser::subscribe_request_filter_accounts_filter_lamports::Cmp;
use yellowstone_grpc_proto::geyser::subscribe_request_filter_accounts_filter_memcmp::Data;
use yellowstone_grpc_proto::geyser::{
    SubscribeRequest, SubscribeRequestFilterAccounts, SubscribeRequestFilterTransactions,
};
use yellowstone_grpc_proto::tonic::Status;

/// One transactions filter.
#[derive(Debug, Default)]
struct Transactions {
    vote: Option<bool>,
    failed: Option<bool>,
    signature: Option<String>,
    include: Vec<Pubkey>,
    exclude: Vec<Pubkey>,
    required: Vec<Pubkey>,
}

/// A data check of an accounts filter.
#[derive(Debug)]
enum DataCheck {
    Memcmp(usize, Vec<u8>),
    Size(usize),
    Lamports(Cmp),
}

/// One accounts filter.
#[derive(Debug, Default)]
struct Accounts {
    account: Vec<Pubkey>,
    owner: Vec<Pubkey>,
    checks: Vec<DataCheck>,
}

/// What one subscription asked for.
#[derive(Debug, Default)]
pub struct Filters {
    transactions: Vec<(String, Transactions)>,
    accounts: Vec<(String, Accounts)>,
    /// Slot filters: (name, filter_by_commitment).
    pub slots: Vec<(String, bool)>,
    pub blocks_meta: Vec<String>,
    /// (offset, length) of the account data to send, all of it when empty.
    pub data_slices: Vec<(usize, usize)>,
}

fn invalid(message: String) -> Status {
    Status::invalid_argument(message)
}

fn keys(field: &str, name: &str, values: &[String]) -> Result<Vec<Pubkey>, Status> {
    values
        .iter()
        .map(|v| {
            Pubkey::from_str(v)
                .map_err(|_| invalid(format!("{field} filter {name:?}: {v:?} is not an address")))
        })
        .collect()
}

impl Filters {
    /// The filters of `request`, or why the sandbox cannot serve them.
    pub fn parse(request: &SubscribeRequest) -> Result<Filters, Status> {
        let unserved = [
            (
                "transactions_status",
                request.transactions_status.is_empty(),
            ),
            ("blocks", request.blocks.is_empty()),
            ("entry", request.entry.is_empty()),
            ("block_footer", request.block_footer.is_empty()),
        ];
        if let Some((kind, _)) = unserved.iter().find(|(_, empty)| !empty) {
            return Err(Status::unimplemented(format!(
                "the sandbox serves transactions, accounts, slots and blocks_meta filters, not {kind}"
            )));
        }
        let mut filters = Filters::default();
        for (name, filter) in sorted(&request.transactions) {
            filters
                .transactions
                .push((name.clone(), transactions(name, filter)?));
        }
        for (name, filter) in sorted(&request.accounts) {
            filters
                .accounts
                .push((name.clone(), accounts(name, filter)?));
        }
        for (name, filter) in sorted(&request.slots) {
            let by_commitment = filter.filter_by_commitment.unwrap_or(false);
            filters.slots.push((name.clone(), by_commitment));
        }
        filters.blocks_meta = sorted(&request.blocks_meta)
            .map(|(name, _)| name.clone())
            .collect();
        for slice in &request.accounts_data_slice {
            let number = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
            filters
                .data_slices
                .push((number(slice.offset), number(slice.length)));
        }
        Ok(filters)
    }

    /// The transactions filters a transaction matches, given all its keys
    /// (static and loaded) and whether it failed.
    pub fn transaction(&self, signature: &str, keys: &[Pubkey], failed: bool) -> Vec<String> {
        self.transactions
            .iter()
            .filter(|(_, f)| {
                f.vote.is_none_or(|vote| !vote)
                    && f.failed.is_none_or(|want| want == failed)
                    && f.signature.as_deref().is_none_or(|s| s == signature)
                    && (f.include.is_empty() || f.include.iter().any(|k| keys.contains(k)))
                    && !f.exclude.iter().any(|k| keys.contains(k))
                    && f.required.iter().all(|k| keys.contains(k))
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The accounts filters an account matches.
    pub fn account(&self, pubkey: &Pubkey, account: &solana_account::Account) -> Vec<String> {
        self.accounts
            .iter()
            .filter(|(_, f)| {
                (f.account.is_empty() || f.account.contains(pubkey))
                    && (f.owner.is_empty() || f.owner.contains(&account.owner))
                    && f.checks.iter().all(|check| passes(check, account))
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    pub fn wants_accounts(&self) -> bool {
        !self.accounts.is_empty()
    }
}

/// A map's entries in name order, so updates list their filters stably.
fn sorted<T>(map: &HashMap<String, T>) -> impl Iterator<Item = (&String, &T)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries.into_iter()
}

fn transactions(
    name: &str,
    filter: &SubscribeRequestFilterTransactions,
) -> Result<Transactions, Status> {
    if filter.cuckoo_account_include.is_some() {
        return Err(Status::unimplemented(format!(
            "transactions filter {name:?}: the sandbox does not serve cuckoo filters; list the accounts in account_include"
        )));
    }
    Ok(Transactions {
        vote: filter.vote,
        failed: filter.failed,
        signature: filter.signature.clone(),
        include: keys("transactions", name, &filter.account_include)?,
        exclude: keys("transactions", name, &filter.account_exclude)?,
        required: keys("transactions", name, &filter.account_required)?,
    })
}

fn accounts(name: &str, filter: &SubscribeRequestFilterAccounts) -> Result<Accounts, Status> {
    if filter.cuckoo_accounts_filter.is_some() {
        return Err(Status::unimplemented(format!(
            "accounts filter {name:?}: the sandbox does not serve cuckoo filters; list the accounts"
        )));
    }
    let mut checks = Vec::new();
    for check in &filter.filters {
        checks.push(match &check.filter {
            Some(Filter::Memcmp(memcmp)) => {
                let bytes = match &memcmp.data {
                    Some(Data::Bytes(b)) => b.clone(),
                    Some(Data::Base58(text)) => bs58::decode(text).into_vec().map_err(|e| {
                        invalid(format!("accounts filter {name:?}: memcmp base58: {e}"))
                    })?,
                    Some(Data::Base64(text)) => base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .map_err(|e| {
                            invalid(format!("accounts filter {name:?}: memcmp base64: {e}"))
                        })?,
                    None => {
                        return Err(invalid(format!(
                            "accounts filter {name:?}: memcmp without data"
                        )))
                    }
                };
                let offset = usize::try_from(memcmp.offset).unwrap_or(usize::MAX);
                DataCheck::Memcmp(offset, bytes)
            }
            Some(Filter::Datasize(size)) => {
                DataCheck::Size(usize::try_from(*size).unwrap_or(usize::MAX))
            }
            Some(Filter::Lamports(lamports)) => match lamports.cmp {
                Some(cmp) => DataCheck::Lamports(cmp),
                None => {
                    return Err(invalid(format!(
                        "accounts filter {name:?}: lamports without a comparison"
                    )))
                }
            },
            Some(Filter::TokenAccountState(_)) => {
                return Err(Status::unimplemented(format!(
                    "accounts filter {name:?}: the sandbox does not serve token_account_state; use datasize and memcmp"
                )))
            }
            None => return Err(invalid(format!("accounts filter {name:?}: an empty filter"))),
        });
    }
    Ok(Accounts {
        account: keys("accounts", name, &filter.account)?,
        owner: keys("accounts", name, &filter.owner)?,
        checks,
    })
}

fn passes(check: &DataCheck, account: &solana_account::Account) -> bool {
    match check {
        DataCheck::Memcmp(offset, bytes) => offset
            .checked_add(bytes.len())
            .and_then(|end| account.data.get(*offset..end))
            .is_some_and(|window| window == bytes.as_slice()),
        DataCheck::Size(size) => account.data.len() == *size,
        DataCheck::Lamports(cmp) => match cmp {
            Cmp::Eq(n) => account.lamports == *n,
            Cmp::Ne(n) => account.lamports != *n,
            Cmp::Lt(n) => account.lamports < *n,
            Cmp::Gt(n) => account.lamports > *n,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yellowstone_grpc_proto::geyser::{
        SubscribeRequestFilterAccountsFilter, SubscribeRequestFilterAccountsFilterMemcmp,
        SubscribeRequestFilterBlocks,
    };

    fn request(transactions: SubscribeRequestFilterTransactions) -> SubscribeRequest {
        SubscribeRequest {
            transactions: HashMap::from([("t".to_string(), transactions)]),
            ..SubscribeRequest::default()
        }
    }

    #[test]
    fn transactions_match_any_included_all_required_and_the_failed_flag() {
        let (a, b, c) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let filters = Filters::parse(&request(SubscribeRequestFilterTransactions {
            failed: Some(false),
            account_include: vec![a.to_string(), b.to_string()],
            account_required: vec![c.to_string()],
            ..Default::default()
        }))
        .expect("parses");
        assert_eq!(filters.transaction("s", &[b, c], false), vec!["t"]);
        assert!(
            filters.transaction("s", &[b], false).is_empty(),
            "c is required"
        );
        assert!(
            filters.transaction("s", &[c], false).is_empty(),
            "a or b is included"
        );
        assert!(
            filters.transaction("s", &[a, c], true).is_empty(),
            "failed ones are not wanted"
        );
        let votes = Filters::parse(&request(SubscribeRequestFilterTransactions {
            vote: Some(true),
            ..Default::default()
        }))
        .expect("parses");
        assert!(
            votes.transaction("s", &[a], false).is_empty(),
            "the sandbox has no votes"
        );
    }

    #[test]
    fn accounts_match_owner_and_data_checks() {
        let owner = Pubkey::new_unique();
        let memcmp = SubscribeRequestFilterAccountsFilterMemcmp {
            offset: 1,
            data: Some(Data::Bytes(vec![7, 8])),
        };
        let accounts = SubscribeRequestFilterAccounts {
            owner: vec![owner.to_string()],
            filters: vec![SubscribeRequestFilterAccountsFilter {
                filter: Some(Filter::Memcmp(memcmp)),
            }],
            ..Default::default()
        };
        let filters = Filters::parse(&SubscribeRequest {
            accounts: HashMap::from([("a".to_string(), accounts)]),
            ..SubscribeRequest::default()
        })
        .expect("parses");
        let account = |owner: Pubkey, data: Vec<u8>| solana_account::Account {
            lamports: 1,
            data,
            owner,
            executable: false,
            rent_epoch: 0,
        };
        let key = Pubkey::new_unique();
        assert_eq!(
            filters.account(&key, &account(owner, vec![0, 7, 8])),
            vec!["a"]
        );
        assert!(filters
            .account(&key, &account(owner, vec![0, 7]))
            .is_empty());
        assert!(filters
            .account(&key, &account(key, vec![0, 7, 8]))
            .is_empty());
    }

    #[test]
    fn what_the_sandbox_does_not_serve_is_refused_by_name() {
        let blocks = SubscribeRequest {
            blocks: HashMap::from([("b".to_string(), SubscribeRequestFilterBlocks::default())]),
            ..SubscribeRequest::default()
        };
        let refused = Filters::parse(&blocks).expect_err("blocks");
        assert_eq!(
            refused.code(),
            yellowstone_grpc_proto::tonic::Code::Unimplemented
        );
        assert!(
            refused.message().contains("not blocks"),
            "{}",
            refused.message()
        );
        let bad = request(SubscribeRequestFilterTransactions {
            account_include: vec!["not-an-address".into()],
            ..Default::default()
        });
        let refused = Filters::parse(&bad).expect_err("a bad address");
        assert_eq!(
            refused.message(),
            "transactions filter \"t\": \"not-an-address\" is not an address"
        );
    }
}
