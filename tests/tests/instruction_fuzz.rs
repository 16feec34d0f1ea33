//! A fuzz target on instruction data: random bytes, and every instruction's
//! discriminator followed by random bytes, against random accounts (program
//! owned or not, empty or full of noise, signers or not), straight into the
//! program's entrypoint. Every input must come back as an error or a
//! success, never a panic. Seeded (`UPLINE_FUZZ_SEED`), with
//! `UPLINE_FUZZ_INPUTS` inputs (default 20,000).

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::Discriminator;
use upline::instruction as ix;
use upline_tests::rng::{env_number, Rng};

fn discriminators() -> Vec<&'static [u8]> {
    vec![
        ix::CreateNetwork::DISCRIMINATOR,
        ix::UpdateTables::DISCRIMINATOR,
        ix::AddTokenLedger::DISCRIMINATOR,
        ix::AddPointsLedger::DISCRIMINATOR,
        ix::UpdateLedger::DISCRIMINATOR,
        ix::FundVault::DISCRIMINATOR,
        ix::Join::DISCRIMINATOR,
        ix::SetReferrer::DISCRIMINATOR,
        ix::OpenMemberLedgers::DISCRIMINATOR,
        ix::SetMemberTier::DISCRIMINATOR,
        ix::OpenPromotion::DISCRIMINATOR,
        ix::ClosePromotion::DISCRIMINATOR,
        ix::SetPaused::DISCRIMINATOR,
        ix::ProposeAdmin::DISCRIMINATOR,
        ix::AcceptAdmin::DISCRIMINATOR,
        ix::Withdraw::DISCRIMINATOR,
        ix::AddOracle::DISCRIMINATOR,
        ix::RemoveOracle::DISCRIMINATOR,
        ix::SetRewardTables::DISCRIMINATOR,
        ix::RegisterModel::DISCRIMINATOR,
        ix::UpdateModel::DISCRIMINATOR,
        ix::AttestProvider::DISCRIMINATOR,
        ix::AttestNode::DISCRIMINATOR,
        ix::ReportCompute::DISCRIMINATOR,
        ix::ReportUsage::DISCRIMINATOR,
        ix::ReportRental::DISCRIMINATOR,
        ix::ReportBandwidth::DISCRIMINATOR,
        // Anchor's event-CPI entry, which only the program itself may call.
        anchor_lang::event::EVENT_IX_TAG_LE,
    ]
}

/// One of `prefixes` (none if empty) followed by up to `max` random bytes.
fn noise_after<P: AsRef<[u8]>>(rng: &mut Rng, prefixes: &[P], max: u64) -> Vec<u8> {
    let mut out = rng
        .pick(prefixes)
        .map(|p| p.as_ref().to_vec())
        .unwrap_or_default();
    let len = rng.below(max) as usize;
    out.extend(rng.bytes(len));
    out
}

/// One account's storage, owned by the test for the call's duration.
struct Stored {
    key: Pubkey,
    owner: Pubkey,
    lamports: u64,
    data: Vec<u8>,
    signer: bool,
    writable: bool,
}

fn random_account(rng: &mut Rng, noise: &[Vec<u8>]) -> Stored {
    let owner = match rng.below(4) {
        0 => anchor_lang::solana_program::system_program::ID,
        1 => anchor_spl::token::ID,
        _ => upline::ID,
    };
    let data = match rng.below(4) {
        0 => Vec::new(),
        // Noise, or a real account discriminator then noise (past the type check).
        1 => noise_after::<&[u8]>(rng, &[], 700),
        _ => noise_after(rng, noise, 600),
    };
    Stored {
        key: Pubkey::new_from_array(rng.bytes(32).try_into().expect("32 bytes")),
        owner,
        lamports: rng.next_u64(),
        data,
        signer: rng.below(2) == 0,
        writable: rng.below(2) == 0,
    }
}

#[test]
fn no_instruction_data_makes_the_program_panic() {
    let seed = env_number("UPLINE_FUZZ_SEED", 0xF022);
    let inputs = env_number("UPLINE_FUZZ_INPUTS", 20_000);
    let mut rng = Rng(seed);
    let known = discriminators();
    // Account discriminators, so that some noise passes Anchor's type checks.
    let accounts: Vec<Vec<u8>> = vec![
        upline::state::Network::DISCRIMINATOR.to_vec(),
        upline::state::Member::DISCRIMINATOR.to_vec(),
        upline::state::Ledger::DISCRIMINATOR.to_vec(),
        upline::state::RewardTables::DISCRIMINATOR.to_vec(),
        upline::state::Oracle::DISCRIMINATOR.to_vec(),
        upline::state::Model::DISCRIMINATOR.to_vec(),
    ];
    let program_id = upline::ID;
    let (mut errors, mut successes) = (0u64, 0u64);
    for input in 0..inputs {
        let data = match rng.below(3) {
            0 => noise_after::<&[u8]>(&mut rng, &[], 300),
            _ => noise_after(&mut rng, &known, 400),
        };
        let mut stored: Vec<Stored> = (0..rng.below(14))
            .map(|_| random_account(&mut rng, &accounts))
            .collect();
        let infos: Vec<AccountInfo> = stored
            .iter_mut()
            .map(|s| {
                AccountInfo::new(
                    &s.key,
                    s.signer,
                    s.writable,
                    &mut s.lamports,
                    &mut s.data[..],
                    &s.owner,
                    false,
                )
            })
            .collect();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            upline::entry(&program_id, &infos, &data)
        }));
        match outcome {
            Ok(Ok(())) => successes += 1,
            Ok(Err(_)) => errors += 1,
            Err(_) => panic!(
                "seed {seed:#x}, input {input}: the program panicked on data {data:02x?} with {} accounts",
                infos.len()
            ),
        }
    }
    eprintln!("instruction fuzz: seed {seed:#x}, {inputs} inputs, {errors} refused, {successes} accepted, no panic");
}
