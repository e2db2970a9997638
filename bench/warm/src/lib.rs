//! What the warm-path benchmarks (`benches/handlers.rs`) share: the requests
//! they send (built from the API Gateway fixtures under `events/`), the
//! stores they run on, and the handlers by function name.
//!
//! Each benchmark runs one handler end to end, as a warm Lambda does after
//! `lambda_http` has decoded the event: token verification, parameter and
//! body parsing, validation, the domain work on the in-process store,
//! serialization, and the one JSON log line (formatted, written to a sink).

use std::path::{Path, PathBuf};

use lambda_http::Request;
use serde_json::{json, Value};
use shared::http::ApiResponse;
use shared::seed::DEMO_SEED;
use shared::state::AppState;

/// One success case per function, `(function, fixture case)`: the first
/// smoke fixture of each route of `routes.toml`.
pub fn cases() -> Vec<(&'static str, &'static str)> {
    local_api::routes()
        .iter()
        .map(|r| (r.function, r.smoke[0]))
        .collect()
}

/// The identity whose status the 250-item page lists (initech's Peter, the
/// subject of `list-access-request-status/requested-for-me`).
pub const STATUS_IDENTITY: &str = "7c9180835d191a86015d28455b4b0002";
const INITECH: &str = "5d2f8a9c-1b3e-4c6d-9e8f-7a6b5c4d3e2f";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("bench/warm is two levels below the workspace root")
        .to_path_buf()
}

/// The fixture `events/<function>/<case>.json` as JSON.
pub fn fixture(function: &str, case: &str) -> Value {
    let path = workspace_root()
        .join("events")
        .join(function)
        .join(format!("{case}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A `lambda_http::Request` from an API Gateway event, as the runtime builds it.
pub fn request(event: &Value) -> Request {
    lambda_http::request::from_str(&event.to_string())
        .unwrap_or_else(|e| panic!("not an API Gateway event: {e}"))
}

/// The status fixture asking for one page of `limit` items.
pub fn status_event(limit: usize) -> Value {
    let mut event = fixture("list-access-request-status", "requested-for-me");
    let limit = limit.to_string();
    event["queryStringParameters"] = json!({ "requested-for": "me", "limit": limit });
    event["multiValueQueryStringParameters"] = json!({ "requested-for": ["me"], "limit": [limit] });
    event
}

/// The demo seed with `extra` more access requests for [`STATUS_IDENTITY`]
/// (copies of the seed's first initech request with their own ids and
/// creation times).
pub fn seed_with_status_requests(extra: usize) -> String {
    seed_with_copies(INITECH, 0x4, extra, |r| {
        r["requestedFor"]["id"] == STATUS_IDENTITY
    })
}

/// The approver whose pending list the 250-item page lists (acme's Maria,
/// the subject of `list-pending-approvals/manager-me`).
pub const APPROVER: &str = "2c9180835d191a86015d28455b4a0002";
const ACME: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

/// The pending-approvals fixture asking for one page of `limit` items.
pub fn pending_event(limit: usize) -> Value {
    let mut event = fixture("list-pending-approvals", "manager-me");
    let limit = limit.to_string();
    event["queryStringParameters"] = json!({ "owner-id": "me", "limit": limit, "count": "true" });
    event["multiValueQueryStringParameters"] =
        json!({ "owner-id": ["me"], "limit": [limit], "count": ["true"] });
    event
}

/// The demo seed with `extra` more access requests waiting at [`APPROVER`]'s
/// step (copies of the seed's first acme request, pending at its manager
/// step, with their own ids and creation times).
pub fn seed_with_pending_approvals(extra: usize) -> String {
    seed_with_copies(ACME, 0x5, extra, |r| {
        r["state"] == "EXECUTING"
            && r["items"][0]["approvals"][0]["status"] == "PENDING"
            && r["items"][0]["approvals"][0]["approver"]["id"] == APPROVER
    })
}

/// The demo seed with `extra` copies of the first access request of `tenant`
/// that `template` picks, each with its own ids (request, items, approvals;
/// `series` keeps two sets of copies apart) and creation time, a minute
/// apart.
fn seed_with_copies(
    tenant: &str,
    series: u8,
    extra: usize,
    template: impl Fn(&Value) -> bool,
) -> String {
    let mut seed: Value = serde_json::from_str(DEMO_SEED).expect("the demo seed is JSON");
    let requests = seed["tenants"]
        .as_array_mut()
        .expect("tenants")
        .iter_mut()
        .find(|t| t["tenantId"] == tenant)
        .expect("the demo seed has the tenant")["accessRequests"]
        .as_array_mut()
        .expect("the tenant has access requests");
    let template = requests
        .iter()
        .find(|r| template(r))
        .expect("an access request to copy")
        .clone();
    for n in 0..extra {
        let mut r = template.clone();
        let created = format!(
            "2026-10-{:02}T{:02}:{:02}:00.000Z",
            1 + n / 1440 % 28,
            n / 60 % 24,
            n % 60
        );
        r["id"] = json!(format!("be0c{series:x}000000000000000000000{n:06x}"));
        r["created"] = json!(created);
        r["modified"] = json!(created);
        for (i, item) in r["items"]
            .as_array_mut()
            .expect("items")
            .iter_mut()
            .enumerate()
        {
            item["accountActivityItemId"] =
                json!(format!("be0c{series:x}100000000000000{i:06x}{n:06x}"));
            for approval in item["approvals"].as_array_mut().into_iter().flatten() {
                approval["approvalId"] =
                    json!(format!("be0c{series:x}200000000000000{i:06x}{n:06x}"));
                approval["created"] = json!(created);
            }
        }
        requests.push(r);
    }
    seed.to_string()
}

/// A function's state on a fresh in-process store loaded with `seed`.
pub async fn state(seed: &str) -> AppState {
    AppState::local(seed).await.expect("the seed loads")
}

/// A function's handler, by crate name.
pub async fn dispatch(function: &str, state: &AppState, req: Request) -> ApiResponse {
    local_api::call(function, state, req)
        .await
        .unwrap_or_else(|| panic!("unknown function {function}"))
}

/// Sets the process up as a function runs it (`shared::lambda::run`): the
/// functions' JSON log format, written to a sink, so that each request
/// pays for its log line as on Lambda; the heap's settings; and a
/// current-thread runtime to run the handlers on.
pub fn function_process() -> tokio::runtime::Runtime {
    shared::telemetry::init_with(tracing_subscriber::EnvFilter::new("info"), std::io::sink);
    shared::heap::keep_freed_memory();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(response: ApiResponse) -> (u16, Value) {
        (
            response.status,
            serde_json::from_str(&response.body).unwrap_or(Value::Null),
        )
    }

    /// Every benchmarked request succeeds on a fresh store, so the benches
    /// measure the success path and not an error envelope.
    #[tokio::test]
    async fn each_benchmarked_request_succeeds() {
        for (function, case) in cases() {
            let state = state(DEMO_SEED).await;
            let response = dispatch(function, &state, request(&fixture(function, case))).await;
            let (status, body) = body_json(response);
            assert!(
                (200..300).contains(&status),
                "{function}/{case}: {status} {body}"
            );
        }
    }

    #[tokio::test]
    async fn the_pending_page_holds_250_items() {
        let state = state(&seed_with_pending_approvals(260)).await;
        let response = dispatch(
            "list-pending-approvals",
            &state,
            request(&pending_event(250)),
        )
        .await;
        let total = response
            .headers
            .iter()
            .find(|(name, _)| *name == "X-Total-Count")
            .map(|(_, v)| v.clone());
        assert_eq!(total.as_deref(), Some("262"));
        let (status, body) = body_json(response);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body.as_array().map(Vec::len), Some(250));
    }

    #[tokio::test]
    async fn the_status_page_holds_250_items() {
        let state = state(&seed_with_status_requests(260)).await;
        let response = dispatch(
            "list-access-request-status",
            &state,
            request(&status_event(250)),
        )
        .await;
        let (status, body) = body_json(response);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body.as_array().map(Vec::len), Some(250));
    }
}
