//! `Idempotency-Key` on the state-changing POSTs, through the very handlers
//! the functions run, on the in-process store and on DynamoDB (when
//! `DYNAMODB_TEST_ENDPOINT` names one, as the test command's moto_server):
//! a repeat answers the first call's answer and writes nothing, another
//! request under the same key is refused, concurrent calls with one key do
//! the work once and all answer alike, and without the header nothing
//! changes.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use shared::auth::Authenticator;
use shared::http::ApiResponse;
use shared::seed::{SeedFile, DEMO_SEED};
use shared::state::{AppState, LOCAL_HS256_SECRET};
use shared::store::item::{Read, Record};
use shared::store::{keys, DynamoStore, Store};

const ACME: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
const EVE: &str = "2c9180835d191a86015d28455b4a0003";
/// Wiki Reader: no approval step, so a submission completes at once (the
/// case a blind retry would duplicate).
const WIKI: &str = "2c9180835d2e5168015d32f890ca1582";

/// Every store under test, fresh and seeded.
async fn states() -> Vec<(&'static str, AppState)> {
    let mut stores = vec![("memory", Store::memory())];
    match std::env::var("DYNAMODB_TEST_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => {
            let client = shared::store::testing::local_client(&endpoint, None).await;
            let table = format!("idempotency-{}", uuid_like());
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

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// A fixture's event with an `Idempotency-Key` (when given) and, when
/// given, another body.
fn event(
    function: &str,
    case: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> lambda_http::Request {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(function)
        .join(format!("{case}.json"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    if let Some(key) = key {
        event["headers"]["Idempotency-Key"] = Value::from(key);
        event["multiValueHeaders"]["Idempotency-Key"] = Value::from(vec![key]);
    }
    if let Some(body) = body {
        event["body"] = Value::from(body.to_string());
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

async fn call(state: &AppState, function: &str, req: lambda_http::Request) -> ApiResponse {
    local_api::call(function, state, req).await.unwrap()
}

fn json(r: &ApiResponse) -> Value {
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

/// Eve's requests for the Wiki Reader, by the status endpoint's view.
async fn wiki_requests(state: &AppState) -> usize {
    let query = shared::domain::access_requests::status::parse_query(
        &[("requested-for".to_string(), vec![EVE.to_string()])]
            .into_iter()
            .collect(),
    )
    .unwrap();
    let admin = shared::auth::Principal {
        tenant_id: ACME.into(),
        identity_id: Some("2c9180835d191a86015d28455b4a0001".into()),
        user_name: None,
        client_id: None,
        authorities: vec!["ORG_ADMIN".into()],
        scopes: None,
    };
    shared::domain::access_requests::status::list(&state.store, &admin, &query)
        .await
        .unwrap()
        .items
        .iter()
        .filter(|i| i.id == WIKI)
        .count()
}

const SUBMIT: &str = "create-access-request";
const WIKI_CASE: &str = "grant-self-without-approval";

#[tokio::test]
async fn a_repeated_submission_answers_the_first_answer_and_writes_nothing() {
    for (name, state) in states().await {
        let first = call(
            &state,
            SUBMIT,
            event(SUBMIT, WIKI_CASE, Some("submit-1"), None),
        )
        .await;
        assert_eq!(first.status, 202, "{name}: {}", first.body);
        assert_eq!(first.header("Idempotent-Replayed"), None, "{name}");
        for _ in 0..3 {
            let again = call(
                &state,
                SUBMIT,
                event(SUBMIT, WIKI_CASE, Some("submit-1"), None),
            )
            .await;
            assert_eq!(again.status, 202, "{name}");
            assert_eq!(json(&again), json(&first), "{name}: the first answer");
            assert_eq!(again.header("Idempotent-Replayed"), Some("true"), "{name}");
        }
        assert_eq!(wiki_requests(&state).await, 1, "{name}: written once");

        // Without the key a retry is a new submission (the item completes
        // at once, so nothing deduplicates it): what the key is for.
        let unkeyed = call(&state, SUBMIT, event(SUBMIT, WIKI_CASE, None, None)).await;
        assert_eq!(unkeyed.status, 202, "{name}");
        assert_ne!(json(&unkeyed), json(&first), "{name}");
        assert_eq!(wiki_requests(&state).await, 2, "{name}");

        // The answer is kept 24 hours, in the TTL attribute.
        let record = state
            .store
            .backend()
            .get(&[Read::consistent(keys::idempotency(ACME, EVE, "submit-1"))])
            .await
            .unwrap()
            .pop()
            .expect("the record is stored");
        let left = record.expires_at.unwrap() - chrono::Utc::now().timestamp();
        assert!((86_300..=86_400).contains(&left), "{name}: {left}");
        let Record::Idempotency(r) = record.record else {
            panic!("{name}: {:?}", record.record)
        };
        assert_eq!(
            (r.status, serde_json::from_str::<Value>(&r.body).unwrap()),
            (202, json(&first))
        );
    }
}

#[tokio::test]
async fn the_same_key_with_another_request_is_refused() {
    for (name, state) in states().await {
        let first = call(&state, SUBMIT, event(SUBMIT, WIKI_CASE, Some("k"), None)).await;
        assert_eq!(first.status, 202, "{name}");
        let other: Value = serde_json::json!({
            "requestedFor": [EVE],
            "requestedItems": [{"type": "ACCESS_PROFILE", "id": WIKI, "comment": "changed"}]
        });
        let refused = call(
            &state,
            SUBMIT,
            event(SUBMIT, WIKI_CASE, Some("k"), Some(&other)),
        )
        .await;
        assert_eq!(refused.status, 400, "{name}: {}", refused.body);
        let causes = json(&refused)["causes"].to_string();
        assert!(
            causes.contains("Idempotency-Key was already used"),
            "{name}: {causes}"
        );
        assert_eq!(
            wiki_requests(&state).await,
            1,
            "{name}: nothing more written"
        );

        // Keys are the caller's own: another identity's same key is free.
        let manager = call(
            &state,
            SUBMIT,
            event(SUBMIT, "grant-manager-for-reports", Some("k"), None),
        )
        .await;
        assert_eq!(manager.status, 202, "{name}: {}", manager.body);
        assert_eq!(manager.header("Idempotent-Replayed"), None, "{name}");

        // A malformed key is a 400 that changes nothing.
        let bad = call(
            &state,
            SUBMIT,
            event(SUBMIT, WIKI_CASE, Some(&"x".repeat(256)), None),
        )
        .await;
        assert_eq!(bad.status, 400, "{name}");
        assert!(
            json(&bad)["causes"].to_string().contains("Idempotency-Key"),
            "{name}"
        );
        assert_eq!(wiki_requests(&state).await, 1, "{name}");
    }
}

#[tokio::test]
async fn a_repeated_cancel_answers_202_again() {
    const CANCEL: &str = "cancel-access-request";
    for (name, state) in states().await {
        let first = call(
            &state,
            CANCEL,
            event(CANCEL, "cancel-own-pending", Some("c-1"), None),
        )
        .await;
        assert_eq!(first.status, 202, "{name}: {}", first.body);
        let again = call(
            &state,
            CANCEL,
            event(CANCEL, "cancel-own-pending", Some("c-1"), None),
        )
        .await;
        assert_eq!(
            (again.status, json(&again)),
            (202, serde_json::json!({})),
            "{name}"
        );
        // Without the key the repeat meets the cancelled request.
        let unkeyed = call(
            &state,
            CANCEL,
            event(CANCEL, "cancel-own-pending", None, None),
        )
        .await;
        assert_eq!(unkeyed.status, 400, "{name}");
        assert!(
            unkeyed.body.contains("CANCELLED"),
            "{name}: {}",
            unkeyed.body
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_with_one_key_do_the_work_once_and_answer_alike() {
    for (name, state) in states().await {
        let state = Arc::new(state);
        let barrier = Arc::new(tokio::sync::Barrier::new(8));
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let state = state.clone();
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    let req = event(SUBMIT, WIKI_CASE, Some("race"), None);
                    barrier.wait().await;
                    call(&state, SUBMIT, req).await
                })
            })
            .collect();
        let mut answers = Vec::new();
        for c in calls {
            answers.push(c.await.unwrap());
        }
        for a in &answers {
            assert_eq!(a.status, 202, "{name}: {}", a.body);
            assert_eq!(json(a), json(&answers[0]), "{name}: one answer for all");
        }
        assert_eq!(
            wiki_requests(&state).await,
            1,
            "{name}: the work was done once"
        );
    }
}

#[tokio::test]
async fn reads_ignore_the_header() {
    const STATUS: &str = "list-access-request-status";
    for (name, state) in states().await {
        for _ in 0..2 {
            let r = call(
                &state,
                STATUS,
                event(STATUS, "requested-for-me", Some("r"), None),
            )
            .await;
            assert_eq!(r.status, 200, "{name}");
            assert_eq!(r.header("Idempotent-Replayed"), None, "{name}");
        }
    }
}

#[tokio::test]
async fn a_repeated_non_employee_create_and_decision_answer_the_first_answer() {
    const CREATE: &str = "create-non-employee-request";
    const APPROVE: &str = "approve-non-employee-request";
    for (name, state) in states().await {
        let first = call(
            &state,
            CREATE,
            event(CREATE, "sponsor-creates", Some("ne-1"), None),
        )
        .await;
        assert_eq!(first.status, 200, "{name}: {}", first.body);
        // Without the key the repeat would meet the taken account name.
        let again = call(
            &state,
            CREATE,
            event(CREATE, "sponsor-creates", Some("ne-1"), None),
        )
        .await;
        assert_eq!((again.status, json(&again)), (200, json(&first)), "{name}");
        assert_eq!(again.header("Idempotent-Replayed"), Some("true"), "{name}");
        let unkeyed = call(&state, CREATE, event(CREATE, "sponsor-creates", None, None)).await;
        assert_eq!(unkeyed.status, 400, "{name}: {}", unkeyed.body);
        assert_eq!(
            json(&unkeyed)["detailCode"],
            "400.1.409 Reference conflict",
            "{name}"
        );

        let decided = call(
            &state,
            APPROVE,
            event(APPROVE, "approver-approves", Some("a-1"), None),
        )
        .await;
        assert_eq!(decided.status, 200, "{name}: {}", decided.body);
        let again = call(
            &state,
            APPROVE,
            event(APPROVE, "approver-approves", Some("a-1"), None),
        )
        .await;
        assert_eq!(
            (again.status, json(&again)),
            (200, json(&decided)),
            "{name}"
        );
        let unkeyed = call(
            &state,
            APPROVE,
            event(APPROVE, "approver-approves", None, None),
        )
        .await;
        assert_eq!(unkeyed.status, 400, "{name}: an item decided once");
    }
}

#[tokio::test]
async fn a_repeated_approval_decision_answers_202_again() {
    const APPROVE: &str = "approve-access-request";
    for (name, state) in states().await {
        let first = call(
            &state,
            APPROVE,
            event(APPROVE, "manager-approves", Some("d-1"), None),
        )
        .await;
        assert_eq!(first.status, 202, "{name}: {}", first.body);
        let again = call(
            &state,
            APPROVE,
            event(APPROVE, "manager-approves", Some("d-1"), None),
        )
        .await;
        assert_eq!(
            (again.status, json(&again)),
            (202, serde_json::json!({})),
            "{name}"
        );
        assert_eq!(again.header("Idempotent-Replayed"), Some("true"), "{name}");
        // Without the key the repeat meets the decided step.
        let unkeyed = call(
            &state,
            APPROVE,
            event(APPROVE, "manager-approves", None, None),
        )
        .await;
        assert_eq!(unkeyed.status, 400, "{name}: {}", unkeyed.body);
    }
}
