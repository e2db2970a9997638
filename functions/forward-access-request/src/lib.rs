//! `POST /v3/access-request-approvals/{approvalId}/forward` (and `/beta`):
//! hand a pending approval step to another identity (operation
//! `forwardAccessRequest`).

use lambda_http::Request;
use shared::domain::approvals::decide;
use shared::error::ApiError;
use shared::http::{handle_change, json_body, path_param, ApiResponse, Operation};
use shared::models::ForwardApprovalDto;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("forwardAccessRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, req, runner| async move {
            let id = path_param(&req, "approvalId")
                .ok_or_else(|| ApiError::bad_request("path parameter approvalId is required"))?;
            let body: ForwardApprovalDto = json_body(&req)?;
            decide::forward(&runner, &principal, &id, &body, chrono::Utc::now()).await
        },
    )
    .await
}
