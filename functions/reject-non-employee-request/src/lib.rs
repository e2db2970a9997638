//! `POST /v3/non-employee-approvals/{id}/reject` (and `/beta`): reject a
//! non-employee approval item (operation `rejectNonEmployeeRequest`).

use lambda_http::Request;
use shared::domain::non_employee::reject;
use shared::error::ApiError;
use shared::http::{handle_change, json_body, path_param, ApiResponse, Operation};
use shared::models::NonEmployeeRejectApprovalDecision;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("rejectNonEmployeeRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, req, runner| async move {
            let id = path_param(&req, "id")
                .ok_or_else(|| ApiError::bad_request("path parameter id is required"))?;
            let body: NonEmployeeRejectApprovalDecision = json_body(&req)?;
            reject::reject(&runner, &principal, &id, &body, chrono::Utc::now()).await
        },
    )
    .await
}
