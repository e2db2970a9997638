//! Audit and trigger events: one partition per tenant, oldest first.

use super::item::{Item, Query, Record, Write};
use super::{keys, Store, StoreError};
use crate::records::EventRecord;

pub(super) fn event_item(tenant: &str, event: &EventRecord) -> Item {
    Item::new(keys::event(tenant, event), Record::Event(event.clone()))
}

impl Store {
    /// Records an audit event.
    pub async fn put_event(&self, tenant: &str, event: &EventRecord) -> Result<(), StoreError> {
        self.commit(vec![Write::put(event_item(tenant, event))])
            .await
    }

    /// The tenant's events, oldest first.
    pub async fn list_events(&self, tenant: &str) -> Result<Vec<EventRecord>, StoreError> {
        let mut events = self
            .items
            .query(&Query::table(keys::events(tenant)))
            .await?
            .into_iter()
            .map(|i| {
                i.into_record(|r| match r {
                    Record::Event(e) => Some(e),
                    _ => None,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        events.sort_by(|a, b| a.chronological_order().cmp(&b.chronological_order()));
        Ok(events)
    }
}
