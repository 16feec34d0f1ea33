//! Every instruction against the sealevel-attacks catalogue (see
//! `upline_tests::attack`): each is first tried with every account tampered
//! with, each attempt must be refused with the error of the check that should
//! catch it, then it runs as given. Each instruction's fields below follow its
//! `Accounts` struct in `programs/upline/src/instructions/`, with the error
//! its own constraint returns for a well-formed but wrong account; the few
//! attempts whose refusal depends on the state of the account put in (a
//! member of the same network in another member's place) are listed as
//! exceptions with the reason. A report co-signed under a quorum of 2 has
//! its co-signer's key (stripped: `CoSignerDidNotSign`; another key:
//! `NotOracle`) and registration (`NotOracle`) tampered with too; the
//! registration passed read-only is in `quorum`. Closing and reviving an account is tried where
//! the program closes one (`remove_oracle`, and in `abuse`); no instruction
//! takes a sysvar account (the clock comes from the syscall), so sysvar
//! address checks have nothing to act on.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::HashMap;
use upline::errors::UplineError::*;
use upline::instructions::{AttestNodeArgs, ModelArgs, OracleCapArgs};
use upline::math::{Ppm, Wad};
use upline::state::{CommissionTier, Network, RewardTables, Service};
use upline_sdk::ix::{self, RentalParties, TokenDestination, TokenLedgerSpec};
use upline_sdk::pda;
use upline_tests::attack::{
    account, checked, cosplay_library, field, payer, signer, token, Case, Field, Harness, Kind, Ty,
};
use upline_tests::reports::{bandwidth, compute, hash32, model, usage};
use upline_tests::tokens::TOKEN;
use upline_tests::{Chain, TestNetwork};

/// A network and its twin (same preset, same member wallets and links), and
/// the map from each account of one to the same role in the other.
struct Pair {
    net: TestNetwork,
    twin: TestNetwork,
    /// Wallets by name, members of both.
    wallets: HashMap<&'static str, Keypair>,
}

/// `members`: (name, class, referrer name).
async fn pair(
    chain: &mut Chain,
    preset: &str,
    members: &[(&'static str, &str, Option<&str>)],
) -> Pair {
    let net = TestNetwork::from_preset(chain, preset).await;
    let twin = TestNetwork::from_preset(chain, preset).await;
    let p = upline_sdk::preset::Preset::builtin(preset).expect("preset");
    let mut wallets: HashMap<&'static str, Keypair> = HashMap::new();
    for (name, class, referrer) in members {
        let wallet = chain.wallet().await;
        let class = p.class_index(class).expect("class");
        for n in [&net, &twin] {
            let upline = match referrer {
                Some(r) => {
                    let referrer = n.member(&wallets[r].pubkey());
                    n.link_chain(chain, &referrer).await
                }
                None => vec![],
            };
            n.join_wallet(chain, &wallet, class, &upline).await;
        }
        wallets.insert(name, wallet);
    }
    Pair { net, twin, wallets }
}

impl Pair {
    fn wallet(&self, name: &str) -> Pubkey {
        self.wallets[name].pubkey()
    }

    /// The member account of `name` (its only membership) in the network.
    fn member(&self, name: &str) -> Pubkey {
        self.net.member(&self.wallet(name))
    }

    /// Each account of the network mapped to its role in the twin.
    fn twins(&self, models: &[&str], devices: &[(&str, &str)]) -> HashMap<Pubkey, Pubkey> {
        let (a, b) = (&self.net, &self.twin);
        let mut map = vec![
            (a.key, b.key),
            (pda::reward_tables(&a.key), pda::reward_tables(&b.key)),
            (
                pda::oracle(&a.key, &a.oracle.pubkey()),
                pda::oracle(&b.key, &b.oracle.pubkey()),
            ),
        ];
        for (la, lb) in a.ledgers.iter().zip(&b.ledgers) {
            map.push((la.address, lb.address));
            if let (Some(ma), Some(mb)) = (&la.mint, &lb.mint) {
                map.push((pda::vault(&la.address), pda::vault(&lb.address)));
                map.push((ma.address, mb.address));
            }
        }
        for wallet in self.wallets.values() {
            map.push((a.member(&wallet.pubkey()), b.member(&wallet.pubkey())));
        }
        for name in models {
            map.push((
                pda::model(&a.key, &model(name)),
                pda::model(&b.key, &model(name)),
            ));
        }
        for (fingerprint, subnet) in devices {
            map.push((
                pda::device(&a.key, &hash32(fingerprint)),
                pda::device(&b.key, &hash32(fingerprint)),
            ));
            map.push((
                pda::subnet(&a.key, &hash32(subnet)),
                pda::subnet(&b.key, &hash32(subnet)),
            ));
        }
        map.into_iter().collect()
    }
}

/// The seeds constraint of a PDA (an `init` account, or an `UncheckedAccount`
/// with `seeds`) derived from the field in question.
fn seeds() -> anchor_lang::error::ErrorCode {
    anchor_lang::error::ErrorCode::ConstraintSeeds
}

/// The token account constraint `token::authority = funder`.
fn token_owner() -> anchor_lang::error::ErrorCode {
    anchor_lang::error::ErrorCode::ConstraintTokenOwner
}

/// `admin` and a network with `has_one = admin @ NotAdmin`: every admin
/// instruction without other accounts.
fn admin_fields() -> Vec<Field> {
    vec![
        signer("admin", NotAdmin),
        account("network", Kind::Network, NotAdmin),
    ]
}

/// `admin`, a payer and a network whose `init` account is seeded by the
/// network's address: a wrong network fails those seeds, which Anchor checks
/// (creating `init` accounts) before the network's own `has_one = admin`.
fn admin_init_fields(init: &'static str) -> Vec<Field> {
    vec![
        signer("admin", NotAdmin),
        payer("payer"),
        account("network", Kind::Network, seeds()),
        field(init, Ty::Init),
        field("system_program", Ty::Program),
    ]
}

/// `OracleContext`, first in every report and attestation: the oracle signs,
/// the program checks its registration (`NotOracle`), and the reward tables'
/// `has_one = network @ InvalidTables` catches a wrong network (the composite's
/// constraints run before the outer fields').
fn oracle_fields() -> Vec<Field> {
    vec![
        signer("oracle_authority", NotOracle),
        checked("oracle", NotOracle),
        account("network", Kind::Network, InvalidTables),
        account("reward_tables", Kind::RewardTables, InvalidTables),
    ]
}

/// Levels 1-3 of a report's upline, loaded and matched by the program.
fn upline_fields() -> Vec<Field> {
    vec![
        checked("upline1", UplineMismatch),
        checked("upline2", UplineMismatch),
        checked("upline3", UplineMismatch),
    ]
}

/// A co-signing oracle after the event CPI's accounts: its key (a signer
/// the program checks) and its registration, loaded by the program.
fn co_signer_fields() -> Vec<Field> {
    vec![
        field("co_signer", Ty::CoSigner),
        checked("co_signer_oracle", NotOracle),
    ]
}

fn with(mut fields: Vec<Field>, more: Vec<Field>) -> Vec<Field> {
    fields.extend(more);
    fields
}

/// A member of the same network as the referrer of a link: it loads, and the
/// levels passed above it do not match its stored links.
fn referrer_field() -> Field {
    checked("referrer", UnknownReferrer).member(UplineMismatch)
}

/// The linking member's own account as its referrer.
const SELF: &str = "the member's own membership as referrer loads, and its wallet is the signer's: a self-referral";

#[tokio::test]
async fn cxmpute_instructions_refuse_every_tampered_account() {
    let mut chain = Chain::start().await;
    let members = [
        ("p0", "provider", None),
        ("p1", "provider", Some("p0")),
        ("p2", "provider", Some("p1")),
        ("lone", "provider", None),
        ("u0", "user", None),
        ("u1", "user", Some("u0")),
    ];
    let pair = pair(&mut chain, "cxmpute", &members).await;
    let (net, admin, oracle) = (
        &pair.net,
        pair.net.admin.insecure_clone(),
        pair.net.oracle.insecure_clone(),
    );
    pair.net
        .attest_provider(&mut chain, &pair.wallet("p2"), 24)
        .await;
    pair.twin
        .attest_provider(&mut chain, &pair.wallet("p2"), 24)
        .await;
    let twins = pair.twins(&["llama3-70b", "gemma-2b"], &[]);
    let cosplay = cosplay_library(&mut chain).await;
    let mut harness = Harness::new(&mut chain, twins, cosplay).await;
    let state: Network = chain.account(&net.key).await;
    let tables: RewardTables = chain.account(&pda::reward_tables(&net.key)).await;
    let newcomer = chain.wallet().await;
    let funder = chain.wallet().await;
    let cxpt = net.ledgers[0].mint();
    let cxpt = upline_tests::tokens::TestMint {
        address: cxpt.address,
        token_program: cxpt.token_program,
        decimals: cxpt.decimals,
        authority: cxpt.authority.insecure_clone(),
    };
    let source = chain.token_account(&cxpt, &funder.pubkey()).await;
    chain.mint_to(&cxpt, &source, 10_000_000_000).await;
    let p2 = pair.wallets["p2"].insecure_clone();
    let p2_tokens = chain.token_account(&cxpt, &p2.pubkey()).await;
    let new_oracle = chain.wallet().await;
    let new_admin = chain.wallet().await;
    let extra_mint = chain.create_mint(TOKEN, 6).await;
    let upline = |names: &[&str]| names.iter().map(|n| pair.member(n)).collect::<Vec<_>>();
    let model_args = |complexity: u64| ModelArgs {
        name: model("mixtral-test"),
        complexity: Ppm(complexity),
        min_tier: 1,
    };
    let mut compute_args = compute(1, Service::Chat, 1_000, 5_000);
    compute_args.id = 1;

    let cases = vec![
        Case::new(
            "update_tables",
            ix::update_tables(&admin.pubkey(), &net.key, state.tables),
            &[&admin],
            admin_fields(),
        ),
        Case::new(
            "set_reward_tables",
            ix::set_reward_tables(&admin.pubkey(), &net.key, tables.data),
            &[&admin],
            with(
                admin_fields(),
                vec![account("reward_tables", Kind::RewardTables, InvalidTables)],
            ),
        ),
        Case::new(
            "register_model",
            ix::register_model(
                &admin.pubkey(),
                &admin.pubkey(),
                &net.key,
                model_args(2_000_000),
            ),
            &[&admin],
            admin_init_fields("model"),
        ),
        Case::new(
            "update_model",
            ix::update_model(&admin.pubkey(), &net.key, model_args(2_500_000)),
            &[&admin],
            with(
                admin_fields(),
                vec![account("model", Kind::Model, InvalidModel)],
            ),
        ),
        Case::new(
            "add_oracle",
            ix::add_oracle(
                &admin.pubkey(),
                &admin.pubkey(),
                &net.key,
                &new_oracle.pubkey(),
            ),
            &[&admin],
            admin_init_fields("oracle"),
        ),
        Case::new(
            "remove_oracle",
            ix::remove_oracle(&admin.pubkey(), &net.key, &new_oracle.pubkey()),
            &[&admin],
            with(
                admin_fields(),
                vec![account("oracle", Kind::Oracle, NotOracle)],
            ),
        ),
        Case::new(
            "join",
            ix::join(
                &newcomer.pubkey(),
                &newcomer.pubkey(),
                &net.key,
                1,
                &upline(&["p2", "p1", "p0"]),
            ),
            &[&newcomer],
            // The member PDA is seeded by the network, the wallet and the
            // class, so another signing wallet or another network fails its
            // seeds. The new member's own address as referrer holds nothing
            // yet (`UnknownReferrer`).
            vec![
                signer("wallet", seeds()),
                payer("payer"),
                account("network", Kind::Network, seeds()),
                field("member", Ty::Seeded),
                referrer_field(),
                checked("upline2", UplineMismatch),
                checked("upline3", UplineMismatch),
                field("system_program", Ty::Program),
            ],
        ),
        Case::new(
            "set_referrer",
            ix::set_referrer(
                &pair.wallet("lone"),
                &net.key,
                1,
                &upline(&["p2", "p1", "p0"]),
            ),
            &[&pair.wallets["lone"]],
            // The member is loaded by hand: an account that is not a member
            // of this network, or not the signing wallet's, is `UnknownMember`.
            vec![
                signer("wallet", UnknownMember),
                account("network", Kind::Network, UnknownMember),
                checked("member", UnknownMember),
                referrer_field(),
                checked("upline2", UplineMismatch),
                checked("upline3", UplineMismatch),
            ],
        )
        .except(
            "referrer",
            "replaced by the account at member",
            SelfReferral,
            SELF,
        ),
        Case::new(
            "set_member_tier",
            ix::set_member_tier(
                &admin.pubkey(),
                &net.key,
                &pair.member("p1"),
                CommissionTier::Premium,
            ),
            &[&admin],
            with(admin_fields(), vec![checked("member", UnknownMember)]),
        ),
        Case::new(
            "open_promotion",
            ix::open_promotion(&admin.pubkey(), &net.key, Ppm(500_000), 0, i64::MAX),
            &[&admin],
            admin_fields(),
        ),
        Case::new(
            "close_promotion",
            ix::close_promotion(&admin.pubkey(), &net.key),
            &[&admin],
            admin_fields(),
        ),
        Case::new(
            "attest_provider",
            ix::attest_provider(&oracle.pubkey(), &net.key, &pair.member("p1"), 8_192),
            &[&oracle],
            with(oracle_fields(), vec![checked("member", UnknownMember)]),
        ),
        Case::new(
            "report_compute",
            net.compute_ix(&mut chain, &pair.wallet("p2"), "llama3-70b", compute_args)
                .await,
            &[&oracle],
            with(
                oracle_fields(),
                with(
                    vec![
                        checked("provider", UnknownMember),
                        account("model", Kind::Model, InvalidModel),
                    ],
                    upline_fields(),
                ),
            ),
        )
        // Another provider in p2's place loads, and its own tier is checked
        // before its links: p1 is attested at 8 GiB (Blue Surge, below the
        // model's Mariana Depth), p0 not at all.
        .except(
            "provider",
            "replaced by the account at upline1",
            TierTooLow,
            "p1's tier is below llama3-70b's minimum",
        )
        .except(
            "provider",
            "replaced by the account at upline2",
            UnattestedProvider,
            "p0 has no attested device",
        ),
        Case::new(
            "report_usage",
            net.usage_ix(
                &mut chain,
                &pair.wallet("u1"),
                usage(1, upline::state::Endpoint::Chat, 1_000),
            )
            .await,
            &[&oracle],
            with(
                oracle_fields(),
                with(
                    vec![checked("user", UnknownMember).member(UplineMismatch)],
                    upline_fields(),
                ),
            ),
        ),
        Case::new(
            "fund_vault",
            ix::fund_vault(
                &funder.pubkey(),
                &net.key,
                0,
                &cxpt.address,
                &source,
                &cxpt.token_program,
                5_000_000_000,
            ),
            &[&funder],
            // The ledger's `has_one = network`, and the mint's, vault's and
            // token program's `address = ledger.…`, are all `WrongLedger`.
            vec![
                signer("funder", token_owner()),
                account("network", Kind::Network, WrongLedger),
                account("ledger", Kind::Ledger, WrongLedger),
                token("mint", Kind::Mint, WrongLedger),
                token("vault", Kind::TokenAccount, WrongLedger),
                token("source", Kind::TokenAccount, token_owner()),
                field("token_program", Ty::Program),
            ],
        ),
        Case::new(
            "add_points_ledger",
            ix::add_points_ledger(&admin.pubkey(), &admin.pubkey(), &net.key, 2, "EXTRA"),
            &[&admin],
            admin_init_fields("ledger"),
        ),
        Case::new(
            "add_token_ledger",
            ix::add_token_ledger(
                &admin.pubkey(),
                &admin.pubkey(),
                &net.key,
                3,
                &TokenLedgerSpec {
                    name: "EXTRA2".into(),
                    mint: extra_mint.address,
                    token_program: TOKEN,
                    min_withdrawal: 1,
                    circuit_breaker: None,
                    allow_freeze_authority: false,
                },
            ),
            &[&admin],
            {
                let mut fields = admin_init_fields("ledger");
                fields.pop();
                fields.extend([
                    // Any mint the admin chooses is acceptable.
                    field(
                        "mint",
                        Ty::Token {
                            kind: Kind::Mint,
                            wrong: None,
                        },
                    ),
                    field("vault", Ty::Init),
                    field("token_program", Ty::Program),
                    field("system_program", Ty::Program),
                ]);
                fields
            },
        ),
        Case::new(
            "update_ledger",
            ix::update_ledger(&admin.pubkey(), &net.key, 0, 1, None),
            &[&admin],
            with(
                admin_fields(),
                vec![account("ledger", Kind::Ledger, WrongLedger)],
            ),
        ),
        Case::new(
            "open_member_ledgers",
            ix::open_member_ledgers(&admin.pubkey(), &net.key, &pair.member("p0")),
            &[&admin],
            vec![
                payer("payer"),
                account("network", Kind::Network, UnknownMember),
                account("member", Kind::Member, UnknownMember),
                field("system_program", Ty::Program),
            ],
        ),
        Case::new(
            "set_paused",
            ix::set_paused(&admin.pubkey(), &net.key, true),
            &[&admin],
            admin_fields(),
        ),
        Case::new(
            "set_paused (resume)",
            ix::set_paused(&admin.pubkey(), &net.key, false),
            &[&admin],
            admin_fields(),
        ),
        Case::new(
            "propose_admin",
            ix::propose_admin(&admin.pubkey(), &net.key, &new_admin.pubkey()),
            &[&admin],
            admin_fields(),
        ),
        Case::new(
            "accept_admin",
            ix::accept_admin(&new_admin.pubkey(), &net.key),
            &[&new_admin],
            vec![
                signer("pending_admin", NotPendingAdmin),
                account("network", Kind::Network, NotPendingAdmin),
            ],
        ),
        Case::new(
            "create_network",
            ix::create_network(
                &newcomer.pubkey(),
                &pda::network_name("attacked").expect("name"),
                &newcomer.pubkey(),
                state.tables,
            ),
            &[&newcomer],
            // The network PDA is seeded by the creator.
            vec![
                signer("creator", seeds()),
                field("network", Ty::Init),
                field("reward_tables", Ty::Init),
                field("system_program", Ty::Program),
            ],
        ),
    ];
    for case in &cases {
        harness.attack(&mut chain, case).await;
    }

    // A withdrawal of what the report paid p2 (0.375 CXPT: above the minimum once lowered to 1 base unit).
    let to = TokenDestination {
        mint: cxpt.address,
        destination: p2_tokens,
        token_program: cxpt.token_program,
    };
    let withdraw = Case::new(
        "withdraw",
        ix::withdraw(&p2.pubkey(), &net.key, 1, 0, Some(&to), Some(100_000_000)),
        &[&p2],
        // The ledger's `has_one = network`, and the mint's, vault's and token
        // program's `address = ledger.…`, are `WrongLedger`; the member is
        // loaded by hand: not a member of this network, or not the signing
        // wallet's, is `UnknownMember`.
        vec![
            signer("wallet", UnknownMember),
            account("network", Kind::Network, WrongLedger),
            account("ledger", Kind::Ledger, WrongLedger),
            checked("member", UnknownMember),
            token("mint", Kind::Mint, WrongLedger),
            token("vault", Kind::TokenAccount, WrongLedger),
            token("destination", Kind::TokenAccount, WrongDestination),
            field("token_program", Ty::Program),
        ],
    );
    harness.attack(&mut chain, &withdraw).await;

    // A quorum of 2 and a report co-signed by a second oracle (registered in
    // the twin too, for its registration's twin), caps and freezes.
    let co = chain.wallet().await;
    // `accept_admin` above handed the network to `new_admin`.
    let admin = new_admin;
    for (n, admin) in [(&pair.net, &admin), (&pair.twin, &pair.twin.admin)] {
        let key = admin.pubkey();
        let add = ix::add_oracle(&key, &key, &n.key, &co.pubkey());
        chain.send(&[add], &[admin]).await.expect("add co-signer");
    }
    harness.twins.insert(
        pda::oracle(&net.key, &co.pubkey()),
        pda::oracle(&pair.twin.key, &co.pubkey()),
    );
    let report = net
        .usage_ix(
            &mut chain,
            &pair.wallet("u1"),
            usage(2, upline::state::Endpoint::Chat, 1_000),
        )
        .await;
    let cap = OracleCapArgs {
        ledger: 0,
        limit: Wad::from_decimal_str("1000").expect("limit"),
        window_seconds: 3_600,
    };
    let frozen =
        |frozen| ix::set_member_frozen(&admin.pubkey(), &net.key, &pair.member("u0"), frozen);
    let cases = vec![
        Case::new(
            "set_oracle_quorum",
            ix::set_oracle_quorum(&admin.pubkey(), &net.key, 2),
            &[&admin],
            admin_fields(),
        ),
        Case::new(
            "report_usage (co-signed)",
            ix::with_co_signers(report, &net.key, &[co.pubkey()]),
            &[&oracle, &co],
            with(
                oracle_fields(),
                with(
                    vec![checked("user", UnknownMember).member(UplineMismatch)],
                    upline_fields(),
                ),
            ),
        )
        .remaining(co_signer_fields()),
        Case::new(
            "set_oracle_cap",
            ix::set_oracle_cap(&admin.pubkey(), &net.key, &co.pubkey(), cap),
            &[&admin],
            with(
                admin_fields(),
                // Loaded by hand: anything but this network's oracle is `NotOracle`.
                vec![checked("oracle", NotOracle)],
            ),
        ),
        Case::new(
            "set_member_frozen",
            frozen(true),
            &[&admin],
            with(admin_fields(), vec![checked("member", UnknownMember)]),
        ),
        Case::new(
            "set_member_frozen (thaw)",
            frozen(false),
            &[&admin],
            with(admin_fields(), vec![checked("member", UnknownMember)]),
        ),
    ];
    for case in &cases {
        harness.attack(&mut chain, case).await;
    }
    let attempts = harness.finish("cxmpute");
    assert!(attempts > 1_000, "{attempts} attempts");
}

#[tokio::test]
async fn clore_and_aether_reports_refuse_every_tampered_account() {
    let mut chain = Chain::start().await;
    let cosplay = cosplay_library(&mut chain).await;
    let clore = pair(
        &mut chain,
        "clore",
        &[
            ("r0", "account", None),
            ("r1", "account", Some("r0")),
            ("h0", "account", None),
            ("h1", "account", Some("h0")),
        ],
    )
    .await;
    let parties = RentalParties {
        renter: clore.member("r1"),
        host: clore.member("h1"),
        renter_referrer: Some(clore.member("r0")),
        host_referrer: Some(clore.member("h0")),
    };
    let rental = upline::instructions::RentalReportArgs {
        id: 1,
        work_time: chain.now,
        ledger: 0,
        renter_base_fee: 500_000_000,
        renter_extra_fee: 0,
        host_base_fee: 500_000_000,
        host_extra_fee: 0,
    };
    let oracle = clore.net.oracle.insecure_clone();
    let mut harness = Harness::new(&mut chain, clore.twins(&[], &[]), cosplay.clone()).await;
    let report_rental = Case::new(
        "report_rental",
        ix::report_rental(&oracle.pubkey(), &clore.net.key, &parties, rental),
        &[&oracle],
        with(
            oracle_fields(),
            vec![
                // `constraint = ledger.network == oracle.network @ WrongLedger`.
                account("ledger", Kind::Ledger, WrongLedger),
                checked("renter", UnknownMember).member(UplineMismatch),
                checked("host", UnknownMember).member(UplineMismatch),
                checked("renter_referrer", UplineMismatch),
                checked("host_referrer", UplineMismatch),
            ],
        ),
    );
    harness.attack(&mut chain, &report_rental).await;

    let aether = pair(
        &mut chain,
        "aether",
        &[
            ("n0", "node", None),
            ("n1", "node", Some("n0")),
            ("n2", "node", None),
        ],
    )
    .await;
    let oracle = aether.net.oracle.insecure_clone();
    for n in [&aether.net, &aether.twin] {
        let ix = n.attest_node_ix(&aether.wallet("n1"), "dev-1", "subnet-1");
        n.as_oracle(&mut chain, &[ix]).await.expect("attest");
    }
    harness.twins = aether.twins(&[], &[("dev-1", "subnet-1"), ("dev-2", "subnet-2")]);
    let attest = ix::attest_node(
        &oracle.pubkey(),
        &oracle.pubkey(),
        &aether.net.key,
        &aether.member("n2"),
        AttestNodeArgs {
            fingerprint: hash32("dev-2"),
            subnet: hash32("subnet-2"),
        },
    );
    let report = aether
        .net
        .bandwidth_ix(
            &mut chain,
            &aether.wallet("n1"),
            Some(("dev-1", "subnet-1")),
            bandwidth(1, 1_000_000_000, 1_000_000, 1_000_000, 1_000_000),
        )
        .await;
    let cases = vec![
        Case::new(
            "attest_node",
            attest,
            &[&oracle],
            with(
                oracle_fields(),
                vec![
                    payer("payer"),
                    checked("member", UnknownMember),
                    // Both PDAs are seeded by the network and the hashes.
                    field("device", Ty::Seeded),
                    field("subnet", Ty::Seeded),
                    field("system_program", Ty::Program),
                ],
            ),
        ),
        Case::new(
            "report_bandwidth",
            report,
            &[&oracle],
            with(
                oracle_fields(),
                vec![
                    // Another node of the network is loaded, then its device is
                    // not this one's.
                    checked("node", UnknownMember).member(UnattestedNode),
                    // The device and subnet are loaded by hand after the node
                    // (§8: UnknownMember before UnattestedNode): anything but
                    // the node's own device and its subnet is `UnattestedNode`.
                    checked("device", UnattestedNode),
                    checked("subnet", UnattestedNode),
                    checked("referrer", UplineMismatch),
                ],
            ),
        ),
        Case::new(
            "deregister_device",
            ix::deregister_device(
                &aether.net.admin.pubkey(),
                &aether.net.key,
                &aether.member("n1"),
                (&hash32("dev-1"), &hash32("subnet-1")),
            ),
            &[&aether.net.admin],
            vec![
                signer("admin", NotAdmin),
                account("network", Kind::Network, NotAdmin),
                checked("member", UnknownMember),
                // Loaded by hand after the member: anything but its own device
                // and that device's subnet is `UnattestedNode`.
                checked("device", UnattestedNode),
                checked("subnet", UnattestedNode),
            ],
        ),
    ];
    for case in &cases {
        harness.attack(&mut chain, case).await;
    }
    harness.finish("clore and aether");
}
