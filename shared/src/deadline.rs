//! The time an invocation has left. Lambda ends a function at its timeout,
//! and API Gateway then answers 502/504 with a body of its own: the client
//! cannot tell whether a write happened. So every store call is bounded by
//! the invocation's deadline less a margin to answer in (the DynamoDB
//! client's operation timeout, see `store::dynamo`), and a call past it
//! answers a clean SailPoint 500 — or 429 when the store was throttling.
//!
//! The budget is task-local: [`scope`] sets it around one request's work,
//! and the store reads it from within that work.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Kept back from the invocation's deadline to write the answer and the
/// log line.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(300);

/// One request's budget.
#[derive(Debug)]
struct Budget {
    until: Instant,
    throttled: AtomicBool,
    /// A store attempt failed (no answer, or a 5xx).
    faulted: AtomicBool,
    /// Write attempts sent to the store, and those whose answer arrived.
    writes_sent: AtomicU32,
    writes_answered: AtomicU32,
}

tokio::task_local! {
    static BUDGET: Budget;
}

/// Below this, a deadline cannot be milliseconds since the epoch (it would
/// be before 2001). Lambda's Runtime API sends epoch milliseconds, but
/// cargo-lambda's emulator sends the constant 600,000: its 10-minute
/// timeout, relative. Read as an epoch time it is long past, and every
/// call would start with no time left.
const EPOCH_DEADLINE_FLOOR_MS: u64 = 1_000_000_000_000;

/// The instant a request's store work must end by: `deadline_ms` (Lambda's
/// deadline, milliseconds since the epoch; a small value is taken as
/// milliseconds from now, see [`EPOCH_DEADLINE_FLOOR_MS`]) less
/// [`ANSWER_MARGIN`].
pub fn from_lambda_deadline(deadline_ms: u64) -> Instant {
    let left = if deadline_ms < EPOCH_DEADLINE_FLOOR_MS {
        Duration::from_millis(deadline_ms)
    } else {
        let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
        Duration::from_millis(deadline_ms.saturating_sub(now_ms))
    };
    Instant::now() + left.saturating_sub(ANSWER_MARGIN)
}

/// Runs `work` with the budget ending at `until` (unbounded with `None`).
pub async fn scope<F: Future>(until: Option<Instant>, work: F) -> F::Output {
    match until {
        Some(until) => {
            let budget = Budget {
                until,
                throttled: AtomicBool::new(false),
                faulted: AtomicBool::new(false),
                writes_sent: AtomicU32::new(0),
                writes_answered: AtomicU32::new(0),
            };
            BUDGET.scope(budget, work).await
        }
        None => work.await,
    }
}

/// The time left in the current request's budget; `None` when unbounded.
pub fn remaining() -> Option<Duration> {
    BUDGET
        .try_with(|b| b.until.saturating_duration_since(Instant::now()))
        .ok()
}

/// Waits `wait`, or only until the current request's budget runs out: a
/// pause between retries never carries a request past its deadline (the
/// store call after it then fails at once, leaving the margin to answer).
pub async fn pause(wait: Duration) {
    let wait = remaining().map_or(wait, |left| wait.min(left));
    tokio::time::sleep(wait).await;
}

/// Records that the store throttled the current request (an attempt
/// answered with a throttling error).
pub fn note_throttled() {
    let _ = BUDGET.try_with(|b| b.throttled.store(true, Ordering::Relaxed));
}

/// Whether the store throttled the current request at least once.
pub fn throttled() -> bool {
    BUDGET
        .try_with(|b| b.throttled.load(Ordering::Relaxed))
        .unwrap_or(false)
}

/// Records that a store attempt of the current request failed: no answer
/// (a dropped connection, an attempt timeout) or a server error.
pub fn note_faulted() {
    let _ = BUDGET.try_with(|b| b.faulted.store(true, Ordering::Relaxed));
}

/// Whether a store attempt of the current request failed or was
/// throttled: time lost to the store, not to the work asked for.
pub fn store_faulted() -> bool {
    BUDGET
        .try_with(|b| b.faulted.load(Ordering::Relaxed) || b.throttled.load(Ordering::Relaxed))
        .unwrap_or(false)
}

/// Records that a write attempt was sent to the store.
pub fn note_write_sent() {
    let _ = BUDGET.try_with(|b| b.writes_sent.fetch_add(1, Ordering::Relaxed));
}

/// Records that the store answered a write attempt (whatever it said).
pub fn note_write_answered() {
    let _ = BUDGET.try_with(|b| b.writes_answered.fetch_add(1, Ordering::Relaxed));
}

/// Whether a write attempt of the current request went unanswered (a
/// dropped connection, an attempt that timed out): it may have been
/// applied, whatever the store said to the attempts after it.
pub fn write_in_doubt() -> bool {
    BUDGET
        .try_with(|b| {
            b.writes_sent.load(Ordering::Relaxed) > b.writes_answered.load(Ordering::Relaxed)
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_budget_is_seen_only_inside_its_scope() {
        assert_eq!(remaining(), None);
        assert!(!throttled());
        let until = Instant::now() + Duration::from_secs(2);
        scope(Some(until), async {
            assert_eq!(remaining(), Some(Duration::from_secs(2)));
            tokio::time::sleep(Duration::from_millis(1500)).await;
            assert_eq!(remaining(), Some(Duration::from_millis(500)));
            assert!(!store_faulted());
            note_throttled();
            assert!(throttled());
            assert!(store_faulted(), "throttling is time lost to the store");
            assert!(!write_in_doubt());
            note_write_sent();
            note_write_answered();
            assert!(!write_in_doubt(), "answered");
            note_write_sent();
            assert!(write_in_doubt(), "sent, never answered");
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(remaining(), Some(Duration::ZERO));
        })
        .await;
        assert_eq!(remaining(), None);
        assert!(!throttled());
        scope(Some(until), async {
            note_faulted();
            assert!(store_faulted() && !throttled());
        })
        .await;
        assert!(!store_faulted());
        scope(None, async { assert_eq!(remaining(), None) }).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_ends_with_the_budget() {
        let started = Instant::now();
        pause(Duration::from_millis(400)).await;
        assert_eq!(started.elapsed(), Duration::from_millis(400), "unbounded");
        let until = Instant::now() + Duration::from_millis(100);
        scope(Some(until), async {
            pause(Duration::from_millis(30)).await;
            pause(Duration::from_millis(500)).await;
        })
        .await;
        assert_eq!(Instant::now(), until, "cut at the budget's end");
    }

    #[test]
    fn a_lambda_deadline_keeps_the_margin() {
        let now_ms = chrono::Utc::now().timestamp_millis() as u64;
        let until = from_lambda_deadline(now_ms + 10_000);
        let left = until.saturating_duration_since(Instant::now());
        assert!(left <= Duration::from_millis(9_700), "{left:?}");
        assert!(left >= Duration::from_millis(9_500), "{left:?}");
        // A deadline already past leaves nothing.
        let past = from_lambda_deadline(now_ms.saturating_sub(5_000));
        assert_eq!(
            past.saturating_duration_since(Instant::now()),
            Duration::ZERO
        );
        // cargo-lambda's emulator: 600,000 means ten minutes from now.
        let emulator = from_lambda_deadline(600_000);
        let left = emulator.saturating_duration_since(Instant::now());
        assert!(left <= Duration::from_millis(599_700), "{left:?}");
        assert!(left >= Duration::from_millis(599_500), "{left:?}");
    }
}
