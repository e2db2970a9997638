//! The DynamoDB client as a function builds it.

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeDeserializationInterceptorContextRef,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use super::errors::THROTTLING_CODES;
use crate::store::StoreError;

/// How long opening a connection may take: DynamoDB's endpoints answer in
/// milliseconds; a slower connect is a network fault worth retrying.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The operations that write.
const WRITES: &[&str] = &[
    "PutItem",
    "DeleteItem",
    "UpdateItem",
    "TransactWriteItems",
    "BatchWriteItem",
];

/// Notes, for the request being served (`crate::deadline`), what its
/// attempts came to: that DynamoDB answered one with a throttling error (if
/// the request's budget then runs out during the SDK's retries, the client
/// is told 429 rather than 500), and which write attempts were sent and
/// which answered (a write attempt without an answer may have been applied,
/// so the request may no longer answer 429, which says nothing was done).
#[derive(Debug, Clone, Default)]
pub struct ThrottlingWatch;

fn is_write(cfg: &ConfigBag) -> bool {
    cfg.load::<Metadata>()
        .is_some_and(|m| WRITES.contains(&m.name()))
}

impl Intercept for ThrottlingWatch {
    fn name(&self) -> &'static str {
        "ThrottlingWatch"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if is_write(cfg) {
            crate::deadline::note_write_sent();
        }
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if is_write(cfg) {
            crate::deadline::note_write_answered();
        }
        Ok(())
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
}
