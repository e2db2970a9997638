//! `POST /beta/access-requests/close`: close up to 500 access requests at any
//! point of their life (operation `closeAccessRequest`, beta only).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::domain::close;
use shared::http::{handle, json_body, Reply};
use shared::models::CloseAccessRequest;
use shared::state::AppState;

pub const OPERATION: &str = "closeAccessRequest";

pub async fn handler(state: &AppState, req: Request) -> Response<Body> {
    handle(state, OPERATION, req, |principal, req| async move {
        let body: CloseAccessRequest = json_body(&req)?;
        close::close(&*state.store, &principal, &body, chrono::Utc::now()).await?;
        Reply::json(StatusCode::ACCEPTED, &serde_json::json!({}))
    })
    .await
}
