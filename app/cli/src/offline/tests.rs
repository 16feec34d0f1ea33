//! The offline flow without a cluster: messages signed where their keys are,
//! merged, and every way a merge is refused before anything is sent.

use super::*;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use solana_transaction::Hash;
use upline::instructions::UsageReportArgs;
use upline::state::Endpoint;
use upline_sdk::ix;

/// A messages file of `count` transactions, each one usage report that
/// `payer` (the oracle) and `co` (a co-signer) must sign, over `blockhash`.
fn messages(payer: &Keypair, co: &Pubkey, blockhash: Hash, count: u8) -> MessagesFile {
    let network = Pubkey::new_unique();
    let member = Pubkey::new_unique();
    let transactions = (0..count)
        .map(|i| {
            let args = UsageReportArgs {
                id: u64::from(i) + 1,
                work_time: 0,
                endpoint: Endpoint::Chat,
                tokens: 10,
            };
            let report = ix::report_usage(&payer.pubkey(), &network, &member, &[], args);
            let ix = ix::with_co_signers(report, &network, &[*co]);
            let message = Message::new_with_blockhash(&[ix], Some(&payer.pubkey()), &blockhash);
            UnsignedTx {
                reports: vec![ReportRef {
                    line: usize::from(i) + 1,
                    member: member.to_string(),
                    id: args.id,
                }],
                message: base64::engine::general_purpose::STANDARD.encode(message.serialize()),
                blockhash: blockhash.to_string(),
                signers: vec![payer.pubkey().to_string(), co.to_string()],
                signatures: BTreeMap::new(),
            }
        })
        .collect();
    MessagesFile {
        format: MESSAGES_FORMAT.into(),
        network: network.to_string(),
        file: "reports.jsonl".into(),
        file_sha256: sha256_hex(b""),
        submitter: payer.pubkey().to_string(),
        co_signers: vec![co.to_string()],
        blockhash: blockhash.to_string(),
        total: usize::from(count),
        already: 0,
        rejected: Vec::new(),
        transactions,
    }
}

fn signatures_of(file: &MessagesFile, key: &Keypair) -> Vec<GivenSignature> {
    given(&sign(file, key).expect("a signer"), "sigs.json").expect("signatures")
}

#[test]
fn signatures_made_elsewhere_are_merged_into_every_transaction() {
    let (payer, co) = (Keypair::new(), Keypair::new());
    let file = messages(&payer, &co.pubkey(), Hash::new_unique(), 3);
    let signed = sign(&file, &co).expect("co signs");
    assert_eq!(signed.signatures.len(), 3);
    assert_eq!(signed.signer, co.pubkey().to_string());
    let txs = assemble(&file, &[&payer], &signatures_of(&file, &co)).expect("complete");
    assert_eq!(txs.len(), 3);
    for tx in &txs {
        let bytes = tx.message.serialize();
        let keys = tx.message.signer_keys();
        assert_eq!(keys.len(), 2);
        for (key, signature) in keys.iter().zip(&tx.signatures) {
            assert!(signature.verify(key.as_ref(), &bytes));
        }
    }
    // The same through --signer PUBKEY=SIGNATURE, one per transaction.
    let flags: Vec<GivenSignature> = signed
        .signatures
        .iter()
        .map(|s| parse_signer(&format!("{}={}", co.pubkey(), s.signature)).expect("--signer"))
        .collect();
    assert_eq!(assemble(&file, &[&payer], &flags).expect("complete"), txs);
}

#[test]
fn signatures_stored_at_sign_only_count_and_are_checked() {
    let (payer, co) = (Keypair::new(), Keypair::new());
    let mut file = messages(&payer, &co.pubkey(), Hash::new_unique(), 2);
    for tx in &mut file.transactions {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&tx.message)
            .expect("base64");
        let signature = payer.sign_message(&bytes).to_string();
        tx.signatures.insert(payer.pubkey().to_string(), signature);
    }
    // No local key: the stored signatures and the co-signer's suffice.
    assemble(&file, &[], &signatures_of(&file, &co)).expect("complete");
    // A stored signature that does not verify is refused.
    let other = Keypair::new().sign_message(b"other").to_string();
    file.transactions[1]
        .signatures
        .insert(payer.pubkey().to_string(), other);
    let err = assemble(&file, &[], &signatures_of(&file, &co)).unwrap_err();
    assert!(err.contains("(transaction 2): the signature by"), "{err}");
}

#[test]
fn a_merge_is_refused_before_sending_anything_wrong() {
    let (payer, co) = (Keypair::new(), Keypair::new());
    let file = messages(&payer, &co.pubkey(), Hash::new_unique(), 2);
    // A signature over other content: the same reports over another blockhash.
    let elsewhere = messages(&payer, &co.pubkey(), Hash::new_unique(), 2);
    let err = assemble(&file, &[&payer], &signatures_of(&elsewhere, &co)).unwrap_err();
    assert!(
        err.contains("verifies over none of the 2 transactions: it signs other content"),
        "{err}"
    );
    // A signature by a key the transactions do not need.
    let stranger = Keypair::new();
    let forged = GivenSignature {
        key: stranger.pubkey(),
        signature: stranger.sign_message(b"anything"),
        origin: "--signer".into(),
    };
    let err = assemble(&file, &[&payer], &[forged]).unwrap_err();
    assert!(
        err.contains("is not a signer of these transactions"),
        "{err}"
    );
    // A signature missing.
    let err = assemble(&file, &[&payer], &[]).unwrap_err();
    assert!(
        err.contains(&format!(
            "transaction 1 lacks the signature of {}",
            co.pubkey()
        )),
        "{err}"
    );
    let err = sign(&file, &stranger).unwrap_err();
    assert!(
        err.contains("is not a signer of these transactions"),
        "{err}"
    );
    assert!(parse_signer("no-equals")
        .unwrap_err()
        .contains("PUBKEY=SIGNATURE"));
    assert!(parse_signer("x=y")
        .unwrap_err()
        .contains("not a base-58 address"));
}

#[test]
fn a_signer_signs_upline_reports_over_the_stated_blockhash_only() {
    let (payer, co) = (Keypair::new(), Keypair::new());
    let mut file = messages(&payer, &co.pubkey(), Hash::new_unique(), 1);
    file.transactions[0].blockhash = Hash::new_unique().to_string();
    assert!(sign(&file, &co)
        .unwrap_err()
        .contains("its message's blockhash is"));
    // A message that calls another program is not signed.
    let mut file = messages(&payer, &co.pubkey(), Hash::new_unique(), 1);
    let ix = Instruction {
        program_id: Pubkey::new_unique(),
        accounts: vec![AccountMeta::new_readonly(co.pubkey(), true)],
        data: vec![],
    };
    let blockhash = Hash::from_str(&file.blockhash).expect("hash");
    let message = Message::new_with_blockhash(&[ix], Some(&payer.pubkey()), &blockhash);
    file.transactions[0].message =
        base64::engine::general_purpose::STANDARD.encode(message.serialize());
    let err = sign(&file, &co).unwrap_err();
    assert!(
        err.contains("not Upline") && err.contains("not signed"),
        "{err}"
    );
    // A report about another network than the file names.
    let mut file = messages(&payer, &co.pubkey(), Hash::new_unique(), 1);
    file.network = Pubkey::new_unique().to_string();
    assert!(sign(&file, &co)
        .unwrap_err()
        .contains("is not about network"));
    // Listed signers that are not the message's.
    let mut file = messages(&payer, &co.pubkey(), Hash::new_unique(), 1);
    file.transactions[0].signers.pop();
    assert!(sign(&file, &co)
        .unwrap_err()
        .contains("needs the signatures of"));
}

#[test]
fn a_signer_sees_each_report_it_signs() {
    let (payer, co) = (Keypair::new(), Keypair::new());
    let file = messages(&payer, &co.pubkey(), Hash::new_unique(), 2);
    let text = file.describe();
    assert!(text.contains("2 reports of reports.jsonl"), "{text}");
    let member = &file.transactions[0].reports[0].member;
    assert!(
        text.contains(&format!(
            "line 2: usage about {member}: UsageReportArgs {{ id: 2,"
        )),
        "{text}"
    );
}
