//! The explorer's network and member pages (issue 16), end to end: a
//! network on `upline sandbox`, indexed and served by `upline explorer`,
//! read through the API and in headless chromium. Shareable URLs, the
//! members table sorted and kept in the address, the solvency panel against
//! the chain, the referee list with what each brought, the CSV export, and
//! the member page refreshing itself when the index grows.

mod common;
#[path = "common/pages_world.rs"]
mod pages_world;

use common::web::{http, Browser};
use pages_world::{head, token_amount, wad_of, PagesWorld};
use serde_json::{json, Value};

/// `numerator / denominator` with 4 decimals, rounded down (u128 is enough
/// for this world's amounts).
fn ratio4(numerator: u128, denominator: u128) -> String {
    let scaled = numerator * 10_000 / denominator;
    format!("{}.{:04}", scaled / 10_000, scaled % 10_000)
}

/// The API alone: solvency against the chain, the members listing's old
/// shape kept, referees, credits and the CSV, and refusals by name.
fn the_api_answers_from_the_index(w: &PagesWorld, alice: &str, bob: &str) {
    let (status, summary) = w.get(&format!("/api/networks/{}", w.network));
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["name"], "cxmpute");
    assert_eq!(summary["members"], 3);
    let cxpt = summary["solvency"]
        .as_array()
        .and_then(|s| s.iter().find(|l| l["ledger"] == "CXPT"))
        .expect("CXPT solvency")
        .clone();
    // Owed is the sum of the members' balances as the chain holds them.
    let owed: u128 = [&w.alice, &w.bob, &w.carol]
        .iter()
        .map(|wallet| w.chain_balance(wallet))
        .sum();
    assert_eq!(owed, wad_of("2.8875"));
    assert_eq!(wad_of(cxpt["owed"].as_str().expect("owed")), owed, "{cxpt}");
    assert_eq!(cxpt["funded"], "100");
    let vault = summary["ledgers"][0]["vault"]
        .as_str()
        .expect("the CXPT vault");
    let held = token_amount(&w.s.url, vault);
    assert_eq!(
        u128::from(held),
        100 * 10u128.pow(9),
        "100 CXPT of 9 decimals"
    );
    assert_eq!(cxpt["vault"], "100");
    // 100 / 2.8875 = 34.63203…: exact, rounded down.
    assert_eq!(
        cxpt["coverage"],
        ratio4(u128::from(held) * 10u128.pow(9), owed)
    );
    assert_eq!(cxpt["coverage"], "34.6320");
    assert_eq!(cxpt["covered"], true);
    let points = summary["solvency"][1].clone();
    assert_eq!(
        (points["vault"].clone(), points["coverage"].clone()),
        (Value::Null, json!("n/a"))
    );

    // The listing keeps its fields and adds totals; sorted by referral
    // earnings, alice (who earns only commissions) leads.
    let (_, page) = w.get(&format!(
        "/api/networks/{}/members?sort=referral&per_page=2",
        w.network
    ));
    assert_eq!(
        (page["total"].clone(), page["sort"].clone()),
        (json!(3), json!("referral"))
    );
    let first = &page["members"][0];
    assert_eq!(
        (first["wallet"].as_str(), first["member"].as_str()),
        (Some(w.alice.as_str()), Some(alice))
    );
    for field in [
        "join_ordinal",
        "class",
        "referrer",
        "referrer_member",
        "downline",
        "balances",
    ] {
        assert!(first.get(field).is_some(), "{field} is kept: {first}");
    }
    assert_eq!(first["totals"]["CXPT"]["referral"], "0.2625");
    assert_eq!(
        page["members"].as_array().map(Vec::len),
        Some(2),
        "per_page"
    );
    let (_, leaders) = w.get(&format!(
        "/api/networks/{}/leaderboard?ledger=CXPT",
        w.network
    ));
    assert_eq!(
        leaders["leaders"][0]["wallet"].as_str(),
        Some(w.alice.as_str())
    );
    assert_eq!(leaders["leaders"][0]["referrals"], 2);
    assert_eq!(
        leaders["leaders"].as_array().map(Vec::len),
        Some(1),
        "only referrers"
    );

    // Bob's cards: 1.875 earned, all own work; his POINTS ledger is empty.
    let (_, card) = w.get(&format!("/api/members/{bob}"));
    let ledger = |name: &str| {
        card["ledgers"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["ledger"] == name))
            .cloned()
            .expect("ledger")
    };
    assert_eq!(ledger("CXPT")["totals"]["earned"], "1.875");
    assert_eq!(ledger("CXPT")["totals"]["referral_share"], "0.00");
    assert_eq!(ledger("CXPT")["claimable"]["amount"], "1.875");
    assert_eq!(ledger("POINTS")["empty"], true);

    // Bob's credits, newest first, paged by cursor.
    let (_, credits) = w.get(&format!("/api/members/{bob}/credits?limit=3"));
    assert_eq!(credits["credits"].as_array().map(Vec::len), Some(3));
    let next = credits["next"].as_str().expect("a next page").to_string();
    let (_, rest) = w.get(&format!("/api/members/{bob}/credits?limit=3&before={next}"));
    assert_eq!(rest["credits"].as_array().map(Vec::len), Some(2));
    assert_eq!(rest["next"], Value::Null);

    // Refusals say what to pass.
    let (status, e) = w.get(&format!("/api/networks/{}/members?sort=name", w.network));
    assert_eq!(status, 400);
    assert!(
        e["error"]
            .as_str()
            .is_some_and(|m| m.contains("join, referral, balance or downline")),
        "{e}"
    );
    let (status, e) = w.get("/api/members/not-an-account");
    assert_eq!(status, 400);
    assert!(
        e["error"]
            .as_str()
            .is_some_and(|m| m.contains("not a member account address")),
        "{e}"
    );
    let (status, _) = w.get(&format!("/api/members/{}", w.network));
    assert_eq!(status, 404, "a network is not a membership");
}

/// The credits CSV: one record per credit, exact amounts, as a download.
fn the_csv_lists_every_credit(w: &PagesWorld, bob: &str) -> String {
    let path = format!("/api/members/{bob}/credits.csv");
    let (status, csv) = http(&w.server.url, "GET", &path, None);
    assert_eq!(status, 200, "{csv}");
    let records: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        records[0],
        "time,signature,ledger,source,level,amount,origin,origin_wallet,report_kind,report_id,withheld,slot,position"
    );
    assert_eq!(records.len(), 6, "a header and 5 credits: {csv}");
    for record in &records[1..] {
        let fields: Vec<&str> = record.split(',').collect();
        assert_eq!(
            (fields[2], fields[3], fields[5], fields[6]),
            ("CXPT", "work", "0.375", bob),
            "{record}"
        );
    }
    let heads = head(&w.server.url, &path);
    assert!(heads.contains("content-type: text/csv"), "{heads}");
    assert!(
        heads.contains(&format!(
            "content-disposition: attachment; filename=\"upline-credits-cxmpute-{}.csv\"",
            w.bob.to_ascii_lowercase()
        )),
        "{heads}"
    );
    csv
}

#[test]
fn the_network_and_member_pages_show_an_indexed_network() {
    let w = PagesWorld::start("explorer-pages");
    let alice = w.member_of(&w.alice);
    let bob = w.member_of(&w.bob);
    let carol = w.member_of(&w.carol);
    the_api_answers_from_the_index(&w, &alice, &bob);
    let csv = the_csv_lists_every_credit(&w, &bob);

    let Some(browser) = Browser::start() else {
        return;
    };
    browser.resize(1280, 1000);
    let base = &w.server.url;

    // Shareable URL: the dashboard opens a wallet from its address, and
    // links its membership to the member page.
    browser.open(&format!("{base}/?wallet={}", w.bob));
    let cxpt = r#".membership[data-network-name="cxmpute"] table[data-ledger="CXPT"]"#;
    assert_eq!(
        browser.text(&format!(r#"{cxpt} td[data-field="work"]"#)),
        "1.875"
    );
    assert_eq!(
        browser
            .attribute(".membership a.member-page", "href")
            .as_deref(),
        Some(format!("/members/{bob}").as_str())
    );
    browser.text("#networks a.network-page");
    assert_eq!(
        browser
            .attribute("#networks a.network-page", "href")
            .as_deref(),
        Some(format!("/networks/{}", w.network).as_str()),
        "the networks list links each network's page"
    );
    browser.click(".membership a.member-page");
    assert_eq!(browser.text("#member-wallet"), w.bob);

    // Bob's page: cards, the chart with today's credits, POINTS folded away,
    // his credits linked to their transactions, the CSV as a download.
    let card = |ledger: &str, name: &str| {
        format!(r#"#ledgers > section.ledger[data-ledger="{ledger}"] [data-card="{name}"] .value"#)
    };
    assert_eq!(browser.text(&card("CXPT", "earned")), "1.875");
    assert_eq!(browser.text(&card("CXPT", "claimable")), "1.875");
    assert_eq!(browser.text(&card("CXPT", "referral-share")), "0.00%");
    let today = browser.attribute(
        r#"section.ledger[data-ledger="CXPT"] svg.history rect.bar:last-of-type"#,
        "data-credited",
    );
    assert_eq!(today.as_deref(), Some("1.875"));
    assert!(
        browser.find("svg.history text.x-label").is_some(),
        "a date axis"
    );
    assert!(
        browser
            .find(r#"#ledgers > section.ledger[data-ledger="POINTS"]"#)
            .is_none(),
        "POINTS is folded"
    );
    assert!(browser.text("#empty-ledgers summary").contains("POINTS"));
    // The credits load after the cards: wait for them.
    assert_eq!(
        browser.text("#credits tbody tr[data-signature] td[data-field=\"amount\"]"),
        "0.375"
    );
    assert_eq!(
        browser.execute(
            "return document.querySelectorAll('#credits tbody tr[data-signature]').length",
            json!([])
        ),
        json!(5)
    );
    let tx = browser
        .attribute(
            "#credits tbody tr[data-signature] td[data-field=\"signature\"] a",
            "href",
        )
        .unwrap_or_default();
    assert!(tx.starts_with("https://explorer.solana.com/tx/"), "{tx}");
    assert_eq!(
        browser.attribute("#csv-export", "download").as_deref(),
        Some(format!("upline-credits-cxmpute-{}.csv", w.bob).as_str())
    );
    let fetched = browser.execute(
        "return fetch(document.getElementById('csv-export').href).then(r => r.text())",
        json!([]),
    );
    assert_eq!(
        fetched.as_str(),
        Some(csv.as_str()),
        "the page's link downloads the CSV"
    );

    let shots = std::env::temp_dir();
    browser.screenshot("body", &shots.join("upline-member-page.png"));

    // Alice's page: her referees, in join order, with what each brought.
    browser.open(&format!("{base}/members/{alice}"));
    let referee = |m: &str, field: &str| {
        format!(r#"#referees tr[data-member="{m}"] td[data-field="{field}"]"#)
    };
    assert_eq!(browser.text(&referee(&bob, "contribution-CXPT")), "0.1875");
    assert_eq!(browser.text(&referee(&carol, "contribution-CXPT")), "0.075");
    assert_eq!(
        browser
            .attribute("#referees tbody tr:first-child", "data-member")
            .as_deref(),
        Some(bob.as_str())
    );
    assert_eq!(browser.text(&card("CXPT", "referral-share")), "100.00%");
    assert_eq!(
        browser.text(
            r#"section.ledger[data-ledger="CXPT"] tr[data-level="1"] td[data-field="brought"]"#
        ),
        "0.2625"
    );
    assert_eq!(
        browser.text(
            r#"section.ledger[data-ledger="CXPT"] tr[data-level="1"] td[data-field="referees"]"#
        ),
        "2"
    );

    // The network page by its address: the solvency panel, the leaderboard,
    // and the members table sorted by a header click, kept in the address.
    browser.open(&format!("{base}/networks/{}", w.network));
    assert_eq!(browser.text("#network-name"), "cxmpute");
    let solvency =
        |field: &str| format!(r#"#solvency tr[data-ledger="CXPT"] td[data-field="{field}"]"#);
    assert_eq!(browser.text(&solvency("owed")), "2.8875");
    assert_eq!(browser.text(&solvency("vault")), "100");
    assert_eq!(browser.text(&solvency("funded")), "100");
    assert_eq!(browser.text(&solvency("coverage")), "34.6320");
    assert_eq!(browser.text(&solvency("status")), "covered");
    browser.screenshot("body", &shots.join("upline-network-page.png"));
    assert_eq!(
        browser.text(r#"#solvency tr[data-ledger="POINTS"] td[data-field="coverage"]"#),
        "n/a"
    );
    // The leaderboard and the members load after the heading: wait for them.
    browser.text("#leaderboard tbody tr[data-member]");
    browser.text("#members tbody tr[data-member]");
    assert_eq!(
        browser
            .attribute("#leaderboard tbody tr:first-child", "data-member")
            .as_deref(),
        Some(alice.as_str())
    );
    assert_eq!(
        browser
            .attribute("#members tbody tr:first-child", "data-member")
            .as_deref(),
        Some(alice.as_str()),
        "join order"
    );
    browser.click(r#"#members th[data-sort="balance"]"#);
    browser.text(r#"#members th[data-sort="balance"][aria-sort="descending"]"#);
    assert_eq!(
        browser
            .attribute("#members tbody tr:first-child", "data-member")
            .as_deref(),
        Some(bob.as_str()),
        "biggest balance first"
    );
    let shared = browser.execute("return location.href", json!([]));
    let shared = shared.as_str().expect("the page's address").to_string();
    assert!(
        shared.contains("sort=balance") && shared.contains("order=desc"),
        "{shared}"
    );
    browser.open(&shared);
    browser.text(r#"#members th[data-sort="balance"][aria-sort="descending"]"#);
    assert_eq!(
        browser
            .attribute("#members tbody tr:first-child", "data-member")
            .as_deref(),
        Some(bob.as_str()),
        "the shared view"
    );

    // Live, on the shared view (sorted by balance): four more reports of
    // carol's indexed, the page refetches by itself (no reload) and puts her
    // (0.75 + 1.5 = 2.25) above bob (1.875), still sorted by balance. (The
    // page redraws as the index grows: read it in one script, not element
    // by element.)
    browser.execute("window.notReloaded = true; return 1", json!([]));
    w.more_reports(&w.carol, 8..=11);
    browser.text_containing(&solvency("owed"), "4.5375"); // 2.8875 + 1.5 + 0.15 (alice)
    let short = format!("{}…{}", &w.carol[..4], &w.carol[w.carol.len() - 4..]);
    browser.text_containing(
        r#"#members tbody tr:first-child td[data-field="wallet"]"#,
        &short,
    );
    let view = browser.execute(
        r##"return [window.notReloaded === true, location.href,
            document.querySelector('#members th[data-sort="balance"]').getAttribute("aria-sort"),
            [...document.querySelectorAll("#members tbody tr")].map(r => r.dataset.member)]"##,
        json!([]),
    );
    assert_eq!(
        view,
        json!([true, shared, "descending", [carol, bob, alice]])
    );

    // Live on a member page too, with its referees paged by the address.
    browser.open(&format!("{base}/members/{alice}?per_page=1&page=2"));
    assert_eq!(browser.text(&referee(&carol, "contribution-CXPT")), "0.225");
    let rows =
        "return [...document.querySelectorAll('#referees tbody tr')].map(r => r.dataset.member)";
    assert_eq!(
        browser.execute(rows, json!([])),
        json!([carol]),
        "page 2, one a page"
    );
    browser.execute("window.notReloaded = true; return 1", json!([]));
    w.more_reports(&w.carol, 12..=12);
    browser.text_containing(&referee(&carol, "contribution-CXPT"), "0.2625");
    let view = browser.execute(
        r##"return [window.notReloaded === true, location.search,
            document.querySelector('#referees-box [data-field="page"]').textContent]"##,
        json!([]),
    );
    assert_eq!(view, json!([true, "?per_page=1&page=2", "page 2 of 2 (2)"]));
}
