//! Report helpers: build each kind of report with the upline an oracle client
//! would resolve from the chain (the stored referral links).
//!
//! Work time: the argument helpers ([`compute`], [`usage`], [`bandwidth`])
//! leave it at [`WORKED_NOW`], which the `*_ix` helpers replace with the
//! chain's clock; [`WorkedAt::worked_at`] sets an explicit one.

use crate::{Chain, TestNetwork};
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_signer::Signer;
use upline::instructions::{
    AttestNodeArgs, BandwidthReportArgs, ComputeReportArgs, RentalReportArgs, UsageReportArgs,
};
use upline::math::Ppm;
use upline::state::{label, Endpoint, Service};
use upline_sdk::ix::{self, RentalParties};

/// A device fingerprint or subnet hash for tests: the label zero-padded.
pub fn hash32(text: &str) -> [u8; 32] {
    label(text).expect("1 to 32 bytes")
}

/// A model name as the program stores it.
pub fn model(name: &str) -> [u8; 32] {
    label(name).expect("model name")
}

/// A work time that the `*_ix` helpers replace with the chain's clock (the
/// work happened as the report lands). Sent as is, it is far too old.
pub const WORKED_NOW: i64 = i64::MIN;

/// The work time of a report's arguments.
pub trait WorkedAt: Sized {
    /// The arguments with work time `time` (unix seconds).
    fn worked_at(self, time: i64) -> Self;
    /// The work time.
    fn work_time(&self) -> i64;
    /// The arguments with [`WORKED_NOW`] replaced by `now`.
    fn worked_by(self, now: i64) -> Self {
        if self.work_time() == WORKED_NOW {
            self.worked_at(now)
        } else {
            self
        }
    }
}

macro_rules! worked_at {
    ($($args:ty),*) => {$(
        impl WorkedAt for $args {
            fn worked_at(mut self, time: i64) -> Self {
                self.work_time = time;
                self
            }
            fn work_time(&self) -> i64 {
                self.work_time
            }
        }
    )*};
}

worked_at!(
    ComputeReportArgs,
    UsageReportArgs,
    RentalReportArgs,
    BandwidthReportArgs
);

/// A compute report's arguments, worked now.
pub fn compute(id: u64, service: Service, tokens: u64, latency_ms: u32) -> ComputeReportArgs {
    ComputeReportArgs {
        id,
        work_time: WORKED_NOW,
        service,
        tokens,
        latency_ms,
    }
}

/// A usage report's arguments, worked now.
pub fn usage(id: u64, endpoint: Endpoint, tokens: u64) -> UsageReportArgs {
    UsageReportArgs {
        id,
        work_time: WORKED_NOW,
        endpoint,
        tokens,
    }
}

/// A bandwidth report: `bytes` at quality, stability and demand given in PPM, worked now.
pub fn bandwidth(
    id: u64,
    bytes: u64,
    quality: u64,
    stability: u64,
    demand: u64,
) -> BandwidthReportArgs {
    BandwidthReportArgs {
        id,
        work_time: WORKED_NOW,
        bytes,
        quality: Ppm(quality),
        stability: Ppm(stability),
        demand: Ppm(demand),
        suppressed: false,
    }
}

impl TestNetwork {
    /// `report_compute` about `provider`'s (only) membership serving `model`, with its stored upline.
    pub async fn compute_ix(
        &self,
        chain: &mut Chain,
        provider: &Pubkey,
        model_name: &str,
        args: ComputeReportArgs,
    ) -> Instruction {
        let member = self.member(provider);
        self.compute_ix_at(chain, &member, model_name, args).await
    }

    /// `report_compute` about the provider membership `member`, with its stored upline.
    pub async fn compute_ix_at(
        &self,
        chain: &mut Chain,
        member: &Pubkey,
        model_name: &str,
        args: ComputeReportArgs,
    ) -> Instruction {
        let upline = self.upline_of(chain, member, 3).await;
        ix::report_compute(
            &self.oracle.pubkey(),
            &self.key,
            member,
            &model(model_name),
            &upline,
            args.worked_by(chain.now),
        )
    }

    /// `report_usage` about `user`'s (only) membership, with its stored upline.
    pub async fn usage_ix(
        &self,
        chain: &mut Chain,
        user: &Pubkey,
        args: UsageReportArgs,
    ) -> Instruction {
        let member = self.member(user);
        self.usage_ix_at(chain, &member, args).await
    }

    /// `report_usage` about the user membership `member`, with its stored upline.
    pub async fn usage_ix_at(
        &self,
        chain: &mut Chain,
        member: &Pubkey,
        args: UsageReportArgs,
    ) -> Instruction {
        let upline = self.upline_of(chain, member, 3).await;
        let args = args.worked_by(chain.now);
        ix::report_usage(&self.oracle.pubkey(), &self.key, member, &upline, args)
    }

    /// `report_rental` between `renter` and `host` (each its only
    /// membership), with their stored referrers; worked now unless `args` say otherwise.
    pub async fn rental_ix(
        &self,
        chain: &mut Chain,
        renter: &Pubkey,
        host: &Pubkey,
        args: RentalReportArgs,
    ) -> Instruction {
        let (renter, host) = (self.member(renter), self.member(host));
        let parties = RentalParties {
            renter,
            host,
            renter_referrer: self.upline_of(chain, &renter, 1).await.first().copied(),
            host_referrer: self.upline_of(chain, &host, 1).await.first().copied(),
        };
        let args = args.worked_by(chain.now);
        ix::report_rental(&self.oracle.pubkey(), &self.key, &parties, args)
    }

    /// `report_bandwidth` about `node`'s (only) membership, attested as
    /// (fingerprint, subnet) labels or not at all, with its stored referrer.
    pub async fn bandwidth_ix(
        &self,
        chain: &mut Chain,
        node: &Pubkey,
        device: Option<(&str, &str)>,
        args: BandwidthReportArgs,
    ) -> Instruction {
        let node = self.member(node);
        let referrer = self.upline_of(chain, &node, 1).await.first().copied();
        let hashes = device.map(|(fingerprint, subnet)| (hash32(fingerprint), hash32(subnet)));
        let device = hashes.as_ref().map(|(f, s)| (f, s));
        ix::report_bandwidth(
            &self.oracle.pubkey(),
            &self.key,
            &node,
            device,
            referrer.as_ref(),
            args.worked_by(chain.now),
        )
    }

    /// `attest_node` for `wallet`'s (only) membership, paid by the oracle.
    pub fn attest_node_ix(&self, wallet: &Pubkey, fingerprint: &str, subnet: &str) -> Instruction {
        self.attest_node_ix_at(&self.member(wallet), fingerprint, subnet)
    }

    /// `attest_node` for the node membership `member`, paid by the oracle.
    pub fn attest_node_ix_at(
        &self,
        member: &Pubkey,
        fingerprint: &str,
        subnet: &str,
    ) -> Instruction {
        let args = AttestNodeArgs {
            fingerprint: hash32(fingerprint),
            subnet: hash32(subnet),
        };
        let oracle = self.oracle.pubkey();
        ix::attest_node(&oracle, &oracle, &self.key, member, args)
    }

    /// Send instructions signed by the oracle.
    pub async fn as_oracle(
        &self,
        chain: &mut Chain,
        instructions: &[Instruction],
    ) -> Result<Vec<upline_sdk::events::UplineEvent>, crate::TxFailure> {
        let oracle = self.oracle.insecure_clone();
        chain.send(instructions, &[&oracle]).await
    }
}
