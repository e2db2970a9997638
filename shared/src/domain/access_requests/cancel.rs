//! `POST /access-requests/cancel` (SPEC §6): one conditional transaction
//! (the request and its pending approvals, which leave their approvers'
//! lists) that only one of racing cancels, closes and decisions can win.

use chrono::{DateTime, Utc};

use crate::auth::Principal;
use crate::domain::caller_ref;
use crate::error::ApiError;
use crate::limits;
use crate::models::{Accepted, CancelAccessRequest, PhaseState, RequestState, WorkItemState};
use crate::plan::{Plan, Runner, Settled, Step};
use crate::records::{AccessRequestRecord, CancellationRecord, NamedRef};
use crate::store::{writes, Lookup};

/// Cancels the access request `body.account_activity_id`.
pub async fn cancel(
    runner: &Runner,
    principal: &Principal,
    body: &CancelAccessRequest,
    now: DateTime<Utc>,
) -> Result<Settled<Accepted>, ApiError> {
    let mut causes = Vec::new();
    if body.account_activity_id.trim().is_empty() {
        causes.push("accountActivityId is required and must not be empty".to_string());
    } else if let Err(cause) =
        limits::check_id("accountActivityId", body.account_activity_id.trim())
    {
        causes.push(cause);
    }
    if body.comment.trim().is_empty() {
        causes.push("comment is required and must not be empty".to_string());
    } else if let Err(cause) =
        limits::check_text("comment", &body.comment, limits::MAX_REQUEST_TEXT_CHARS)
    {
        causes.push(cause);
    }
    if !causes.is_empty() {
        return Err(ApiError::BadRequest(causes));
    }
    let tenant = principal.tenant_id.as_str();
    let id = body.account_activity_id.trim();
    let ids = [id.to_string()];
    let store = runner.store();

    // One batch reads the request and the caller's directory entry.
    let first = store
        .lookup(
            tenant,
            &Lookup {
                identity_ids: principal.identity_id.iter().cloned().collect(),
                requests: ids.to_vec(),
                ..Default::default()
            },
        )
        .await?;
    // The caller is the cancellation's owner.
    let owner = caller_ref(principal, &first.identities);
    let mut first_read = Some(first.requests.get(id).cloned());
    let (ids, owner) = (&ids, &owner);
    runner
        .run(|lost: Option<AccessRequestRecord>| {
            let read = first_read.take();
            async move {
            // Later attempts re-read: the next read sees the winner's state.
            let found = match read {
                Some(found) => found,
                None => store.get_requests(tenant, ids).await?.into_iter().next(),
            };
            // A write the store reported as failed (a retried attempt whose
            // first try had landed) may have taken effect after all.
            if lost.is_some() && found == lost {
                return Ok(Step::Answer(Accepted {}));
            }
            let Some(current) = found else {
                return Err(ApiError::NotFound(format!(
                    "access request {id} was not found"
                )));
            };
            if !principal.is_org_admin() && !principal.is(&current.requester.id) {
                return Err(ApiError::Forbidden(format!(
                    "only ORG_ADMIN or the identity that submitted access request {id} may cancel it"
                )));
            }
            let next = cancelled(&current, owner.clone(), &body.comment, now)?;
            Ok(Step::Write(Plan {
                writes: writes::transition(tenant, &current, &next, &[]),
                answer: Accepted {},
                mark: next,
            }))
            }
        })
        .await
}

/// The request after a cancel, or the 400 that says why it cannot be.
pub fn cancelled(
    current: &AccessRequestRecord,
    owner: NamedRef,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<AccessRequestRecord, ApiError> {
    if current.state != RequestState::Executing {
        return Err(ApiError::bad_request(format!(
            "access request {} is {} and can no longer be cancelled",
            current.id,
            current.state.as_str()
        )));
    }
    if let Some(decided) = current
        .items
        .iter()
        .flat_map(|i| &i.approvals)
        .find(|a| a.status != WorkItemState::Pending)
    {
        return Err(ApiError::bad_request(format!(
            "access request {} is {} but has passed the approval step ({} approval by {} is {}) and can no longer be cancelled; use close instead",
            current.id,
            current.state.as_str(),
            wire(&decided.scheme),
            decided.approver.name,
            wire(&decided.status)
        )));
    }
    let mut next = current.clone();
    next.materialize_items();
    next.state = RequestState::Cancelled;
    next.modified = now;
    next.version += 1;
    for item in &mut next.items {
        item.state = Some(RequestState::Cancelled);
        for approval in &mut item.approvals {
            approval.status = WorkItemState::Cancelled;
            approval.modified = Some(now);
        }
    }
    let phases = next.phases.iter_mut().chain(
        next.items
            .iter_mut()
            .flat_map(|i| i.phases.iter_mut().flatten()),
    );
    for phase in phases.filter(|p| p.finished.is_none()) {
        phase.state = PhaseState::Cancelled;
        phase.finished = Some(now);
    }
    next.cancellation = Some(Box::new(CancellationRecord {
        comment: comment.to_string(),
        owner,
        modified: now,
    }));
    Ok(next)
}

/// An enum value as the API writes it (`APPROVED`, `MANAGER`, ...).
fn wire<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "UNKNOWN".to_string(),
    }
}
