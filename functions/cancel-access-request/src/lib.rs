//! `POST /v3/access-requests/cancel`, `POST /beta/access-requests/cancel`:
//! cancel an access request that has not passed approval (operation
//! `cancelAccessRequest`).

use lambda_http::Request;
use shared::domain::access_requests::cancel;
use shared::http::{handle, json_body, ApiResponse, Operation};
use shared::models::CancelAccessRequest;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::idempotent("cancelAccessRequest", 202);

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, req| async move {
        let body: CancelAccessRequest = json_body(&req)?;
        let accepted = cancel::cancel(&state.store, &principal, &body, chrono::Utc::now()).await?;
        ApiResponse::json(202, &accepted)
    })
    .await
}
