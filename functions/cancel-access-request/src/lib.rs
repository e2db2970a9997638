//! `POST /v3/access-requests/cancel`, `POST /beta/access-requests/cancel`:
//! cancel an access request that has not passed approval (operation
//! `cancelAccessRequest`).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::domain::cancel;
use shared::http::{handle, json_body, Reply};
use shared::models::CancelAccessRequest;
use shared::state::AppState;

pub const OPERATION: &str = "cancelAccessRequest";

pub async fn handler(state: &AppState, req: Request) -> Response<Body> {
    handle(state, OPERATION, req, |principal, req| async move {
        let body: CancelAccessRequest = json_body(&req)?;
        cancel::cancel(&*state.store, &principal, &body, chrono::Utc::now()).await?;
        Reply::json(StatusCode::ACCEPTED, &serde_json::json!({}))
    })
    .await
}
