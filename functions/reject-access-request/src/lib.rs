//! `POST /v3/access-request-approvals/{approvalId}/reject` (and `/beta`):
//! reject a pending approval step (operation `rejectAccessRequest`).

use lambda_http::Request;
use shared::domain::approvals::decide;
use shared::http::{handle_change, ApiResponse, Body, Operation, PathId};
use shared::models::CommentBody;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("rejectAccessRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, (PathId(id), Body(body)): (PathId, Body<CommentBody>), runner| async move {
            decide::reject(&runner, &principal, &id, &body, chrono::Utc::now()).await
        },
    )
    .await
}
