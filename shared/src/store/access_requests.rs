//! Access requests: the request records, their duplicate guards and the
//! assignments that list a request for each identity that may act on it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::events::event_item;
use super::item::{unexpected, Condition, Index, Item, ItemStore, Query, Read, Record, Write};
use super::request_writes::{request_item, request_position, submission};
use super::scan::{Rows, Scan, MAX_SCAN_PAGE};
use super::{keys, RequestIndex, Store, StoreError};
use crate::records::{AccessRequestRecord, EventRecord, PendingClaim};

fn request(item: Item) -> Result<Arc<AccessRequestRecord>, StoreError> {
    item.into_record(|r| match r {
        Record::AccessRequest(r) => Some(r),
        _ => None,
    })
}

fn requests(items: Vec<Item>) -> Result<Vec<Arc<AccessRequestRecord>>, StoreError> {
    items.into_iter().map(request).collect()
}

/// The bounds of `created` a status list reads within (either end open).
pub type CreatedRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The access requests of one index, in key order (`created`, then id),
/// each with its group (the millisecond it was created in), read lazily.
pub struct RequestStream<'s> {
    source: Source<'s>,
}

enum Source<'s> {
    Rows(Rows<'s, Arc<AccessRequestRecord>>),
    Assignee(Box<Assigned<'s>>),
}

/// An assignee's requests: the assignment pointers in key order, and the
/// requests they name read a batch at a time.
struct Assigned<'s> {
    items: &'s dyn ItemStore,
    pointers: Scan<'s>,
    tenant: String,
    identity: String,
    batch: usize,
    ready: VecDeque<(String, Arc<AccessRequestRecord>)>,
    read: usize,
}

impl RequestStream<'_> {
    /// Items read so far.
    pub fn read(&self) -> usize {
        match &self.source {
            Source::Rows(rows) => rows.read(),
            Source::Assignee(a) => a.pointers.read() + a.read,
        }
    }

    /// The next request, with its group.
    pub async fn next(&mut self) -> Result<Option<(String, Arc<AccessRequestRecord>)>, StoreError> {
        match &mut self.source {
            Source::Rows(rows) => rows.next().await,
            Source::Assignee(a) => {
                let Assigned {
                    items,
                    pointers,
                    tenant,
                    identity,
                    batch,
                    ready,
                    read,
                } = &mut **a;
                while ready.is_empty() {
                    let mut wanted = Vec::new();
                    while wanted.len() < *batch {
                        match pointers.next().await? {
                            Some(p) => match p.record.target() {
                                Some(target) => wanted.push((
                                    keys::time_prefix(&p.key.sk, "").to_string(),
                                    target.to_string(),
                                )),
                                None => return Err(unexpected(&p.key.pk, p.record.kind())),
                            },
                            None => break,
                        }
                    }
                    if wanted.is_empty() {
                        return Ok(None);
                    }
                    let reads: Vec<Read> = wanted
                        .iter()
                        .map(|(_, id)| Read::consistent(keys::request(tenant, id)))
                        .collect();
                    let found = items.get(&reads).await?;
                    *read += found.len();
                    let mut by_id: HashMap<String, Arc<AccessRequestRecord>> = HashMap::new();
                    for item in found {
                        let r = request(item)?;
                        by_id.insert(r.id.clone(), r);
                    }
                    // The request itself is the truth: an assignment outlives
                    // an approver who is no longer on the request.
                    ready.extend(wanted.into_iter().filter_map(|(group, id)| {
                        by_id
                            .remove(&id)
                            .filter(|r| r.assignees().contains(identity))
                            .map(|r| (group, r))
                    }));
                    *batch = (*batch * 2).min(MAX_SCAN_PAGE);
                }
                Ok(ready.pop_front())
            }
        }
    }
}

impl Store {
    /// How many writes [`Store::create_requests`] makes for a submission:
    /// each request, its assignments, its first steps' approval items and
    /// list entries, each claim, and the counter items they add to. A
    /// submission above [`super::MAX_TRANSACTION_ITEMS`] cannot be stored
    /// atomically.
    pub fn submission_writes(requests: &[AccessRequestRecord], claims: &[PendingClaim]) -> usize {
        submission("", requests, claims).len()
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
        self.apply(submission(tenant, requests, claims)).await
    }

    /// The access requests of `index` created within `created`, in key
    /// order (`descending`: newest first), read lazily; the first page of
    /// each partition asks for about `expected` rows.
    pub fn request_stream(
        &self,
        tenant: &str,
        index: &RequestIndex,
        created: CreatedRange,
        descending: bool,
        expected: usize,
    ) -> RequestStream<'_> {
        let (from, to) = keys::time_bounds("", created.0, created.1);
        let query = |index: Index, partition: String| {
            Query::index(index, partition)
                .between(from.clone(), to.clone())
                .descending(descending)
        };
        let queries = match index {
            RequestIndex::Requester(id) => vec![query(Index::Gsi1, keys::requester(tenant, id))],
            RequestIndex::RequestedFor(id) => {
                vec![query(Index::Gsi2, keys::requested_for(tenant, id))]
            }
            RequestIndex::Regarding(id) => vec![
                query(Index::Gsi1, keys::requester(tenant, id)),
                query(Index::Gsi2, keys::requested_for(tenant, id)),
            ],
            RequestIndex::Tenant => keys::shards()
                .map(|s| query(Index::Gsi3, keys::tenant_requests(tenant, s)))
                .collect(),
            RequestIndex::Assignee(id) => {
                let pointers = Query::table(keys::assignees(tenant, id))
                    .between(from.clone(), to.clone())
                    .descending(descending);
                return RequestStream {
                    source: Source::Assignee(Box::new(Assigned {
                        items: &*self.items,
                        pointers: Scan::new(&*self.items, pointers, expected + 1),
                        tenant: tenant.to_string(),
                        identity: id.clone(),
                        batch: (expected + 1).min(MAX_SCAN_PAGE),
                        ready: VecDeque::new(),
                        read: 0,
                    })),
                };
            }
        };
        // An identity's two indexes may hold the same requests (its own).
        let overlapping = matches!(index, RequestIndex::Regarding(_));
        RequestStream {
            source: Source::Rows(Rows::new(
                &*self.items,
                queries,
                (expected, overlapping),
                "",
                request,
            )),
        }
    }

    /// Every access request an index holds, oldest first (`created`, then
    /// id). It reads the whole index: for tests and tools, never a list.
    pub async fn query_requests(
        &self,
        tenant: &str,
        index: &RequestIndex,
    ) -> Result<Vec<Arc<AccessRequestRecord>>, StoreError> {
        let mut stream = self.request_stream(tenant, index, (None, None), false, MAX_SCAN_PAGE);
        let mut records = Vec::new();
        while let Some((_, r)) = stream.next().await? {
            records.push(r);
        }
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
            request_item(tenant, &Arc::new(record.clone()), &request_position(record)),
            Condition::Version(previous),
        )];
        writes.extend(event.map(|e| Write::put(event_item(tenant, e))));
        self.apply(writes).await
    }
}
