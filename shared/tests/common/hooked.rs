//! A store that passes every call on to another and lets a test act around
//! it: record what was asked, count calls, delay, fail, or lose an answer.

use std::sync::Arc;

use async_trait::async_trait;
use shared::records::{AccessRequestRecord, EventRecord, NonEmployeeRequestRecord, PendingClaim};
use shared::store::{
    Lookup, LookupResult, MemoryStore, RequestIndex, Store, StoreError, TenantRecords,
};

/// A store call, as the hooks see it.
#[derive(Debug)]
pub enum Call<'a> {
    Lookup,
    GetRequests(&'a [String]),
    CreateRequests,
    QueryRequests(&'a RequestIndex),
    UpdateRequest(&'a AccessRequestRecord),
    PutEvent,
    ListEvents,
    GetNonEmployeeRequest,
    UpdateNonEmployeeRequest,
    LoadTenant,
}

impl Call<'_> {
    /// The store method's name.
    pub fn name(&self) -> &'static str {
        match self {
            Call::Lookup => "lookup",
            Call::GetRequests(_) => "get_requests",
            Call::CreateRequests => "create_requests",
            Call::QueryRequests(_) => "query_requests",
            Call::UpdateRequest(_) => "update_request",
            Call::PutEvent => "put_event",
            Call::ListEvents => "list_events",
            Call::GetNonEmployeeRequest => "get_non_employee_request",
            Call::UpdateNonEmployeeRequest => "update_non_employee_request",
            Call::LoadTenant => "load_tenant",
        }
    }
}

/// What a [`Hooked`] store does around each call.
#[async_trait]
pub trait Hooks: Send + Sync {
    /// Before the call. An error is the call's answer: the inner store is
    /// not asked.
    async fn before(&self, _call: &Call<'_>) -> Result<(), StoreError> {
        Ok(())
    }

    /// After the inner store answered (`ok`: it succeeded). An error
    /// replaces the answer; the inner store's work stays done.
    async fn after(&self, _call: &Call<'_>, _ok: bool) -> Result<(), StoreError> {
        Ok(())
    }
}

/// `inner` with `hooks` around each of its calls.
pub struct Hooked<H> {
    pub inner: Arc<dyn Store>,
    pub hooks: H,
}

impl<H: Hooks> Hooked<H> {
    pub fn new(inner: Arc<dyn Store>, hooks: H) -> Self {
        Self { inner, hooks }
    }

    /// On a fresh in-process store loaded with `seed` (through the hooks).
    pub async fn seeded(seed: &str, hooks: H) -> Self {
        let store = Self::new(Arc::new(MemoryStore::new()), hooks);
        shared::seed::SeedFile::from_json(seed)
            .unwrap()
            .load_into(&store)
            .await
            .unwrap();
        store
    }

    async fn around<T>(
        &self,
        call: Call<'_>,
        answer: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.hooks.before(&call).await?;
        let result = answer.await;
        self.hooks.after(&call, result.is_ok()).await?;
        result
    }
}

#[async_trait]
impl<H: Hooks> Store for Hooked<H> {
    async fn lookup(&self, t: &str, l: &Lookup) -> Result<LookupResult, StoreError> {
        self.around(Call::Lookup, self.inner.lookup(t, l)).await
    }
    async fn get_requests(
        &self,
        t: &str,
        ids: &[String],
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        self.around(Call::GetRequests(ids), self.inner.get_requests(t, ids))
            .await
    }
    async fn create_requests(
        &self,
        t: &str,
        r: &[AccessRequestRecord],
        c: &[PendingClaim],
    ) -> Result<(), StoreError> {
        self.around(Call::CreateRequests, self.inner.create_requests(t, r, c))
            .await
    }
    async fn query_requests(
        &self,
        t: &str,
        i: &RequestIndex,
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        self.around(Call::QueryRequests(i), self.inner.query_requests(t, i))
            .await
    }
    async fn update_request(
        &self,
        t: &str,
        r: &AccessRequestRecord,
        e: Option<&EventRecord>,
    ) -> Result<(), StoreError> {
        self.around(Call::UpdateRequest(r), self.inner.update_request(t, r, e))
            .await
    }
    async fn put_event(&self, t: &str, e: &EventRecord) -> Result<(), StoreError> {
        self.around(Call::PutEvent, self.inner.put_event(t, e))
            .await
    }
    async fn list_events(&self, t: &str) -> Result<Vec<EventRecord>, StoreError> {
        self.around(Call::ListEvents, self.inner.list_events(t))
            .await
    }
    async fn get_non_employee_request(
        &self,
        t: &str,
        id: &str,
    ) -> Result<Option<NonEmployeeRequestRecord>, StoreError> {
        self.around(
            Call::GetNonEmployeeRequest,
            self.inner.get_non_employee_request(t, id),
        )
        .await
    }
    async fn update_non_employee_request(
        &self,
        t: &str,
        r: &NonEmployeeRequestRecord,
    ) -> Result<(), StoreError> {
        self.around(
            Call::UpdateNonEmployeeRequest,
            self.inner.update_non_employee_request(t, r),
        )
        .await
    }
    async fn load_tenant(&self, t: &str, r: &TenantRecords) -> Result<(), StoreError> {
        self.around(Call::LoadTenant, self.inner.load_tenant(t, r))
            .await
    }
}
