//! A store built on its first call, so that a Lambda's init does not pay for
//! what only requests need (the DynamoDB client: its TLS roots, endpoint
//! rules and credentials chain).

use std::future::Future;

use async_trait::async_trait;
use futures::future::BoxFuture;
use tokio::sync::OnceCell;

use super::{Lookup, LookupResult, RequestIndex, Store, StoreError, TenantRecords};
use crate::records::{AccessRequestRecord, EventRecord, NonEmployeeRequestRecord, PendingClaim};

type Build<S> = Box<dyn Fn() -> BoxFuture<'static, Result<S, StoreError>> + Send + Sync>;

/// Builds `S` on the first call of any [`Store`] method and then delegates.
/// Calls racing the first one wait for the same build; a failed build is
/// tried again by the next call.
pub struct LazyStore<S> {
    store: OnceCell<S>,
    build: Build<S>,
}

impl<S: Store> LazyStore<S> {
    pub fn new<F, Fut>(build: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, StoreError>> + Send + 'static,
    {
        Self {
            store: OnceCell::new(),
            build: Box::new(move || Box::pin(build())),
        }
    }

    /// Whether the store has been built (by a first call).
    pub fn is_built(&self) -> bool {
        self.store.initialized()
    }

    async fn store(&self) -> Result<&S, StoreError> {
        self.store.get_or_try_init(|| (self.build)()).await
    }
}

#[async_trait]
impl<S: Store> Store for LazyStore<S> {
    async fn lookup(&self, tenant: &str, lookup: &Lookup) -> Result<LookupResult, StoreError> {
        self.store().await?.lookup(tenant, lookup).await
    }

    async fn get_requests(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        self.store().await?.get_requests(tenant, ids).await
    }

    async fn create_requests(
        &self,
        tenant: &str,
        requests: &[AccessRequestRecord],
        claims: &[PendingClaim],
    ) -> Result<(), StoreError> {
        self.store()
            .await?
            .create_requests(tenant, requests, claims)
            .await
    }

    async fn query_requests(
        &self,
        tenant: &str,
        index: &RequestIndex,
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        self.store().await?.query_requests(tenant, index).await
    }

    async fn update_request(
        &self,
        tenant: &str,
        record: &AccessRequestRecord,
        event: Option<&EventRecord>,
    ) -> Result<(), StoreError> {
        self.store()
            .await?
            .update_request(tenant, record, event)
            .await
    }

    async fn put_event(&self, tenant: &str, event: &EventRecord) -> Result<(), StoreError> {
        self.store().await?.put_event(tenant, event).await
    }

    async fn list_events(&self, tenant: &str) -> Result<Vec<EventRecord>, StoreError> {
        self.store().await?.list_events(tenant).await
    }

    async fn get_non_employee_request(
        &self,
        tenant: &str,
        approval_item_id: &str,
    ) -> Result<Option<NonEmployeeRequestRecord>, StoreError> {
        self.store()
            .await?
            .get_non_employee_request(tenant, approval_item_id)
            .await
    }

    async fn update_non_employee_request(
        &self,
        tenant: &str,
        record: &NonEmployeeRequestRecord,
    ) -> Result<(), StoreError> {
        self.store()
            .await?
            .update_non_employee_request(tenant, record)
            .await
    }

    async fn load_tenant(&self, tenant: &str, records: &TenantRecords) -> Result<(), StoreError> {
        self.store().await?.load_tenant(tenant, records).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn builds_once_on_first_call_and_retries_a_failed_build() {
        let builds = Arc::new(AtomicUsize::new(0));
        let counted = builds.clone();
        let lazy = LazyStore::new(move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err(StoreError::Unavailable("first build fails".into()))
                } else {
                    Ok(MemoryStore::new())
                }
            }
        });
        assert!(!lazy.is_built());
        assert_eq!(builds.load(Ordering::SeqCst), 0, "nothing built up front");

        let failed = lazy.list_events("acme").await;
        assert_eq!(
            failed,
            Err(StoreError::Unavailable("first build fails".into()))
        );
        assert!(!lazy.is_built());

        let event = EventRecord {
            id: "e1".into(),
            name: "Close Identity Requests Started".into(),
            created: chrono::Utc::now(),
            sequence: 0,
            actor: None,
            access_request_ids: Vec::new(),
            errored_ids: Vec::new(),
            attributes: Default::default(),
        };
        lazy.put_event("acme", &event).await.unwrap();
        assert_eq!(lazy.list_events("acme").await.unwrap(), vec![event]);
        assert!(lazy.is_built());
        assert_eq!(
            builds.load(Ordering::SeqCst),
            2,
            "built once after the failure"
        );
    }
}
