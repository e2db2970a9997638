//! Non-employee requests and their approval items (SPEC §8, §11): a sponsor
//! (an account manager of a source) requests an account for a contractor,
//! and the source's approvers decide, in order.
//!
//! Every write follows one shape: one read batch, a decision on what it
//! found (the response computed from the decision), one conditional write
//! batch, under [`crate::retry::optimistic`].

use crate::auth::Principal;
use crate::error::ApiError;
use crate::models::{
    ApprovalItemRequest, IdentityReference, IdentityType, NonEmployeeApprovalItem,
    NonEmployeeApprovalItemBase, NonEmployeeApprovalItemDetail, NonEmployeeRequest,
    NonEmployeeRequestLite, NonEmployeeRequestWithoutApprovalItem, NonEmployeeSourceLite,
    NonEmployeeSourceLiteWithSchemaAttributes, ReferenceWithId,
};
use crate::records::{
    NamedRef, NonEmployeeApprovalRecord, NonEmployeeApprovalViewRecord, NonEmployeeRequestRecord,
};

pub mod approvals;
pub mod approve;
pub mod create;
mod decision;
pub mod delete;
pub mod reject;
pub mod requests;

/// Approve and reject comments: at most this many characters.
pub const MAX_COMMENT_CHARS: usize = 4000;

/// Whether `principal` may read `request` and its approval items: ORG_ADMIN,
/// and the identities the request is visible to.
pub(crate) fn may_read(principal: &Principal, request: &NonEmployeeRequestRecord) -> bool {
    principal.is_org_admin()
        || principal
            .identity_id
            .as_deref()
            .is_some_and(|me| request.visible_to(me))
}

/// The identity a read is about (`requested-for`): `me` (any case) is the
/// caller. Anyone may name themselves; only ORG_ADMIN another identity.
pub(crate) fn subject(principal: &Principal, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::bad_request(
            "requested-for is empty; give an identity id or me",
        ));
    }
    crate::limits::check_id("requested-for", value).map_err(ApiError::bad_request)?;
    let id = if value.eq_ignore_ascii_case("me") {
        principal.identity_id.clone().ok_or_else(|| {
            ApiError::bad_request(
                "requested-for=me needs a token with a user context; give an identity id",
            )
        })?
    } else {
        value.to_string()
    };
    if !principal.is(&id) && !principal.is_org_admin() {
        return Err(ApiError::Forbidden(format!(
            "only ORG_ADMIN may read the non-employee requests and approvals of another identity ({id})"
        )));
    }
    Ok(id)
}

fn requester(r: &NamedRef) -> IdentityReference {
    IdentityReference {
        ref_type: IdentityType::Identity,
        id: r.id.clone(),
        name: r.name.clone(),
    }
}

fn approver(item: &NonEmployeeApprovalRecord) -> ReferenceWithId {
    ReferenceWithId {
        ref_type: item.approver.owner_type,
        id: item.approver.id.clone(),
    }
}

fn source_lite(r: &NonEmployeeRequestRecord) -> NonEmployeeSourceLite {
    NonEmployeeSourceLite {
        id: r.source.id.clone(),
        source_id: r.source.id.clone(),
        name: r.source.name.clone(),
        description: r.source.description.clone(),
    }
}

/// The `NonEmployeeRequest` of a stored request.
pub fn request_model(r: &NonEmployeeRequestRecord) -> NonEmployeeRequest {
    NonEmployeeRequest {
        id: r.id.clone(),
        source_id: r.source.id.clone(),
        name: r.source.name.clone(),
        description: r.source.description.clone(),
        account_name: r.account_name.clone(),
        first_name: r.first_name.clone(),
        last_name: r.last_name.clone(),
        email: r.email.clone(),
        phone: r.phone.clone(),
        manager: r.manager.clone(),
        non_employee_source: source_lite(r),
        data: r.data.clone(),
        approval_items: r
            .approval_items
            .iter()
            .map(|i| NonEmployeeApprovalItemBase {
                id: i.id.clone(),
                approver: approver(i),
                account_name: r.account_name.clone(),
                approval_status: i.approval_status,
                approval_order: i.approval_order,
                comment: i.comment.clone(),
                modified: i.modified,
                created: i.created,
            })
            .collect(),
        approval_status: r.approval_status,
        comment: None,
        completion_date: r.completion_date,
        start_date: r.start_date,
        end_date: r.end_date,
        modified: r.modified,
        created: r.created,
    }
}

/// The `NonEmployeeApprovalItem` of an approvals list entry.
pub fn view_item(v: &NonEmployeeApprovalViewRecord) -> NonEmployeeApprovalItem {
    NonEmployeeApprovalItem {
        id: v.item.id.clone(),
        approver: approver(&v.item),
        account_name: v.account_name.clone(),
        approval_status: v.item.approval_status,
        approval_order: v.item.approval_order,
        comment: v.item.comment.clone(),
        modified: v.item.modified,
        created: v.item.created,
        non_employee_request: NonEmployeeRequestLite {
            id: v.request_id.clone(),
            requester: requester(&v.requester),
        },
    }
}

/// The `NonEmployeeApprovalItem` of approval item `id` of `request`.
pub fn approval_item(
    request: &NonEmployeeRequestRecord,
    id: &str,
) -> Option<NonEmployeeApprovalItem> {
    let item = request.item(id)?;
    Some(view_item(&NonEmployeeApprovalViewRecord::of(request, item)))
}

/// The `NonEmployeeApprovalItemDetail` of approval item `id` of `request`:
/// with the request in full, or only its id and requester.
pub fn approval_detail(
    r: &NonEmployeeRequestRecord,
    id: &str,
    include_detail: bool,
) -> Option<NonEmployeeApprovalItemDetail> {
    let item = r.item(id)?;
    let request = if include_detail {
        ApprovalItemRequest::Detail(Box::new(NonEmployeeRequestWithoutApprovalItem {
            id: r.id.clone(),
            requester: requester(&r.requester),
            account_name: r.account_name.clone(),
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            email: r.email.clone(),
            phone: r.phone.clone(),
            manager: r.manager.clone(),
            non_employee_source: NonEmployeeSourceLiteWithSchemaAttributes {
                id: r.source.id.clone(),
                source_id: r.source.id.clone(),
                name: r.source.name.clone(),
                description: r.source.description.clone(),
                schema_attributes: Vec::new(),
            },
            data: r.data.clone(),
            approval_status: r.approval_status,
            comment: None,
            completion_date: r.completion_date,
            // `format: date`: the day as the sponsor wrote it.
            start_date: r.start_date.date_naive(),
            end_date: r.end_date.date_naive(),
            modified: r.modified,
            created: r.created,
        }))
    } else {
        ApprovalItemRequest::Lite(NonEmployeeRequestLite {
            id: r.id.clone(),
            requester: requester(&r.requester),
        })
    };
    Some(NonEmployeeApprovalItemDetail {
        id: item.id.clone(),
        approver: approver(item),
        account_name: r.account_name.clone(),
        approval_status: item.approval_status,
        approval_order: item.approval_order,
        comment: item.comment.clone(),
        modified: item.modified,
        created: item.created,
        non_employee_request: request,
    })
}

/// The 404 of an unknown (or another tenant's) approval item.
pub(crate) fn unknown_item(id: &str) -> ApiError {
    ApiError::NotFound(format!("non-employee approval item {id} was not found"))
}

/// The 404 of an unknown (or another tenant's) request.
pub(crate) fn unknown_request(id: &str) -> ApiError {
    ApiError::NotFound(format!("non-employee request {id} was not found"))
}

/// A path parameter id, trimmed; blank, or not the shape of an id, is a
/// 400 (before any store call).
pub(crate) fn path_id<'a>(name: &str, id: &'a str) -> Result<&'a str, ApiError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(ApiError::bad_request(format!(
            "path parameter {name} is empty"
        )));
    }
    crate::limits::check_id(&format!("path parameter {name}"), id)
        .map_err(ApiError::bad_request)?;
    Ok(id)
}

/// What a decision without a comment may still add to a request's row
/// (statuses, its completion date): kept free by the checks of
/// [`check_row`].
const ROW_RESERVE_BYTES: usize = 1024;

/// A request is listed 250 to a page (`GET /non-employee-requests`): as
/// answered, with its approval items and their comments, it must stay
/// within [`crate::limits::MAX_ROW_BYTES`], less what its decisions without
/// a comment may add. `field` is what brought the text.
pub(crate) fn check_row(record: &NonEmployeeRequestRecord, field: &str) -> Result<(), ApiError> {
    let size = crate::limits::escaped_json_bytes(&request_model(record));
    let limit = crate::limits::MAX_ROW_BYTES - ROW_RESERVE_BYTES;
    if size <= limit {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "{field}: with it, non-employee request {} would take {size} bytes as listed; at most \
         {limit} are allowed: {} bytes too many (a character takes 1 to 4 bytes; see docs/decisions.md, \
         \"Size bounds\")",
        record.id,
        size - limit
    )))
}
