//! `POST /v3/access-request-approvals/{approvalId}/approve` (and `/beta`):
//! approve a pending approval step (operation `approveAccessRequest`).

use lambda_http::Request;
use shared::domain::approvals::{decide, ApiVersion};
use shared::error::ApiError;
use shared::http::{handle_change, json_body, path_param, ApiResponse, Operation};
use shared::models::CommentBody;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("approveAccessRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, req, runner| async move {
            let id = path_param(&req, "approvalId")
                .ok_or_else(|| ApiError::bad_request("path parameter approvalId is required"))?;
            // The comment is optional in v3 (no body at all, or `null`), the
            // body required in beta.
            let body: CommentBody = match ApiVersion::from_path(req.uri().path()) {
                ApiVersion::V3 if req.body().iter().all(u8::is_ascii_whitespace) => {
                    CommentBody::default()
                }
                ApiVersion::V3 => json_body::<Option<CommentBody>>(&req)?.unwrap_or_default(),
                ApiVersion::Beta => json_body(&req)?,
            };
            decide::approve(&runner, &principal, &id, &body, chrono::Utc::now()).await
        },
    )
    .await
}
