//! `GET /v3/access-request-approvals/pending` (and `/beta`): the approvals
//! waiting for an approver (operation `listPendingApprovals`).

use lambda_http::Request;
use shared::domain::approvals::lists;
use shared::http::{handle, ApiResponse, Operation, PendingQuery};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("listPendingApprovals");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(
        state,
        &OPERATION,
        req,
        |principal, PendingQuery { version, query }| async move {
            let page = lists::pending(&state.store, &principal, &query, version).await?;
            ApiResponse::list(&page, query.paging.count)
        },
    )
    .await
}
