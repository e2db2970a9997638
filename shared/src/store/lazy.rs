//! A backend built on its first call, so that a Lambda's init does not pay
//! for what only requests need (the DynamoDB client: its TLS roots, endpoint
//! rules and credentials chain).

use std::future::Future;

use async_trait::async_trait;
use futures::future::BoxFuture;
use tokio::sync::OnceCell;

use super::item::{Cursor, Item, ItemStore, Query, QueryPage, Read, Write};
use super::StoreError;

type Build<S> = Box<dyn Fn() -> BoxFuture<'static, Result<S, StoreError>> + Send + Sync>;

/// Builds `S` on the first call of any [`ItemStore`] method and then
/// delegates. Calls racing the first one wait for the same build; a failed
/// build is tried again by the next call.
pub struct LazyStore<S> {
    store: OnceCell<S>,
    build: Build<S>,
}

impl<S: ItemStore> LazyStore<S> {
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

    /// Whether the backend has been built (by a first call).
    pub fn is_built(&self) -> bool {
        self.store.initialized()
    }

    async fn store(&self) -> Result<&S, StoreError> {
        self.store.get_or_try_init(|| (self.build)()).await
    }
}

#[async_trait]
impl<S: ItemStore> ItemStore for LazyStore<S> {
    async fn get(&self, reads: &[Read]) -> Result<Vec<Item>, StoreError> {
        self.store().await?.get(reads).await
    }

    async fn query_page(
        &self,
        query: &Query,
        after: Option<&Cursor>,
        limit: Option<usize>,
    ) -> Result<QueryPage, StoreError> {
        self.store().await?.query_page(query, after, limit).await
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.store().await?.write(writes).await
    }

    async fn load(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.store().await?.load(items).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::store::item::{Key, Record};
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

        let query = Query::table("p");
        let failed = lazy.query(&query).await;
        assert_eq!(
            failed,
            Err(StoreError::Unavailable("first build fails".into()))
        );
        assert!(!lazy.is_built());

        let item = Item::new(
            Key::new("p", "s"),
            Record::Pointer(crate::records::PointerRecord { target: "x".into() }),
        );
        lazy.write(vec![Write::put(item.clone())]).await.unwrap();
        assert_eq!(lazy.query(&query).await.unwrap(), vec![item]);
        assert!(lazy.is_built());
        assert_eq!(
            builds.load(Ordering::SeqCst),
            2,
            "built once after the failure"
        );
    }
}
