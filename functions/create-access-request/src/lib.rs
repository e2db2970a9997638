//! `POST /v3/access-requests`, `POST /beta/access-requests`: submit an access
//! request (operation `createAccessRequest`).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::domain::submit;
use shared::http::{handle, json_body, Reply};
use shared::models::AccessRequest;
use shared::state::AppState;

pub const OPERATION: &str = "createAccessRequest";

pub async fn handler(state: &AppState, req: Request) -> Response<Body> {
    handle(state, OPERATION, req, |principal, req| async move {
        let body: AccessRequest = json_body(&req)?;
        let response = submit::submit(&*state.store, &principal, body, chrono::Utc::now()).await?;
        Reply::json(StatusCode::ACCEPTED, &response)
    })
    .await
}
