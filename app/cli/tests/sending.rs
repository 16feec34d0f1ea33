//! Sending with a bounded number in flight (issue 14): many reports sent with
//! `--max-in-flight 2` and with the default are each recorded exactly once,
//! every landed signature is printed, and a re-run records nothing.

mod common;

use common::{code, compute, network_address, stderr, stdout, write, Sandbox};

/// Reports about each member, and members in each file.
const REPORTS: u64 = 5;
const MEMBERS: u64 = 8;

fn submitted(out: &std::process::Output) -> String {
    assert_eq!(code(out), 0, "{}{}", stdout(out), stderr(out));
    stdout(out)
}

/// The work credited to `wallet`'s membership.
fn work(s: &Sandbox, network: &str, wallet: &str) -> f64 {
    let stats = s.stats(network, wallet);
    let work = &stats["ledgers"][0]["totals"]["work"];
    work.as_str()
        .expect("work total")
        .parse()
        .expect("a number")
}

/// `REPORTS` reports about each of `members`, a member's after another's.
fn reports_about(members: &[String]) -> String {
    members
        .iter()
        .flat_map(|m| (1..=REPORTS).map(move |id| compute(id, m, "llama3-70b")))
        .collect()
}

fn landed(out: &str) -> Vec<&str> {
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("landed "))
        .collect()
}

#[test]
fn reports_in_flight_are_recorded_once_and_re_runs_record_nothing() {
    let s = Sandbox::start("sending");
    s.wallet("admin");
    let oracle = s.wallet("oracle");
    let network = network_address(&s.init("cxmpute", &oracle));
    let provider = |name: String| {
        let wallet = s.wallet(&name);
        s.join(&name, &network, "provider", None);
        s.attest_provider(&network, &wallet, "24576");
        wallet
    };

    // One report: what each is worth.
    let carol = provider("carol".into());
    let one = write(&s.dir.join("one.jsonl"), &compute(1, &carol, "llama3-70b"));
    let out = submitted(&s.submit("oracle", &one, &network, &[]));
    assert!(out.contains("recorded now             1"), "{out}");
    let each = work(&s, &network, &carol);
    assert!(each > 0.0, "{each}");

    for (name, extra) in [("two", &["--max-in-flight", "2"][..]), ("default", &[][..])] {
        let members: Vec<String> = (0..MEMBERS)
            .map(|i| provider(format!("{name}{i}")))
            .collect();
        let total = REPORTS * MEMBERS;
        let file = write(
            &s.dir.join(format!("{name}.jsonl")),
            &reports_about(&members),
        );
        let out = submitted(&s.submit("oracle", &file, &network, extra));
        assert!(
            out.contains(&format!("recorded now      {total:>8}")),
            "{out}"
        );
        // Several transactions, each landed signature printed once.
        let mut signatures = landed(&out);
        assert!(signatures.len() >= 2, "{out}");
        signatures.sort();
        signatures.dedup();
        assert_eq!(signatures.len(), landed(&out).len(), "{out}");
        // Each member's total is its reports' worth, once.
        let expected = each * REPORTS as f64;
        for member in &members {
            let got = work(&s, &network, member);
            assert!(
                (got - expected).abs() < 1e-6 * expected,
                "{name}: {got} != {expected}"
            );
        }
        // A re-run finds every report recorded and sends nothing.
        let again = submitted(&s.submit("oracle", &file, &network, extra));
        assert!(again.contains("recorded now             0"), "{again}");
        assert!(
            again.contains(&format!("already recorded  {total:>8}")),
            "{again}"
        );
        assert!(landed(&again).is_empty(), "{again}");
        for member in &members {
            assert!((work(&s, &network, member) - expected).abs() < 1e-6 * expected);
        }
    }
}
