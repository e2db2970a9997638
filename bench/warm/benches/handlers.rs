//! Warm handler time: each function's handler end to end on the in-process
//! store, for a typical request (the success fixture of `events/`), the
//! status of one identity as a page of 250 items, and an approver's pending
//! approvals as a page of 250.
//!
//!     cargo bench -p bench-warm --bench handlers
//!
//! Targets: median ≤ 100 µs for submit, cancel, close (one id), reject,
//! each approval decision (approve, reject, forward), and the non-employee
//! create and its decisions (approve, reject, delete); ≤ 1 ms for the
//! 250-item status page and the 250-item pending page. The writes change the store
//! (a second submit of the same item is a duplicate, a second cancel finds a
//! final state), so each of their iterations gets a fresh store, built
//! outside the measured time.

use std::hint::black_box;
use std::time::Duration;

use bench_warm::{
    cases, dispatch, fixture, function_process, pending_event, request,
    seed_with_pending_approvals, seed_with_status_requests, state, status_event,
};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use shared::seed::DEMO_SEED;

const STATUS_PAGE: usize = 250;

fn handlers(c: &mut Criterion) {
    let rt = function_process();
    let mut group = c.benchmark_group("warm");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(60);

    for (function, case) in cases() {
        // The lists of 250 are measured below.
        if function == "list-access-request-status" || function == "list-pending-approvals" {
            continue;
        }
        let event = fixture(function, case);
        group.bench_function(function, |b| {
            b.iter_batched(
                || (rt.block_on(state(DEMO_SEED)), request(&event)),
                |(state, req)| {
                    let response = rt.block_on(dispatch(function, &state, req));
                    assert!((200..300).contains(&response.status), "{function}/{case}");
                    // The store goes out with the batch, not in the timing.
                    (black_box(response), state)
                },
                BatchSize::SmallInput,
            )
        });
    }

    // Read-only: one store with 262 approvals pending at one approver, one
    // page of 250 (and the total in X-Total-Count).
    let approver = rt.block_on(state(&seed_with_pending_approvals(STATUS_PAGE + 10)));
    let event = pending_event(STATUS_PAGE);
    group.bench_function("list-pending-approvals", |b| {
        b.iter_batched(
            || request(&event),
            |req| {
                let response = rt.block_on(dispatch("list-pending-approvals", &approver, req));
                assert_eq!(response.status, 200);
                black_box(response)
            },
            BatchSize::SmallInput,
        )
    });

    // Read-only: one store with 260 of the identity's requests, one page of 250.
    let state = rt.block_on(state(&seed_with_status_requests(STATUS_PAGE + 10)));
    let event = status_event(STATUS_PAGE);
    group.bench_function("list-access-request-status", |b| {
        b.iter_batched(
            || request(&event),
            |req| {
                let response = rt.block_on(dispatch("list-access-request-status", &state, req));
                assert_eq!(response.status, 200);
                black_box(response)
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, handlers);
criterion_main!(benches);
