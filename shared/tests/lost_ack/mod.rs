//! A store whose conditional writes land but answer `Conflict` the first
//! time: what a client sees when the SDK retries a write whose first attempt
//! succeeded but whose answer was lost. The domain must recognise its own
//! write on the re-read instead of reporting the state it just caused.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use shared::records::{AccessRequestRecord, EventRecord, NonEmployeeRequestRecord, PendingClaim};
use shared::store::{
    Lookup, LookupResult, MemoryStore, RequestIndex, Store, StoreError, TenantRecords,
};

#[derive(Default)]
pub struct LostAckStore {
    pub inner: MemoryStore,
    /// Writes whose answer was lost.
    pub lost: AtomicUsize,
}

impl LostAckStore {
    pub async fn seeded(seed: &str) -> Self {
        let store = Self::default();
        shared::seed::SeedFile::from_json(seed)
            .unwrap()
            .load_into(&store)
            .await
            .unwrap();
        store
    }

    fn lose(&self, result: Result<(), StoreError>) -> Result<(), StoreError> {
        result?;
        self.lost.fetch_add(1, Ordering::SeqCst);
        Err(StoreError::Conflict(
            "condition failed (retried attempt)".into(),
        ))
    }
}

#[async_trait]
impl Store for LostAckStore {
    async fn lookup(&self, t: &str, l: &Lookup) -> Result<LookupResult, StoreError> {
        self.inner.lookup(t, l).await
    }
    async fn get_requests(
        &self,
        t: &str,
        ids: &[String],
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        self.inner.get_requests(t, ids).await
    }
    async fn create_requests(
        &self,
        t: &str,
        r: &[AccessRequestRecord],
        c: &[PendingClaim],
    ) -> Result<(), StoreError> {
        self.inner.create_requests(t, r, c).await
    }
    async fn query_requests(
        &self,
        t: &str,
        i: &RequestIndex,
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        self.inner.query_requests(t, i).await
    }
    async fn update_request(
        &self,
        t: &str,
        r: &AccessRequestRecord,
        e: Option<&EventRecord>,
    ) -> Result<(), StoreError> {
        self.lose(self.inner.update_request(t, r, e).await)
    }
    async fn put_event(&self, t: &str, e: &EventRecord) -> Result<(), StoreError> {
        self.inner.put_event(t, e).await
    }
    async fn list_events(&self, t: &str) -> Result<Vec<EventRecord>, StoreError> {
        self.inner.list_events(t).await
    }
    async fn get_non_employee_request(
        &self,
        t: &str,
        id: &str,
    ) -> Result<Option<NonEmployeeRequestRecord>, StoreError> {
        self.inner.get_non_employee_request(t, id).await
    }
    async fn update_non_employee_request(
        &self,
        t: &str,
        r: &NonEmployeeRequestRecord,
    ) -> Result<(), StoreError> {
        self.lose(self.inner.update_non_employee_request(t, r).await)
    }
    async fn load_tenant(&self, t: &str, r: &TenantRecords) -> Result<(), StoreError> {
        self.inner.load_tenant(t, r).await
    }
}
