//! The in-process store: the local server's embedded default and the fast
//! tests' store. One mutex guards everything, so each method is atomic just
//! as the DynamoDB calls it stands in for.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::{Lookup, LookupResult, RequestIndex, Store, StoreError, TenantRecords};
use crate::models::ItemType;
use crate::records::{
    AccessRequestRecord, CatalogItemRecord, EventRecord, IdentityRecord, NonEmployeeRequestRecord,
    PendingClaim, PendingKey,
};

#[derive(Default)]
struct Tenant {
    identities: HashMap<String, IdentityRecord>,
    catalog: HashMap<(ItemType, String), CatalogItemRecord>,
    requests: HashMap<String, AccessRequestRecord>,
    pending: HashMap<PendingKey, String>,
    non_employee: HashMap<String, NonEmployeeRequestRecord>,
    /// Approval item id → non-employee request id.
    approval_items: HashMap<String, String>,
    events: Vec<EventRecord>,
}

/// An in-process [`Store`].
#[derive(Default)]
pub struct MemoryStore {
    tenants: Mutex<HashMap<String, Tenant>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Tenant>> {
        // A panic while holding the lock cannot leave a half-applied write
        // (every method checks before it mutates), so a poisoned lock is safe.
        self.tenants.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn lookup(&self, tenant: &str, lookup: &Lookup) -> Result<LookupResult, StoreError> {
        let tenants = self.lock();
        let mut result = LookupResult::default();
        let Some(t) = tenants.get(tenant) else {
            return Ok(result);
        };
        for id in &lookup.identity_ids {
            if let Some(identity) = t.identities.get(id) {
                result.identities.insert(id.clone(), identity.clone());
            }
        }
        for key in &lookup.items {
            if let Some(item) = t.catalog.get(key) {
                result.items.insert(key.clone(), item.clone());
            }
        }
        for key in &lookup.pending {
            if let Some(request_id) = t.pending.get(key) {
                result.pending.insert(key.clone(), request_id.clone());
            }
        }
        for id in &lookup.requests {
            if let Some(request) = t.requests.get(id) {
                result.requests.insert(id.clone(), request.clone());
            }
        }
        Ok(result)
    }

    async fn get_requests(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        let tenants = self.lock();
        let Some(t) = tenants.get(tenant) else {
            return Ok(Vec::new());
        };
        let mut seen = std::collections::HashSet::new();
        Ok(ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .filter_map(|id| t.requests.get(id).cloned())
            .collect())
    }

    async fn create_requests(
        &self,
        tenant: &str,
        requests: &[AccessRequestRecord],
        claims: &[PendingClaim],
    ) -> Result<(), StoreError> {
        let mut tenants = self.lock();
        let t = tenants.entry(tenant.to_string()).or_default();
        // Check every condition first: all of the submission or none of it.
        for r in requests {
            if t.requests.contains_key(&r.id) {
                return Err(StoreError::Conflict(format!(
                    "access request {} exists",
                    r.id
                )));
            }
        }
        for c in claims {
            let current = t.pending.get(&c.key);
            if current != c.replaces.as_ref() {
                return Err(StoreError::Conflict(format!(
                    "pending claim for {}/{} changed",
                    c.key.identity_id, c.key.item_id
                )));
            }
        }
        for r in requests {
            t.requests.insert(r.id.clone(), r.clone());
        }
        for c in claims {
            t.pending.insert(c.key.clone(), c.access_request_id.clone());
        }
        Ok(())
    }

    async fn query_requests(
        &self,
        tenant: &str,
        index: &RequestIndex,
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        let tenants = self.lock();
        let Some(t) = tenants.get(tenant) else {
            return Ok(Vec::new());
        };
        let mut found: Vec<AccessRequestRecord> = t
            .requests
            .values()
            .filter(|r| match index {
                RequestIndex::Requester(id) => &r.requester.id == id,
                RequestIndex::RequestedFor(id) => &r.requested_for.id == id,
                RequestIndex::Assignee(id) => r.assignees().contains(id),
                RequestIndex::Tenant => true,
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        Ok(found)
    }

    async fn update_request(
        &self,
        tenant: &str,
        record: &AccessRequestRecord,
        event: Option<&EventRecord>,
    ) -> Result<(), StoreError> {
        let mut tenants = self.lock();
        let t = tenants.entry(tenant.to_string()).or_default();
        let stored = t.requests.get(&record.id).ok_or_else(|| {
            StoreError::Conflict(format!("access request {} does not exist", record.id))
        })?;
        if stored.version + 1 != record.version {
            return Err(StoreError::Conflict(format!(
                "access request {} is at version {}, not {}",
                record.id,
                stored.version,
                record.version.saturating_sub(1)
            )));
        }
        t.requests.insert(record.id.clone(), record.clone());
        if let Some(e) = event {
            t.events.push(e.clone());
        }
        Ok(())
    }

    async fn put_event(&self, tenant: &str, event: &EventRecord) -> Result<(), StoreError> {
        let mut tenants = self.lock();
        tenants
            .entry(tenant.to_string())
            .or_default()
            .events
            .push(event.clone());
        Ok(())
    }

    async fn list_events(&self, tenant: &str) -> Result<Vec<EventRecord>, StoreError> {
        let tenants = self.lock();
        let mut events = tenants
            .get(tenant)
            .map(|t| t.events.clone())
            .unwrap_or_default();
        events.sort_by(|a, b| a.chronological_order().cmp(&b.chronological_order()));
        Ok(events)
    }

    async fn get_non_employee_request(
        &self,
        tenant: &str,
        approval_item_id: &str,
    ) -> Result<Option<NonEmployeeRequestRecord>, StoreError> {
        let tenants = self.lock();
        Ok(tenants.get(tenant).and_then(|t| {
            t.approval_items
                .get(approval_item_id)
                .and_then(|request_id| t.non_employee.get(request_id))
                .cloned()
        }))
    }

    async fn update_non_employee_request(
        &self,
        tenant: &str,
        record: &NonEmployeeRequestRecord,
    ) -> Result<(), StoreError> {
        let mut tenants = self.lock();
        let t = tenants.entry(tenant.to_string()).or_default();
        let stored = t.non_employee.get(&record.id).ok_or_else(|| {
            StoreError::Conflict(format!("non-employee request {} does not exist", record.id))
        })?;
        if stored.version + 1 != record.version {
            return Err(StoreError::Conflict(format!(
                "non-employee request {} is at version {}",
                record.id, stored.version
            )));
        }
        t.non_employee.insert(record.id.clone(), record.clone());
        Ok(())
    }

    async fn load_tenant(&self, tenant: &str, records: &TenantRecords) -> Result<(), StoreError> {
        let mut tenants = self.lock();
        let t = tenants.entry(tenant.to_string()).or_default();
        for i in &records.identities {
            t.identities.insert(i.id.clone(), i.clone());
        }
        for c in &records.catalog {
            t.catalog.insert((c.item_type, c.id.clone()), c.clone());
        }
        for r in &records.non_employee_requests {
            for item in &r.approval_items {
                t.approval_items.insert(item.id.clone(), r.id.clone());
            }
            t.non_employee.insert(r.id.clone(), r.clone());
        }
        for r in &records.access_requests {
            if !r.state.is_final() {
                for key in crate::domain::submit::pending_keys(r) {
                    t.pending.insert(key, r.id.clone());
                }
            }
            t.requests.insert(r.id.clone(), r.clone());
        }
        Ok(())
    }
}
