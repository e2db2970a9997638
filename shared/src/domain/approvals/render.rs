//! The approval views: `PendingApproval` and `CompletedApproval` from a list
//! entry, and the parts the status view shares with them, all from the one
//! stored `ApprovalRecord` of a step.

use crate::models::{
    AccessRequestPhase, ApprovalForwardHistory, ApprovalOwner, ApprovalStatusDto,
    CancelledRequestDetails, CommentDto, CompletedApproval, CompletedApprovalState,
    ErrorMessageDto, IdentityReference, IdentityType, LocaleOrigin, OwnerReference, OwnerType,
    PendingApproval, ReassignmentType, RequestableObjectReference, RequestedItemStatus,
    WorkItemState,
};
use crate::records::{
    AccessRequestRecord, ApprovalEntryRecord, ApprovalRecord, Approver, NamedRef,
    RequestedItemRecord, APPROVAL_PHASE,
};

use super::ApiVersion;

pub fn identity(r: &NamedRef) -> IdentityReference {
    IdentityReference {
        ref_type: IdentityType::Identity,
        id: r.id.clone(),
        name: r.name.clone(),
    }
}

/// An approval's owner: an identity, or a governance group (without a
/// `type`, which the schema does not allow for groups).
pub fn owner(a: &Approver) -> ApprovalOwner {
    ApprovalOwner {
        ref_type: (a.owner_type == OwnerType::Identity).then_some(IdentityType::Identity),
        id: a.id.clone(),
        name: a.name.clone(),
    }
}

pub fn forward_history(a: &ApprovalRecord) -> Vec<ApprovalForwardHistory> {
    a.forward_history
        .iter()
        .map(|f| ApprovalForwardHistory {
            old_approver_name: f.old_owner.name.clone(),
            new_approver_name: f.new_owner.name.clone(),
            comment: Some(f.comment.clone()),
            modified: f.modified,
            forwarder_name: Some(f.forwarder.name.clone()),
            reassignment_type: ReassignmentType::ManualReassignment,
        })
        .collect()
}

/// A reviewer's comment on a decided step, if they left one.
fn reviewer_comment(a: &ApprovalRecord) -> Option<CommentDto> {
    match (&a.comment, &a.reviewed_by, a.modified) {
        (Some(comment), Some(reviewer), Some(at)) => Some(CommentDto {
            comment: Some(comment.clone()),
            created: at,
            author: identity(reviewer),
        }),
        _ => None,
    }
}

fn requested_object(entry: &ApprovalEntryRecord) -> RequestableObjectReference {
    RequestableObjectReference {
        id: entry.item.item_id.clone(),
        name: entry.item.name.clone(),
        description: entry.item.description.clone(),
        item_type: entry.item.item_type,
    }
}

fn requester_comment(entry: &ApprovalEntryRecord) -> Option<CommentDto> {
    entry.item.comment.as_ref().map(|c| CommentDto {
        comment: Some(c.clone()),
        created: entry.request_created,
        author: identity(&entry.requester),
    })
}

/// The request's and the item's client metadata, the item's winning.
fn client_metadata(entry: &ApprovalEntryRecord) -> Option<crate::models::ClientMetadata> {
    match (&entry.client_metadata, &entry.item.client_metadata) {
        (None, None) => None,
        (request, item) => {
            let mut merged = request.clone().unwrap_or_default();
            merged.extend(item.clone().unwrap_or_default());
            Some(merged)
        }
    }
}

/// The comments of the steps decided before this one.
fn previous_comments(entry: &ApprovalEntryRecord) -> Vec<CommentDto> {
    entry
        .previous()
        .iter()
        .filter_map(reviewer_comment)
        .collect()
}

/// A pending entry as `PendingApproval` (`accessRequestId` only in v3).
pub fn pending(entry: &ApprovalEntryRecord, version: ApiVersion) -> Option<PendingApproval> {
    let a = entry.approval()?;
    let created = a.created_or(entry.request_created);
    Some(PendingApproval {
        id: a.approval_id.clone(),
        access_request_id: (version == ApiVersion::V3).then(|| entry.access_request_id.clone()),
        name: entry.item.name.clone(),
        created,
        modified: a.modified.unwrap_or(created),
        request_created: entry.request_created,
        request_type: Some(entry.request_type),
        requester: identity(&entry.requester),
        requested_for: identity(&entry.requested_for),
        owner: owner(a.owner()),
        requested_object: requested_object(entry),
        requester_comment: requester_comment(entry),
        previous_reviewers_comments: previous_comments(entry),
        forward_history: forward_history(a),
        comment_required_when_rejected: true,
        // Decisions take effect before their 202 is sent.
        action_in_process: None,
        remove_date: entry.item.remove_date,
        remove_date_update_requested: false,
        current_remove_date: None,
        start_date: entry.item.start_date,
        start_update_requested: false,
        current_start_date: None,
        sod_violation_context: None,
        client_metadata: client_metadata(entry),
        requested_accounts: None,
        privilege_level: None,
        max_permitted_access_duration: None,
    })
}

/// A decided entry as `CompletedApproval`.
pub fn completed(entry: &ApprovalEntryRecord) -> Option<CompletedApproval> {
    let a = entry.approval()?;
    let state = match a.status {
        WorkItemState::Approved => CompletedApprovalState::Approved,
        WorkItemState::Rejected => CompletedApprovalState::Rejected,
        _ => return None,
    };
    let created = a.created_or(entry.request_created);
    Some(CompletedApproval {
        id: a.approval_id.clone(),
        name: entry.item.name.clone(),
        created,
        modified: a.modified.unwrap_or(created),
        request_created: entry.request_created,
        request_type: Some(entry.request_type),
        requester: identity(&entry.requester),
        requested_for: identity(&entry.requested_for),
        reviewed_by: a.reviewed_by.as_ref().map(identity),
        owner: owner(a.owner()),
        requested_object: requested_object(entry),
        requester_comment: requester_comment(entry),
        reviewer_comment: reviewer_comment(a),
        previous_reviewers_comments: previous_comments(entry),
        forward_history: forward_history(a),
        comment_required_when_rejected: true,
        state,
        remove_date: entry.item.remove_date,
        remove_date_update_requested: false,
        current_remove_date: None,
        start_date: entry.item.start_date,
        start_update_requested: false,
        current_start_date: None,
        sod_violation_context: None,
        pre_approval_trigger_result: None,
        client_metadata: client_metadata(entry).unwrap_or_default(),
        requested_accounts: None,
        privilege_level: None,
        max_permitted_access_duration: None,
    })
}

/// One reached step as `approvalDetails` show it. `currentOwner`: who
/// decided it, or who owns it now (`null` while a governance group holds
/// it: no single identity does).
fn approval(a: &ApprovalRecord, item: &RequestedItemRecord) -> ApprovalStatusDto {
    let owner = a.owner();
    let current_owner = match (owner.owner_type, &a.reviewed_by) {
        (_, Some(reviewer)) => Some(identity(reviewer)),
        (OwnerType::Identity, None) => Some(IdentityReference {
            ref_type: IdentityType::Identity,
            id: owner.id.clone(),
            name: owner.name.clone(),
        }),
        (OwnerType::GovernanceGroup, None) => None,
    };
    ApprovalStatusDto {
        approval_id: Some(a.approval_id.clone()),
        forwarded: !a.forward_history.is_empty(),
        original_owner: OwnerReference {
            ref_type: a.approver.owner_type,
            id: a.approver.id.clone(),
            name: a.approver.name.clone(),
        },
        current_owner,
        reviewed_by: a.reviewed_by.as_ref().map(identity),
        modified: a.modified,
        status: a.status,
        scheme: a.scheme,
        error_messages: None,
        comment: a.comment.clone(),
        remove_date: item.remove_date,
    }
}

/// The `RequestedItemStatus` of one item of a request.
pub fn item_status(r: &AccessRequestRecord, i: &RequestedItemRecord) -> RequestedItemStatus {
    let client_metadata = match (&r.client_metadata, &i.client_metadata) {
        (None, None) => None,
        (request, item) => {
            let mut merged = request.clone().unwrap_or_default();
            merged.extend(item.clone().unwrap_or_default());
            Some(merged)
        }
    };
    let warnings: Vec<Vec<ErrorMessageDto>> = r
        .warnings
        .iter()
        .map(|w| {
            vec![ErrorMessageDto {
                locale: Some("en-US".into()),
                locale_origin: Some(LocaleOrigin::Default),
                text: w.clone(),
            }]
        })
        .collect();
    let phases: Vec<AccessRequestPhase> = r
        .item_phases(i)
        .iter()
        .map(|p| AccessRequestPhase {
            started: p.started,
            finished: p.finished,
            name: p.name.to_string(),
            state: p.state,
            result: p.result,
            phase_reference: (p.name == APPROVAL_PHASE && !i.approvals.is_empty())
                .then(|| "approvalDetails".to_string()),
        })
        .collect();
    RequestedItemStatus {
        // `id`, `name` and `type` describe the requested object (as the
        // service returns them), not the request.
        id: i.item_id.clone(),
        name: Some(i.name.clone()),
        item_type: Some(i.item_type),
        cancelled_request_details: r.cancellation.as_ref().map(|c| CancelledRequestDetails {
            comment: c.comment.clone(),
            owner: identity(&c.owner),
            modified: c.modified,
        }),
        error_messages: (!warnings.is_empty()).then_some(warnings),
        state: r.item_state(i),
        approval_details: i.approvals.iter().map(|a| approval(a, i)).collect(),
        approval_ids: Some(i.approvals.iter().map(|a| a.approval_id.clone()).collect()),
        manual_work_item_details: None,
        account_activity_item_id: i.account_activity_item_id.clone(),
        request_type: Some(r.request_type),
        modified: Some(r.modified),
        created: r.created,
        requester: identity(&r.requester),
        requested_for: identity(&r.requested_for),
        requester_comment: i.comment.as_ref().map(|c| CommentDto {
            comment: Some(c.clone()),
            created: r.created,
            author: identity(&r.requester),
        }),
        sod_violation_context: None,
        provisioning_details: None,
        pre_approval_trigger_details: None,
        access_request_phases: Some(phases),
        description: i.description.clone(),
        start_date: i.start_date,
        remove_date: i.remove_date,
        cancelable: r.cancelable(),
        access_request_id: r.id.clone(),
        client_metadata,
        requested_accounts: None,
        privilege_level: None,
    }
}
