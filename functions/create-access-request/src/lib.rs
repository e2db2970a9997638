//! `POST /v3/access-requests`, `POST /beta/access-requests`: submit an access
//! request (operation `createAccessRequest`).

use lambda_http::Request;
use shared::domain::access_requests::submit;
use shared::http::{handle_change, json_body, ApiResponse, Operation};
use shared::models::AccessRequest;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("createAccessRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, req, runner| async move {
            let body: AccessRequest = json_body(&req)?;
            submit::submit(&runner, &principal, body, chrono::Utc::now()).await
        },
    )
    .await
}
