//! What a function builds once at start-up and every request shares.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{AuthConfig, Authenticator};
use crate::seed::{SeedFile, DEMO_SEED};
use crate::store::{DynamoStore, LazyStore, Store};

/// The HS256 secret of local runs (the local server, `sam local invoke` and
/// the event fixtures, whose tokens it signs). Never used when a table is
/// configured.
pub const LOCAL_HS256_SECRET: &str = "local-development-secret-not-for-production";

/// The store, the token verifier, and the time budget of a request.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: Arc<Authenticator>,
    /// How long a request's store calls may take where no Lambda deadline
    /// bounds them (the local server); `None`: unbounded.
    pub request_budget: Option<Duration>,
}

/// A start-up failure: the function cannot serve anything.
#[derive(Debug, thiserror::Error)]
#[error("start-up: {0}")]
pub struct StartupError(pub String);

impl AppState {
    pub fn new(store: Store, auth: Arc<Authenticator>) -> Self {
        Self {
            store,
            auth,
            request_budget: None,
        }
    }

    /// Bounds each request's store calls by `budget` where Lambda gives no
    /// deadline.
    pub fn with_request_budget(mut self, budget: Duration) -> Self {
        self.request_budget = Some(budget);
        self
    }

    /// What a function serves with nothing configured: a fresh in-process
    /// store loaded with `seed_json`, tokens signed with the local secret.
    pub async fn local(seed_json: &str) -> Result<Self, crate::seed::SeedError> {
        Ok(Self::new(
            memory_store(seed_json).await?,
            Arc::new(Authenticator::hs256(LOCAL_HS256_SECRET)),
        ))
    }

    /// As the SAM template configures a function: DynamoDB when `TABLE_NAME`
    /// is set (keys from `JWT_*`, required), otherwise the in-process store
    /// loaded from `SEED_FILE` or the demo seed, with the local secret unless
    /// a key is configured.
    pub async fn from_env() -> Result<Self, StartupError> {
        let config = AuthConfig::from_env();
        let has_key = config.hs256_secret.is_some()
            || config.public_key_pem.is_some()
            || config.jwks.is_some();
        let auth = if has_key {
            Authenticator::new(&config).map_err(|e| StartupError(e.to_string()))?
        } else if table_from_env().is_some() {
            return Err(StartupError(
                "no JWT key configured: set JWT_HS256_SECRET, JWT_PUBLIC_KEY_PEM or JWT_JWKS"
                    .into(),
            ));
        } else {
            Authenticator::hs256(LOCAL_HS256_SECRET)
        };
        let seed = match std::env::var("SEED_FILE").ok().filter(|s| !s.is_empty()) {
            Some(path) => std::fs::read_to_string(&path)
                .map_err(|e| StartupError(format!("SEED_FILE {path}: {e}")))?,
            None => DEMO_SEED.to_string(),
        };
        Ok(Self::new(store_from_env(&seed).await?, Arc::new(auth)))
    }
}

/// The CA bundle files `openssl-probe` looks for on Linux, in its order.
const CA_BUNDLE_FILES: [&str; 8] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/ssl/cert.pem",
    "/opt/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/certs/cacert.pem",
];

/// Has the AWS SDK read its root certificates from the system's CA bundle
/// file alone. Call it first thing in `main`, before any thread starts (it
/// may set an environment variable).
///
/// The SDK's HTTPS client loads them once, when the config is built (init):
/// `rustls-native-certs` reads `SSL_CERT_FILE` / `SSL_CERT_DIR` when either is
/// set, and otherwise the bundle file `openssl-probe` finds *and* every file
/// of `/etc/ssl/certs` and `/etc/pki/tls/certs`, which on Debian-like systems
/// hold the bundle's CAs again, one file each (on Amazon Linux the bundle and
/// its OpenSSL "trusted" form). The same CAs, read once from the bundle, cost
/// a fraction: ~2.5 ms less init on the benchmark machine (`bench/`). With
/// neither variable set, this sets `SSL_CERT_FILE` to the bundle that would
/// have been read; an operator's own settings are left alone.
pub fn prefer_ca_bundle_file() {
    if std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some() {
        return;
    }
    if let Some(bundle) = CA_BUNDLE_FILES
        .iter()
        .find(|path| std::path::Path::new(path).is_file())
    {
        std::env::set_var("SSL_CERT_FILE", bundle);
    }
}

/// The DynamoDB table the environment names (`TABLE_NAME`), if any.
pub fn table_from_env() -> Option<String> {
    std::env::var("TABLE_NAME")
        .ok()
        .filter(|t| !t.trim().is_empty())
}

/// DynamoDB when `TABLE_NAME` is set, otherwise an in-process store loaded
/// with `seed_json`.
///
/// The DynamoDB client is built on the first request, not during init, when
/// the region comes from the environment (as in Lambda): building it (TLS
/// roots, endpoint rules) is most of a function's start-up, and the first
/// request needs it no sooner. Without a region in the environment the
/// client is built at once, so a region from a profile is found and a
/// missing one stops the start. `DYNAMODB_WARMUP=true` builds it and opens
/// the connection during init instead.
pub async fn store_from_env(seed_json: &str) -> Result<Store, StartupError> {
    if table_from_env().is_some() {
        if warm_up_enabled() || !region_in_env() {
            let store = DynamoStore::from_env()
                .await
                .map_err(|e| StartupError(e.to_string()))?;
            if warm_up_enabled() {
                store.warm_up().await;
            }
            return Ok(Store::new(Arc::new(store)));
        }
        Ok(Store::new(Arc::new(LazyStore::new(DynamoStore::from_env))))
    } else {
        tracing::info!("TABLE_NAME is not set: serving the in-process store with the seed data");
        memory_store(seed_json)
            .await
            .map_err(|e| StartupError(e.to_string()))
    }
}

/// An in-process store loaded with a seed.
pub async fn memory_store(seed_json: &str) -> Result<Store, crate::seed::SeedError> {
    let store = Store::memory();
    SeedFile::from_json(seed_json)?.load_into(&store).await?;
    Ok(store)
}

/// `DYNAMODB_WARMUP` (default off): build the client and open the
/// connection during init (one GetItem) instead of in the first request.
/// Measured with `bench/coldstart.py`, it costs init more than it saves the
/// first request; it may pay where init runs faster than requests do.
fn warm_up_enabled() -> bool {
    matches!(
        std::env::var("DYNAMODB_WARMUP").as_deref(),
        Ok("true") | Ok("1") | Ok("on")
    )
}

/// Whether aws-config will find the region in the environment.
fn region_in_env() -> bool {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}
