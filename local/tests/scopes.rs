//! OAuth scopes at the edge (SPEC §3), through the very handlers the
//! functions run, on the in-process store and on DynamoDB (when
//! `DYNAMODB_TEST_ENDPOINT` names one): a token whose `scope` claim lacks
//! the operation's scope (and `sp:scopes:all`) is a 403 naming the missing
//! scope, and changes nothing; the operation's own scope, `sp:scopes:all`,
//! or no `scope` claim at all, may call it. The fixtures' requests are
//! replayed with the scope claim of their token replaced.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{json, Value};
use shared::auth::{Authenticator, Claims, TokenIssuer};
use shared::http::ApiResponse;
use shared::seed::{SeedFile, DEMO_SEED};
use shared::state::{AppState, LOCAL_HS256_SECRET};
use shared::store::{DynamoStore, Store};

const STATUS_READ: &str = "idn:access-request-status:read";

/// Every store under test, fresh and loaded with the demo seed (the fixtures').
async fn states() -> Vec<(&'static str, AppState)> {
    let mut stores = vec![("memory", Store::memory())];
    match std::env::var("DYNAMODB_TEST_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => {
            let client = shared::store::testing::local_client(&endpoint, None).await;
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let table = format!("scopes-{nanos:x}");
            shared::store::dynamo::create_table(&client, &table)
                .await
                .unwrap();
            stores.push((
                "dynamodb",
                Store::new(Arc::new(DynamoStore::new(client, table))),
            ));
        }
        _ => assert!(
            std::env::var("REQUIRE_DYNAMODB").as_deref() != Ok("1"),
            "REQUIRE_DYNAMODB=1 but DYNAMODB_TEST_ENDPOINT is not set"
        ),
    }
    let mut states = Vec::new();
    for (name, store) in stores {
        SeedFile::from_json(DEMO_SEED)
            .unwrap()
            .load_into(&store)
            .await
            .unwrap();
        states.push((
            name,
            AppState::new(store, Arc::new(Authenticator::hs256(LOCAL_HS256_SECRET))),
        ));
    }
    states
}

/// How the token of a replayed fixture carries its scopes.
#[derive(Clone, Copy, Debug)]
enum Scope<'a> {
    /// No `scope` claim at all.
    Absent,
    /// A JSON list of scopes.
    List(&'a [&'a str]),
    /// One space-separated string, as OAuth token answers write it.
    Spaced(&'a str),
}

/// The event of fixture `function/case`, its token re-signed with `scope`.
fn event(function: &str, case: &str, scope: Scope) -> lambda_http::Request {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(function)
        .join(format!("{case}.json"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let header = event["headers"]["Authorization"]
        .as_str()
        .expect("the fixture carries a token")
        .to_string();
    let payload = header
        .strip_prefix("Bearer ")
        .and_then(|t| t.split('.').nth(1))
        .expect("a bearer JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let mut claims: Claims = serde_json::from_slice(&bytes).unwrap();
    claims.scope = match scope {
        Scope::Absent => None,
        Scope::List(list) => Some(json!(list)),
        Scope::Spaced(s) => Some(json!(s)),
    };
    let token = format!(
        "Bearer {}",
        TokenIssuer::hs256(LOCAL_HS256_SECRET).issue(&claims)
    );
    event["headers"]["Authorization"] = json!(token);
    event["multiValueHeaders"]["Authorization"] = json!([token]);
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

async fn call(state: &AppState, function: &str, case: &str, scope: Scope<'_>) -> ApiResponse {
    local_api::call(function, state, event(function, case, scope))
        .await
        .unwrap()
}

fn json_of(r: &ApiResponse) -> Value {
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

/// Asserts a 403 in the SailPoint envelope whose cause names `scope`.
fn assert_refused_for(r: &ApiResponse, scope: &str, what: &str) {
    assert_eq!(r.status, 403, "{what}: {}", r.body);
    let body = json_of(r);
    assert_eq!(body["detailCode"], "403 Forbidden", "{what}: {body}");
    let cause = body["causes"][0]["text"].as_str().unwrap_or_default();
    assert!(
        cause.contains(&format!("lacks scope {scope}"))
            || cause.contains(&format!("scopes {scope}")),
        "{what}: the cause names {scope}: {body}"
    );
}

#[tokio::test]
async fn a_read_only_token_cannot_submit_cancel_close_or_decide_and_changes_nothing() {
    let read_only = Scope::List(&[STATUS_READ]);
    // (function, fixture, the scope the 403 names, its success status); each
    // on fresh stores, as the fixtures expect.
    for (function, case, missing, success) in [
        (
            "create-access-request",
            "grant-self",
            "idn:access-request:manage",
            202,
        ),
        (
            "cancel-access-request",
            "cancel-own-pending",
            "idn:access-request:manage",
            202,
        ),
        (
            "close-access-request",
            "close-defaults",
            "sp:scopes:all",
            202,
        ),
        (
            "approve-access-request",
            "manager-approves",
            "idn:access-request-approvals:manage",
            202,
        ),
        (
            "reject-access-request",
            "manager-rejects",
            "idn:access-request-approvals:manage",
            202,
        ),
        (
            "forward-access-request",
            "manager-forwards",
            "idn:access-request-approvals:manage",
            202,
        ),
        (
            "approve-non-employee-request",
            "approver-approves",
            "idn:nelm:manage",
            200,
        ),
    ] {
        for (store, state) in states().await {
            let what = format!("{store}: {function}/{case}");
            let refused = call(&state, function, case, read_only).await;
            assert_refused_for(&refused, missing, &what);
            // Nothing was done: the same call with every scope still does
            // its work (a decision taken, a request cancelled or closed,
            // would make it a 400; a submission would be reported as existing).
            let done = call(&state, function, case, Scope::List(&["sp:scopes:all"])).await;
            assert_eq!(
                done.status, success,
                "{what} with sp:scopes:all: {}",
                done.body
            );
            if function == "create-access-request" {
                let answer = json_of(&done);
                assert_eq!(answer["existingRequests"], json!([]), "{what}: {answer}");
            }
            // The read-only scope reads what it names.
            let read = call(
                &state,
                "list-access-request-status",
                "requested-for-me",
                read_only,
            )
            .await;
            assert_eq!(read.status, 200, "{store}: {}", read.body);
        }
    }
}

#[tokio::test]
async fn the_operations_own_scope_or_no_scope_claim_may_call_it() {
    for (store, state) in states().await {
        // Decide with exactly the scope v3's fragment names.
        let approve = call(
            &state,
            "approve-access-request",
            "manager-approves",
            Scope::List(&["idn:access-request-approvals:manage"]),
        )
        .await;
        assert_eq!(approve.status, 202, "{store}: {}", approve.body);
        // Submit with the second of create's two scopes, space-separated.
        let submit = call(
            &state,
            "create-access-request",
            "grant-self",
            Scope::Spaced("idn:nelm:read idn:access-request-self:manage"),
        )
        .await;
        assert_eq!(submit.status, 202, "{store}: {}", submit.body);
        // A token without a scope claim: treated as sp:scopes:all.
        let close = call(
            &state,
            "close-access-request",
            "close-defaults",
            Scope::Absent,
        )
        .await;
        assert_eq!(close.status, 202, "{store}: {}", close.body);
    }
    for (store, state) in states().await {
        let cancel = call(
            &state,
            "cancel-access-request",
            "cancel-own-pending",
            Scope::Absent,
        )
        .await;
        assert_eq!(cancel.status, 202, "{store}: {}", cancel.body);
    }
}

#[tokio::test]
async fn beta_approval_operations_take_the_scope_their_fragment_names_sp_scopes_all() {
    for (store, state) in states().await {
        // beta's reject fragment names no operation scope: only the
        // document's sp:scopes:all may call it, not v3's manage scope.
        let refused = call(
            &state,
            "reject-access-request",
            "group-member-rejects-beta",
            Scope::List(&["idn:access-request-approvals:manage"]),
        )
        .await;
        assert_refused_for(&refused, "sp:scopes:all", store);
        let done = call(
            &state,
            "reject-access-request",
            "group-member-rejects-beta",
            Scope::List(&["sp:scopes:all"]),
        )
        .await;
        assert_eq!(done.status, 202, "{store}: {}", done.body);
    }
}

#[tokio::test]
async fn a_scope_claim_of_another_type_is_an_invalid_token() {
    let state = AppState::new(
        Store::memory(),
        Arc::new(Authenticator::hs256(LOCAL_HS256_SECRET)),
    );
    let mut claims = shared::auth::claims_for(
        "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        Some("2c9180835d191a86015d28455b4a0003"),
        None,
        None,
        &[],
        3600,
    );
    claims.scope = Some(json!({"all": true}));
    let token = TokenIssuer::hs256(LOCAL_HS256_SECRET).issue(&claims);
    let req = lambda_http::http::Request::builder()
        .method("GET")
        .uri("/v3/access-request-status")
        .header("authorization", format!("Bearer {token}"))
        .body(lambda_http::Body::Empty)
        .unwrap();
    let r = local_api::call("list-access-request-status", &state, req)
        .await
        .unwrap();
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.body.contains("JWT claim scope has the wrong format"),
        "{}",
        r.body
    );
}
