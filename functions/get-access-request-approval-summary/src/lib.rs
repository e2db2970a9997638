//! `GET /v3/access-request-approvals/approval-summary` (and `/beta`): how
//! many approvals an approver has pending, approved and rejected (operation
//! `getAccessRequestApprovalSummary`).

use lambda_http::Request;
use shared::domain::approvals::lists::{self, SummaryQuery};
use shared::http::{handle, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("getAccessRequestApprovalSummary");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(
        state,
        &OPERATION,
        req,
        |principal, query: SummaryQuery| async move {
            let summary = lists::summary(&state.store, &principal, &query).await?;
            ApiResponse::json(200, &summary)
        },
    )
    .await
}
