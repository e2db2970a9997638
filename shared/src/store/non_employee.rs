//! Non-employee sources, requests and approval items.
//!
//! A request is stored whole, as one record, under several keys, all written
//! in one transaction: its own key (get, delete); one copy per approval item
//! (a decision reads the item's copy — everything it changes — in one
//! GetItem); and one copy in the requests list of each identity that lists
//! it (its sponsor and the source's account managers: a list page is one
//! Query). Each approval item also has an entry in the approvals list of each
//! identity that may decide it (a group's members each have their own), and
//! once decided in the list of the one who decided it. The account name a request holds on its source is a guard
//! item, written with the request on the condition that it is absent and
//! removed when the request is rejected or deleted.
//!
//! Only the request's own key carries the condition of a change (its
//! version): the copies change in the same transaction, so they are always
//! at that version too.

use std::collections::HashMap;
use std::sync::Arc;

use super::counts;
use super::item::{unexpected, Batch, Condition, Item, Key, Query, Record, Write};
use super::scan::{Rows, MAX_SCAN_PAGE};
use super::{keys, Store, StoreError};
use crate::records::{
    IdentityRecord, NonEmployeeApprovalRecord, NonEmployeeApprovalViewRecord,
    NonEmployeeRequestRecord, NonEmployeeSourceRecord, PointerRecord,
};

/// What a non-employee operation reads up front, in one batch. Records that
/// guard a write (requests, item copies, account names) are read
/// consistently.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NonEmployeeLookup {
    pub sources: Vec<String>,
    pub identities: Vec<String>,
    /// `(source id, account name)`: who holds that name on the source.
    pub account_names: Vec<(String, String)>,
    /// Requests by their id.
    pub requests: Vec<String>,
    /// Requests by the id of one of their approval items.
    pub approval_items: Vec<String>,
}

/// What [`Store::non_employee_lookup`] found; absent keys are missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NonEmployeeFound {
    pub sources: HashMap<String, NonEmployeeSourceRecord>,
    pub identities: HashMap<String, IdentityRecord>,
    /// The id of the request holding each account name asked about, keyed
    /// as asked.
    pub account_holders: HashMap<(String, String), String>,
    pub requests: HashMap<String, NonEmployeeRequestRecord>,
    pub approval_items: HashMap<String, NonEmployeeRequestRecord>,
}

/// What a looked-up key stands for.
enum Wanted {
    Source(String),
    Identity(String),
    AccountName(String, String),
    Request(String),
    ApprovalItem(String),
}

pub(super) fn source_item(tenant: &str, source: &NonEmployeeSourceRecord) -> Item {
    Item::new(
        keys::non_employee_source(tenant, &source.id),
        Record::NonEmployeeSource(Box::new(source.clone())),
    )
}

fn request_record(tenant: &str, r: &Arc<NonEmployeeRequestRecord>) -> Item {
    Item::new(
        keys::non_employee_request(tenant, &r.id),
        Record::NonEmployeeRequest(Arc::clone(r)),
    )
}

fn item_copy(tenant: &str, r: &Arc<NonEmployeeRequestRecord>, item_id: &str) -> Item {
    Item::new(
        keys::non_employee_approval(tenant, item_id),
        Record::NonEmployeeRequest(Arc::clone(r)),
    )
}

fn list_key(tenant: &str, r: &NonEmployeeRequestRecord, identity: &str) -> Key {
    Key::new(
        keys::non_employee_request_list(tenant, identity),
        keys::chronological(&r.created, &r.id),
    )
}

fn entry_key(tenant: &str, item: &NonEmployeeApprovalRecord, identity: &str) -> Key {
    Key::new(
        keys::non_employee_approval_list(tenant, identity),
        keys::chronological(&item.created, &item.id),
    )
}

fn account_key(tenant: &str, r: &NonEmployeeRequestRecord) -> Key {
    keys::non_employee_account(tenant, &r.source.id, &r.account_name)
}

/// The copies of `r` in the requests lists.
fn list_copies(tenant: &str, r: &Arc<NonEmployeeRequestRecord>) -> Vec<Item> {
    r.listed_for()
        .into_iter()
        .map(|identity| {
            Item::new(
                list_key(tenant, r, identity),
                Record::NonEmployeeRequest(Arc::clone(r)),
            )
        })
        .collect()
}

/// The entries of one approval item in the approvals lists.
fn entries(
    tenant: &str,
    r: &NonEmployeeRequestRecord,
    item: &NonEmployeeApprovalRecord,
) -> Vec<Item> {
    let view = Arc::new(NonEmployeeApprovalViewRecord::of(r, item));
    item.listed_for()
        .into_iter()
        .map(|identity| {
            Item::new(
                entry_key(tenant, item, identity),
                Record::NonEmployeeApproval(view.clone()),
            )
        })
        .collect()
}

/// The copies of `r` beside its own record (one per approval item, one per
/// identity that lists it) and the entries of its items in the approvals lists.
fn copies_and_entries(tenant: &str, r: &Arc<NonEmployeeRequestRecord>) -> Vec<Item> {
    let mut items: Vec<Item> = r
        .approval_items
        .iter()
        .map(|i| item_copy(tenant, r, &i.id))
        .collect();
    items.extend(list_copies(tenant, r));
    for item in &r.approval_items {
        items.extend(entries(tenant, r, item));
    }
    items
}

fn account_guard(tenant: &str, r: &NonEmployeeRequestRecord) -> Item {
    Item::new(
        account_key(tenant, r),
        Record::Pointer(PointerRecord {
            target: r.id.clone(),
        }),
    )
}

/// Every item that stores `r` (and its account-name guard, while it holds
/// the name), for seeding.
pub(super) fn request_items(tenant: &str, r: &NonEmployeeRequestRecord) -> Vec<Item> {
    let shared = Arc::new(r.clone());
    let mut items = vec![request_record(tenant, &shared)];
    items.extend(copies_and_entries(tenant, &shared));
    if r.holds_account_name() {
        items.push(account_guard(tenant, r));
    }
    items
}

/// The writes that create `r`: the request (absent so far), its copies and
/// list entries, and its account-name guard (absent so far: the name is
/// free). Racing creates of one name on one source: one transaction wins.
pub(super) fn creation_writes(tenant: &str, r: &NonEmployeeRequestRecord) -> Vec<Write> {
    let shared = Arc::new(r.clone());
    let mut writes = vec![Write::put_if(
        request_record(tenant, &shared),
        Condition::Absent,
    )];
    writes.extend(
        copies_and_entries(tenant, &shared)
            .into_iter()
            .map(Write::put),
    );
    if r.holds_account_name() {
        writes.push(Write::put_if(account_guard(tenant, r), Condition::Absent));
    }
    writes.extend(counts::non_employee_request(tenant, r, false).writes());
    writes
}

/// The writes that replace `before` by `after` (the next version): every
/// copy of the request, the list entries of the items that changed (and the
/// removal of those no longer listing them), and the release of the account
/// name when `after` no longer holds it.
pub(super) fn update_writes(
    tenant: &str,
    before: &NonEmployeeRequestRecord,
    after: &NonEmployeeRequestRecord,
) -> Vec<Write> {
    let shared = Arc::new(after.clone());
    let mut writes = vec![Write::put_if(
        request_record(tenant, &shared),
        Condition::Version(before.version),
    )];
    writes.extend(
        after
            .approval_items
            .iter()
            .map(|i| Write::put(item_copy(tenant, &shared, &i.id))),
    );
    writes.extend(list_copies(tenant, &shared).into_iter().map(Write::put));
    for item in &after.approval_items {
        let previous = before.item(&item.id);
        if previous == Some(item) {
            continue;
        }
        writes.extend(entries(tenant, after, item).into_iter().map(Write::put));
        // A decided item leaves the lists of the others who could have.
        if let Some(previous) = previous {
            let now_listed = item.listed_for();
            writes.extend(
                previous
                    .listed_for()
                    .difference(&now_listed)
                    .map(|identity| Write::delete(entry_key(tenant, previous, identity))),
            );
        }
    }
    if before.holds_account_name() && !after.holds_account_name() {
        writes.push(Write::delete(account_key(tenant, before)));
    }
    writes.extend(
        counts::Tally::change(
            counts::non_employee_request(tenant, before, false),
            counts::non_employee_request(tenant, after, false),
        )
        .writes(),
    );
    writes
}

/// The writes that delete `r` (at its version): the request, its copies,
/// the list entries of its undecided items, and its account-name guard.
/// The entries of decided items stay: their history outlives the request.
pub(super) fn deletion_writes(tenant: &str, r: &NonEmployeeRequestRecord) -> Vec<Write> {
    let mut writes = vec![Write::delete_if(
        keys::non_employee_request(tenant, &r.id),
        Condition::Version(r.version),
    )];
    writes.extend(
        r.approval_items
            .iter()
            .map(|i| Write::delete(keys::non_employee_approval(tenant, &i.id))),
    );
    writes.extend(
        r.listed_for()
            .into_iter()
            .map(|identity| Write::delete(list_key(tenant, r, identity))),
    );
    for item in r.approval_items.iter().filter(|i| !i.is_decided()) {
        writes.extend(
            item.listed_for()
                .into_iter()
                .map(|identity| Write::delete(entry_key(tenant, item, identity))),
        );
    }
    if r.holds_account_name() {
        writes.push(Write::delete(account_key(tenant, r)));
    }
    writes.extend(
        counts::Tally::change(
            counts::non_employee_request(tenant, r, false),
            counts::non_employee_request(tenant, r, true),
        )
        .writes(),
    );
    writes
}

impl Store {
    /// The most writes storing `r` or any later change of it takes: its
    /// creation, or a decision, which may also list its reviewer (an
    /// ORG_ADMIN need not be an approver) and add to the reviewer's counts.
    /// Above [`super::MAX_TRANSACTION_ITEMS`] it cannot be changed
    /// atomically.
    pub fn non_employee_request_writes(r: &NonEmployeeRequestRecord) -> usize {
        creation_writes("", r).len() + 2
    }

    /// Sources, identities, account-name holders and requests, in one batch
    /// read (one GetItem for a single key).
    pub async fn non_employee_lookup(
        &self,
        tenant: &str,
        lookup: &NonEmployeeLookup,
    ) -> Result<NonEmployeeFound, StoreError> {
        let mut batch = Batch::default();
        for id in &lookup.sources {
            batch.want(
                keys::non_employee_source(tenant, id),
                Wanted::Source(id.clone()),
                false,
            );
        }
        for id in &lookup.identities {
            batch.want(
                keys::identity(tenant, id),
                Wanted::Identity(id.clone()),
                false,
            );
        }
        for (source, name) in &lookup.account_names {
            batch.want(
                keys::non_employee_account(tenant, source, name),
                Wanted::AccountName(source.clone(), name.clone()),
                true,
            );
        }
        for id in &lookup.requests {
            batch.want(
                keys::non_employee_request(tenant, id),
                Wanted::Request(id.clone()),
                true,
            );
        }
        for id in &lookup.approval_items {
            batch.want(
                keys::non_employee_approval(tenant, id),
                Wanted::ApprovalItem(id.clone()),
                true,
            );
        }

        let mut found = NonEmployeeFound::default();
        for (what, item) in batch.read(&*self.items).await? {
            let kind = item.record.kind();
            match (what, item.record) {
                (Wanted::Source(id), Record::NonEmployeeSource(r)) => {
                    found.sources.insert(id, *r);
                }
                (Wanted::Identity(id), Record::Identity(r)) => {
                    found.identities.insert(id, *r);
                }
                (Wanted::AccountName(source, name), Record::Pointer(p)) => {
                    found.account_holders.insert((source, name), p.target);
                }
                (Wanted::Request(id), Record::NonEmployeeRequest(r)) => {
                    found.requests.insert(id, Arc::unwrap_or_clone(r));
                }
                (Wanted::ApprovalItem(id), Record::NonEmployeeRequest(r)) => {
                    found.approval_items.insert(id, Arc::unwrap_or_clone(r));
                }
                _ => return Err(unexpected(&item.key.pk, kind)),
            }
        }
        Ok(found)
    }

    /// The non-employee request that holds approval item `approval_item_id`
    /// (one consistent GetItem).
    pub async fn non_employee_request_of_item(
        &self,
        tenant: &str,
        approval_item_id: &str,
    ) -> Result<Option<NonEmployeeRequestRecord>, StoreError> {
        let lookup = NonEmployeeLookup {
            approval_items: vec![approval_item_id.to_string()],
            ..Default::default()
        };
        Ok(self
            .non_employee_lookup(tenant, &lookup)
            .await?
            .approval_items
            .remove(approval_item_id))
    }

    /// The non-employee request `id` (one consistent GetItem).
    pub async fn non_employee_request(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<NonEmployeeRequestRecord>, StoreError> {
        let lookup = NonEmployeeLookup {
            requests: vec![id.to_string()],
            ..Default::default()
        };
        Ok(self
            .non_employee_lookup(tenant, &lookup)
            .await?
            .requests
            .remove(id))
    }

    /// Stores a new request with everything that lists it, in one
    /// transaction; `Conflict` when its id or its account name on the
    /// source is taken.
    pub async fn create_non_employee_request(
        &self,
        tenant: &str,
        r: &NonEmployeeRequestRecord,
    ) -> Result<(), StoreError> {
        self.apply(creation_writes(tenant, r)).await
    }

    /// Replaces `before` by `after` (whose version must be the next) in one
    /// transaction, if the stored request is still at `before`'s version;
    /// `Conflict` otherwise.
    pub async fn update_non_employee_request(
        &self,
        tenant: &str,
        before: &NonEmployeeRequestRecord,
        after: &NonEmployeeRequestRecord,
    ) -> Result<(), StoreError> {
        if after.id != before.id || after.version != before.version + 1 {
            return Err(StoreError::Conflict(format!(
                "non-employee request {} at version {} cannot replace {} at version {}",
                after.id, after.version, before.id, before.version
            )));
        }
        self.apply(update_writes(tenant, before, after)).await
    }

    /// Deletes `r` in one transaction if the stored request is still at its
    /// version; `Conflict` otherwise. The list entries of its decided items
    /// stay.
    pub async fn delete_non_employee_request(
        &self,
        tenant: &str,
        r: &NonEmployeeRequestRecord,
    ) -> Result<(), StoreError> {
        self.apply(deletion_writes(tenant, r)).await
    }

    /// The non-employee requests `identity_id` lists (sponsored, or on a
    /// source it manages) in key order (`created`, then id; `descending`:
    /// newest first), read lazily.
    pub fn non_employee_request_stream(
        &self,
        tenant: &str,
        identity_id: &str,
        descending: bool,
        expected: usize,
    ) -> Rows<'_, NonEmployeeRequestRecord> {
        let query = Query::table(keys::non_employee_request_list(tenant, identity_id))
            .descending(descending);
        Rows::new(&*self.items, vec![query], (expected, false), "", request)
    }

    /// The approval items `identity_id` lists (it may decide them, or
    /// decided them) in key order (`created`, then id), read lazily.
    pub fn non_employee_approval_stream(
        &self,
        tenant: &str,
        identity_id: &str,
        descending: bool,
        expected: usize,
    ) -> Rows<'_, NonEmployeeApprovalViewRecord> {
        let query = Query::table(keys::non_employee_approval_list(tenant, identity_id))
            .descending(descending);
        Rows::new(
            &*self.items,
            vec![query],
            (expected, false),
            "",
            approval_view,
        )
    }

    /// Every non-employee request `identity_id` lists, oldest first. It
    /// reads the whole list: for tests and tools.
    pub async fn non_employee_request_list(
        &self,
        tenant: &str,
        identity_id: &str,
    ) -> Result<Vec<NonEmployeeRequestRecord>, StoreError> {
        let mut rows = self.non_employee_request_stream(tenant, identity_id, false, MAX_SCAN_PAGE);
        let mut all = Vec::new();
        while let Some((_, r)) = rows.next().await? {
            all.push(r);
        }
        Ok(all)
    }

    /// Every approval item `identity_id` lists, oldest first. It reads the
    /// whole list: for tests and tools.
    pub async fn non_employee_approval_list(
        &self,
        tenant: &str,
        identity_id: &str,
    ) -> Result<Vec<NonEmployeeApprovalViewRecord>, StoreError> {
        let mut rows = self.non_employee_approval_stream(tenant, identity_id, false, MAX_SCAN_PAGE);
        let mut all = Vec::new();
        while let Some((_, v)) = rows.next().await? {
            all.push(v);
        }
        Ok(all)
    }
}

fn request(item: Item) -> Result<NonEmployeeRequestRecord, StoreError> {
    item.into_record(|r| match r {
        Record::NonEmployeeRequest(r) => Some(Arc::unwrap_or_clone(r)),
        _ => None,
    })
}

fn approval_view(item: Item) -> Result<NonEmployeeApprovalViewRecord, StoreError> {
    item.into_record(|r| match r {
        Record::NonEmployeeApproval(r) => Some(Arc::unwrap_or_clone(r)),
        _ => None,
    })
}
