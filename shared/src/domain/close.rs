//! `POST /beta/access-requests/close` (SPEC §7): closes up to 500 requests at
//! any point of their life. Reads are batched, writes run with bounded
//! parallelism, and every single transition is conditional.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};

use crate::auth::Principal;
use crate::domain::submit::{new_id, PROVISIONING_PHASE};
use crate::error::ApiError;
use crate::models::{
    CloseAccessRequest, CompletionStatus, ExecutionStatus, PhaseResult, PhaseState, RequestState,
    WorkItemState,
};
use crate::records::{AccessRequestRecord, EventRecord, NamedRef, PhaseRecord};
use crate::store::{Store, StoreError};

pub const MAX_IDS: usize = 500;
pub const DEFAULT_MESSAGE: &str = "The IdentityNow Administrator manually closed this request.";
pub const STARTED_EVENT: &str = "Close Identity Requests Started";
pub const COMPLETED_EVENT: &str = "Close Identity Requests Completed";
pub const PROVISIONING_COMPLETED_EVENT: &str = "Provisioning Completed";
/// Conditional writes in flight at once: 500 ids cost ~10 sequential steps.
pub const WRITE_CONCURRENCY: usize = 50;
const ATTEMPTS: usize = 5;

/// What a close did: the ids it closed and those that finished in error.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CloseOutcome {
    pub closed: Vec<String>,
    pub errored: Vec<String>,
}

/// Validated close options.
#[derive(Debug, Clone)]
struct CloseOptions {
    ids: Vec<String>,
    message: String,
    execution: ExecutionStatus,
    completion: CompletionStatus,
}

/// Closes the requests of `body`. Unknown and already-final ids do not fail
/// the call: they are listed in the completion audit event.
pub async fn close(
    store: &dyn Store,
    principal: &Principal,
    body: &CloseAccessRequest,
    now: DateTime<Utc>,
) -> Result<CloseOutcome, ApiError> {
    if !principal.is_org_admin() {
        return Err(ApiError::Forbidden(
            "only ORG_ADMIN may close access requests".into(),
        ));
    }
    let options = validate(body)?;
    let tenant = principal.tenant_id.as_str();
    let actor = principal.identity_id.as_ref().map(|id| NamedRef {
        id: id.clone(),
        name: principal.user_name.clone().unwrap_or_else(|| id.clone()),
    });
    let event = |name: &str, ids: Vec<String>, errored: Vec<String>| EventRecord {
        id: new_id(),
        name: name.to_string(),
        created: Utc::now().max(now),
        actor: actor.clone(),
        access_request_ids: ids,
        errored_ids: errored,
        attributes: [
            ("message".to_string(), options.message.clone()),
            (
                "executionStatus".to_string(),
                format!("{:?}", options.execution),
            ),
            (
                "completionStatus".to_string(),
                format!("{:?}", options.completion),
            ),
        ]
        .into_iter()
        .collect(),
    };

    store
        .put_event(
            tenant,
            &event(STARTED_EVENT, options.ids.clone(), Vec::new()),
        )
        .await?;
    let found = store.get_requests(tenant, &options.ids).await?;
    let known: HashSet<&str> = found.iter().map(|r| r.id.as_str()).collect();
    let mut outcome = CloseOutcome {
        errored: options
            .ids
            .iter()
            .filter(|id| !known.contains(id.as_str()))
            .cloned()
            .collect(),
        ..Default::default()
    };

    let results: Vec<Result<(String, bool), StoreError>> = stream::iter(found)
        .map(|record| close_one(store, tenant, record, &options, actor.as_ref(), now))
        .buffer_unordered(WRITE_CONCURRENCY)
        .collect()
        .await;
    for result in results {
        match result? {
            (id, true) => outcome.closed.push(id),
            (id, false) => outcome.errored.push(id),
        }
    }
    // Report in the order the client gave.
    let position = |id: &String| options.ids.iter().position(|x| x == id);
    outcome.closed.sort_by_key(position);
    outcome.errored.sort_by_key(position);

    store
        .put_event(
            tenant,
            &event(
                COMPLETED_EVENT,
                options.ids.clone(),
                outcome.errored.clone(),
            ),
        )
        .await?;
    Ok(outcome)
}

fn validate(body: &CloseAccessRequest) -> Result<CloseOptions, ApiError> {
    let mut causes = Vec::new();
    let n = body.access_request_ids.len();
    if n == 0 || n > MAX_IDS {
        causes.push(format!(
            "accessRequestIds must contain between 1 and {MAX_IDS} ids; got {n}"
        ));
    }
    for (i, id) in body.access_request_ids.iter().enumerate() {
        if id.trim().is_empty() {
            causes.push(format!("accessRequestIds[{i}] is empty"));
        }
    }
    if body.message.as_deref().is_some_and(|m| m.trim().is_empty()) {
        causes.push("message must not be blank; omit it for the default".into());
    }
    if !causes.is_empty() {
        return Err(ApiError::BadRequest(causes));
    }
    let mut seen = HashSet::new();
    Ok(CloseOptions {
        // Duplicates count once.
        ids: body
            .access_request_ids
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|id| seen.insert(id.clone()))
            .collect(),
        message: body
            .message
            .clone()
            .unwrap_or_else(|| DEFAULT_MESSAGE.to_string()),
        execution: body.execution_status.unwrap_or_default(),
        completion: body.completion_status.unwrap_or_default(),
    })
}

/// Closes one request; `Ok((id, false))` when it was already final.
async fn close_one(
    store: &dyn Store,
    tenant: &str,
    mut record: AccessRequestRecord,
    options: &CloseOptions,
    actor: Option<&NamedRef>,
    now: DateTime<Utc>,
) -> Result<(String, bool), StoreError> {
    for _ in 0..ATTEMPTS {
        if record.state.is_final() {
            return Ok((record.id, false));
        }
        let next = closed(
            &record,
            options.execution,
            options.completion,
            &options.message,
            now,
        );
        let event = EventRecord {
            id: new_id(),
            name: PROVISIONING_COMPLETED_EVENT.to_string(),
            created: now,
            actor: actor.cloned(),
            access_request_ids: vec![record.id.clone()],
            errored_ids: Vec::new(),
            attributes: [("state".to_string(), next.state.as_str().to_string())]
                .into_iter()
                .collect(),
        };
        match store.update_request(tenant, &next, Some(&event)).await {
            Ok(()) => return Ok((record.id, true)),
            Err(StoreError::Conflict(_)) => {
                // Someone else changed it: decide again on what is stored now.
                match store
                    .get_requests(tenant, std::slice::from_ref(&record.id))
                    .await?
                    .into_iter()
                    .next()
                {
                    Some(current) => record = current,
                    None => return Ok((record.id, false)),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok((record.id, false))
}

/// The state a close leads to.
pub fn closed_state(execution: ExecutionStatus, completion: CompletionStatus) -> RequestState {
    match (execution, completion) {
        (ExecutionStatus::Terminated, _) => RequestState::Terminated,
        (ExecutionStatus::Completed, CompletionStatus::Success) => RequestState::RequestCompleted,
        (ExecutionStatus::Completed, CompletionStatus::Incomplete) => {
            RequestState::NotAllItemsProvisioned
        }
        (ExecutionStatus::Completed, CompletionStatus::Failure) => RequestState::ProvisioningFailed,
    }
}

/// The request after a close.
pub fn closed(
    current: &AccessRequestRecord,
    execution: ExecutionStatus,
    completion: CompletionStatus,
    message: &str,
    now: DateTime<Utc>,
) -> AccessRequestRecord {
    let mut next = current.clone();
    next.state = closed_state(execution, completion);
    next.modified = now;
    next.version += 1;
    next.warnings.push(message.to_string());
    for approval in next.items.iter_mut().flat_map(|i| i.approvals.iter_mut()) {
        if approval.status == WorkItemState::Pending {
            approval.status = WorkItemState::Cancelled;
            approval.modified = Some(now);
        }
    }
    let terminated = execution == ExecutionStatus::Terminated;
    for phase in next.phases.iter_mut().filter(|p| p.finished.is_none()) {
        phase.state = if terminated {
            PhaseState::Cancelled
        } else {
            PhaseState::Completed
        };
        phase.finished = Some(now);
    }
    if !terminated {
        next.phases.push(PhaseRecord {
            name: PROVISIONING_PHASE.into(),
            state: PhaseState::Completed,
            started: now,
            finished: Some(now),
            result: Some(if completion == CompletionStatus::Success {
                PhaseResult::Successful
            } else {
                PhaseResult::Failed
            }),
        });
    }
    next
}
