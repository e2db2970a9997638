//! What a handler answers: a status, headers named exactly as SailPoint's
//! service spells them, and a body. The header names matter: the official
//! Python SDK hands response headers to its users as a plain, case-sensitive
//! dict, so `X-Total-Count` must arrive as `X-Total-Count`. An
//! `http::HeaderMap` lowercases every name, so responses are kept here and
//! written out by the Lambda edge (`to_proxy`, API Gateway's proxy format)
//! and the local server, each preserving the names.

use lambda_http::request::RequestOrigin;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::domain::collection::Page;
use crate::error::ApiError;
use crate::models::{ErrorMessageDto, ErrorResponseDto, LocaleOrigin};

pub const CONTENT_TYPE: &str = "Content-Type";
pub const X_TOTAL_COUNT: &str = "X-Total-Count";
pub const RETRY_AFTER: &str = "Retry-After";
/// Set on an answer replayed for a repeated `Idempotency-Key`.
pub const IDEMPOTENT_REPLAYED: &str = "Idempotent-Replayed";
const JSON: &str = "application/json";

/// A response, headers as spelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// JSON text, or empty for no body (204).
    pub body: String,
}

impl ApiResponse {
    /// A JSON body with `status`.
    pub fn json<T: Serialize>(status: u16, value: &T) -> Result<Self, ApiError> {
        let body = serde_json::to_string(value)
            .map_err(|e| ApiError::Internal(format!("serializing the response: {e}")))?;
        Ok(Self {
            status,
            headers: vec![(CONTENT_TYPE, JSON.to_string())],
            body,
        })
    }

    /// A page of a list: 200 with its items, and with `count` (the query's
    /// `count=true`) the total before paging in `X-Total-Count`.
    pub fn list<T: Serialize>(page: &Page<T>, count: bool) -> Result<Self, ApiError> {
        let response = Self::json(200, &page.items)?;
        Ok(if count {
            response.with_header(X_TOTAL_COUNT, page.total.to_string())
        } else {
            response
        })
    }

    /// No body (e.g. 204).
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The value of a header, its name compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The SailPoint answer to `error`: the envelope with `tracking_id` for
    /// 400/403/404/500, SailPoint's own bodies for 401 and 429.
    pub fn error(error: &ApiError, tracking_id: &str, origin: LocaleOrigin) -> Self {
        let mut response = Self {
            status: error.status(),
            headers: vec![(CONTENT_TYPE, JSON.to_string())],
            body: error_body(error, tracking_id, origin).to_string(),
        };
        if let ApiError::TooManyRequests { retry_after_secs } = error {
            response
                .headers
                .push((RETRY_AFTER, retry_after_secs.to_string()));
        }
        response
    }

    /// The Lambda proxy integration's answer for a request that came from
    /// `origin`, with the header names as spelled: API Gateway's REST API
    /// (payload 1.0) passes them through as written. An HTTP API (payload
    /// 2.0) gets the same `headers` object.
    pub fn to_proxy(&self, origin: &RequestOrigin) -> Value {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), Value::String(v.clone())))
            .collect();
        let body = (!self.body.is_empty()).then(|| self.body.clone());
        match origin {
            RequestOrigin::ApiGatewayV2 => json!({
                "statusCode": self.status,
                "headers": headers,
                "body": body,
                "isBase64Encoded": false,
                "cookies": [],
            }),
            _ => {
                let multi: Map<String, Value> = self
                    .headers
                    .iter()
                    .map(|(n, v)| (n.to_string(), json!([v])))
                    .collect();
                json!({
                    "statusCode": self.status,
                    "headers": headers,
                    "multiValueHeaders": multi,
                    "body": body,
                    "isBase64Encoded": false,
                })
            }
        }
    }
}

/// At most this many causes are answered; the rest are counted.
pub const MAX_CAUSES: usize = 50;

/// The SailPoint body for an error. `tracking_id` is only used by the
/// envelope statuses; 401 and 429 have bodies of their own.
pub fn error_body(error: &ApiError, tracking_id: &str, origin: LocaleOrigin) -> Value {
    let message = |text: &str| ErrorMessageDto {
        locale: Some("en-US".to_string()),
        locale_origin: Some(origin),
        text: text.to_string(),
    };
    let envelope = |detail: &str, text: &str, causes: &[String]| {
        // A body of thousands of bad entries would answer thousands of
        // causes: the first ones say enough.
        let mut shown: Vec<ErrorMessageDto> =
            causes.iter().take(MAX_CAUSES).map(|c| message(c)).collect();
        if causes.len() > MAX_CAUSES {
            shown.push(message(&format!(
                "... and {} more problems",
                causes.len() - MAX_CAUSES
            )));
        }
        serde_json::to_value(ErrorResponseDto {
            detail_code: detail.to_string(),
            tracking_id: tracking_id.to_string(),
            messages: vec![message(text)],
            causes: shown,
        })
        .unwrap_or_default()
    };
    match error {
        ApiError::BadRequest(causes) => envelope(
            "400.1 Bad Request Content",
            "The request was syntactically correct but its content is semantically invalid.",
            causes,
        ),
        ApiError::Conflict(causes) => envelope(
            "400.1.409 Reference conflict",
            "The request was syntactically correct but its content is semantically invalid.",
            causes,
        ),
        ApiError::Forbidden(cause) => envelope(
            "403 Forbidden",
            "The server understood the request but refuses to authorize it.",
            std::slice::from_ref(cause),
        ),
        ApiError::NotFound(cause) => envelope(
            "404 Not found",
            "The server did not find a current representation for the target resource.",
            std::slice::from_ref(cause),
        ),
        ApiError::Internal(_) => {
            envelope("500.0 Internal Fault", "An internal fault occurred.", &[])
        }
        ApiError::Unauthorized(reason) => {
            json!({ "error": format!("JWT validation failed: {reason}") })
        }
        ApiError::TooManyRequests { .. } => json!({ "message": " Rate Limit Exceeded " }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_responses_keep_header_names_as_spelled() {
        let response = ApiResponse::json(200, &json!([1]))
            .unwrap()
            .with_header(X_TOTAL_COUNT, "4");
        let v1 = response.to_proxy(&RequestOrigin::ApiGatewayV1);
        assert_eq!(v1["headers"]["X-Total-Count"], "4");
        assert_eq!(v1["multiValueHeaders"]["X-Total-Count"], json!(["4"]));
        assert_eq!(v1["headers"]["Content-Type"], "application/json");
        assert_eq!(v1["body"], "[1]");
        let v2 = response.to_proxy(&RequestOrigin::ApiGatewayV2);
        assert_eq!(v2["headers"]["X-Total-Count"], "4");
        assert!(v2.get("multiValueHeaders").is_none());
        assert_eq!(
            ApiResponse::empty(204).to_proxy(&RequestOrigin::ApiGatewayV1)["body"],
            Value::Null
        );
    }

    #[test]
    fn throttling_answers_retry_after() {
        let r = ApiResponse::error(
            &ApiError::TooManyRequests {
                retry_after_secs: 3,
            },
            "t",
            LocaleOrigin::Default,
        );
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("3"));
        assert_eq!(r.headers[1].0, "Retry-After");
    }
}
