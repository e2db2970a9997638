//! `POST /non-employee-approvals/{id}/reject` (SPEC §8): the item, its
//! non-employee request and the request's undecided items change together.

use chrono::{DateTime, Utc};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::idempotency;
use crate::models::{
    ApprovalStatus, IdentityReference, IdentityType, NonEmployeeApprovalItem,
    NonEmployeeRejectApprovalDecision, NonEmployeeRequestLite, ReferenceWithId,
};
use crate::records::NonEmployeeRequestRecord;
use crate::retry::{optimistic, Attempt};
use crate::store::{Store, StoreError};

pub const MAX_COMMENT_CHARS: usize = 4000;
/// Authorities that may reject any item, besides its approver.
const REJECTING_AUTHORITIES: [&str; 3] = ["ORG_ADMIN", "SOURCE_ADMIN", "SOURCE_SUBADMIN"];

/// Rejects approval item `id` with the decision's comment.
pub async fn reject(
    store: &Store,
    principal: &Principal,
    id: &str,
    body: &NonEmployeeRejectApprovalDecision,
    now: DateTime<Utc>,
) -> Result<NonEmployeeApprovalItem, ApiError> {
    // Characters, not bytes: 4000 CJK characters (12000 bytes) are fine.
    let chars = body.comment.chars().count();
    if body.comment.trim().is_empty() {
        return Err(ApiError::bad_request(format!(
            "comment is required: give 1 to {MAX_COMMENT_CHARS} characters, not only blanks"
        )));
    }
    if chars > MAX_COMMENT_CHARS {
        return Err(ApiError::bad_request(format!(
            "comment is {chars} characters long; at most {MAX_COMMENT_CHARS} are allowed"
        )));
    }
    let id = id.trim();
    if id.is_empty() {
        return Err(ApiError::bad_request("path parameter id is empty"));
    }
    let tenant = principal.tenant_id.as_str();
    optimistic(|lost: Option<NonEmployeeRequestRecord>| async move {
        let Some(current) = store.get_non_employee_request(tenant, id).await? else {
            return Err(ApiError::NotFound(format!(
                "non-employee approval item {id} was not found"
            )));
        };
        // A write the store reported as failed (a retried attempt whose first
        // try had landed) may have taken effect after all.
        if lost.as_ref() == Some(&current) {
            return Ok(Attempt::Done(current));
        }
        let Some(item) = current.item(id) else {
            return Err(ApiError::NotFound(format!(
                "non-employee approval item {id} was not found"
            )));
        };
        let is_approver = principal
            .identity_id
            .as_deref()
            .is_some_and(|me| item.approver.may_act(me));
        if !is_approver
            && !REJECTING_AUTHORITIES
                .iter()
                .any(|a| principal.has_authority(a))
        {
            return Err(ApiError::Forbidden(format!(
                "only the approver of item {id}, ORG_ADMIN, SOURCE_ADMIN or SOURCE_SUBADMIN may reject it"
            )));
        }
        if item.approval_status != ApprovalStatus::Pending {
            return Err(ApiError::bad_request(format!(
                "non-employee approval item {id} is {}; only PENDING items can be rejected",
                item.approval_status.as_str()
            )));
        }
        let next = rejected(&current, id, &body.comment, now);
        if let Some(answer) = approval_item(&next, id) {
            idempotency::arm(&answer);
        }
        match store.update_non_employee_request(tenant, &next).await {
            Ok(()) => Ok(Attempt::Done(next)),
            Err(StoreError::Conflict(_)) => Ok(Attempt::Lost(next)),
            Err(e) => Err(e.into()),
        }
    })
    .await?
    .ok_or_else(|| ApiError::Internal(format!("reject of {id} kept conflicting")))
    .and_then(|request| {
        approval_item(&request, id)
            .ok_or_else(|| ApiError::Internal(format!("item {id} vanished from its request")))
    })
}

/// The request after rejecting item `id`: the item REJECTED with the comment,
/// the request REJECTED, its other undecided items CANCELLED.
pub fn rejected(
    current: &NonEmployeeRequestRecord,
    id: &str,
    comment: &str,
    now: DateTime<Utc>,
) -> NonEmployeeRequestRecord {
    let mut next = current.clone();
    next.approval_status = ApprovalStatus::Rejected;
    next.modified = now;
    next.version += 1;
    for item in &mut next.approval_items {
        if item.id == id {
            item.approval_status = ApprovalStatus::Rejected;
            item.comment = Some(comment.to_string());
            item.modified = now;
        } else if item.approval_status.is_undecided() {
            item.approval_status = ApprovalStatus::Cancelled;
            item.modified = now;
        }
    }
    next
}

/// The API shape of approval item `id` of `request`.
pub fn approval_item(
    request: &NonEmployeeRequestRecord,
    id: &str,
) -> Option<NonEmployeeApprovalItem> {
    let item = request.item(id).cloned()?;
    Some(NonEmployeeApprovalItem {
        id: item.id,
        approver: ReferenceWithId {
            ref_type: item.approver.owner_type,
            id: item.approver.id,
        },
        account_name: request.account_name.clone(),
        approval_status: item.approval_status,
        approval_order: item.approval_order,
        comment: item.comment,
        modified: item.modified,
        created: item.created,
        non_employee_request: NonEmployeeRequestLite {
            id: request.id.clone(),
            requester: IdentityReference {
                ref_type: IdentityType::Identity,
                id: request.requester.id.clone(),
                name: request.requester.name.clone(),
            },
        },
    })
}
