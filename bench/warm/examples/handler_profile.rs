//! Runs one function's handler on its benchmark request over and over, each
//! time on a fresh store, for a profiler: the stores are built in batches
//! outside the profiled time, and the profiler is told when the handler
//! runs through perf's control FIFO (`--control`), so a profile holds the
//! handler and nothing of the set-up:
//!
//!     CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
//!         cargo build --release -p bench-warm --example handler_profile
//!     mkfifo /tmp/perf.ctl /tmp/perf.ack
//!     PERF_CTL_FIFO=/tmp/perf.ctl PERF_ACK_FIFO=/tmp/perf.ack perf record -D -1 \
//!         --control fifo:/tmp/perf.ctl,/tmp/perf.ack -g --call-graph dwarf,32768 \
//!         target/release/examples/handler_profile create-access-request 20
//!
//! Arguments: the function, and how many batches of 500 calls (default 10).
//! Without the FIFOs it only runs, and prints the mean time per call.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use bench_warm::{cases, dispatch, fixture, function_process, request, state};
use shared::seed::DEMO_SEED;

const BATCH: usize = 500;

/// perf's control FIFO and its acknowledgement FIFO, when given.
struct Profiler {
    control: std::fs::File,
    ack: BufReader<std::fs::File>,
}

impl Profiler {
    fn from_env() -> Option<Self> {
        let control = std::env::var("PERF_CTL_FIFO").ok()?;
        let ack = std::env::var("PERF_ACK_FIFO").ok()?;
        let control = OpenOptions::new()
            .write(true)
            .open(control)
            .expect("perf's control FIFO");
        let ack = BufReader::new(std::fs::File::open(ack).expect("perf's ack FIFO"));
        Some(Self { control, ack })
    }

    /// Sends `command` (`enable` or `disable`) and waits for perf's ack.
    fn send(&mut self, command: &str) {
        writeln!(self.control, "{command}").expect("writing to perf");
        let mut line = String::new();
        self.ack.read_line(&mut line).expect("perf's ack");
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let function = args.next().expect("a function name");
    let batches: usize = args.next().map_or(10, |n| n.parse().expect("a number"));
    let case = cases()
        .into_iter()
        .find(|(f, _)| *f == function)
        .map(|(_, case)| case)
        .unwrap_or_else(|| panic!("no function {function}"));
    let event = fixture(&function, case);
    let rt = function_process();
    let mut profiler = Profiler::from_env();
    let mut spent = Duration::ZERO;
    for _ in 0..batches {
        let inputs: Vec<_> = (0..BATCH)
            .map(|_| (rt.block_on(state(DEMO_SEED)), request(&event)))
            .collect();
        let mut kept = Vec::with_capacity(BATCH);
        if let Some(p) = profiler.as_mut() {
            p.send("enable");
        }
        let start = Instant::now();
        for (state, req) in inputs {
            let response = rt.block_on(dispatch(&function, &state, req));
            assert!((200..300).contains(&response.status), "{function}");
            // Dropped with the batch, outside the profiled time.
            kept.push((response, state));
        }
        spent += start.elapsed();
        if let Some(p) = profiler.as_mut() {
            p.send("disable");
        }
        drop(kept);
    }
    let calls = batches * BATCH;
    println!(
        "{function}: {calls} calls, {:.1} µs each",
        spent.as_secs_f64() * 1e6 / calls as f64
    );
}
