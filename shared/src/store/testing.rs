//! Test support, compiled only with the `test-support` feature (the tests,
//! the local server and the benches enable it; the Lambda functions do not):
//! a request counter for round-trip budgets and a client for a local
//! DynamoDB-compatible server.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use super::dynamo::https_client;

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
        ))
        .interceptor(super::dynamo::client::ThrottlingWatch);
    if let Some(counter) = counter {
        config = config.interceptor(counter);
    }
    Client::from_conf(config.build())
}
