//! `POST /v3/access-requests/cancel`, `POST /beta/access-requests/cancel`:
//! cancel an access request that has not passed approval (operation
//! `cancelAccessRequest`).

use lambda_http::Request;
use shared::domain::access_requests::cancel;
use shared::http::{handle_change, ApiResponse, Body, Operation};
use shared::models::CancelAccessRequest;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("cancelAccessRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, Body(body): Body<CancelAccessRequest>, runner| async move {
            cancel::cancel(&runner, &principal, &body, chrono::Utc::now()).await
        },
    )
    .await
}
