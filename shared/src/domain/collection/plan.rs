//! How a list call reads: rows come from a [`Source`] in key order, each
//! record with its *group* (the millisecond its key time names). A list in
//! key order ([`in_key_order`]) sorts each group by the full order and
//! stops once the page is complete; a list in any other order
//! ([`in_any_order`]) reads its whole range and sorts it. Both stop with a
//! 400 that says how to narrow the query once they would read more than a
//! budget, or have no time left to read on: a call's cost is bounded,
//! whatever the history it lists.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Page, Paging};
use crate::deadline;
use crate::error::ApiError;
use crate::records::AccessRequestRecord;
use crate::store::scan::Rows;
use crate::store::{RequestStream, StoreError};

/// The most stored items a list call reads: past it the call is refused
/// (400) with a cause that says how to narrow it. Reading this many takes
/// well under the function's timeout (bench/README.md, "Read budget").
pub const READ_BUDGET: usize = 10_000;

/// The most stored items a list sorted by a field that is not its key
/// order reads: it holds every row it reads, to sort them.
pub const SORT_BUDGET: usize = 2_500;

/// Records in key order, each with its group.
#[async_trait]
pub trait Source: Send {
    type Record: Send;

    /// The next record and its group, or `None` at the end of the range.
    async fn next(&mut self) -> Result<Option<(String, Self::Record)>, StoreError>;

    /// Stored items read so far.
    fn read(&self) -> usize;
}

#[async_trait]
impl<T: Send> Source for Rows<'_, T> {
    type Record = T;

    async fn next(&mut self) -> Result<Option<(String, T)>, StoreError> {
        Rows::next(self).await
    }

    fn read(&self) -> usize {
        Rows::read(self)
    }
}

#[async_trait]
impl Source for RequestStream<'_> {
    type Record = Arc<AccessRequestRecord>;

    async fn next(&mut self) -> Result<Option<(String, Self::Record)>, StoreError> {
        RequestStream::next(self).await
    }

    fn read(&self) -> usize {
        RequestStream::read(self)
    }
}

/// Records already read (by key), in key order.
pub struct Listed<R> {
    records: VecDeque<(String, R)>,
    read: usize,
}

impl<R> Listed<R> {
    /// `records` with their groups, ordered by group (`descending`: latest
    /// first) and then as given; `read` items were read for them.
    pub fn new(mut records: Vec<(String, R)>, descending: bool, read: usize) -> Self {
        records.sort_by(|a, b| {
            let ord = a.0.cmp(&b.0);
            if descending {
                ord.reverse()
            } else {
                ord
            }
        });
        Self {
            records: records.into(),
            read,
        }
    }
}

#[async_trait]
impl<R: Send> Source for Listed<R> {
    type Record = R;

    async fn next(&mut self) -> Result<Option<(String, R)>, StoreError> {
        Ok(self.records.pop_front())
    }

    fn read(&self) -> usize {
        self.read
    }
}

/// How a list's total (`X-Total-Count`) is known.
pub enum Total<F> {
    /// Not asked for.
    Skip,
    /// Read from the counts kept beside the list: `F` reads them, beside
    /// the page's own reads rather than before them.
    Counted(F),
    /// Counted by reading the rest of the range (filters the counts do not
    /// cover), without keeping the rows.
    Count,
}

/// A total read from counts that may read negative while concurrent
/// changes are half-applied to different shards.
pub fn counted(n: i64) -> usize {
    n.max(0) as usize
}

/// The time left below which a list reads no further page: about what one
/// more store call may take (the DynamoDB client's attempt timeout), so
/// that a list too long to read in the call's time ends in a 400 that says
/// how to narrow it, not in a store timeout (500).
pub const READ_TIME_RESERVE: Duration = Duration::from_millis(1_500);

/// The 400 for a list that read `read` items and has no time for more.
fn over_time(read: usize, narrow: &str) -> ApiError {
    ApiError::bad_request(format!(
        "this list takes longer to read than the call may take (read {read} stored rows); \
         narrow it: {narrow}"
    ))
}

/// The next record of `source`, unless rows have been read and the call's
/// time is nearly out ([`READ_TIME_RESERVE`]). If the store lost some of
/// that time (a failed or throttled attempt), narrowing the query is not
/// the remedy: the answer is the store's (500, or 429 when throttled),
/// which a client retries.
async fn next_in_time<S: Source>(
    source: &mut S,
    narrow: &str,
) -> Result<Option<(String, S::Record)>, ApiError> {
    if source.read() > 0 && deadline::remaining().is_some_and(|left| left < READ_TIME_RESERVE) {
        let read = source.read();
        return Err(if deadline::throttled() {
            StoreError::Throttled(format!("list: throttled, out of time after {read} rows")).into()
        } else if deadline::store_faulted() {
            StoreError::Unavailable(format!(
                "list: store attempts failed, out of time after {read} rows"
            ))
            .into()
        } else {
            over_time(read, narrow)
        });
    }
    Ok(source.next().await?)
}

/// What the caller may do instead of a list past a budget.
fn over_budget(read: usize, budget: usize, narrow: &str) -> ApiError {
    ApiError::bad_request(format!(
        "this list would read more than {budget} stored rows (read {read} so far); \
         narrow it: {narrow}"
    ))
}

/// One page of a list whose order is its key order (within a group, `order`
/// decides): reads until the page is complete — and on to the end of the
/// range only to count, when the total must be counted; counts kept beside
/// the list are read concurrently with the page. `expand` adds the rows of a
/// record that pass the list's filters. `narrow` says how to narrow the
/// query, for the 400 past [`READ_BUDGET`].
pub async fn in_key_order<S, Row, F>(
    source: &mut S,
    expand: impl FnMut(S::Record, &mut Vec<Row>) + Send,
    order: impl Fn(&Row, &Row) -> Ordering + Send,
    paging: &Paging,
    total: Total<F>,
    narrow: &str,
) -> Result<Page<Row>, ApiError>
where
    S: Source,
    Row: Send,
    F: Future<Output = Result<usize, ApiError>> + Send,
{
    let counting = matches!(total, Total::Count);
    let read = read_in_key_order(source, expand, order, paging, counting, narrow);
    let (items, total) = match total {
        Total::Counted(count) => {
            let ((items, _), total) = futures::try_join!(read, count)?;
            (items, total)
        }
        Total::Count | Total::Skip => read.await?,
    };
    Ok(Page { items, total })
}

/// The rows of a page in key order, and how many rows matched up to where
/// the read stopped (all of them, when `counting`).
async fn read_in_key_order<S, Row>(
    source: &mut S,
    mut expand: impl FnMut(S::Record, &mut Vec<Row>) + Send,
    order: impl Fn(&Row, &Row) -> Ordering + Send,
    paging: &Paging,
    counting: bool,
    narrow: &str,
) -> Result<(Vec<Row>, usize), ApiError>
where
    S: Source,
    Row: Send,
{
    let need = paging.offset.saturating_add(paging.limit);
    let mut items = Vec::new();
    let mut seen = 0usize;
    let mut group: Vec<Row> = Vec::new();
    let mut group_key: Option<String> = None;
    loop {
        let next = next_in_time(source, narrow).await?;
        if source.read() > READ_BUDGET {
            return Err(over_budget(source.read(), READ_BUDGET, narrow));
        }
        let starts_group = match &next {
            Some((g, _)) => group_key.as_deref() != Some(g.as_str()),
            None => true,
        };
        if starts_group {
            group.sort_by(&order);
            for row in group.drain(..) {
                if seen >= paging.offset && items.len() < paging.limit {
                    items.push(row);
                }
                seen += 1;
            }
            if next.is_none() || (!counting && seen >= need) {
                break;
            }
        }
        if let Some((g, record)) = next {
            if starts_group {
                group_key = Some(g);
            }
            expand(record, &mut group);
        }
    }
    Ok((items, seen))
}

/// One page of a list in an order other than its key order: reads the
/// whole range (at most [`SORT_BUDGET`] items), sorts it, pages it.
pub async fn in_any_order<S, Row>(
    source: &mut S,
    mut expand: impl FnMut(S::Record, &mut Vec<Row>) + Send,
    order: impl Fn(&Row, &Row) -> Ordering + Send,
    paging: &Paging,
    narrow: &str,
) -> Result<Page<Row>, ApiError>
where
    S: Source,
    Row: Send,
{
    let mut rows = Vec::new();
    while let Some((_, record)) = next_in_time(source, narrow).await? {
        if source.read() > SORT_BUDGET {
            return Err(over_budget(source.read(), SORT_BUDGET, narrow));
        }
        expand(record, &mut rows);
    }
    rows.sort_by(&order);
    Ok(paging.page(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    type NoCount = std::future::Ready<Result<usize, ApiError>>;

    fn numbers() -> Listed<u32> {
        Listed::new((0..10).map(|i| (format!("{i:03}"), i)).collect(), false, 10)
    }

    async fn first_five(source: &mut Listed<u32>) -> Result<Page<u32>, ApiError> {
        let paging = Paging {
            limit: 5,
            offset: 0,
            count: false,
        };
        in_key_order(
            source,
            |r, rows: &mut Vec<u32>| rows.push(r),
            |a, b| a.cmp(b),
            &paging,
            Total::<NoCount>::Skip,
            "name an identity",
        )
        .await
    }

    #[tokio::test]
    async fn a_list_with_time_to_read_answers_its_page() {
        let until = tokio::time::Instant::now() + Duration::from_secs(5);
        let page = deadline::scope(Some(until), first_five(&mut numbers()))
            .await
            .unwrap();
        assert_eq!(page.items, vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn a_list_without_time_to_read_on_answers_400_saying_how_to_narrow_it() {
        let until = tokio::time::Instant::now() + READ_TIME_RESERVE / 2;
        let err = deadline::scope(Some(until), first_five(&mut numbers()))
            .await
            .unwrap_err();
        assert_eq!(err.status(), 400);
        let cause = err.to_string();
        assert!(
            cause.contains("takes longer to read than the call may take")
                && cause.contains("narrow it: name an identity"),
            "{cause}"
        );
    }

    #[tokio::test]
    async fn a_list_out_of_time_because_the_store_failed_answers_the_stores_error() {
        // Narrowing would not help: the time went to failed attempts.
        let until = tokio::time::Instant::now() + READ_TIME_RESERVE / 2;
        let cases: [(fn(), u16); 2] = [
            (deadline::note_faulted, 500),
            (deadline::note_throttled, 429),
        ];
        for (lost_time, status) in cases {
            let err = deadline::scope(Some(until), async {
                lost_time();
                first_five(&mut numbers()).await
            })
            .await
            .unwrap_err();
            assert_eq!(err.status(), status, "{err}");
        }
    }
}
