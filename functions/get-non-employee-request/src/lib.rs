//! `GET /v3/non-employee-requests/{id}` (and `/beta`): one non-employee
//! request (operation `getNonEmployeeRequest`).

use lambda_http::Request;
use shared::domain::non_employee::requests;
use shared::error::ApiError;
use shared::http::{handle, path_param, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("getNonEmployeeRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, req| async move {
        let id = path_param(&req, "id")
            .ok_or_else(|| ApiError::bad_request("path parameter id is required"))?;
        let request = requests::get(&state.store, &principal, &id).await?;
        ApiResponse::json(200, &request)
    })
    .await
}
