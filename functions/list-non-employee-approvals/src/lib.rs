//! `GET /v3/non-employee-approvals` (and `/beta`): the non-employee
//! approval items an identity may decide or decided (operation `listNonEmployeeApprovals`).

use lambda_http::Request;
use shared::domain::non_employee::approvals::{self, ListQuery};
use shared::http::{handle, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("listNonEmployeeApprovals");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(
        state,
        &OPERATION,
        req,
        |principal, query: ListQuery| async move {
            let page = approvals::list(&state.store, &principal, &query).await?;
            ApiResponse::list(&page, query.paging.count)
        },
    )
    .await
}
