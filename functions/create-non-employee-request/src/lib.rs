//! `POST /v3/non-employee-requests` (and `/beta`): a sponsor requests a
//! non-employee account on a source (operation `createNonEmployeeRequest`).

use lambda_http::Request;
use shared::domain::non_employee::create;
use shared::http::{handle, json_body, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::idempotent("createNonEmployeeRequest", 200);

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, req| async move {
        let body: serde_json::Value = json_body(&req)?;
        let request = create::create(&state.store, &principal, &body, chrono::Utc::now()).await?;
        ApiResponse::json(200, &request)
    })
    .await
}
