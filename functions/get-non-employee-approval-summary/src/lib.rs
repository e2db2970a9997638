//! `GET /v3/non-employee-approvals/summary/{requestedFor}` (and
//! `/beta`): counts by status of the approval items an identity lists (operation `getNonEmployeeApprovalSummary`).

use lambda_http::Request;
use shared::domain::non_employee::approvals;
use shared::error::ApiError;
use shared::http::{handle, path_param, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("getNonEmployeeApprovalSummary");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, req| async move {
        let requested_for = path_param(&req, "requestedFor")
            .ok_or_else(|| ApiError::bad_request("path parameter requested-for is required"))?;
        let summary = approvals::summary(&state.store, &principal, &requested_for).await?;
        ApiResponse::json(200, &summary)
    })
    .await
}
