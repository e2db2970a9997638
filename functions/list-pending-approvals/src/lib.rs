//! `GET /v3/access-request-approvals/pending` (and `/beta`): the approvals
//! waiting for an approver (operation `listPendingApprovals`).

use lambda_http::Request;
use shared::domain::approvals::{lists, ApiVersion};
use shared::http::{handle, query_params, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("listPendingApprovals");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, req| async move {
        let version = ApiVersion::from_path(req.uri().path());
        let query = lists::parse_list(&query_params(&req), lists::pending_filters(version))?;
        let page = lists::pending(&state.store, &principal, &query, version).await?;
        ApiResponse::list(&page, query.paging.count)
    })
    .await
}
