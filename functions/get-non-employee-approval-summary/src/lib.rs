//! `GET /v3/non-employee-approvals/summary/{requestedFor}` (and
//! `/beta`): counts by status of the approval items an identity lists (operation `getNonEmployeeApprovalSummary`).

use lambda_http::Request;
use shared::domain::non_employee::approvals;
use shared::http::{handle, ApiResponse, Operation, PathId};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("getNonEmployeeApprovalSummary");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(
        state,
        &OPERATION,
        req,
        |principal, PathId(requested_for)| async move {
            let summary = approvals::summary(&state.store, &principal, &requested_for).await?;
            ApiResponse::json(200, &summary)
        },
    )
    .await
}
