//! Each function's DynamoDB grant (`dynamodb_actions` and `dynamodb_indexes`
//! in `routes.toml`, which `scripts/check_template.py` holds the template's
//! IAM policies to) is exactly what its code calls on DynamoDB.
//!
//! Every event fixture of a function (`events/<function>/`) goes through its
//! handler on a DynamoDB table loaded with the demo seed, once as it is and,
//! for a POST, once more with an `Idempotency-Key` (each pass on a fresh
//! table), while the client notes the IAM action every call needs: the
//! operation's own (`GetItem`, `Query`, ...), except for a
//! `TransactWriteItems`, which IAM authorizes item by item (`PutItem`,
//! `DeleteItem`, `UpdateItem`, `ConditionCheckItem`), and the index a
//! Query reads. An action called but not granted fails (AccessDenied on
//! AWS); one granted but never called fails too (a grant wider than the
//! code needs).
//!
//! Needs DynamoDB: `DYNAMODB_TEST_ENDPOINT` (the test command's moto_server,
//! `scripts/with-moto.sh`); without it the test passes vacuously unless
//! `REQUIRE_DYNAMODB=1`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::Client;
use serde_json::Value;
use shared::auth::Authenticator;
use shared::seed::{SeedFile, DEMO_SEED};
use shared::state::{AppState, LOCAL_HS256_SECRET};
use shared::store::{DynamoStore, Store};

/// What a client's calls needed: IAM actions (without the `dynamodb:`
/// prefix) and the indexes queried.
#[derive(Clone, Default, Debug)]
struct Needed {
    actions: Arc<Mutex<BTreeSet<String>>>,
    indexes: Arc<Mutex<BTreeSet<String>>>,
}

impl Needed {
    fn action(&self, action: &str) {
        self.actions.lock().unwrap().insert(action.to_string());
    }

    fn actions(&self) -> BTreeSet<String> {
        self.actions.lock().unwrap().clone()
    }

    fn indexes(&self) -> BTreeSet<String> {
        self.indexes.lock().unwrap().clone()
    }
}

impl Intercept for Needed {
    fn name(&self) -> &'static str {
        "NeededActions"
    }

    /// Reads each request as DynamoDB receives it: the operation from
    /// `X-Amz-Target`, the transaction's items and the queried index from
    /// the JSON body. Retries send the same request: a set keeps it once.
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("a request without X-Amz-Target")
            .to_string();
        let body: Value = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        match operation.as_str() {
            // IAM has no TransactWriteItems action: it checks each item's.
            "TransactWriteItems" => {
                for item in body["TransactItems"].as_array().into_iter().flatten() {
                    for (kind, action) in [
                        ("Put", "PutItem"),
                        ("Delete", "DeleteItem"),
                        ("Update", "UpdateItem"),
                        ("ConditionCheck", "ConditionCheckItem"),
                    ] {
                        if item.get(kind).is_some() {
                            self.action(action);
                        }
                    }
                }
            }
            "TransactGetItems" => self.action("GetItem"),
            _ => {
                if let Some(index) = body["IndexName"].as_str() {
                    self.indexes.lock().unwrap().insert(index.to_string());
                }
                self.action(&operation);
            }
        }
        Ok(())
    }
}

fn events_dir(function: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(function)
}

/// The function's fixture events, by case name, in name order.
fn fixtures(function: &str) -> Vec<(String, Value)> {
    let dir = events_dir(function);
    let mut cases: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable entry").path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_string();
            let case = name.strip_suffix(".json")?;
            if case.ends_with(".expected") {
                return None;
            }
            let text = std::fs::read_to_string(&path).expect("a readable fixture");
            Some((case.to_string(), serde_json::from_str(&text).expect("JSON")))
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    cases
}

/// The event with an `Idempotency-Key` header (in both header maps of a
/// REST event, in the one map of an HTTP API event).
fn with_idempotency_key(mut event: Value, key: &str) -> Value {
    event["headers"]["Idempotency-Key"] = Value::from(key);
    if event.get("multiValueHeaders").is_some_and(Value::is_object) {
        event["multiValueHeaders"]["Idempotency-Key"] = Value::from(vec![key]);
    }
    event
}

fn unique_suffix() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn client(endpoint: &str, needed: Option<Needed>) -> Client {
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .http_client(shared::store::dynamo::https_client())
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "local",
        ));
    if let Some(needed) = needed {
        config = config.interceptor(needed);
    }
    Client::from_conf(config.build())
}

/// A fresh table loaded with the demo seed (by a client that notes nothing:
/// loading is the local server's work, not a function's), and the state a
/// function serves it with through a client that notes what it needs.
async fn fresh_state(endpoint: &str, name: &str, needed: &Needed) -> AppState {
    let table = format!("iam-{name}-{}", unique_suffix());
    let loader = client(endpoint, None);
    shared::store::dynamo::create_table(&loader, &table)
        .await
        .expect("the table is created");
    SeedFile::from_json(DEMO_SEED)
        .expect("the demo seed parses")
        .load_into(&Store::new(Arc::new(DynamoStore::new(loader, &table))))
        .await
        .expect("the demo seed loads");
    let store = DynamoStore::new(client(endpoint, Some(needed.clone())), table);
    AppState::new(
        Store::new(Arc::new(store)),
        Arc::new(Authenticator::hs256(LOCAL_HS256_SECRET)),
    )
}

/// Every fixture of `function` through its handler on `state`; with `key`,
/// each carries an `Idempotency-Key` made from it and the case's name.
/// Returns how many answered 2xx, to show the passes reach the writes.
async fn replay_all(state: &AppState, function: &str, key: Option<&str>) -> usize {
    let mut succeeded = 0;
    for (case, event) in fixtures(function) {
        let event = match key {
            Some(key) => with_idempotency_key(event, &format!("{key}-{case}")),
            None => event,
        };
        let request = lambda_http::request::from_str(&event.to_string())
            .unwrap_or_else(|e| panic!("events/{function}/{case}.json: {e}"));
        let response = local_api::call(function, state, request)
            .await
            .expect("every routed function has a handler");
        assert!(
            response.status < 500,
            "events/{function}/{case}.json answered {} on DynamoDB: {}",
            response.status,
            response.body
        );
        if (200..300).contains(&response.status) {
            succeeded += 1;
        }
    }
    succeeded
}

fn listed(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "nothing".to_string()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_is_granted_exactly_the_dynamodb_actions_it_calls() {
    let endpoint = match std::env::var("DYNAMODB_TEST_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => {
            assert!(
                std::env::var("REQUIRE_DYNAMODB").as_deref() != Ok("1"),
                "REQUIRE_DYNAMODB=1 but DYNAMODB_TEST_ENDPOINT is not set"
            );
            eprintln!("DYNAMODB_TEST_ENDPOINT is not set: nothing to check");
            return;
        }
    };
    let mut problems = Vec::new();
    let mut derived = BTreeMap::new();
    for route in local_api::routes() {
        let function = route.function;
        let needed = Needed::default();
        let plain = fresh_state(&endpoint, function, &needed).await;
        let mut succeeded = replay_all(&plain, function, None).await;
        if route.method == "POST" {
            let keyed = fresh_state(&endpoint, function, &needed).await;
            succeeded += replay_all(&keyed, function, Some("iam")).await;
        }
        assert!(
            succeeded > 0,
            "{function}: no fixture succeeded, so its writes went unexercised"
        );

        let (actions, indexes) = (needed.actions(), needed.indexes());
        let granted: BTreeSet<String> = route
            .dynamodb_actions
            .iter()
            .map(|s| s.to_string())
            .collect();
        let granted_indexes: BTreeSet<String> = route
            .dynamodb_indexes
            .iter()
            .map(|s| s.to_string())
            .collect();
        for missing in actions.difference(&granted) {
            problems.push(format!(
                "{function} calls dynamodb:{missing}, which routes.toml does not grant it \
                 (add it to dynamodb_actions; AWS would answer AccessDenied)"
            ));
        }
        for unused in granted.difference(&actions) {
            problems.push(format!(
                "routes.toml grants {function} dynamodb:{unused}, which no fixture made it call \
                 (remove it, or add the fixture that needs it)"
            ));
        }
        if indexes != granted_indexes {
            problems.push(format!(
                "{function} queries the indexes {{{}}}; routes.toml grants {{{}}}",
                listed(&indexes),
                listed(&granted_indexes)
            ));
        }
        derived.insert(function, (actions, indexes));
    }
    if !problems.is_empty() {
        let table: Vec<String> = derived
            .iter()
            .map(|(f, (a, i))| format!("  {f}: actions {}; indexes {}", listed(a), listed(i)))
            .collect();
        panic!(
            "{}\n\nWhat each function called:\n{}",
            problems.join("\n"),
            table.join("\n")
        );
    }
}
