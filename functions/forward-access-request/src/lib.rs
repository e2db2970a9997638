//! `POST /v3/access-request-approvals/{approvalId}/forward` (and `/beta`):
//! hand a pending approval step to another identity (operation
//! `forwardAccessRequest`).

use lambda_http::Request;
use shared::domain::approvals::decide;
use shared::http::{handle_change, ApiResponse, Body, Operation, PathId};
use shared::models::ForwardApprovalDto;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("forwardAccessRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(state, &OPERATION, req, |principal, (PathId(id), Body(body)): (PathId, Body<ForwardApprovalDto>), runner| async move {
        decide::forward(&runner, &principal, &id, &body, chrono::Utc::now()).await
    })
    .await
}
