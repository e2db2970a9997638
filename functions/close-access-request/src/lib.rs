//! `POST /beta/access-requests/close`: close up to 500 access requests at any
//! point of their life (operation `closeAccessRequest`, beta only).

use lambda_http::Request;
use shared::domain::access_requests::close;
use shared::http::{handle, json_body, ApiResponse, Operation};
use shared::models::{Accepted, CloseAccessRequest};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::idempotent("closeAccessRequest", 202);

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, req| async move {
        let body: CloseAccessRequest = json_body(&req)?;
        close::close(&state.store, &principal, &body, chrono::Utc::now()).await?;
        ApiResponse::json(202, &Accepted {})
    })
    .await
}
