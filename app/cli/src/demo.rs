//! `upline demo`: every example of the three source documents, run on the
//! sandbox from individual reports, each figure shown next to the one the
//! document states.

use crate::scenario::{
    Bandwidth, Compute, MemberEntry, Op, Promotion, Rental, Scenario, Step, Usage, DEFAULT_START,
};
use crate::tables::table;
use serde_json::Value;

/// Which total of a member's ledger a figure reads.
#[derive(Clone, Copy, Debug)]
pub enum Field {
    Own,
    Level1,
    Level2,
    Level3,
    Bonus,
    /// level1 + level2 + level3.
    Referral,
}

/// A figure a document prints and where the run should show it.
#[derive(Clone, Debug)]
pub struct Figure {
    /// What the document says, briefly.
    pub label: &'static str,
    pub member: String,
    pub ledger: &'static str,
    pub field: Field,
    /// The document's figure.
    pub expected: &'static str,
}

/// One demo scenario.
pub struct DemoScenario {
    pub title: &'static str,
    pub scenario: Scenario,
    pub figures: Vec<Figure>,
}

fn member(name: &str, class: &str, referrer: Option<&str>) -> MemberEntry {
    MemberEntry {
        name: name.into(),
        class: class.into(),
        referrer: referrer.map(Into::into),
        vram_gb: None,
        fingerprint: None,
        subnet: None,
        tier: None,
    }
}

fn provider(name: &str, vram_gb: u32, referrer: Option<&str>) -> MemberEntry {
    MemberEntry {
        vram_gb: Some(vram_gb),
        ..member(name, "provider", referrer)
    }
}

fn node(name: &str, subnet: &str, referrer: &str) -> MemberEntry {
    MemberEntry {
        fingerprint: Some(name.into()),
        subnet: Some(subnet.into()),
        ..member(name, "node", Some(referrer))
    }
}

fn step(at: i64, op: Op) -> Step {
    Step { at, op }
}

fn compute(id: u64, provider: &str, service: &str, model: &str, tokens: u64) -> Op {
    Op::Compute(Compute {
        id,
        provider: provider.into(),
        service: service.into(),
        model: model.into(),
        tokens,
        latency_ms: 5_000,
    })
}

fn usage(id: u64, user: &str, tokens: u64) -> Op {
    Op::Usage(Usage {
        id,
        user: user.into(),
        endpoint: "chat".into(),
        tokens,
    })
}

fn rental(id: u64, renter: &str, host: &str) -> Op {
    Op::Rental(Rental {
        id,
        currency: "CLORE".into(),
        renter: renter.into(),
        host: host.into(),
        renter_base_fee: "5".into(),
        renter_extra_fee: "0".into(),
        host_base_fee: "5".into(),
        host_extra_fee: "0".into(),
    })
}

fn bandwidth(id: u64, node: &str) -> Op {
    Op::Bandwidth(Bandwidth {
        id,
        node: node.into(),
        bytes: 1_000_000_000,
        quality: "1".into(),
        stability: "1".into(),
        demand: "1".into(),
        suppressed: false,
    })
}

fn figure(
    label: &'static str,
    member: &str,
    ledger: &'static str,
    field: Field,
    expected: &'static str,
) -> Figure {
    Figure {
        label,
        member: member.into(),
        ledger,
        field,
        expected,
    }
}

fn scenario(preset: &str, members: Vec<MemberEntry>, steps: Vec<Step>) -> Scenario {
    Scenario {
        preset: preset.into(),
        start: DEFAULT_START,
        members,
        steps,
    }
}

/// Cxmpute's per-request examples, the commission chain, usage points and bonuses.
fn cxmpute_requests() -> DemoScenario {
    let members = vec![
        provider("mariana", 24, None),
        provider("blue", 8, None),
        provider("ocean", 16, None),
        provider("p0", 24, None),
        provider("p1", 24, Some("p0")),
        provider("p2", 24, Some("p1")),
        provider("p3", 24, Some("p2")),
        member("u0", "user", None),
        member("u1", "user", Some("u0")),
    ];
    let steps = vec![
        step(60, compute(1, "mariana", "chat", "llama3-70b", 1000)),
        step(60, compute(1, "blue", "chat", "mistral-7b", 1000)),
        step(60, compute(1, "ocean", "embeddings", "llama3-13b", 500)),
        step(120, compute(1, "p3", "chat", "llama3-70b", 1000)),
        step(180, usage(1, "u1", 1000)),
    ];
    DemoScenario {
        title: "Cxmpute: per-request rewards, three levels of commission, usage points",
        scenario: scenario("cxmpute", members, steps),
        figures: vec![
            figure(
                "Example 1: 70B on Mariana Depth, 1000 tokens",
                "mariana",
                "CXPT",
                Field::Own,
                "0.375",
            ),
            figure(
                "Example 2: 7B on Blue Surge, 1000 tokens",
                "blue",
                "CXPT",
                Field::Own,
                "0.045",
            ),
            figure(
                "Example 3: embeddings, complexity 1.5, 500 tokens",
                "ocean",
                "CXPT",
                Field::Own,
                "0.02625",
            ),
            figure(
                "You earn 10% as primary referrer",
                "p2",
                "CXPT",
                Field::Level1,
                "0.0375",
            ),
            figure(
                "Your referrer earns 5% as secondary",
                "p1",
                "CXPT",
                Field::Level2,
                "0.01875",
            ),
            figure(
                "Their referrer earns 2.5% as tertiary",
                "p0",
                "CXPT",
                Field::Level3,
                "0.009375",
            ),
            figure(
                "A 1000-token chat completion",
                "u1",
                "POINTS",
                Field::Own,
                "2",
            ),
            figure(
                "Direct bonus: provider ID used as referral",
                "p0",
                "POINTS",
                Field::Bonus,
                "50",
            ),
            figure(
                "Direct bonus: user ID used as referral",
                "u0",
                "POINTS",
                Field::Bonus,
                "25",
            ),
        ],
    }
}

/// Referral network example 1: 5 / 15 / 30 developers with 100 / 50 / 25 points a month.
fn cxmpute_user_network() -> DemoScenario {
    let mut members = vec![member("you", "user", None)];
    let mut steps = Vec::new();
    let work = |name: &str, points: u64, steps: &mut Vec<Step>| {
        for id in 1..=points / 2 {
            steps.push(step(3_600, usage(id, name, 1000)));
        }
        if points % 2 == 1 {
            steps.push(step(3_600, usage(points / 2 + 1, name, 0)));
        }
    };
    for a in 0..5 {
        let l1 = format!("dev{a}");
        members.push(member(&l1, "user", Some("you")));
        work(&l1, 100, &mut steps);
        for b in 0..3 {
            let l2 = format!("dev{a}.{b}");
            members.push(member(&l2, "user", Some(&l1)));
            work(&l2, 50, &mut steps);
            for c in 0..2 {
                let l3 = format!("dev{a}.{b}.{c}");
                members.push(member(&l3, "user", Some(&l2)));
                work(&l3, 25, &mut steps);
            }
        }
    }
    DemoScenario {
        title: "Cxmpute: active developer network (1,015 usage reports)",
        scenario: scenario("cxmpute", members, steps),
        figures: vec![
            figure(
                "Direct referrals: 15% × (5 × 100)",
                "you",
                "POINTS",
                Field::Level1,
                "75",
            ),
            figure(
                "Secondary referrals: 8% × (15 × 50)",
                "you",
                "POINTS",
                Field::Level2,
                "60",
            ),
            figure(
                "Tertiary referrals: 4% × (30 × 25)",
                "you",
                "POINTS",
                Field::Level3,
                "30",
            ),
            figure(
                "Total: 165 points/month passive income",
                "you",
                "POINTS",
                Field::Referral,
                "165",
            ),
        ],
    }
}

/// Referral network example 2: 3 / 6 / 6 Mariana Depth providers with 1000 / 500 / 300 requests.
fn cxmpute_provider_network() -> DemoScenario {
    let mut members = vec![provider("you", 24, None)];
    let mut steps = Vec::new();
    let work = |name: &str, requests: u64, steps: &mut Vec<Step>| {
        for id in 1..=requests {
            steps.push(step(3_600, compute(id, name, "chat", "llama3-70b", 1000)));
        }
    };
    for a in 0..3 {
        let l1 = format!("gpu{a}");
        members.push(provider(&l1, 24, Some("you")));
        work(&l1, 1000, &mut steps);
        for b in 0..2 {
            let l2 = format!("gpu{a}.{b}");
            let l3 = format!("gpu{a}.{b}.0");
            members.push(provider(&l2, 24, Some(&l1)));
            members.push(provider(&l3, 24, Some(&l2)));
            work(&l2, 500, &mut steps);
            work(&l3, 300, &mut steps);
        }
    }
    DemoScenario {
        title: "Cxmpute: high-end provider network (7,800 compute reports)",
        scenario: scenario("cxmpute", members, steps),
        figures: vec![
            figure(
                "Direct referrals: 10% × (3 × 375)",
                "you",
                "CXPT",
                Field::Level1,
                "112.5",
            ),
            figure(
                "Secondary referrals: 5% × (6 × 187.5)",
                "you",
                "CXPT",
                Field::Level2,
                "56.25",
            ),
            figure(
                "Tertiary referrals: 2.5% × (6 × 112.5)",
                "you",
                "CXPT",
                Field::Level3,
                "16.875",
            ),
            figure(
                "Total: 185.625/month passive income",
                "you",
                "CXPT",
                Field::Referral,
                "185.625",
            ),
            figure(
                "Referred provider: 1000 requests × 0.375",
                "gpu0",
                "CXPT",
                Field::Own,
                "375",
            ),
        ],
    }
}

/// Clore's rental example at the standard rate and during the 50% promotion.
fn clore_rentals() -> DemoScenario {
    let members = vec![
        member("referrer_of_renter", "account", None),
        member("referrer_of_host", "account", None),
        member("referrer_of_both", "account", None),
        member("renter", "account", Some("referrer_of_renter")),
        member("host", "account", Some("referrer_of_host")),
        member("renter2", "account", Some("referrer_of_both")),
        member("host2", "account", Some("referrer_of_both")),
        member("promo_referrer_of_renter", "account", None),
        member("promo_referrer_of_host", "account", None),
        member("promo_referrer_of_both", "account", None),
        member("promo_renter", "account", Some("promo_referrer_of_renter")),
        member("promo_host", "account", Some("promo_referrer_of_host")),
        member("promo_renter2", "account", Some("promo_referrer_of_both")),
        member("promo_host2", "account", Some("promo_referrer_of_both")),
    ];
    let steps = vec![
        step(60, rental(1, "renter", "host")),
        step(60, rental(1, "renter2", "host2")),
        step(
            120,
            Op::Promotion(Promotion {
                rate: "0.5".into(),
                start: 120,
                end: 86_400,
            }),
        ),
        step(180, rental(1, "promo_renter", "promo_host")),
        step(180, rental(1, "promo_renter2", "promo_host2")),
    ];
    DemoScenario {
        title: "Clore.ai: 100 CLORE/day rental, 10% fee split 5/5",
        scenario: scenario("clore", members, steps),
        figures: vec![
            figure(
                "You referred the renter: 5 × 15%",
                "referrer_of_renter",
                "CLORE",
                Field::Level1,
                "0.75",
            ),
            figure(
                "You referred the host: 5 × 15%",
                "referrer_of_host",
                "CLORE",
                Field::Level1,
                "0.75",
            ),
            figure(
                "You referred both",
                "referrer_of_both",
                "CLORE",
                Field::Level1,
                "1.5",
            ),
            figure(
                "During promotion, the renter: 5 × 50%",
                "promo_referrer_of_renter",
                "CLORE",
                Field::Level1,
                "2.5",
            ),
            figure(
                "During promotion, the host: 5 × 50%",
                "promo_referrer_of_host",
                "CLORE",
                Field::Level1,
                "2.5",
            ),
            figure(
                "During promotion, both",
                "promo_referrer_of_both",
                "CLORE",
                Field::Level1,
                "5",
            ),
            figure(
                "The renter itself earns nothing",
                "renter",
                "CLORE",
                Field::Own,
                "0",
            ),
        ],
    }
}

/// Aether: the effective rate of an early referrer, and subnet weighting.
fn aether_bandwidth() -> DemoScenario {
    let members = vec![
        member("early", "user", None),
        node("node1", "subnet-a", "early"),
        member("shared", "user", None),
        node("node2", "subnet-b", "shared"),
        node("node3", "subnet-b", "shared"),
    ];
    let steps = vec![
        step(60, bandwidth(1, "node1")),
        step(60, bandwidth(1, "node2")),
        step(60, bandwidth(1, "node3")),
    ];
    DemoScenario {
        title: "Aether: 1 GB at Q = S = DDM = 1, reward 1 AETH per GB",
        scenario: scenario("aether", members, steps),
        figures: vec![
            figure(
                "R = ER × (B × Q × S): the node keeps its own reward",
                "node1",
                "AETH",
                Field::Own,
                "1",
            ),
            figure(
                "ER = 12% base + 3% early node + 2% early member",
                "early",
                "AETH",
                Field::Level1,
                "0.17",
            ),
            figure(
                "Shared subnet: two nodes at half weight each",
                "shared",
                "AETH",
                Field::Level1,
                "0.17",
            ),
        ],
    }
}

/// Every demo scenario, in document order.
pub fn scenarios() -> Vec<DemoScenario> {
    vec![
        cxmpute_requests(),
        cxmpute_user_network(),
        cxmpute_provider_network(),
        clore_rentals(),
        aether_bandwidth(),
    ]
}

/// The value of `figure` in a §8 result.
pub fn read(result: &Value, figure: &Figure) -> String {
    let l = &result["members"][&figure.member]["ledgers"][figure.ledger];
    let field = |name: &str| l[name].as_str().unwrap_or("?").to_string();
    match figure.field {
        Field::Own => field("own"),
        Field::Level1 => field("level1"),
        Field::Level2 => field("level2"),
        Field::Level3 => field("level3"),
        Field::Bonus => field("bonus"),
        Field::Referral => {
            let sum = ["level1", "level2", "level3"]
                .iter()
                .map(|f| {
                    upline::math::Wad::from_decimal_str(&field(f))
                        .map(|w| w.0)
                        .unwrap_or(0)
                })
                .sum::<u128>();
            upline::math::Wad(sum).to_string()
        }
    }
}

/// The figures table of one scenario and whether every figure matched.
pub fn figures_table(result: &Value, figures: &[Figure]) -> (String, bool) {
    let mut all = true;
    let rows: Vec<Vec<String>> = figures
        .iter()
        .map(|f| {
            let got = read(result, f);
            let ok = got == f.expected;
            all &= ok;
            vec![
                f.label.into(),
                f.member.clone(),
                f.ledger.into(),
                f.expected.into(),
                got,
                if ok { "yes" } else { "NO" }.into(),
            ]
        })
        .collect();
    (
        table(
            &[
                "the document says",
                "member",
                "ledger",
                "document",
                "Upline",
                "match",
            ],
            &rows,
        ),
        all,
    )
}
