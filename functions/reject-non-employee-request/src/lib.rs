//! `POST /v3/non-employee-approvals/{id}/reject` (and `/beta`): reject a
//! non-employee approval item (operation `rejectNonEmployeeRequest`).

use lambda_http::Request;
use shared::domain::non_employee::reject;
use shared::http::{handle_change, ApiResponse, Body, Operation, PathId};
use shared::models::NonEmployeeRejectApprovalDecision;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("rejectNonEmployeeRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal,
         (PathId(id), Body(body)): (PathId, Body<NonEmployeeRejectApprovalDecision>),
         runner| async move {
            reject::reject(&runner, &principal, &id, &body, chrono::Utc::now()).await
        },
    )
    .await
}
