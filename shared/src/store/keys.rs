//! The key layout: the only place that knows how records are keyed. Every
//! key starts with the tenant, so no key of one tenant can name another's
//! record.
//!
//! | record | PK | SK | indexes |
//! | --- | --- | --- | --- |
//! | identity | `T#{t}#IDENTITY#{id}` | `#` | |
//! | catalog item | `T#{t}#CATALOG#{TYPE}#{id}` | `#` | |
//! | duplicate guard (pointer) | `T#{t}#PENDING#{identity}#{TYPE}#{item}#{REQUEST_TYPE}` | `#` | |
//! | access request | `T#{t}#AR#{id}` | `#` | GSI1 `T#{t}#REQUESTER#{id}`, GSI2 `T#{t}#FOR#{id}`, GSI3 `T#{t}#AR`; sort `{created}#{id}` |
//! | assignment (pointer) | `T#{t}#ASSIGNEE#{identity}` | `{created}#{request}` | |
//! | non-employee source | `T#{t}#NESOURCE#{id}` | `#` | |
//! | non-employee request | `T#{t}#NEREQUEST#{id}` | `#` | |
//! | its copy per approval item | `T#{t}#NEAPPROVAL#{approvalItem}` | `#` | |
//! | its copy per identity that lists it | `T#{t}#NEREQUESTLIST#{identity}` | `{created}#{id}` | |
//! | approvals list entry | `T#{t}#NEAPPROVALLIST#{identity}` | `{created}#{approvalItem}` | |
//! | account name guard (pointer) | `T#{t}#NEACCOUNT#{source}#{accountName, lowercase}` | `#` | |
//! | event | `T#{t}#EVENTS` | `{created}#{sequence}#{id}` | |
//! | idempotency record | `T#{t}#IDEM#{caller}#{key}` | `#` | (expires after 24 h) |
//! | approval (with its request) | `T#{t}#APPROVAL#{id}` | `#` | |
//! | approval list entry | `T#{t}#APPROVER#{identity}`, and `T#{t}#APPROVALS` for the tenant | pending `P#{created}#{approval}`, decided `D#{decided}#{approval}` | |

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

/// Index partitions of access requests: by requester, by target, all.
pub fn requester(tenant: &str, identity_id: &str) -> String {
    format!("T#{tenant}#REQUESTER#{identity_id}")
}

pub fn requested_for(tenant: &str, identity_id: &str) -> String {
    format!("T#{tenant}#FOR#{identity_id}")
}

pub fn tenant_requests(tenant: &str) -> String {
    format!("T#{tenant}#AR")
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

pub fn events(tenant: &str) -> String {
    format!("T#{tenant}#EVENTS")
}

/// A caller's `Idempotency-Key` in a tenant.
pub fn idempotency(tenant: &str, caller: &str, key: &str) -> Key {
    root(format!("T#{tenant}#IDEM#{caller}#{key}"))
}

pub fn approval(tenant: &str, approval_id: &str) -> Key {
    root(format!("T#{tenant}#APPROVAL#{approval_id}"))
}

/// The approval list partition of one identity (`Some`), or of the tenant.
pub fn approvals_of(tenant: &str, owner: Option<&str>) -> String {
    match owner {
        Some(identity) => format!("T#{tenant}#APPROVER#{identity}"),
        None => format!("T#{tenant}#APPROVALS"),
    }
}

/// Sort-key prefixes of the approval lists: pending, decided.
pub const PENDING_APPROVALS: &str = "P#";
pub const DECIDED_APPROVALS: &str = "D#";

/// A pending approval's entry in a list: ordered by when it was reached.
pub fn pending_entry(partition: String, reached: &DateTime<Utc>, approval_id: &str) -> Key {
    Key::new(
        partition,
        format!("{PENDING_APPROVALS}{}", chronological(reached, approval_id)),
    )
}

/// A decided approval's entry in a list: ordered by when it was decided.
pub fn decided_entry(partition: String, decided: &DateTime<Utc>, approval_id: &str) -> Key {
    Key::new(
        partition,
        format!("{DECIDED_APPROVALS}{}", chronological(decided, approval_id)),
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
        events(tenant),
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
