//! What approve and reject share: one consistent read of the item's copy of
//! its request, the checks, the next state of the whole request, and one
//! transaction conditional on the request's version. Of two racing
//! decisions on one request exactly one lands; the other re-reads and is
//! told the status it finds.

use chrono::{DateTime, Utc};

use super::{approval_item, path_id, unknown_item};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::models::{ApprovalStatus, NonEmployeeApprovalItem};
use crate::plan::{Plan, Runner, Settled, Step};
use crate::records::{request_status, NonEmployeeRequestRecord};
use crate::store::writes;

/// A decision on an approval item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Approve,
    Reject,
}

impl Verdict {
    fn verb(self) -> &'static str {
        match self {
            Verdict::Approve => "approved",
            Verdict::Reject => "rejected",
        }
    }

    /// Who may decide besides the item's approver (or a member of its group).
    fn authorities(self) -> &'static [&'static str] {
        match self {
            Verdict::Approve => &["ORG_ADMIN"],
            Verdict::Reject => &["ORG_ADMIN", "SOURCE_ADMIN", "SOURCE_SUBADMIN"],
        }
    }
}

/// Decides approval item `id`; the updated item.
pub(crate) async fn decide(
    runner: &Runner,
    principal: &Principal,
    id: &str,
    verdict: Verdict,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Settled<NonEmployeeApprovalItem>, ApiError> {
    let id = path_id("id", id)?;
    let tenant = principal.tenant_id.as_str();
    let store = runner.store();
    runner
        .run(|lost: Option<NonEmployeeRequestRecord>| async move {
            let Some(current) = store.non_employee_request_of_item(tenant, id).await? else {
                return Err(unknown_item(id));
            };
            // A write the store reported as failed (a retried attempt whose first
            // try had landed) may have taken effect after all.
            if lost.as_ref() == Some(&current) {
                return approval_item(&current, id)
                    .map(Step::Answer)
                    .ok_or_else(|| unknown_item(id));
            }
            let next = decided(&current, principal, id, verdict, comment, now)?;
            if comment.is_some() {
                super::check_row(&next, "comment")?;
            }
            let response = approval_item(&next, id).ok_or_else(|| unknown_item(id))?;
            Ok(Step::Write(Plan {
                writes: writes::non_employee_update(tenant, &current, &next),
                answer: response,
                mark: next,
            }))
        })
        .await
}

/// The request after `principal` decides item `id`, or why it may not.
fn decided(
    current: &NonEmployeeRequestRecord,
    principal: &Principal,
    id: &str,
    verdict: Verdict,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<NonEmployeeRequestRecord, ApiError> {
    let item = current.item(id).ok_or_else(|| unknown_item(id))?;
    let is_approver = principal
        .identity_id
        .as_deref()
        .is_some_and(|me| item.approver.may_act(me));
    let authorities = verdict.authorities();
    if !is_approver && !authorities.iter().any(|a| principal.has_authority(a)) {
        return Err(ApiError::Forbidden(match verdict {
            Verdict::Approve => {
                format!("only the approver of item {id} or ORG_ADMIN may approve it")
            }
            Verdict::Reject => format!(
                "only the approver of item {id}, ORG_ADMIN, SOURCE_ADMIN or SOURCE_SUBADMIN may reject it"
            ),
        }));
    }
    if item.approval_status != ApprovalStatus::Pending {
        return Err(ApiError::bad_request(format!(
            "non-employee approval item {id} is {}; only PENDING items can be {}",
            item.approval_status.as_str(),
            verdict.verb()
        )));
    }
    let reviewer = principal.identity_id.as_deref();
    Ok(match verdict {
        Verdict::Approve => approved(current, id, comment, reviewer, now),
        Verdict::Reject => rejected(current, id, comment.unwrap_or(""), reviewer, now),
    })
}

/// The request after approving item `id`: the item APPROVED; once every item
/// of its order is, the next order's items PENDING; after the last, the
/// request APPROVED with its completion date.
pub fn approved(
    current: &NonEmployeeRequestRecord,
    id: &str,
    comment: Option<&str>,
    reviewer: Option<&str>,
    now: DateTime<Utc>,
) -> NonEmployeeRequestRecord {
    let mut next = current.clone();
    next.version += 1;
    next.modified = now;
    let mut order = None;
    for item in next.approval_items.iter_mut().filter(|i| i.id == id) {
        item.approval_status = ApprovalStatus::Approved;
        item.comment = comment.map(str::to_string);
        item.reviewer_id = reviewer.map(str::to_string);
        item.modified = now;
        order = Some(item.approval_order);
    }
    let order_done = next
        .approval_items
        .iter()
        .filter(|i| Some(i.approval_order) == order)
        .all(|i| i.approval_status == ApprovalStatus::Approved);
    if order_done {
        let following = next
            .approval_items
            .iter()
            .filter(|i| i.approval_status == ApprovalStatus::NotReady)
            .map(|i| i.approval_order)
            .min_by(f64::total_cmp);
        for item in next
            .approval_items
            .iter_mut()
            .filter(|i| i.approval_status == ApprovalStatus::NotReady)
            .filter(|i| Some(i.approval_order) == following)
        {
            item.approval_status = ApprovalStatus::Pending;
            item.modified = now;
        }
    }
    if request_status(&next.approval_items) == ApprovalStatus::Approved {
        next.approval_status = ApprovalStatus::Approved;
        next.completion_date = Some(now);
    }
    next
}

/// The request after rejecting item `id`: the item REJECTED with the
/// comment, the request REJECTED (its account name free again), its other
/// undecided items CANCELLED.
pub fn rejected(
    current: &NonEmployeeRequestRecord,
    id: &str,
    comment: &str,
    reviewer: Option<&str>,
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
            item.reviewer_id = reviewer.map(str::to_string);
            item.modified = now;
        } else if item.approval_status.is_undecided() {
            item.approval_status = ApprovalStatus::Cancelled;
            item.modified = now;
        }
    }
    next
}

/// The 400 for a comment over [`super::MAX_COMMENT_CHARS`] characters
/// (characters, not bytes: 4000 CJK characters are fine), or holding
/// control characters.
pub(crate) fn check_comment_length(comment: &str) -> Result<(), ApiError> {
    crate::limits::check_text("comment", comment, super::MAX_COMMENT_CHARS)
        .map_err(ApiError::bad_request)
}
