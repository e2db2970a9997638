//! A state-changing operation is a value. Each attempt of it reads what is
//! stored and decides one [`Step`]: an answer from what it read (nothing to
//! write), or a [`Plan`] — the writes that make the change, the answer they
//! earn, and a mark by which a later attempt can recognise those writes as
//! landed.
//!
//! One runner, [`Runner::run`], does the rest for every operation:
//! - the optimistic retry: a plan whose conditional write loses a race is
//!   dropped, and the operation reads and decides again (at most
//!   [`retry::ATTEMPTS`] times, [`retry::backoff`] apart, within the
//!   request's budget);
//! - the `Idempotency-Key` record of the request, if it has one: the plan's
//!   answer, written in the same transaction as the plan's writes, on the
//!   condition that the key is free;
//! - the commit.
//!
//! The edge builds the runner with the request's key and serialises the
//! answer once, with the status routes.toml gives the operation. It takes
//! the answer only as a [`Settled`], which nothing but the runner makes: an
//! operation cannot answer a change without its answer being the one the
//! key stores, and cannot forget the key.

use std::future::Future;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::error::ApiError;
use crate::idempotency::{self, Idempotent};
use crate::retry;
use crate::store::item::Write;
use crate::store::{Store, StoreError};

/// What one attempt decided to write, and the answer the write earns.
#[derive(Debug)]
pub struct Plan<A, M = ()> {
    /// Written atomically, with the request's idempotency record.
    pub writes: Vec<Write>,
    /// The operation's answer once the writes are stored.
    pub answer: A,
    /// What the next attempt is given if the write is reported lost, to
    /// recognise it in what it reads: a write whose answer was lost (the
    /// store client retried an attempt that had landed) fails on the
    /// conditions it satisfied itself, although it took effect.
    pub mark: M,
}

/// What one attempt came to.
#[derive(Debug)]
pub enum Step<A, M = ()> {
    /// Nothing to write: the answer follows from what was read (a repeat,
    /// or a write of an earlier attempt recognised as landed).
    Answer(A),
    /// A change to commit.
    Write(Plan<A, M>),
}

/// An operation's answer, as settled by [`Runner::run`]. It serialises as
/// the answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Settled<A>(A);

impl<A> Settled<A> {
    pub fn into_answer(self) -> A {
        self.0
    }
}

impl<A> std::ops::Deref for Settled<A> {
    type Target = A;
    fn deref(&self) -> &A {
        &self.0
    }
}

/// What became of the request's idempotency record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Written with the operation's change: its answer stands.
    Settled,
    /// A write carrying it was tried and never succeeded: a concurrent call
    /// with the key may have won; look the record up.
    Unsettled,
    /// No write was tried: the operation answered from what it read (or was
    /// refused), which a call with the same key may have changed after this
    /// one looked the key up (an earlier attempt whose write landed late):
    /// if that call's answer is stored now, it is the answer.
    Unarmed,
}

/// Runs the attempts of one request's operation. Its clones share what
/// became of the record, which the edge reads after the operation.
#[derive(Clone)]
pub struct Runner {
    store: Store,
    key: Option<Arc<Idempotent>>,
    outcome: Arc<Mutex<Outcome>>,
}

impl Runner {
    /// A runner for a request without an `Idempotency-Key` (and for tests
    /// and tools).
    pub fn new(store: &Store) -> Self {
        Self {
            store: store.clone(),
            key: None,
            outcome: Arc::new(Mutex::new(Outcome::Unarmed)),
        }
    }

    /// A runner that stores the answer under `key` with the change.
    pub fn with_key(store: &Store, key: Idempotent) -> Self {
        Self {
            key: Some(Arc::new(key)),
            ..Self::new(store)
        }
    }

    /// The store the operation reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// What became of the idempotency record (for the edge, after the run).
    pub fn outcome(&self) -> Outcome {
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_outcome(&self, outcome: Outcome) {
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = outcome;
    }

    /// Runs `attempt` until its step is settled: an answer, or a plan
    /// committed. Each attempt is given the mark of the plan the previous
    /// one lost. A 500 when every attempt lost a race.
    pub async fn run<A, M, Fut>(
        &self,
        mut attempt: impl FnMut(Option<M>) -> Fut,
    ) -> Result<Settled<A>, ApiError>
    where
        A: Serialize,
        Fut: Future<Output = Result<Step<A, M>, ApiError>>,
    {
        let mut lost = None;
        for n in 1..=retry::ATTEMPTS {
            let plan = match attempt(lost.take()).await? {
                Step::Answer(answer) => return Ok(Settled(answer)),
                Step::Write(plan) => plan,
            };
            let mut writes = plan.writes;
            let record = self.key.as_ref().map(|key| {
                self.set_outcome(Outcome::Unsettled);
                idempotency::record_write(key, &plan.answer, chrono::Utc::now())
            });
            let carried = record.as_ref().map(|w| w.key().clone());
            writes.extend(record);
            match self.store.apply(writes).await {
                Ok(()) => {
                    if carried.is_some() {
                        self.set_outcome(Outcome::Settled);
                    }
                    return Ok(Settled(plan.answer));
                }
                Err(StoreError::Conflict(_)) => {
                    // If the key is taken now, a concurrent call with it did
                    // the work, and retrying ours would only lose again: the
                    // edge answers that call's stored answer.
                    if let Some(key) = &carried {
                        if self.store.idempotency_record(key).await?.is_some() {
                            return Err(ApiError::Internal(
                                "the idempotency key was taken by a concurrent call".into(),
                            ));
                        }
                    }
                    lost = Some(plan.mark);
                    if n < retry::ATTEMPTS {
                        tracing::info!(attempt = n, "conditional write lost a race; re-reading");
                        crate::deadline::pause(retry::backoff(n)).await;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::Internal(format!(
            "the change lost a race with concurrent changes on each of {} attempts",
            retry::ATTEMPTS
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::records::{IdempotencyRecord, NamedRef};
    use crate::store::item::{Condition, Item, Key, Record};

    fn identity_put(id: &str, condition: Option<Condition>) -> Write {
        // Any record will do: these tests are about the writes' conditions.
        let item = Item::new(
            Key::new(format!("T#t#X#{id}"), "X"),
            Record::Idempotency(Box::new(IdempotencyRecord {
                fingerprint: id.to_string(),
                status: 200,
                body: String::new(),
                created: chrono::Utc::now(),
            })),
        );
        match condition {
            Some(c) => Write::put_if(item, c),
            None => Write::put(item),
        }
    }

    fn key() -> Idempotent {
        Idempotent::new("t", "me", "k-1", &[b"op", b"{}"], 202)
    }

    #[tokio::test]
    async fn a_plan_is_committed_with_the_keys_record_and_its_answer() {
        let store = Store::memory();
        let runner = Runner::with_key(&store, key());
        let answer = runner
            .run(async |_: Option<()>| {
                Ok(Step::Write(Plan {
                    writes: vec![identity_put("a", Some(Condition::Absent))],
                    answer: NamedRef {
                        id: "a".into(),
                        name: "A".into(),
                    },
                    mark: (),
                }))
            })
            .await
            .unwrap();
        assert_eq!(answer.id, "a");
        assert_eq!(runner.outcome(), Outcome::Settled);
        let stored: IdempotencyRecord =
            store.idempotency_record(&key().key).await.unwrap().unwrap();
        assert_eq!(stored.status, 202);
        assert_eq!(stored.body, r#"{"id":"a","name":"A"}"#);
    }

    #[tokio::test]
    async fn an_answer_from_reads_writes_nothing() {
        let store = Store::memory();
        let runner = Runner::with_key(&store, key());
        let answer = runner
            .run(async |_: Option<()>| Ok(Step::Answer(7)))
            .await
            .unwrap();
        assert_eq!(answer.into_answer(), 7);
        assert_eq!(runner.outcome(), Outcome::Unarmed);
        assert_eq!(store.idempotency_record(&key().key).await.unwrap(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_lost_plan_is_decided_again_with_its_mark() {
        let store = Store::memory();
        store
            .apply(vec![identity_put("taken", None)])
            .await
            .unwrap();
        let calls = &AtomicUsize::new(0);
        let runner = Runner::new(&store);
        let answer = runner
            .run(|lost: Option<usize>| async move {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                assert_eq!(lost, n.checked_sub(1), "the previous attempt's mark");
                // The first two attempts write where another write got first.
                let id = if n < 2 { "taken" } else { "free" };
                Ok(Step::Write(Plan {
                    writes: vec![identity_put(id, Some(Condition::Absent))],
                    answer: id,
                    mark: n,
                }))
            })
            .await
            .unwrap();
        assert_eq!(*answer, "free");
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let every_attempt_loses = runner
            .run(async |_: Option<()>| {
                Ok(Step::Write(Plan {
                    writes: vec![identity_put("taken", Some(Condition::Absent))],
                    answer: (),
                    mark: (),
                }))
            })
            .await;
        assert!(matches!(every_attempt_loses, Err(ApiError::Internal(_))));
    }

    #[tokio::test]
    async fn a_key_taken_by_a_concurrent_call_stops_the_retry() {
        let store = Store::memory();
        let winner = Runner::with_key(&store, key());
        winner
            .run(async |_: Option<()>| {
                Ok(Step::Write(Plan {
                    writes: vec![identity_put("a", None)],
                    answer: 1,
                    mark: (),
                }))
            })
            .await
            .unwrap();
        let calls = &AtomicUsize::new(0);
        let loser = Runner::with_key(&store, key());
        let result = loser
            .run(async |_: Option<()>| {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(Step::Write(Plan {
                    writes: vec![identity_put("b", None)],
                    answer: 2,
                    mark: (),
                }))
            })
            .await;
        assert!(matches!(result, Err(ApiError::Internal(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "no second attempt");
        assert_eq!(loser.outcome(), Outcome::Unsettled);
    }
}
