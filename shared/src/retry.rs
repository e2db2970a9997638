//! The one retry policy: how often an optimistic operation re-reads after
//! losing a race, and how long anything waits between attempts (racing
//! writers, unprocessed batch keys, a table becoming active).

use std::future::Future;
use std::time::Duration;

/// Attempts of an optimistic read-decide-write before giving up. DynamoDB
/// may cancel *both* of two overlapping transactions (`TransactionConflict`),
/// so a crowd of racing writers needs a few rounds, spread by [`backoff`].
pub const ATTEMPTS: usize = 8;

/// 10 ms, 20 ms, 40 ms … (≤ 500 ms) after attempt 1, 2, 3 …, each between
/// half and all of that (jitter), so that racing callers do not collide
/// again in lockstep.
pub fn backoff(attempt: usize) -> Duration {
    let base = (10u64 << attempt.saturating_sub(1).min(6)).min(500);
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % (base / 2 + 1);
    Duration::from_millis(base / 2 + jitter)
}

/// What one attempt of an optimistic operation came to.
pub enum Attempt<T, W> {
    /// Finished (written, or nothing to write).
    Done(T),
    /// Its conditional write lost a race; `W` is what it tried to write.
    Lost(W),
}

/// Runs `attempt` until it is done, at most [`ATTEMPTS`] times, waiting
/// [`backoff`] between attempts. Each attempt re-reads and decides again; it
/// is given what the previous one tried to write, so that it can recognise
/// that write in what it reads: a write whose answer was lost (the SDK
/// retried an attempt that had landed) reports a failed condition although
/// it took effect. `None` when every attempt lost.
pub async fn optimistic<T, W, E, Fut>(
    mut attempt: impl FnMut(Option<W>) -> Fut,
) -> Result<Option<T>, E>
where
    Fut: Future<Output = Result<Attempt<T, W>, E>>,
{
    let mut lost = None;
    for n in 1..=ATTEMPTS {
        match attempt(lost.take()).await? {
            Attempt::Done(t) => return Ok(Some(t)),
            Attempt::Lost(w) => {
                lost = Some(w);
                if n < ATTEMPTS {
                    tracing::info!(attempt = n, "conditional write lost a race; re-reading");
                    tokio::time::sleep(backoff(n)).await;
                }
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        for attempt in 0..30 {
            let d = backoff(attempt);
            assert!(d <= Duration::from_millis(500), "{attempt}: {d:?}");
            assert!(d >= Duration::from_millis(5), "{attempt}: {d:?}");
        }
        assert!(backoff(1) <= Duration::from_millis(10));
        assert!(backoff(7) >= Duration::from_millis(250));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_until_done_passing_what_was_lost() {
        let calls = AtomicUsize::new(0);
        let result: Result<Option<&str>, ()> = optimistic(|lost: Option<usize>| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                assert_eq!(lost, n.checked_sub(1), "the previous attempt's write");
                Ok(if n < 3 {
                    Attempt::Lost(n)
                } else {
                    Attempt::Done("written")
                })
            }
        })
        .await;
        assert_eq!(result, Ok(Some("written")));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_every_attempt_lost_and_stops_on_errors() {
        let calls = AtomicUsize::new(0);
        let exhausted: Result<Option<()>, ()> = optimistic(|_: Option<()>| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok(Attempt::Lost(())) }
        })
        .await;
        assert_eq!(exhausted, Ok(None));
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);

        let failed: Result<Option<()>, &str> =
            optimistic(|_: Option<()>| async { Err("store down") }).await;
        assert_eq!(failed, Err("store down"));
    }
}
