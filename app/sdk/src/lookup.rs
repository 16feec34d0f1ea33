//! Address lookup tables: the instructions that create and extend one, and
//! a table account's addresses, built by hand (the program's instruction
//! layout is bincode of its `ProgramInstruction` enum).

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};

/// The address lookup table program.
pub const PROGRAM_ID: Pubkey = anchor_lang::pubkey!("AddressLookupTab1e1111111111111111111111111");

/// The SlotHashes sysvar: recent slots a table may be created at.
pub const SLOT_HASHES: Pubkey = anchor_lang::pubkey!("SysvarS1otHashes111111111111111111111111111");

/// Bytes before a table's addresses.
pub const META_BYTES: usize = 56;

/// Addresses one table holds.
pub const MAX_ADDRESSES: usize = 256;

/// The table `authority` creates at `recent_slot`, and its bump.
pub fn table_address(authority: &Pubkey, recent_slot: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[authority.as_ref(), &recent_slot.to_le_bytes()],
        &PROGRAM_ID,
    )
}

/// Create `authority`'s table at `recent_slot` (a slot in SlotHashes), paid by `payer`.
pub fn create(authority: &Pubkey, payer: &Pubkey, recent_slot: u64) -> (Instruction, Pubkey) {
    let (table, bump) = table_address(authority, recent_slot);
    let mut data = 0u32.to_le_bytes().to_vec();
    data.extend_from_slice(&recent_slot.to_le_bytes());
    data.push(bump);
    let ix = Instruction {
        program_id: PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(table, false),
            AccountMeta::new_readonly(*authority, true),
            AccountMeta::new(*payer, true),
            AccountMeta::new_readonly(anchor_lang::system_program::ID, false),
        ],
        data,
    };
    (ix, table)
}

/// Add `addresses` to `table` (its rent paid by `payer`).
pub fn extend(
    table: &Pubkey,
    authority: &Pubkey,
    payer: &Pubkey,
    addresses: &[Pubkey],
) -> Instruction {
    let mut data = 2u32.to_le_bytes().to_vec();
    data.extend_from_slice(&(addresses.len() as u64).to_le_bytes());
    for a in addresses {
        data.extend_from_slice(a.as_ref());
    }
    Instruction {
        program_id: PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(*table, false),
            AccountMeta::new_readonly(*authority, true),
            AccountMeta::new(*payer, true),
            AccountMeta::new_readonly(anchor_lang::system_program::ID, false),
        ],
        data,
    }
}

/// The addresses of a table account's data, or `None` if it is not one.
pub fn addresses(data: &[u8]) -> Option<Vec<Pubkey>> {
    // The meta starts with the u32 discriminant 1 (an initialized table).
    if data.len() < META_BYTES || data[..4] != 1u32.to_le_bytes() {
        return None;
    }
    let rest = &data[META_BYTES..];
    Some(
        rest.chunks_exact(32)
            .map(|c| Pubkey::new_from_array(c.try_into().unwrap_or([0; 32])))
            .collect(),
    )
}

/// The most recent slot of the SlotHashes sysvar's data.
pub fn recent_slot(slot_hashes: &[u8]) -> Option<u64> {
    slot_hashes
        .get(8..16)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
}

/// The slot a table was last extended at (its meta's `last_extended_slot`):
/// it can be used from the next slot.
pub fn last_extended_slot(data: &[u8]) -> Option<u64> {
    // meta: u32 discriminant, u64 deactivation_slot, u64 last_extended_slot, ...
    data.get(12..20)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
}

#[cfg(all(test, feature = "sandbox"))]
mod tests {
    use super::*;
    use crate::sandbox::Chain;
    use solana_message::{v0, AddressLookupTableAccount, VersionedMessage};
    use solana_signer::Signer;
    use solana_transaction::versioned::VersionedTransaction;

    #[tokio::test]
    #[allow(deprecated)]
    async fn a_table_is_created_extended_and_used_by_a_v0_transaction() {
        let mut chain = Chain::start().await;
        let payer = chain.payer();
        let hashes = chain.data(&SLOT_HASHES).await.expect("SlotHashes");
        let slot = recent_slot(&hashes).expect("a recent slot");
        let (create_ix, table) = create(&payer.pubkey(), &payer.pubkey(), slot);
        let to: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        let extend_ix = extend(&table, &payer.pubkey(), &payer.pubkey(), &to);
        chain
            .send_quiet(&[create_ix, extend_ix], &[])
            .await
            .expect("create and extend");
        let now = chain.now;
        chain.warp_to(now).await;
        let data = chain.data(&table).await.expect("the table");
        assert_eq!(addresses(&data), Some(to.clone()));
        let transfers: Vec<Instruction> = to
            .iter()
            .map(|t| {
                anchor_lang::solana_program::system_instruction::transfer(
                    &payer.pubkey(),
                    t,
                    1_000_000,
                )
            })
            .collect();
        let message = v0::Message::try_compile(
            &payer.pubkey(),
            &transfers,
            &[AddressLookupTableAccount {
                key: table,
                addresses: to.clone(),
            }],
            chain.ctx.last_blockhash,
        )
        .expect("compile");
        assert_eq!(message.address_table_lookups.len(), 1);
        let tx =
            VersionedTransaction::try_new(VersionedMessage::V0(message), &[&payer]).expect("sign");
        let simulated = chain.simulate(&tx).await.expect("simulate");
        assert_eq!(simulated.err, None, "{:?}", simulated.logs);
        chain
            .commit(tx, simulated)
            .await
            .expect("commit")
            .expect("landed");
        assert_eq!(chain.lamports(&to[0]).await, 1_000_000);
    }
}
