//! `POST /beta/access-requests/close`: close up to 500 access requests at any
//! point of their life (operation `closeAccessRequest`, beta only).

use lambda_http::Request;
use shared::domain::access_requests::close;
use shared::http::{handle_change, ApiResponse, Body, Operation};
use shared::models::CloseAccessRequest;
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("closeAccessRequest");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle_change(
        state,
        &OPERATION,
        req,
        |principal, Body(body): Body<CloseAccessRequest>, runner| async move {
            close::close(&runner, &principal, &body, chrono::Utc::now()).await
        },
    )
    .await
}
