//! The sandbox chain: a solana-program-test bank with the Upline program as a
//! native processor, real SPL Token and Token-2022 programs, signed
//! transactions and a clock that moves only when told to.

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::AccountDeserialize;
use solana_keypair::Keypair;
use solana_program_test::{processor, BanksClientError, ProgramTest, ProgramTestContext};
use solana_signer::Signer;
use solana_transaction::Transaction;

use crate::client::Cluster;
pub use crate::client::TxFailure;
use crate::events::UplineEvent;
use crate::sandbox::journal::{InnerInstruction, Recorded, Simulated};
use crate::sandbox::ledger::{AccountBalance, Extras};
use crate::sandbox::program_logs;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::TransactionError;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Adapter from the runtime's processor shape to Anchor's `entry`, which ties
/// every argument to one lifetime. The copies share the accounts' `RefCell`s,
/// so writes reach the runtime; the leaked bytes are a few hundred per call.
fn process_instruction<'a>(
    program_id: &Pubkey,
    accounts: &[AccountInfo<'a>],
    data: &[u8],
) -> ProgramResult {
    let accounts: &'a [AccountInfo<'a>] = Box::leak(accounts.to_vec().into_boxed_slice());
    let program_id: &'a Pubkey = Box::leak(Box::new(*program_id));
    let data: &'a [u8] = Box::leak(data.to_vec().into_boxed_slice());
    upline::entry(program_id, accounts, data)
}

/// The Upline program on a local bank, with a clock the tests set.
pub struct Chain {
    pub ctx: ProgramTestContext,
    /// Unix time every transaction sees (set with [`Chain::warp_to`]).
    pub now: i64,
    /// The slot transactions now land in.
    pub slot: u64,
    /// Every transaction processed, in order, as a cluster's ledger keeps them.
    pub journal: Vec<Recorded>,
    /// Journal positions by signature.
    by_signature: HashMap<String, usize>,
    sent: HashSet<Vec<u8>>,
    /// Instructions sent in the current slot.
    in_slot: usize,
    /// Record balances and fees beside each transaction (as a served cluster does).
    pub detailed: bool,
    /// What the ledger keeps beside each journal entry, by signature.
    extras: HashMap<String, Extras>,
    /// Each account's balances as the last transaction naming it left them:
    /// a served chain changes only through [`Chain::commit`], so they are
    /// the next transaction's balances before, without reading them again.
    pub(super) last_balances: HashMap<Pubkey, AccountBalance>,
    /// Every account a transaction named, and the genesis accounts: the bank
    /// cannot list its accounts, so `getProgramAccounts` reads these.
    pub touched: BTreeSet<Pubkey>,
}

/// Instructions per slot before the chain moves to the next one. A bank caps
/// the compute cost per block and per writable account in a block (12M units,
/// counted at 200k requested units per instruction); without new slots a long
/// run (an upline written by every report) would exceed the caps and the bank
/// would drop transactions.
const INSTRUCTIONS_PER_SLOT: usize = 32;

/// Start of 2026 (unix seconds): the default clock.
pub const START: i64 = 1_767_225_600;

impl Chain {
    /// A fresh bank with the program loaded natively and the clock at [`START`].
    pub async fn start() -> Chain {
        let mut test = ProgramTest::new("upline", upline::ID, processor!(process_instruction));
        test.prefer_bpf(false);
        let ctx = test.start_with_context().await;
        let mut chain = Chain {
            ctx,
            now: START,
            slot: 0,
            journal: Vec::new(),
            by_signature: HashMap::new(),
            sent: HashSet::new(),
            in_slot: 0,
            detailed: false,
            extras: HashMap::new(),
            last_balances: HashMap::new(),
            touched: BTreeSet::new(),
        };
        let genesis = [
            chain.ctx.payer.pubkey(),
            upline::ID,
            anchor_spl::token::ID,
            anchor_spl::token_2022::ID,
            anchor_spl::associated_token::ID,
            solana_system_interface::program::ID,
        ];
        chain.touched.extend(genesis);
        chain.warp_to(START).await;
        chain
    }

    /// The fee payer that funds everything else.
    pub fn payer(&self) -> Keypair {
        self.ctx.payer.insecure_clone()
    }

    /// Move to the next slot and set the clock to `unix` seconds.
    pub async fn warp_to(&mut self, unix: i64) {
        let slot = self.ctx.banks_client.get_root_slot().await.expect("slot") + 1;
        self.ctx.warp_to_slot(slot).expect("warp");
        self.slot = slot;
        let mut clock: anchor_lang::prelude::Clock =
            self.ctx.banks_client.get_sysvar().await.expect("clock");
        clock.unix_timestamp = unix;
        self.ctx.set_sysvar(&clock);
        self.now = unix;
        self.in_slot = 0;
        self.ctx.last_blockhash = self
            .ctx
            .banks_client
            .get_latest_blockhash()
            .await
            .expect("blockhash");
    }

    /// Sign `instructions` paid by the chain's payer (see [`Chain::sign_paid_by`]).
    async fn sign(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Transaction, TxFailure> {
        let payer = self.payer();
        self.sign_paid_by(&payer, instructions, signers).await
    }

    /// Sign `instructions` with `payer` as fee payer, in a new slot if this one is
    /// full or has seen the same message.
    pub(super) async fn sign_paid_by(
        &mut self,
        payer: &Keypair,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Transaction, TxFailure> {
        let mut all: Vec<&Keypair> = vec![payer];
        all.extend(
            signers
                .iter()
                .copied()
                .filter(|k| k.pubkey() != payer.pubkey()),
        );
        let mut tx = Transaction::new_with_payer(instructions, Some(&payer.pubkey()));
        // The same message again (a replay test) needs a new blockhash to be a new transaction.
        if !self.sent.insert(tx.message_data())
            || self.in_slot + instructions.len() > INSTRUCTIONS_PER_SLOT
        {
            let now = self.now;
            self.warp_to(now).await;
        }
        self.in_slot += instructions.len();
        tx.try_sign(&all, self.ctx.last_blockhash)
            .map_err(|e| TxFailure::Other(format!("signing: {e}")))?;
        Ok(tx)
    }

    /// Process `instructions` with `payer` as the only signer and fee payer (an
    /// oracle paying for its own reports, as it does on a real cluster).
    pub async fn send_paid_by(
        &mut self,
        payer: &Keypair,
        instructions: &[Instruction],
    ) -> Result<(), TxFailure> {
        let tx = self.sign_paid_by(payer, instructions, &[]).await?;
        self.process(tx).await
    }

    /// Sign and process `instructions` (paid by the payer, signed by `signers` too).
    /// On success, the events the program emitted, in order.
    pub async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Vec<UplineEvent>, TxFailure> {
        let tx = self.sign(instructions, signers).await?;
        self.process(tx).await?;
        Ok(self
            .journal
            .last()
            .map(Recorded::events)
            .unwrap_or_default())
    }

    /// Sign and process, for callers that need no events.
    pub async fn send_quiet(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), TxFailure> {
        let tx = self.sign(instructions, signers).await?;
        self.process(tx).await
    }

    /// Simulate `tx` (for its logs and events), then process and journal it.
    pub async fn process(&mut self, tx: impl Into<VersionedTransaction>) -> Result<(), TxFailure> {
        let tx = tx.into();
        let simulated = self.simulate(&tx).await?;
        match self.commit(tx, simulated).await? {
            Ok(recorded) => match &recorded.err {
                None => Ok(()),
                Some(err) => Err(TxFailure::from(err.clone())),
            },
            Err(refused) => Err(TxFailure::from(refused)),
        }
    }

    /// Run `tx` without committing it: its outcome, logs and inner instructions
    /// (the events a committed run will emit, since nothing runs in between).
    pub async fn simulate(&mut self, tx: &VersionedTransaction) -> Result<Simulated, TxFailure> {
        // Lines printed since the last transaction belong to none.
        program_logs::take();
        let result = self
            .ctx
            .banks_client
            .simulate_transaction(tx.clone())
            .await
            .map_err(|e| TxFailure::Other(e.to_string()))?;
        let printed = program_logs::take();
        let err = result.result.and_then(Result::err);
        let (logs, inner, units_consumed, return_data) = match result.simulation_details {
            Some(d) => (
                d.logs,
                d.inner_instructions.unwrap_or_default(),
                d.units_consumed,
                d.return_data
                    .filter(|r| !r.data.is_empty())
                    .map(|r| (r.program_id, r.data)),
            ),
            None => (Vec::new(), Vec::new(), 0, None),
        };
        let inner_instructions = inner
            .into_iter()
            .enumerate()
            .filter(|(_, list)| !list.is_empty())
            .map(|(index, list)| {
                let list = list
                    .into_iter()
                    .map(|inner| InnerInstruction {
                        program_id_index: inner.instruction.program_id_index,
                        accounts: inner.instruction.accounts,
                        data: inner.instruction.data,
                        stack_height: Some(u32::from(inner.stack_height)),
                    })
                    .collect();
                (u8::try_from(index).unwrap_or(u8::MAX), list)
            })
            .collect();
        Ok(Simulated {
            err,
            logs: program_logs::merged(logs, printed, &upline::ID.to_string()),
            inner_instructions,
            units_consumed,
            return_data,
        })
    }

    /// Process `tx` for real and journal it with what its simulation saw: the
    /// journal entry (its `err` says whether it succeeded), or the error of a
    /// transaction refused before it ran. `Err` outside: the bank failed.
    pub async fn commit(
        &mut self,
        tx: VersionedTransaction,
        simulated: Simulated,
    ) -> Result<Result<&Recorded, TransactionError>, TxFailure> {
        let signature = tx
            .signatures
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        // Processing a transaction over a blockhash too old for the bank
        // panics inside the bank server: refuse it here, as the runtime's
        // age check (which the simulation ran) refuses it.
        if simulated.err == Some(TransactionError::BlockhashNotFound) {
            return Ok(Err(TransactionError::BlockhashNotFound));
        }
        let loaded = self.loaded_addresses(&tx).await;
        let keys = Chain::all_keys(&tx, &loaded);
        let before = match self.detailed {
            true => Some(self.balances_before(&keys).await),
            false => None,
        };
        let err = match self.ctx.banks_client.process_transaction(tx.clone()).await {
            Ok(()) => None,
            Err(BanksClientError::TransactionError(err)) => Some(err),
            Err(BanksClientError::SimulationError { err, .. }) => Some(err),
            Err(other) => return Err(TxFailure::Other(other.to_string())),
        };
        // The run prints what the simulation printed, which the journal keeps.
        program_logs::take();
        // A transaction refused before it ran (a stale blockhash, a fee payer
        // without SOL) never reaches a cluster's ledger; one that ran and
        // failed in an instruction does, with its error and no events.
        if let Some(refused) = err
            .as_ref()
            .filter(|e| !matches!(e, TransactionError::InstructionError(..)))
        {
            return Ok(Err(refused.clone()));
        }
        let inner_instructions = match err {
            None => simulated.inner_instructions,
            Some(_) => Vec::new(),
        };
        self.touched.extend(keys.iter().copied());
        let mut extras = Extras {
            loaded,
            return_data: simulated.return_data.clone(),
            ..Extras::default()
        };
        if let Some(before) = before {
            let after = self.balances(&keys).await;
            extras.fee = self.fee(&tx.message).await;
            extras.pre_balances = before.lamports;
            extras.pre_token_balances = before.tokens;
            extras.post_balances = after.lamports;
            extras.post_token_balances = after.tokens;
        }
        self.extras.insert(signature.clone(), extras);
        self.by_signature
            .insert(signature.clone(), self.journal.len());
        self.journal.push(Recorded {
            signature,
            slot: self.slot,
            block_time: self.now,
            transaction: tx,
            err,
            logs: simulated.logs,
            inner_instructions,
            units_consumed: simulated.units_consumed,
        });
        self.journal
            .last()
            .map(Ok)
            .ok_or_else(|| TxFailure::Other("journal is empty after a push".into()))
    }

    /// The journal entry of the transaction with this signature.
    pub fn recorded(&self, signature: &str) -> Option<&Recorded> {
        self.by_signature
            .get(signature)
            .and_then(|i| self.journal.get(*i))
    }

    /// What the ledger keeps beside the transaction with this signature.
    pub fn extras(&self, signature: &str) -> Option<&Extras> {
        self.extras.get(signature)
    }

    /// Raw account data, if the account exists.
    pub async fn data(&mut self, key: &Pubkey) -> Option<Vec<u8>> {
        self.ctx
            .banks_client
            .get_account(*key)
            .await
            .expect("get_account")
            .map(|a| a.data)
    }

    /// Decode an Anchor account; panics if it does not exist or does not decode.
    pub async fn account<T: AccountDeserialize>(&mut self, key: &Pubkey) -> T {
        let data = self
            .data(key)
            .await
            .unwrap_or_else(|| panic!("account {key} does not exist"));
        T::try_deserialize(&mut data.as_slice()).unwrap_or_else(|e| panic!("account {key}: {e}"))
    }

    /// Lamports of `key` (0 if absent).
    pub async fn lamports(&mut self, key: &Pubkey) -> u64 {
        self.ctx
            .banks_client
            .get_balance(*key)
            .await
            .expect("balance")
    }

    /// A new wallet with 10 SOL.
    pub async fn wallet(&mut self) -> Keypair {
        let wallet = Keypair::new();
        self.airdrop(&wallet.pubkey(), 10_000_000_000)
            .await
            .expect("fund wallet");
        wallet
    }

    /// Lamports from the sandbox's payer to `to`, as a cluster's faucet would; the signature.
    pub async fn airdrop(&mut self, to: &Pubkey, lamports: u64) -> Result<String, String> {
        let payer = self.payer();
        let ix = solana_system_interface::instruction::transfer(&payer.pubkey(), to, lamports);
        let tx = self
            .sign_paid_by(&payer, &[ix], &[])
            .await
            .map_err(|e| e.to_string())?;
        let signature = tx.signatures[0].to_string();
        self.process(tx).await.map_err(|e| e.to_string())?;
        Ok(signature)
    }

    /// Snapshot of the given accounts, to show that a refused transaction changed nothing.
    pub async fn snapshot(&mut self, keys: &[Pubkey]) -> Vec<Option<(u64, Vec<u8>)>> {
        Cluster::accounts(self, keys)
            .await
            .expect("the bank answers")
            .into_iter()
            .map(|a| a.map(|a| (a.lamports, a.data)))
            .collect()
    }
}
