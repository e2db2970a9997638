//! The DynamoDB client as a function builds it.

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeDeserializationInterceptorContextRef,
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef,
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
    Ok((from_env_with(https.clone()).await?, https))
}

/// [`from_env`] on a given HTTPS client.
pub(crate) async fn from_env_with(https: HttpsClient) -> Result<Client, StoreError> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https);
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

/// Where the client will send its requests, as far as `var` (the
/// environment) tells on its own: `AWS_ENDPOINT_URL_DYNAMODB`, else
/// `AWS_ENDPOINT_URL`, else the regional endpoint of the `aws` partition
/// (`https://dynamodb.{region}.amazonaws.com`). `None` where the SDK's rules
/// would need more than this: FIPS or dual-stack endpoints, an account-based
/// endpoint, another partition, or no region. A prediction lets the warm-up
/// open the connection while the client is still being built; the SDK's own
/// endpoint then confirms it (a wrong one costs a connection, nothing else).
pub(crate) fn predicted_endpoint(var: impl Fn(&str) -> Option<String>) -> Option<http::Uri> {
    let set = |name: &str| {
        var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let yes = |name: &str| set(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !yes("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
        if let Some(url) = set("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| set("AWS_ENDPOINT_URL")) {
            return url.parse().ok();
        }
    }
    if yes("AWS_USE_FIPS_ENDPOINT")
        || yes("AWS_USE_DUALSTACK_ENDPOINT")
        || set("AWS_ACCOUNT_ID").is_some()
    {
        return None;
    }
    let region = set("AWS_REGION").or_else(|| set("AWS_DEFAULT_REGION"))?;
    // The aws partition's regions: two letters, a direction, a number
    // (eu-west-1, ap-southeast-7); cn-, us-gov- and the isolated ones differ.
    let parts: Vec<&str> = region.split('-').collect();
    let aws_partition = matches!(parts.as_slice(), [area, direction, number]
        if area.len() == 2
            && *area != "cn"
            && area.bytes().all(|b| b.is_ascii_lowercase())
            && direction.bytes().all(|b| b.is_ascii_lowercase())
            && !direction.is_empty()
            && !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit()));
    aws_partition
        .then(|| {
            format!("https://dynamodb.{region}.amazonaws.com")
                .parse()
                .ok()
        })
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn predicted(vars: &[(&str, &str)]) -> Option<String> {
        let vars: std::collections::HashMap<&str, &str> = vars.iter().copied().collect();
        predicted_endpoint(|name| vars.get(name).map(|v| v.to_string())).map(|u| u.to_string())
    }

    #[test]
    fn the_endpoint_is_predicted_where_the_environment_alone_decides_it() {
        let regional = Some("https://dynamodb.eu-west-1.amazonaws.com/".to_string());
        assert_eq!(predicted(&[("AWS_REGION", "eu-west-1")]), regional);
        assert_eq!(predicted(&[("AWS_DEFAULT_REGION", "eu-west-1")]), regional);
        let local = Some("https://localhost:8443/".to_string());
        for variable in ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"] {
            assert_eq!(
                predicted(&[
                    ("AWS_REGION", "eu-west-1"),
                    (variable, "https://localhost:8443")
                ]),
                local
            );
        }
        assert_eq!(
            predicted(&[
                ("AWS_ENDPOINT_URL", "https://elsewhere:1"),
                ("AWS_ENDPOINT_URL_DYNAMODB", "https://localhost:8443"),
            ]),
            local,
            "the service's own variable comes first"
        );
        assert_eq!(
            predicted(&[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_ENDPOINT_URL_DYNAMODB", "https://localhost:8443"),
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
            ]),
            regional
        );
        // Where the SDK's rules need more than the environment: no guess.
        for unpredicted in [
            vec![],
            vec![("AWS_REGION", "cn-north-1")],
            vec![("AWS_REGION", "us-gov-west-1")],
            vec![("AWS_REGION", "us-iso-east-1")],
            vec![
                ("AWS_REGION", "eu-west-1"),
                ("AWS_USE_FIPS_ENDPOINT", "true"),
            ],
            vec![
                ("AWS_REGION", "eu-west-1"),
                ("AWS_USE_DUALSTACK_ENDPOINT", "true"),
            ],
            vec![
                ("AWS_REGION", "eu-west-1"),
                ("AWS_ACCOUNT_ID", "123456789012"),
            ],
        ] {
            assert_eq!(predicted(&unpredicted), None, "{unpredicted:?}");
        }
    }

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
