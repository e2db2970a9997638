//! `GET /v3/non-employee-requests` (and `/beta`): the non-employee
//! requests an identity sponsored or that are on sources it manages (operation `listNonEmployeeRequests`).

use lambda_http::Request;
use shared::domain::non_employee::requests::{self, ListQuery};
use shared::http::{handle, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("listNonEmployeeRequests");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(
        state,
        &OPERATION,
        req,
        |principal, query: ListQuery| async move {
            let page = requests::list(&state.store, &principal, &query).await?;
            ApiResponse::list(&page, query.paging.count)
        },
    )
    .await
}
