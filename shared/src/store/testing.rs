//! Test support, compiled only with the `test-support` feature (the tests,
//! the local server and the benches enable it; the Lambda functions do not):
//! a request counter for round-trip budgets and a client for a local
//! DynamoDB-compatible server.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use super::dynamo::https_client;

/// Counts the HTTP requests a client sends (every attempt, retries included),
/// per operation name, and the items the store's answers say it read
/// (a Query's `ScannedCount`, the items a GetItem or BatchGetItem found):
/// tests and benches assert round-trip budgets and read costs with it.
#[derive(Clone, Default, Debug)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
    items_read: Arc<std::sync::atomic::AtomicUsize>,
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

    /// Items read since creation or the last [`reset`](Self::reset).
    pub fn items_read(&self) -> usize {
        self.items_read.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.counts().clear();
        self.items_read
            .store(0, std::sync::atomic::Ordering::SeqCst);
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

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else {
            return Ok(());
        };
        let read = if let Some(q) = output.downcast_ref::<QueryOutput>() {
            q.scanned_count.max(0) as usize
        } else if let Some(b) = output.downcast_ref::<BatchGetItemOutput>() {
            b.responses
                .as_ref()
                .map_or(0, |r| r.values().map(Vec::len).sum())
        } else if let Some(g) = output.downcast_ref::<GetItemOutput>() {
            usize::from(g.item.is_some())
        } else {
            0
        };
        self.items_read
            .fetch_add(read, std::sync::atomic::Ordering::SeqCst);
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
        ))
        .interceptor(super::dynamo::client::ThrottlingWatch);
    if let Some(counter) = counter {
        config = config.interceptor(counter);
    }
    Client::from_conf(config.build())
}
