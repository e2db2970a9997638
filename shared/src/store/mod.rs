//! Storage: the small trait the domain calls, and its two implementations —
//! DynamoDB for deployments and an in-process map for the local server and
//! fast tests. Both pass the same conformance suite (`tests/store_conformance.rs`).
//!
//! Every method is one logical round trip (a batch, a query, one conditional
//! write or one transaction), so a handler's cost in requests is visible here.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::models::ItemType;
use crate::records::{
    AccessRequestRecord, CatalogItemRecord, EventRecord, IdentityRecord, NonEmployeeRequestRecord,
    PendingClaim, PendingKey,
};

pub mod dynamo;
pub mod lazy;
pub mod memory;

pub use dynamo::DynamoStore;
pub use lazy::LazyStore;
pub use memory::MemoryStore;

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
    pub access_requests: Vec<AccessRequestRecord>,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Identities, catalog items, duplicate guards and requests, in one batch read.
    async fn lookup(&self, tenant: &str, lookup: &Lookup) -> Result<LookupResult, StoreError>;

    /// The access requests with these ids that exist (in any order).
    async fn get_requests(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<AccessRequestRecord>, StoreError>;

    /// Stores a submission atomically: every request (which must not exist yet)
    /// and every duplicate-guard claim (which must be absent, or still name the
    /// stale request it `replaces`). `Conflict` when any condition fails.
    async fn create_requests(
        &self,
        tenant: &str,
        requests: &[AccessRequestRecord],
        claims: &[PendingClaim],
    ) -> Result<(), StoreError>;

    /// The access requests an index holds, ordered by (`created`, `id`).
    async fn query_requests(
        &self,
        tenant: &str,
        index: &RequestIndex,
    ) -> Result<Vec<AccessRequestRecord>, StoreError>;

    /// Replaces a request if the stored one has version `record.version - 1`
    /// (`Conflict` otherwise). With an event, both are written or neither.
    async fn update_request(
        &self,
        tenant: &str,
        record: &AccessRequestRecord,
        event: Option<&EventRecord>,
    ) -> Result<(), StoreError>;

    /// Records an audit event.
    async fn put_event(&self, tenant: &str, event: &EventRecord) -> Result<(), StoreError>;

    /// The tenant's events, oldest first.
    async fn list_events(&self, tenant: &str) -> Result<Vec<EventRecord>, StoreError>;

    /// The non-employee request that holds this approval item.
    async fn get_non_employee_request(
        &self,
        tenant: &str,
        approval_item_id: &str,
    ) -> Result<Option<NonEmployeeRequestRecord>, StoreError>;

    /// Replaces a non-employee request (and so all its approval items) if the
    /// stored one has version `record.version - 1`; `Conflict` otherwise.
    async fn update_non_employee_request(
        &self,
        tenant: &str,
        record: &NonEmployeeRequestRecord,
    ) -> Result<(), StoreError>;

    /// Writes a tenant's seed, replacing records with the same ids.
    async fn load_tenant(&self, tenant: &str, records: &TenantRecords) -> Result<(), StoreError>;
}
