//! The tenant's directory and catalog, the one batch read an operation
//! starts with, and seeding.

use super::counts::{self, Tally};
use super::item::{unexpected, Batch, Item, Read, Record, MAX_TRANSACTION_ITEMS};
use super::{keys, Lookup, LookupResult, Store, StoreError, TenantRecords};
use crate::records::{pending_keys, PointerRecord};

/// What a looked-up key stands for.
enum Wanted {
    Identity(String),
    Item(crate::models::ItemType, String),
    Claim(crate::records::PendingKey),
    Request(String),
}

impl Store {
    /// Identities, catalog items, duplicate guards and requests, in one
    /// batch read. Guards and requests are read consistently (they guard
    /// writes); they come last, so only the chunks holding them pay for it.
    pub async fn lookup(&self, tenant: &str, lookup: &Lookup) -> Result<LookupResult, StoreError> {
        let mut batch = Batch::default();
        for id in &lookup.identity_ids {
            batch.want(
                keys::identity(tenant, id),
                Wanted::Identity(id.clone()),
                false,
            );
        }
        for (item_type, id) in &lookup.items {
            batch.want(
                keys::catalog(tenant, *item_type, id),
                Wanted::Item(*item_type, id.clone()),
                false,
            );
        }
        for key in &lookup.pending {
            batch.want(keys::pending(tenant, key), Wanted::Claim(key.clone()), true);
        }
        for id in &lookup.requests {
            batch.want(keys::request(tenant, id), Wanted::Request(id.clone()), true);
        }

        let mut result = LookupResult::default();
        for (what, item) in batch.read(&*self.items).await? {
            let kind = item.record.kind();
            match (what, item.record) {
                (Wanted::Identity(id), Record::Identity(r)) => {
                    result.identities.insert(id, *r);
                }
                (Wanted::Item(t, id), Record::CatalogItem(r)) => {
                    result.items.insert((t, id), *r);
                }
                (Wanted::Claim(key), Record::Pointer(p)) => {
                    result.pending.insert(key, p.target);
                }
                (Wanted::Request(id), Record::AccessRequest(r)) => {
                    result
                        .requests
                        .insert(id, std::sync::Arc::unwrap_or_clone(r));
                }
                _ => return Err(unexpected(&item.key.pk, kind)),
            }
        }
        Ok(result)
    }

    /// Writes a tenant's seed, replacing records with the same keys. The
    /// records move into the store (a seed's requests are its bulk).
    pub async fn load_tenant(
        &self,
        tenant: &str,
        records: TenantRecords,
    ) -> Result<(), StoreError> {
        let counts = self.seed_counts(tenant, &records).await?;
        let mut items = Vec::new();
        for i in &records.identities {
            items.push(Item::new(
                keys::identity(tenant, &i.id),
                Record::Identity(Box::new(i.clone())),
            ));
        }
        for c in &records.catalog {
            items.push(Item::new(
                keys::catalog(tenant, c.item_type, &c.id),
                Record::CatalogItem(Box::new(c.clone())),
            ));
        }
        for s in &records.non_employee_sources {
            items.push(super::non_employee::source_item(tenant, s));
        }
        for r in &records.non_employee_requests {
            items.extend(super::non_employee::request_items(tenant, r));
        }
        for r in records.access_requests {
            if !r.state.is_final() {
                for key in pending_keys(&r) {
                    items.push(Item::new(
                        keys::pending(tenant, &key),
                        Record::Pointer(PointerRecord {
                            target: r.id.clone(),
                        }),
                    ));
                }
            }
            // The request, its assignments and its approvals' items and entries.
            items.extend(super::request_writes::request_items(tenant, r));
        }
        self.items.load(items).await?;
        for chunk in counts.writes().chunks(MAX_TRANSACTION_ITEMS) {
            self.items.write(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// What loading `records` adds to the counts: what the records add,
    /// less what the stored records they replace added.
    async fn seed_counts(
        &self,
        tenant: &str,
        records: &TenantRecords,
    ) -> Result<Tally, StoreError> {
        /// Keys read per round: bounded, so that a large seed does not
        /// send every batch read at once.
        const KEYS_PER_ROUND: usize = 10_000;
        let mut tally = Tally::default();
        let mut reads = Vec::new();
        for r in &records.access_requests {
            tally.merge(counts::access_request(tenant, r), 1);
            reads.push(Read::consistent(keys::request(tenant, &r.id)));
        }
        for r in &records.non_employee_requests {
            tally.merge(counts::non_employee_request(tenant, r, false), 1);
            reads.push(Read::consistent(keys::non_employee_request(tenant, &r.id)));
        }
        for chunk in reads.chunks(KEYS_PER_ROUND) {
            for item in self.items.get(chunk).await? {
                match &item.record {
                    Record::AccessRequest(r) => tally.merge(counts::access_request(tenant, r), -1),
                    Record::NonEmployeeRequest(r) => {
                        tally.merge(counts::non_employee_request(tenant, r, false), -1)
                    }
                    other => return Err(unexpected(&item.key.pk, other.kind())),
                }
            }
        }
        Ok(tally)
    }
}
