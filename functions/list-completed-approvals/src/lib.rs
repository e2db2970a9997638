//! `GET /v3/access-request-approvals/completed` (and `/beta`): the approvals
//! an approver decided (operation `listCompletedApprovals`).

use lambda_http::Request;
use shared::domain::approvals::lists;
use shared::http::{handle, ApiResponse, CompletedQuery, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("listCompletedApprovals");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(
        state,
        &OPERATION,
        req,
        |principal, CompletedQuery(query)| async move {
            let page = lists::completed(&state.store, &principal, &query).await?;
            ApiResponse::list(&page, query.paging.count)
        },
    )
    .await
}
