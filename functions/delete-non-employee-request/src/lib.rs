//! `DELETE /v3/non-employee-requests/{id}` (and `/beta`): ORG_ADMIN deletes
//! a non-employee request (operation `deleteNonEmployeeRequest`).

use lambda_http::Request;
use shared::domain::non_employee::delete;
use shared::error::ApiError;
use shared::http::{handle, path_param, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("deleteNonEmployeeRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, req| async move {
        let id = path_param(&req, "id")
            .ok_or_else(|| ApiError::bad_request("path parameter id is required"))?;
        delete::delete(&state.store, &principal, &id).await?;
        Ok(ApiResponse::empty(204))
    })
    .await
}
