//! `GET /v3/access-request-status`, `GET /beta/access-request-status`: list
//! requested-item statuses (operation `listAccessRequestStatus`).

use lambda_http::Request;
use shared::domain::access_requests::status;
use shared::http::{handle, query_params, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("listAccessRequestStatus");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, req| async move {
        let query = status::parse_query(&query_params(&req))?;
        let page = status::list(&state.store, &principal, &query).await?;
        ApiResponse::list(&page, query.paging.count)
    })
    .await
}
