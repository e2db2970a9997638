//! `POST /v3/access-requests`, `POST /beta/access-requests`: submit an access
//! request (operation `createAccessRequest`).

use lambda_http::Request;
use shared::domain::access_requests::submit;
use shared::http::{handle, json_body, ApiResponse, Operation};
use shared::models::AccessRequest;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::idempotent("createAccessRequest", 202);

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, req| async move {
        let body: AccessRequest = json_body(&req)?;
        let response = submit::submit(&state.store, &principal, body, chrono::Utc::now()).await?;
        ApiResponse::json(202, &response)
    })
    .await
}
