//! The DynamoDB [`Store`]: one table (`table-definition.json`), keys prefixed
//! by tenant, records mapped with serde_dynamo, every state change a
//! conditional write and every multi-record change a transaction.
//!
//! Items (all with `SK = "#"` unless noted):
//!
//! | item | PK | SK | extra |
//! | --- | --- | --- | --- |
//! | identity | `T#{t}#IDENTITY#{id}` | | |
//! | catalog item | `T#{t}#CATALOG#{TYPE}#{id}` | | |
//! | duplicate guard | `T#{t}#PENDING#{identity}#{TYPE}#{item}#{REQUEST_TYPE}` | | `accessRequestId` |
//! | access request | `T#{t}#AR#{id}` | | `GSI1PK T#{t}#REQUESTER#{id}`, `GSI2PK T#{t}#FOR#{id}`, `GSI3PK T#{t}#AR`, `GSI{1,2,3}SK {created}#{id}` |
//! | assignment | `T#{t}#ASSIGNEE#{identity}` | `{created}#{request}` | `accessRequestId` |
//! | non-employee request | `T#{t}#NEAPPROVAL#{approvalItem}` | | one full copy per approval item |
//! | event | `T#{t}#EVENTS` | `{created}#{sequence}#{id}` | |
//!
//! No method scans: reads are BatchGetItem on keys or Query on one partition.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, IndexStatus,
    KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType, Put, PutRequest,
    ScalarAttributeType, TableStatus, TransactWriteItem, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_item};

use super::{Lookup, LookupResult, RequestIndex, Store, StoreError, TenantRecords};
use crate::models::ItemType;
use crate::records::{
    AccessRequestRecord, CatalogItemRecord, EventRecord, IdentityRecord, NonEmployeeRequestRecord,
    PendingClaim, PendingKey,
};

/// The table's definition, shared with the SAM template.
pub const TABLE_DEFINITION: &str = include_str!("table-definition.json");

/// The most items one TransactWriteItems may hold.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// Keys one BatchGetItem may ask for.
const BATCH_GET_KEYS: usize = 100;
/// Items one BatchWriteItem may hold.
const BATCH_WRITE_ITEMS: usize = 25;
/// BatchWriteItem calls `load_tenant` keeps in flight.
const BATCH_WRITE_CONCURRENCY: usize = 8;
/// Retries of unprocessed batch keys/items before giving up as throttled.
const BATCH_RETRIES: u32 = 8;
/// How long `create_table` waits for the table to become ACTIVE.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

const PK: &str = "PK";
const SK: &str = "SK";
const ROOT_SK: &str = "#";
const ACCESS_REQUEST_ID: &str = "accessRequestId";

/// How many items [`Store::create_requests`] writes for a submission: each
/// request, its assignment items, and each claim. The domain refuses a
/// submission above [`MAX_TRANSACTION_ITEMS`], which one transaction cannot hold.
pub fn submission_write_count(requests: &[AccessRequestRecord], claims: &[PendingClaim]) -> usize {
    requests.len() + requests.iter().map(|r| r.assignees().len()).sum::<usize>() + claims.len()
}

type Item = HashMap<String, AttributeValue>;

/// The HTTP client of every DynamoDB (and STS) call: the SDK's hyper client
/// with rustls on the `ring` provider, trusting [`trust_store`]'s roots.
/// The SDK's default client would bring aws-lc, whose C library weighs
/// about a megabyte in each bootstrap.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    https_client_trusting(trust_store(root_certificates_from_env()))
}

fn https_client_trusting(
    roots: aws_smithy_http_client::tls::TrustStore,
) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    let context = tls::TlsContext::builder()
        .with_trust_store(roots)
        .build()
        .expect("a TLS context with only a trust store always builds");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(context)
        .build_https()
}

/// The roots of Amazon Trust Services, which issues the certificate of every
/// AWS service endpoint, DynamoDB's and STS's among them: Amazon Root CA 1–4
/// and the Starfield Services root that cross-signs them.
pub const AWS_ROOT_CERTIFICATES: &str = include_str!("aws-root-certificates.pem");

/// Whether `SSL_CERT_FILE` or `SSL_CERT_DIR` names the roots to trust.
pub fn root_certificates_from_env() -> bool {
    std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some()
}

/// The roots the DynamoDB client trusts. By default the five compiled in
/// ([`AWS_ROOT_CERTIFICATES`]): the client parses them twice (building the
/// client, then the first connection) in well under 0.1 ms, where reading
/// and parsing the system's bundle (~220 KB of PEM, 144 roots) cost ~0.9 ms
/// of a full core, ~12 ms of a 128 MB function's share (`bench/`). With
/// `from_env`, the files `SSL_CERT_FILE` / `SSL_CERT_DIR` name instead (as
/// `rustls-native-certs` reads them): for an endpoint that AWS does not
/// serve, or a proxy with its own CA.
pub fn trust_store(from_env: bool) -> aws_smithy_http_client::tls::TrustStore {
    use aws_smithy_http_client::tls::TrustStore;
    if from_env {
        TrustStore::default()
    } else {
        TrustStore::empty().with_pem_certificate(AWS_ROOT_CERTIFICATES.as_bytes())
    }
}

/// Whether the environment holds static credentials (Lambda sets them).
pub fn env_credentials_present() -> bool {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY")
}

/// Key construction: the only place that knows the key layout.
mod keys {
    use chrono::{DateTime, Utc};

    use crate::models::ItemType;
    use crate::records::PendingKey;

    pub fn identity(tenant: &str, id: &str) -> String {
        format!("T#{tenant}#IDENTITY#{id}")
    }
    pub fn catalog(tenant: &str, item_type: ItemType, id: &str) -> String {
        format!("T#{tenant}#CATALOG#{}#{id}", item_type.as_str())
    }
    pub fn pending(tenant: &str, key: &PendingKey) -> String {
        format!(
            "T#{tenant}#PENDING#{}#{}#{}#{}",
            key.identity_id,
            key.item_type.as_str(),
            key.item_id,
            key.request_type.as_str()
        )
    }
    pub fn request(tenant: &str, id: &str) -> String {
        format!("T#{tenant}#AR#{id}")
    }
    pub fn requester(tenant: &str, identity_id: &str) -> String {
        format!("T#{tenant}#REQUESTER#{identity_id}")
    }
    pub fn requested_for(tenant: &str, identity_id: &str) -> String {
        format!("T#{tenant}#FOR#{identity_id}")
    }
    pub fn tenant_requests(tenant: &str) -> String {
        format!("T#{tenant}#AR")
    }
    pub fn assignee(tenant: &str, identity_id: &str) -> String {
        format!("T#{tenant}#ASSIGNEE#{identity_id}")
    }
    pub fn non_employee_approval(tenant: &str, approval_item_id: &str) -> String {
        format!("T#{tenant}#NEAPPROVAL#{approval_item_id}")
    }
    pub fn events(tenant: &str) -> String {
        format!("T#{tenant}#EVENTS")
    }
    /// `{created}#{id}`: sorts as (created, id) since the time is fixed-width.
    pub fn chronological(created: &DateTime<Utc>, id: &str) -> String {
        format!("{}#{id}", crate::time::format(created))
    }
    /// `{created}#{sequence}#{id}`, the sequence zero-padded: sorts as
    /// [`crate::records::EventRecord::chronological_order`].
    pub fn event(event: &crate::records::EventRecord) -> String {
        format!(
            "{}#{:010}#{}",
            crate::time::format(&event.created),
            event.sequence,
            event.id
        )
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

fn root_key(pk: String) -> Item {
    key(pk, ROOT_SK)
}

/// A record as an item, with its key attributes added.
fn record_item<T: Serialize>(
    record: &T,
    pk: String,
    sk: impl Into<String>,
) -> Result<Item, StoreError> {
    let mut item: Item =
        to_item(record).map_err(|e| StoreError::Corrupt(format!("cannot encode record: {e}")))?;
    item.insert(PK.to_string(), s(pk));
    item.insert(SK.to_string(), s(sk));
    Ok(item)
}

fn decode<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let pk = match item.get(PK) {
        Some(AttributeValue::S(pk)) => pk.clone(),
        _ => "?".to_string(),
    };
    from_item(item).map_err(|e| StoreError::Corrupt(format!("{pk}: {e}")))
}

fn string_attr(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

fn request_item(tenant: &str, record: &AccessRequestRecord) -> Result<Item, StoreError> {
    let mut item = record_item(record, keys::request(tenant, &record.id), ROOT_SK)?;
    let sort = keys::chronological(&record.created, &record.id);
    item.insert(
        "GSI1PK".into(),
        s(keys::requester(tenant, &record.requester.id)),
    );
    item.insert("GSI1SK".into(), s(sort.clone()));
    item.insert(
        "GSI2PK".into(),
        s(keys::requested_for(tenant, &record.requested_for.id)),
    );
    item.insert("GSI2SK".into(), s(sort.clone()));
    item.insert("GSI3PK".into(), s(keys::tenant_requests(tenant)));
    item.insert("GSI3SK".into(), s(sort));
    Ok(item)
}

fn assignment_items(tenant: &str, record: &AccessRequestRecord) -> Vec<Item> {
    record
        .assignees()
        .iter()
        .map(|identity| {
            let mut item = key(
                keys::assignee(tenant, identity),
                keys::chronological(&record.created, &record.id),
            );
            item.insert(ACCESS_REQUEST_ID.into(), s(record.id.clone()));
            item
        })
        .collect()
}

fn claim_item(tenant: &str, key: &PendingKey, access_request_id: &str) -> Item {
    let mut item = root_key(keys::pending(tenant, key));
    item.insert(ACCESS_REQUEST_ID.into(), s(access_request_id));
    item
}

fn event_item(tenant: &str, event: &EventRecord) -> Result<Item, StoreError> {
    record_item(event, keys::events(tenant), keys::event(event))
}

fn non_employee_items(
    tenant: &str,
    record: &NonEmployeeRequestRecord,
) -> Result<Vec<Item>, StoreError> {
    record
        .approval_items
        .iter()
        .map(|a| record_item(record, keys::non_employee_approval(tenant, &a.id), ROOT_SK))
        .collect()
}

fn sort_chronologically<T>(records: &mut [T], by: impl Fn(&T) -> (DateTime<Utc>, &str)) {
    records.sort_by(|a, b| by(a).cmp(&by(b)));
}

// ---------------------------------------------------------------- errors

const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ProvisionedThroughputExceeded",
    "ThrottlingException",
    "ThrottlingError",
    "Throttling",
    "RequestLimitExceeded",
];
const CONFLICT_CODES: &[&str] = &[
    "ConditionalCheckFailedException",
    "ConditionalCheckFailed",
    "TransactionConflictException",
    "TransactionConflict",
];

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Maps a failed call to a [`StoreError`]; `reasons` are a cancelled
/// transaction's per-item reason codes, if known.
fn classify<E, R>(operation: &str, err: &SdkError<E, R>, reasons: &[&str]) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("Unknown");
            let message = e.message().unwrap_or("");
            let text = truncate(format!("{operation}: {code}: {message}"), 300);
            if code == "TransactionCanceledException" {
                // The reasons say which item failed and why; without them
                // (some emulators) the message lists the codes.
                let any = |codes: &[&str]| {
                    if reasons.is_empty() {
                        codes.iter().any(|c| message.contains(c))
                    } else {
                        reasons.iter().any(|r| codes.contains(r))
                    }
                };
                if any(CONFLICT_CODES) {
                    StoreError::Conflict(text)
                } else if any(THROTTLING_CODES) {
                    StoreError::Throttled(text)
                } else {
                    StoreError::Unavailable(text)
                }
            } else if CONFLICT_CODES.contains(&code) {
                StoreError::Conflict(text)
            } else if THROTTLING_CODES.contains(&code) {
                StoreError::Throttled(text)
            } else {
                StoreError::Unavailable(text)
            }
        }
        other => {
            let cause = std::error::Error::source(other)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            StoreError::Unavailable(truncate(format!("{operation}: {other}{cause}"), 300))
        }
    }
}

fn sdk_error<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: Debug,
{
    move |err| classify(operation, &err, &[])
}

fn transact_error<R: Debug>(err: SdkError<TransactWriteItemsError, R>) -> StoreError {
    let reasons: Vec<&str> = match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => e
            .cancellation_reasons()
            .iter()
            .filter_map(|r| r.code())
            .collect(),
        _ => Vec::new(),
    };
    classify("TransactWriteItems", &err, &reasons)
}

fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("cannot build request: {e}"))
}

/// A short exponential backoff with a little jitter: 20 ms, 40 ms, … ≤ 1 s.
fn backoff(attempt: u32) -> Duration {
    let base = 20u64.saturating_mul(1 << attempt.min(6)).min(1000);
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % (base / 2 + 1);
    Duration::from_millis(base / 2 + jitter)
}

// ---------------------------------------------------------------- the store

/// A [`Store`] on one DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// `Limit` of each Query page; `None` lets DynamoDB page at 1 MB.
    query_page_limit: Option<i32>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            query_page_limit: None,
        }
    }

    /// From the environment as Lambda has it: `TABLE_NAME` (required), and
    /// the region, credentials and `AWS_ENDPOINT_URL_DYNAMODB` as aws-config
    /// reads them.
    ///
    /// With both `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` set (always
    /// so in Lambda) the credentials are taken from the environment directly:
    /// the default chain would pick them first anyway, but building it also
    /// builds an STS client for web-identity tokens, which costs more than
    /// the DynamoDB client itself.
    pub async fn from_env() -> Result<Self, StoreError> {
        let table = std::env::var("TABLE_NAME")
            .ok()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| StoreError::Unavailable("TABLE_NAME is not set".into()))?;
        let mut loader =
            aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client());
        if env_credentials_present() {
            loader = loader.credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            );
        }
        let config = loader.load().await;
        if config.region().is_none() {
            return Err(StoreError::Unavailable(
                "no AWS region configured (set AWS_REGION)".into(),
            ));
        }
        Ok(Self::new(Client::new(&config), table))
    }

    /// Creates the table from `table-definition.json` (an existing table is
    /// fine) and waits until it and its indexes are ACTIVE.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        let def: TableDefinition = serde_json::from_str(TABLE_DEFINITION)
            .map_err(|e| StoreError::Unavailable(format!("table-definition.json: {e}")))?;
        let key_schema = |elements: &[KeyElement]| -> Result<Vec<KeySchemaElement>, StoreError> {
            elements
                .iter()
                .map(|k| {
                    KeySchemaElement::builder()
                        .attribute_name(&k.attribute_name)
                        .key_type(KeyType::from(k.key_type.as_str()))
                        .build()
                        .map_err(build_error)
                })
                .collect()
        };
        let mut request = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::from(def.billing_mode.as_str()))
            .set_key_schema(Some(key_schema(&def.key_schema)?));
        for a in &def.attribute_definitions {
            request = request.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(&a.attribute_name)
                    .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                    .build()
                    .map_err(build_error)?,
            );
        }
        for g in &def.global_secondary_indexes {
            request = request.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(&g.index_name)
                    .set_key_schema(Some(key_schema(&g.key_schema)?))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::from(
                                g.projection.projection_type.as_str(),
                            ))
                            .set_non_key_attributes(
                                (!g.projection.non_key_attributes.is_empty())
                                    .then(|| g.projection.non_key_attributes.clone()),
                            )
                            .build(),
                    )
                    .build()
                    .map_err(build_error)?,
            );
        }
        match request.send().await {
            Ok(_) => {}
            Err(e) if e.code() == Some("ResourceInUseException") => {}
            Err(e) => return Err(classify("CreateTable", &e, &[])),
        }

        let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
        let mut attempt = 0;
        loop {
            let described = client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(sdk_error("DescribeTable"))?;
            if let Some(t) = described.table() {
                let indexes_active = t.global_secondary_indexes().iter().all(|i| {
                    i.index_status() == Some(&IndexStatus::Active) || i.index_status().is_none()
                });
                if t.table_status() == Some(&TableStatus::Active) && indexes_active {
                    return Ok(());
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(StoreError::Unavailable(format!(
                    "table {table} did not become ACTIVE"
                )));
            }
            attempt += 1;
            tokio::time::sleep(backoff(attempt.min(5))).await;
        }
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

    /// One cheap call (a GetItem of a key that never exists) so that a
    /// Lambda's init phase opens the connection and does the TLS handshake.
    /// Errors are logged, not returned: the first request will retry anyway.
    pub async fn warm_up(&self) {
        let result = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(root_key("#WARM-UP".to_string())))
            .projection_expression("#pk")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        if let Err(e) = result {
            let error = classify("GetItem", &e, &[]);
            tracing::warn!(%error, table = %self.table, "DynamoDB warm-up failed");
        }
    }

    /// Reads items by key: chunks of 100 keys sent concurrently, unprocessed
    /// keys retried. A chunk is read consistently when any of its keys asks so.
    async fn batch_get(&self, keys: Vec<(Item, bool)>) -> Result<Vec<Item>, StoreError> {
        let chunks: Vec<(Vec<Item>, bool)> = keys
            .chunks(BATCH_GET_KEYS)
            .map(|chunk| {
                let consistent = chunk.iter().any(|(_, c)| *c);
                (chunk.iter().map(|(k, _)| k.clone()).collect(), consistent)
            })
            .collect();
        let results = futures::future::try_join_all(
            chunks.into_iter().map(|(k, c)| self.batch_get_chunk(k, c)),
        )
        .await?;
        Ok(results.into_iter().flatten().collect())
    }

    async fn batch_get_chunk(
        &self,
        mut keys: Vec<Item>,
        consistent: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        let mut attempt = 0;
        while !keys.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut keys)))
                .consistent_read(consistent)
                .build()
                .map_err(build_error)?;
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(sdk_error("BatchGetItem"))?;
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
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        Ok(found)
    }

    /// Writes items (replacing any with the same key; the last of duplicate
    /// keys wins) in BatchWriteItem calls of 25, a few in flight at a time.
    async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let mut position: HashMap<(String, String), usize> = HashMap::new();
        let mut unique: Vec<Option<Item>> = Vec::with_capacity(items.len());
        for item in items {
            let k = (
                string_attr(&item, PK).unwrap_or_default(),
                string_attr(&item, SK).unwrap_or_default(),
            );
            match position.get(&k) {
                Some(&i) => unique[i] = Some(item),
                None => {
                    position.insert(k, unique.len());
                    unique.push(Some(item));
                }
            }
        }
        let unique: Vec<Item> = unique.into_iter().flatten().collect();
        let chunks: Vec<Vec<Item>> = unique
            .chunks(BATCH_WRITE_ITEMS)
            .map(<[Item]>::to_vec)
            .collect();
        futures::stream::iter(chunks.into_iter().map(|chunk| self.batch_put_chunk(chunk)))
            .buffer_unordered(BATCH_WRITE_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn batch_put_chunk(&self, items: Vec<Item>) -> Result<(), StoreError> {
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
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, std::mem::take(&mut requests))
                .send()
                .await
                .map_err(sdk_error("BatchWriteItem"))?;
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
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        Ok(())
    }

    /// Every item of one partition (of the table or of a GSI), all pages.
    async fn query_partition(
        &self,
        index: Option<&str>,
        partition_attribute: &str,
        partition: String,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", partition_attribute)
                .expression_attribute_values(":pk", s(partition.clone()))
                .set_exclusive_start_key(start.take())
                .set_limit(self.query_page_limit);
            query = match index {
                Some(index) => query.index_name(index),
                // Base-table partitions (assignments, events) guard nothing,
                // but reading them consistently keeps read-your-writes.
                None => query.consistent_read(true),
            };
            let output = query.send().await.map_err(sdk_error("Query"))?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        if items.len() > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::Unavailable(format!(
                "TransactWriteItems: {} writes, more than the {MAX_TRANSACTION_ITEMS} one transaction may hold",
                items.len()
            )));
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(transact_error)?;
        Ok(())
    }

    fn put(
        &self,
        item: Item,
        condition: Option<Condition>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some(c) = condition {
            put = put
                .condition_expression(c.expression)
                .set_expression_attribute_names(Some(c.names))
                .set_expression_attribute_values((!c.values.is_empty()).then_some(c.values));
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build_error)?)
            .build())
    }
}

/// A condition expression with its placeholders.
struct Condition {
    expression: &'static str,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Condition {
    fn absent() -> Self {
        Self {
            expression: "attribute_not_exists(#pk)",
            names: HashMap::from([("#pk".to_string(), PK.to_string())]),
            values: HashMap::new(),
        }
    }

    fn version_is(previous: u64) -> Self {
        Self {
            expression: "#version = :previous",
            names: HashMap::from([("#version".to_string(), "version".to_string())]),
            values: HashMap::from([(
                ":previous".to_string(),
                AttributeValue::N(previous.to_string()),
            )]),
        }
    }

    fn claimed_by(stale: &str) -> Self {
        Self {
            expression: "#claim = :stale",
            names: HashMap::from([("#claim".to_string(), ACCESS_REQUEST_ID.to_string())]),
            values: HashMap::from([(":stale".to_string(), s(stale))]),
        }
    }
}

/// What a looked-up key stands for.
enum Wanted {
    Identity(String),
    Item(ItemType, String),
    Claim(PendingKey),
    Request(String),
}

#[async_trait]
impl Store for DynamoStore {
    async fn lookup(&self, tenant: &str, lookup: &Lookup) -> Result<LookupResult, StoreError> {
        // Identities and catalog items first, claims last: only the chunks
        // holding claims need (and pay for) a consistent read.
        let mut wanted: HashMap<String, Wanted> = HashMap::new();
        let mut batch: Vec<(Item, bool)> = Vec::new();
        let mut want = |pk: String, what: Wanted, consistent: bool| {
            if let std::collections::hash_map::Entry::Vacant(slot) = wanted.entry(pk) {
                batch.push((root_key(slot.key().clone()), consistent));
                slot.insert(what);
            }
        };
        for id in &lookup.identity_ids {
            want(
                keys::identity(tenant, id),
                Wanted::Identity(id.clone()),
                false,
            );
        }
        for (item_type, id) in &lookup.items {
            want(
                keys::catalog(tenant, *item_type, id),
                Wanted::Item(*item_type, id.clone()),
                false,
            );
        }
        for key in &lookup.pending {
            want(keys::pending(tenant, key), Wanted::Claim(key.clone()), true);
        }
        for id in &lookup.requests {
            want(keys::request(tenant, id), Wanted::Request(id.clone()), true);
        }

        let mut result = LookupResult::default();
        for item in self.batch_get(batch).await? {
            let Some(pk) = string_attr(&item, PK) else {
                continue;
            };
            match wanted.remove(&pk) {
                Some(Wanted::Identity(id)) => {
                    result
                        .identities
                        .insert(id, decode::<IdentityRecord>(item)?);
                }
                Some(Wanted::Item(item_type, id)) => {
                    result
                        .items
                        .insert((item_type, id), decode::<CatalogItemRecord>(item)?);
                }
                Some(Wanted::Claim(key)) => {
                    let request_id = string_attr(&item, ACCESS_REQUEST_ID).ok_or_else(|| {
                        StoreError::Corrupt(format!("{pk}: no {ACCESS_REQUEST_ID}"))
                    })?;
                    result.pending.insert(key, request_id);
                }
                Some(Wanted::Request(id)) => {
                    result
                        .requests
                        .insert(id, decode::<AccessRequestRecord>(item)?);
                }
                None => {}
            }
        }
        Ok(result)
    }

    async fn get_requests(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        let mut seen = HashSet::new();
        let batch = ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .map(|id| (root_key(keys::request(tenant, id)), true))
            .collect();
        self.batch_get(batch)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    async fn create_requests(
        &self,
        tenant: &str,
        requests: &[AccessRequestRecord],
        claims: &[PendingClaim],
    ) -> Result<(), StoreError> {
        let mut writes = Vec::with_capacity(submission_write_count(requests, claims));
        for r in requests {
            writes.push(self.put(request_item(tenant, r)?, Some(Condition::absent()))?);
            for assignment in assignment_items(tenant, r) {
                writes.push(self.put(assignment, None)?);
            }
        }
        for c in claims {
            let condition = match &c.replaces {
                None => Condition::absent(),
                Some(stale) => Condition::claimed_by(stale),
            };
            writes.push(self.put(
                claim_item(tenant, &c.key, &c.access_request_id),
                Some(condition),
            )?);
        }
        self.transact(writes).await
    }

    async fn query_requests(
        &self,
        tenant: &str,
        index: &RequestIndex,
    ) -> Result<Vec<AccessRequestRecord>, StoreError> {
        let mut records: Vec<AccessRequestRecord> = match index {
            RequestIndex::Requester(id) => self
                .query_partition(Some("GSI1"), "GSI1PK", keys::requester(tenant, id))
                .await?
                .into_iter()
                .map(decode)
                .collect::<Result<_, _>>()?,
            RequestIndex::RequestedFor(id) => self
                .query_partition(Some("GSI2"), "GSI2PK", keys::requested_for(tenant, id))
                .await?
                .into_iter()
                .map(decode)
                .collect::<Result<_, _>>()?,
            RequestIndex::Tenant => self
                .query_partition(Some("GSI3"), "GSI3PK", keys::tenant_requests(tenant))
                .await?
                .into_iter()
                .map(decode)
                .collect::<Result<_, _>>()?,
            RequestIndex::Assignee(id) => {
                let assignments = self
                    .query_partition(None, PK, keys::assignee(tenant, id))
                    .await?;
                let mut seen = HashSet::new();
                let batch = assignments
                    .iter()
                    .filter_map(|a| string_attr(a, ACCESS_REQUEST_ID))
                    .filter(|request_id| seen.insert(request_id.clone()))
                    .map(|request_id| (root_key(keys::request(tenant, &request_id)), true))
                    .collect();
                let records: Vec<AccessRequestRecord> = self
                    .batch_get(batch)
                    .await?
                    .into_iter()
                    .map(decode)
                    .collect::<Result<_, _>>()?;
                // The request itself is the truth: an assignment outlives an
                // approver who is no longer on the request.
                records
                    .into_iter()
                    .filter(|r| r.assignees().contains(id))
                    .collect()
            }
        };
        // The keys already sort by (created to the millisecond, id); sorting
        // the records themselves also orders sub-millisecond differences.
        sort_chronologically(&mut records, |r| (r.created, r.id.as_str()));
        Ok(records)
    }

    async fn update_request(
        &self,
        tenant: &str,
        record: &AccessRequestRecord,
        event: Option<&EventRecord>,
    ) -> Result<(), StoreError> {
        let Some(previous) = record.version.checked_sub(1) else {
            return Err(StoreError::Conflict(format!(
                "access request {} cannot be at version -1",
                record.id
            )));
        };
        let item = request_item(tenant, record)?;
        match event {
            None => {
                let condition = Condition::version_is(previous);
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression(condition.expression)
                    .set_expression_attribute_names(Some(condition.names))
                    .set_expression_attribute_values(Some(condition.values))
                    .send()
                    .await
                    .map_err(sdk_error("PutItem"))?;
                Ok(())
            }
            Some(event) => {
                let writes = vec![
                    self.put(item, Some(Condition::version_is(previous)))?,
                    self.put(event_item(tenant, event)?, None)?,
                ];
                self.transact(writes).await
            }
        }
    }

    async fn put_event(&self, tenant: &str, event: &EventRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(event_item(tenant, event)?))
            .send()
            .await
            .map_err(sdk_error("PutItem"))?;
        Ok(())
    }

    async fn list_events(&self, tenant: &str) -> Result<Vec<EventRecord>, StoreError> {
        let mut events: Vec<EventRecord> = self
            .query_partition(None, PK, keys::events(tenant))
            .await?
            .into_iter()
            .map(decode)
            .collect::<Result<_, _>>()?;
        events.sort_by(|a, b| a.chronological_order().cmp(&b.chronological_order()));
        Ok(events)
    }

    async fn get_non_employee_request(
        &self,
        tenant: &str,
        approval_item_id: &str,
    ) -> Result<Option<NonEmployeeRequestRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(root_key(keys::non_employee_approval(
                tenant,
                approval_item_id,
            ))))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error("GetItem"))?;
        output.item.map(decode).transpose()
    }

    async fn update_non_employee_request(
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
        let writes = non_employee_items(tenant, record)?
            .into_iter()
            .map(|item| self.put(item, Some(Condition::version_is(previous))))
            .collect::<Result<Vec<_>, _>>()?;
        self.transact(writes).await
    }

    async fn load_tenant(&self, tenant: &str, records: &TenantRecords) -> Result<(), StoreError> {
        let mut items = Vec::new();
        for i in &records.identities {
            items.push(record_item(i, keys::identity(tenant, &i.id), ROOT_SK)?);
        }
        for c in &records.catalog {
            items.push(record_item(
                c,
                keys::catalog(tenant, c.item_type, &c.id),
                ROOT_SK,
            )?);
        }
        for r in &records.non_employee_requests {
            items.extend(non_employee_items(tenant, r)?);
        }
        for r in &records.access_requests {
            if !r.state.is_final() {
                for key in crate::domain::submit::pending_keys(r) {
                    items.push(claim_item(tenant, &key, &r.id));
                }
            }
            items.extend(assignment_items(tenant, r));
            items.push(request_item(tenant, r)?);
        }
        self.batch_put(items).await
    }
}

// ---------------------------------------------------------------- table definition

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TableDefinition {
    attribute_definitions: Vec<AttributeDef>,
    key_schema: Vec<KeyElement>,
    #[serde(default)]
    global_secondary_indexes: Vec<IndexDef>,
    billing_mode: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeDef {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyElement {
    attribute_name: String,
    key_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IndexDef {
    index_name: String,
    key_schema: Vec<KeyElement>,
    projection: ProjectionDef,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProjectionDef {
    projection_type: String,
    #[serde(default)]
    non_key_attributes: Vec<String>,
}

// ---------------------------------------------------------------- clients and counting

/// Counts the HTTP requests a client sends (every attempt, retries included),
/// per operation name: tests and benches assert round-trip budgets with it.
#[derive(Clone, Default, Debug)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl RequestCounter {
    pub fn new() -> Self {
        Self::default()
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, usize>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Requests sent since creation or the last [`reset`](Self::reset).
    pub fn total(&self) -> usize {
        self.counts().values().sum()
    }

    /// Requests sent per operation (`BatchGetItem`, `Query`, …).
    pub fn by_operation(&self) -> BTreeMap<String, usize> {
        self.counts().clone()
    }

    /// Requests of one operation.
    pub fn count(&self, operation: &str) -> usize {
        self.counts().get(operation).copied().unwrap_or(0)
    }

    pub fn reset(&self) {
        self.counts().clear();
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .or_else(|| {
                // `X-Amz-Target: DynamoDB_20120810.GetItem`
                context
                    .request()
                    .headers()
                    .get("x-amz-target")
                    .and_then(|t| t.rsplit('.').next())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "unknown".to_string());
        *self.counts().entry(operation).or_default() += 1;
        Ok(())
    }
}

/// A client for a local DynamoDB-compatible endpoint (moto, DynamoDB Local)
/// with dummy credentials and region `us-east-1` (unless `AWS_REGION` says
/// otherwise), optionally counting its requests.
pub async fn local_client(endpoint: &str, counter: Option<RequestCounter>) -> Client {
    let region = std::env::var("AWS_REGION")
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_string());
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new(region))
        .http_client(https_client())
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "local",
        ));
    if let Some(counter) = counter {
        config = config.interceptor(counter);
    }
    Client::from_conf(config.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_compiled_in_roots_parse() {
        assert_eq!(
            AWS_ROOT_CERTIFICATES
                .matches("-----BEGIN CERTIFICATE-----")
                .count(),
            5
        );
        // The first call builds the TLS connector, which parses the roots
        // (and panics on one it cannot use), before it fails to connect.
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests())
            .endpoint_url("https://127.0.0.1:1")
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .http_client(https_client_trusting(trust_store(false)))
            .build();
        let result = Client::from_conf(config).list_tables().send().await;
        assert!(result.is_err(), "nothing listens on port 1");
    }

    #[test]
    fn table_definition_parses() {
        let def: TableDefinition = serde_json::from_str(TABLE_DEFINITION).unwrap();
        assert_eq!(def.key_schema.len(), 2);
        assert_eq!(def.global_secondary_indexes.len(), 3);
    }

    #[test]
    fn chronological_keys_sort_by_time() {
        let a = crate::time::parse("2024-01-02T03:04:05.006Z").unwrap();
        let b = crate::time::parse("2024-01-02T03:04:05.100Z").unwrap();
        assert!(keys::chronological(&a, "z") < keys::chronological(&b, "a"));
        assert_eq!(keys::chronological(&a, "x"), "2024-01-02T03:04:05.006Z#x");
    }

    mod errors {
        use aws_sdk_dynamodb::error::{ErrorMetadata, SdkError};
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        use aws_sdk_dynamodb::types::error::TransactionCanceledException;
        use aws_sdk_dynamodb::types::CancellationReason;

        use super::super::{classify, transact_error};
        use crate::store::StoreError;

        fn put_error(code: &str) -> StoreError {
            let meta = ErrorMetadata::builder().code(code).message("m").build();
            classify(
                "PutItem",
                &SdkError::<_, ()>::service_error(PutItemError::generic(meta), ()),
                &[],
            )
        }

        fn cancelled(reasons: &[&str], message: &str) -> StoreError {
            let meta = ErrorMetadata::builder()
                .code("TransactionCanceledException")
                .message(message)
                .build();
            let mut e = TransactionCanceledException::builder()
                .message(message)
                .meta(meta);
            for r in reasons {
                e = e.cancellation_reasons(CancellationReason::builder().code(*r).build());
            }
            let err = TransactWriteItemsError::TransactionCanceledException(e.build());
            transact_error(SdkError::<_, ()>::service_error(err, ()))
        }

        #[test]
        fn codes_map_to_store_errors() {
            assert!(matches!(
                put_error("ConditionalCheckFailedException"),
                StoreError::Conflict(_)
            ));
            assert!(matches!(
                put_error("TransactionConflictException"),
                StoreError::Conflict(_)
            ));
            for code in [
                "ProvisionedThroughputExceededException",
                "ThrottlingException",
                "RequestLimitExceeded",
            ] {
                assert!(
                    matches!(put_error(code), StoreError::Throttled(_)),
                    "{code}"
                );
            }
            for code in [
                "ResourceNotFoundException",
                "ValidationException",
                "InternalServerError",
            ] {
                assert!(
                    matches!(put_error(code), StoreError::Unavailable(_)),
                    "{code}"
                );
            }
            let e = put_error("ValidationException");
            assert_eq!(
                e,
                StoreError::Unavailable("PutItem: ValidationException: m".into())
            );
        }

        #[test]
        fn cancelled_transactions_map_by_reason() {
            let conflict = |e: &StoreError| matches!(e, StoreError::Conflict(_));
            assert!(conflict(&cancelled(
                &["None", "ConditionalCheckFailed"],
                "x"
            )));
            assert!(conflict(&cancelled(&["TransactionConflict", "None"], "x")));
            // A failed condition wins over throttling of another item.
            assert!(conflict(&cancelled(
                &["ThrottlingError", "ConditionalCheckFailed"],
                "x"
            )));
            assert!(matches!(
                cancelled(&["None", "ThrottlingError"], "x"),
                StoreError::Throttled(_)
            ));
            assert!(matches!(
                cancelled(&["ProvisionedThroughputExceeded"], "x"),
                StoreError::Throttled(_)
            ));
            assert!(matches!(
                cancelled(&["ValidationError"], "x"),
                StoreError::Unavailable(_)
            ));
            // Without reasons, the message tells.
            assert!(conflict(&cancelled(
                &[],
                "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
            )));
            assert!(matches!(
                cancelled(&[], "no reasons"),
                StoreError::Unavailable(_)
            ));
        }

        #[test]
        fn transport_failures_are_unavailable() {
            let err = SdkError::<PutItemError, ()>::timeout_error("took too long");
            let e = classify("PutItem", &err, &[]);
            assert!(
                matches!(e, StoreError::Unavailable(ref m) if m.starts_with("PutItem: ")),
                "{e:?}"
            );
        }

        #[test]
        fn long_messages_are_cut() {
            let e = put_error(&"X".repeat(1000));
            let StoreError::Unavailable(text) = e else {
                panic!()
            };
            assert!(text.len() < 320, "{}", text.len());
        }
    }

    #[test]
    fn backoff_is_bounded() {
        for attempt in 0..20 {
            assert!(backoff(attempt) <= Duration::from_secs(1));
        }
    }
}
