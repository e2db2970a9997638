//! `DELETE /v3/non-employee-requests/{id}` (and `/beta`): ORG_ADMIN deletes
//! a non-employee request (operation `deleteNonEmployeeRequest`).

use lambda_http::Request;
use shared::domain::non_employee::delete;
use shared::error::ApiError;
use shared::http::{handle_change, path_param, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("deleteNonEmployeeRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, req, runner| async move {
            let id = path_param(&req, "id")
                .ok_or_else(|| ApiError::bad_request("path parameter id is required"))?;
            delete::delete(&runner, &principal, &id).await
        },
    )
    .await
}
