//! The write set of an access request: everything one change of a request
//! writes, in one transaction, besides its events. The request is the one
//! source of truth; this presents it:
//!
//! - the request's own item, indexed by requester, target and tenant shard;
//! - an assignment for each identity it concerns (status `assigned-to`);
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
//!   one transaction;
//! - what the change adds to the counts of the lists (`counts`).
//!
//! Fan-out has its price in writes: a governance-group step costs one entry
//! per member where it is reached and where it ends. [`Store::transition_bound`]
//! is what the largest later change of a request can cost, which a
//! submission checks against the transaction limit up front.
//!
//! The reading side is in `access_requests` (requests, their lists) and
//! `approvals` (approvals, their lists); both depend on this module, and it
//! on neither.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::counts;
use super::item::{Condition, Index, Item, Key, Record, Write};
use super::{keys, Store};
use crate::records::{
    AccessRequestRecord, ApprovalItemRecord, ApprovalRecord, Approver, EventRecord, PendingClaim,
    PointerRecord, StoredEntry,
};

/// Where a request sorts in its lists: `{created}#{id}`.
pub(super) fn request_position(record: &AccessRequestRecord) -> Arc<str> {
    keys::chronological(&record.created, &record.id).into()
}

/// The request's own item; `sort` is its [`request_position`] (one copy
/// for its three indexes and its assignments).
pub(super) fn request_item(
    tenant: &str,
    record: &Arc<AccessRequestRecord>,
    sort: &Arc<str>,
) -> Item {
    Item::new(
        keys::request(tenant, &record.id),
        Record::AccessRequest(Arc::clone(record)),
    )
    .indexed(
        Index::Gsi1,
        Key::new(
            keys::requester(tenant, &record.requester.id),
            Arc::clone(sort),
        ),
    )
    .indexed(
        Index::Gsi2,
        Key::new(
            keys::requested_for(tenant, &record.requested_for.id),
            Arc::clone(sort),
        ),
    )
    .indexed(
        Index::Gsi3,
        Key::new(
            keys::tenant_requests(tenant, keys::shard(&record.id)),
            Arc::clone(sort),
        ),
    )
}

/// The assignment that lists `record` for `identity` (status `assigned-to`).
pub(super) fn assignment_item(
    tenant: &str,
    record: &AccessRequestRecord,
    identity: &str,
    sort: &Arc<str>,
) -> Item {
    Item::new(
        Key::new(keys::assignees(tenant, identity), Arc::clone(sort)),
        Record::Pointer(PointerRecord {
            target: record.id.clone(),
        }),
    )
}

/// The writes of a submission: every request with everything that presents
/// it, every duplicate-guard claim, and the counts they add to.
pub(super) fn submission(
    tenant: &str,
    requests: &[AccessRequestRecord],
    claims: &[PendingClaim],
) -> Vec<Write> {
    let mut writes = Vec::new();
    let mut tally = counts::Tally::default();
    for r in requests {
        let (w, t) = request_change(tenant, None, Arc::new(r.clone()));
        writes.extend(w);
        tally.merge(t, 1);
    }
    for c in claims {
        let claim = Item::new(
            keys::pending(tenant, &c.key),
            Record::Pointer(PointerRecord {
                target: c.access_request_id.clone(),
            }),
        );
        let condition = match &c.replaces {
            None => Condition::Absent,
            Some(stale) => Condition::PointsTo(stale.clone()),
        };
        writes.push(Write::put_if(claim, condition));
    }
    writes.extend(tally.writes());
    writes
}

/// Where an approval sorts in the lists: by when it was reached (under the
/// prefix of its part, pending or decided) and, once decided, by when it
/// was decided; `None` for an approval no list shows. The same strings sort
/// it in the tenant's lists and in each identity's.
struct Positions {
    reached: Arc<str>,
    decided: Option<Arc<str>>,
}

impl Positions {
    fn of(request: &AccessRequestRecord, approval: &ApprovalRecord) -> Option<Self> {
        let prefix = list_prefix(approval)?;
        let id = &approval.approval_id;
        Some(Self {
            reached: keys::list_position(prefix, &approval.created_or(request.created), id).into(),
            decided: approval.is_decided().then(|| {
                keys::list_position(keys::DECISIONS, &decided_at(request, approval), id).into()
            }),
        })
    }
}

/// An approval's own item. A pending or decided approval is also indexed
/// (GSI3) in its shard of the tenant's approvals, by when it was reached; a
/// decided one also (GSI1) in its shard of the tenant's decisions, by when
/// it was decided. ORG_ADMIN's lists read them.
fn approval_item(
    tenant: &str,
    request: &Arc<AccessRequestRecord>,
    item: usize,
    step: usize,
    positions: Option<&Positions>,
) -> Item {
    let approval = &request.items[item].approvals[step];
    let shard = keys::shard(&request.id);
    let mut own = Item::new(
        keys::approval(tenant, &approval.approval_id),
        Record::Approval(ApprovalItemRecord {
            approval_id: approval.approval_id.clone(),
            request: Arc::clone(request),
        }),
    );
    if let Some(at) = positions {
        own = own.indexed(
            Index::Gsi3,
            Key::new(keys::tenant_approvals(tenant, shard), at.reached.clone()),
        );
        if let Some(decided) = &at.decided {
            own = own.indexed(
                Index::Gsi1,
                Key::new(keys::tenant_decisions(tenant, shard), decided.clone()),
            );
        }
    }
    own
}

/// Which part of a list an approval is in, by when it was reached: pending
/// or decided; others are not listed.
fn list_prefix(approval: &ApprovalRecord) -> Option<&'static str> {
    if approval.is_pending() {
        Some(keys::PENDING_APPROVALS)
    } else if approval.is_decided() {
        Some(keys::DECIDED_APPROVALS)
    } else {
        None
    }
}

/// When a decided approval was decided (its last change).
fn decided_at(request: &AccessRequestRecord, approval: &ApprovalRecord) -> DateTime<Utc> {
    approval
        .modified
        .unwrap_or_else(|| approval.created_or(request.created))
}

/// The list entries of step `step` of item `item` of `request`: in the list
/// of each identity listing it, by when it was reached; once decided, also
/// indexed (GSI1) in that identity's list by when it was decided.
fn entry_items(
    tenant: &str,
    request: &Arc<AccessRequestRecord>,
    item: usize,
    step: usize,
    positions: Option<&Positions>,
) -> Vec<Item> {
    let approval = &request.items[item].approvals[step];
    let Some(at) = positions else {
        return Vec::new();
    };
    let entry = StoredEntry::Step {
        request: Arc::clone(request),
        item,
        step,
    };
    approval
        .listed_for()
        .into_iter()
        .map(|owner| {
            let list = keys::approvals_of(tenant, &owner);
            let listed = Item::new(
                Key::new(list.clone(), at.reached.clone()),
                Record::ApprovalEntry(entry.clone()),
            );
            match &at.decided {
                Some(decided) => listed.indexed(Index::Gsi1, Key::new(list, decided.clone())),
                None => listed,
            }
        })
        .collect()
}

/// The writes of one change of a request, from `before` (`None`: it is new)
/// to `after`: the request itself (conditional on `before`'s version, or on
/// being new), the assignments of identities it newly concerns, and its
/// approvals' items and list entries; and what the change adds to the
/// counts of the lists (written once per transaction, with the other
/// changes' in it: [`counts::Tally::writes`]).
pub(super) fn request_change(
    tenant: &str,
    before: Option<&AccessRequestRecord>,
    after: Arc<AccessRequestRecord>,
) -> (Vec<Write>, counts::Tally) {
    let condition = match before {
        None => Condition::Absent,
        Some(b) => Condition::Version(b.version),
    };
    // One copy of the record (`after`), shared by its own item, its
    // approvals' and the list entries this change writes.
    let shared = after;
    let after = shared.as_ref();
    let before = before.map(|b| Arc::new(b.clone()));
    let sort = request_position(after);
    let mut writes = vec![Write::put_if(
        request_item(tenant, &shared, &sort),
        condition,
    )];
    let known: HashSet<String> = before
        .as_ref()
        .map(|b| b.assignees().into_iter().collect())
        .unwrap_or_default();
    writes.extend(
        after
            .assignees()
            .iter()
            .filter(|id| !known.contains(*id))
            .map(|id| Write::put(assignment_item(tenant, after, id, &sort))),
    );
    for (i, item) in after.items.iter().enumerate() {
        for (j, approval) in item.approvals.iter().enumerate() {
            let id = approval.approval_id.as_str();
            let previous = before
                .as_ref()
                .and_then(|b| b.find_approval(id).map(|(bi, bj)| (b, bi, bj)));
            let was_pending = previous.map(|(b, bi, bj)| b.items[bi].approvals[bj].is_pending());
            let old_entries = match previous {
                Some((b, bi, bj)) if was_pending == Some(true) => {
                    let at = Positions::of(b, &b.items[bi].approvals[bj]);
                    entry_items(tenant, b, bi, bj, at.as_ref())
                }
                _ => Vec::new(),
            };
            let at = Positions::of(after, approval);
            let own = approval_item(tenant, &shared, i, j, at.as_ref());
            match (was_pending, approval.is_pending()) {
                // Ended before this change: it stays as it was.
                (Some(false), false) => continue,
                // Reached by this change.
                (None, _) => writes.push(Write::put_if(own, Condition::Absent)),
                // Pending before: kept current, or ended by this change.
                (Some(_), _) => writes.push(Write::put(own)),
            }
            let new_entries = entry_items(tenant, &shared, i, j, at.as_ref());
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
    let before_counts = before
        .as_ref()
        .map(|b| counts::access_request(tenant, b))
        .unwrap_or_default();
    let tally = counts::Tally::change(before_counts, counts::access_request(tenant, after));
    (writes, tally)
}

/// The items a new request is stored with (seeding), its counts aside.
pub(super) fn request_items(tenant: &str, mut record: AccessRequestRecord) -> Vec<Item> {
    record.shrink_to_fit();
    request_change(tenant, None, Arc::new(record))
        .0
        .into_iter()
        .filter_map(|w| match w {
            Write::Put { item, .. } => Some(item),
            _ => None,
        })
        .collect()
}

/// The identities that may act on a pending step of `approver`.
fn acting(approver: &Approver) -> HashSet<&str> {
    approver.acting_identities().into_iter().collect()
}

/// Counter items every change of a request may add to besides those of
/// its list entries: its requester's, its target's, its tenant shard's.
const STATUS_COUNTERS: usize = 3;

impl Store {
    /// The writes of storing a change of a request from `before` to `after`
    /// with `events` ([`Store::transition_request`]).
    pub fn transition_writes(
        tenant: &str,
        before: &AccessRequestRecord,
        after: &AccessRequestRecord,
        events: &[EventRecord],
    ) -> usize {
        let (writes, tally) = request_change(tenant, Some(before), Arc::new(after.clone()));
        writes.len() + tally.writes().len() + events.len()
    }

    /// The most writes any later change of `record` can need: a cancel or
    /// close (the request, its event, and for each open item its pending
    /// step's item and entries), or a decision (the request, its event, the
    /// decided step's item and entries, its decided entries — the
    /// reviewer's and the owner's — the next step's item and entries,
    /// and the other pending steps' items); each with the counter items of
    /// the identities whose counts change and of [`STATUS_COUNTERS`]. A
    /// forward needs no more than a decision.
    pub fn transition_bound(record: &AccessRequestRecord) -> usize {
        let mut ending_items = 0;
        let mut ending_entries = 0;
        let mut ending_listed: HashSet<&str> = HashSet::new();
        let mut deciding_step = 0;
        let mut open_items: usize = 0;
        for item in &record.items {
            // The steps still to be decided, in order, by who may act on them.
            let steps: Vec<HashSet<&str>> = item
                .pending_approval()
                .map(|a| acting(a.owner()))
                .into_iter()
                .chain(item.upcoming.iter().map(|s| acting(&s.approver)))
                .collect();
            let Some(widest) = steps.iter().max_by_key(|a| a.len()) else {
                continue;
            };
            open_items += 1;
            ending_items += 1;
            ending_entries += widest.len();
            // Any of the steps may be the pending one when it ends.
            steps.iter().flatten().for_each(|id| {
                ending_listed.insert(id);
            });
            for (k, now) in steps.iter().enumerate() {
                let next = steps.get(k + 1);
                let next_items = usize::from(next.is_some());
                let next_entries = next.map_or(0, HashSet::len);
                // The reviewer's (an ORG_ADMIN may be none of them) and the
                // owner's.
                let decided_entries = 2;
                // The counts that change: those of identities listing one
                // step but not the other, the reviewer's and the owner's.
                let recounted = next.map_or(now.len(), |n| now.symmetric_difference(n).count()) + 2;
                deciding_step = deciding_step
                    .max(next_items + now.len() + decided_entries + next_entries + recounted);
            }
        }
        let ending = 2
            + ending_items
            + ending_entries
            + ending_listed.len().min(ending_entries)
            + STATUS_COUNTERS;
        let deciding = 2 + 1 + open_items.saturating_sub(1) + deciding_step + STATUS_COUNTERS;
        ending.max(deciding)
    }
}
