//! What the per-field bounds of `crate::limits` add up to in one access
//! request (SPEC §2, docs/decisions.md "Size bounds"). A request is stored as one
//! record, and every change of it also rewrites a copy of it for each of
//! its pending approvals, with the list entries of the step it decides and
//! reaches. Every call that adds caller text to a request — a submission,
//! an approval or rejection with its comment, a forward — checks before it
//! writes that, even once every step the request has left is decided by an
//! identity with the longest id and name and no comment:
//!
//! - the request as stored stays within [`MAX_REQUEST_BYTES`] (DynamoDB's
//!   400 KB item limit);
//! - every transaction a later change can write stays within
//!   [`MAX_TRANSACTION_BYTES`] (DynamoDB's 4 MB transaction limit);
//! - every row that shows one of its items (its status, its pending and
//!   completed approvals) stays within [`MAX_ROW_BYTES`] as answered
//!   (Lambda's 6 MB response limit, for a page of 250);
//!
//! each with the room a cancel or a close may still need. So decisions
//! without a comment, cancels and closes never fail for size.

use chrono::{DateTime, Utc};

use super::lifecycle::{decided, Decision};
use super::{render, ApiVersion};
use crate::error::ApiError;
use crate::limits::{
    escaped_json_bytes, json_bytes, MAX_ID_CHARS, MAX_NAME_CHARS, MAX_REQUEST_BYTES, MAX_ROW_BYTES,
    MAX_TRANSACTION_BYTES, REQUEST_RESERVE_BYTES, ROW_RESERVE_BYTES,
};
use crate::records::{AccessRequestRecord, ApprovalEntryRecord, NamedRef};

/// What a stored copy or list entry weighs besides its record: its keys,
/// index keys, kind and approval id (ids and the tenant are at most 64
/// characters each).
const KEYS_BYTES: usize = 1024;
/// The audit event of a decision (its comment at most 4000 characters of
/// four bytes) or of a close (its message), and an assignment written with
/// a forward.
const EVENTS_BYTES: usize = 18 * 1024;
/// A counter item (the sizes of one scope's lists: a few named counts)
/// with its keys; a change updates those of the identities whose lists it
/// changes, and of the request's requester, target and tenant shard.
const COUNTER_BYTES: usize = 1024;
const STATUS_COUNTERS: usize = 3;

/// The sizes that bound a request: as stored (with the room for a cancel
/// or close), the largest transaction a change of it can write, and its
/// largest row as answered (with the same room), with the item the row
/// shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sizes {
    pub request: usize,
    pub transaction: usize,
    pub row: (usize, usize),
}

/// Which limit a request would exceed, by how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overflow {
    /// The item whose row it is, for a row.
    pub item: Option<usize>,
    pub what: String,
    pub size: usize,
    pub limit: usize,
}

impl Overflow {
    /// The 400's cause, for the field that brought the text.
    pub fn cause(&self, field: &str) -> String {
        format!(
            "{field}: with it, {} would take {} bytes once every step left is decided; at most \
             {} are allowed: {} bytes too many (a character takes 1 to 4 bytes; see docs/decisions.md, \
             \"Size bounds\")",
            self.what,
            self.size,
            self.limit,
            self.size - self.limit
        )
    }

    pub fn error(&self, field: &str) -> ApiError {
        ApiError::bad_request(self.cause(field))
    }
}

/// An identity with the longest id and name, each character of the name
/// four bytes long: who decides the steps a request has left, for sizing.
fn heaviest_reviewer() -> NamedRef {
    NamedRef {
        id: "x".repeat(MAX_ID_CHARS),
        name: "\u{1D54F}".repeat(MAX_NAME_CHARS),
    }
}

/// `record` once each step it has left is approved, without a comment, by
/// [`heaviest_reviewer`]: the most the decisions that add no text can make
/// of it. Each item is decided apart (a decision changes its own item and
/// the request's state), so that no step copies the whole request.
pub fn fully_decided(record: &AccessRequestRecord, now: DateTime<Utc>) -> AccessRequestRecord {
    let reviewer = heaviest_reviewer();
    let approve = Decision::Approve { comment: None };
    let without_items = AccessRequestRecord {
        items: Vec::new(),
        ..record.clone()
    };
    let mut out = without_items.clone();
    for item in &record.items {
        // The item alone in the request as it is now: decisions on the
        // other items do not change what this one may still become.
        let mut alone = AccessRequestRecord {
            items: vec![item.clone()],
            ..without_items.clone()
        };
        // Until no step is pending, or the one that is cannot be decided
        // (its item or request has ended).
        while let Some(step) = alone.items[0]
            .pending_approval()
            .map(|a| a.approval_id.clone())
        {
            match decided(&alone, &step, &reviewer, &approve, now) {
                Ok(next) => alone = next,
                Err(_) => break,
            }
        }
        let decided_item = alone.items.pop().unwrap_or_else(|| item.clone());
        if decided_item != *item {
            // The request as the last decision left it (its state, phases,
            // version), with all items.
            out = AccessRequestRecord {
                items: std::mem::take(&mut out.items),
                ..alone
            };
        }
        out.items.push(decided_item);
    }
    out
}

/// Step `step` of item `i` as a pending or a completed approval.
fn approval_row(record: &AccessRequestRecord, i: usize, step: usize) -> usize {
    entry_row(&ApprovalEntryRecord::of(record, i, step))
}

/// An approval's list entry as a pending or a completed approval row.
fn entry_row(entry: &ApprovalEntryRecord) -> usize {
    let pending = render::pending(entry, ApiVersion::V3).map(|p| escaped_json_bytes(&p));
    let completed = render::completed(entry).map(|c| escaped_json_bytes(&c));
    pending.max(completed).unwrap_or(0)
}

/// The sizes of `record` as it is, and as it will be once `decided` (the
/// same request with every step it has left decided).
pub fn sizes(record: &AccessRequestRecord, decided: &AccessRequestRecord) -> Sizes {
    let request = json_bytes(record).max(json_bytes(decided)) + REQUEST_RESERVE_BYTES;
    let mut sizes = Sizes {
        request,
        ..Default::default()
    };
    // A change writes the request, a copy for each pending approval (one per
    // item that still executes) and for the step it reaches, the entries of
    // the step it decides (its reviewer's and its owner's, one each, which
    // GSI1 also indexes by when it was decided) and of
    // the step it reaches (one per member of its group), the counters of
    // the identities whose lists change and of the request, and an event.
    let open = record
        .items
        .iter()
        .filter(|i| !record.item_state(i).is_final())
        .count();
    let copies = (open + 2) * (request + KEYS_BYTES);
    let mut entries = 0;
    let mut widest_step = 0;
    for (i, item) in decided.items.iter().enumerate() {
        // Rows only grow as steps are decided, but for a pending step's own
        // row, which only the request as it is has.
        let pending = record.items.get(i).map_or(0, |now| {
            (0..now.approvals.len())
                .filter(|&step| now.approvals[step].is_pending())
                .map(|step| approval_row(record, i, step))
                .max()
                .unwrap_or(0)
        });
        // The item's status row, and each step's rows and list entry (one
        // entry built per step, for both).
        let mut row = escaped_json_bytes(&render::item_status(decided, item)).max(pending);
        let mut entry = 0;
        for step in 0..item.approvals.len() {
            let of_step = ApprovalEntryRecord::of(decided, i, step);
            row = row.max(entry_row(&of_step));
            entry = entry.max(json_bytes(&of_step));
        }
        let row = row + ROW_RESERVE_BYTES;
        if row > sizes.row.0 {
            sizes.row = (row, i);
        }
        let entry = entry + KEYS_BYTES;
        let widest = item
            .approvals
            .iter()
            .map(|a| a.approver.acting_identities().len())
            .max()
            .unwrap_or(0);
        entries = entries.max((2 + widest) * entry);
        widest_step = widest_step.max(widest);
    }
    let counters = (2 * widest_step + 2 + STATUS_COUNTERS) * COUNTER_BYTES;
    sizes.transaction = copies + entries + counters + EVENTS_BYTES;
    sizes
}

/// What the transaction storing new `records` (with `claims` duplicate
/// guards) weighs at most: each request, a copy of it for each first step,
/// that step's list entries, the guards and assignments.
pub fn submission_bytes(records: &[AccessRequestRecord], claims: usize) -> usize {
    let mut total = claims * KEYS_BYTES;
    for record in records {
        let request = json_bytes(record) + KEYS_BYTES;
        let steps = record
            .items
            .iter()
            .map(|i| i.approvals.len())
            .sum::<usize>();
        // The assignments, and the counters of the identities and scopes
        // whose lists it enters.
        total += (1 + steps) * request
            + record.assignees().len() * (KEYS_BYTES + COUNTER_BYTES)
            + STATUS_COUNTERS * COUNTER_BYTES;
        for (i, item) in record.items.iter().enumerate() {
            for (step, approval) in item.approvals.iter().enumerate() {
                let entry = json_bytes(&ApprovalEntryRecord::of(record, i, step)) + KEYS_BYTES;
                total += approval.owner().acting_identities().len() * entry;
            }
        }
    }
    total
}

/// Whether `record`, and `record` with every step it has left decided, fit
/// the limits with the room a cancel or close needs; the first limit
/// exceeded otherwise.
pub fn check(record: &AccessRequestRecord, now: DateTime<Utc>) -> Result<(), Overflow> {
    let decided = fully_decided(record, now);
    let s = sizes(record, &decided);
    if s.request > MAX_REQUEST_BYTES {
        return Err(Overflow {
            item: None,
            what: "the access request as stored".into(),
            size: s.request,
            limit: MAX_REQUEST_BYTES,
        });
    }
    if s.transaction > MAX_TRANSACTION_BYTES {
        return Err(Overflow {
            item: None,
            what: "a change of the access request (the request and a copy for each pending \
                   approval, in one transaction)"
                .into(),
            size: s.transaction,
            limit: MAX_TRANSACTION_BYTES,
        });
    }
    if s.row.0 > MAX_ROW_BYTES {
        let item = &decided.items[s.row.1];
        return Err(Overflow {
            item: Some(s.row.1),
            what: format!(
                "a row showing requested item {} ({}) (its status, a pending or completed \
                 approval, as answered)",
                item.item_id,
                item.item_type.as_str()
            ),
            size: s.row.0,
            limit: MAX_ROW_BYTES,
        });
    }
    Ok(())
}
