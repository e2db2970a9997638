//! `POST /access-request-approvals/{approvalId}/approve|reject|forward`
//! (SPEC §10). Each decision is one read batch (the approval with its
//! request, the caller's and a new owner's directory entries), the decision
//! taken on what was read, and one transaction: the request (conditional on
//! the version read), the step's items and list entries, the next step, and
//! the `Access Request Decision` audit event — all of it or none. Of racing
//! decisions on one step exactly one takes effect; the others re-read and
//! answer 400 naming the state they find. A decision whose answer was lost
//! recognises its own write when it re-reads.
//!
//! Each attempt is read → plan → write: the plan (everything written, and
//! the answer, 202 `{}` once the decision is taken) is complete before the
//! one write, so a record that makes a call idempotent can join the read
//! batch and the transaction without changing the shape.

use std::collections::BTreeMap;

use chrono::{DateTime, SubsecRound, Utc};

use super::budget;
use super::lifecycle::{decided, Decision};
use crate::auth::Principal;
use crate::domain::caller_ref;
use crate::error::ApiError;
use crate::limits;
use crate::models::{Accepted, CommentBody, ForwardApprovalDto, OwnerType};
use crate::plan::{Plan, Runner, Settled, Step};
use crate::records::{new_id, AccessRequestRecord, ApprovalRecord, EventRecord, NamedRef};
use crate::store::{writes, ApprovalRead};

/// The audit event every decision records.
pub const DECISION_EVENT: &str = "Access Request Decision";
/// `newOwnerId` and a forward's `comment`: 1..=255 characters.
pub const MAX_FORWARD_FIELD: usize = 255;

/// Approves `approval_id` (the comment is optional).
pub async fn approve(
    runner: &Runner,
    principal: &Principal,
    approval_id: &str,
    body: &CommentBody,
    now: DateTime<Utc>,
) -> Result<Settled<Accepted>, ApiError> {
    let comment = body.comment.clone().filter(|c| !c.trim().is_empty());
    if let Some(c) = &comment {
        limits::check_text("comment", c, limits::MAX_COMMENT_CHARS)
            .map_err(ApiError::bad_request)?;
    }
    decide(
        runner,
        principal,
        approval_id,
        Request::Decide(Decision::Approve { comment }),
        now,
    )
    .await
}

/// Rejects `approval_id`; the comment is required.
pub async fn reject(
    runner: &Runner,
    principal: &Principal,
    approval_id: &str,
    body: &CommentBody,
    now: DateTime<Utc>,
) -> Result<Settled<Accepted>, ApiError> {
    let comment = match body.comment.as_deref() {
        Some(c) if !c.trim().is_empty() => {
            limits::check_text("comment", c, limits::MAX_COMMENT_CHARS)
                .map_err(ApiError::bad_request)?;
            c.to_string()
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "comment is required to reject an approval and must not be blank",
            ))
        }
        None => {
            return Err(ApiError::bad_request(
                "comment is required to reject an approval",
            ))
        }
    };
    decide(
        runner,
        principal,
        approval_id,
        Request::Decide(Decision::Reject { comment }),
        now,
    )
    .await
}

/// Forwards `approval_id` to `body.new_owner_id`.
pub async fn forward(
    runner: &Runner,
    principal: &Principal,
    approval_id: &str,
    body: &ForwardApprovalDto,
    now: DateTime<Utc>,
) -> Result<Settled<Accepted>, ApiError> {
    let mut causes = Vec::new();
    for (field, value) in [
        ("newOwnerId", &body.new_owner_id),
        ("comment", &body.comment),
    ] {
        if value.trim().is_empty() {
            causes.push(format!(
                "{field} is required and must not be blank (1 to {MAX_FORWARD_FIELD} characters)"
            ));
        } else if let Err(cause) = limits::check_text(field, value, MAX_FORWARD_FIELD) {
            causes.push(cause);
        } else if field == "newOwnerId" {
            if let Err(cause) = limits::check_id(field, value.trim()) {
                causes.push(cause);
            }
        }
    }
    if !causes.is_empty() {
        return Err(ApiError::BadRequest(causes));
    }
    decide(
        runner,
        principal,
        approval_id,
        Request::Forward {
            new_owner_id: body.new_owner_id.trim().to_string(),
            comment: body.comment.clone(),
        },
        now,
    )
    .await
}

/// A decision as asked for: a forward's new owner is resolved against the
/// directory once read.
enum Request {
    Decide(Decision),
    Forward {
        new_owner_id: String,
        comment: String,
    },
}

/// What one attempt wrote: the step as it left it, by which it recognises
/// its own write in a later read.
#[derive(Clone)]
struct Written {
    step: ApprovalRecord,
    forward: bool,
}

impl Written {
    /// Whether `current` (the step as read now) shows this write.
    fn landed(&self, current: &ApprovalRecord) -> bool {
        if self.forward {
            // A later change may have moved the step on; the forward stays
            // in its history.
            self.step
                .forward_history
                .last()
                .is_some_and(|f| current.forward_history.contains(f))
        } else {
            (
                current.status,
                &current.reviewed_by,
                current.modified,
                &current.comment,
            ) == (
                self.step.status,
                &self.step.reviewed_by,
                self.step.modified,
                &self.step.comment,
            )
        }
    }
}

/// What an attempt decided to write (its answer is the 202).
struct Decided {
    before: AccessRequestRecord,
    after: AccessRequestRecord,
    event: EventRecord,
    written: Written,
}

async fn decide(
    runner: &Runner,
    principal: &Principal,
    approval_id: &str,
    request: Request,
    now: DateTime<Utc>,
) -> Result<Settled<Accepted>, ApiError> {
    let approval_id = approval_id.trim();
    if approval_id.is_empty() {
        return Err(ApiError::bad_request("approvalId is required"));
    }
    limits::check_id("approvalId", approval_id).map_err(ApiError::bad_request)?;
    // Kept, shown and keyed at millisecond precision.
    let now = now.trunc_subsecs(3);
    let tenant = principal.tenant_id.as_str();
    let mut identity_ids: Vec<String> = principal.identity_id.iter().cloned().collect();
    if let Request::Forward { new_owner_id, .. } = &request {
        if !identity_ids.contains(new_owner_id) {
            identity_ids.push(new_owner_id.clone());
        }
    }
    let request = &request;
    let identity_ids = &identity_ids;
    runner
        .run(|lost: Option<Written>| async move {
            // One read batch: the approval with its request, the directory.
            let read = runner
                .store()
                .read_approval(tenant, approval_id, identity_ids)
                .await?;
            let Some(found) = &read.approval else {
                return Err(not_found(approval_id));
            };
            if let (Some(written), Some(current)) = (&lost, found.approval()) {
                if written.landed(current) {
                    return Ok(Step::Answer(Accepted {}));
                }
            }
            let decided = plan(principal, approval_id, request, &read, now)?;
            // One write batch.
            Ok(Step::Write(Plan {
                writes: writes::transition(
                    tenant,
                    &decided.before,
                    &decided.after,
                    &[decided.event],
                ),
                answer: Accepted {},
                mark: decided.written,
            }))
        })
        .await
}

fn not_found(approval_id: &str) -> ApiError {
    ApiError::NotFound(format!("approval {approval_id} was not found"))
}

/// Decides on what one read found: authority, the step's state, the new
/// request, the audit event.
fn plan(
    principal: &Principal,
    approval_id: &str,
    request: &Request,
    read: &ApprovalRead,
    now: DateTime<Utc>,
) -> Result<Decided, ApiError> {
    let found = read
        .approval
        .as_ref()
        .ok_or_else(|| not_found(approval_id))?;
    let before = &found.request;
    let step = found.approval().ok_or_else(|| not_found(approval_id))?;
    let requested_for = &before.requested_for;
    let me = principal.identity_id.as_deref();
    // Nobody decides their own access: the identity it is requested for may
    // not act on a step through a governance group it belongs to, nor on one
    // forwarded to it (stored before such forwards were refused).
    let deciding_own_access = me == Some(requested_for.id.as_str())
        && (step.owner().owner_type == OwnerType::GovernanceGroup || step.current_owner.is_some());
    let may_act = me.is_some_and(|me| step.may_act(me)) && !deciding_own_access;
    if !principal.is_org_admin() && !may_act {
        return Err(ApiError::Forbidden(if deciding_own_access {
            format!(
                "approval {approval_id} is a step of access requested for {} ({}): the identity \
                 access is requested for cannot decide it, as a member of the governance group \
                 that owns it or as the identity it was forwarded to ({}); another approver or \
                 ORG_ADMIN may",
                requested_for.name,
                requested_for.id,
                step.owner().name
            )
        } else {
            format!(
                "only ORG_ADMIN or the owner of approval {approval_id} ({}) may decide it",
                step.owner().name
            )
        }));
    }
    let decision = match request {
        Request::Decide(d) => d.clone(),
        Request::Forward {
            new_owner_id,
            comment,
        } => {
            if *new_owner_id == requested_for.id {
                return Err(ApiError::bad_request(format!(
                    "newOwnerId {new_owner_id} is the identity access is requested for \
                     ({}): an approval step is never forwarded to the identity it is requested \
                     for, since nobody decides their own access",
                    requested_for.name
                )));
            }
            let Some(new_owner) = read.identities.get(new_owner_id) else {
                return Err(ApiError::bad_request(format!(
                    "newOwnerId {new_owner_id} is not an identity of the tenant"
                )));
            };
            Decision::Forward {
                new_owner: NamedRef {
                    id: new_owner.id.clone(),
                    name: new_owner.name.clone(),
                },
                comment: comment.clone(),
            }
        }
    };
    let actor = caller_ref(principal, &read.identities);
    let after = decided(before, approval_id, &actor, &decision, now)?;
    // A decision that adds text must leave the request within its size
    // budgets; one without (an approval without a comment) always fits.
    if decision.comment().is_some() {
        let field = match decision {
            Decision::Forward { .. } => "comment (of the forward)",
            _ => "comment",
        };
        budget::check(&after, now).map_err(|overflow| overflow.error(field))?;
    }
    let step = after
        .approval(approval_id)
        .cloned()
        .ok_or_else(|| not_found(approval_id))?;
    let event = decision_event(&after, &step, &actor, &decision, now);
    Ok(Decided {
        before: AccessRequestRecord::clone(before),
        after,
        event,
        written: Written {
            step,
            forward: matches!(decision, Decision::Forward { .. }),
        },
    })
}

fn decision_event(
    request: &AccessRequestRecord,
    step: &ApprovalRecord,
    actor: &NamedRef,
    decision: &Decision,
    now: DateTime<Utc>,
) -> EventRecord {
    let mut attributes = BTreeMap::from([
        ("approvalId".to_string(), step.approval_id.clone()),
        ("decision".to_string(), decision.audit_name().to_string()),
    ]);
    if let Some(comment) = decision.comment() {
        attributes.insert("comment".into(), comment.to_string());
    }
    if let Decision::Forward { new_owner, .. } = decision {
        attributes.insert("newOwnerId".into(), new_owner.id.clone());
    }
    EventRecord {
        id: new_id(),
        name: DECISION_EVENT.to_string(),
        created: now,
        sequence: 0,
        actor: Some(actor.clone()),
        access_request_ids: vec![request.id.clone()],
        errored_ids: Vec::new(),
        attributes,
    }
}
