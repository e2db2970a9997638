//! `POST /v3/non-employee-requests` (and `/beta`): a sponsor requests a
//! non-employee account on a source (operation `createNonEmployeeRequest`).

use lambda_http::Request;
use shared::domain::non_employee::create;
use shared::http::{handle_change, json_body, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("createNonEmployeeRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, req, runner| async move {
            let body: serde_json::Value = json_body(&req)?;
            create::create(&runner, &principal, &body, chrono::Utc::now()).await
        },
    )
    .await
}
