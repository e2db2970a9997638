//! Approvals of access requests. The steps live in their request (the one
//! source of truth); every change of a request also writes, in the same
//! transaction, what presents its approvals:
//!
//! - each approval's own item (`keys::approval`): the request it belongs to,
//!   kept current while the approval is pending and left as it was by the
//!   change that ended it, so that a decision reads everything it needs in
//!   one request;
//! - list entries (`keys::approvals_of`): a pending approval is listed in
//!   the partition of every identity that may act on it (each member of its
//!   governance group), a decided one in its reviewer's and its owner's. An
//!   approver's list is then one Query of one partition, read consistently:
//!   a forward or a decision moves the entry between lists in the
//!   transaction that makes it. The tenant's list (ORG_ADMIN without
//!   `owner-id`) is one Query of an index (GSI3) of the approvals' own
//!   items: an entry per approval in the tenant's partition would cost one
//!   more write per step, and a submission of 25 items would no longer fit
//!   one transaction.
//!
//! Fan-out has its price in writes: a governance-group step costs one entry
//! per member where it is reached and where it ends. [`Store::transition_bound`]
//! is what the largest later change of a request can cost, which a
//! submission checks against the transaction limit up front.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::access_requests::{assignment_item, request_item};
use super::events::event_item;
use super::item::{Condition, Index, Item, Key, Query, Read, Record, Write};
use super::{keys, Store, StoreError};
use crate::models::OwnerType;
use crate::records::{
    AccessRequestRecord, ApprovalEntryRecord, ApprovalItemRecord, ApprovalRecord, Approver,
    EventRecord, IdentityRecord,
};

/// What a decision reads, in one request: the approval with its request,
/// and directory entries (the caller, a new owner).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApprovalRead {
    pub approval: Option<ApprovalItemRecord>,
    pub identities: HashMap<String, IdentityRecord>,
}

/// Which entries of an approval list to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalList {
    Pending,
    Decided,
    /// Both (a summary).
    All,
}

/// One list entry, and whether it is in the pending part of its list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedApproval {
    pub pending: bool,
    pub entry: ApprovalEntryRecord,
}

/// An approval's own item. A pending or decided approval is also indexed
/// (GSI3) in the tenant's approval list, which ORG_ADMIN reads.
fn approval_item(tenant: &str, request: &AccessRequestRecord, item: usize, step: usize) -> Item {
    let approval = &request.items[item].approvals[step];
    let own = Item::new(
        keys::approval(tenant, &approval.approval_id),
        Record::Approval(ApprovalItemRecord {
            approval_id: approval.approval_id.clone(),
            request: request.clone(),
        }),
    );
    match listed_at(request, approval) {
        Some((key, at)) => own.indexed(
            Index::Gsi3,
            key(keys::approvals_of(tenant, None), &at, &approval.approval_id),
        ),
        None => own,
    }
}

type EntryKey = fn(String, &DateTime<Utc>, &str) -> Key;

/// Where in a list an approval sorts: pending ones by when they were
/// reached, decided ones by when they were decided; others are not listed.
fn listed_at(
    request: &AccessRequestRecord,
    approval: &ApprovalRecord,
) -> Option<(EntryKey, DateTime<Utc>)> {
    let reached = approval.created_or(request.created);
    if approval.is_pending() {
        Some((keys::pending_entry, reached))
    } else if approval.is_decided() {
        Some((keys::decided_entry, approval.modified.unwrap_or(reached)))
    } else {
        None
    }
}

/// The identities listing an approval: while pending, each that may act on
/// it (every member of its governance group); once decided, its reviewer,
/// and its owner when an identity other than the reviewer (an ORG_ADMIN
/// decided for them).
fn listed_for(approval: &ApprovalRecord) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut add = |id: &str| {
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    };
    if approval.is_pending() {
        approval
            .owner()
            .acting_identities()
            .into_iter()
            .for_each(add);
    } else if approval.is_decided() {
        if let Some(reviewer) = &approval.reviewed_by {
            add(&reviewer.id);
        }
        let owner = approval.owner();
        if owner.owner_type == OwnerType::Identity {
            add(&owner.id);
        }
    }
    ids
}

/// The list entries of step `step` of item `item` of `request`.
fn entry_items(tenant: &str, request: &AccessRequestRecord, item: usize, step: usize) -> Vec<Item> {
    let approval = &request.items[item].approvals[step];
    let Some((key, at)) = listed_at(request, approval) else {
        return Vec::new();
    };
    let entry = ApprovalEntryRecord::of(request, item, step);
    listed_for(approval)
        .into_iter()
        .map(|owner| {
            Item::new(
                key(
                    keys::approvals_of(tenant, Some(&owner)),
                    &at,
                    &approval.approval_id,
                ),
                Record::ApprovalEntry(entry.clone()),
            )
        })
        .collect()
}

/// The writes of one change of a request, from `before` (`None`: it is new)
/// to `after`: the request itself (conditional on `before`'s version, or on
/// being new), the assignments of identities it newly concerns, and its
/// approvals' items and list entries.
pub(super) fn request_change(
    tenant: &str,
    before: Option<&AccessRequestRecord>,
    after: &AccessRequestRecord,
) -> Vec<Write> {
    let condition = match before {
        None => Condition::Absent,
        Some(b) => Condition::Version(b.version),
    };
    let mut writes = vec![Write::put_if(request_item(tenant, after), condition)];
    let known: HashSet<String> = before
        .map(|b| b.assignees().into_iter().collect())
        .unwrap_or_default();
    writes.extend(
        after
            .assignees()
            .iter()
            .filter(|id| !known.contains(*id))
            .map(|id| Write::put(assignment_item(tenant, after, id))),
    );
    for (i, item) in after.items.iter().enumerate() {
        for (j, approval) in item.approvals.iter().enumerate() {
            let id = approval.approval_id.as_str();
            let previous = before.and_then(|b| b.find_approval(id).map(|(bi, bj)| (b, bi, bj)));
            let was_pending = previous.map(|(b, bi, bj)| b.items[bi].approvals[bj].is_pending());
            let old_entries = match previous {
                Some((b, bi, bj)) if was_pending == Some(true) => entry_items(tenant, b, bi, bj),
                _ => Vec::new(),
            };
            let own = approval_item(tenant, after, i, j);
            match (was_pending, approval.is_pending()) {
                // Ended before this change: it stays as it was.
                (Some(false), false) => continue,
                // Reached by this change.
                (None, _) => writes.push(Write::put_if(own, Condition::Absent)),
                // Pending before: kept current, or ended by this change.
                (Some(_), _) => writes.push(Write::put(own)),
            }
            let new_entries = entry_items(tenant, after, i, j);
            let mut old: BTreeMap<Key, Item> = old_entries
                .into_iter()
                .map(|e| (e.key.clone(), e))
                .collect();
            for entry in new_entries {
                match old.remove(&entry.key) {
                    Some(same) if same == entry => {}
                    _ => writes.push(Write::put(entry)),
                }
            }
            writes.extend(old.into_keys().map(Write::delete));
        }
    }
    writes
}

/// The items a new request is stored with (seeding).
pub(super) fn request_items(tenant: &str, record: &AccessRequestRecord) -> Vec<Item> {
    request_change(tenant, None, record)
        .into_iter()
        .filter_map(|w| match w {
            Write::Put { item, .. } => Some(item),
            _ => None,
        })
        .collect()
}

/// How many list entries a pending step of `approver` has.
fn pending_fanout(approver: &Approver) -> usize {
    let ids: HashSet<&str> = approver.acting_identities().into_iter().collect();
    ids.len()
}

impl Store {
    /// The writes of storing a change of a request from `before` to `after`
    /// with `events` ([`Store::transition_request`]).
    pub fn transition_writes(
        tenant: &str,
        before: &AccessRequestRecord,
        after: &AccessRequestRecord,
        events: &[EventRecord],
    ) -> usize {
        request_change(tenant, Some(before), after).len() + events.len()
    }

    /// The most writes any later change of `record` can need: a cancel or
    /// close (the request, its event, and for each item its pending step's
    /// item and entries), or a decision (the request, its event, the
    /// decided step's item and entries, its two decided entries, the next
    /// step's item and entries, and the other pending steps' items; a
    /// forward needs no more).
    pub fn transition_bound(record: &AccessRequestRecord) -> usize {
        let mut ending = 2;
        let mut deciding_step = 0;
        let mut open_items: usize = 0;
        for item in &record.items {
            // The steps still to be decided, in order, by their fan-out.
            let steps: Vec<usize> = item
                .pending_approval()
                .map(|a| pending_fanout(a.owner()))
                .into_iter()
                .chain(item.upcoming.iter().map(|s| pending_fanout(&s.approver)))
                .collect();
            let Some(widest) = steps.iter().copied().max() else {
                continue;
            };
            ending += 1 + widest;
            open_items += 1;
            for (k, fanout) in steps.iter().enumerate() {
                let next = steps.get(k + 1).map_or(0, |n| 1 + n);
                deciding_step = deciding_step.max(fanout + next);
            }
        }
        let deciding = 2 + 1 + 2 + deciding_step + open_items.saturating_sub(1);
        ending.max(deciding)
    }

    /// Stores a change of a request atomically: the request (if its stored
    /// version is still `before`'s: `Conflict` otherwise), everything that
    /// presents its approvals, and `events`.
    pub async fn transition_request(
        &self,
        tenant: &str,
        before: &AccessRequestRecord,
        after: &AccessRequestRecord,
        events: &[EventRecord],
    ) -> Result<(), StoreError> {
        let mut writes = request_change(tenant, Some(before), after);
        writes.extend(events.iter().map(|e| Write::put(event_item(tenant, e))));
        self.commit(writes).await
    }

    /// The approval `approval_id` with its request (read consistently) and
    /// the directory entries of `identity_ids`, in one batch read.
    pub async fn read_approval(
        &self,
        tenant: &str,
        approval_id: &str,
        identity_ids: &[String],
    ) -> Result<ApprovalRead, StoreError> {
        let approval_key = keys::approval(tenant, approval_id);
        // The consistent read last: only its chunk pays for it.
        let mut reads: Vec<Read> = identity_ids
            .iter()
            .map(|id| Read::eventual(keys::identity(tenant, id)))
            .collect();
        reads.push(Read::consistent(approval_key.clone()));
        let mut read = ApprovalRead::default();
        for item in self.items.get(&reads).await? {
            match item.record {
                Record::Approval(a) if item.key == approval_key => read.approval = Some(a),
                Record::Identity(i) => {
                    read.identities.insert(i.id.clone(), i);
                }
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "{}: unexpected record kind {}",
                        item.key.pk,
                        other.kind()
                    )))
                }
            }
        }
        Ok(read)
    }

    /// The entries of one approval list in one Query: an identity's
    /// (`owner`), from its partition, read consistently; the tenant's
    /// (`None`), from the index of the approvals' own items.
    pub async fn list_approvals(
        &self,
        tenant: &str,
        owner: Option<&str>,
        which: ApprovalList,
    ) -> Result<Vec<ListedApproval>, StoreError> {
        let partition = keys::approvals_of(tenant, owner);
        let mut query = match owner {
            Some(_) => Query::table(partition),
            None => Query::index(Index::Gsi3, partition),
        };
        match which {
            ApprovalList::Pending => query = query.with_prefix(keys::PENDING_APPROVALS),
            ApprovalList::Decided => query = query.with_prefix(keys::DECIDED_APPROVALS),
            ApprovalList::All => {}
        }
        let mut listed = Vec::new();
        for item in self.items.query(&query).await? {
            let sort = match (owner, item.indexes.iter().find(|(i, _)| *i == Index::Gsi3)) {
                (None, Some((_, k))) => k.sk.clone(),
                _ => item.key.sk.clone(),
            };
            let pending = sort.starts_with(keys::PENDING_APPROVALS);
            let pk = item.key.pk.clone();
            let entry = match item.record {
                Record::ApprovalEntry(e) => e,
                Record::Approval(a) => match a.request.find_approval(&a.approval_id) {
                    Some((i, j)) => ApprovalEntryRecord::of(&a.request, i, j),
                    None => {
                        return Err(StoreError::Corrupt(format!(
                            "{pk}: approval {} is not in its request",
                            a.approval_id
                        )))
                    }
                },
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "{pk}: unexpected record kind {}",
                        other.kind()
                    )))
                }
            };
            listed.push(ListedApproval { pending, entry });
        }
        Ok(listed)
    }
}
