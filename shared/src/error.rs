//! The domain's one error type. The HTTP edge (`http::errors`) turns it into
//! a status and a SailPoint error body (SPEC §2).

use crate::store::StoreError;

/// Everything an operation can answer besides success.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// 400: one cause per problem found, each naming field, value and limit.
    #[error("bad request: {}", .0.join("; "))]
    BadRequest(Vec<String>),
    /// 400 with detailCode `400.1.409 Reference conflict`: the request names
    /// something already taken (a unique name, say).
    #[error("reference conflict: {}", .0.join("; "))]
    Conflict(Vec<String>),
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

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) | Self::Conflict(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::TooManyRequests { .. } => 429,
            Self::Internal(_) => 500,
        }
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
