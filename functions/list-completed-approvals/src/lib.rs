//! `GET /v3/access-request-approvals/completed` (and `/beta`): the approvals
//! an approver decided (operation `listCompletedApprovals`).

use lambda_http::Request;
use shared::domain::approvals::lists;
use shared::http::{handle, query_params, ApiResponse, Operation, X_TOTAL_COUNT};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("listCompletedApprovals");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, req| async move {
        let query = lists::parse_list(&query_params(&req), &lists::COMPLETED_FILTERS)?;
        let page = lists::completed(&state.store, &principal, &query).await?;
        let reply = ApiResponse::json(200, &page.items)?;
        Ok(if query.paging.count {
            reply.with_header(X_TOTAL_COUNT, page.total.to_string())
        } else {
            reply
        })
    })
    .await
}
