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
        let auth = authenticator_from_env()?;
        let seed = match std::env::var("SEED_FILE").ok().filter(|s| !s.is_empty()) {
            Some(path) => std::fs::read_to_string(&path)
                .map_err(|e| StartupError(format!("SEED_FILE {path}: {e}")))?,
            None => DEMO_SEED.to_string(),
        };
        Ok(Self::new(store_from_env(&seed).await?, Arc::new(auth)))
    }
}

/// The token verifier the environment configures: the `JWT_*` keys (and
/// issuer and audience checks) when any key is set; otherwise the public
/// [`LOCAL_HS256_SECRET`], but only while no table is configured — with
/// `TABLE_NAME` set and no key, anyone could sign tokens for the table's
/// data, so that is a start-up error.
pub fn authenticator_from_env() -> Result<Authenticator, StartupError> {
    let config = AuthConfig::from_env();
    if has_key(&config) {
        return Authenticator::new(&config).map_err(|e| StartupError(e.to_string()));
    }
    match table_from_env() {
        Some(table) => Err(StartupError(format!(
            "TABLE_NAME is set ({table}) but no JWT key is: set JWT_HS256_SECRET, \
             JWT_PUBLIC_KEY_PEM or JWT_JWKS (the public development secret serves only \
             the in-process store)"
        ))),
        None => Ok(Authenticator::hs256(LOCAL_HS256_SECRET)),
    }
}

/// Whether `config` names a verification key.
pub fn has_key(config: &AuthConfig) -> bool {
    config.hs256_secret.is_some() || config.public_key_pem.is_some() || config.jwks.is_some()
}

pub use crate::store::dynamo::table_from_env;

/// DynamoDB when `TABLE_NAME` is set, otherwise an in-process store loaded
/// with `seed_json`.
///
/// By default the DynamoDB client is built and its connection opened (TCP
/// and the TLS handshake, no request sent) during init, by
/// [`DynamoStore::warm_up`]: Lambda runs init on a full core and
/// invocations on a share of one in proportion to memory (7% at 128 MB), so
/// that work costs the first request more than it costs init (`bench/`).
/// With `DYNAMODB_WARMUP=false` the client is built on the first request
/// instead, when the region comes from the environment (as in Lambda);
/// without one there the client is built at once, so a region from a
/// profile is found and a missing one stops the start.
pub async fn store_from_env(seed_json: &str) -> Result<Store, StartupError> {
    if table_from_env().is_some() {
        table_store_from_env().await
    } else {
        tracing::info!("TABLE_NAME is not set: serving the in-process store with the seed data");
        memory_store(seed_json)
            .await
            .map_err(|e| StartupError(e.to_string()))
    }
}

/// The DynamoDB store of `TABLE_NAME`, its connection opened now unless
/// `DYNAMODB_WARMUP` says otherwise (see [`warm_up_by`]).
pub async fn table_store_from_env() -> Result<Store, StartupError> {
    let warm_up = warm_up_enabled();
    if warm_up || !region_in_env() {
        let store = DynamoStore::from_env()
            .await
            .map_err(|e| StartupError(e.to_string()))?;
        if warm_up {
            store.warm_up().await;
        }
        return Ok(Store::new(Arc::new(store)));
    }
    Ok(Store::new(Arc::new(LazyStore::new(DynamoStore::from_env))))
}

/// An in-process store loaded with a seed.
pub async fn memory_store(seed_json: &str) -> Result<Store, crate::seed::SeedError> {
    let store = Store::memory();
    SeedFile::from_json(seed_json)?.load_into(&store).await?;
    Ok(store)
}

fn warm_up_enabled() -> bool {
    warm_up_by(std::env::var("DYNAMODB_WARMUP").ok().as_deref())
}

/// Whether to build the client and open its connection during init rather
/// than in the first request: `DYNAMODB_WARMUP` set to `false`, `0` or
/// `off` says no; unset or anything else, yes, at every memory size. Since
/// the warm-up opens the connection without sending a request it costs init
/// no store round trip, and it halves the first request's CPU (what the
/// quota throttles at small sizes and on a busy host) at every size, while
/// the median cold totals of the 20 functions stay within 1.6 ms of the
/// lazy client's either way: 21.0 against 20.5 ms at 128 MB, 21.9 against
/// 20.8 at 256, 19.1 against 20.0 at 512, 20.9 against 19.3 at 1024
/// (`bench/results-128-512.md`, `bench/results-256-1024.md`).
pub fn warm_up_by(setting: Option<&str>) -> bool {
    !matches!(setting.map(str::trim), Some("false" | "0" | "off"))
}

/// Whether aws-config will find the region in the environment.
fn region_in_env() -> bool {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::warm_up_by;

    #[test]
    fn the_warm_up_is_on_unless_configured_off() {
        assert!(warm_up_by(None));
        assert!(warm_up_by(Some("")));
        assert!(warm_up_by(Some("true")));
        assert!(warm_up_by(Some("1")));
        assert!(!warm_up_by(Some("false")));
        assert!(!warm_up_by(Some(" false ")));
        assert!(!warm_up_by(Some("0")));
        assert!(!warm_up_by(Some("off")));
    }
}
