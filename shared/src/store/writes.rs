//! The write sets that operations plan with (`plan::Plan`): each is what one
//! typed change of the store writes, atomically, built without a store
//! call. The `Store` methods of the same changes apply them directly, for
//! seeds, tools and tests; an operation hands them to its runner instead,
//! which adds the request's idempotency record and commits.

use std::sync::Arc;

use super::events::event_item;
use super::item::Write;
use super::non_employee::{creation_writes, deletion_writes, update_writes};
use super::request_writes::{request_change, submission as submission_writes};
use crate::records::{AccessRequestRecord, EventRecord, NonEmployeeRequestRecord, PendingClaim};

/// A submission: every request (which must not exist yet) with its
/// assignments and first steps' approvals, and every duplicate-guard claim
/// (absent, or still naming the stale request it `replaces`).
pub fn submission(
    tenant: &str,
    requests: &[AccessRequestRecord],
    claims: &[PendingClaim],
) -> Vec<Write> {
    submission_writes(tenant, requests, claims)
}

/// A change of a request: the request (if its stored version is still
/// `before`'s), everything that presents its approvals, its counts, and
/// `events`.
pub fn transition(
    tenant: &str,
    before: &AccessRequestRecord,
    after: &AccessRequestRecord,
    events: &[EventRecord],
) -> Vec<Write> {
    let (mut writes, tally) = request_change(tenant, Some(before), Arc::new(after.clone()));
    writes.extend(events.iter().map(|e| event(tenant, e)));
    writes.extend(tally.writes());
    writes
}

/// An audit event.
pub fn event(tenant: &str, event: &EventRecord) -> Write {
    Write::put(event_item(tenant, event))
}

/// A new non-employee request with everything that lists it (its id and
/// its account name on the source must be free).
pub fn non_employee_creation(tenant: &str, r: &NonEmployeeRequestRecord) -> Vec<Write> {
    creation_writes(tenant, r)
}

/// `before` replaced by `after` (its next version), if the stored request
/// is still at `before`'s version.
pub fn non_employee_update(
    tenant: &str,
    before: &NonEmployeeRequestRecord,
    after: &NonEmployeeRequestRecord,
) -> Vec<Write> {
    update_writes(tenant, before, after)
}

/// The deletion of `r`, if the stored request is still at its version.
pub fn non_employee_deletion(tenant: &str, r: &NonEmployeeRequestRecord) -> Vec<Write> {
    deletion_writes(tenant, r)
}
