//! `DELETE /v3/non-employee-requests/{id}` (and `/beta`): ORG_ADMIN deletes
//! a non-employee request (operation `deleteNonEmployeeRequest`).

use lambda_http::Request;
use shared::domain::non_employee::delete;
use shared::http::{handle_change, ApiResponse, Operation, PathId};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("deleteNonEmployeeRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(state, &OPERATION, req, |principal, PathId(id), runner| async move {
        delete::delete(&runner, &principal, &id).await
    })
    .await
}
