//! The key layout: the only place that knows how records are keyed. Every
//! key starts with the tenant, so no key of one tenant can name another's
//! record.
//!
//! | record | PK | SK | indexes |
//! | --- | --- | --- | --- |
//! | identity | `T#{t}#IDENTITY#{id}` | `#` | |
//! | catalog item | `T#{t}#CATALOG#{TYPE}#{id}` | `#` | |
//! | duplicate guard (pointer) | `T#{t}#PENDING#{identity}#{TYPE}#{item}#{REQUEST_TYPE}` | `#` | |
//! | access request | `T#{t}#AR#{id}` | `#` | GSI1 `T#{t}#REQUESTER#{id}`, GSI2 `T#{t}#FOR#{id}`, GSI3 `T#{t}#REQUESTS#{shard}`; sort `{created}#{id}` |
//! | assignment (pointer) | `T#{t}#ASSIGNEE#{identity}` | `{created}#{request}` | |
//! | non-employee source | `T#{t}#NESOURCE#{id}` | `#` | |
//! | non-employee request | `T#{t}#NEREQUEST#{id}` | `#` | |
//! | its copy per approval item | `T#{t}#NEAPPROVAL#{approvalItem}` | `#` | |
//! | its copy per identity that lists it | `T#{t}#NEREQUESTLIST#{identity}` | `{created}#{id}` | |
//! | approvals list entry | `T#{t}#NEAPPROVALLIST#{identity}` | `{created}#{approvalItem}` | |
//! | account name guard (pointer) | `T#{t}#NEACCOUNT#{source}#{accountName, lowercase}` | `#` | |
//! | event | `T#{t}#EVENTS#{shard}` | `{created}#{sequence}#{id}` | |
//! | idempotency record | `T#{t}#IDEM#{caller}#{key}` | `#` | (expires after 24 h) |
//! | approval (with its request) | `T#{t}#APPROVAL#{id}` | `#` | GSI3 `T#{t}#APPROVALS#{shard}` sort pending `P#{reached}#{id}`, decided `D#{reached}#{id}`; decided also GSI1 `T#{t}#DECIDED#{shard}` sort `M#{decided}#{id}` |
//! | approval list entry | `T#{t}#APPROVER#{identity}` | pending `P#{reached}#{approval}`, decided `D#{reached}#{approval}` | decided: GSI1 `T#{t}#APPROVER#{identity}` sort `M#{decided}#{approval}` |
//! | counts of an identity's lists | `T#{t}#COUNTS#IDENTITY#{id}` | `#` | |
//! | counts of a tenant's lists, split | `T#{t}#COUNTS#TENANT#{countShard}` | `#` | |
//!
//! **Shards.** A key that every change in a tenant would write (the
//! tenant's list of requests, of approvals, its events) is split [`SHARDS`]
//! ways by a hash of the request's id ([`shard`]): one partition key takes
//! at most 1,000 write units a second, and an index partition that cannot
//! keep up throttles the writes that feed it. A tenant-wide list merges the
//! shards' sorted streams (`store::scan`). A tenant's counts are split
//! further, [`COUNT_SHARDS`] ways: a counter item is written in the
//! transaction of each change, and transactions that meet on one item are
//! cancelled.
//!
//! **Sort keys** start with a fixed-width time (`time::format`, to the
//! millisecond), so that a partition read in key order is read in time
//! order; [`time_prefix`] is the part of a sort key rows of one millisecond
//! share.

use chrono::{DateTime, Utc};

use super::item::Key;
use crate::models::ItemType;
use crate::records::{EventRecord, PendingKey};

/// The sort key of single-record partitions.
pub const ROOT: &str = "#";

fn root(pk: String) -> Key {
    Key::new(pk, ROOT)
}

pub fn identity(tenant: &str, id: &str) -> Key {
    root(format!("T#{tenant}#IDENTITY#{id}"))
}

pub fn catalog(tenant: &str, item_type: ItemType, id: &str) -> Key {
    root(format!("T#{tenant}#CATALOG#{}#{id}", item_type.as_str()))
}

pub fn pending(tenant: &str, key: &PendingKey) -> Key {
    root(format!(
        "T#{tenant}#PENDING#{}#{}#{}#{}",
        key.identity_id,
        key.item_type.as_str(),
        key.item_id,
        key.request_type.as_str()
    ))
}

pub fn request(tenant: &str, id: &str) -> Key {
    root(format!("T#{tenant}#AR#{id}"))
}

/// How many ways a tenant-wide key is split. Changing it re-keys every
/// request, approval and event: a new table layout.
pub const SHARDS: u32 = 16;

/// The shard of a tenant-wide key that a record with this id writes to:
/// stable across processes and versions (the first bytes of its SHA-256).
pub fn shard(id: &str) -> u32 {
    shard_of(id, SHARDS)
}

fn shard_of(id: &str, shards: u32) -> u32 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(id.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % shards
}

/// Every shard, in order.
pub fn shards() -> impl Iterator<Item = u32> {
    0..SHARDS
}

/// Index partitions of access requests: by requester, by target, and the
/// tenant's (one per shard).
pub fn requester(tenant: &str, identity_id: &str) -> String {
    format!("T#{tenant}#REQUESTER#{identity_id}")
}

pub fn requested_for(tenant: &str, identity_id: &str) -> String {
    format!("T#{tenant}#FOR#{identity_id}")
}

pub fn tenant_requests(tenant: &str, shard: u32) -> String {
    format!("T#{tenant}#REQUESTS#{shard:02}")
}

pub fn assignees(tenant: &str, identity_id: &str) -> String {
    format!("T#{tenant}#ASSIGNEE#{identity_id}")
}

pub fn non_employee_source(tenant: &str, id: &str) -> Key {
    root(format!("T#{tenant}#NESOURCE#{id}"))
}

pub fn non_employee_request(tenant: &str, id: &str) -> Key {
    root(format!("T#{tenant}#NEREQUEST#{id}"))
}

pub fn non_employee_approval(tenant: &str, approval_item_id: &str) -> Key {
    root(format!("T#{tenant}#NEAPPROVAL#{approval_item_id}"))
}

/// The partition of the non-employee requests an identity lists.
pub fn non_employee_request_list(tenant: &str, identity_id: &str) -> String {
    format!("T#{tenant}#NEREQUESTLIST#{identity_id}")
}

/// The partition of the approval items an identity lists.
pub fn non_employee_approval_list(tenant: &str, identity_id: &str) -> String {
    format!("T#{tenant}#NEAPPROVALLIST#{identity_id}")
}

/// The guard that makes an account name unique on a source, whatever its
/// case (the source id comes first: it is a known id without `#`).
pub fn non_employee_account(tenant: &str, source_id: &str, account_name: &str) -> Key {
    root(format!(
        "T#{tenant}#NEACCOUNT#{source_id}#{}",
        account_name.to_lowercase()
    ))
}

/// The events partition of one shard of a tenant.
pub fn events(tenant: &str, shard: u32) -> String {
    format!("T#{tenant}#EVENTS#{shard:02}")
}

/// A caller's `Idempotency-Key` in a tenant.
pub fn idempotency(tenant: &str, caller: &str, key: &str) -> Key {
    root(format!("T#{tenant}#IDEM#{caller}#{key}"))
}

pub fn approval(tenant: &str, approval_id: &str) -> Key {
    root(format!("T#{tenant}#APPROVAL#{approval_id}"))
}

/// The approval list partition of one identity.
pub fn approvals_of(tenant: &str, identity: &str) -> String {
    format!("T#{tenant}#APPROVER#{identity}")
}

/// The index partition of one shard of the tenant's approvals (GSI3).
pub fn tenant_approvals(tenant: &str, shard: u32) -> String {
    format!("T#{tenant}#APPROVALS#{shard:02}")
}

/// The index partition of one shard of the tenant's decided approvals, by
/// when they were decided (GSI1).
pub fn tenant_decisions(tenant: &str, shard: u32) -> String {
    format!("T#{tenant}#DECIDED#{shard:02}")
}

/// Sort-key prefixes of the approval lists: pending and decided by when
/// they were reached, decided by when they were decided.
pub const PENDING_APPROVALS: &str = "P#";
pub const DECIDED_APPROVALS: &str = "D#";
pub const DECISIONS: &str = "M#";

/// Where an approval sorts in a list: `prefix`, then when (reached, or
/// decided), then its id.
pub fn list_position(prefix: &str, at: &DateTime<Utc>, approval_id: &str) -> String {
    format!("{prefix}{}", chronological(at, approval_id))
}

/// The counts of an identity's lists.
pub fn identity_counts(tenant: &str, identity: &str) -> Key {
    root(format!("T#{tenant}#COUNTS#IDENTITY#{identity}"))
}

/// How many counter items a tenant's counts are split across. Every change
/// in a tenant adds to one of them in its transaction, and DynamoDB cancels
/// a transaction that meets another on an item: the more there are, the
/// fewer meet (bench/README.md, "Shards"). Reading a tenant's totals reads
/// them all, in batches of 100.
pub const COUNT_SHARDS: u32 = 256;

/// The counter item a change of the record with this id adds to first.
pub fn count_shard(id: &str) -> u32 {
    shard_of(id, COUNT_SHARDS)
}

/// Every counter shard, in order.
pub fn count_shards() -> impl Iterator<Item = u32> {
    0..COUNT_SHARDS
}

const TENANT_COUNTS: &str = "#COUNTS#TENANT#";

/// The counts of one shard of a tenant's lists.
pub fn tenant_counts(tenant: &str, shard: u32) -> Key {
    root(format!("T#{tenant}{TENANT_COUNTS}{shard:03}"))
}

/// Another counter item of the same tenant's counts, for a transaction
/// that met another on `key` (`attempt` counts from 1); `None` for a key
/// that is not a tenant's counts.
pub fn other_tenant_counts(key: &Key, attempt: u32) -> Option<Key> {
    let (head, shard) = key.pk.rsplit_once(TENANT_COUNTS)?;
    let shard: u32 = shard.parse().ok()?;
    let next = (shard + attempt * (COUNT_SHARDS / 2 + 1)) % COUNT_SHARDS;
    Some(Key::new(
        format!("{head}{TENANT_COUNTS}{next:03}"),
        key.sk.clone(),
    ))
}

/// The part of a sort key `{prefix}{time}#...` that rows of one
/// millisecond share: `prefix` and the time.
pub fn time_prefix<'k>(sort_key: &'k str, prefix: &str) -> &'k str {
    let end = (prefix.len() + crate::time::WIDTH).min(sort_key.len());
    sort_key.get(..end).unwrap_or(sort_key)
}

/// The sort key bounds of `{prefix}{time}#...` keys whose time lies within
/// `from..=to` (to the millisecond, so that times within a millisecond of
/// a bound are included: callers compare exactly).
pub fn time_bounds(
    prefix: &str,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> (Option<String>, Option<String>) {
    // An open end without a prefix is no bound (DynamoDB refuses an empty
    // key value).
    let open = |bound: String| (!prefix.is_empty()).then_some(bound);
    (
        match from {
            Some(t) => Some(format!("{prefix}{}", crate::time::format(&t))),
            None => open(prefix.to_string()),
        },
        match to {
            // Every key of that millisecond: `{time}#...` sorts below `{time}$`.
            Some(t) => Some(format!("{prefix}{}$", crate::time::format(&t))),
            None => open(format!("{prefix}{}", char::MAX)),
        },
    )
}

/// `{created}#{id}`: sorts as (created, id) since the time is fixed-width.
pub fn chronological(created: &DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", crate::time::format(created))
}

/// `{created}#{sequence}#{id}`, the sequence zero-padded: sorts as
/// [`EventRecord::chronological_order`].
pub fn event(tenant: &str, event: &EventRecord) -> Key {
    Key::new(
        events(tenant, shard(&event.id)),
        format!(
            "{}#{:010}#{}",
            crate::time::format(&event.created),
            event.sequence,
            event.id
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chronological_keys_sort_by_time() {
        let a = crate::time::parse("2024-01-02T03:04:05.006Z").unwrap();
        let b = crate::time::parse("2024-01-02T03:04:05.100Z").unwrap();
        assert!(chronological(&a, "z") < chronological(&b, "a"));
        assert_eq!(chronological(&a, "x"), "2024-01-02T03:04:05.006Z#x");
    }
}
