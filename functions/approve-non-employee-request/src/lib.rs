//! `POST /v3/non-employee-approvals/{id}/approve` (and `/beta`):
//! approve a non-employee approval item (operation `approveNonEmployeeRequest`).

use lambda_http::Request;
use shared::domain::non_employee::approve;
use shared::http::{handle_change, ApiResponse, Operation, OptionalBody, PathId};
use shared::models::NonEmployeeApprovalDecision;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("approveNonEmployeeRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal,
         (PathId(id), OptionalBody(body)): (PathId, OptionalBody<NonEmployeeApprovalDecision>),
         runner| async move {
            approve::approve(&runner, &principal, &id, &body, chrono::Utc::now()).await
        },
    )
    .await
}
