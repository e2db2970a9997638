//! `POST /v3/non-employee-approvals/{id}/approve` (and `/beta`):
//! approve a non-employee approval item (operation `approveNonEmployeeRequest`).

use lambda_http::Request;
use shared::domain::non_employee::approve;
use shared::error::ApiError;
use shared::http::{handle_change, json_body, path_param, ApiResponse, Operation};
use shared::models::NonEmployeeApprovalDecision;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("approveNonEmployeeRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, req, runner| async move {
            let id = path_param(&req, "id")
                .ok_or_else(|| ApiError::bad_request("path parameter id is required"))?;
            // The comment is optional: no body at all is no comment.
            let body: NonEmployeeApprovalDecision =
                if req.body().as_ref().iter().all(u8::is_ascii_whitespace) {
                    NonEmployeeApprovalDecision::default()
                } else {
                    json_body(&req)?
                };
            approve::approve(&runner, &principal, &id, &body, chrono::Utc::now()).await
        },
    )
    .await
}
