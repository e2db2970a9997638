//! Ids of the wrong shape at the edge (SPEC §2), through the very handlers
//! the functions run, on the in-process store and on DynamoDB (when
//! `DYNAMODB_TEST_ENDPOINT` names one): a path parameter, a body reference
//! or a query parameter naming an identity that is too long or holds other
//! characters is a 400 that echoes only a short prefix of it, answered
//! without a single store call (DynamoDB refuses keys over 2048 bytes).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::RequestExt;
use serde_json::{json, Value};
use shared::auth::{claims_for, Authenticator, TokenIssuer};
use shared::http::ApiResponse;
use shared::seed::{SeedFile, DEMO_SEED};
use shared::state::{AppState, LOCAL_HS256_SECRET};
use shared::store::item::{Cursor, Item, ItemStore, Query, QueryPage, Read, Write};
use shared::store::{DynamoStore, MemoryStore, Store, StoreError};

const ACME: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
const ADA: &str = "2c9180835d191a86015d28455b4a0001";

/// A backend that counts the calls made to it.
struct Counted {
    inner: Arc<dyn ItemStore>,
    calls: AtomicUsize,
}

#[async_trait]
impl ItemStore for Counted {
    async fn get(&self, reads: &[Read]) -> Result<Vec<Item>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.get(reads).await
    }
    async fn query_page(
        &self,
        query: &Query,
        after: Option<&Cursor>,
        limit: Option<usize>,
    ) -> Result<QueryPage, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.query_page(query, after, limit).await
    }
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.query(query).await
    }
    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.write(writes).await
    }
    async fn load(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.inner.load(items).await
    }
}

/// Every store under test, seeded, with its call counter.
async fn states() -> Vec<(&'static str, AppState, Arc<Counted>)> {
    let mut backends: Vec<(&'static str, Arc<dyn ItemStore>)> =
        vec![("memory", Arc::new(MemoryStore::new()))];
    match std::env::var("DYNAMODB_TEST_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => {
            let client = shared::store::testing::local_client(&endpoint, None).await;
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let table = format!("limits-{nanos:x}");
            shared::store::dynamo::create_table(&client, &table)
                .await
                .unwrap();
            backends.push(("dynamodb", Arc::new(DynamoStore::new(client, table))));
        }
        _ => assert!(
            std::env::var("REQUIRE_DYNAMODB").as_deref() != Ok("1"),
            "REQUIRE_DYNAMODB=1 but DYNAMODB_TEST_ENDPOINT is not set"
        ),
    }
    let mut states = Vec::new();
    for (name, backend) in backends {
        let counted = Arc::new(Counted {
            inner: backend,
            calls: AtomicUsize::new(0),
        });
        let store = Store::new(counted.clone());
        SeedFile::from_json(DEMO_SEED)
            .unwrap()
            .load_into(&store)
            .await
            .unwrap();
        let state = AppState::new(store, Arc::new(Authenticator::hs256(LOCAL_HS256_SECRET)));
        states.push((name, state, counted));
    }
    states
}

/// A request by Ada (ORG_ADMIN) to `function` at `/v3` + its route with
/// `path` filled in, with a query string and a JSON body.
fn request(
    function: &str,
    path_params: &[(&str, &str)],
    query: &str,
    body: Option<Value>,
) -> lambda_http::Request {
    let route = local_api::route(function).unwrap();
    let mut path = format!("/{}{}", route.versions[0], route.path);
    let mut params = HashMap::new();
    for (name, value) in path_params {
        path = path.replace(&format!("{{{name}}}"), value);
        params.insert(name.to_string(), value.to_string());
    }
    let uri = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    let claims = claims_for(
        ACME,
        Some(ADA),
        Some("ada.admin"),
        None,
        &["ORG_ADMIN"],
        3600,
    );
    let token = TokenIssuer::hs256(LOCAL_HS256_SECRET).issue(&claims);
    let body = match body {
        Some(b) => lambda_http::Body::from(b.to_string()),
        None => lambda_http::Body::Empty,
    };
    lambda_http::http::Request::builder()
        .method(route.method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body)
        .unwrap()
        .with_path_parameters(params)
}

async fn call(state: &AppState, function: &str, req: lambda_http::Request) -> ApiResponse {
    local_api::call(function, state, req).await.unwrap()
}

#[tokio::test]
async fn ids_of_the_wrong_shape_are_a_short_400_without_a_store_call() {
    let long = "x".repeat(60_000);
    let hash = "2c9180835d191a86#015d28455b4a0001";
    let accented = "identité";
    let encoded_long = "y".repeat(3_000);
    let cases: Vec<(&str, lambda_http::Request, &str)> = vec![
        (
            "approve-access-request",
            request(
                "approve-access-request",
                &[("approvalId", &long)],
                "",
                Some(json!({})),
            ),
            "path parameter approvalId",
        ),
        (
            "forward-access-request",
            request(
                "forward-access-request",
                &[("approvalId", hash)],
                "",
                Some(json!({"newOwnerId": ADA, "comment": "x"})),
            ),
            "path parameter approvalId",
        ),
        (
            "get-non-employee-request",
            request("get-non-employee-request", &[("id", &long)], "", None),
            "path parameter id",
        ),
        (
            "get-non-employee-approval-summary",
            request(
                "get-non-employee-approval-summary",
                &[("requestedFor", accented)],
                "",
                None,
            ),
            "path parameter requestedFor",
        ),
        (
            "cancel-access-request",
            request(
                "cancel-access-request",
                &[],
                "",
                Some(json!({"accountActivityId": long, "comment": "stop"})),
            ),
            "accountActivityId",
        ),
        (
            "close-access-request",
            request(
                "close-access-request",
                &[],
                "",
                Some(json!({"accessRequestIds": [hash]})),
            ),
            "accessRequestIds[0]",
        ),
        (
            "forward-access-request",
            request(
                "forward-access-request",
                &[("approvalId", "2c91808e0000000000000000000b0101")],
                "",
                Some(json!({"newOwnerId": "a b", "comment": "to nobody"})),
            ),
            "newOwnerId",
        ),
        (
            "list-access-request-status",
            request(
                "list-access-request-status",
                &[],
                &format!("requested-for={encoded_long}"),
                None,
            ),
            "requested-for",
        ),
        (
            "list-access-request-status",
            request(
                "list-access-request-status",
                &[],
                &format!("filters=accessRequestId%20eq%20%22{encoded_long}%22"),
                None,
            ),
            "filters",
        ),
        (
            "list-pending-approvals",
            request(
                "list-pending-approvals",
                &[],
                &format!("owner-id={encoded_long}"),
                None,
            ),
            "owner-id",
        ),
        (
            "list-non-employee-requests",
            request(
                "list-non-employee-requests",
                &[],
                &format!("requested-for={encoded_long}"),
                None,
            ),
            "requested-for",
        ),
    ];
    let cases: Vec<(String, lambda_http::Request, &str)> = cases
        .into_iter()
        .map(|(f, r, field)| (f.to_string(), r, field))
        .collect();
    for (store, state, counted) in states().await {
        for (function, req, field) in &cases {
            let before = counted.calls.load(Ordering::SeqCst);
            let r = call(&state, function, req.clone()).await;
            let what = format!("{store}: {function} ({field})");
            assert_eq!(r.status, 400, "{what}: {}", r.body);
            assert!(r.body.len() < 1_000, "{what}: a {} byte body", r.body.len());
            let body: Value = serde_json::from_str(&r.body).unwrap();
            let cause = body["causes"][0]["text"].as_str().unwrap_or_default();
            assert!(cause.contains(field), "{what}: {cause}");
            assert_eq!(
                counted.calls.load(Ordering::SeqCst),
                before,
                "{what}: no store call"
            );
        }
        // A well-formed unknown id is still looked up: 404.
        let r = call(
            &state,
            "approve-access-request",
            request(
                "approve-access-request",
                &[("approvalId", "ffffffffffffffffffffffffffffffff")],
                "",
                Some(json!({})),
            ),
        )
        .await;
        assert_eq!(r.status, 404, "{store}: {}", r.body);
    }
}
