//! The in-process [`ItemStore`]: the local server's embedded default and the
//! fast tests' store. It keeps items as DynamoDB does — by key, projected
//! into the same indexes, queried by partition in sort-key order — and one
//! mutex makes each call atomic, as the DynamoDB call it stands in for.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use std::ops::Bound::{self, Excluded, Included};

use super::item::{
    Cursor, Index, Item, ItemStore, Key, Query, QueryPage, Read, Record, Write, DEFAULT_PAGE_ITEMS,
    MAX_TRANSACTION_ITEMS,
};
use super::StoreError;
use crate::records::CounterRecord;

/// An index entry: (index partition, index sort key, primary key).
type IndexEntry = (Arc<str>, Arc<str>, Key);

#[derive(Default)]
struct Table {
    items: BTreeMap<Key, Item>,
    /// Per index: (index partition, index sort key, primary key).
    indexes: BTreeMap<Index, BTreeSet<IndexEntry>>,
    /// One copy of each partition key (many items share one: a list's
    /// entries, an index partition's items) and of the sort key of records
    /// alone in their partition.
    names: HashSet<Arc<str>>,
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

    /// The one copy of a key string.
    fn name(&mut self, name: &Arc<str>) -> Arc<str> {
        match self.names.get(name) {
            Some(shared) => shared.clone(),
            None => {
                self.names.insert(name.clone());
                name.clone()
            }
        }
    }

    fn insert(&mut self, mut item: Item) {
        self.remove(&item.key);
        item.key.pk = self.name(&item.key.pk);
        if &*item.key.sk == super::keys::ROOT {
            item.key.sk = self.name(&item.key.sk);
        }
        for (index, k) in &mut item.indexes {
            k.pk = self.name(&k.pk);
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
    /// Calls answered and items read (evaluated by a query, found by a
    /// read), as DynamoDB would count them: what benchmarks report.
    calls: AtomicUsize,
    items_read: AtomicUsize,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// `(calls, items read)` since creation or the last reset.
    pub fn reads(&self) -> (usize, usize) {
        (
            self.calls.load(Ordering::Relaxed),
            self.items_read.load(Ordering::Relaxed),
        )
    }

    pub fn reset_reads(&self) {
        self.calls.store(0, Ordering::Relaxed);
        self.items_read.store(0, Ordering::Relaxed);
    }

    fn count(&self, items: usize) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.items_read.fetch_add(items, Ordering::Relaxed);
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

/// Whether a range is empty by its bounds (`BTreeMap::range` panics on
/// such a range rather than answering nothing).
fn lower_above_upper<T: Ord>(lower: &Bound<T>, upper: &Bound<T>) -> bool {
    match (lower, upper) {
        (Included(l), Included(u)) => l > u,
        (Included(l), Excluded(u)) | (Excluded(l), Included(u)) | (Excluded(l), Excluded(u)) => {
            l >= u
        }
        _ => false,
    }
}

#[async_trait]
impl ItemStore for MemoryStore {
    async fn get(&self, reads: &[Read]) -> Result<Vec<Item>, StoreError> {
        let table = self.lock();
        let now = now();
        let mut seen = HashSet::new();
        let found: Vec<Item> = reads
            .iter()
            .filter(|r| seen.insert(&r.key))
            .filter_map(|r| table.items.get(&r.key))
            .filter(|i| !i.expired(now))
            .cloned()
            .collect();
        self.count(found.len());
        Ok(found)
    }

    async fn query_page(
        &self,
        query: &Query,
        after: Option<&Cursor>,
        limit: Option<usize>,
    ) -> Result<QueryPage, StoreError> {
        let table = self.lock();
        let limit = limit.unwrap_or(DEFAULT_PAGE_ITEMS).max(1);
        let now = now();
        let partition = query.partition.as_str();
        // Every key of the partition lies below this one.
        let past_partition = format!("{partition}\u{0}");
        let mut page = QueryPage::default();
        let mut last: Option<Cursor> = None;
        let mut more = false;
        let mut take = |item: &Item, cursor: Cursor| -> bool {
            if page.read == limit {
                more = true;
                return false;
            }
            page.read += 1;
            if !item.expired(now) {
                page.items.push(item.clone());
            }
            last = Some(cursor);
            true
        };
        match query.index {
            None => {
                let lower = match (after, query.descending) {
                    (Some(c), false) => Excluded(c.key.clone()),
                    _ => Included(Key::new(partition, query.from.as_deref().unwrap_or(""))),
                };
                let upper = match (after, query.descending) {
                    (Some(c), true) => Excluded(c.key.clone()),
                    _ => match &query.to {
                        Some(to) => Included(Key::new(partition, to.as_str())),
                        None => Excluded(Key::new(past_partition.as_str(), "")),
                    },
                };
                if lower_above_upper(&lower, &upper) {
                    return Ok(page);
                }
                let range = table.items.range((lower, upper));
                let cursor = |key: &Key| Cursor {
                    key: key.clone(),
                    index_key: None,
                };
                if query.descending {
                    for (key, item) in range.rev() {
                        if !take(item, cursor(key)) {
                            break;
                        }
                    }
                } else {
                    for (key, item) in range {
                        if !take(item, cursor(key)) {
                            break;
                        }
                    }
                }
            }
            Some(index) => {
                let Some(entries) = table.indexes.get(&index) else {
                    return Ok(page);
                };
                let entry = |c: &Cursor| {
                    let k = c.index_key.clone().unwrap_or_else(|| Key::new("", ""));
                    (k.pk, k.sk, c.key.clone())
                };
                let bound = |pk: &str, sk: &str| -> IndexEntry {
                    (pk.into(), sk.into(), Key::new("", ""))
                };
                let lower = match (after, query.descending) {
                    (Some(c), false) => Excluded(entry(c)),
                    _ => Included(bound(partition, query.from.as_deref().unwrap_or(""))),
                };
                let upper = match (after, query.descending) {
                    (Some(c), true) => Excluded(entry(c)),
                    _ => match &query.to {
                        // Every entry whose index sort key is `to`, whatever
                        // its primary key.
                        Some(to) => Excluded(bound(partition, &format!("{to}\u{0}"))),
                        None => Excluded(bound(&past_partition, "")),
                    },
                };
                if lower_above_upper(&lower, &upper) {
                    return Ok(page);
                }
                let range = entries.range((lower, upper));
                let mut visit = |(pk, sk, key): &IndexEntry| -> bool {
                    let Some(item) = table.items.get(key) else {
                        return true;
                    };
                    take(
                        item,
                        Cursor {
                            key: key.clone(),
                            index_key: Some(Key::new(pk.clone(), sk.clone())),
                        },
                    )
                };
                if query.descending {
                    for e in range.rev() {
                        if !visit(e) {
                            break;
                        }
                    }
                } else {
                    for e in range {
                        if !visit(e) {
                            break;
                        }
                    }
                }
            }
        }
        if more {
            page.next = last;
        }
        self.count(page.read);
        Ok(page)
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
            if let Write::Add { key, .. } = w {
                if let Some(other) = table
                    .items
                    .get(key)
                    .filter(|i| !matches!(i.record, Record::Counter(_)))
                {
                    return Err(StoreError::Corrupt(format!(
                        "{} {}: counts added to a {} item",
                        key.pk,
                        key.sk,
                        other.record.kind()
                    )));
                }
            }
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
                Write::Add { key, counts } => add(&mut table, key, &counts),
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

/// Adds `counts` to the counter item at `key` (created at zero).
fn add(table: &mut Table, key: Key, counts: &crate::records::Counts) {
    let item = table
        .items
        .entry(key.clone())
        .or_insert_with(|| Item::new(key, Record::Counter(CounterRecord::default())));
    if let Record::Counter(counter) = &mut item.record {
        for (name, n) in counts {
            *counter.counts.entry(name.clone()).or_default() += n;
        }
    }
}
