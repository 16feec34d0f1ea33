//! Mints and token accounts of SPL Token and Token-2022, created through the
//! real token programs bundled in solana-program-test.

use super::Chain;
use anchor_lang::prelude::Pubkey;
use anchor_spl::token::spl_token;
use anchor_spl::token_2022::spl_token_2022;
use anchor_spl::token_2022::spl_token_2022::extension::ExtensionType;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_signer::Signer;
use solana_system_interface::instruction::create_account;

/// SPL Token program id.
pub const TOKEN: Pubkey = spl_token::ID;
/// Token-2022 program id.
pub const TOKEN_2022: Pubkey = spl_token_2022::ID;

/// A mint the tests control: its address, program and mint authority.
pub struct TestMint {
    pub address: Pubkey,
    pub token_program: Pubkey,
    pub decimals: u8,
    pub authority: Keypair,
}

impl Chain {
    /// A new mint of `token_program` with `decimals`, no extensions.
    pub async fn create_mint(&mut self, token_program: Pubkey, decimals: u8) -> TestMint {
        self.create_mint_with(token_program, decimals, &[]).await
    }

    /// A new Token-2022 mint with a transfer fee (an extension ledgers refuse).
    pub async fn create_mint_with_transfer_fee(&mut self, decimals: u8) -> TestMint {
        self.create_mint_with(TOKEN_2022, decimals, &[ExtensionType::TransferFeeConfig])
            .await
    }

    /// A new Token-2022 mint with a metadata pointer (an extension ledgers accept).
    pub async fn create_mint_with_metadata_pointer(&mut self, decimals: u8) -> TestMint {
        self.create_mint_with(TOKEN_2022, decimals, &[ExtensionType::MetadataPointer])
            .await
    }

    async fn create_mint_with(
        &mut self,
        token_program: Pubkey,
        decimals: u8,
        extensions: &[ExtensionType],
    ) -> TestMint {
        let mint = Keypair::new();
        let authority = Keypair::new();
        let payer = self.payer();
        let space = if token_program == TOKEN {
            spl_token::state::Mint::LEN
        } else {
            ExtensionType::try_calculate_account_len::<spl_token_2022::state::Mint>(extensions)
                .expect("mint length")
        };
        let rent = self
            .ctx
            .banks_client
            .get_rent()
            .await
            .expect("rent")
            .minimum_balance(space);
        let mut ixs = vec![create_account(
            &payer.pubkey(),
            &mint.pubkey(),
            rent,
            space as u64,
            &token_program,
        )];
        for extension in extensions {
            ixs.push(match extension {
                ExtensionType::TransferFeeConfig => {
                    spl_token_2022::extension::transfer_fee::instruction::initialize_transfer_fee_config(
                        &token_program,
                        &mint.pubkey(),
                        Some(&authority.pubkey()),
                        Some(&authority.pubkey()),
                        100,
                        u64::MAX,
                    )
                    .expect("fee config")
                }
                ExtensionType::MetadataPointer => {
                    spl_token_2022::extension::metadata_pointer::instruction::initialize(
                        &token_program,
                        &mint.pubkey(),
                        Some(authority.pubkey()),
                        Some(mint.pubkey()),
                    )
                    .expect("metadata pointer")
                }
                other => panic!("fixture does not build {other:?}"),
            });
        }
        // Token-2022's builders accept either program id, so one builder serves both.
        ixs.push(
            spl_token_2022::instruction::initialize_mint2(
                &token_program,
                &mint.pubkey(),
                &authority.pubkey(),
                None,
                decimals,
            )
            .expect("init mint"),
        );
        self.send(&ixs, &[&mint]).await.expect("create mint");
        TestMint {
            address: mint.pubkey(),
            token_program,
            decimals,
            authority,
        }
    }

    /// A new token account of `mint` owned by `owner`.
    pub async fn token_account(&mut self, mint: &TestMint, owner: &Pubkey) -> Pubkey {
        let account = Keypair::new();
        let payer = self.payer();
        let space = if mint.token_program == TOKEN {
            spl_token::state::Account::LEN
        } else {
            // Token-2022 accounts of extension mints need room for their account extensions.
            let mint_data = self.data(&mint.address).await.expect("mint exists");
            let mint_state = spl_token_2022::extension::StateWithExtensions::<
                spl_token_2022::state::Mint,
            >::unpack(&mint_data)
            .expect("mint");
            let needed = spl_token_2022::extension::BaseStateWithExtensions::get_extension_types(
                &mint_state,
            )
            .expect("extensions");
            let account_extensions = ExtensionType::get_required_init_account_extensions(&needed);
            ExtensionType::try_calculate_account_len::<spl_token_2022::state::Account>(
                &account_extensions,
            )
            .expect("account length")
        };
        let rent = self
            .ctx
            .banks_client
            .get_rent()
            .await
            .expect("rent")
            .minimum_balance(space);
        let init = spl_token_2022::instruction::initialize_account3(
            &mint.token_program,
            &account.pubkey(),
            &mint.address,
            owner,
        )
        .expect("init account");
        let ixs = [
            create_account(
                &payer.pubkey(),
                &account.pubkey(),
                rent,
                space as u64,
                &mint.token_program,
            ),
            init,
        ];
        self.send(&ixs, &[&account])
            .await
            .expect("create token account");
        account.pubkey()
    }

    /// Mint `amount` base units to `account`.
    pub async fn mint_to(&mut self, mint: &TestMint, account: &Pubkey, amount: u64) {
        let ix = spl_token_2022::instruction::mint_to(
            &mint.token_program,
            &mint.address,
            account,
            &mint.authority.pubkey(),
            &[],
            amount,
        )
        .expect("mint_to");
        let authority = mint.authority.insecure_clone();
        self.send(&[ix], &[&authority]).await.expect("mint to");
    }

    /// Token amount held by `account` (SPL Token or Token-2022).
    pub async fn token_balance(&mut self, account: &Pubkey) -> u64 {
        let data = self.data(account).await.expect("token account exists");
        // The amount sits at the same offset in both programs' account layouts.
        spl_token::state::Account::unpack_from_slice(&data[..spl_token::state::Account::LEN])
            .expect("token account")
            .amount
    }
}
