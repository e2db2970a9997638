//! Audit and trigger events: a tenant's, in as many partitions as it has
//! shards (every change in a tenant writes one), listed oldest first.

use super::item::{Item, Query, Record, Write};
use super::{keys, Store, StoreError};
use crate::records::EventRecord;

pub(super) fn event_item(tenant: &str, event: &EventRecord) -> Item {
    Item::new(
        keys::event(tenant, event),
        Record::Event(Box::new(event.clone())),
    )
}

impl Store {
    /// Records an audit event.
    pub async fn put_event(&self, tenant: &str, event: &EventRecord) -> Result<(), StoreError> {
        self.apply(vec![Write::put(event_item(tenant, event))])
            .await
    }

    /// The tenant's events, oldest first. It reads them all: for tests
    /// and tools.
    pub async fn list_events(&self, tenant: &str) -> Result<Vec<EventRecord>, StoreError> {
        let shards = keys::shards().map(|s| {
            let query = Query::table(keys::events(tenant, s));
            async move { self.items.query(&query).await }
        });
        let mut events = futures::future::try_join_all(shards)
            .await?
            .into_iter()
            .flatten()
            .map(|i| {
                i.into_record(|r| match r {
                    Record::Event(e) => Some(*e),
                    _ => None,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        events.sort_by(|a, b| a.chronological_order().cmp(&b.chronological_order()));
        Ok(events)
    }
}
