//! Storage. [`item`] is the contract a backend implements — items keyed by
//! partition and sort key, projected into indexes, written conditionally
//! and atomically — with two backends: [`DynamoStore`] for deployments and
//! [`MemoryStore`], the local server's embedded default and the fast tests'
//! store. Both pass one conformance suite (`tests/store_conformance.rs`).
//!
//! [`Store`] is what the domain calls: typed operations, written once over
//! any backend, one module per API area. [`keys`] is the key layout.

use std::collections::HashMap;
use std::sync::Arc;

use crate::models::ItemType;
use crate::records::{
    AccessRequestRecord, CatalogItemRecord, IdempotencyRecord, IdentityRecord,
    NonEmployeeRequestRecord, NonEmployeeSourceRecord, PendingKey,
};

mod access_requests;
mod approvals;
pub mod counts;
mod directory;
pub mod dynamo;
mod events;
pub mod item;
pub mod keys;
mod lazy;
mod memory;
mod non_employee;
mod request_writes;
pub mod scan;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod writes;

pub use access_requests::{CreatedRange, RequestStream};
pub use approvals::{ApprovalList, ApprovalOwner, ApprovalPart, ApprovalRead, ListedApproval};
pub use dynamo::DynamoStore;
pub use item::{ItemStore, MAX_TRANSACTION_ITEMS};
pub use lazy::LazyStore;
pub use memory::MemoryStore;
pub use non_employee::{NonEmployeeFound, NonEmployeeLookup};

/// Why a store call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A condition did not hold: the record changed (or appeared) since it was
    /// read. The caller re-reads and decides again.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store throttled the call beyond the SDK's retries.
    #[error("throttled: {0}")]
    Throttled(String),
    /// The store could not be reached or answered with an error.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored record could not be read back.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

/// The typed operations of every API area, on one backend.
#[derive(Clone)]
pub struct Store {
    items: Arc<dyn ItemStore>,
}

impl Store {
    pub fn new(items: Arc<dyn ItemStore>) -> Self {
        Self { items }
    }

    /// An empty in-process store.
    pub fn memory() -> Self {
        Self::new(Arc::new(MemoryStore::new()))
    }

    /// Writes `writes` atomically: all or none, `Conflict` when a
    /// condition fails. Operations do not call it: they plan their writes
    /// (`writes`) and their runner (`plan::Runner`) applies them with the
    /// request's idempotency record. Seeds, tools and tests do, as do the
    /// typed changes below.
    pub async fn apply(&self, writes: Vec<item::Write>) -> Result<(), StoreError> {
        self.items.write(writes).await
    }

    /// The live idempotency record with this key, if any.
    pub async fn idempotency_record(
        &self,
        key: &item::Key,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.items
            .get(&[item::Read::consistent(key.clone())])
            .await?
            .into_iter()
            .next()
            .map(|i| {
                i.into_record(|r| match r {
                    item::Record::Idempotency(r) => Some(*r),
                    _ => None,
                })
            })
            .transpose()
    }

    /// The backend, for tests that check what is stored item by item or
    /// wrap it.
    pub fn backend(&self) -> Arc<dyn ItemStore> {
        self.items.clone()
    }
}

/// Everything an operation reads up front, fetched in one batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lookup {
    pub identity_ids: Vec<String>,
    pub items: Vec<(ItemType, String)>,
    pub pending: Vec<PendingKey>,
    /// Access requests, read consistently (they guard writes).
    pub requests: Vec<String>,
}

/// What [`Store::lookup`] found; absent keys are simply missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LookupResult {
    pub identities: HashMap<String, IdentityRecord>,
    pub items: HashMap<(ItemType, String), CatalogItemRecord>,
    /// Duplicate guards found, with the access request id each names.
    pub pending: HashMap<PendingKey, String>,
    pub requests: HashMap<String, AccessRequestRecord>,
}

/// Which access requests a status query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestIndex {
    /// Submitted by this identity.
    Requester(String),
    /// For this identity.
    RequestedFor(String),
    /// Submitted by or for this identity.
    Regarding(String),
    /// With an approval step this identity may act on.
    Assignee(String),
    /// The whole tenant.
    Tenant,
}

/// A tenant's seed, resolved into records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantRecords {
    pub identities: Vec<IdentityRecord>,
    pub catalog: Vec<CatalogItemRecord>,
    pub non_employee_requests: Vec<NonEmployeeRequestRecord>,
    pub non_employee_sources: Vec<NonEmployeeSourceRecord>,
    pub access_requests: Vec<AccessRequestRecord>,
}
