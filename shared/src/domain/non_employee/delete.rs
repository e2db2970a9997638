//! `DELETE /non-employee-requests/{id}` (SPEC §11): ORG_ADMIN removes a
//! request, its copies, its undecided items and its hold on the account
//! name in one transaction; decided items stay in their approvers' lists.

use super::{path_id, unknown_request};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::records::NonEmployeeRequestRecord;
use crate::retry::{optimistic, Attempt};
use crate::store::{Store, StoreError};

/// Deletes non-employee request `id`.
pub async fn delete(store: &Store, principal: &Principal, id: &str) -> Result<(), ApiError> {
    let id = path_id("id", id)?;
    if !principal.is_org_admin() {
        return Err(ApiError::Forbidden(
            "only ORG_ADMIN may delete non-employee requests".into(),
        ));
    }
    let tenant = principal.tenant_id.as_str();
    optimistic(|lost: Option<NonEmployeeRequestRecord>| async move {
        let Some(current) = store.non_employee_request(tenant, id).await? else {
            // Gone since the previous attempt: that attempt's delete landed
            // although its answer said otherwise.
            return if lost.is_some() {
                Ok(Attempt::Done(()))
            } else {
                Err(unknown_request(id))
            };
        };
        match store.delete_non_employee_request(tenant, &current).await {
            Ok(()) => Ok(Attempt::Done(())),
            Err(StoreError::Conflict(_)) => Ok(Attempt::Lost(current)),
            Err(e) => Err(e.into()),
        }
    })
    .await?
    .ok_or_else(|| ApiError::Internal(format!("delete of {id} kept conflicting")))
}
