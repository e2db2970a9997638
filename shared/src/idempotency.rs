//! `Idempotency-Key`: a client that retries a state-changing POST (after a
//! 429, a 500, a lost connection) sends the same key, and gets the first
//! call's answer instead of a second effect.
//!
//! How it holds together:
//! - the edge reads the key's record before running the operation: found
//!   with the same request, its answer is replayed; with another request,
//!   400;
//! - otherwise the operation runs on a `plan::Runner` that holds the key:
//!   the runner writes the record — the plan's answer, the request's
//!   fingerprint, a 24 h expiry (the table's TTL attribute) — in the same
//!   transaction as the plan's own writes, on the condition that the key
//!   is free ([`record_write`]);
//! - a concurrent call with the same key loses that condition: the runner
//!   stops, and the edge answers the winner's stored answer, so both
//!   callers see the same answer and the work happened once.
//!
//! Keys are scoped to the tenant and the caller.

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

/// The write of `request`'s record with `answer`: with an operation's own
/// writes, in one transaction (`plan::Runner`), on the condition that the
/// key is free (or its record expired).
pub fn record_write<T: Serialize>(
    request: &Idempotent,
    answer: &T,
    now: chrono::DateTime<chrono::Utc>,
) -> Write {
    let record = IdempotencyRecord {
        fingerprint: request.fingerprint.clone(),
        status: request.status,
        body: serde_json::to_string(answer).unwrap_or_default(),
        created: now,
    };
    let item = Item::new(request.key.clone(), Record::Idempotency(Box::new(record)))
        .expiring((now + TTL).timestamp());
    Write::put_if(item, Condition::AbsentOrExpired(now.timestamp()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Accepted;

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

    #[test]
    fn the_record_holds_the_answer_until_it_expires() {
        let now = chrono::Utc::now();
        let Write::Put { item, condition } = record_write(&request("{}"), &Accepted {}, now) else {
            panic!("a put")
        };
        assert_eq!(condition, Some(Condition::AbsentOrExpired(now.timestamp())));
        assert_eq!(item.expires_at, Some((now + TTL).timestamp()));
        let Record::Idempotency(r) = item.record else {
            panic!("an idempotency record")
        };
        assert_eq!((r.status, r.body.as_str()), (202, "{}"));
        assert_eq!(r.fingerprint, request("{}").fingerprint);
    }
}
