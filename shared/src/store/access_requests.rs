//! Access requests: the request records, their duplicate guards and the
//! assignments that list a request for each identity that may act on it.

use std::collections::HashSet;
use std::sync::Arc;

use super::events::event_item;
use super::item::{Condition, Index, Item, Key, Query, Read, Record, Write};
use super::{keys, RequestIndex, Store, StoreError};
use crate::records::{AccessRequestRecord, EventRecord, PendingClaim, PointerRecord};

pub(super) fn request_item(tenant: &str, record: &AccessRequestRecord) -> Item {
    let sort = keys::chronological(&record.created, &record.id);
    Item::new(
        keys::request(tenant, &record.id),
        Record::AccessRequest(Arc::new(record.clone())),
    )
    .indexed(
        Index::Gsi1,
        Key::new(keys::requester(tenant, &record.requester.id), sort.clone()),
    )
    .indexed(
        Index::Gsi2,
        Key::new(
            keys::requested_for(tenant, &record.requested_for.id),
            sort.clone(),
        ),
    )
    .indexed(Index::Gsi3, Key::new(keys::tenant_requests(tenant), sort))
}

/// The assignment that lists `record` for `identity` (status `assigned-to`).
pub(super) fn assignment_item(tenant: &str, record: &AccessRequestRecord, identity: &str) -> Item {
    Item::new(
        Key::new(
            keys::assignees(tenant, identity),
            keys::chronological(&record.created, &record.id),
        ),
        Record::Pointer(PointerRecord {
            target: record.id.clone(),
        }),
    )
}

fn requests(items: Vec<Item>) -> Result<Vec<Arc<AccessRequestRecord>>, StoreError> {
    items
        .into_iter()
        .map(|i| {
            i.into_record(|r| match r {
                Record::AccessRequest(r) => Some(r),
                _ => None,
            })
        })
        .collect()
}

impl Store {
    /// How many writes [`Store::create_requests`] makes for a submission:
    /// each request, its assignments, its first steps' approval items and
    /// list entries, and each claim. A submission above
    /// [`super::MAX_TRANSACTION_ITEMS`] cannot be stored atomically.
    pub fn submission_writes(requests: &[AccessRequestRecord], claims: &[PendingClaim]) -> usize {
        requests
            .iter()
            .map(|r| super::approvals::request_change("", None, r).len())
            .sum::<usize>()
            + claims.len()
    }

    /// The access requests with these ids that exist (in any order), read
    /// consistently.
    pub async fn get_requests(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        Ok(self
            .read_requests(tenant, ids)
            .await?
            .into_iter()
            .map(Arc::unwrap_or_clone)
            .collect())
    }

    /// [`Store::get_requests`] for reading only: the records as the store
    /// holds them, not copies to change.
    pub async fn read_requests(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<Arc<AccessRequestRecord>>, StoreError> {
        let reads: Vec<Read> = ids
            .iter()
            .map(|id| Read::consistent(keys::request(tenant, id)))
            .collect();
        requests(self.items.get(&reads).await?)
    }

    /// Stores a submission atomically: every request (which must not exist
    /// yet) with its assignments and its first steps' approvals, and every
    /// duplicate-guard claim (which must be absent, or still name the stale
    /// request it `replaces`). `Conflict` when any condition fails.
    pub async fn create_requests(
        &self,
        tenant: &str,
        requests: &[AccessRequestRecord],
        claims: &[PendingClaim],
    ) -> Result<(), StoreError> {
        let mut writes = Vec::with_capacity(Self::submission_writes(requests, claims));
        for r in requests {
            writes.extend(super::approvals::request_change(tenant, None, r));
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
        self.commit(writes).await
    }

    /// The access requests an index holds, ordered by (`created`, `id`),
    /// for reading: shared, not copied.
    pub async fn query_requests(
        &self,
        tenant: &str,
        index: &RequestIndex,
    ) -> Result<Vec<Arc<AccessRequestRecord>>, StoreError> {
        let mut records = match index {
            RequestIndex::Requester(id) => requests(
                self.items
                    .query(&Query::index(Index::Gsi1, keys::requester(tenant, id)))
                    .await?,
            )?,
            RequestIndex::RequestedFor(id) => requests(
                self.items
                    .query(&Query::index(Index::Gsi2, keys::requested_for(tenant, id)))
                    .await?,
            )?,
            RequestIndex::Tenant => requests(
                self.items
                    .query(&Query::index(Index::Gsi3, keys::tenant_requests(tenant)))
                    .await?,
            )?,
            RequestIndex::Assignee(id) => {
                let assignments = self
                    .items
                    .query(&Query::table(keys::assignees(tenant, id)))
                    .await?;
                let mut seen = HashSet::new();
                let reads: Vec<Read> = assignments
                    .iter()
                    .filter_map(|a| a.record.target())
                    .filter(|request_id| seen.insert(request_id.to_string()))
                    .map(|request_id| Read::consistent(keys::request(tenant, request_id)))
                    .collect();
                // The request itself is the truth: an assignment outlives an
                // approver who is no longer on the request.
                requests(self.items.get(&reads).await?)?
                    .into_iter()
                    .filter(|r| r.assignees().contains(id))
                    .collect()
            }
        };
        // Index keys sort by (created to the millisecond, id); sorting the
        // records also orders sub-millisecond differences.
        records.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        Ok(records)
    }

    /// Replaces a request if the stored one has version `record.version - 1`
    /// (`Conflict` otherwise). With an event, both are written or neither.
    pub async fn update_request(
        &self,
        tenant: &str,
        record: &AccessRequestRecord,
        event: Option<&EventRecord>,
    ) -> Result<(), StoreError> {
        let Some(previous) = record.version.checked_sub(1) else {
            return Err(StoreError::Conflict(format!(
                "access request {} cannot be at version -1",
                record.id
            )));
        };
        let mut writes = vec![Write::put_if(
            request_item(tenant, record),
            Condition::Version(previous),
        )];
        writes.extend(event.map(|e| Write::put(event_item(tenant, e))));
        self.commit(writes).await
    }
}
