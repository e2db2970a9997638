//! `GET /v3/access-request-status`, `GET /beta/access-request-status`: list
//! requested-item statuses (operation `listAccessRequestStatus`).

use lambda_http::Request;
use shared::domain::access_requests::status;
use shared::http::{handle, query_params, ApiResponse, Operation, X_TOTAL_COUNT};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("listAccessRequestStatus");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, req| async move {
        let query = status::parse_query(&query_params(&req))?;
        let page = status::list(&state.store, &principal, &query).await?;
        let reply = ApiResponse::json(200, &page.items)?;
        Ok(if query.paging.count {
            reply.with_header(X_TOTAL_COUNT, page.total.to_string())
        } else {
            reply
        })
    })
    .await
}
