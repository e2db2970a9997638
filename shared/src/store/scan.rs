//! Lists read lazily, in key order: a [`Scan`] reads one partition (of the
//! table or of an index) page by page, only as far as its reader goes; a
//! [`Merge`] interleaves several scans into one key order — a tenant's
//! shards, or the two indexes an identity's requests are in — reading each
//! only as far as the merged order needs it. What a list page costs is then
//! what it reads: its rows and at most a page of look-ahead per scan, not
//! the partition's history.

use std::cmp::Ordering;
use std::collections::VecDeque;

use super::item::{Cursor, Item, ItemStore, Key, Query};
use super::StoreError;

/// The most items one page of a scan asks for: pages start at what the
/// reader expects to need and double while it reads on. A page of 250 and
/// its look-ahead fit one; DynamoDB stops a page at 1 MB anyway (about 400
/// access requests), and a smaller page keeps each call well inside the
/// client's attempt timeout on slower DynamoDB-compatible servers.
pub const MAX_SCAN_PAGE: usize = 300;

/// One partition, read page by page in the query's order.
pub struct Scan<'s> {
    items: &'s dyn ItemStore,
    query: Query,
    after: Option<Cursor>,
    buffer: VecDeque<Item>,
    exhausted: bool,
    page: usize,
    read: usize,
}

impl<'s> Scan<'s> {
    /// A scan whose first page asks for `first_page` items.
    pub fn new(items: &'s dyn ItemStore, query: Query, first_page: usize) -> Self {
        Self {
            items,
            query,
            after: None,
            buffer: VecDeque::new(),
            exhausted: false,
            page: first_page.clamp(1, MAX_SCAN_PAGE),
            read: 0,
        }
    }

    pub fn query(&self) -> &Query {
        &self.query
    }

    /// Items read so far, as the store counts them.
    pub fn read(&self) -> usize {
        self.read
    }

    fn needs_page(&self) -> bool {
        self.buffer.is_empty() && !self.exhausted
    }

    /// Reads pages until one holds a live item or the partition ends.
    async fn fill(&mut self) -> Result<(), StoreError> {
        while self.needs_page() {
            let page = self
                .items
                .query_page(&self.query, self.after.as_ref(), Some(self.page))
                .await?;
            self.read += page.read;
            self.buffer.extend(page.items);
            match page.next {
                Some(next) => self.after = Some(next),
                None => self.exhausted = true,
            }
            self.page = (self.page * 2).min(MAX_SCAN_PAGE);
        }
        Ok(())
    }

    /// The next item in key order, reading a page if need be.
    pub async fn next(&mut self) -> Result<Option<Item>, StoreError> {
        self.fill().await?;
        Ok(self.buffer.pop_front())
    }

    /// The key an item sorts by in this scan.
    fn order_key<'i>(&self, item: &'i Item) -> (&'i str, &'i Key) {
        let sort = self.query.sort_key(item).map_or(&*item.key.sk, |k| &*k.sk);
        (sort, &item.key)
    }
}

/// Several scans in one order (all ascending or all descending), each read
/// only as far as that order needs. An item found by two scans (the same
/// primary key) is read once.
pub struct Merge<'s> {
    scans: Vec<Scan<'s>>,
    descending: bool,
}

impl<'s> Merge<'s> {
    /// Merges `queries` (which must share a direction). Each scan's first
    /// page asks for what the reader expects of it: for partitions that
    /// split one list (a tenant's shards), an even share of the `expected`
    /// items, plus one; for partitions that may hold the same items (the
    /// two indexes of one identity's requests), all of them, plus one.
    pub fn new(
        items: &'s dyn ItemStore,
        queries: Vec<Query>,
        expected: usize,
        overlapping: bool,
    ) -> Self {
        let descending = queries.first().is_some_and(|q| q.descending);
        debug_assert!(queries.iter().all(|q| q.descending == descending));
        let share = if overlapping {
            expected + 1
        } else {
            expected.div_ceil(queries.len().max(1)) + 1
        };
        Self {
            scans: queries
                .into_iter()
                .map(|q| Scan::new(items, q, share))
                .collect(),
            descending,
        }
    }

    /// Items read so far, by every scan.
    pub fn read(&self) -> usize {
        self.scans.iter().map(Scan::read).sum()
    }

    /// The next item of the merged order, with the index of its scan.
    pub async fn next(&mut self) -> Result<Option<(usize, Item)>, StoreError> {
        // Every scan that has nothing in hand reads its next page, at once.
        futures::future::try_join_all(
            self.scans
                .iter_mut()
                .filter(|s| s.needs_page())
                .map(Scan::fill),
        )
        .await?;
        let mut best: Option<usize> = None;
        for (i, scan) in self.scans.iter().enumerate() {
            let Some(head) = scan.buffer.front() else {
                continue;
            };
            best = match best {
                None => Some(i),
                Some(b) => {
                    let current = &self.scans[b];
                    let theirs = current.order_key(current.buffer.front().expect("a head"));
                    let ord = scan.order_key(head).cmp(&theirs);
                    let ord = if self.descending { ord.reverse() } else { ord };
                    if ord == Ordering::Less {
                        Some(i)
                    } else {
                        Some(b)
                    }
                }
            };
        }
        let Some(b) = best else {
            return Ok(None);
        };
        let item = self.scans[b].buffer.pop_front().expect("a head");
        // The same item at the head of another scan (an identity's request
        // for itself is in both its indexes): read once.
        for (i, scan) in self.scans.iter_mut().enumerate() {
            if i != b && scan.buffer.front().is_some_and(|h| h.key == item.key) {
                scan.buffer.pop_front();
            }
        }
        Ok(Some((b, item)))
    }
}

/// Records of one kind, read through a [`Merge`] in key order, each with
/// its *group*: the part of its sort key that rows of one millisecond share
/// (`keys::time_prefix`). Rows of one group are ordered among themselves by
/// the reader; groups come in key order.
pub struct Rows<'s, T> {
    merge: Merge<'s>,
    prefix: &'static str,
    decode: fn(Item) -> Result<T, StoreError>,
}

impl<'s, T> Rows<'s, T> {
    /// The records `queries` find, merged (see [`Merge::new`]); their sort
    /// keys start with `prefix` and then the time.
    pub fn new(
        items: &'s dyn ItemStore,
        queries: Vec<Query>,
        (expected, overlapping): (usize, bool),
        prefix: &'static str,
        decode: fn(Item) -> Result<T, StoreError>,
    ) -> Self {
        Self {
            merge: Merge::new(items, queries, expected, overlapping),
            prefix,
            decode,
        }
    }

    /// Items read so far.
    pub fn read(&self) -> usize {
        self.merge.read()
    }

    /// The next record and its group.
    pub async fn next(&mut self) -> Result<Option<(String, T)>, StoreError> {
        let Some((scan, item)) = self.merge.next().await? else {
            return Ok(None);
        };
        let query = self.merge.scans[scan].query();
        let sort = query.sort_key(&item).map_or(&*item.key.sk, |k| &*k.sk);
        let group = super::keys::time_prefix(sort, self.prefix).to_string();
        Ok(Some((group, (self.decode)(item)?)))
    }
}
