//! `POST /beta/access-requests/close` (SPEC §7): closes up to 500 requests at
//! any point of their life. Reads are batched, writes run with bounded
//! parallelism, and every single transition is conditional.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::limits;
use crate::models::{
    CloseAccessRequest, CompletionStatus, ExecutionStatus, PhaseResult, PhaseState, RequestState,
    WorkItemState,
};
use crate::plan::{Plan, Runner, Settled, Step};
use crate::records::{
    new_id, AccessRequestRecord, EventRecord, NamedRef, PhaseRecord, PROVISIONING_PHASE,
};
use crate::retry::{optimistic, Attempt};
use crate::store::{writes, Store, StoreError};

pub const MAX_IDS: usize = 500;
pub const DEFAULT_MESSAGE: &str = "The IdentityNow Administrator manually closed this request.";
pub const STARTED_EVENT: &str = "Close Identity Requests Started";
pub const COMPLETED_EVENT: &str = "Close Identity Requests Completed";
pub const PROVISIONING_COMPLETED_EVENT: &str = "Provisioning Completed";
/// Conditional writes in flight at once: 500 ids cost ~10 sequential steps.
pub const WRITE_CONCURRENCY: usize = 50;
/// The `sequence` of each stage's events: orders a call's events stamped in
/// the same millisecond.
const STAGE_STARTED: u32 = 0;
const STAGE_PROVISIONING: u32 = 1;
const STAGE_COMPLETED: u32 = 2;

/// What a close did: the ids it closed and those that finished in error.
/// The API answers `{}` (the outcome is in the completion audit event), so
/// it serialises as such; the lists are for logs and tests.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct CloseOutcome {
    #[serde(skip)]
    pub closed: Vec<String>,
    #[serde(skip)]
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
///
/// Cost: the started event and one batched read run side by side, then the
/// conditional writes (each with its `Provisioning Completed` event) run
/// [`WRITE_CONCURRENCY`] at a time, then the completion event: for 500 ids
/// about `1 + 500 / WRITE_CONCURRENCY + 1` sequential steps.
///
/// A dependency failure on some ids does not hide the others' outcome: the
/// completion event still lists those ids in error, and the call then
/// answers the failure (500, or 429 when throttled) so the client retries.
pub async fn close(
    runner: &Runner,
    principal: &Principal,
    body: &CloseAccessRequest,
    now: DateTime<Utc>,
) -> Result<Settled<CloseOutcome>, ApiError> {
    let store = runner.store();
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
    let event =
        |name: &str, stage: u32, created: DateTime<Utc>, errored: Vec<String>| EventRecord {
            id: new_id(),
            name: name.to_string(),
            created,
            sequence: stage,
            actor: actor.clone(),
            access_request_ids: options.ids.clone(),
            errored_ids: errored,
            attributes: options.attributes(),
        };

    // Events are listed by (created, sequence, id) at millisecond
    // precision: each stage is stamped no earlier than the one before and
    // carries its stage as the sequence, so the trail of a call reads
    // started, provisioning completed..., completed without waiting for the
    // clock to tick.
    let started = event(STARTED_EVENT, STAGE_STARTED, now, Vec::new());
    let (started_written, found) = futures::join!(
        store.put_event(tenant, &started),
        store.get_requests(tenant, &options.ids),
    );
    started_written?;
    let found = match found {
        Ok(found) => found,
        Err(e) => {
            // Nothing was closed: say so in the trail before answering the failure.
            let completed = event(
                COMPLETED_EVENT,
                STAGE_COMPLETED,
                stamp_after(now),
                options.ids.clone(),
            );
            if let Err(also) = store.put_event(tenant, &completed).await {
                tracing::error!(error = %also, "recording the failed close failed too");
            }
            return Err(e.into());
        }
    };
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

    let results: Vec<(String, Result<Closed, StoreError>)> = stream::iter(found)
        .map(|record| async {
            let id = record.id.clone();
            let result = close_one(store, tenant, record, &options, actor.as_ref(), now).await;
            (id, result)
        })
        .buffer_unordered(WRITE_CONCURRENCY)
        .collect()
        .await;
    let mut last_event = now;
    let mut failure: Option<StoreError> = None;
    for (id, result) in results {
        match result {
            Ok(Closed::Now(at)) => {
                last_event = last_event.max(at);
                outcome.closed.push(id);
            }
            Ok(Closed::AlreadyFinal | Closed::Contended) => outcome.errored.push(id),
            Err(e) => {
                tracing::error!(access_request_id = %id, error = %e, "closing one request failed");
                outcome.errored.push(id);
                // Throttling is what the client can act on; report it first.
                if !matches!(failure, Some(StoreError::Throttled(_))) {
                    failure = Some(e);
                }
            }
        }
    }
    // Report in the order the client gave.
    let position = |id: &String| options.ids.iter().position(|x| x == id);
    outcome.closed.sort_by_key(position);
    outcome.errored.sort_by_key(position);

    let completed = event(
        COMPLETED_EVENT,
        STAGE_COMPLETED,
        stamp_after(last_event),
        outcome.errored.clone(),
    );
    if let Some(e) = failure {
        // Only a close that answers 202 is stored for a repeated key.
        store.put_event(tenant, &completed).await?;
        return Err(e.into());
    }
    let (completed, outcome) = (&completed, &outcome);
    runner
        .run(|_: Option<()>| async move {
            Ok(Step::Write(Plan {
                writes: vec![writes::event(tenant, completed)],
                answer: outcome.clone(),
                mark: (),
            }))
        })
        .await
}

impl CloseOptions {
    /// What the audit events record of the call.
    fn attributes(&self) -> BTreeMap<String, String> {
        [
            ("message".to_string(), self.message.clone()),
            (
                "executionStatus".to_string(),
                format!("{:?}", self.execution),
            ),
            (
                "completionStatus".to_string(),
                format!("{:?}", self.completion),
            ),
        ]
        .into_iter()
        .collect()
    }
}

/// The wall-clock time, or `t` when the clock is behind it (a clock step,
/// or a `t` that is not the wall clock): never earlier than `t`.
fn stamp_after(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc::now().max(t)
}

fn validate(body: &CloseAccessRequest) -> Result<CloseOptions, ApiError> {
    let mut causes = Vec::new();
    let n = body.access_request_ids.len();
    if n == 0 || n > MAX_IDS {
        causes.push(format!(
            "accessRequestIds must contain between 1 and {MAX_IDS} ids; got {n}"
        ));
    }
    if n <= MAX_IDS {
        for (i, id) in body.access_request_ids.iter().enumerate() {
            if id.trim().is_empty() {
                causes.push(format!("accessRequestIds[{i}] is empty"));
            } else if let Err(cause) =
                limits::check_id(&format!("accessRequestIds[{i}]"), id.trim())
            {
                causes.push(cause);
            }
        }
    }
    match body.message.as_deref() {
        Some(m) if m.trim().is_empty() => {
            causes.push("message must not be blank; omit it for the default".into())
        }
        Some(m) => {
            if let Err(cause) = limits::check_text("message", m, limits::MAX_REQUEST_TEXT_CHARS) {
                causes.push(cause);
            }
        }
        None => {}
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

/// What became of one request.
enum Closed {
    /// Closed by this call; its event was stamped at this time.
    Now(DateTime<Utc>),
    /// Already in a final state (perhaps since a racing call): unchanged.
    AlreadyFinal,
    /// Changed by others on every attempt without becoming final.
    Contended,
}

/// Closes one request with a conditional write; on a lost race it re-reads
/// and decides again on what is stored now.
async fn close_one(
    store: &Store,
    tenant: &str,
    record: AccessRequestRecord,
    options: &CloseOptions,
    actor: Option<&NamedRef>,
    now: DateTime<Utc>,
) -> Result<Closed, StoreError> {
    let id = record.id.clone();
    let mut given = Some(record);
    let outcome = optimistic(|lost: Option<(AccessRequestRecord, DateTime<Utc>)>| {
        let given = given.take();
        let id = &id;
        async move {
            let record = match given {
                Some(record) => record,
                None => match store
                    .get_requests(tenant, std::slice::from_ref(id))
                    .await?
                    .into_iter()
                    .next()
                {
                    Some(current) => current,
                    None => return Ok(Attempt::Done(Closed::AlreadyFinal)),
                },
            };
            // A write the store reported as failed (a retried attempt whose
            // first try had landed) took effect after all.
            if let Some((written, created)) = &lost {
                if &record == written {
                    return Ok(Attempt::Done(Closed::Now(*created)));
                }
            }
            if record.state.is_final() {
                return Ok(Attempt::Done(Closed::AlreadyFinal));
            }
            let next = closed(
                &record,
                options.execution,
                options.completion,
                &options.message,
                now,
            );
            let created = stamp_after(now);
            let event = EventRecord {
                id: new_id(),
                name: PROVISIONING_COMPLETED_EVENT.to_string(),
                created,
                sequence: STAGE_PROVISIONING,
                actor: actor.cloned(),
                access_request_ids: vec![record.id.clone()],
                errored_ids: Vec::new(),
                attributes: [
                    ("state".to_string(), next.state.as_str().to_string()),
                    ("message".to_string(), options.message.clone()),
                ]
                .into_iter()
                .collect(),
            };
            match store
                .transition_request(tenant, &record, &next, std::slice::from_ref(&event))
                .await
            {
                Ok(()) => Ok(Attempt::Done(Closed::Now(created))),
                Err(StoreError::Conflict(_)) => Ok(Attempt::Lost((next, created))),
                Err(e) => Err(e),
            }
        }
    })
    .await?;
    Ok(outcome.unwrap_or_else(|| {
        // Only reachable if the request kept changing without reaching a
        // final state (approval decisions racing the close): it finished in error.
        tracing::warn!(access_request_id = %id, "request kept changing while being closed");
        Closed::Contended
    }))
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

/// The request after a close: every item still executing ends in the
/// closed state (its pending approval cancelled, its phases finished);
/// items already decided keep their outcome.
pub fn closed(
    current: &AccessRequestRecord,
    execution: ExecutionStatus,
    completion: CompletionStatus,
    message: &str,
    now: DateTime<Utc>,
) -> AccessRequestRecord {
    let mut next = current.clone();
    next.materialize_items();
    let state = closed_state(execution, completion);
    next.state = state;
    next.modified = now;
    next.version += 1;
    next.warnings.push(message.to_string());
    let terminated = execution == ExecutionStatus::Terminated;
    let result = Some(if completion == CompletionStatus::Success {
        PhaseResult::Successful
    } else {
        PhaseResult::Failed
    });
    close_phases(&mut next.phases, terminated, result, now);
    for item in &mut next.items {
        if item.state.is_some_and(RequestState::is_final) {
            continue;
        }
        item.state = Some(state);
        item.upcoming.clear();
        for approval in item.approvals.iter_mut() {
            if approval.status == WorkItemState::Pending {
                approval.status = WorkItemState::Cancelled;
                approval.modified = Some(now);
            }
        }
        close_phases(
            item.phases.get_or_insert_with(Vec::new),
            terminated,
            result,
            now,
        );
    }
    next
}

/// Open phases end (cancelled when terminated, completed otherwise); a
/// completed close records the provisioning phase's result.
fn close_phases(
    phases: &mut Vec<PhaseRecord>,
    terminated: bool,
    result: Option<PhaseResult>,
    now: DateTime<Utc>,
) {
    for phase in phases.iter_mut().filter(|p| p.finished.is_none()) {
        phase.state = if terminated {
            PhaseState::Cancelled
        } else {
            PhaseState::Completed
        };
        phase.finished = Some(now);
    }
    if !terminated {
        // A provisioning phase under way is the one that completes.
        match phases.iter_mut().find(|p| p.name == PROVISIONING_PHASE) {
            Some(phase) => phase.result = result,
            None => phases.push(PhaseRecord {
                name: PROVISIONING_PHASE.into(),
                state: PhaseState::Completed,
                started: now,
                finished: Some(now),
                result,
            }),
        }
    }
}
