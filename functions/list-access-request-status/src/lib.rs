//! `GET /v3/access-request-status`, `GET /beta/access-request-status`: list
//! requested-item statuses (operation `listAccessRequestStatus`).

use lambda_http::http::{HeaderName, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::domain::status;
use shared::http::{handle, query_params, Reply};
use shared::state::AppState;

pub const OPERATION: &str = "listAccessRequestStatus";

pub async fn handler(state: &AppState, req: Request) -> Response<Body> {
    handle(state, OPERATION, req, |principal, req| async move {
        let query = status::parse_query(&query_params(&req))?;
        let page = status::list(&*state.store, &principal, &query).await?;
        let reply = Reply::json(StatusCode::OK, &page.items)?;
        Ok(if query.count {
            reply.with_header(
                HeaderName::from_static("x-total-count"),
                page.total.to_string(),
            )
        } else {
            reply
        })
    })
    .await
}
