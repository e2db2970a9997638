//! The in-process [`ItemStore`]: the local server's embedded default and the
//! fast tests' store. It keeps items as DynamoDB does — by key, projected
//! into the same indexes, queried by partition in sort-key order — and one
//! mutex makes each call atomic, as the DynamoDB call it stands in for.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use std::ops::Bound::{self, Excluded, Included, Unbounded};

use super::item::{
    Cursor, Index, Item, ItemStore, Key, Query, QueryPage, Read, Record, Write, DEFAULT_PAGE_ITEMS,
    MAX_TRANSACTION_ITEMS,
};
use super::StoreError;
use crate::records::CounterRecord;

/// An entry of an index partition: (index sort key, primary key).
type IndexEntry = (Arc<str>, Key);

#[derive(Default)]
struct Table {
    /// Each item but its key, which is the map's.
    items: BTreeMap<Key, Stored>,
    /// Each index partition's entries, in order.
    indexes: BTreeMap<(Index, Arc<str>), BTreeSet<IndexEntry>>,
    /// One copy of each partition key (many items share one: a list's
    /// entries, an index partition's items) and of the sort key of records
    /// alone in their partition.
    names: HashSet<Arc<str>>,
}

/// An item as the map holds it, under its key.
struct Stored {
    indexes: Box<[(Index, Key)]>,
    expires_at: Option<i64>,
    record: Record,
}

impl Stored {
    fn item(&self, key: &Key) -> Item {
        Item {
            key: key.clone(),
            indexes: self.indexes.to_vec(),
            expires_at: self.expires_at,
            record: self.record.clone(),
        }
    }

    fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

impl Table {
    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.items.remove(key) {
            for (index, k) in old.indexes.into_vec() {
                let partition = (index, k.pk);
                if let Some(entries) = self.indexes.get_mut(&partition) {
                    entries.remove(&(k.sk, key.clone()));
                    if entries.is_empty() {
                        self.indexes.remove(&partition);
                    }
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

    fn insert(&mut self, item: Item) {
        let Item {
            mut key,
            mut indexes,
            expires_at,
            record,
        } = item;
        self.remove(&key);
        // A record alone in its partition has a partition key of its own,
        // and the sort key all such records share; a list's entries share
        // their partition key.
        if &*key.sk == super::keys::ROOT {
            key.sk = self.name(&key.sk);
        } else {
            key.pk = self.name(&key.pk);
        }
        for (index, k) in &mut indexes {
            k.pk = self.name(&k.pk);
            self.indexes
                .entry((*index, k.pk.clone()))
                .or_default()
                .insert((k.sk.clone(), key.clone()));
        }
        self.items.insert(
            key,
            Stored {
                indexes: indexes.into_boxed_slice(),
                expires_at,
                record,
            },
        );
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
            .filter_map(|r| table.items.get_key_value(&r.key))
            .filter(|(_, s)| !s.expired(now))
            .map(|(k, s)| s.item(k))
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
        let mut take = |key: &Key, stored: &Stored, cursor: Cursor| -> bool {
            if page.read == limit {
                more = true;
                return false;
            }
            page.read += 1;
            if !stored.expired(now) {
                page.items.push(stored.item(key));
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
                    for (key, stored) in range.rev() {
                        if !take(key, stored, cursor(key)) {
                            break;
                        }
                    }
                } else {
                    for (key, stored) in range {
                        if !take(key, stored, cursor(key)) {
                            break;
                        }
                    }
                }
            }
            Some(index) => {
                let Some(entries) = table.indexes.get(&(index, partition.into())) else {
                    return Ok(page);
                };
                let entry = |c: &Cursor| -> IndexEntry {
                    let sk = c
                        .index_key
                        .as_ref()
                        .map_or_else(|| "".into(), |k| k.sk.clone());
                    (sk, c.key.clone())
                };
                let bound = |sk: &str| -> IndexEntry { (sk.into(), Key::new("", "")) };
                let lower = match (after, query.descending) {
                    (Some(c), false) => Excluded(entry(c)),
                    _ => Included(bound(query.from.as_deref().unwrap_or(""))),
                };
                let upper = match (after, query.descending) {
                    (Some(c), true) => Excluded(entry(c)),
                    _ => match &query.to {
                        // Every entry whose index sort key is `to`, whatever
                        // its primary key.
                        Some(to) => Excluded(bound(&format!("{to}\u{0}"))),
                        None => Unbounded,
                    },
                };
                if lower_above_upper(&lower, &upper) {
                    return Ok(page);
                }
                let range = entries.range((lower, upper));
                let mut visit = |(sk, key): &IndexEntry| -> bool {
                    let Some(stored) = table.items.get(key) else {
                        return true;
                    };
                    take(
                        key,
                        stored,
                        Cursor {
                            key: key.clone(),
                            index_key: Some(Key::new(partition, sk.clone())),
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
                    .filter(|s| !matches!(s.record, Record::Counter(_)))
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
                let stored = table.items.get(w.key());
                if !condition.holds(stored.map(|s| (&s.record, s.expires_at))) {
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
    let stored = table.items.entry(key).or_insert_with(|| Stored {
        indexes: Box::default(),
        expires_at: None,
        record: Record::Counter(CounterRecord::default()),
    });
    if let Record::Counter(counter) = &mut stored.record {
        for (name, n) in counts {
            *counter.counts.entry(name.clone()).or_default() += n;
        }
    }
}
