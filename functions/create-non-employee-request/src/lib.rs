//! `POST /v3/non-employee-requests` (and `/beta`): a sponsor requests a
//! non-employee account on a source (operation `createNonEmployeeRequest`).

use lambda_http::Request;
use shared::domain::non_employee::create;
use shared::http::{handle_change, ApiResponse, Body, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("createNonEmployeeRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, Body(body): Body<serde_json::Value>, runner| async move {
            create::create(&runner, &principal, &body, chrono::Utc::now()).await
        },
    )
    .await
}
