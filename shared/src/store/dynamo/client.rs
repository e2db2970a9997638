//! The DynamoDB client as a function builds it.

use aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::Client;

use super::errors::THROTTLING_CODES;
use crate::store::StoreError;

/// How long opening a connection may take: DynamoDB's endpoints answer in
/// milliseconds; a slower connect is a network fault worth retrying.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Notes, for the request being served, that DynamoDB answered an attempt
/// with a throttling error: if the request's budget then runs out during
/// the SDK's retries, the client is told 429 rather than 500.
#[derive(Debug, Clone, Default)]
pub struct ThrottlingWatch;

impl Intercept for ThrottlingWatch {
    fn name(&self) -> &'static str {
        "ThrottlingWatch"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        if response.status().as_u16() == 400 {
            let body = response.body().bytes().unwrap_or_default();
            let text = String::from_utf8_lossy(body);
            if THROTTLING_CODES.iter().any(|code| text.contains(code)) {
                crate::deadline::note_throttled();
            }
        }
        Ok(())
    }
}

/// The HTTP client of every DynamoDB (and STS) call: the SDK's hyper client
/// with rustls on the `ring` provider and the system's root certificates.
/// The SDK's default client would bring aws-lc, whose C library weighs
/// about a megabyte in each bootstrap.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Whether the environment holds static credentials (Lambda sets them).
pub fn env_credentials_present() -> bool {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY")
}

/// The client for the region, credentials and `AWS_ENDPOINT_URL_DYNAMODB`
/// aws-config reads from the environment.
///
/// With both `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` set (always
/// so in Lambda) the credentials are taken from the environment directly:
/// the default chain would pick them first anyway, but building it also
/// builds an STS client for web-identity tokens, which costs more than
/// the DynamoDB client itself.
pub async fn from_env() -> Result<Client, StoreError> {
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client());
    if env_credentials_present() {
        loader = loader.credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        );
    }
    let config = loader
        .timeout_config(
            aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .build(),
        )
        .load()
        .await;
    if config.region().is_none() {
        return Err(StoreError::Unavailable(
            "no AWS region configured (set AWS_REGION)".into(),
        ));
    }
    let dynamo = aws_sdk_dynamodb::config::Builder::from(&config)
        .interceptor(ThrottlingWatch)
        .build();
    Ok(Client::from_conf(dynamo))
}
