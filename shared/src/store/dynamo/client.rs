//! The DynamoDB client as a function builds it.

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeDeserializationInterceptorContextRef,
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use super::errors::THROTTLING_CODES;
pub use super::https::HttpsClient;
use crate::store::StoreError;

/// How long opening a connection may take: DynamoDB's endpoints answer in
/// milliseconds; a slower connect is a network fault worth retrying.
pub(crate) const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

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

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // No answer (connection, attempt timeout) or a server error: the
        // store lost this request's time, whatever the retries then made
        // of it.
        if context
            .response()
            .is_none_or(|r| r.status().is_server_error())
        {
            crate::deadline::note_faulted();
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

/// Stops a request just before it would be sent, keeping its URI: the
/// warm-up runs a request through the SDK up to there (endpoint,
/// credentials, signature) without sending it.
#[derive(Debug, Clone, Default)]
pub(crate) struct StopBeforeSending {
    uri: std::sync::Arc<std::sync::Mutex<Option<http::Uri>>>,
}

impl StopBeforeSending {
    /// The URI of the request it stopped.
    pub(crate) fn uri(&self) -> Option<http::Uri> {
        self.uri.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Intercept for StopBeforeSending {
    fn name(&self) -> &'static str {
        "StopBeforeSending"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri().parse::<http::Uri>()?;
        *self.uri.lock().unwrap_or_else(|p| p.into_inner()) = Some(uri);
        Err("stopped before sending".into())
    }
}

/// The HTTP client of every DynamoDB (and STS) call ([`HttpsClient`]):
/// hyper with rustls on the `ring` provider, trusting [`root_certificates`].
/// The SDK's default client would bring aws-lc, whose C library weighs
/// about a megabyte in each bootstrap.
pub fn https_client() -> HttpsClient {
    HttpsClient::new(root_certificates(root_certificates_from_env()))
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
/// ([`AWS_ROOT_CERTIFICATES`]), parsed in well under 0.1 ms, where reading
/// and parsing the system's bundle (~220 KB of PEM, 144 roots) cost ~0.9 ms
/// of a full core, ~12 ms of a 128 MB function's share (`bench/`). With
/// `from_env`, the files `SSL_CERT_FILE` / `SSL_CERT_DIR` name instead (as
/// `rustls-native-certs` reads them): for an endpoint that AWS does not
/// serve, or a proxy with its own CA.
pub fn root_certificates(from_env: bool) -> rustls::RootCertStore {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    if from_env {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::warn!(%error, "a root certificate could not be read");
        }
        let (_, unusable) = roots.add_parsable_certificates(found.certs);
        if unusable > 0 {
            tracing::warn!(unusable, "root certificates rustls cannot use were skipped");
        }
    } else {
        for certificate in CertificateDer::pem_slice_iter(AWS_ROOT_CERTIFICATES.as_bytes()) {
            let certificate = certificate.expect("the compiled-in roots are valid PEM");
            roots
                .add(certificate)
                .expect("the compiled-in roots are valid trust anchors");
        }
    }
    roots
}

/// Whether the environment holds static credentials (Lambda sets them).
pub fn env_credentials_present() -> bool {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY")
}

/// The client for the region, credentials and `AWS_ENDPOINT_URL_DYNAMODB`
/// aws-config reads from the environment, and its HTTPS client (which can
/// open the connection ahead: [`HttpsClient::open_connection`]).
///
/// With both `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` set (always
/// so in Lambda) the credentials are taken from the environment directly:
/// the default chain would pick them first anyway, but building it also
/// builds an STS client for web-identity tokens, which costs more than
/// the DynamoDB client itself.
pub async fn from_env() -> Result<(Client, HttpsClient), StoreError> {
    let https = https_client();
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https.clone());
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
    Ok((Client::from_conf(dynamo), https))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_roots_are_five_trust_anchors() {
        assert_eq!(root_certificates(false).len(), 5);
    }

    /// A refused connection is an I/O failure, which the SDK retries.
    #[tokio::test]
    async fn a_refused_connection_is_an_io_failure() {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests())
            .endpoint_url("https://127.0.0.1:1")
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .http_client(https_client())
            .build();
        let error = Client::from_conf(config)
            .list_tables()
            .send()
            .await
            .expect_err("nothing listens on port 1");
        match error {
            aws_sdk_dynamodb::error::SdkError::DispatchFailure(failure) => {
                assert!(failure.is_io(), "{failure:?}")
            }
            other => panic!("not a dispatch failure: {other:?}"),
        }
    }
}
