//! `GET /v3/non-employee-requests/summary/{requestedFor}` (and
//! `/beta`): counts by status of the non-employee requests an identity lists (operation `getNonEmployeeRequestSummary`).

use lambda_http::Request;
use shared::domain::non_employee::requests;
use shared::http::{handle, ApiResponse, Operation, PathId};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("getNonEmployeeRequestSummary");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(
        state,
        &OPERATION,
        req,
        |principal, PathId(requested_for)| async move {
            let summary = requests::summary(&state.store, &principal, &requested_for).await?;
            ApiResponse::json(200, &summary)
        },
    )
    .await
}
