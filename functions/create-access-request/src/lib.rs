//! `POST /v3/access-requests`, `POST /beta/access-requests`: submit an access
//! request (operation `createAccessRequest`).

use lambda_http::Request;
use shared::domain::access_requests::submit;
use shared::http::{handle_change, ApiResponse, Body, Operation};
use shared::models::AccessRequest;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("createAccessRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, Body(body): Body<AccessRequest>, runner| async move {
            submit::submit(&runner, &principal, body, chrono::Utc::now()).await
        },
    )
    .await
}
