//! The approval steps of a requested item, taken in order (SPEC §5, §10):
//! only the current step is pending; approving it reaches the next one, and
//! approving the last completes the item; rejecting it ends the item. Pure
//! functions from one request record to the next.

use chrono::{DateTime, Utc};

use crate::error::ApiError;
use crate::models::{PhaseResult, PhaseState, RequestState, WorkItemState};
use crate::records::{
    new_id, AccessRequestRecord, ApprovalRecord, Approver, ForwardRecord, NamedRef, PhaseRecord,
    PlannedStep, RequestedItemRecord, APPROVAL_PHASE, PROVISIONING_PHASE,
};

/// What an approver decides on a pending step.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Approve {
        comment: Option<String>,
    },
    Reject {
        comment: String,
    },
    /// Hands the step to another identity (`new_owner` as the directory
    /// names it).
    Forward {
        new_owner: NamedRef,
        comment: String,
    },
}

impl Decision {
    /// The verb of error messages: "cannot be approved".
    pub fn verb(&self) -> &'static str {
        match self {
            Decision::Approve { .. } => "approved",
            Decision::Reject { .. } => "rejected",
            Decision::Forward { .. } => "forwarded",
        }
    }

    /// The decision as the audit event records it.
    pub fn audit_name(&self) -> &'static str {
        match self {
            Decision::Approve { .. } => "APPROVED",
            Decision::Reject { .. } => "DENIED",
            Decision::Forward { .. } => "FORWARDED",
        }
    }

    pub fn comment(&self) -> Option<&str> {
        match self {
            Decision::Approve { comment } => comment.as_deref(),
            Decision::Reject { comment } | Decision::Forward { comment, .. } => Some(comment),
        }
    }
}

/// The steps of a new item: the first of `plan` reached (pending) at `now`,
/// the others to come.
pub fn first_steps(
    mut plan: Vec<PlannedStep>,
    now: DateTime<Utc>,
) -> (Vec<ApprovalRecord>, Vec<PlannedStep>) {
    if plan.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let first = plan.remove(0);
    (vec![ApprovalRecord::reached(new_id(), &first, now)], plan)
}

/// The phases of an item that enters its approval phase at `now`.
pub fn approval_phase(now: DateTime<Utc>) -> Vec<PhaseRecord> {
    vec![PhaseRecord {
        name: APPROVAL_PHASE.into(),
        state: PhaseState::Executing,
        started: now,
        finished: None,
        result: None,
    }]
}

/// The phases of an item granted (or revoked) without approval, at `now`.
pub fn completed_phases(now: DateTime<Utc>) -> Vec<PhaseRecord> {
    [APPROVAL_PHASE, PROVISIONING_PHASE]
        .into_iter()
        .map(|name| PhaseRecord {
            name: name.into(),
            state: PhaseState::Completed,
            started: now,
            finished: Some(now),
            result: Some(PhaseResult::Successful),
        })
        .collect()
}

/// The 400 for a decision on a step that is not pending, naming its status
/// (and its request's state when that ended it).
pub fn not_pending(
    request: &AccessRequestRecord,
    approval: &ApprovalRecord,
    decision: &Decision,
) -> ApiError {
    let status = wire(&approval.status);
    let request_state = if request.state == RequestState::Executing {
        String::new()
    } else {
        format!(
            " (access request {} is {})",
            request.id,
            request.state.as_str()
        )
    };
    ApiError::bad_request(format!(
        "approval {} is {status}{request_state}; only a PENDING approval can be {}",
        approval.approval_id,
        decision.verb()
    ))
}

/// The request after `actor` took `decision` on approval `approval_id` at
/// `now`, or the 400 saying why the step cannot be decided.
pub fn decided(
    request: &AccessRequestRecord,
    approval_id: &str,
    actor: &NamedRef,
    decision: &Decision,
    now: DateTime<Utc>,
) -> Result<AccessRequestRecord, ApiError> {
    let Some((i, j)) = request.find_approval(approval_id) else {
        return Err(ApiError::NotFound(format!(
            "approval {approval_id} was not found"
        )));
    };
    let current = &request.items[i].approvals[j];
    if !current.is_pending() || request.item_state(&request.items[i]) != RequestState::Executing {
        return Err(not_pending(request, current, decision));
    }
    let mut next = request.clone();
    next.materialize_items();
    next.version += 1;
    next.modified = now;
    let item = &mut next.items[i];
    let step = &mut item.approvals[j];
    match decision {
        Decision::Approve { comment } => {
            decide_step(step, WorkItemState::Approved, comment.clone(), actor, now);
            if item.upcoming.is_empty() {
                complete_item(item, now);
            } else {
                let planned = item.upcoming.remove(0);
                item.approvals
                    .push(ApprovalRecord::reached(new_id(), &planned, now));
            }
        }
        Decision::Reject { comment } => {
            decide_step(
                step,
                WorkItemState::Rejected,
                Some(comment.clone()),
                actor,
                now,
            );
            reject_item(item, now);
        }
        Decision::Forward { new_owner, comment } => {
            let old = step.owner();
            if old.owner_type == crate::models::OwnerType::Identity && old.id == new_owner.id {
                return Err(ApiError::bad_request(format!(
                    "newOwnerId {} already owns approval {approval_id}; forward it to another identity",
                    new_owner.id
                )));
            }
            if step.forward_history.len() >= crate::limits::MAX_FORWARDS_PER_STEP {
                return Err(ApiError::bad_request(format!(
                    "approval {approval_id} was forwarded {} times; a step may be forwarded at \
                     most {} times: decide it instead",
                    step.forward_history.len(),
                    crate::limits::MAX_FORWARDS_PER_STEP
                )));
            }
            step.forward_history.push(ForwardRecord {
                old_owner: NamedRef {
                    id: old.id.clone(),
                    name: old.name.clone(),
                },
                new_owner: new_owner.clone(),
                forwarder: actor.clone(),
                comment: comment.clone(),
                modified: now,
            });
            step.current_owner = Some(Box::new(Approver {
                owner_type: crate::models::OwnerType::Identity,
                id: new_owner.id.clone(),
                name: new_owner.name.clone(),
                member_ids: Vec::new(),
            }));
            step.modified = Some(now);
        }
    }
    settle(&mut next, now);
    Ok(next)
}

fn decide_step(
    step: &mut ApprovalRecord,
    status: WorkItemState,
    comment: Option<String>,
    actor: &NamedRef,
    now: DateTime<Utc>,
) {
    step.status = status;
    step.comment = comment;
    step.reviewed_by = Some(actor.clone());
    step.modified = Some(now);
}

/// The open approval phase of an item ends at `now` with `result`, and its
/// provisioning phase is recorded as `provisioning` (with its result).
fn finish_phases(
    phases: &mut Vec<PhaseRecord>,
    result: PhaseResult,
    provisioning: (PhaseState, Option<PhaseResult>),
    now: DateTime<Utc>,
) {
    for phase in phases.iter_mut().filter(|p| p.finished.is_none()) {
        phase.state = PhaseState::Completed;
        phase.finished = Some(now);
        phase.result = Some(result);
    }
    if !phases.iter().any(|p| p.name == PROVISIONING_PHASE) {
        phases.push(PhaseRecord {
            name: PROVISIONING_PHASE.into(),
            state: provisioning.0,
            started: now,
            finished: Some(now),
            result: provisioning.1,
        });
    }
}

/// The last step approved: the grant or revoke is recorded as provisioned.
fn complete_item(item: &mut RequestedItemRecord, now: DateTime<Utc>) {
    item.state = Some(RequestState::RequestCompleted);
    finish_phases(
        item.phases.get_or_insert_with(Vec::new),
        PhaseResult::Successful,
        (PhaseState::Completed, Some(PhaseResult::Successful)),
        now,
    );
}

/// A step rejected: the item ends, nothing is provisioned.
fn reject_item(item: &mut RequestedItemRecord, now: DateTime<Utc>) {
    item.state = Some(RequestState::Rejected);
    item.upcoming.clear();
    finish_phases(
        item.phases.get_or_insert_with(Vec::new),
        PhaseResult::Failed,
        (PhaseState::NotExecuted, None),
        now,
    );
}

/// Once no item executes, the request ends: completed when any item was
/// granted (or revoked), rejected otherwise; its own phases say the same.
fn settle(request: &mut AccessRequestRecord, now: DateTime<Utc>) {
    if request.state != RequestState::Executing
        || request
            .items
            .iter()
            .any(|i| request.item_state(i) == RequestState::Executing)
    {
        return;
    }
    let any_completed = request
        .items
        .iter()
        .any(|i| request.item_state(i) == RequestState::RequestCompleted);
    if any_completed {
        request.state = RequestState::RequestCompleted;
        finish_phases(
            &mut request.phases,
            PhaseResult::Successful,
            (PhaseState::Completed, Some(PhaseResult::Successful)),
            now,
        );
    } else {
        request.state = RequestState::Rejected;
        finish_phases(
            &mut request.phases,
            PhaseResult::Failed,
            (PhaseState::NotExecuted, None),
            now,
        );
    }
}

/// An enum value as the API writes it (`APPROVED`, `MANAGER`, ...).
pub fn wire<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "UNKNOWN".to_string(),
    }
}
