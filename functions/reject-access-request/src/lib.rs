//! `POST /v3/access-request-approvals/{approvalId}/reject` (and `/beta`):
//! reject a pending approval step (operation `rejectAccessRequest`).

use lambda_http::Request;
use shared::domain::approvals::decide;
use shared::error::ApiError;
use shared::http::{handle_change, json_body, path_param, ApiResponse, Operation};
use shared::models::CommentBody;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("rejectAccessRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, req, runner| async move {
            let id = path_param(&req, "approvalId")
                .ok_or_else(|| ApiError::bad_request("path parameter approvalId is required"))?;
            let body: CommentBody = json_body(&req)?;
            decide::reject(&runner, &principal, &id, &body, chrono::Utc::now()).await
        },
    )
    .await
}
