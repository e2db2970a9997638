//! `GET /v3/non-employee-requests/{id}` (and `/beta`): one non-employee
//! request (operation `getNonEmployeeRequest`).

use lambda_http::Request;
use shared::domain::non_employee::requests;
use shared::http::{handle, ApiResponse, Operation, PathId};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("getNonEmployeeRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, PathId(id)| async move {
        let request = requests::get(&state.store, &principal, &id).await?;
        ApiResponse::json(200, &request)
    })
    .await
}
