//! `DELETE /non-employee-requests/{id}` (SPEC §11): ORG_ADMIN removes a
//! request, its copies, its undecided items and its hold on the account
//! name in one transaction; decided items stay in their approvers' lists.

use super::{path_id, unknown_request};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::plan::{Plan, Runner, Settled, Step};
use crate::records::NonEmployeeRequestRecord;
use crate::store::writes;

/// Deletes non-employee request `id`.
pub async fn delete(
    runner: &Runner,
    principal: &Principal,
    id: &str,
) -> Result<Settled<()>, ApiError> {
    let id = path_id("id", id)?;
    if !principal.is_org_admin() {
        return Err(ApiError::Forbidden(
            "only ORG_ADMIN may delete non-employee requests".into(),
        ));
    }
    let tenant = principal.tenant_id.as_str();
    runner
        .run(|lost: Option<NonEmployeeRequestRecord>| async move {
            let Some(current) = runner.store().non_employee_request(tenant, id).await? else {
                // Gone since the previous attempt: that attempt's delete landed
                // although its answer said otherwise.
                return if lost.is_some() {
                    Ok(Step::Answer(()))
                } else {
                    Err(unknown_request(id))
                };
            };
            Ok(Step::Write(Plan {
                writes: writes::non_employee_deletion(tenant, &current),
                answer: (),
                mark: current,
            }))
        })
        .await
}
