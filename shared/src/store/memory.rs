//! The in-process [`ItemStore`]: the local server's embedded default and the
//! fast tests' store. It keeps items as DynamoDB does — by key, projected
//! into the same indexes, queried by partition in sort-key order — and one
//! mutex makes each call atomic, as the DynamoDB call it stands in for.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::item::{Index, Item, ItemStore, Key, Query, Read, Write, MAX_TRANSACTION_ITEMS};
use super::StoreError;

#[derive(Default)]
struct Table {
    items: BTreeMap<Key, Item>,
    /// Per index: (index partition, index sort key, primary key).
    indexes: BTreeMap<Index, BTreeSet<(String, String, Key)>>,
}

impl Table {
    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.items.remove(key) {
            for (index, k) in old.indexes {
                if let Some(entries) = self.indexes.get_mut(&index) {
                    entries.remove(&(k.pk, k.sk, key.clone()));
                }
            }
        }
    }

    fn insert(&mut self, item: Item) {
        self.remove(&item.key);
        for (index, k) in &item.indexes {
            self.indexes.entry(*index).or_default().insert((
                k.pk.clone(),
                k.sk.clone(),
                item.key.clone(),
            ));
        }
        self.items.insert(item.key.clone(), item);
    }
}

/// An in-process [`ItemStore`].
#[derive(Default)]
pub struct MemoryStore {
    table: Mutex<Table>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // Every method checks before it mutates, so a panic while holding
        // the lock cannot leave a half-applied write: a poisoned lock is safe.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[async_trait]
impl ItemStore for MemoryStore {
    async fn get(&self, reads: &[Read]) -> Result<Vec<Item>, StoreError> {
        let table = self.lock();
        let now = now();
        let mut seen = HashSet::new();
        Ok(reads
            .iter()
            .filter(|r| seen.insert(&r.key))
            .filter_map(|r| table.items.get(&r.key))
            .filter(|i| !i.expired(now))
            .cloned()
            .collect())
    }

    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        let table = self.lock();
        let now = now();
        let prefix = query.sort_prefix.as_deref().unwrap_or("");
        let live = |i: &&Item| !i.expired(now);
        Ok(match query.index {
            None => {
                let start = Key::new(query.partition.clone(), prefix);
                table
                    .items
                    .range(start..)
                    .take_while(|(k, _)| k.pk == query.partition && k.sk.starts_with(prefix))
                    .map(|(_, i)| i)
                    .filter(live)
                    .cloned()
                    .collect()
            }
            Some(index) => {
                let Some(entries) = table.indexes.get(&index) else {
                    return Ok(Vec::new());
                };
                let start = (
                    query.partition.clone(),
                    prefix.to_string(),
                    Key::new("", ""),
                );
                entries
                    .range(start..)
                    .take_while(|(pk, sk, _)| pk == &query.partition && sk.starts_with(prefix))
                    .filter_map(|(_, _, key)| table.items.get(key))
                    .filter(live)
                    .cloned()
                    .collect()
            }
        })
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::Unavailable(format!(
                "{} writes in one transaction; at most {MAX_TRANSACTION_ITEMS}",
                writes.len()
            )));
        }
        let mut keys = HashSet::new();
        if let Some(twice) = writes.iter().find(|w| !keys.insert(w.key())) {
            return Err(StoreError::Unavailable(format!(
                "one transaction writes {} {} twice",
                twice.key().pk,
                twice.key().sk
            )));
        }
        let mut table = self.lock();
        // Every condition first: all of the writes or none of them.
        for w in &writes {
            if let Some(condition) = w.condition() {
                if !condition.holds(table.items.get(w.key())) {
                    return Err(StoreError::Conflict(format!(
                        "condition {condition:?} failed on {} {}",
                        w.key().pk,
                        w.key().sk
                    )));
                }
            }
        }
        for w in writes {
            match w {
                Write::Put { item, .. } => table.insert(item),
                Write::Delete { key, .. } => table.remove(&key),
                Write::Check { .. } => {}
            }
        }
        Ok(())
    }

    async fn load(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let mut table = self.lock();
        for item in items {
            table.insert(item);
        }
        Ok(())
    }
}
