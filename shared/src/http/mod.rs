//! The Lambda edge: turns a `lambda_http::Request` into a domain call and its
//! result into an [`ApiResponse`]. Client errors are answered here, never
//! returned to the runtime (which would make them bare 500/502s). One JSON
//! log line is written per request, with the tracking id of any error.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures::FutureExt;
use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::auth::Principal;
use crate::deadline;
use crate::error::ApiError;
use crate::idempotency;
use crate::models::LocaleOrigin;
use crate::plan::{self, Runner, Settled};
use crate::state::AppState;

mod input;
mod response;

pub use input::{
    ApprovalComment, Body, CompletedQuery, IncludeDetail, Input, OptionalBody, PathId, PendingQuery,
};
pub use response::{
    error_body, ApiResponse, CONTENT_TYPE, IDEMPOTENT_REPLAYED, RETRY_AFTER, X_TOTAL_COUNT,
};

/// Bodies above this size are refused with a 400 (SPEC §2).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub use crate::routes::Operation;

/// Runs a read: authenticates, decodes the endpoint's typed [`Input`],
/// calls `f`, maps errors to the SailPoint envelope, logs one line. Never
/// fails and never panics outward.
pub async fn handle<I, F, Fut>(state: &AppState, op: &Operation, req: Request, f: F) -> ApiResponse
where
    I: Input,
    F: FnOnce(Principal, I) -> Fut,
    Fut: Future<Output = Result<ApiResponse, ApiError>>,
{
    serve(state, op, req, move |principal, req| async move {
        let input = I::decode(&req, op)?;
        f(principal, input).await
    })
    .await
}

/// Runs a change: as [`handle`], and `f` runs its operation on the
/// [`Runner`] it is given, which holds the request's `Idempotency-Key`
/// where the operation honours one (routes.toml). The answer is the
/// operation's settled one, serialised once with the status routes.toml
/// gives the operation; a repeat with the same key answers the stored
/// answer.
pub async fn handle_change<I, F, Fut, A>(
    state: &AppState,
    op: &Operation,
    req: Request,
    f: F,
) -> ApiResponse
where
    I: Input,
    F: FnOnce(Principal, I, Runner) -> Fut,
    Fut: Future<Output = Result<Settled<A>, ApiError>>,
    A: Serialize,
{
    serve(state, op, req, move |principal, req| async move {
        let key = idempotent_request(op, &principal, &req)?;
        let input = I::decode(&req, op)?;
        let Some(key) = key else {
            let answer = f(principal, input, Runner::new(&state.store)).await?;
            return answered(op, &answer);
        };
        if let Some(replay) = replay(state, &key).await? {
            return Ok(replay);
        }
        let runner = Runner::with_key(&state.store, key.clone());
        let result = f(principal, input, runner.clone()).await;
        // Unless this call stored its answer, a call with the same key may
        // have done the work meanwhile — a concurrent one, or an earlier
        // attempt whose write landed late — and this one found it done (it
        // wrote nothing, or was refused): the stored answer is the answer.
        if runner.outcome() != plan::Outcome::Settled {
            match replay(state, &key).await {
                Ok(Some(replay)) => return Ok(replay),
                // The key holds another request's answer.
                Err(e @ ApiError::BadRequest(_)) => return Err(e),
                // Nothing stored, or the look-up failed: this call's own answer.
                Ok(None) | Err(_) => {}
            }
        }
        answered(op, &result?)
    })
    .await
}

/// The response of a settled answer: its JSON with the operation's status,
/// or no body for a 204.
fn answered<A: Serialize>(op: &Operation, answer: &Settled<A>) -> Result<ApiResponse, ApiError> {
    if op.status == 204 {
        Ok(ApiResponse::empty(204))
    } else {
        ApiResponse::json(op.status, &**answer)
    }
}

/// Authenticates, admits, runs `f` within the request's budget, maps errors
/// to the SailPoint envelope, logs one line.
async fn serve<F, Fut>(state: &AppState, op: &Operation, req: Request, f: F) -> ApiResponse
where
    F: FnOnce(Principal, Request) -> Fut,
    Fut: Future<Output = Result<ApiResponse, ApiError>>,
{
    let operation = op.operation;
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let logged_path: String = path.chars().take(LOGGED_PATH_CHARS).collect();
    let origin = locale_origin(
        req.headers()
            .get("accept-language")
            .and_then(|v| v.to_str().ok()),
    );
    let request_id = req
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default();

    let authorization = req
        .headers()
        .get("authorization")
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let principal = state
        .auth
        .verify_header(authorization)
        .map_err(|e| ApiError::Unauthorized(e.0));
    let (tenant, identity) = match &principal {
        Ok(p) => (
            p.tenant_id.clone(),
            p.identity_id.clone().unwrap_or_default(),
        ),
        Err(_) => (String::new(), String::new()),
    };
    // Store calls end by the invocation's deadline (less a margin to
    // answer), or within the configured budget outside Lambda.
    let until = match req.lambda_context_ref().map(|c| c.deadline) {
        Some(deadline_ms) if deadline_ms > 0 => Some(deadline::from_lambda_deadline(deadline_ms)),
        _ => state
            .request_budget
            .map(|budget| tokio::time::Instant::now() + budget),
    };
    // The token's scopes, then the shape of the ids the request names,
    // before anything else: a refused call reads and writes nothing.
    let principal = principal.and_then(|p| admit(op, &path, &req, p));
    let result = match principal {
        Err(e) => Err(e),
        // On the heap: the operation's future is the largest part of this
        // one, and a debug build polls it many frames deep.
        Ok(p) => deadline::scope(until, Box::pin(run(p, req, f))).await,
    };

    let (response, tracking_id, error) = match result {
        Ok(response) => (response, None, None),
        Err(error) => {
            let tracking_id = new_tracking_id();
            let response = ApiResponse::error(&error, &tracking_id, origin);
            (response, Some(tracking_id), Some(error.to_string()))
        }
    };
    let status = response.status;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    // One line per request; a 5xx at ERROR so alarms can match on level.
    macro_rules! request_line {
        ($level:expr) => {
            tracing::event!(
                $level,
                operation,
                method,
                path = logged_path,
                status,
                latency_ms,
                tenant_id = tenant,
                identity_id = identity,
                request_id,
                tracking_id,
                error,
                "request"
            )
        };
    }
    if status >= 500 {
        request_line!(tracing::Level::ERROR);
    } else {
        request_line!(tracing::Level::INFO);
    }
    response
}

/// A 429 tells the client that nothing was done. A call one of whose write
/// attempts went unanswered may have been applied, whatever the store said
/// to the attempts after it (throttling): that is a 500, which promises
/// nothing either way. Reads send no write attempt, so this never touches
/// them. Call within the request's budget (in `run`: an async block around
/// it would hold the operation's whole future in one more stack frame, which
/// debug builds cannot afford).
fn unless_in_doubt(result: Result<ApiResponse, ApiError>) -> Result<ApiResponse, ApiError> {
    match result {
        Err(ApiError::TooManyRequests { .. }) if deadline::write_in_doubt() => {
            Err(ApiError::Internal(
                "throttled after a write attempt that got no answer: the write may have been applied"
                    .into(),
            ))
        }
        other => other,
    }
}

/// The operation, never panicking outward.
async fn run<F, Fut>(principal: Principal, req: Request, f: F) -> Result<ApiResponse, ApiError>
where
    F: FnOnce(Principal, Request) -> Fut,
    Fut: Future<Output = Result<ApiResponse, ApiError>>,
{
    let result = AssertUnwindSafe(f(principal, req))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(ApiError::Internal(format!("handler panicked: {what}")))
        });
    unless_in_doubt(result)
}

/// The idempotency context of a state-changing request that carries an
/// `Idempotency-Key`; `None` without one (or for a read).
fn idempotent_request(
    op: &Operation,
    principal: &Principal,
    req: &Request,
) -> Result<Option<idempotency::Idempotent>, ApiError> {
    let Some(value) = req
        .headers()
        .get(idempotency::HEADER)
        .filter(|_| op.idempotent)
    else {
        return Ok(None);
    };
    let key = idempotency::check_key(value.to_str().unwrap_or("\u{fffd}"))
        .map_err(ApiError::bad_request)?;
    let caller = principal
        .identity_id
        .as_deref()
        .or(principal.client_id.as_deref())
        .unwrap_or("-");
    let request: [&[u8]; 5] = [
        op.operation.as_bytes(),
        req.method().as_str().as_bytes(),
        req.uri().path().as_bytes(),
        req.uri().query().unwrap_or("").as_bytes(),
        req.body().as_ref(),
    ];
    Ok(Some(idempotency::Idempotent::new(
        &principal.tenant_id,
        caller,
        key,
        &request,
        op.status,
    )))
}

/// The stored answer for `request`'s key: replayed when it answered this
/// very request, a 400 when the key was used for another.
async fn replay(
    state: &AppState,
    request: &idempotency::Idempotent,
) -> Result<Option<ApiResponse>, ApiError> {
    let Some(record) = state.store.idempotency_record(&request.key).await? else {
        return Ok(None);
    };
    if record.fingerprint != request.fingerprint {
        return Err(ApiError::bad_request(format!(
            "{} was already used for another request (a different operation, path or body) \
             in the last 24 hours; send a new key for a new request",
            idempotency::HEADER
        )));
    }
    Ok(Some(ApiResponse {
        status: record.status,
        headers: vec![
            (CONTENT_TYPE, "application/json".to_string()),
            (IDEMPOTENT_REPLAYED, "true".to_string()),
        ],
        body: record.body,
    }))
}

/// The principal, if its token's scopes let it call `op` at `path` (403
/// naming the missing scope otherwise) and the ids in the path and the
/// query have the shape of ids (400 otherwise): ids are parts of store
/// keys, so one of the wrong shape is refused before any store call,
/// echoed only in part.
fn admit(op: &Operation, path: &str, req: &Request, p: Principal) -> Result<Principal, ApiError> {
    let required = crate::scopes::required(op.scopes, path);
    if !crate::scopes::grants(p.scopes.as_deref(), required) {
        return Err(ApiError::Forbidden(crate::scopes::missing(
            required,
            op.operation,
            path,
        )));
    }
    if let Some(cause) = bad_path_id(req).or_else(|| bad_query_value(req)) {
        return Err(ApiError::bad_request(cause));
    }
    Ok(p)
}

/// The cause for the first path parameter (every one is an id) that does
/// not have the shape of an id.
fn bad_path_id(req: &Request) -> Option<String> {
    let params = req.path_parameters_ref()?;
    let mut params: Vec<(&str, &str)> = params.iter().collect();
    params.sort();
    params.into_iter().find_map(|(name, value)| {
        crate::limits::check_id(&format!("path parameter {name}"), value.trim()).err()
    })
}

/// The query parameters that name an identity (`me` or its id); the
/// lists read the store by them.
const IDENTITY_PARAMETERS: [&str; 5] = [
    "requested-for",
    "requested-by",
    "regarding-identity",
    "assigned-to",
    "owner-id",
];

/// The cause for the first query parameter naming an identity that is not
/// an id, or the first quoted value of `filters` longer than any stored id
/// or name can be (filters on ids are read by key).
fn bad_query_value(req: &Request) -> Option<String> {
    let params = query_params(req);
    for name in IDENTITY_PARAMETERS {
        for value in params.get(name).into_iter().flatten() {
            let value = value.trim();
            // Blank values are the lists' own 400s.
            if !value.is_empty() {
                if let Err(cause) = crate::limits::check_id(name, value) {
                    return Some(cause);
                }
            }
        }
    }
    params
        .get("filters")
        .into_iter()
        .flatten()
        .find_map(|filters| long_filter_value(filters))
}

/// The cause for the first quoted value of `filters` over
/// [`crate::limits::MAX_ID_CHARS`] characters: no stored id or name is longer.
fn long_filter_value(filters: &str) -> Option<String> {
    let max = crate::limits::MAX_ID_CHARS.max(crate::limits::MAX_NAME_CHARS);
    let mut value: Option<String> = None;
    let mut chars = filters.chars();
    while let Some(c) = chars.next() {
        match (&mut value, c) {
            (None, '"') => value = Some(String::new()),
            (Some(v), '"') => {
                if v.chars().count() > max {
                    return Some(format!(
                        "filters: the value {} is longer than any stored id or name ({max} characters)",
                        crate::limits::shown(v)
                    ));
                }
                value = None;
            }
            (Some(v), '\\') => v.extend(chars.next()),
            (Some(v), c) => v.push(c),
            (None, _) => {}
        }
    }
    // An unterminated value is the filter parser's 400.
    None
}

/// At most this much of a request path goes into the log line.
const LOGGED_PATH_CHARS: usize = 256;

/// A fresh tracking id: 32 lowercase hex characters.
pub fn new_tracking_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `REQUEST` when the client's `Accept-Language` selects the one locale the
/// service speaks (`en-US`, via `en`, `en-*` or `*`), `DEFAULT` otherwise.
pub fn locale_origin(accept_language: Option<&str>) -> LocaleOrigin {
    let Some(header) = accept_language else {
        return LocaleOrigin::Default;
    };
    let selects_english = header.split(',').any(|part| {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let refused = pieces.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=")
                .map(|q| q.trim().parse::<f32>().map(|q| q <= 0.0).unwrap_or(false))
                .unwrap_or(false)
        });
        !refused && (tag == "en" || tag.starts_with("en-") || tag == "*")
    });
    if selects_english {
        LocaleOrigin::Request
    } else {
        LocaleOrigin::Default
    }
}

/// Parses the JSON body into `T`, with a cause naming what was wrong.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::bad_request(format!(
            "request body is {} bytes; at most {MAX_BODY_BYTES} bytes are accepted",
            bytes.len()
        )));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "request body is required: send a JSON object",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let what = match inner.classify() {
            serde_json::error::Category::Data => inner.to_string(),
            serde_json::error::Category::Eof => format!("request body is incomplete JSON: {inner}"),
            _ => format!("request body is not valid JSON: {inner}"),
        };
        if path == "." || path == "?" || path.is_empty() {
            ApiError::bad_request(what)
        } else {
            ApiError::bad_request(format!("{path}: {what}"))
        }
    })?;
    // Trailing content after the value is as malformed as a broken value.
    de.end().map_err(|e| {
        ApiError::bad_request(format!(
            "request body has content after the JSON value: {e}"
        ))
    })?;
    Ok(value)
}

/// Query string parameters with all their values: from the event when
/// API Gateway decoded them, otherwise from the URI.
pub(crate) fn query_params(req: &Request) -> BTreeMap<String, Vec<String>> {
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    match req.query_string_parameters_ref() {
        Some(map) if !map.is_empty() => {
            for (k, v) in map.iter() {
                params.entry(k.to_string()).or_default().push(v.to_string());
            }
        }
        _ => {
            if let Some(q) = req.uri().query() {
                for (k, v) in form_urlencoded_pairs(q) {
                    params.entry(k).or_default().push(v);
                }
            }
        }
    }
    params
}

/// A path parameter set by API Gateway (or the local server).
pub(crate) fn path_param(req: &Request, name: &str) -> Option<String> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_string)
}

/// Decodes `a=1&b=x%20y` the way browsers and SDKs encode query strings.
fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_else(|_| {
        // Invalid UTF-8 after decoding: fall back to lossy per-pair decoding.
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(&s.replace('+', " "))
                        .decode_utf8_lossy()
                        .into_owned()
                };
                (decode(k), decode(v))
            })
            .collect()
    })
}
