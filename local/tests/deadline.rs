//! Every call answers before the function's deadline: store calls are
//! bounded by the time the invocation has left (less a margin to answer),
//! and a call past it answers a clean SailPoint 500 — or 429 with
//! `Retry-After` when the store was throttling — instead of being killed by
//! Lambda (which API Gateway would answer with a 502/504 of its own).
//!
//! The store here is a DynamoDB endpoint on loopback that misbehaves: it
//! accepts connections and never answers, or throttles and then hangs.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_http::{Context, RequestExt};
use serde_json::Value;
use shared::auth::Authenticator;
use shared::state::{AppState, LOCAL_HS256_SECRET};
use shared::store::testing::local_client;
use shared::store::{DynamoStore, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the fake endpoint treats each connection.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Reads forever, answers nothing.
    Hang,
    /// Answers the first request of the run with a throttling error, then
    /// hangs.
    ThrottleThenHang,
    /// Closes the connection of the first request of the run without an
    /// answer (it may have been applied), then throttles every request.
    DropThenThrottle,
    /// Throttles every request.
    Throttle,
}

/// Requests the `DropThenThrottle` and `Throttle` endpoints received.
static SEEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

const THROTTLING: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#;

fn throttling_response() -> String {
    format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-ErrorType: ThrottlingException\r\nContent-Length: {}\r\n\r\n{THROTTLING}",
        THROTTLING.len()
    )
}

/// A DynamoDB-compatible endpoint that misbehaves; its URL.
async fn misbehaving_endpoint(behaviour: Behaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answered = Arc::new(std::sync::atomic::AtomicBool::new(false));
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let answered = answered.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                if matches!(behaviour, Behaviour::DropThenThrottle | Behaviour::Throttle) {
                    // Headers and (small) body arrive in one read.
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                        SEEN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let drop = matches!(behaviour, Behaviour::DropThenThrottle)
                            && !answered.swap(true, std::sync::atomic::Ordering::SeqCst);
                        if drop {
                            return;
                        }
                        let _ = socket.write_all(throttling_response().as_bytes()).await;
                    }
                    return;
                }
                let throttle = matches!(behaviour, Behaviour::ThrottleThenHang)
                    && !answered.swap(true, std::sync::atomic::Ordering::SeqCst);
                if throttle {
                    // Headers and (small) body arrive in the first reads.
                    let _ = socket.read(&mut buf).await;
                    let _ = socket.write_all(throttling_response().as_bytes()).await;
                }
                // Then (or from the start) read and never answer.
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

async fn state_on(endpoint: &str) -> AppState {
    let store = Store::new(Arc::new(DynamoStore::new(
        local_client(endpoint, None).await,
        "access-requests",
    )));
    AppState::new(store, Arc::new(Authenticator::hs256(LOCAL_HS256_SECRET)))
}

/// A fixture's event as the runtime hands it over, with a Lambda context
/// whose deadline is `budget` away.
fn invocation(function: &str, case: &str, budget: Duration) -> lambda_http::Request {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(function)
        .join(format!("{case}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut context = Context::default();
    context.request_id = "deadline-test".into();
    context.deadline = (chrono::Utc::now() + budget).timestamp_millis() as u64;
    lambda_http::request::from_str(&text)
        .unwrap()
        .with_lambda_context(context)
}

fn body(response: &shared::http::ApiResponse) -> Value {
    serde_json::from_str(&response.body).unwrap()
}

#[tokio::test]
async fn a_hanging_store_is_answered_with_a_500_before_the_deadline() {
    let state = state_on(&misbehaving_endpoint(Behaviour::Hang).await).await;
    for (function, case) in [
        ("cancel-access-request", "cancel-own-pending"),
        ("list-access-request-status", "requested-for-me"),
        ("create-access-request", "grant-self"),
    ] {
        let budget = Duration::from_millis(1_500);
        let started = Instant::now();
        let response = local_api::call(function, &state, invocation(function, case, budget))
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(response.status, 500, "{function}: {}", response.body);
        assert!(
            took < budget,
            "{function} answered after {took:?}, past the {budget:?} deadline"
        );
        // The store work stopped at the deadline less the answer margin.
        assert!(
            took >= budget - shared::deadline::ANSWER_MARGIN - Duration::from_millis(100),
            "{function} gave up early, after {took:?}"
        );
        let b = body(&response);
        assert_eq!(b["detailCode"], "500.0 Internal Fault", "{b}");
        assert_eq!(b["trackingId"].as_str().map(str::len), Some(32), "{b}");
        // Nothing of the SDK's error reaches the client.
        assert!(!response.body.contains("timeout"), "{}", response.body);
    }
}

#[tokio::test]
async fn a_store_throttling_until_the_deadline_is_answered_429() {
    let state = state_on(&misbehaving_endpoint(Behaviour::ThrottleThenHang).await).await;
    let budget = Duration::from_millis(1_500);
    let started = Instant::now();
    let function = "cancel-access-request";
    let response = local_api::call(
        function,
        &state,
        invocation(function, "cancel-own-pending", budget),
    )
    .await
    .unwrap();
    assert!(started.elapsed() < budget, "{:?}", started.elapsed());
    assert_eq!(response.status, 429, "{}", response.body);
    assert_eq!(response.header("Retry-After"), Some("1"));
    assert_eq!(body(&response)["message"], " Rate Limit Exceeded ");
}

#[tokio::test]
async fn outside_lambda_the_configured_budget_bounds_the_store() {
    let state = state_on(&misbehaving_endpoint(Behaviour::Hang).await)
        .await
        .with_request_budget(Duration::from_millis(800));
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events/cancel-access-request/cancel-own-pending.json");
    let request = lambda_http::request::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let started = Instant::now();
    let response = local_api::call("cancel-access-request", &state, request)
        .await
        .unwrap();
    assert_eq!(response.status, 500, "{}", response.body);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_millis(1_500),
        "{took:?}"
    );
}

/// A write whose first attempt got no answer may have been applied: when
/// the store then throttles the retries, the client is told 500 (which
/// promises nothing), not 429 (which says nothing was done). A write that
/// was throttled at every attempt is a 429.
#[tokio::test]
async fn a_write_throttled_after_an_unanswered_attempt_is_a_500_not_a_429() {
    for (behaviour, status) in [
        (Behaviour::DropThenThrottle, 500),
        (Behaviour::Throttle, 429),
    ] {
        let state = state_on(&misbehaving_endpoint(behaviour).await).await;
        let budget = Duration::from_secs(8);
        let store = state.store.clone();
        let request = invocation("cancel-access-request", "cancel-own-pending", budget);
        let response = shared::http::handle(
            &state,
            &shared::http::Operation::new("cancelAccessRequest"),
            request,
            |principal, (): ()| async move {
                let event = shared::records::EventRecord {
                    id: "e1".into(),
                    name: "Write Once".into(),
                    created: chrono::Utc::now(),
                    sequence: 0,
                    actor: None,
                    access_request_ids: Vec::new(),
                    errored_ids: Vec::new(),
                    attributes: Default::default(),
                };
                store.put_event(&principal.tenant_id, &event).await?;
                Ok(shared::http::ApiResponse::empty(202))
            },
        )
        .await;
        assert_eq!(response.status, status, "{}", response.body);
        // The store client retried: the answer followed throttled attempts.
        assert!(SEEN.swap(0, std::sync::atomic::Ordering::SeqCst) >= 2);
        if status == 500 {
            assert_eq!(body(&response)["detailCode"], "500.0 Internal Fault");
        } else {
            assert_eq!(response.header("Retry-After"), Some("1"));
        }
    }
}
