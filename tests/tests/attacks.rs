//! Every instruction against the sealevel-attacks catalogue (see
//! `upline_tests::attack`): each is first tried with every account tampered
//! with, each attempt must fail and change nothing, then it runs as given.
//! Closing and reviving an account is tried where the program closes one
//! (`remove_oracle`); no instruction takes a sysvar account (the clock comes
//! from the syscall), so sysvar address checks have nothing to act on.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::collections::HashMap;
use upline::instructions::{AttestNodeArgs, ModelArgs};
use upline::math::Ppm;
use upline::state::{CommissionTier, Network, RewardTables, Service};
use upline_sdk::ix::{self, RentalParties, TokenDestination, TokenLedgerSpec};
use upline_sdk::pda;
use upline_tests::attack::{attack, Case, Cosplay};
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

async fn join_as(
    chain: &mut Chain,
    net: &TestNetwork,
    wallet: &Keypair,
    class: u8,
    upline: &[Pubkey],
) {
    let ix = ix::join(&wallet.pubkey(), &wallet.pubkey(), &net.key, class, upline);
    chain.send(&[ix], &[wallet]).await.expect("join");
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
                Some(r) => n.upline(chain, &wallets[r].pubkey(), 2).await,
                None => vec![],
            };
            let upline: Vec<Pubkey> = referrer
                .map(|r| wallets[r].pubkey())
                .into_iter()
                .chain(upline)
                .collect();
            join_as(chain, n, &wallet, class, &upline).await;
        }
        wallets.insert(name, wallet);
    }
    Pair { net, twin, wallets }
}

impl Pair {
    fn wallet(&self, name: &str) -> Pubkey {
        self.wallets[name].pubkey()
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
            map.push((pda::vault(&la.address), pda::vault(&lb.address)));
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

    /// One account of each kind, whose data may stand in for another kind's.
    fn cosplay(&self) -> Cosplay {
        let a = &self.net;
        let first = self.wallets.values().next().expect("a member").pubkey();
        vec![
            (a.key, "a Network's data"),
            (a.member(&first), "a Member's data"),
            (a.ledgers[0].address, "a Ledger's data"),
            (pda::reward_tables(&a.key), "a RewardTables' data"),
        ]
    }
}

fn case(
    name: &'static str,
    ix: anchor_lang::solana_program::instruction::Instruction,
    signers: &[&Keypair],
) -> Case {
    Case {
        name,
        ix,
        signers: signers.iter().map(|k| k.insecure_clone()).collect(),
    }
}

async fn run(
    chain: &mut Chain,
    cases: Vec<Case>,
    twins: &HashMap<Pubkey, Pubkey>,
    cosplay: &Cosplay,
) -> usize {
    let mut attempts = 0;
    for case in &cases {
        attempts += attack(chain, case, twins, cosplay).await;
    }
    attempts
}

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
    let cosplay = pair.cosplay();
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
    let upline = |names: &[&str]| names.iter().map(|n| pair.wallet(n)).collect::<Vec<_>>();
    let model_args = |complexity: u64| ModelArgs {
        name: model("mixtral-test"),
        complexity: Ppm(complexity),
        min_tier: 1,
    };
    let mut compute_args = compute(1, Service::Chat, 1_000, 5_000);
    compute_args.id = 1;

    let cases = vec![
        case(
            "update_tables",
            ix::update_tables(&admin.pubkey(), &net.key, state.tables),
            &[&admin],
        ),
        case(
            "set_reward_tables",
            ix::set_reward_tables(&admin.pubkey(), &net.key, tables.data),
            &[&admin],
        ),
        case(
            "register_model",
            ix::register_model(
                &admin.pubkey(),
                &admin.pubkey(),
                &net.key,
                model_args(2_000_000),
            ),
            &[&admin],
        ),
        case(
            "update_model",
            ix::update_model(&admin.pubkey(), &net.key, model_args(2_500_000)),
            &[&admin],
        ),
        case(
            "add_oracle",
            ix::add_oracle(
                &admin.pubkey(),
                &admin.pubkey(),
                &net.key,
                &new_oracle.pubkey(),
            ),
            &[&admin],
        ),
        case(
            "remove_oracle",
            ix::remove_oracle(&admin.pubkey(), &net.key, &new_oracle.pubkey()),
            &[&admin],
        ),
        case(
            "join",
            ix::join(
                &newcomer.pubkey(),
                &newcomer.pubkey(),
                &net.key,
                1,
                &upline(&["p2", "p1", "p0"]),
            ),
            &[&newcomer],
        ),
        case(
            "set_referrer",
            ix::set_referrer(&pair.wallet("lone"), &net.key, &upline(&["p2", "p1", "p0"])),
            &[&pair.wallets["lone"]],
        ),
        case(
            "set_member_tier",
            ix::set_member_tier(
                &admin.pubkey(),
                &net.key,
                &pair.wallet("p1"),
                CommissionTier::Premium,
            ),
            &[&admin],
        ),
        case(
            "open_promotion",
            ix::open_promotion(&admin.pubkey(), &net.key, Ppm(500_000), 0, i64::MAX),
            &[&admin],
        ),
        case(
            "close_promotion",
            ix::close_promotion(&admin.pubkey(), &net.key),
            &[&admin],
        ),
        case(
            "attest_provider",
            ix::attest_provider(&oracle.pubkey(), &net.key, &pair.wallet("p1"), 8_192),
            &[&oracle],
        ),
        case(
            "report_compute",
            net.compute_ix(&mut chain, &pair.wallet("p2"), "llama3-70b", compute_args)
                .await,
            &[&oracle],
        ),
        case(
            "report_usage",
            net.usage_ix(
                &mut chain,
                &pair.wallet("u1"),
                usage(1, upline::state::Endpoint::Chat, 1_000),
            )
            .await,
            &[&oracle],
        ),
        case(
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
        ),
        case(
            "add_points_ledger",
            ix::add_points_ledger(&admin.pubkey(), &admin.pubkey(), &net.key, 2, "EXTRA"),
            &[&admin],
        ),
        case(
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
                },
            ),
            &[&admin],
        ),
        case(
            "update_ledger",
            ix::update_ledger(&admin.pubkey(), &net.key, 0, 1, None),
            &[&admin],
        ),
        case(
            "open_member_ledgers",
            ix::open_member_ledgers(&admin.pubkey(), &net.key, &pair.wallet("p0")),
            &[&admin],
        ),
        case(
            "set_paused",
            ix::set_paused(&admin.pubkey(), &net.key, true),
            &[&admin],
        ),
        case(
            "set_paused (resume)",
            ix::set_paused(&admin.pubkey(), &net.key, false),
            &[&admin],
        ),
        case(
            "propose_admin",
            ix::propose_admin(&admin.pubkey(), &net.key, &new_admin.pubkey()),
            &[&admin],
        ),
        case(
            "accept_admin",
            ix::accept_admin(&new_admin.pubkey(), &net.key),
            &[&new_admin],
        ),
        case(
            "create_network",
            ix::create_network(
                &newcomer.pubkey(),
                &pda::network_name("attacked").expect("name"),
                &newcomer.pubkey(),
                state.tables,
            ),
            &[&newcomer],
        ),
    ];
    let mut attempts = run(&mut chain, cases, &twins, &cosplay).await;

    // A withdrawal of what the report paid p2 (0.375 CXPT: above the minimum once lowered to 1 base unit).
    let to = TokenDestination {
        mint: cxpt.address,
        destination: p2_tokens,
        token_program: cxpt.token_program,
    };
    let withdraw = case(
        "withdraw",
        ix::withdraw(&p2.pubkey(), &net.key, 0, Some(&to), Some(100_000_000)),
        &[&p2],
    );
    attempts += run(&mut chain, vec![withdraw], &twins, &cosplay).await;
    assert!(attempts > 400, "{attempts} attempts");
    eprintln!("cxmpute: {attempts} tampered transactions refused");
}

#[tokio::test]
async fn clore_and_aether_reports_refuse_every_tampered_account() {
    let mut chain = Chain::start().await;
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
        renter: clore.wallet("r1"),
        host: clore.wallet("h1"),
        renter_referrer: Some(clore.wallet("r0")),
        host_referrer: Some(clore.wallet("h0")),
    };
    let rental = upline::instructions::RentalReportArgs {
        id: 1,
        ledger: 0,
        renter_base_fee: 500_000_000,
        renter_extra_fee: 0,
        host_base_fee: 500_000_000,
        host_extra_fee: 0,
    };
    let oracle = clore.net.oracle.insecure_clone();
    let cases = vec![case(
        "report_rental",
        ix::report_rental(&oracle.pubkey(), &clore.net.key, &parties, rental),
        &[&oracle],
    )];
    let mut attempts = run(&mut chain, cases, &clore.twins(&[], &[]), &clore.cosplay()).await;

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
    let twins = aether.twins(&[], &[("dev-1", "subnet-1"), ("dev-2", "subnet-2")]);
    let attest = ix::attest_node(
        &oracle.pubkey(),
        &oracle.pubkey(),
        &aether.net.key,
        &aether.wallet("n2"),
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
        case("attest_node", attest, &[&oracle]),
        case("report_bandwidth", report, &[&oracle]),
    ];
    attempts += run(&mut chain, cases, &twins, &aether.cosplay()).await;
    eprintln!("clore and aether: {attempts} tampered transactions refused");
}
