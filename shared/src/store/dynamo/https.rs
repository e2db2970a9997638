//! The HTTPS client of every DynamoDB (and STS) call: hyper's pooling
//! client with rustls on the `ring` provider, as the SDK's own client is
//! built, plus the one thing that client cannot do: open a connection
//! before the first request ([`HttpsClient::open_connection`]).
//!
//! A Lambda function opens its DynamoDB connection during init, where it
//! runs on a full core, rather than in its first request, where it runs on
//! a share of one in proportion to memory (7% at 128 MB). The SDK's client
//! pools a connection only after a request has used it, so opening one there
//! costs a whole store round trip in init; this client hands the connection
//! opened ahead to the first request that needs one, and costs only the
//! handshake.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connection::{CaptureSmithyConnection, ConnectionMetadata};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use http::Uri;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::{capture_connection, CaptureConnection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tower_service::Service;

type TcpConnector = hyper_util::client::legacy::connect::HttpConnector;
type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;

/// How long a connection opened ahead waits for a request. Lambda invokes a
/// function right after its init, so this is rarely reached; an older one
/// (provisioned concurrency initialises long before the first request) may
/// have been closed by the server, and a request opens a fresh one instead.
const OPENED_CONNECTION_LIFETIME: Duration = Duration::from_secs(30);

/// A connection opened before any request asked for it.
struct Opened {
    origin: Origin,
    at: Instant,
    stream: Stream,
}

/// Scheme and authority: which requests a connection can serve.
#[derive(PartialEq, Eq, Debug)]
struct Origin(Option<http::uri::Scheme>, Option<http::uri::Authority>);

impl Origin {
    fn of(uri: &Uri) -> Self {
        Self(uri.scheme().cloned(), uri.authority().cloned())
    }
}

type OpenedSlot = Arc<Mutex<Option<Opened>>>;

/// A pool's connect and read timeouts.
type Timeouts = (Option<Duration>, Option<Duration>);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// DynamoDB's client: see the module documentation. Cheap to clone; clones
/// share their pools and the connection opened ahead.
#[derive(Clone)]
pub struct HttpsClient {
    tls: HttpsConnector<TcpConnector>,
    opened: OpenedSlot,
    /// One pooling client per connect/read timeout pair, as the SDK keeps
    /// them.
    pools: Arc<Mutex<HashMap<Timeouts, SharedHttpConnector>>>,
}

impl fmt::Debug for HttpsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpsClient")
            .field("connection_opened_ahead", &lock(&self.opened).is_some())
            .finish()
    }
}

impl HttpsClient {
    /// A client trusting `roots`, speaking HTTP/1.1 (DynamoDB's protocol)
    /// over TLS, or in the clear to an `http://` endpoint (a local server).
    pub fn new(roots: rustls::RootCertStore) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls_config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut tcp = TcpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Self {
            tls,
            opened: Arc::default(),
            pools: Arc::default(),
        }
    }

    /// Opens a connection to `endpoint`'s origin (TCP, and TLS for
    /// `https`), within `timeout`, for the next request there to use
    /// instead of opening its own.
    pub async fn open_connection(
        &self,
        endpoint: &Uri,
        timeout: Option<Duration>,
    ) -> Result<(), BoxError> {
        let mut connector = Connector {
            tls: self.tls.clone(),
            opened: Arc::default(),
            timeout,
        };
        std::future::poll_fn(|cx| connector.poll_ready(cx)).await?;
        let stream = connector.call(endpoint.clone()).await?;
        *lock(&self.opened) = Some(Opened {
            origin: Origin::of(endpoint),
            at: Instant::now(),
            stream,
        });
        Ok(())
    }
}

impl HttpClient for HttpsClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key: Timeouts = (settings.connect_timeout(), settings.read_timeout());
        lock(&self.pools)
            .entry(key)
            .or_insert_with(|| {
                let connector = Connector {
                    tls: self.tls.clone(),
                    opened: self.opened.clone(),
                    timeout: key.0,
                };
                let mut builder = Client::builder(TokioExecutor::new());
                // The pool's idle timeout needs a timer.
                builder.pool_timer(TokioTimer::new());
                SharedHttpConnector::new(Pool {
                    client: builder.build(connector),
                    read_timeout: key.1,
                })
            })
            .clone()
    }
}

/// Opens connections: the one opened ahead when it serves the request's
/// origin, otherwise a new one within the connect timeout.
#[derive(Clone)]
struct Connector {
    tls: HttpsConnector<TcpConnector>,
    opened: OpenedSlot,
    timeout: Option<Duration>,
}

impl Connector {
    fn take_opened(&self, uri: &Uri) -> Option<Stream> {
        let mut slot = lock(&self.opened);
        let opened = slot.take()?;
        if opened.origin != Origin::of(uri) {
            // Kept for a request to its own origin.
            *slot = Some(opened);
            return None;
        }
        (opened.at.elapsed() < OPENED_CONNECTION_LIFETIME).then_some(opened.stream)
    }
}

impl Service<Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.tls.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        if let Some(stream) = self.take_opened(&uri) {
            tracing::debug!(%uri, "using the connection opened ahead");
            return Box::pin(std::future::ready(Ok(stream)));
        }
        let connecting = self.tls.call(uri);
        let timeout = self.timeout;
        Box::pin(async move {
            match timeout {
                Some(limit) => tokio::time::timeout(limit, connecting)
                    .await
                    .map_err(|_| -> BoxError { Box::new(TimedOut("connect", limit)) })?,
                None => connecting.await,
            }
        })
    }
}

/// A connect or read timeout that ran out.
#[derive(Debug, thiserror::Error)]
#[error("{0} timed out after {1:?}")]
struct TimedOut(&'static str, Duration);

/// One pooling hyper client, as the SDK calls it.
struct Pool {
    client: Client<Connector, SdkBody>,
    read_timeout: Option<Duration>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("read_timeout", &self.read_timeout)
            .finish()
    }
}

impl HttpConnector for Pool {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let mut request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        // Lets the SDK poison the connection after a transient failure, so
        // that its retry does not reuse it.
        let connection = capture_connection(&mut request);
        if let Some(smithy) = request.extensions().get::<CaptureSmithyConnection>() {
            smithy.set_connection_retriever(move || connection_metadata(&connection));
        }
        let responding = self.client.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let response = match read_timeout {
                Some(limit) => tokio::time::timeout(limit, responding)
                    .await
                    .map_err(|_| ConnectorError::timeout(Box::new(TimedOut("read", limit))))?,
                None => responding.await,
            }
            .map_err(connector_error)?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

fn connection_metadata(connection: &CaptureConnection) -> Option<ConnectionMetadata> {
    let proxied = connection.connection_metadata().as_ref()?.is_proxied();
    let connection = connection.clone();
    Some(
        ConnectionMetadata::builder()
            .proxied(proxied)
            .poison_fn(move || {
                if let Some(connected) = connection.connection_metadata().as_ref() {
                    connected.poison();
                }
            })
            .build(),
    )
}

/// What the SDK's retry strategy needs to know about a failure: timeouts
/// and I/O failures are retried as transient, a message cut short too.
fn connector_error(error: hyper_util::client::legacy::Error) -> ConnectorError {
    let is_connect = error.is_connect();
    let error: BoxError = Box::new(error);
    if find::<TimedOut>(error.as_ref()).is_some() {
        return ConnectorError::timeout(error);
    }
    if let Some(hyper_error) = find::<hyper::Error>(error.as_ref()) {
        if hyper_error.is_timeout() {
            return ConnectorError::timeout(error);
        }
        if hyper_error.is_user() {
            return ConnectorError::user(error);
        }
        if hyper_error.is_closed()
            || hyper_error.is_canceled()
            || find::<std::io::Error>(hyper_error).is_some()
        {
            return ConnectorError::io(error);
        }
        if hyper_error.is_incomplete_message() {
            return ConnectorError::other(error, Some(ErrorKind::TransientError));
        }
    }
    if is_connect || find::<std::io::Error>(error.as_ref()).is_some() {
        return ConnectorError::io(error);
    }
    ConnectorError::other(error, None)
}

/// The first error of type `E` in `error`'s chain. After an `io::Error` the
/// next link is its payload (`io::Error::source` would skip it).
fn find<'a, E: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<E>() {
            return Some(found);
        }
        next = match error.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => error.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_and_authority() {
        let a = Origin::of(&"https://dynamodb.us-east-1.amazonaws.com/".parse().unwrap());
        let b = Origin::of(&"https://dynamodb.us-east-1.amazonaws.com".parse().unwrap());
        let c = Origin::of(&"http://dynamodb.us-east-1.amazonaws.com/".parse().unwrap());
        let d = Origin::of(
            &"https://dynamodb.us-east-1.amazonaws.com:8443/"
                .parse()
                .unwrap(),
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn timeouts_are_found_through_io_errors() {
        let timed_out = TimedOut("connect", Duration::from_secs(1));
        let io = std::io::Error::other(timed_out);
        assert!(find::<TimedOut>(&io).is_some());
        assert!(find::<hyper::Error>(&io).is_none());
    }
}
