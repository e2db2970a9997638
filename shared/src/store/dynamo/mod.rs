//! The DynamoDB [`ItemStore`]: one table (`table-definition.json`), items
//! mapped by `codec`, reads as BatchGetItem or Query on one partition (no
//! Scan anywhere), a single conditional write as PutItem/DeleteItem and
//! anything larger as one TransactWriteItems.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, PutRequest, TransactWriteItem,
    Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use futures::{StreamExt, TryStreamExt};

use super::item::{
    Condition, Cursor, Item, ItemStore, Key, Query, QueryPage, Read, Write, DEFAULT_PAGE_ITEMS,
    MAX_TRANSACTION_ITEMS,
};
use super::StoreError;
use crate::retry::backoff;
use crate::store::keys;
use codec::{
    decode, encode, key_attributes, s, string_attr, Attributes, COUNT_PREFIX, EXPIRES_AT, KIND, PK,
    SK, TARGET, VERSION,
};
use errors::{build_error, sdk_error, transact_error};

pub mod client;
mod codec;
mod errors;
mod https;
#[cfg(feature = "dev-tools")]
mod table;

pub use client::{env_credentials_present, https_client, HttpsClient};
pub use codec::{attributes_size, item_size};
#[cfg(feature = "dev-tools")]
pub use table::{create_table, TABLE_DEFINITION};

/// Keys one BatchGetItem may ask for.
const BATCH_GET_KEYS: usize = 100;
/// Items one BatchWriteItem may hold.
const BATCH_WRITE_ITEMS: usize = 25;
/// BatchWriteItem calls `load` keeps in flight.
const BATCH_WRITE_CONCURRENCY: usize = 8;
/// Retries of unprocessed batch keys/items before giving up as throttled.
const BATCH_RETRIES: u32 = 8;
/// The longest one attempt may take before the SDK gives up on it and
/// retries (within the request's budget): DynamoDB answers in milliseconds,
/// so an attempt this slow is a lost connection or a stuck server.
const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Why a store call is not even sent.
const NO_TIME_LEFT: &str = "no time left in the request's budget for another store call";

/// The SDK's timeouts for a call with `left` of the request's budget: the
/// whole operation (its retries included) ends by then.
fn timeouts(left: std::time::Duration) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::default().timeout_config(
        aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
            .operation_timeout(left)
            .operation_attempt_timeout(left.min(ATTEMPT_TIMEOUT))
            .build(),
    )
}

/// Sends a fluent `request` bounded by the current request's budget
/// (`crate::deadline`), mapping a failure with `on_error`.
macro_rules! send {
    ($request:expr, $on_error:expr) => {{
        match crate::deadline::remaining() {
            Some(left) if left.is_zero() => Err(StoreError::Unavailable(NO_TIME_LEFT.into())),
            Some(left) => $request
                .customize()
                .config_override(timeouts(left))
                .send()
                .await
                .map_err($on_error),
            None => $request.send().await.map_err($on_error),
        }
    }};
}

/// The DynamoDB table the environment names (`TABLE_NAME`), if any.
pub fn table_from_env() -> Option<String> {
    std::env::var("TABLE_NAME")
        .ok()
        .filter(|t| !t.trim().is_empty())
}

/// An [`ItemStore`] on one DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    /// The client's HTTPS client, when known: [`Self::warm_up`] opens its
    /// connection ahead.
    https: Option<HttpsClient>,
    table: String,
    /// `Limit` of each Query page; `None` lets DynamoDB page at 1 MB.
    query_page_limit: Option<i32>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            https: None,
            table: table.into(),
            query_page_limit: None,
        }
    }

    /// Names `client`'s HTTPS client, so that [`Self::warm_up`] can open its
    /// connection.
    pub fn with_https_client(mut self, https: HttpsClient) -> Self {
        self.https = Some(https);
        self
    }

    /// From the environment as Lambda has it: `TABLE_NAME` (required), and
    /// the region, credentials and `AWS_ENDPOINT_URL_DYNAMODB` as aws-config
    /// reads them (see [`client::from_env`]).
    pub async fn from_env() -> Result<Self, StoreError> {
        let table = table_from_env()
            .ok_or_else(|| StoreError::Unavailable("TABLE_NAME is not set".into()))?;
        let (client, https) = client::from_env().await?;
        Ok(Self::new(client, table).with_https_client(https))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Caps each Query page at `limit` items (tests use it to exercise paging).
    #[doc(hidden)]
    pub fn with_query_page_limit(mut self, limit: i32) -> Self {
        self.query_page_limit = Some(limit);
        self
    }

    /// Readies everything a first request needs, so that a Lambda's init
    /// (on a full core) does it rather than the first request (on a share
    /// of one): builds a GetItem as the SDK sends it (endpoint, credentials,
    /// signature), stops it before it is sent, and opens the connection it
    /// would have used (TCP and the TLS handshake), which the first request
    /// then uses. Nothing reaches the table. Errors are logged, not
    /// returned: the first request opens its own connection anyway.
    pub async fn warm_up(&self) {
        let stop = client::StopBeforeSending::default();
        let _stopped = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&Key::new("#WARM-UP", "#"))))
            .customize()
            .interceptor(stop.clone())
            .send()
            .await;
        let Some(https) = &self.https else {
            return;
        };
        let Some(endpoint) = stop.uri() else {
            tracing::warn!(table = %self.table, "DynamoDB warm-up: no request was built");
            return;
        };
        if let Err(error) = https
            .open_connection(&endpoint, Some(client::CONNECT_TIMEOUT))
            .await
        {
            tracing::warn!(%error, %endpoint, "DynamoDB warm-up: no connection opened");
        }
    }

    async fn batch_get_chunk(
        &self,
        mut keys: Vec<Attributes>,
        consistent: bool,
    ) -> Result<Vec<Attributes>, StoreError> {
        let mut found = Vec::new();
        let mut attempt = 0;
        while !keys.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut keys)))
                .consistent_read(consistent)
                .build()
                .map_err(build_error)?;
            let output = send!(
                self.client
                    .batch_get_item()
                    .request_items(&self.table, request),
                sdk_error("BatchGetItem")
            )?;
            if let Some(items) = output.responses.and_then(|mut r| r.remove(&self.table)) {
                found.extend(items);
            }
            keys = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if !keys.is_empty() {
                attempt += 1;
                if attempt > BATCH_RETRIES {
                    return Err(StoreError::Throttled(format!(
                        "BatchGetItem: {} keys still unprocessed after {BATCH_RETRIES} retries",
                        keys.len()
                    )));
                }
                crate::deadline::pause(backoff(attempt as usize)).await;
            }
        }
        Ok(found)
    }

    async fn batch_put_chunk(&self, items: Vec<Attributes>) -> Result<(), StoreError> {
        let mut requests = items
            .into_iter()
            .map(|item| {
                Ok(WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item))
                            .build()
                            .map_err(build_error)?,
                    )
                    .build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut attempt = 0;
        while !requests.is_empty() {
            let output = send!(
                self.client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut requests)),
                sdk_error("BatchWriteItem")
            )?;
            requests = output
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.table))
                .unwrap_or_default();
            if !requests.is_empty() {
                attempt += 1;
                if attempt > BATCH_RETRIES {
                    return Err(StoreError::Throttled(format!(
                        "BatchWriteItem: {} items still unprocessed after {BATCH_RETRIES} retries",
                        requests.len()
                    )));
                }
                crate::deadline::pause(backoff(attempt as usize)).await;
            }
        }
        Ok(())
    }

    async fn get_item(&self, read: &Read) -> Result<Option<Item>, StoreError> {
        let output = send!(
            self.client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key_attributes(&read.key)))
                .consistent_read(read.consistent),
            sdk_error("GetItem")
        )?;
        let now = chrono::Utc::now().timestamp();
        Ok(output.item.map(decode).transpose()?.filter(live(now)))
    }

    async fn put_item(&self, item: &Item, condition: Option<&Condition>) -> Result<(), StoreError> {
        let expression = condition.map(Expression::of);
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(item)?));
        if let Some(e) = expression {
            request = request
                .condition_expression(e.text)
                .set_expression_attribute_names(Some(e.names))
                .set_expression_attribute_values(e.values);
        }
        send!(request, sdk_error("PutItem"))?;
        Ok(())
    }

    async fn delete_item(
        &self,
        key: &Key,
        condition: Option<&Condition>,
    ) -> Result<(), StoreError> {
        let expression = condition.map(Expression::of);
        let mut request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)));
        if let Some(e) = expression {
            request = request
                .condition_expression(e.text)
                .set_expression_attribute_names(Some(e.names))
                .set_expression_attribute_values(e.values);
        }
        send!(request, sdk_error("DeleteItem"))?;
        Ok(())
    }

    async fn update_counts(
        &self,
        key: &Key,
        counts: &crate::records::Counts,
    ) -> Result<(), StoreError> {
        let add = Addition::of(counts);
        send!(
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_attributes(key)))
                .update_expression(add.text)
                .set_expression_attribute_names(Some(add.names))
                .set_expression_attribute_values(Some(add.values)),
            sdk_error("UpdateItem")
        )?;
        Ok(())
    }

    /// Writes `writes` in one TransactWriteItems. A transaction cancelled
    /// only because another held one of its tenant's counter items at the
    /// same moment is sent again at once, its additions to the tenant's
    /// counts moved to another counter item (any holds them as well): a
    /// conflict on a count is no reason to re-read anything.
    async fn transact(&self, mut writes: Vec<Write>) -> Result<(), StoreError> {
        /// Counter moves before the conflict is the caller's.
        const COUNTER_MOVES: u32 = 3;
        let mut attempt = 0;
        loop {
            let items = writes
                .iter()
                .map(|w| self.transact_item(w))
                .collect::<Result<Vec<_>, _>>()?;
            let request = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items));
            let sent = match crate::deadline::remaining() {
                Some(left) if left.is_zero() => {
                    return Err(StoreError::Unavailable(NO_TIME_LEFT.into()))
                }
                Some(left) => {
                    request
                        .customize()
                        .config_override(timeouts(left))
                        .send()
                        .await
                }
                None => request.send().await,
            };
            let error = match sent {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            attempt += 1;
            if attempt > COUNTER_MOVES || !met_on_counts_only(&error, &writes) {
                return Err(transact_error(error));
            }
            writes = move_tenant_counts(writes, attempt);
        }
    }

    fn transact_item(&self, write: &Write) -> Result<TransactWriteItem, StoreError> {
        let expression = write.condition().map(Expression::of);
        Ok(match write {
            Write::Put { item, .. } => {
                let mut put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(encode(item)?));
                if let Some(e) = expression {
                    put = put
                        .condition_expression(e.text)
                        .set_expression_attribute_names(Some(e.names))
                        .set_expression_attribute_values(e.values);
                }
                TransactWriteItem::builder()
                    .put(put.build().map_err(build_error)?)
                    .build()
            }
            Write::Delete { key, .. } => {
                let mut delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attributes(key)));
                if let Some(e) = expression {
                    delete = delete
                        .condition_expression(e.text)
                        .set_expression_attribute_names(Some(e.names))
                        .set_expression_attribute_values(e.values);
                }
                TransactWriteItem::builder()
                    .delete(delete.build().map_err(build_error)?)
                    .build()
            }
            Write::Add { key, counts } => {
                let add = Addition::of(counts);
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(key_attributes(key)))
                            .update_expression(add.text)
                            .set_expression_attribute_names(Some(add.names))
                            .set_expression_attribute_values(Some(add.values))
                            .build()
                            .map_err(build_error)?,
                    )
                    .build()
            }
            Write::Check { key, .. } => {
                let e = expression.expect("a check has a condition");
                TransactWriteItem::builder()
                    .condition_check(
                        ConditionCheck::builder()
                            .table_name(&self.table)
                            .set_key(Some(key_attributes(key)))
                            .condition_expression(e.text)
                            .set_expression_attribute_names(Some(e.names))
                            .set_expression_attribute_values(e.values)
                            .build()
                            .map_err(build_error)?,
                    )
                    .build()
            }
        })
    }
}

/// Whether a transaction was cancelled only for meeting another on
/// counter items of its tenant's counts (each cancellation reason lines up
/// with its write).
fn met_on_counts_only<R>(
    error: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
    writes: &[Write],
) -> bool {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    let Some(TransactWriteItemsError::TransactionCanceledException(e)) = error.as_service_error()
    else {
        return false;
    };
    let reasons = e.cancellation_reasons();
    let mut met = false;
    for (reason, write) in reasons.iter().zip(writes) {
        match reason.code() {
            None | Some("None") => {}
            Some("TransactionConflict")
                if matches!(write, Write::Add { key, .. }
                    if keys::other_tenant_counts(key, 1).is_some()) =>
            {
                met = true
            }
            Some(_) => return false,
        }
    }
    met && reasons.len() == writes.len()
}

/// `writes` with all its additions to its tenant's counts in one counter
/// item, another than before.
fn move_tenant_counts(writes: Vec<Write>, attempt: u32) -> Vec<Write> {
    let mut moved: Option<(Key, crate::records::Counts)> = None;
    let mut rest = Vec::with_capacity(writes.len());
    for w in writes {
        match w {
            Write::Add { key, counts } if keys::other_tenant_counts(&key, 1).is_some() => {
                let (_, sum) = moved.get_or_insert_with(|| {
                    let other = keys::other_tenant_counts(&key, attempt).unwrap_or(key);
                    (other, Default::default())
                });
                for (name, n) in counts {
                    *sum.entry(name).or_default() += n;
                }
            }
            other => rest.push(other),
        }
    }
    if let Some((key, counts)) = moved {
        // Another addition already in the transaction may name that item.
        match rest.iter_mut().find(|w| w.key() == &key) {
            Some(Write::Add { counts: theirs, .. }) => {
                for (name, n) in counts {
                    *theirs.entry(name).or_default() += n;
                }
            }
            _ => rest.push(Write::Add { key, counts }),
        }
    }
    rest
}

/// The `ExclusiveStartKey` a cursor stands for.
fn start_key(cursor: &Cursor, query: &Query) -> Attributes {
    let mut key = key_attributes(&cursor.key);
    if let (Some(index), Some(k)) = (query.index, &cursor.index_key) {
        let (_, pk, sk) = index.names();
        key.insert(pk.into(), s(k.pk.to_string()));
        key.insert(sk.into(), s(k.sk.to_string()));
    }
    key
}

/// The cursor a `LastEvaluatedKey` stands for.
fn cursor(last: &Attributes, query: &Query) -> Result<Cursor, StoreError> {
    let attr = |name: &str| {
        string_attr(last, name)
            .map(str::to_string)
            .ok_or_else(|| StoreError::Corrupt(format!("Query: LastEvaluatedKey without {name}")))
    };
    let index_key = match query.index {
        Some(index) => {
            let (_, pk, sk) = index.names();
            Some(Key::new(attr(pk)?, attr(sk)?))
        }
        None => None,
    };
    Ok(Cursor {
        key: Key::new(attr(PK)?, attr(SK)?),
        index_key,
    })
}

/// Counts to add, as an update expression: the item's kind set, each
/// count `ADD`ed (a missing one counts from zero).
struct Addition {
    text: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Addition {
    fn of(counts: &crate::records::Counts) -> Self {
        let mut names = HashMap::from([("#kind".to_string(), KIND.to_string())]);
        let mut values = HashMap::from([(":kind".to_string(), s("counter"))]);
        let mut adds = Vec::new();
        for (i, (name, n)) in counts.iter().enumerate() {
            names.insert(format!("#c{i}"), format!("{COUNT_PREFIX}{name}"));
            values.insert(format!(":c{i}"), AttributeValue::N(n.to_string()));
            adds.push(format!("#c{i} :c{i}"));
        }
        let text = if adds.is_empty() {
            "SET #kind = :kind".to_string()
        } else {
            format!("SET #kind = :kind ADD {}", adds.join(", "))
        };
        Self {
            text,
            names,
            values,
        }
    }
}

/// A condition as a DynamoDB expression with its placeholders.
struct Expression {
    text: &'static str,
    names: HashMap<String, String>,
    values: Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
}

impl Expression {
    fn of(condition: &Condition) -> Self {
        let name = |placeholder: &str, attribute: &str| {
            HashMap::from([(placeholder.to_string(), attribute.to_string())])
        };
        let value = |placeholder: &str, v| Some(HashMap::from([(placeholder.to_string(), v)]));
        match condition {
            Condition::Absent => Self {
                text: "attribute_not_exists(#pk)",
                names: name("#pk", PK),
                values: None,
            },
            Condition::Exists => Self {
                text: "attribute_exists(#pk)",
                names: name("#pk", PK),
                values: None,
            },
            Condition::Version(v) => Self {
                text: "#version = :version",
                names: name("#version", VERSION),
                values: value(
                    ":version",
                    aws_sdk_dynamodb::types::AttributeValue::N(v.to_string()),
                ),
            },
            Condition::PointsTo(target) => Self {
                text: "#target = :target",
                names: name("#target", TARGET),
                values: value(":target", s(target.clone())),
            },
            Condition::AbsentOrExpired(now) => Self {
                text: "attribute_not_exists(#pk) OR #expires <= :now",
                names: HashMap::from([
                    ("#pk".to_string(), PK.to_string()),
                    ("#expires".to_string(), EXPIRES_AT.to_string()),
                ]),
                values: value(
                    ":now",
                    aws_sdk_dynamodb::types::AttributeValue::N(now.to_string()),
                ),
            },
        }
    }
}

fn live(now: i64) -> impl Fn(&Item) -> bool {
    move |item: &Item| !item.expired(now)
}

#[async_trait]
impl ItemStore for DynamoStore {
    async fn get(&self, reads: &[Read]) -> Result<Vec<Item>, StoreError> {
        // Chunks of 100 keys, read in parallel; a chunk is read consistently
        // when any of its keys asks so (callers list those last).
        let mut seen = HashSet::new();
        let reads: Vec<&Read> = reads.iter().filter(|r| seen.insert(&r.key)).collect();
        if let [read] = reads.as_slice() {
            return self.get_item(read).await.map(|i| i.into_iter().collect());
        }
        let chunks = reads.chunks(BATCH_GET_KEYS).map(|chunk| {
            let consistent = chunk.iter().any(|r| r.consistent);
            let keys = chunk.iter().map(|r| key_attributes(&r.key)).collect();
            self.batch_get_chunk(keys, consistent)
        });
        let found = futures::future::try_join_all(chunks).await?;
        let now = chrono::Utc::now().timestamp();
        let mut items = Vec::new();
        for attributes in found.into_iter().flatten() {
            let item = decode(attributes)?;
            if live(now)(&item) {
                items.push(item);
            }
        }
        Ok(items)
    }

    async fn query_page(
        &self,
        query: &Query,
        after: Option<&Cursor>,
        limit: Option<usize>,
    ) -> Result<QueryPage, StoreError> {
        let (partition_attribute, sort_attribute) = match query.index {
            Some(index) => {
                let (_, pk, sk) = index.names();
                (pk, sk)
            }
            None => (PK, SK),
        };
        if let (Some(from), Some(to)) = (&query.from, &query.to) {
            // DynamoDB refuses such a BETWEEN; nothing lies in it.
            if from > to {
                return Ok(QueryPage::default());
            }
        }
        let condition = match (&query.from, &query.to) {
            (Some(_), Some(_)) => "#pk = :pk AND #sk BETWEEN :from AND :to",
            (Some(_), None) => "#pk = :pk AND #sk >= :from",
            (None, Some(_)) => "#pk = :pk AND #sk <= :to",
            (None, None) => "#pk = :pk",
        };
        let limit = limit
            .unwrap_or(DEFAULT_PAGE_ITEMS)
            .clamp(1, i32::MAX as usize);
        // A test may cap pages lower still, to exercise paging.
        let limit = self
            .query_page_limit
            .map_or(limit, |cap| limit.min(cap.max(1) as usize));
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(condition)
            .expression_attribute_names("#pk", partition_attribute)
            .expression_attribute_values(":pk", s(query.partition.clone()))
            .scan_index_forward(!query.descending)
            .set_exclusive_start_key(after.map(|c| start_key(c, query)))
            .limit(limit as i32);
        if query.from.is_some() || query.to.is_some() {
            request = request.expression_attribute_names("#sk", sort_attribute);
        }
        if let Some(from) = &query.from {
            request = request.expression_attribute_values(":from", s(from.clone()));
        }
        if let Some(to) = &query.to {
            request = request.expression_attribute_values(":to", s(to.clone()));
        }
        request = match query.index {
            Some(index) => request.index_name(index.names().0),
            // Base-table partitions are read consistently: read-your-writes.
            None => request.consistent_read(true),
        };
        let output = send!(request, sdk_error("Query"))?;
        let now = chrono::Utc::now().timestamp();
        let mut page = QueryPage {
            read: output.scanned_count.max(0) as usize,
            ..Default::default()
        };
        for attributes in output.items.unwrap_or_default() {
            let item = decode(attributes)?;
            if live(now)(&item) {
                page.items.push(item);
            }
        }
        page.next = match output.last_evaluated_key {
            Some(k) if !k.is_empty() => Some(cursor(&k, query)?),
            _ => None,
        };
        Ok(page)
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        match writes.as_slice() {
            [] => Ok(()),
            // One write needs no transaction (half the write units).
            [Write::Put { item, condition }] => self.put_item(item, condition.as_ref()).await,
            [Write::Delete { key, condition }] => self.delete_item(key, condition.as_ref()).await,
            [Write::Add { key, counts }] => self.update_counts(key, counts).await,
            _ if writes.len() > MAX_TRANSACTION_ITEMS => Err(StoreError::Unavailable(format!(
                "TransactWriteItems: {} writes, more than the {MAX_TRANSACTION_ITEMS} one transaction may hold",
                writes.len()
            ))),
            _ => self.transact(writes).await,
        }
    }

    async fn load(&self, items: Vec<Item>) -> Result<(), StoreError> {
        // BatchWriteItem refuses two items with one key: the last one wins.
        let mut position: HashMap<Key, usize> = HashMap::new();
        let mut unique: Vec<Option<Attributes>> = Vec::with_capacity(items.len());
        for item in &items {
            let encoded = encode(item)?;
            match position.get(&item.key) {
                Some(&i) => unique[i] = Some(encoded),
                None => {
                    position.insert(item.key.clone(), unique.len());
                    unique.push(Some(encoded));
                }
            }
        }
        let unique: Vec<Attributes> = unique.into_iter().flatten().collect();
        let chunks: Vec<Vec<Attributes>> = unique
            .chunks(BATCH_WRITE_ITEMS)
            .map(<[Attributes]>::to_vec)
            .collect();
        futures::stream::iter(chunks.into_iter().map(|chunk| self.batch_put_chunk(chunk)))
            .buffer_unordered(BATCH_WRITE_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Counts;

    fn add(key: Key, n: i64) -> Write {
        Write::Add {
            key,
            counts: Counts::from([("items".to_string(), n)]),
        }
    }

    #[test]
    fn a_transaction_that_met_on_counts_moves_them_to_one_other_item() {
        let (a, b) = (keys::tenant_counts("t", 3), keys::tenant_counts("t", 200));
        let identity = keys::identity_counts("t", "eve");
        let writes = vec![
            add(a.clone(), 1),
            add(identity.clone(), 5),
            add(b.clone(), 2),
        ];
        let moved = move_tenant_counts(writes, 1);
        assert_eq!(moved.len(), 2, "{moved:?}");
        assert!(moved.contains(&add(identity, 5)));
        let target = keys::other_tenant_counts(&a, 1).unwrap();
        assert_ne!(target, a);
        assert!(moved.contains(&add(target.clone(), 3)), "{moved:?}");
        // Each attempt names another item, of the same tenant.
        let again = keys::other_tenant_counts(&a, 2).unwrap();
        assert!(again != target && again != a);
        assert!(again.pk.starts_with("T#t#COUNTS#TENANT#"));
        assert_eq!(
            keys::other_tenant_counts(&keys::identity_counts("t", "x"), 1),
            None
        );
    }

    fn cancelled(
        reasons: &[&str],
    ) -> aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        (),
    > {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        use aws_sdk_dynamodb::types::error::TransactionCanceledException;
        use aws_sdk_dynamodb::types::CancellationReason;
        let mut e = TransactionCanceledException::builder().message("cancelled");
        for r in reasons {
            e = e.cancellation_reasons(CancellationReason::builder().code(*r).build());
        }
        aws_sdk_dynamodb::error::SdkError::service_error(
            TransactWriteItemsError::TransactionCanceledException(e.build()),
            (),
        )
    }

    #[test]
    fn only_a_conflict_on_counts_alone_moves_them() {
        let counts = add(keys::tenant_counts("t", 1), 1);
        let identity = add(keys::identity_counts("t", "eve"), 1);
        let put = Write::put(Item::new(
            Key::new("T#t#X", "#"),
            crate::store::item::Record::Pointer(crate::records::PointerRecord {
                target: "x".into(),
            }),
        ));
        let writes = [put, counts, identity];
        for (reasons, moves) in [
            (vec!["None", "TransactionConflict", "None"], true),
            // A conflict on another item, or a failed condition: the caller's.
            (vec!["TransactionConflict", "None", "None"], false),
            (vec!["None", "None", "TransactionConflict"], false),
            (
                vec!["ConditionalCheckFailed", "TransactionConflict", "None"],
                false,
            ),
            (vec!["None", "None", "None"], false),
        ] {
            assert_eq!(
                met_on_counts_only(&cancelled(&reasons), &writes),
                moves,
                "{reasons:?}"
            );
        }
    }
}
