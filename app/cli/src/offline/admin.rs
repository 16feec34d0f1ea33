//! Admin keys on another machine, as the Solana CLI signs offline: an admin
//! command run with `--keypair PUBKEY --sign-only` prints the transaction it
//! would send (its message, blockhash and who has not signed yet); `upline
//! sign MESSAGE --keypair FILE` on the machine that holds the key shows what
//! the message does and prints `PUBKEY=SIGNATURE`; the same command run again
//! with `--blockhash HASH --signer PUBKEY=SIGNATURE` rebuilds the same
//! transaction, checks that the signature is over it, and sends it.

use anchor_lang::prelude::Pubkey;
use base64::Engine;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::{Message, Signature, Transaction};

/// What `--sign-only` prints for the transactions it kept.
pub fn render_kept(kept: &[Transaction]) -> String {
    let mut out = String::from("nothing was sent (--sign-only)\n");
    for tx in kept {
        let message = base64::engine::general_purpose::STANDARD.encode(tx.message_data());
        let required = usize::from(tx.message.header.num_required_signatures);
        let (mut signed, mut absent) = (Vec::new(), Vec::new());
        for (key, signature) in tx.message.account_keys[..required]
            .iter()
            .zip(&tx.signatures)
        {
            if *signature == Signature::default() {
                absent.push(key.to_string());
            } else {
                signed.push(format!("{key}={signature}"));
            }
        }
        out += &format!(
            "Blockhash: {}\nMessage: {message}\n",
            tx.message.recent_blockhash
        );
        out += "Signers (Pubkey=Signature):\n";
        out += &signed
            .iter()
            .map(|s| format!("  {s}\n"))
            .collect::<String>();
        out += "Absent Signers (Pubkey):\n";
        out += &absent
            .iter()
            .map(|s| format!("  {s}\n"))
            .collect::<String>();
        out += &format!(
            "Sign where each absent key is: upline sign MESSAGE --keypair FILE; then run this \
             command again with --blockhash {} and --signer PUBKEY=SIGNATURE for each.\n",
            tx.message.recent_blockhash
        );
    }
    out
}

/// The program a message's instruction calls, by name where it is known.
fn program_name(program: &Pubkey) -> String {
    let known = [
        (upline::ID, "upline"),
        (anchor_lang::system_program::ID, "system"),
        (anchor_spl::token::ID, "spl-token"),
        (anchor_spl::token_2022::ID, "spl-token-2022"),
        (anchor_spl::associated_token::ID, "associated-token"),
        (upline_sdk::rpc::COMPUTE_BUDGET_ID, "compute-budget"),
    ];
    known
        .iter()
        .find(|(id, _)| id == program)
        .map_or_else(|| program.to_string(), |(_, name)| name.to_string())
}

/// `upline sign MESSAGE`: what the message does, and `PUBKEY=SIGNATURE` by
/// `keypair`; refused when the message does not need that key.
pub fn sign_message(text: &str, keypair: &Keypair) -> Result<String, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| {
            format!("MESSAGE: not base64 ({e}): pass the Message line --sign-only printed")
        })?;
    let message: Message = bincode::deserialize(&bytes)
        .map_err(|e| format!("MESSAGE: not a transaction message ({e})"))?;
    let required = usize::from(message.header.num_required_signatures);
    let signers = message.account_keys.get(..required).unwrap_or_default();
    let me = keypair.pubkey();
    if !signers.contains(&me) {
        let needed: Vec<String> = signers.iter().map(Pubkey::to_string).collect();
        return Err(format!(
            "--keypair {me}: this message does not need its signature (it needs {})",
            needed.join(", ")
        ));
    }
    let mut out = format!(
        "fee payer {}, blockhash {}\n",
        signers.first().map_or_else(String::new, Pubkey::to_string),
        message.recent_blockhash
    );
    for (n, ix) in message.instructions.iter().enumerate() {
        let program = message
            .account_keys
            .get(usize::from(ix.program_id_index))
            .copied()
            .unwrap_or_default();
        let name = if program == upline::ID {
            upline_sdk::ix::instruction_name(&ix.data).unwrap_or("an unknown instruction")
        } else {
            ""
        };
        let accounts: Vec<String> = ix
            .accounts
            .iter()
            .filter_map(|i| message.account_keys.get(usize::from(*i)))
            .map(Pubkey::to_string)
            .collect();
        out += &format!(
            "  {}. {} {name}: {}\n",
            n + 1,
            program_name(&program),
            accounts.join(", ")
        );
    }
    out += &format!("{me}={}\n", keypair.sign_message(&bytes));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_signer::null_signer::NullSigner;
    use solana_transaction::Hash;

    #[test]
    fn a_kept_transaction_is_signed_elsewhere_and_the_signature_verifies() {
        let (admin, payer) = (Keypair::new(), Keypair::new());
        let network = Pubkey::new_unique();
        let ix = upline_sdk::ix::set_paused(&admin.pubkey(), &network, true);
        let mut tx = Transaction::new_with_payer(&[ix], Some(&payer.pubkey()));
        let absent = NullSigner::new(&admin.pubkey());
        let signers: [&dyn Signer; 2] = [&payer, &absent];
        tx.try_partial_sign(&signers, Hash::new_unique())
            .expect("partial signing");
        let text = render_kept(std::slice::from_ref(&tx));
        assert!(text.contains(&format!("  {}\n", admin.pubkey())), "{text}");
        assert!(text.contains(&format!("{}=", payer.pubkey())), "{text}");
        let message = text
            .lines()
            .find_map(|l| l.strip_prefix("Message: "))
            .expect("a message line");
        let signed = sign_message(message, &admin).expect("signed");
        assert!(signed.contains("upline set_paused"), "{signed}");
        let given = signed.lines().last().expect("the signature line");
        let signature: Signature = given
            .split_once('=')
            .and_then(|(_, s)| s.parse().ok())
            .expect("PUBKEY=SIGNATURE");
        assert!(signature.verify(admin.pubkey().as_ref(), &tx.message_data()));
        // A key the message does not need is refused, by name.
        let stranger = Keypair::new();
        let refused = sign_message(message, &stranger).expect_err("not a signer");
        assert!(refused.contains("does not need its signature"), "{refused}");
        assert!(sign_message("not base64!", &admin).is_err());
    }
}
