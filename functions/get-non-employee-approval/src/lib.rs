//! `GET /v3/non-employee-approvals/{id}` (and `/beta`): one non-employee
//! approval item, with its request unless `include-detail=false` (operation `getNonEmployeeApproval`).

use lambda_http::Request;
use shared::domain::collection::Params;
use shared::domain::non_employee::approvals;
use shared::error::ApiError;
use shared::http::{handle, path_param, query_params, ApiResponse, Operation};
use shared::state::AppState;

pub const OPERATION: Operation = Operation::new("getNonEmployeeApproval");

pub async fn handler(state: &AppState, req: Request) -> ApiResponse {
    handle(state, &OPERATION, req, |principal, req| async move {
        let id = path_param(&req, "id")
            .ok_or_else(|| ApiError::bad_request("path parameter id is required"))?;
        let params = query_params(&req);
        let mut p = Params::new(&params);
        let include_detail = p.flag("include-detail", true);
        p.finish()?;
        let item = approvals::get(&state.store, &principal, &id, include_detail).await?;
        ApiResponse::json(200, &item)
    })
    .await
}
