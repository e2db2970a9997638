//! `GET /v3/access-request-status`, `GET /beta/access-request-status`: list
//! requested-item statuses (operation `listAccessRequestStatus`).

use lambda_http::Request;
use shared::domain::access_requests::status::{self, StatusQuery};
use shared::http::{handle, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("listAccessRequestStatus");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(
        state,
        &OPERATION,
        req,
        |principal, query: StatusQuery| async move {
            let page = status::list(&state.store, &principal, &query).await?;
            ApiResponse::list(&page, query.paging.count)
        },
    )
    .await
}
