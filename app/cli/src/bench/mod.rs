//! `upline bench`: what Upline costs per account, per report and per second,
//! against the goals operators choose by. A benchmark that prints figures, not
//! a test: nothing here passes or fails but the goals it reports against.

pub mod api;
mod explorer_scale;
mod layout;
pub mod node;
mod quorum;
pub mod rpc_submit;
mod speed;

use serde_json::{json, Value};
use upline_sdk::sandbox::Chain;

/// How big a run.
pub struct BenchOptions {
    /// Members of the generated network.
    pub members: usize,
    /// SPL Token transfers in the baseline.
    pub transfers: usize,
    /// Also time the document's 7,800-report provider network.
    pub provider_example: bool,
    /// Members of each generated network the explorer is measured on.
    pub explorer_members: Vec<usize>,
    /// Measure the explorer only (and the baseline it is timed against).
    pub explorer_only: bool,
}

impl BenchOptions {
    pub fn full() -> BenchOptions {
        BenchOptions {
            members: 10_000,
            transfers: 2_000,
            provider_example: true,
            explorer_members: vec![10_000, 100_000],
            explorer_only: false,
        }
    }
    pub fn quick() -> BenchOptions {
        BenchOptions {
            members: 300,
            transfers: 200,
            provider_example: false,
            explorer_members: vec![300],
            explorer_only: false,
        }
    }
}

fn goal(name: &str, target: &str, measured: Value, met: bool, note: &str) -> Value {
    json!({"goal": name, "target": target, "measured": measured, "met": met, "note": note})
}

/// The explorer's figures on each size, and its goals.
async fn explorer(
    options: &BenchOptions,
    baseline: f64,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<Value>, Vec<Value>), String> {
    let seconds = if options.provider_example { 1.5 } else { 0.3 };
    let mut sizes = Vec::new();
    for &members in &options.explorer_members {
        sizes.push(explorer_scale::run_size(members, baseline, seconds, progress).await?);
    }
    let (Some(small), Some(large)) = (sizes.first(), sizes.last()) else {
        return Ok((sizes, Vec::new()));
    };
    let share = explorer_scale::rate(large, "referral stats", 50)
        / explorer_scale::rate(large, "static page", 50).max(1.0);
    let slowdown = |endpoint: &str| {
        explorer_scale::rate(small, endpoint, 50)
            / explorer_scale::rate(large, endpoint, 50).max(1e-9)
    };
    let slowdowns = json!({
        "referral_stats": (slowdown("referral stats") * 100.0).round() / 100.0,
        "members_page": (slowdown("members page") * 100.0).round() / 100.0,
    });
    let incremental = large["incremental"]["seconds"].as_f64().unwrap_or(f64::MAX);
    let sizes_named = format!("{} and {} members", small["members"], large["members"]);
    let goals = vec![
        goal(
            &format!("explorer: referral stats at 50 clients against the static page ({} members)", large["members"]),
            ">= 30%",
            json!((share * 1000.0).round() / 1000.0),
            share >= 0.3,
            "requests/s of the same server, uncompressed (each endpoint's own work; the gzip rows show what a browser gets); a request reads the wallet's memberships and their snapshots by key, its networks decoded once per write",
        ),
        goal(
            &format!("explorer: requests/s at 50 clients, {sizes_named}"),
            "within 1.5x",
            slowdowns.clone(),
            sizes.len() > 1
                && slowdown("referral stats") <= 1.5
                && slowdown("members page") <= 1.5,
            if sizes.len() > 1 { "the smaller index's rate over the larger's" } else { "one size only: pass --explorer-members 10000,100000" },
        ),
        goal(
            &format!("explorer: one new transaction indexed and audited ({} members)", large["members"]),
            "< 1 s",
            json!(incremental),
            incremental < 1.0,
            "the index reads only the rows the new events touch; the audit resumes from its checkpoint",
        ),
    ];
    Ok((sizes, goals))
}

/// Run the benchmark; `progress` hears which part is running.
pub async fn run(options: &BenchOptions, progress: &mut dyn FnMut(&str)) -> Result<Value, String> {
    if options.explorer_only {
        progress("baseline: SPL Token transfers");
        let baseline = speed::spl_baseline(options.transfers).await?;
        let (sizes, goals) = explorer(options, baseline, progress).await?;
        return Ok(json!({"explorer": sizes, "goals": goals}));
    }
    let mut chain = Chain::start().await;
    progress("accounts");
    let accounts = layout::accounts(&mut chain).await?;
    progress("report transactions");
    let (reports, capacity) = layout::reports(&mut chain).await?;
    progress("oracle quorum");
    let quorum = quorum::quorum(&mut chain).await?;
    progress("oracle submit over JSON-RPC and in-process");
    let per_provider = if options.provider_example { 10 } else { 2 };
    let oracle_submit = rpc_submit::rpc_vs_in_process(per_provider).await?;
    progress("the oracle node against oracle submit");
    let oracle_node = if options.provider_example {
        node::node_vs_submit(100, 20).await?
    } else {
        node::node_vs_submit(40, 5).await?
    };
    progress("baseline: SPL Token transfers");
    let baseline = speed::spl_baseline(options.transfers).await?;
    let provider_example = if options.provider_example {
        progress("the 7,800-report provider network");
        speed::provider_example(baseline).await?
    } else {
        Value::Null
    };
    progress("a generated network");
    let (network, _) = speed::generated_network(options.members, baseline).await?;
    let (explorer_sizes, explorer_goals) = explorer(options, baseline, progress).await?;

    let member = accounts
        .iter()
        .find(|a| a["kind"] == "member, 1 ledger")
        .map(|a| a["bytes"].clone())
        .unwrap_or(Value::Null);
    let shared: Vec<&Value> = reports
        .iter()
        .flat_map(|r| r["network_wide_writable"].as_array().into_iter().flatten())
        .collect();
    let legacy = capacity["legacy"]["separate_uplines"].as_u64().unwrap_or(0);
    let v0_members = capacity["v0_with_members_in_lookup_table"]["separate_uplines"]
        .as_u64()
        .unwrap_or(0);
    let v0 = capacity["v0_with_lookup_table"]["separate_uplines"]
        .as_u64()
        .unwrap_or(0);
    let v0_batched = capacity["v0_batch_with_members_in_lookup_table"]["separate_uplines"]
        .as_u64()
        .unwrap_or(0);
    let seconds = network["seconds"].as_f64().unwrap_or(f64::MAX);
    let full_size = options.members >= 10_000;
    let mut goals = vec![
        goal(
            "member of a one-ledger network, 30-day history included",
            "<= 512 bytes",
            member.clone(),
            member.as_u64().is_some_and(|b| b <= 512),
            "",
        ),
        goal(
            "network-wide writable accounts in a report",
            "none",
            json!(shared.len()),
            shared.is_empty(),
            "every report writes only the members it credits and its approving oracles' own registrations (their caps)",
        ),
        goal(
            "compute reports with full uplines per legacy transaction",
            ">= 5",
            json!(legacy),
            legacy >= 5,
            "each brings four member accounts of its own; the network's accounts are shared",
        ),
        goal(
            "compute reports with full uplines per v0 transaction",
            ">= 20",
            json!({"network_accounts_in_table": v0, "members_in_tables_too": v0_members, "report_batch": v0_batched}),
            v0_batched >= 20,
            "as `oracle submit` sends them: one report_batch instruction names the oracle's accounts once, and each report costs its 4 one-byte table indexes and 31 bytes of data; as single instructions (the members in lookup tables too) each costs about 55 bytes; with only the network's accounts in a table each still carries its 4 member keys (128 bytes)",
        ),
        goal(
            "oracle submit over JSON-RPC against in-process (reports/s)",
            ">= 80%",
            json!(oracle_submit["ratio"]),
            oracle_submit["ratio"].as_f64().is_some_and(|r| r >= 0.8),
            "the same reports in the same v0 report batches; over JSON-RPC through `oracle submit`'s in-flight sender and the sandbox's endpoint on 127.0.0.1, in-process one transaction after another",
        ),
        goal(
            &format!("simulation of a {}-member network", options.members),
            "< 60 s for 10,000 members",
            json!(seconds),
            full_size && seconds < 60.0,
            if full_size {
                "wall clock on this machine and build"
            } else {
                "not a 10,000-member run: pass --members 10000"
            },
        ),
    ];
    goals.extend(explorer_goals);
    Ok(json!({
        "explorer": explorer_sizes,
        "accounts": accounts,
        "reports": reports,
        "capacity": capacity,
        "quorum": quorum,
        "oracle_submit": oracle_submit,
        "oracle_node": oracle_node,
        "throughput": {
            "baseline_seconds_per_spl_transfer": baseline,
            "provider_example": provider_example,
            "generated_network": network,
        },
        "goals": goals,
    }))
}

fn text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

/// The benchmark as tables.
pub fn render(result: &Value) -> String {
    if result["accounts"].is_null() {
        let sizes = result["explorer"].as_array().map_or(&[][..], Vec::as_slice);
        return explorer_scale::render(sizes) + &render_goals(result);
    }
    let mut out = String::from("accounts\n");
    for a in result["accounts"].as_array().into_iter().flatten() {
        out += &format!(
            "  {:<28} {:>6} bytes {:>14} lamports rent-exempt\n",
            text(&a["kind"]),
            text(&a["bytes"]),
            text(&a["rent_lamports"])
        );
    }
    out += "\none report, as a legacy transaction paid by the oracle\n";
    for r in result["reports"].as_array().into_iter().flatten() {
        out += &format!(
            "  {:<30} {:>3} accounts ({} writable, {} network-wide) {:>4} data bytes {:>6} transaction bytes\n",
            text(&r["kind"]),
            text(&r["accounts"]),
            text(&r["writable"]),
            r["network_wide_writable"].as_array().map_or(0, Vec::len),
            text(&r["data_bytes"]),
            text(&r["legacy_bytes"]),
        );
    }
    let c = &result["capacity"];
    out += &format!(
        "\ncompute reports with full uplines per transaction ({} bytes)\n  legacy: {} about different providers ({} bytes), {} about one provider\n  v0, the network's {} accounts in a lookup table: {} about different providers ({} bytes), {} about one provider\n  v0, the members in lookup tables too: {} about different providers ({} bytes)\n  v0, one report_batch instruction (as oracle submit sends): {} about different providers ({} bytes)\n",
        text(&c["packet_bytes"]),
        text(&c["legacy"]["separate_uplines"]),
        text(&c["legacy"]["bytes"]),
        text(&c["legacy"]["one_provider"]),
        text(&c["lookup_table_addresses"]),
        text(&c["v0_with_lookup_table"]["separate_uplines"]),
        text(&c["v0_with_lookup_table"]["bytes"]),
        text(&c["v0_with_lookup_table"]["one_provider"]),
        text(&c["v0_with_members_in_lookup_table"]["separate_uplines"]),
        text(&c["v0_with_members_in_lookup_table"]["bytes"]),
        text(&c["v0_batch_with_members_in_lookup_table"]["separate_uplines"]),
        text(&c["v0_batch_with_members_in_lookup_table"]["bytes"]),
    );
    out += &quorum::render(result["quorum"].as_array().map_or(&[], Vec::as_slice));
    out += &rpc_submit::render(&result["oracle_submit"]);
    out += &node::render(&result["oracle_node"]);
    let t = &result["throughput"];
    out += &format!(
        "\nthroughput on the sandbox (baseline: {:.3} ms per SPL Token transfer transaction)\n",
        t["baseline_seconds_per_spl_transfer"]
            .as_f64()
            .unwrap_or(0.0)
            * 1000.0
    );
    let run = |label: &str, r: &Value| {
        if r.is_null() {
            return format!("  {label:<34} not run\n");
        }
        format!(
            "  {label:<34} {:>8} s, {} transactions, {}/s, {} transfers each\n",
            text(&r["seconds"]),
            text(&r["transactions"]),
            text(&r["per_second"]),
            text(&r["transfers_per_transaction"])
        )
    };
    out += &run("provider network, 7,800 reports", &t["provider_example"]);
    let g = &t["generated_network"];
    out += &run(
        &format!("generated network, {} members", text(&g["members"])),
        g,
    );
    out += &format!(
        "    joins {} s, reports {} s ({} reports/s)\n",
        text(&g["join_seconds"]),
        text(&g["report_seconds"]),
        text(&g["reports_per_second"])
    );
    let sizes = result["explorer"].as_array().map_or(&[][..], Vec::as_slice);
    out += &explorer_scale::render(sizes);
    out + &render_goals(result)
}

/// The goals, met or missed.
fn render_goals(result: &Value) -> String {
    let mut out = String::from("\ngoals\n");
    for g in result["goals"].as_array().into_iter().flatten() {
        let mark = if g["met"] == true { "met   " } else { "MISSED" };
        out += &format!(
            "  {mark} {} ({}): {}\n",
            text(&g["goal"]),
            text(&g["target"]),
            text(&g["measured"])
        );
        if let Some(note) = g["note"].as_str().filter(|n| !n.is_empty()) {
            out += &format!("         {note}\n");
        }
    }
    out
}
