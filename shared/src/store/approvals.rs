//! Approvals of access requests, as read: one approval with its request
//! (what a decision needs, in one batch read), an approver's or the
//! tenant's lists, and the store of a change of a request. What a change
//! writes to present its approvals (their own items, list entries, counts)
//! is the request's write set, in `request_writes`.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use super::item::{Index, Item, Query, Read, Record};
use super::scan::{Rows, MAX_SCAN_PAGE};
use super::{keys, Store, StoreError};
use crate::records::{
    AccessRequestRecord, ApprovalEntryRecord, ApprovalItemRecord, EventRecord, IdentityRecord,
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

/// Whose approval list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalOwner<'a> {
    Identity(&'a str),
    Tenant,
}

/// A part of an approval list, in its key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalPart {
    /// Pending approvals, by when they were reached.
    Pending,
    /// Decided approvals, by when they were reached.
    Decided,
    /// Decided approvals, by when they were decided.
    Decisions,
}

impl ApprovalPart {
    /// The sort-key prefix of the part in `owner`'s list.
    fn prefix(self, owner: ApprovalOwner<'_>) -> &'static str {
        match (self, owner) {
            (ApprovalPart::Pending, _) => keys::PENDING_APPROVALS,
            (ApprovalPart::Decided, _) => keys::DECIDED_APPROVALS,
            (ApprovalPart::Decisions, _) => keys::DECISIONS,
        }
    }
}

/// One list entry, and whether it is in the pending part of its list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedApproval {
    pub pending: bool,
    pub entry: ApprovalEntryRecord,
}

impl Store {
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
        self.apply(super::writes::transition(tenant, before, after, events))
            .await
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
                    read.identities.insert(i.id.clone(), *i);
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

    /// The entries of one part of an approval list whose position time
    /// (reached, or decided for [`ApprovalPart::Decisions`]) lies within
    /// `range`, in key order (`descending`: latest first), read lazily: an
    /// identity's from its partition (read consistently), the tenant's from
    /// the index of the approvals' own items, its shards merged.
    pub fn approval_stream(
        &self,
        tenant: &str,
        owner: ApprovalOwner<'_>,
        part: ApprovalPart,
        range: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
        descending: bool,
        expected: usize,
    ) -> Rows<'_, ApprovalEntryRecord> {
        let prefix = part.prefix(owner);
        let (from, to) = keys::time_bounds(prefix, range.0, range.1);
        let queries = match owner {
            ApprovalOwner::Identity(id) => vec![match part {
                ApprovalPart::Decisions => {
                    Query::index(Index::Gsi1, keys::approvals_of(tenant, id))
                }
                _ => Query::table(keys::approvals_of(tenant, id)),
            }],
            ApprovalOwner::Tenant => keys::shards()
                .map(|s| match part {
                    ApprovalPart::Decisions => {
                        Query::index(Index::Gsi1, keys::tenant_decisions(tenant, s))
                    }
                    _ => Query::index(Index::Gsi3, keys::tenant_approvals(tenant, s)),
                })
                .collect(),
        };
        let queries = queries
            .into_iter()
            .map(|q| q.between(from.clone(), to.clone()).descending(descending))
            .collect();
        Rows::new(&*self.items, queries, (expected, false), prefix, entry_of)
    }

    /// Every entry of an approval list (`owner`'s, or the tenant's), by
    /// when reached. It reads the whole list: for tests and tools.
    pub async fn list_approvals(
        &self,
        tenant: &str,
        owner: Option<&str>,
        which: ApprovalList,
    ) -> Result<Vec<ListedApproval>, StoreError> {
        let owner = match owner {
            Some(id) => ApprovalOwner::Identity(id),
            None => ApprovalOwner::Tenant,
        };
        let parts: &[ApprovalPart] = match which {
            ApprovalList::Pending => &[ApprovalPart::Pending],
            ApprovalList::Decided => &[ApprovalPart::Decided],
            ApprovalList::All => &[ApprovalPart::Pending, ApprovalPart::Decided],
        };
        let mut listed = Vec::new();
        for part in parts {
            let mut rows =
                self.approval_stream(tenant, owner, *part, (None, None), false, MAX_SCAN_PAGE);
            while let Some((_, entry)) = rows.next().await? {
                listed.push(ListedApproval {
                    pending: *part == ApprovalPart::Pending,
                    entry,
                });
            }
        }
        Ok(listed)
    }
}

/// A list entry as stored: an entry of an identity's list, or an approval's
/// own item (the tenant's list).
fn entry_of(item: Item) -> Result<ApprovalEntryRecord, StoreError> {
    let pk = item.key.pk.clone();
    match item.record {
        Record::ApprovalEntry(e) => Ok(e.entry()),
        Record::Approval(a) => match a.request.find_approval(&a.approval_id) {
            Some((i, j)) => Ok(ApprovalEntryRecord::of(&a.request, i, j)),
            None => Err(StoreError::Corrupt(format!(
                "{pk}: approval {} is not in its request",
                a.approval_id
            ))),
        },
        other => Err(StoreError::Corrupt(format!(
            "{pk}: unexpected record kind {}",
            other.kind()
        ))),
    }
}
