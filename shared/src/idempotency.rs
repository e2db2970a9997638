//! `Idempotency-Key`: a client that retries a state-changing POST (after a
//! 429, a 500, a lost connection) sends the same key, and gets the first
//! call's answer instead of a second effect.
//!
//! How it holds together:
//! - the edge reads the key's record before running the operation: found
//!   with the same request, its answer is replayed; with another request,
//!   400;
//! - otherwise the operation runs with the key in its task-local context;
//!   right before its final write it [`arm`]s the context with its answer,
//!   and the store writes the record — answer, request fingerprint, 24 h
//!   expiry (the table's TTL attribute) — in the same transaction as the
//!   operation's own writes, on the condition that the key is free;
//! - a concurrent call with the same key loses that condition: its
//!   operation re-reads, finds the winner's effect, and its answer is then
//!   replaced by the winner's stored one (`settled`), so both callers see
//!   the same answer and the work happened once.
//!
//! Keys are scoped to the tenant and the caller.

use std::future::Future;
use std::sync::Mutex;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::records::IdempotencyRecord;
use crate::store::item::{Condition, Item, Key, Record, Write};
use crate::store::keys;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// How long an answer is kept.
pub const TTL: chrono::Duration = chrono::Duration::hours(24);
/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// A request made with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotent {
    /// The record's key: tenant, caller and the client's key.
    pub key: Key,
    /// The request, hashed.
    pub fingerprint: String,
    /// The status a success answers with.
    pub status: u16,
}

impl Idempotent {
    /// The context of a request by `caller` of `tenant` with the client's
    /// `key` (already checked by [`check_key`]) for `request` — the
    /// operation, method, path and body that make it this request.
    pub fn new(tenant: &str, caller: &str, key: &str, request: &[&[u8]], status: u16) -> Self {
        let mut hash = Sha256::new();
        for part in request {
            // Length-prefixed, so that parts cannot run into each other.
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        let fingerprint = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Self {
            key: keys::idempotency(tenant, caller, key),
            fingerprint,
            status,
        }
    }
}

/// The client's key as sent, or the cause of a 400.
pub fn check_key(value: &str) -> Result<&str, String> {
    let ok = !value.is_empty()
        && value.len() <= MAX_KEY_LEN
        && value.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(value)
    } else {
        Err(format!(
            "{HEADER} must be 1 to {MAX_KEY_LEN} visible ASCII characters (no spaces); got {} characters",
            value.chars().count()
        ))
    }
}

/// What happened to the context during the operation.
#[derive(Debug)]
struct State {
    request: Idempotent,
    /// The answer the next write carries, once armed.
    armed: Option<String>,
    /// Whether a write carrying the record succeeded.
    written: bool,
}

tokio::task_local! {
    static CONTEXT: Mutex<State>;
}

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    CONTEXT
        .try_with(|state| f(&mut state.lock().unwrap_or_else(|p| p.into_inner())))
        .ok()
}

/// What the operation's run left to decide at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The record was written with the operation's write: its answer stands.
    Settled,
    /// The operation armed but its write never carried the record: a
    /// concurrent call with the key may have won; look the record up.
    Unsettled,
    /// The operation never armed: it wrote nothing (or failed before), so
    /// its answer was not stored. It answered from what it read, which a
    /// call with the same key may have changed after this one looked the
    /// key up (an earlier attempt whose write landed late): if that call's
    /// answer is stored now, it is the answer.
    Unarmed,
}

/// Runs `work` with `request` as its idempotency context.
pub async fn scope<F: Future>(request: Idempotent, work: F) -> (F::Output, Outcome) {
    let state = Mutex::new(State {
        request,
        armed: None,
        written: false,
    });
    CONTEXT
        .scope(state, async {
            let output = work.await;
            let outcome = with_state(|s| match (&s.armed, s.written) {
                (None, _) => Outcome::Unarmed,
                (Some(_), false) => Outcome::Unsettled,
                (Some(_), true) => Outcome::Settled,
            })
            .unwrap_or(Outcome::Unarmed);
            (output, outcome)
        })
        .await
}

/// Called by an operation right before its final write: that write is to
/// carry the record of `answer`. Without a key in the context: nothing.
pub fn arm<T: Serialize>(answer: &T) {
    let body = serde_json::to_string(answer).unwrap_or_default();
    with_state(|s| s.armed = Some(body));
}

/// The record write a store commit adds, if the operation armed the
/// context and no earlier write carried it.
pub fn armed_write(now: chrono::DateTime<chrono::Utc>) -> Option<Write> {
    with_state(|s| {
        if s.written {
            return None;
        }
        let body = s.armed.clone()?;
        let record = IdempotencyRecord {
            fingerprint: s.request.fingerprint.clone(),
            status: s.request.status,
            body,
            created: now,
        };
        let item = Item::new(s.request.key.clone(), Record::Idempotency(Box::new(record)))
            .expiring((now + TTL).timestamp());
        Some(Write::put_if(
            item,
            Condition::AbsentOrExpired(now.timestamp()),
        ))
    })
    .flatten()
}

/// Marks the armed record as written (its write succeeded).
pub fn written() {
    with_state(|s| s.written = true);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> Idempotent {
        Idempotent::new("t", "me", "k-1", &[b"op", b"POST", body.as_bytes()], 202)
    }

    #[test]
    fn fingerprints_tell_requests_apart() {
        assert_eq!(request("{}").fingerprint, request("{}").fingerprint);
        assert_ne!(request("{}").fingerprint, request("{ }").fingerprint);
        // Parts are length-prefixed: moving a byte across parts changes it.
        let a = Idempotent::new("t", "me", "k", &[b"ab", b"c"], 202);
        let b = Idempotent::new("t", "me", "k", &[b"a", b"bc"], 202);
        assert_ne!(a.fingerprint, b.fingerprint);
        assert_eq!(request("{}").fingerprint.len(), 64);
        // Scoped by tenant and caller.
        assert_ne!(
            Idempotent::new("t", "you", "k-1", &[], 202).key,
            Idempotent::new("t", "me", "k-1", &[], 202).key
        );
    }

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(check_key("7c1b-retry_01:x").is_ok());
        assert!(check_key(&"k".repeat(255)).is_ok());
        for bad in ["", " ", "a b", "é", "\t"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        assert!(check_key(&"k".repeat(256)).is_err());
    }

    #[tokio::test]
    async fn the_first_write_after_arming_carries_the_record() {
        let now = chrono::Utc::now();
        assert_eq!(armed_write(now), None, "no context: nothing");
        let ((), outcome) = scope(request("{}"), async {
            assert_eq!(armed_write(now), None, "not armed yet");
            arm(&serde_json::json!({}));
            let Some(Write::Put { item, condition }) = armed_write(now) else {
                panic!("armed")
            };
            assert_eq!(condition, Some(Condition::AbsentOrExpired(now.timestamp())));
            assert_eq!(item.expires_at, Some((now + TTL).timestamp()));
            let Record::Idempotency(r) = item.record else {
                panic!()
            };
            assert_eq!((r.status, r.body.as_str()), (202, "{}"));
            written();
            assert_eq!(armed_write(now), None, "written once");
        })
        .await;
        assert_eq!(outcome, Outcome::Settled);

        let ((), outcome) = scope(request("{}"), async { arm(&1) }).await;
        assert_eq!(outcome, Outcome::Unsettled, "armed, never written");
        let ((), outcome) = scope(request("{}"), async {}).await;
        assert_eq!(outcome, Outcome::Unarmed, "never armed");
    }
}
