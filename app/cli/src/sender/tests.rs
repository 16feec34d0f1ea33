//! The in-flight sender's bookkeeping: flights, coalesced failures, compute.

use super::*;
use upline::instructions::ComputeReportArgs;
use upline::state::Service;

/// A compute report instruction about a fresh provider, under `oracle`.
fn report(oracle: &Pubkey, network: &Pubkey, id: u64) -> Instruction {
    let args = ComputeReportArgs {
        id,
        work_time: 1,
        service: Service::Chat,
        tokens: 1,
        latency_ms: 1,
    };
    let (provider, above) = (Pubkey::new_unique(), [Pubkey::new_unique()]);
    ix::report_compute(oracle, network, &provider, &[1; 32], &above, args)
}

#[test]
fn a_failed_instruction_names_its_report_only_when_it_carried_one() {
    let (oracle, network) = (Pubkey::new_unique(), Pubkey::new_unique());
    let other = Pubkey::new_unique();
    // Three reports under one oracle batch together; a fourth under another stays single.
    let reports = vec![
        report(&oracle, &network, 1),
        report(&oracle, &network, 2),
        report(&oracle, &network, 3),
        report(&other, &network, 4),
    ];
    let coalesced = ix::coalesce(&reports);
    assert_eq!(ix::batch::reports_per_instruction(&coalesced), vec![3, 1]);
    assert_eq!(lone_report(&coalesced, 0), None, "the batch: any of three");
    assert_eq!(lone_report(&coalesced, 1), Some(3), "the fourth report");
    assert_eq!(
        lone_report(&coalesced, 9),
        Some(3),
        "past the end: the last"
    );
}

#[test]
fn running_out_of_compute_is_told_from_other_refusals() {
    assert!(out_of_compute(
        "InstructionError(1, ComputationalBudgetExceeded)"
    ));
    assert!(out_of_compute(
        "Program log: exceeded CUs meter at BPF instruction"
    ));
    assert!(!out_of_compute("InstructionError(1, InvalidAccountData)"));
}

#[test]
fn flights_bound_what_is_in_flight_and_keep_members_apart() {
    let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
    let start = Instant::now();
    let mut flights: Flights<u32> = Flights::new(2);
    assert!(flights.room() && flights.is_empty());
    flights.push(1, vec![a], start);
    assert!(flights.busy(&a) && !flights.busy(&b) && flights.room());
    flights.push(2, vec![b], start);
    assert!(!flights.room());
    assert_eq!(flights.take(0), 1);
    assert!(!flights.busy(&a) && flights.room() && !flights.is_empty());
}

#[test]
fn a_flight_is_due_for_rebroadcast_every_two_seconds() {
    let start = Instant::now();
    let mut flights: Flights<u32> = Flights::new(0);
    flights.push(7, vec![], start);
    assert!(!flights.due(0, start + Duration::from_millis(1999)));
    assert!(flights.due(0, start + REBROADCAST));
    flights.resent(0, start + REBROADCAST);
    assert!(!flights.due(0, start + Duration::from_secs(3)));
    assert!(flights.due(0, start + 2 * REBROADCAST));
}
