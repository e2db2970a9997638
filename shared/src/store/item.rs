//! The storage contract: items in one table, keyed by a partition and a sort
//! key, optionally projected into secondary indexes, written with conditions
//! and in all-or-nothing batches. [`ItemStore`] is what a backend implements
//! (DynamoDB, or the in-process map); everything typed is built on it once,
//! in the area modules of `store`.
//!
//! Every method is one logical round trip (a batch read, one query, one
//! conditional write or transaction), so an operation's cost in requests is
//! visible at its call sites.

use std::sync::Arc;

use async_trait::async_trait;

use super::StoreError;
use crate::records::{
    AccessRequestRecord, CatalogItemRecord, EventRecord, IdempotencyRecord, IdentityRecord,
    NonEmployeeApprovalViewRecord, NonEmployeeRequestRecord, NonEmployeeSourceRecord,
    PointerRecord,
};
use crate::records::{ApprovalItemRecord, CounterRecord, Counts, StoredEntry};

/// The most writes one [`ItemStore::write`] may hold: DynamoDB's limit for
/// one `TransactWriteItems`. Operations that would need more are refused
/// before they write.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// The table's secondary indexes. Items of any kind may project into them;
/// the key prefixes (see `keys`) keep the kinds apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Index {
    Gsi1,
    Gsi2,
    Gsi3,
}

impl Index {
    pub const ALL: [Index; 3] = [Index::Gsi1, Index::Gsi2, Index::Gsi3];

    /// The index name, and the names of its partition and sort attributes.
    pub fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Index::Gsi1 => ("GSI1", "GSI1PK", "GSI1SK"),
            Index::Gsi2 => ("GSI2", "GSI2PK", "GSI2SK"),
            Index::Gsi3 => ("GSI3", "GSI3PK", "GSI3SK"),
        }
    }
}

/// A primary key: partition and sort key. Its strings are shared, not
/// copied, by the items, indexes and lists that name them (the in-process
/// store keeps one copy of each).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: Arc<str>,
    pub sk: Arc<str>,
}

impl Key {
    pub fn new(pk: impl Into<Arc<str>>, sk: impl Into<Arc<str>>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// What an item holds. One variant per kind of record; the backend stores
/// the variant's name (`Record::kind`) beside its fields.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    // Boxed or shared, every variant: an item's record is one pointer wide,
    // which keeps the in-process store's items small.
    Identity(Box<IdentityRecord>),
    CatalogItem(Box<CatalogItemRecord>),
    /// Shared: a list of requests hands out the stored records (the
    /// in-process store) without copying each one.
    AccessRequest(Arc<AccessRequestRecord>),
    /// Shared by the copies a request is stored as.
    NonEmployeeRequest(Arc<NonEmployeeRequestRecord>),
    NonEmployeeSource(Box<NonEmployeeSourceRecord>),
    /// An entry of an identity's non-employee approvals list, shared by the
    /// identities that list it.
    NonEmployeeApproval(Arc<NonEmployeeApprovalViewRecord>),
    Event(Box<EventRecord>),
    /// A reference to another record: a duplicate guard naming the request
    /// that claims it, an assignment naming a request to list.
    Pointer(PointerRecord),
    /// The stored answer of a request made with an `Idempotency-Key`.
    Idempotency(Box<IdempotencyRecord>),
    /// An approval of an access request, by its id, with its request.
    Approval(ApprovalItemRecord),
    /// An entry of an approver's approval list.
    ApprovalEntry(StoredEntry),
    /// The sizes of the lists of one scope (an identity, a tenant shard),
    /// changed only by [`Write::Add`].
    Counter(CounterRecord),
}

impl Record {
    /// The stored name of the variant.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Identity(_) => "identity",
            Record::CatalogItem(_) => "catalogItem",
            Record::AccessRequest(_) => "accessRequest",
            Record::NonEmployeeRequest(_) => "nonEmployeeRequest",
            Record::NonEmployeeSource(_) => "nonEmployeeSource",
            Record::NonEmployeeApproval(_) => "nonEmployeeApproval",
            Record::Event(_) => "event",
            Record::Pointer(_) => "pointer",
            Record::Idempotency(_) => "idempotency",
            Record::Approval(_) => "approval",
            Record::ApprovalEntry(_) => "approvalEntry",
            Record::Counter(_) => "counter",
        }
    }

    /// The `version` of a versioned record, which [`Condition::Version`] tests.
    pub fn version(&self) -> Option<u64> {
        match self {
            Record::AccessRequest(r) => Some(r.version),
            Record::NonEmployeeRequest(r) => Some(r.version),
            _ => None,
        }
    }

    /// The target of a pointer, which [`Condition::PointsTo`] tests.
    pub fn target(&self) -> Option<&str> {
        match self {
            Record::Pointer(p) => Some(&p.target),
            _ => None,
        }
    }
}

/// A stored item: its key, its index keys, an optional expiry and the record.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: Key,
    /// The index keys (partition, sort) this item projects into.
    pub indexes: Vec<(Index, Key)>,
    /// Seconds since the epoch after which the item no longer exists for
    /// readers (DynamoDB's TTL attribute removes it some time later).
    pub expires_at: Option<i64>,
    pub record: Record,
}

impl Item {
    pub fn new(key: Key, record: Record) -> Self {
        Self {
            key,
            indexes: Vec::new(),
            expires_at: None,
            record,
        }
    }

    /// The key the item has in `index`, if it projects into it.
    pub fn index_key(&self, index: Index) -> Option<&Key> {
        self.indexes
            .iter()
            .find_map(|(i, k)| (*i == index).then_some(k))
    }

    pub fn indexed(mut self, index: Index, key: Key) -> Self {
        self.indexes.push((index, key));
        self
    }

    pub fn expiring(mut self, at: i64) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Whether the item has expired at `now` (seconds since the epoch).
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// The record, when it is of the kind `extract` takes.
    pub fn into_record<T>(self, extract: fn(Record) -> Option<T>) -> Result<T, StoreError> {
        let kind = self.record.kind();
        extract(self.record).ok_or_else(|| {
            StoreError::Corrupt(format!("{}: unexpected record kind {kind}", self.key.pk))
        })
    }
}

/// A condition on the stored item a write addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// No item has the key.
    Absent,
    /// An item has the key.
    Exists,
    /// The stored record has this `version`.
    Version(u64),
    /// The stored record is a pointer to this target.
    PointsTo(String),
    /// No item has the key, or the one there expired at or before this
    /// time (seconds since the epoch): DynamoDB removes expired items some
    /// time after they expire, and until then conditions still see them.
    AbsentOrExpired(i64),
}

impl Condition {
    /// Whether the condition holds for the item stored with the key, if
    /// any: its record and its expiry.
    pub fn holds(&self, stored: Option<(&Record, Option<i64>)>) -> bool {
        match self {
            Condition::Absent => stored.is_none(),
            Condition::Exists => stored.is_some(),
            Condition::Version(v) => stored.and_then(|(r, _)| r.version()) == Some(*v),
            Condition::PointsTo(t) => stored.and_then(|(r, _)| r.target()) == Some(t.as_str()),
            Condition::AbsentOrExpired(now) => {
                stored.is_none_or(|(_, expires)| expires.is_some_and(|at| at <= *now))
            }
        }
    }
}

/// One write of a batch.
// Writes live only while a batch is built and sent: boxing the put's item
// would buy nothing but an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Stores the item, replacing any with its key.
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    /// Removes the item with this key, if any.
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    /// Writes nothing; fails the batch unless the condition holds.
    Check { key: Key, condition: Condition },
    /// Adds to the named counts of a counter item, creating it (and any
    /// count) at zero first: concurrent adds never lose one another.
    Add { key: Key, counts: Counts },
}

impl Write {
    pub fn put(item: Item) -> Self {
        Write::Put {
            item,
            condition: None,
        }
    }

    pub fn put_if(item: Item, condition: Condition) -> Self {
        Write::Put {
            item,
            condition: Some(condition),
        }
    }

    pub fn delete(key: Key) -> Self {
        Write::Delete {
            key,
            condition: None,
        }
    }

    pub fn delete_if(key: Key, condition: Condition) -> Self {
        Write::Delete {
            key,
            condition: Some(condition),
        }
    }

    /// The key the write addresses.
    pub fn key(&self) -> &Key {
        match self {
            Write::Put { item, .. } => &item.key,
            Write::Delete { key, .. } | Write::Check { key, .. } | Write::Add { key, .. } => key,
        }
    }

    pub fn condition(&self) -> Option<&Condition> {
        match self {
            Write::Put { condition, .. } | Write::Delete { condition, .. } => condition.as_ref(),
            Write::Check { condition, .. } => Some(condition),
            Write::Add { .. } => None,
        }
    }
}

/// A key to read, and whether the read must see every write acknowledged
/// before it (a strongly consistent read: records that guard writes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Read {
    pub key: Key,
    pub consistent: bool,
}

impl Read {
    pub fn consistent(key: Key) -> Self {
        Self {
            key,
            consistent: true,
        }
    }

    pub fn eventual(key: Key) -> Self {
        Self {
            key,
            consistent: false,
        }
    }
}

/// Keys to read in one batch, each with what it stands for (`W`); a key
/// asked for twice is read once.
pub struct Batch<W> {
    wanted: std::collections::HashMap<Key, W>,
    reads: Vec<Read>,
}

impl<W> Default for Batch<W> {
    fn default() -> Self {
        Self {
            wanted: Default::default(),
            reads: Vec::new(),
        }
    }
}

impl<W> Batch<W> {
    /// Asks for `key`, standing for `what`, read consistently or not.
    pub fn want(&mut self, key: Key, what: W, consistent: bool) {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.wanted.entry(key) {
            self.reads.push(Read {
                key: slot.key().clone(),
                consistent,
            });
            slot.insert(what);
        }
    }

    /// Reads the batch (one round trip): each item found, with what it
    /// stands for; absent keys are simply missing.
    pub async fn read(mut self, items: &dyn ItemStore) -> Result<Vec<(W, Item)>, StoreError> {
        Ok(items
            .get(&self.reads)
            .await?
            .into_iter()
            .filter_map(|item| self.wanted.remove(&item.key).map(|what| (what, item)))
            .collect())
    }
}

/// The error for an item (partition `pk`) whose record is of `kind`, not
/// of the kind its key stands for.
pub fn unexpected(pk: &str, kind: &str) -> StoreError {
    StoreError::Corrupt(format!("{pk}: unexpected record kind {kind}"))
}

/// The items of one partition, of the table (read consistently) or of an
/// index (eventually consistent), in sort-key order or its reverse,
/// optionally only those whose sort key lies within inclusive bounds. A
/// prefix is the range from the prefix to the prefix followed by the
/// highest character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub index: Option<Index>,
    pub partition: String,
    /// The lowest sort key wanted (inclusive).
    pub from: Option<String>,
    /// The highest sort key wanted (inclusive).
    pub to: Option<String>,
    /// Highest sort key first.
    pub descending: bool,
}

/// Above every character of a key: the upper bound of a prefix.
const PREFIX_END: char = char::MAX;

impl Query {
    pub fn table(partition: impl Into<String>) -> Self {
        Self {
            index: None,
            partition: partition.into(),
            from: None,
            to: None,
            descending: false,
        }
    }

    pub fn index(index: Index, partition: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            ..Self::table(partition)
        }
    }

    /// Only sort keys that start with `prefix`.
    pub fn with_prefix(self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        let end = format!("{prefix}{PREFIX_END}");
        self.between(Some(prefix), Some(end))
    }

    /// Only sort keys within `from..=to` (either end open when `None`).
    pub fn between(mut self, from: Option<String>, to: Option<String>) -> Self {
        self.from = from;
        self.to = to;
        self
    }

    /// Highest sort key first (`desc`) or lowest first.
    pub fn descending(mut self, desc: bool) -> Self {
        self.descending = desc;
        self
    }

    /// Whether `sort_key` lies within the query's bounds.
    pub fn admits(&self, sort_key: &str) -> bool {
        self.from.as_deref().is_none_or(|f| sort_key >= f)
            && self.to.as_deref().is_none_or(|t| sort_key <= t)
    }

    /// The key an item sorts by in this query: its index key, or its own.
    pub fn sort_key<'i>(&self, item: &'i Item) -> Option<&'i Key> {
        match self.index {
            None => Some(&item.key),
            Some(index) => item.index_key(index),
        }
    }
}

/// Where a page of a query stopped: the last item it evaluated, by its key
/// and (querying an index) its index key. The next page starts after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: Key,
    pub index_key: Option<Key>,
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryPage {
    /// The live items of the page, in the query's order.
    pub items: Vec<Item>,
    /// How many items the store read for it (DynamoDB's `ScannedCount`),
    /// expired ones included: what the page cost.
    pub read: usize,
    /// Where to go on, if the partition may hold more in range.
    pub next: Option<Cursor>,
}

/// Items one query page holds at most when the caller sets no limit (a
/// DynamoDB page also ends at 1 MB).
pub const DEFAULT_PAGE_ITEMS: usize = 1000;

/// A backend: DynamoDB ([`super::DynamoStore`]) or the in-process map
/// ([`super::MemoryStore`]). Both pass one conformance suite
/// (`tests/store_conformance.rs`).
#[async_trait]
pub trait ItemStore: Send + Sync {
    /// The live items with these keys, in any order; absent keys are
    /// missing from the answer. One batch read (chunks of 100 keys read in
    /// parallel).
    async fn get(&self, reads: &[Read]) -> Result<Vec<Item>, StoreError>;

    /// One page of a query: at most `limit` items evaluated (and at most
    /// [`DEFAULT_PAGE_ITEMS`] without a limit), starting after `after`.
    async fn query_page(
        &self,
        query: &Query,
        after: Option<&Cursor>,
        limit: Option<usize>,
    ) -> Result<QueryPage, StoreError>;

    /// Every live item of a query, page after page: for partitions known
    /// to be small (a caller's events, tests). Lists read page by page
    /// through `store::scan` instead.
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut after = None;
        loop {
            let page = self.query_page(query, after.as_ref(), None).await?;
            items.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// All the writes or none: `Conflict` when any condition fails (or a
    /// concurrent transaction touched the same items). At most
    /// [`MAX_TRANSACTION_ITEMS`], each key at most once.
    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// Unconditional puts, not atomic as a whole (seeding).
    async fn load(&self, items: Vec<Item>) -> Result<(), StoreError>;
}

/// Seconds since the epoch, as expiry times are kept.
pub fn epoch_seconds(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp()
}
