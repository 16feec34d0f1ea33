//! Account and token methods, encoded by the validator's own account decoder
//! (base58, base64, base64+zstd, jsonParsed, dataSlice).
//!
//! The bank cannot list its accounts, so `getProgramAccounts` and
//! `getTokenAccountsByOwner` read the accounts any transaction named (and the
//! genesis accounts) and keep those the program owns: every account a
//! program can own was named by the transaction that created or assigned it.

use super::{bad_params, config, internal, param, pubkey, RpcError, Sandbox};
use crate::sandbox::ledger::{is_token_program, mint_decimals, token_account};
use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use solana_account::Account;
use solana_account_decoder::parse_account_data::{
    AccountAdditionalDataV3, SplTokenAdditionalDataV2,
};
use solana_account_decoder::parse_token::token_amount_to_ui_amount_v3;
use solana_account_decoder::{encode_ui_account, UiAccountEncoding, UiDataSliceConfig};
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcTokenAccountsFilter,
};
use solana_rpc_client_api::filter::RpcFilterType;

/// Base58 is refused above this many bytes, as validators refuse it.
const MAX_BASE58_BYTES: usize = 128;

/// Whether `account` passes every filter of a `getProgramAccounts` or
/// `programSubscribe` request.
pub fn passes(filters: &[RpcFilterType], account: &Account) -> bool {
    filters.iter().all(|filter| match filter {
        RpcFilterType::DataSize(size) => account.data.len() as u64 == *size,
        RpcFilterType::Memcmp(memcmp) => memcmp.bytes_match(&account.data),
        RpcFilterType::TokenAccountState => token_account(&account.data).is_some(),
    })
}

/// Check filters as validators do (at most 4, memcmp at most 128 bytes).
pub fn check_filters(filters: &[RpcFilterType]) -> Result<(), RpcError> {
    if filters.len() > 4 {
        return Err(bad_params("Too many filters provided; max 4"));
    }
    for filter in filters {
        filter
            .verify()
            .map_err(|e| bad_params(format!("Invalid param: {e:?}")))?;
    }
    Ok(())
}

impl Sandbox {
    pub(super) async fn accounts(
        &mut self,
        method: &str,
        params: &Value,
    ) -> Option<Result<Value, RpcError>> {
        Some(match method {
            "getBalance" => match pubkey_param(params) {
                Ok(key) => {
                    let lamports = self.chain.lamports(&key).await;
                    Ok(self.context(json!(lamports)))
                }
                Err(e) => Err(e),
            },
            "getAccountInfo" => self.account_info(params).await,
            "getMultipleAccounts" => self.multiple_accounts(params).await,
            "getProgramAccounts" => self.program_accounts(params).await,
            "getTokenAccountsByOwner" => self.token_accounts_by_owner(params).await,
            "getTokenAccountBalance" => self.token_account_balance(params).await,
            "getTokenSupply" => self.token_supply(params).await,
            _ => return None,
        })
    }

    pub async fn account(&self, key: &Pubkey) -> Result<Option<Account>, RpcError> {
        self.chain
            .ctx
            .banks_client
            .get_account(*key)
            .await
            .map_err(internal)
    }

    /// `account` at `key` in the requested encoding, as validators encode it.
    pub async fn encode(
        &self,
        key: &Pubkey,
        account: &Account,
        encoding: Option<UiAccountEncoding>,
        slice: Option<UiDataSliceConfig>,
    ) -> Result<Value, RpcError> {
        let encoding = encoding.unwrap_or(UiAccountEncoding::Binary);
        if matches!(
            encoding,
            UiAccountEncoding::Binary | UiAccountEncoding::Base58
        ) {
            let len = slice.map_or(account.data.len(), |s| {
                s.length.min(account.data.len().saturating_sub(s.offset))
            });
            if len > MAX_BASE58_BYTES {
                return Err(bad_params(format!(
                    "Encoded binary (base 58) data should be less than {MAX_BASE58_BYTES} bytes, please use Base64 encoding."
                )));
            }
        }
        let additional = match encoding {
            UiAccountEncoding::JsonParsed => self.token_data(account).await?,
            _ => None,
        };
        let ui = encode_ui_account(key, account, encoding, additional, slice);
        serde_json::to_value(ui).map_err(internal)
    }

    /// The mint's decimals a token account's jsonParsed form needs.
    async fn token_data(
        &self,
        account: &Account,
    ) -> Result<Option<AccountAdditionalDataV3>, RpcError> {
        if !is_token_program(&account.owner) {
            return Ok(None);
        }
        let Some((mint, _, _)) = token_account(&account.data) else {
            return Ok(None);
        };
        let decimals = self
            .account(&mint)
            .await?
            .and_then(|m| mint_decimals(&m.data));
        Ok(decimals.map(|d| AccountAdditionalDataV3 {
            spl_token_additional_data: Some(SplTokenAdditionalDataV2::with_decimals(d)),
        }))
    }

    async fn encode_optional(
        &self,
        key: &Pubkey,
        config: &RpcAccountInfoConfig,
    ) -> Result<Value, RpcError> {
        match self.account(key).await? {
            None => Ok(Value::Null),
            Some(account) => {
                self.encode(key, &account, config.encoding, config.data_slice)
                    .await
            }
        }
    }

    async fn account_info(&self, params: &Value) -> Result<Value, RpcError> {
        let key = pubkey_param(params)?;
        let config: RpcAccountInfoConfig = config(params, 1)?;
        let value = self.encode_optional(&key, &config).await?;
        Ok(self.context(value))
    }

    async fn multiple_accounts(&self, params: &Value) -> Result<Value, RpcError> {
        let keys = param(params, 0)?
            .as_array()
            .ok_or_else(|| bad_params("expected an array of addresses"))?;
        if keys.len() > 100 {
            return Err(bad_params("Too many inputs provided; max 100"));
        }
        let config: RpcAccountInfoConfig = config(params, 1)?;
        let mut accounts = Vec::with_capacity(keys.len());
        for key in keys {
            accounts.push(self.encode_optional(&pubkey(key)?, &config).await?);
        }
        Ok(self.context(Value::Array(accounts)))
    }

    /// The indexed accounts `owner` owns that pass `filters`.
    async fn owned_by(
        &self,
        owner: &Pubkey,
        filters: &[RpcFilterType],
    ) -> Result<Vec<(Pubkey, Account)>, RpcError> {
        let mut out = Vec::new();
        for key in &self.chain.touched {
            if let Some(account) = self.account(key).await? {
                if account.owner == *owner && passes(filters, &account) {
                    out.push((*key, account));
                }
            }
        }
        Ok(out)
    }

    async fn keyed(
        &self,
        accounts: Vec<(Pubkey, Account)>,
        config: &RpcAccountInfoConfig,
    ) -> Result<Value, RpcError> {
        let mut out = Vec::with_capacity(accounts.len());
        for (key, account) in accounts {
            let encoded = self
                .encode(&key, &account, config.encoding, config.data_slice)
                .await?;
            out.push(json!({"pubkey": key.to_string(), "account": encoded}));
        }
        Ok(Value::Array(out))
    }

    async fn program_accounts(&self, params: &Value) -> Result<Value, RpcError> {
        let program = pubkey_param(params)?;
        let config: RpcProgramAccountsConfig = config(params, 1)?;
        let filters = config.filters.unwrap_or_default();
        check_filters(&filters)?;
        let accounts = self.owned_by(&program, &filters).await?;
        let list = self.keyed(accounts, &config.account_config).await?;
        Ok(match config.with_context {
            Some(true) => self.context(list),
            _ => list,
        })
    }

    async fn token_accounts_by_owner(&self, params: &Value) -> Result<Value, RpcError> {
        let owner = pubkey_param(params)?;
        let filter: RpcTokenAccountsFilter = serde_json::from_value(param(params, 1)?.clone())
            .map_err(|e| bad_params(format!("Invalid params: {e}")))?;
        let config: RpcAccountInfoConfig = config(params, 2)?;
        let (programs, mint) = match filter {
            RpcTokenAccountsFilter::Mint(mint) => {
                let mint = pubkey(&json!(mint))?;
                let program = self
                    .account(&mint)
                    .await?
                    .map(|m| m.owner)
                    .filter(is_token_program)
                    .ok_or_else(|| bad_params("Invalid param: could not find mint"))?;
                (vec![program], Some(mint))
            }
            RpcTokenAccountsFilter::ProgramId(program) => {
                let program = pubkey(&json!(program))?;
                if !is_token_program(&program) {
                    return Err(bad_params("Invalid param: unrecognized Token program id"));
                }
                (vec![program], None)
            }
        };
        let mut found = Vec::new();
        for program in programs {
            for (key, account) in self.owned_by(&program, &[]).await? {
                let Some((account_mint, account_owner, _)) = token_account(&account.data) else {
                    continue;
                };
                if account_owner == owner && mint.is_none_or(|m| m == account_mint) {
                    found.push((key, account));
                }
            }
        }
        let list = self.keyed(found, &config).await?;
        Ok(self.context(list))
    }

    async fn token_account_balance(&self, params: &Value) -> Result<Value, RpcError> {
        let key = pubkey_param(params)?;
        let (mint, amount) = self
            .account(&key)
            .await?
            .filter(|a| is_token_program(&a.owner))
            .and_then(|a| token_account(&a.data))
            .map(|(mint, _, amount)| (mint, amount))
            .ok_or_else(|| bad_params("Invalid param: not a Token account"))?;
        let decimals = self.decimals(&mint).await?;
        let amount = token_amount_to_ui_amount_v3(
            amount,
            &SplTokenAdditionalDataV2::with_decimals(decimals),
        );
        Ok(self.context(serde_json::to_value(amount).map_err(internal)?))
    }

    async fn token_supply(&self, params: &Value) -> Result<Value, RpcError> {
        use anchor_spl::token_2022::spl_token_2022::{extension::StateWithExtensions, state::Mint};
        let key = pubkey_param(params)?;
        let mint = self
            .account(&key)
            .await?
            .filter(|a| is_token_program(&a.owner))
            .and_then(|a| {
                StateWithExtensions::<Mint>::unpack(&a.data)
                    .ok()
                    .map(|m| m.base)
            })
            .ok_or_else(|| bad_params("Invalid param: not a Token mint"))?;
        let supply = token_amount_to_ui_amount_v3(
            mint.supply,
            &SplTokenAdditionalDataV2::with_decimals(mint.decimals),
        );
        Ok(self.context(serde_json::to_value(supply).map_err(internal)?))
    }

    async fn decimals(&self, mint: &Pubkey) -> Result<u8, RpcError> {
        self.account(mint)
            .await?
            .and_then(|m| mint_decimals(&m.data))
            .ok_or_else(|| bad_params(format!("Invalid param: mint {mint} could not be unpacked")))
    }
}

fn pubkey_param(params: &Value) -> Result<Pubkey, RpcError> {
    pubkey(param(params, 0)?)
}
