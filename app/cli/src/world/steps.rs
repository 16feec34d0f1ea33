//! One scenario step, sent as the transaction(s) it stands for.

use super::{tier, World};
use crate::report_args::ppm;
use crate::scenario::{Op, Step};
use solana_signer::Signer;
use upline::errors::UplineError;
use upline::instructions::RentalReportArgs;
use upline::state::label;
use upline_sdk::ix::{self, RentalParties, TokenDestination};

impl World {
    pub(super) async fn apply(&mut self, step: &Step) -> Result<(), String> {
        let network = self.network.key;
        let oracle = self.network.oracle.pubkey();
        let admin = self.network.admin.insecure_clone();
        // A report's work time: `work_at` seconds after the start, default its `at`.
        let work_time = self
            .start
            .saturating_add(step.op.work_at().unwrap_or(step.at));
        match &step.op {
            Op::Join(entry) => self.join(entry).await,
            Op::SetReferrer(s) => {
                let member = self.party(&s.member).await;
                let upline = self.named_referrer(&s.referrer, member.class).await?;
                self.send(
                    &[ix::set_referrer(
                        &member.wallet.pubkey(),
                        &network,
                        member.class,
                        &upline,
                    )],
                    &[&member.wallet],
                )
                .await
            }
            Op::SetTier(s) => {
                let member = self.party(&s.member).await;
                let t = tier(&s.tier).unwrap_or_default();
                self.send(
                    &[ix::set_member_tier(
                        &admin.pubkey(),
                        &network,
                        &member.account,
                        t,
                    )],
                    &[&admin],
                )
                .await
            }
            Op::Promotion(p) => {
                let rate = ppm(&p.rate, "rate")?;
                let (start, end) = (
                    self.start.saturating_add(p.start),
                    self.start.saturating_add(p.end),
                );
                self.send(
                    &[ix::open_promotion(
                        &admin.pubkey(),
                        &network,
                        rate,
                        start,
                        end,
                    )],
                    &[&admin],
                )
                .await
            }
            Op::Fund(f) => {
                let index = self.ledger_index(&f.ledger);
                if self.network.ledgers[usize::from(index)].mint.is_none() {
                    // A points ledger has no vault: there is no deposit to
                    // send (the instruction needs the ledger's mint).
                    return Err(UplineError::NotWithdrawable.name());
                }
                let amount = self.base_units(index, &f.amount)?;
                let treasury = self.treasury.insecure_clone();
                self.network
                    .fund(&mut self.chain, &treasury, index, amount)
                    .await
                    .map_err(|e| e.name())
            }
            Op::Withdraw(w) => {
                let index = self.ledger_index(&w.ledger);
                let member = self.party(&w.member).await;
                let mint = self.network.ledgers[usize::from(index)]
                    .mint
                    .as_ref()
                    .map(|m| (m.address, m.token_program));
                // The amount is read only for a membership that exists on a
                // token ledger: on a points ledger, or for a name that is not
                // a member, the withdrawal is sent as "all" and the program
                // refuses it by name (NotWithdrawable, UnknownMember),
                // whatever its digits.
                let amount = match (w.amount.as_str(), mint) {
                    ("all", _) | (_, None) => None,
                    (text, Some(_)) => match self.base_units(index, text) {
                        Ok(units) => Some(units),
                        Err(_) if !member.exists => None,
                        Err(e) => return Err(e),
                    },
                };
                let to = match mint {
                    Some((address, token_program)) => Some(TokenDestination {
                        mint: address,
                        destination: self.destination(&member.wallet.pubkey(), index).await,
                        token_program,
                    }),
                    None => None,
                };
                self.send(
                    &[ix::withdraw(
                        &member.wallet.pubkey(),
                        &network,
                        member.class,
                        index,
                        to.as_ref(),
                        amount,
                    )],
                    &[&member.wallet],
                )
                .await
            }
            Op::Compute(c) => {
                let provider = self.party(&c.provider).await.account;
                let upline = self.upline(&provider, 3).await?;
                let model = label(&c.model).ok_or("model name")?;
                let args = c.args(work_time)?;
                self.as_oracle(&[ix::report_compute(
                    &oracle, &network, &provider, &model, &upline, args,
                )])
                .await
            }
            Op::Usage(u) => {
                let user = self.party(&u.user).await.account;
                let upline = self.upline(&user, 3).await?;
                let args = u.args(work_time)?;
                self.as_oracle(&[ix::report_usage(&oracle, &network, &user, &upline, args)])
                    .await
            }
            Op::Rental(r) => {
                let index = self.ledger_index(&r.currency);
                let renter = self.party(&r.renter).await.account;
                let host = self.party(&r.host).await.account;
                let parties = RentalParties {
                    renter,
                    host,
                    renter_referrer: self.upline(&renter, 1).await?.first().copied(),
                    host_referrer: self.upline(&host, 1).await?.first().copied(),
                };
                let args = RentalReportArgs {
                    id: r.id,
                    work_time,
                    ledger: index,
                    renter_base_fee: self.base_units(index, &r.renter_base_fee)?,
                    renter_extra_fee: self.base_units(index, &r.renter_extra_fee)?,
                    host_base_fee: self.base_units(index, &r.host_base_fee)?,
                    host_extra_fee: self.base_units(index, &r.host_extra_fee)?,
                };
                self.as_oracle(&[ix::report_rental(&oracle, &network, &parties, args)])
                    .await
            }
            Op::Bandwidth(b) => {
                // A node whose join failed is sent too: the coefficients are
                // judged before the node (§8's order for bandwidth).
                let node = self.party(&b.node).await.account;
                let device = self.member(&b.node).and_then(|m| m.device);
                let referrer = self.upline(&node, 1).await?.first().copied();
                let args = b.args(work_time)?;
                let device = device.as_ref().map(|(f, s)| (f, s));
                self.as_oracle(&[ix::report_bandwidth(
                    &oracle,
                    &network,
                    &node,
                    device,
                    referrer.as_ref(),
                    args,
                )])
                .await
            }
        }
    }
}
