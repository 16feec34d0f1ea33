//! What a co-signer approves, read back from the messages it signs: each
//! instruction decoded into its report (kind, member account, arguments),
//! so that an oracle signing on another machine sees what it signs and can
//! hold it against its own measurements.

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AnchorDeserialize, Discriminator};
use solana_transaction::Message;
use upline::instruction;

/// Position of the member a report is about among its instruction's
/// accounts: after the oracle context (oracle key, registration, network,
/// tables), and for a rental after the ledger.
const EARNER: usize = 4;
const NETWORK: usize = 2;

fn args<T: AnchorDeserialize>(data: &[u8]) -> Option<T> {
    T::deserialize(&mut &data[8..]).ok()
}

/// One instruction of a report message as text, or why it is not a report
/// of `network`.
pub fn report(message: &Message, index: usize, network: &Pubkey) -> Result<String, String> {
    let ix = message
        .instructions
        .get(index)
        .ok_or_else(|| format!("no instruction {index}"))?;
    let account = |at: usize| {
        ix.accounts
            .get(at)
            .and_then(|i| message.account_keys.get(usize::from(*i)))
            .copied()
    };
    if account(NETWORK) != Some(*network) {
        return Err(format!(
            "instruction {} is not about network {network}",
            index + 1
        ));
    }
    let data = ix.data.as_slice();
    let tag = data.get(..8).unwrap_or_default();
    let member = |at: usize| account(at).map_or_else(|| "?".to_string(), |k| k.to_string());
    let text = if tag == instruction::ReportCompute::DISCRIMINATOR {
        args::<instruction::ReportCompute>(data)
            .map(|i| format!("compute about {}: {:?}", member(EARNER), i.args))
    } else if tag == instruction::ReportUsage::DISCRIMINATOR {
        args::<instruction::ReportUsage>(data)
            .map(|i| format!("usage about {}: {:?}", member(EARNER), i.args))
    } else if tag == instruction::ReportRental::DISCRIMINATOR {
        args::<instruction::ReportRental>(data).map(|i| {
            format!(
                "rental, renter {}, host {}: {:?}",
                member(EARNER + 1),
                member(EARNER + 2),
                i.args
            )
        })
    } else if tag == instruction::ReportBandwidth::DISCRIMINATOR {
        args::<instruction::ReportBandwidth>(data)
            .map(|i| format!("bandwidth about {}: {:?}", member(EARNER), i.args))
    } else {
        None
    };
    text.ok_or_else(|| format!("instruction {} is not a work report", index + 1))
}
