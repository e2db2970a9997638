//! Non-employee requests: one full copy of the request per approval item,
//! keyed by the item, so that a decision reads its request in one GetItem.

use super::item::{Condition, Item, Read, Record, Write};
use super::{keys, Store, StoreError};
use crate::records::NonEmployeeRequestRecord;

pub(super) fn request_items(tenant: &str, record: &NonEmployeeRequestRecord) -> Vec<Item> {
    record
        .approval_items
        .iter()
        .map(|a| {
            Item::new(
                keys::non_employee_approval(tenant, &a.id),
                Record::NonEmployeeRequest(record.clone()),
            )
        })
        .collect()
}

impl Store {
    /// The non-employee request that holds this approval item.
    pub async fn get_non_employee_request(
        &self,
        tenant: &str,
        approval_item_id: &str,
    ) -> Result<Option<NonEmployeeRequestRecord>, StoreError> {
        let read = Read::consistent(keys::non_employee_approval(tenant, approval_item_id));
        self.items
            .get(&[read])
            .await?
            .into_iter()
            .next()
            .map(|i| {
                i.into_record(|r| match r {
                    Record::NonEmployeeRequest(r) => Some(r),
                    _ => None,
                })
            })
            .transpose()
    }

    /// Replaces a non-employee request (and so all its approval items) if the
    /// stored one has version `record.version - 1`; `Conflict` otherwise.
    pub async fn update_non_employee_request(
        &self,
        tenant: &str,
        record: &NonEmployeeRequestRecord,
    ) -> Result<(), StoreError> {
        let Some(previous) = record.version.checked_sub(1) else {
            return Err(StoreError::Conflict(format!(
                "non-employee request {} cannot be at version -1",
                record.id
            )));
        };
        if record.approval_items.is_empty() {
            // Nothing stores a request without approval items.
            return Err(StoreError::Conflict(format!(
                "non-employee request {} has no approval items",
                record.id
            )));
        }
        let writes = request_items(tenant, record)
            .into_iter()
            .map(|item| Write::put_if(item, Condition::Version(previous)))
            .collect();
        self.commit(writes).await
    }
}
