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
use std::sync::atomic::{AtomicBool, Ordering};
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
}

tokio::task_local! {
    static BUDGET: Budget;
}

/// The instant a request's store work must end by: `deadline_ms` (Lambda's
/// deadline, milliseconds since the epoch) less [`ANSWER_MARGIN`].
pub fn from_lambda_deadline(deadline_ms: u64) -> Instant {
    let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    Instant::now() + left.saturating_sub(ANSWER_MARGIN)
}

/// Runs `work` with the budget ending at `until` (unbounded with `None`).
pub async fn scope<F: Future>(until: Option<Instant>, work: F) -> F::Output {
    match until {
        Some(until) => {
            let budget = Budget {
                until,
                throttled: AtomicBool::new(false),
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
            note_throttled();
            assert!(throttled());
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(remaining(), Some(Duration::ZERO));
        })
        .await;
        assert_eq!(remaining(), None);
        assert!(!throttled());
        scope(None, async { assert_eq!(remaining(), None) }).await;
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
    }
}
