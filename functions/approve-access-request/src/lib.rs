//! `POST /v3/access-request-approvals/{approvalId}/approve` (and `/beta`):
//! approve a pending approval step (operation `approveAccessRequest`).

use lambda_http::Request;
use shared::domain::approvals::decide;
use shared::http::{handle_change, ApiResponse, ApprovalComment, Operation, PathId};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("approveAccessRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, (PathId(id), ApprovalComment(body)), runner| async move {
            decide::approve(&runner, &principal, &id, &body, chrono::Utc::now()).await
        },
    )
    .await
}
