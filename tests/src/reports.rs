//! Report helpers: build each kind of report with the upline an oracle client
//! would resolve from the chain (the stored referral links).

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

/// A compute report's arguments.
pub fn compute(id: u64, service: Service, tokens: u64, latency_ms: u32) -> ComputeReportArgs {
    ComputeReportArgs {
        id,
        service,
        tokens,
        latency_ms,
    }
}

/// A usage report's arguments.
pub fn usage(id: u64, endpoint: Endpoint, tokens: u64) -> UsageReportArgs {
    UsageReportArgs {
        id,
        endpoint,
        tokens,
    }
}

/// A bandwidth report: `bytes` at quality, stability and demand given in PPM.
pub fn bandwidth(
    id: u64,
    bytes: u64,
    quality: u64,
    stability: u64,
    demand: u64,
) -> BandwidthReportArgs {
    BandwidthReportArgs {
        id,
        bytes,
        quality: Ppm(quality),
        stability: Ppm(stability),
        demand: Ppm(demand),
        suppressed: false,
    }
}

impl TestNetwork {
    /// `report_compute` about `provider` serving `model`, with its stored upline.
    pub async fn compute_ix(
        &self,
        chain: &mut Chain,
        provider: &Pubkey,
        model_name: &str,
        args: ComputeReportArgs,
    ) -> Instruction {
        let upline = self.upline(chain, provider, 3).await;
        ix::report_compute(
            &self.oracle.pubkey(),
            &self.key,
            provider,
            &model(model_name),
            &upline,
            args,
        )
    }

    /// `report_usage` about `user`, with its stored upline.
    pub async fn usage_ix(
        &self,
        chain: &mut Chain,
        user: &Pubkey,
        args: UsageReportArgs,
    ) -> Instruction {
        let upline = self.upline(chain, user, 3).await;
        ix::report_usage(&self.oracle.pubkey(), &self.key, user, &upline, args)
    }

    /// `report_rental` between `renter` and `host`, with their stored referrers.
    pub async fn rental_ix(
        &self,
        chain: &mut Chain,
        renter: &Pubkey,
        host: &Pubkey,
        args: RentalReportArgs,
    ) -> Instruction {
        let parties = RentalParties {
            renter: *renter,
            host: *host,
            renter_referrer: self.upline(chain, renter, 1).await.first().copied(),
            host_referrer: self.upline(chain, host, 1).await.first().copied(),
        };
        ix::report_rental(&self.oracle.pubkey(), &self.key, &parties, args)
    }

    /// `report_bandwidth` about `node`, attested as (fingerprint, subnet) labels
    /// or not at all, with its stored referrer.
    pub async fn bandwidth_ix(
        &self,
        chain: &mut Chain,
        node: &Pubkey,
        device: Option<(&str, &str)>,
        args: BandwidthReportArgs,
    ) -> Instruction {
        let referrer = self.upline(chain, node, 1).await.first().copied();
        let hashes = device.map(|(fingerprint, subnet)| (hash32(fingerprint), hash32(subnet)));
        let device = hashes.as_ref().map(|(f, s)| (f, s));
        ix::report_bandwidth(
            &self.oracle.pubkey(),
            &self.key,
            node,
            device,
            referrer.as_ref(),
            args,
        )
    }

    /// `attest_node` for `wallet`, paid by the oracle.
    pub fn attest_node_ix(&self, wallet: &Pubkey, fingerprint: &str, subnet: &str) -> Instruction {
        let args = AttestNodeArgs {
            fingerprint: hash32(fingerprint),
            subnet: hash32(subnet),
        };
        let oracle = self.oracle.pubkey();
        ix::attest_node(&oracle, &oracle, &self.key, wallet, args)
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
