//! `Idempotency-Key` at the edge (`shared::http::handle_change`) when an earlier
//! attempt's write lands late: after the retry looked its key up and found
//! nothing. The retry then finds the work done and writes nothing — a
//! submit finds its request pending, a cancel finds it cancelled; its answer
//! must still be the stored one, as for every repeat of the key, not a
//! report of its own request as an existing one, nor a 400.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::hooked::{Call, Hooked, Hooks};
use common::*;
use futures::future::BoxFuture;
use lambda_http::Request;
use serde_json::{json, Value};
use shared::auth::{claims_for, Authenticator, TokenIssuer};
use shared::domain::access_requests::cancel::cancel;
use shared::domain::access_requests::submit::submit;
use shared::http::{handle_change, ApiResponse, Body, Operation};
use shared::models::{AccessRequest, CancelAccessRequest};
use shared::state::{AppState, LOCAL_HS256_SECRET};
use shared::store::{Store, StoreError};

const SUBMIT: Operation = Operation::new("createAccessRequest");
const CANCEL: Operation = Operation::new("cancelAccessRequest");

/// A request by Eve, with an `Idempotency-Key`.
fn request(path: &str, key: &str, body: Value) -> Request {
    let claims = claims_for(ACME, Some(EMPLOYEE), Some("eve"), Some("t"), &[], 3600);
    let token = TokenIssuer::hs256(LOCAL_HS256_SECRET).issue(&claims);
    lambda_http::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("Idempotency-Key", key)
        .body(lambda_http::Body::from(body.to_string()))
        .unwrap()
}

fn state(store: &Store) -> AppState {
    AppState::new(
        store.clone(),
        Arc::new(Authenticator::hs256(LOCAL_HS256_SECRET)),
    )
}

/// The submit handler's work, through the edge: Eve asks for Engineering
/// Access (approval steps: it stays pending).
fn submit_call(store: Store) -> BoxFuture<'static, ApiResponse> {
    Box::pin(async move {
        let state = &state(&store);
        let body = json!({"requestedFor": [EMPLOYEE],
                          "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING}]});
        handle_change(
            state,
            &SUBMIT,
            request("/v3/access-requests", "late-submit", body),
            |principal, Body(body): Body<AccessRequest>, runner| async move {
                submit(&runner, &principal, body, chrono::Utc::now()).await
            },
        )
        .await
    })
}

/// The cancel handler's work, through the edge: Eve cancels `id`.
fn cancel_call(store: Store, id: String) -> BoxFuture<'static, ApiResponse> {
    Box::pin(async move {
        let state = &state(&store);
        let body = json!({"accountActivityId": id, "comment": "by mistake"});
        handle_change(
            state,
            &CANCEL,
            request("/v3/access-requests/cancel", "late-cancel", body),
            |principal, Body(body): Body<CancelAccessRequest>, runner| async move {
                cancel(&runner, &principal, &body, chrono::Utc::now()).await
            },
        )
        .await
    })
}

type Attempt = Box<dyn Fn(Store) -> BoxFuture<'static, ApiResponse> + Send + Sync>;

/// Right after the first look-up of the key (which found nothing), the
/// earlier attempt's write lands: that attempt runs then, on the store
/// underneath, and its answer is kept.
struct EarlierAttemptLandsLate {
    inner: Store,
    attempt: Attempt,
    landed: AtomicBool,
    answer: Mutex<Option<ApiResponse>>,
}

#[async_trait]
impl Hooks for EarlierAttemptLandsLate {
    async fn after(&self, call: &Call<'_>, _ok: bool) -> Result<(), StoreError> {
        let looks_up_key =
            matches!(call, Call::Get(reads) if reads.iter().any(|r| r.key.pk.contains("#IDEM#")));
        if looks_up_key && !self.landed.swap(true, Ordering::SeqCst) {
            let answer = (self.attempt)(self.inner.clone()).await;
            *self.answer.lock().unwrap() = Some(answer);
        }
        Ok(())
    }
}

/// The retry's answer and the earlier attempt's, `attempt` being both.
async fn retry_meeting_a_late_write(inner: &Store, attempt: Attempt) -> (ApiResponse, ApiResponse) {
    let store = Hooked::new(
        inner,
        EarlierAttemptLandsLate {
            inner: inner.clone(),
            attempt,
            landed: AtomicBool::new(false),
            answer: Mutex::new(None),
        },
    );
    let retry = (store.hooks.attempt)(store.store.clone()).await;
    let first = store.hooks.answer.lock().unwrap().take().expect("landed");
    (first, retry)
}

fn json_of(r: &ApiResponse) -> Value {
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_retry_that_finds_an_earlier_attempts_late_write_answers_its_stored_answer() {
    for (name, inner) in stores().await {
        let (first, retry) = retry_meeting_a_late_write(&inner, Box::new(submit_call)).await;
        assert_eq!(first.status, 202, "{name}: {}", first.body);
        assert_eq!(
            json_of(&first)["newRequests"][0]["accessRequestIds"]
                .as_array()
                .map(Vec::len),
            Some(1),
            "{name}: {}",
            first.body
        );
        assert_eq!(retry.status, 202, "{name}: {}", retry.body);
        assert_eq!(
            json_of(&retry),
            json_of(&first),
            "{name}: the retry answers the stored answer"
        );
        assert_eq!(retry.header("Idempotent-Replayed"), Some("true"), "{name}");
        assert_eq!(
            eves_engineering_requests(&inner).await,
            1,
            "{name}: one request"
        );

        // A cancel of it, the same way: the retry finds it cancelled.
        let id = json_of(&first)["newRequests"][0]["accessRequestIds"][0]
            .as_str()
            .unwrap()
            .to_string();
        let (first, retry) =
            retry_meeting_a_late_write(&inner, Box::new(move |s| cancel_call(s, id.clone()))).await;
        assert_eq!(first.status, 202, "{name}: {}", first.body);
        assert_eq!(retry.status, 202, "{name}: not a 400: {}", retry.body);
        assert_eq!(retry.header("Idempotent-Replayed"), Some("true"), "{name}");
    }
}

/// Eve's Engineering Access requests.
async fn eves_engineering_requests(store: &Store) -> usize {
    let q = shared::domain::access_requests::status::parse_query(&Default::default()).unwrap();
    shared::domain::access_requests::status::list(store, &admin(), &q)
        .await
        .unwrap()
        .items
        .iter()
        .filter(|s| {
            s.requested_for.id == EMPLOYEE && s.name.as_deref() == Some("Engineering Access")
        })
        .count()
}
