//! A backend that passes every call on to another and lets a test act around
//! it: record what was asked, count calls, delay, fail, or lose an answer.

use std::ops::Deref;
use std::sync::Arc;

use async_trait::async_trait;
use shared::records::AccessRequestRecord;
use shared::store::item::{
    Condition, Cursor, Item, ItemStore, Query, QueryPage, Read, Record, Write,
};
use shared::store::{MemoryStore, Store, StoreError};

/// A backend call, as the hooks see it.
#[derive(Debug)]
pub enum Call<'a> {
    Get(&'a [Read]),
    Query(&'a Query),
    Write(&'a [Write]),
    Load,
}

impl Call<'_> {
    /// What the call does, in the typed store's terms: `get`, `query`,
    /// `load`, and for writes `update_request` (a conditional replacement of
    /// an access request), `update_non_employee_request`,
    /// `create_non_employee_request`, `delete_non_employee_request`,
    /// `create_requests` or `put_event`.
    pub fn name(&self) -> &'static str {
        match self {
            Call::Get(_) => "get",
            Call::Query(_) => "query",
            Call::Load => "load",
            Call::Write(writes) => {
                let versioned = |kind: &str| {
                    writes.iter().any(|w| match w {
                        Write::Put {
                            item,
                            condition: Some(Condition::Version(_)),
                        } => item.record.kind() == kind,
                        _ => false,
                    })
                };
                if versioned("accessRequest") {
                    "update_request"
                } else if versioned("nonEmployeeRequest") {
                    "update_non_employee_request"
                } else if writes.iter().any(|w| {
                    matches!(w, Write::Put { item, condition: Some(Condition::Absent) }
                        if matches!(item.record, Record::NonEmployeeRequest(_)))
                }) {
                    "create_non_employee_request"
                } else if writes.iter().any(|w| {
                    matches!(
                        w,
                        Write::Delete {
                            condition: Some(Condition::Version(_)),
                            ..
                        }
                    )
                }) {
                    "delete_non_employee_request"
                } else if writes.iter().all(|w| {
                    matches!(w, Write::Put { item, .. } if matches!(item.record, Record::Event(_)))
                }) {
                    "put_event"
                } else {
                    "create_requests"
                }
            }
        }
    }

    /// The access request a conditional update replaces, if this is one.
    pub fn updated_request(&self) -> Option<&AccessRequestRecord> {
        let Call::Write(writes) = self else {
            return None;
        };
        writes.iter().find_map(|w| match w {
            Write::Put {
                item:
                    Item {
                        record: Record::AccessRequest(r),
                        ..
                    },
                condition: Some(Condition::Version(_)),
            } => Some(r.as_ref()),
            _ => None,
        })
    }

    /// Whether this writes a versioned record conditionally (an update).
    pub fn is_update(&self) -> bool {
        matches!(
            self.name(),
            "update_request" | "update_non_employee_request"
        )
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

/// The backend `inner` with `hooks` around each of its calls.
struct HookedItems<H> {
    inner: Arc<dyn ItemStore>,
    hooks: Arc<H>,
}

impl<H: Hooks> HookedItems<H> {
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
impl<H: Hooks> ItemStore for HookedItems<H> {
    async fn get(&self, reads: &[Read]) -> Result<Vec<Item>, StoreError> {
        self.around(Call::Get(reads), self.inner.get(reads)).await
    }
    async fn query_page(
        &self,
        query: &Query,
        after: Option<&Cursor>,
        limit: Option<usize>,
    ) -> Result<QueryPage, StoreError> {
        self.around(
            Call::Query(query),
            self.inner.query_page(query, after, limit),
        )
        .await
    }
    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let call = writes.clone();
        self.around(Call::Write(&call), self.inner.write(writes))
            .await
    }
    async fn load(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.around(Call::Load, self.inner.load(items)).await
    }
}

/// A store whose backend calls go through `hooks`; it derefs to the
/// [`Store`] the domain takes.
pub struct Hooked<H> {
    pub store: Store,
    pub hooks: Arc<H>,
}

impl<H: Hooks + 'static> Hooked<H> {
    /// `inner`'s backend, hooked.
    pub fn new(inner: &Store, hooks: H) -> Self {
        let hooks = Arc::new(hooks);
        let items = HookedItems {
            inner: inner.backend(),
            hooks: hooks.clone(),
        };
        Self {
            store: Store::new(Arc::new(items)),
            hooks,
        }
    }

    /// On a fresh in-process store loaded with `seed` (through the hooks).
    pub async fn seeded(seed: &str, hooks: H) -> Self {
        let store = Self::new(&Store::new(Arc::new(MemoryStore::new())), hooks);
        shared::seed::SeedFile::from_json(seed)
            .unwrap()
            .load_into(&store)
            .await
            .unwrap();
        store
    }
}

impl<H> Deref for Hooked<H> {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}
