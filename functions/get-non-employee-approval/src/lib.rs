//! `GET /v3/non-employee-approvals/{id}` (and `/beta`): one non-employee
//! approval item, with its request unless `include-detail=false` (operation `getNonEmployeeApproval`).

use lambda_http::Request;
use shared::domain::non_employee::approvals;
use shared::http::{handle, ApiResponse, IncludeDetail, Operation, PathId};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("getNonEmployeeApproval");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(
        state,
        &OPERATION,
        req,
        |principal, (PathId(id), IncludeDetail(include_detail))| async move {
            let item = approvals::get(&state.store, &principal, &id, include_detail).await?;
            ApiResponse::json(200, &item)
        },
    )
    .await
}
