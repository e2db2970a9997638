//! The domain's one error type and the one place that turns it into an HTTP
//! status and a SailPoint error body (SPEC §2).

use chrono::Utc;
use lambda_http::{http::StatusCode, Body, Response};
use serde_json::json;

use crate::models::{ErrorMessageDto, ErrorResponseDto, LocaleOrigin};
use crate::store::StoreError;

/// Everything an operation can answer besides success.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// 400: one cause per problem found, each naming field, value and limit.
    #[error("bad request: {}", .0.join("; "))]
    BadRequest(Vec<String>),
    /// 401: the reason completes "JWT validation failed: ".
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: the cause says which authority was missing.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: unknown ids and other tenants' ids alike.
    #[error("not found: {0}")]
    NotFound(String),
    /// 429: a dependency throttled us beyond its retries.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// 500: the detail is logged, never sent.
    #[error("internal fault: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(cause: impl Into<String>) -> Self {
        Self::BadRequest(vec![cause.into()])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether the body carries a tracking id (the SailPoint envelope).
    pub fn has_envelope(&self) -> bool {
        !matches!(self, Self::Unauthorized(_) | Self::TooManyRequests { .. })
    }

    /// The SailPoint body for this error. `tracking_id` is only used by the
    /// envelope statuses; 401 and 429 have bodies of their own.
    pub fn body(&self, tracking_id: &str, origin: LocaleOrigin) -> serde_json::Value {
        let message = |text: &str| ErrorMessageDto {
            locale: Some("en-US".to_string()),
            locale_origin: Some(origin),
            text: text.to_string(),
        };
        let envelope = |detail: &str, text: &str, causes: &[String]| {
            serde_json::to_value(ErrorResponseDto {
                detail_code: detail.to_string(),
                tracking_id: tracking_id.to_string(),
                messages: vec![message(text)],
                causes: causes.iter().map(|c| message(c)).collect(),
            })
            .unwrap_or_default()
        };
        match self {
            Self::BadRequest(causes) => envelope(
                "400.1 Bad Request Content",
                "The request was syntactically correct but its content is semantically invalid.",
                causes,
            ),
            Self::Forbidden(cause) => envelope(
                "403 Forbidden",
                "The server understood the request but refuses to authorize it.",
                std::slice::from_ref(cause),
            ),
            Self::NotFound(cause) => envelope(
                "404 Not found",
                "The server did not find a current representation for the target resource.",
                std::slice::from_ref(cause),
            ),
            Self::Internal(_) => {
                envelope("500.0 Internal Fault", "An internal fault occurred.", &[])
            }
            Self::Unauthorized(reason) => {
                json!({ "error": format!("JWT validation failed: {reason}") })
            }
            Self::TooManyRequests { .. } => json!({ "message": " Rate Limit Exceeded " }),
        }
    }

    /// The complete HTTP response.
    pub fn to_response(&self, tracking_id: &str, origin: LocaleOrigin) -> Response<Body> {
        let mut builder = Response::builder()
            .status(self.status())
            .header("content-type", "application/json");
        if let Self::TooManyRequests { retry_after_secs } = self {
            builder = builder.header("retry-after", retry_after_secs.to_string());
        }
        let body = self.body(tracking_id, origin).to_string();
        builder.body(Body::from(body)).unwrap_or_else(|_| {
            // Only reachable with an invalid header value, which the values above never are.
            let mut r = Response::new(Body::Empty);
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Throttled(_) => Self::TooManyRequests {
                retry_after_secs: 1,
            },
            other => Self::Internal(other.to_string()),
        }
    }
}

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

/// Seconds since the epoch, for log lines.
pub fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}
