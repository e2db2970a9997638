//! The sizes of the lists, kept beside them: every change of a list adds,
//! in its own transaction, what it changes to the counts of each scope
//! whose lists it touches (an identity's, a tenant shard's). A list's total
//! (`X-Total-Count` without filters, the summaries) is then one batch read
//! of a few counter items, whatever the list's history.
//!
//! A record's *contribution* is what it adds to the counts while it is
//! stored as it is: the rows it puts in each list (one per requested item
//! in the status lists, one per list entry in the approval lists). A
//! change adds the difference of the record's contributions after and
//! before, so the counts follow the lists by construction; the store
//! conformance suite checks them against the lists themselves.

use std::collections::BTreeMap;

use super::item::{Key, Record, Write};
use super::{keys, Store, StoreError};
use crate::models::{ApprovalStatus, RequestState, WorkItemState};
use crate::records::{
    AccessRequestRecord, ApprovalRecord, CounterRecord, Counts, NonEmployeeRequestRecord,
};

/// Status rows (requested items) of requests an identity submitted.
pub const REQUESTED: &str = "requested";
/// Status rows of requests for an identity.
pub const FOR: &str = "for";
/// Status rows of requests an identity submitted for itself.
pub const SELF: &str = "self";
/// Status rows of a tenant shard's requests.
pub const ITEMS: &str = "items";
/// Status rows assigned to an identity: requested items with a reached
/// approval step it owns or owned (`assigned-to`). It changes only where a
/// step is reached or forwarded, in transactions that already write the
/// counts of the step's owners; an `...Executing` twin would change, when
/// a request ends, for every identity that decided one of its steps, and
/// would widen the largest transaction. So `assigned-to` with
/// `request-state=EXECUTING` is counted by reading.
pub const ASSIGNED: &str = "assigned";
/// Approval list entries, pending, approved and rejected.
pub const APPROVALS_PENDING: &str = "approvalsPending";
pub const APPROVALS_APPROVED: &str = "approvalsApproved";
pub const APPROVALS_REJECTED: &str = "approvalsRejected";

/// The name of the count of rows that are still executing.
pub fn executing(name: &str) -> String {
    format!("{name}Executing")
}

/// A status count with its [`executing`] twin, spelt out so that counting a
/// change builds no name.
type StatusCount = (&'static str, &'static str);
const REQUESTED_ROWS: StatusCount = (REQUESTED, "requestedExecuting");
const FOR_ROWS: StatusCount = (FOR, "forExecuting");
const SELF_ROWS: StatusCount = (SELF, "selfExecuting");
const ITEMS_ROWS: StatusCount = (ITEMS, "itemsExecuting");

/// The count of an identity's non-employee requests list with this status.
pub fn non_employee_requests(status: ApprovalStatus) -> String {
    format!("neRequests{}", status.as_str())
}

/// The count of an identity's non-employee approvals list with this status.
pub fn non_employee_approvals(status: ApprovalStatus) -> String {
    format!("neApprovals{}", status.as_str())
}

/// The count an approval's list entries add to, by its status (`None`:
/// not listed).
pub(super) fn approval_count(approval: &ApprovalRecord) -> Option<&'static str> {
    match approval.status {
        WorkItemState::Pending => Some(APPROVALS_PENDING),
        WorkItemState::Approved => Some(APPROVALS_APPROVED),
        WorkItemState::Rejected => Some(APPROVALS_REJECTED),
        _ => None,
    }
}

/// Counts to add, by counter item.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally(BTreeMap<Key, Counts>);

impl Tally {
    pub fn add(&mut self, key: Key, name: &str, n: i64) {
        if n != 0 {
            let counts = self.0.entry(key).or_default();
            match counts.get_mut(name) {
                Some(count) => *count += n,
                None => {
                    counts.insert(name.to_string(), n);
                }
            }
        }
    }

    /// Adds everything `other` holds, times `sign`.
    pub fn merge(&mut self, other: Tally, sign: i64) {
        for (key, counts) in other.0 {
            for (name, n) in counts {
                self.add(key.clone(), &name, sign * n);
            }
        }
    }

    /// The difference `after - before`.
    pub fn change(before: Tally, after: Tally) -> Tally {
        let mut tally = after;
        tally.merge(before, -1);
        tally
    }

    /// One [`Write::Add`] per counter item with a non-zero count to add.
    pub fn writes(self) -> Vec<Write> {
        self.0
            .into_iter()
            .filter_map(|(key, counts)| {
                let counts: Counts = counts.into_iter().filter(|(_, n)| *n != 0).collect();
                (!counts.is_empty()).then_some(Write::Add { key, counts })
            })
            .collect()
    }

    /// The counter items it adds to.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.0.keys()
    }
}

/// What an access request, stored as it is, adds to the counts: its
/// requested items to the status lists of its requester, its target (and,
/// for a request for oneself, that identity's own count, which the
/// `regarding-identity` total subtracts once), its tenant shard, and of
/// every identity that owns or owned one of the item's reached steps; and
/// each listed approval to the lists that list it.
pub fn access_request(tenant: &str, r: &AccessRequestRecord) -> Tally {
    let mut tally = Tally::default();
    let rows = r.items.len() as i64;
    let executing_rows = r
        .items
        .iter()
        .filter(|i| r.item_state(i) == RequestState::Executing)
        .count() as i64;
    // Each status count and its `executing` twin.
    let mut status_rows = |key: Key, (name, executing): StatusCount| {
        tally.add(key.clone(), name, rows);
        tally.add(key, executing, executing_rows);
    };
    let requester = keys::identity_counts(tenant, &r.requester.id);
    status_rows(requester.clone(), REQUESTED_ROWS);
    if r.requester.id == r.requested_for.id {
        status_rows(requester.clone(), FOR_ROWS);
        status_rows(requester, SELF_ROWS);
    } else {
        status_rows(keys::identity_counts(tenant, &r.requested_for.id), FOR_ROWS);
    }
    let shard = keys::tenant_counts(tenant, keys::count_shard(&r.id));
    status_rows(shard.clone(), ITEMS_ROWS);
    for item in &r.items {
        let mut assigned: Vec<&str> = item
            .approvals
            .iter()
            .flat_map(ApprovalRecord::involved)
            .collect();
        assigned.sort_unstable();
        assigned.dedup();
        for identity in assigned {
            tally.add(keys::identity_counts(tenant, identity), ASSIGNED, 1);
        }
    }
    for approval in r.items.iter().flat_map(|i| &i.approvals) {
        let Some(count) = approval_count(approval) else {
            continue;
        };
        tally.add(shard.clone(), count, 1);
        for identity in approval.listed_for() {
            tally.add(keys::identity_counts(tenant, &identity), count, 1);
        }
    }
    tally
}

/// What a non-employee request adds to the counts: a row in the requests
/// list of each identity that lists it, and each approval item's entries
/// in the approvals lists. A deleted request adds only the entries of its
/// decided items, which outlive it.
pub fn non_employee_request(tenant: &str, r: &NonEmployeeRequestRecord, deleted: bool) -> Tally {
    let mut tally = Tally::default();
    if !deleted {
        let count = non_employee_requests(r.approval_status);
        for identity in r.listed_for() {
            tally.add(keys::identity_counts(tenant, identity), &count, 1);
        }
    }
    for item in r
        .approval_items
        .iter()
        .filter(|i| !deleted || i.is_decided())
    {
        let count = non_employee_approvals(item.approval_status);
        for identity in item.listed_for() {
            tally.add(keys::identity_counts(tenant, identity), &count, 1);
        }
    }
    tally
}

/// Counts as read: missing counter items count zero.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CountsRead(BTreeMap<Key, CounterRecord>);

impl CountsRead {
    /// The count `name` of the counter item `key`.
    pub fn get(&self, key: &Key, name: &str) -> i64 {
        self.0.get(key).map_or(0, |c| c.get(name))
    }

    /// The count `name` of an identity.
    pub fn identity(&self, tenant: &str, identity: &str, name: &str) -> i64 {
        self.get(&keys::identity_counts(tenant, identity), name)
    }

    /// The count `name` summed over a tenant's counter shards.
    pub fn tenant(&self, tenant: &str, name: &str) -> i64 {
        keys::count_shards()
            .map(|s| self.get(&keys::tenant_counts(tenant, s), name))
            .sum()
    }
}

/// Whose counts to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountScope {
    Identity(String),
    Tenant,
}

impl Store {
    /// The counter items of `scopes`, in one batch read.
    pub async fn read_counts(
        &self,
        tenant: &str,
        scopes: &[CountScope],
    ) -> Result<CountsRead, StoreError> {
        let mut batch = super::item::Batch::default();
        for scope in scopes {
            match scope {
                CountScope::Identity(id) => {
                    let key = keys::identity_counts(tenant, id);
                    batch.want(key.clone(), key, true)
                }
                CountScope::Tenant => {
                    for s in keys::count_shards() {
                        let key = keys::tenant_counts(tenant, s);
                        batch.want(key.clone(), key, true)
                    }
                }
            }
        }
        let mut read = CountsRead::default();
        for (key, item) in batch.read(&*self.items).await? {
            let kind = item.record.kind();
            match item.record {
                Record::Counter(c) => {
                    read.0.insert(key, c);
                }
                _ => return Err(super::item::unexpected(&key.pk, kind)),
            }
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spelt_out_executing_names_are_the_twins_the_lists_read() {
        for (name, twin) in [REQUESTED_ROWS, FOR_ROWS, SELF_ROWS, ITEMS_ROWS] {
            assert_eq!(twin, executing(name));
        }
    }
}
