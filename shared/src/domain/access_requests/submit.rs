//! `POST /access-requests` (SPEC §3, §4): validation, authority, catalog and
//! directory lookups, approval steps, duplicate detection and the atomic write.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};

use crate::auth::Principal;
use crate::domain::approvals::budget;
use crate::domain::approvals::lifecycle;
use crate::error::ApiError;
use crate::limits;
use crate::models::{
    AccessRequest, AccessRequestItem, AccessRequestResponse, AccessRequestTracking,
    AccessRequestType, ApprovalScheme, ItemType, OwnerType, RequestState, RequestedItemDetails,
};
use crate::plan::{Plan, Runner, Settled, Step};
use crate::records::{
    new_id, AccessRequestRecord, Approver, CatalogItemRecord, IdentityRecord, NamedRef,
    PendingClaim, PendingKey, PlannedStep, RequestedItemRecord,
};
use crate::store::{writes, Lookup, LookupResult, Store, StoreError, MAX_TRANSACTION_ITEMS};

/// At most this many items per request.
pub const MAX_ITEMS: usize = 25;
/// With any entitlement requested: at most this many identities ...
pub const MAX_IDENTITIES_WITH_ENTITLEMENTS: usize = 10;
/// ... and at most this many entitlements.
pub const MAX_ENTITLEMENTS: usize = 25;
/// One requested item after validation.
#[derive(Debug, Clone)]
struct ValidItem {
    item_type: ItemType,
    id: String,
    comment: Option<String>,
    client_metadata: Option<BTreeMap<String, String>>,
    start_date: Option<DateTime<Utc>>,
    remove_date: Option<DateTime<Utc>>,
}

/// A submission that passed every check that needs no store.
#[derive(Debug, Clone)]
struct ValidRequest {
    request_type: AccessRequestType,
    requested_for: Vec<String>,
    items: Vec<ValidItem>,
    client_metadata: Option<BTreeMap<String, String>>,
}

/// Submits an access request on behalf of `principal`.
pub async fn submit(
    runner: &Runner,
    principal: &Principal,
    body: AccessRequest,
    now: DateTime<Utc>,
) -> Result<Settled<AccessRequestResponse>, ApiError> {
    let Some(caller) = principal.identity_id.clone() else {
        return Err(ApiError::Forbidden(
            "API tokens cannot submit access requests: use a token with a user context (identity_id)".into(),
        ));
    };
    // Timestamps are kept, shown and filtered at millisecond precision: a
    // `created` read from a response must compare equal to the stored one.
    let now = now.trunc_subsecs(3);
    let request = validate(&body, &caller, now)?;
    let tenant = principal.tenant_id.as_str();
    let store = runner.store();
    let (caller, request) = (caller.as_str(), &request);

    // A racing identical submission makes our claims fail; re-reading
    // settles it (the winner's request is then reported as existing).
    runner
        .run(|lost: Option<Submitted>| async move {
            // A write reported as failed may have landed: the store client
            // retried an attempt whose answer was lost, and the retry failed
            // on the conditions the first attempt had just satisfied. The
            // ids are this call's own and the write all-or-nothing: if they
            // are stored, it is our submission, answered as such, not
            // submitted again.
            if let Some(submitted) = lost {
                if landed(store, tenant, &submitted.ids).await? {
                    return Ok(Step::Answer(submitted.response));
                }
            }
            attempt(store, principal, caller, tenant, request, now).await
        })
        .await
}

/// What an attempt wrote, by which a later one recognises it.
struct Submitted {
    ids: Vec<String>,
    response: AccessRequestResponse,
}

/// Whether the requests `ids` are stored (read consistently).
async fn landed(store: &Store, tenant: &str, ids: &[String]) -> Result<bool, StoreError> {
    let found = store.get_requests(tenant, ids).await?;
    Ok(!ids.is_empty() && found.len() == ids.len())
}

/// One attempt: read, check, decide what to write.
async fn attempt(
    store: &Store,
    principal: &Principal,
    caller: &str,
    tenant: &str,
    request: &ValidRequest,
    now: DateTime<Utc>,
) -> Result<Step<AccessRequestResponse, Submitted>, ApiError> {
    let found = store.lookup(tenant, &lookup_for(request, caller)).await?;
    check_directory_and_catalog(store, tenant, request, &found).await?;
    authorize(principal, caller, request, &found.identities)?;
    let live = live_claims(store, tenant, &found).await?;
    let submission = plan(request, caller, &found, &live, now);
    if submission.records.is_empty() {
        return Ok(Step::Answer(submission.response));
    }
    check_transaction_size(request, &submission)?;
    check_sizes(request, &submission, now)?;
    Ok(Step::Write(Plan {
        writes: writes::submission(tenant, &submission.records, &submission.claims),
        mark: Submitted {
            ids: submission.records.iter().map(|r| r.id.clone()).collect(),
            response: submission.response.clone(),
        },
        answer: submission.response,
    }))
}

/// The one batch read: the caller, every target, every item, every
/// duplicate guard.
fn lookup_for(request: &ValidRequest, caller: &str) -> Lookup {
    let mut identity_ids = request.requested_for.clone();
    if !identity_ids.iter().any(|i| i == caller) {
        identity_ids.push(caller.to_string());
    }
    Lookup {
        identity_ids,
        items: request
            .items
            .iter()
            .map(|i| (i.item_type, i.id.clone()))
            .collect(),
        pending: request
            .requested_for
            .iter()
            .flat_map(|target| {
                request
                    .items
                    .iter()
                    .map(|item| pending_key(request, target, item))
            })
            .collect(),
        requests: Vec::new(),
    }
}

fn pending_key(request: &ValidRequest, target: &str, item: &ValidItem) -> PendingKey {
    PendingKey {
        identity_id: target.to_string(),
        item_type: item.item_type,
        item_id: item.id.clone(),
        request_type: request.request_type,
    }
}

/// Every target must exist; every item must exist with its type and be
/// requestable. All such problems are reported at once.
async fn check_directory_and_catalog(
    store: &Store,
    tenant: &str,
    request: &ValidRequest,
    found: &LookupResult,
) -> Result<(), ApiError> {
    let mut causes: Vec<String> = request
        .requested_for
        .iter()
        .enumerate()
        .filter(|(_, id)| !found.identities.contains_key(*id))
        .map(|(i, id)| format!("requestedFor[{i}]: identity {id} was not found in the tenant"))
        .collect();
    let mut missing = Vec::new();
    for (i, item) in request.items.iter().enumerate() {
        match found.items.get(&(item.item_type, item.id.clone())) {
            None => missing.push(i),
            Some(c) if !c.requestable => causes.push(format!(
                "requestedItems[{i}]: {} {} ({}) is not requestable",
                item.item_type.as_str(),
                item.id,
                c.name
            )),
            Some(_) => {}
        }
    }
    if !missing.is_empty() {
        causes.extend(missing_item_causes(store, tenant, request, &missing).await?);
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::BadRequest(causes))
    }
}

/// The requests named by the duplicate guards found that still execute: a
/// claim is live while the request it names executes its item
/// ([`AccessRequestRecord::holds_claim`]).
async fn live_claims(
    store: &Store,
    tenant: &str,
    found: &LookupResult,
) -> Result<HashMap<String, AccessRequestRecord>, StoreError> {
    let mut claimed: Vec<String> = found.pending.values().cloned().collect();
    claimed.sort();
    claimed.dedup();
    if claimed.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(store
        .get_requests(tenant, &claimed)
        .await?
        .into_iter()
        .filter(|r| !r.state.is_final())
        .map(|r| (r.id.clone(), r))
        .collect())
}

/// What a submission writes and answers.
struct Submission {
    records: Vec<AccessRequestRecord>,
    claims: Vec<PendingClaim>,
    response: AccessRequestResponse,
}

/// Per target: items a live request already covers are reported as
/// existing; the others get new requests — one that executes for the items
/// with approval steps, one already completed for those without.
fn plan(
    request: &ValidRequest,
    caller: &str,
    found: &LookupResult,
    live: &HashMap<String, AccessRequestRecord>,
    now: DateTime<Utc>,
) -> Submission {
    let requester = named(&found.identities, caller);
    let mut plan = Submission {
        records: Vec::new(),
        claims: Vec::new(),
        response: AccessRequestResponse::default(),
    };
    for target_id in &request.requested_for {
        let target = &found.identities[target_id];
        let mut fresh = Vec::new();
        let mut existing_items = Vec::new();
        let mut existing_ids = Vec::new();
        for item in &request.items {
            let key = pending_key(request, target_id, item);
            match found.pending.get(&key) {
                Some(id) if live.get(id).is_some_and(|r| r.holds_claim(&key)) => {
                    existing_items.push(item);
                    if !existing_ids.contains(id) {
                        existing_ids.push(id.clone());
                    }
                }
                stale => fresh.push((item, key, stale.cloned())),
            }
        }
        if !existing_items.is_empty() {
            plan.response.existing_requests.push(tracking(
                target_id,
                &existing_items,
                existing_ids,
            ));
        }
        if fresh.is_empty() {
            continue;
        }
        // Items without approval steps complete at once; they get a request
        // of their own so that each stored request has one state.
        let (immediate, gated): (Vec<_>, Vec<_>) = fresh.into_iter().partition(|(item, _, _)| {
            let catalog = &found.items[&(item.item_type, item.id.clone())];
            approvals_for(catalog, target).is_empty()
        });
        let mut ids = Vec::new();
        for (group, state) in [
            (gated, RequestState::Executing),
            (immediate, RequestState::RequestCompleted),
        ] {
            if group.is_empty() {
                continue;
            }
            let record = new_record(
                request,
                &requester,
                target,
                &group,
                state,
                &found.items,
                now,
            );
            if state == RequestState::Executing {
                for (_, key, stale) in &group {
                    plan.claims.push(PendingClaim {
                        key: key.clone(),
                        access_request_id: record.id.clone(),
                        replaces: stale.clone(),
                    });
                }
            }
            ids.push(record.id.clone());
            plan.records.push(record);
        }
        let all_fresh: Vec<&ValidItem> = request
            .items
            .iter()
            .filter(|item| !existing_items.iter().any(|e| std::ptr::eq(*e, *item)))
            .collect();
        plan.response
            .new_requests
            .push(tracking(target_id, &all_fresh, ids));
    }
    plan
}

/// A submission is one transaction, and so is every later change of each
/// of its requests (a decision, a cancel, a close): one that needs, or
/// whose requests could later need, more records than a transaction holds
/// is refused, asking to split it.
fn check_transaction_size(request: &ValidRequest, plan: &Submission) -> Result<(), ApiError> {
    let writes = Store::submission_writes(&plan.records, &plan.claims);
    let later = plan
        .records
        .iter()
        .map(Store::transition_bound)
        .max()
        .unwrap_or(0);
    if writes <= MAX_TRANSACTION_ITEMS && later <= MAX_TRANSACTION_ITEMS {
        return Ok(());
    }
    let (n, what) = if writes > MAX_TRANSACTION_ITEMS {
        (writes, "need")
    } else {
        (
            later,
            "could later need, to decide or cancel one of its requests,",
        )
    };
    Err(ApiError::bad_request(format!(
        "requestedFor × requestedItems: {} identities × {} items {what} {n} stored records \
         (requests, approvals and their approvers' list entries, approver assignments and \
         duplicate guards); at most {MAX_TRANSACTION_ITEMS} can be written atomically: split \
         the request into smaller ones",
        request.requested_for.len(),
        request.items.len()
    )))
}

/// Every new request, with every step it has left decided, within the
/// size limits (`budget`), and the submission's own transaction too: the
/// item whose comment and metadata (with its name, description and
/// approvers) do not fit is named.
fn check_sizes(
    request: &ValidRequest,
    plan: &Submission,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let field_of = |record: &AccessRequestRecord, item: Option<usize>| match item
        .map(|i| &record.items[i])
    {
        Some(item) => {
            let i = request
                .items
                .iter()
                .position(|v| v.item_type == item.item_type && v.id == item.item_id)
                .unwrap_or(0);
            format!("requestedItems[{i}] (its comment and clientMetadata)")
        }
        None => "requestedItems (their comments and clientMetadata) and clientMetadata".to_string(),
    };
    for record in &plan.records {
        budget::check(record, now).map_err(|o| o.error(&field_of(record, o.item)))?;
    }
    let written = budget::submission_bytes(&plan.records, plan.claims.len());
    if written > limits::MAX_TRANSACTION_BYTES {
        let overflow = budget::Overflow {
            item: None,
            what: "the submission (its requests, a copy for each first approval step, their list \
                   entries and duplicate guards, in one transaction)"
                .into(),
            size: written,
            limit: limits::MAX_TRANSACTION_BYTES,
        };
        return Err(overflow.error(&field_of(&plan.records[0], None)));
    }
    Ok(())
}

/// One cause per item missing from the catalog; when the id exists with
/// another type (a common client mistake), the cause says which. Only failing
/// submissions pay for this second read.
async fn missing_item_causes(
    store: &Store,
    tenant: &str,
    request: &ValidRequest,
    missing: &[usize],
) -> Result<Vec<String>, StoreError> {
    const TYPES: [ItemType; 3] = [
        ItemType::AccessProfile,
        ItemType::Role,
        ItemType::Entitlement,
    ];
    let lookup = Lookup {
        items: missing
            .iter()
            .flat_map(|&i| {
                let item = &request.items[i];
                TYPES
                    .into_iter()
                    .filter(move |t| *t != item.item_type)
                    .map(move |t| (t, item.id.clone()))
            })
            .collect(),
        ..Lookup::default()
    };
    let other_types = store.lookup(tenant, &lookup).await?.items;
    Ok(missing
        .iter()
        .map(|&i| {
            let item = &request.items[i];
            let actual = TYPES
                .into_iter()
                .find(|t| other_types.contains_key(&(*t, item.id.clone())));
            match actual {
                Some(t) => format!(
                    "requestedItems[{i}]: {} {} was not found in the catalog; {} has type {}, not {}",
                    item.item_type.as_str(),
                    item.id,
                    item.id,
                    t.as_str(),
                    item.item_type.as_str()
                ),
                None => format!(
                    "requestedItems[{i}]: {} {} was not found in the catalog",
                    item.item_type.as_str(),
                    item.id
                ),
            }
        })
        .collect())
}

/// Checks everything that needs no store, collecting one cause per problem.
fn validate(
    body: &AccessRequest,
    caller: &str,
    now: DateTime<Utc>,
) -> Result<ValidRequest, ApiError> {
    let mut causes = Vec::new();
    if body
        .requested_for_with_requested_items
        .as_ref()
        .is_some_and(|v| !v.is_null())
    {
        causes.push(
            "requestedForWithRequestedItems is not supported: use requestedFor and requestedItems"
                .to_string(),
        );
    }
    let request_type = request_type(body, &mut causes);
    let revoke = request_type == AccessRequestType::RevokeAccess;
    check_targets(&body.requested_for, &mut causes);
    let items = check_items(&body.requested_items, revoke, now, &mut causes);
    check_limits(body, revoke, caller, &mut causes);
    if let Some(metadata) = &body.client_metadata {
        causes.extend(limits::check_metadata("clientMetadata", metadata));
    }
    if !causes.is_empty() {
        return Err(ApiError::BadRequest(causes));
    }
    Ok(ValidRequest {
        request_type,
        requested_for: body.requested_for.clone(),
        items,
        client_metadata: body.client_metadata.clone().filter(|m| !m.is_empty()),
    })
}

/// `requestType`: absent means GRANT_ACCESS; MODIFY_ACCESS is refused.
fn request_type(body: &AccessRequest, causes: &mut Vec<String>) -> AccessRequestType {
    match body.request_type {
        None | Some(AccessRequestType::GrantAccess) => AccessRequestType::GrantAccess,
        Some(AccessRequestType::RevokeAccess) => AccessRequestType::RevokeAccess,
        Some(AccessRequestType::ModifyAccess) => {
            causes.push(
                "requestType: MODIFY_ACCESS is not supported; use GRANT_ACCESS or REVOKE_ACCESS"
                    .into(),
            );
            AccessRequestType::GrantAccess
        }
    }
}

/// `requestedFor`: 1 to [`limits::MAX_REQUESTED_FOR`] ids, each an id,
/// none twice.
fn check_targets(requested_for: &[String], causes: &mut Vec<String>) {
    if requested_for.is_empty() {
        causes.push("requestedFor must contain at least 1 identity id; got 0".into());
    }
    if requested_for.len() > limits::MAX_REQUESTED_FOR {
        // Each gets a request of its own, in one transaction.
        causes.push(format!(
            "requestedFor has {} identities; at most {} are allowed in one request",
            requested_for.len(),
            limits::MAX_REQUESTED_FOR
        ));
        return;
    }
    let mut seen = HashSet::new();
    for (i, id) in requested_for.iter().enumerate() {
        if id.trim().is_empty() {
            causes.push(format!(
                "requestedFor[{i}] is empty; identity ids must be non-empty"
            ));
        } else if let Err(cause) = limits::check_id(&format!("requestedFor[{i}]"), id) {
            causes.push(cause);
        } else if !seen.insert(id.as_str()) {
            causes.push(format!(
                "requestedFor[{i}]: identity {id} is listed more than once; ids must be distinct"
            ));
        }
    }
}

/// `requestedItems`: 1..=25 distinct items, each with what its request
/// type needs (a comment to revoke) and valid dates.
fn check_items(
    requested: &[AccessRequestItem],
    revoke: bool,
    now: DateTime<Utc>,
    causes: &mut Vec<String>,
) -> Vec<ValidItem> {
    let n_items = requested.len();
    if n_items == 0 || n_items > MAX_ITEMS {
        causes.push(format!(
            "requestedItems must contain between 1 and {MAX_ITEMS} items; got {n_items}"
        ));
    }
    if n_items > MAX_ITEMS {
        return Vec::new();
    }
    let mut seen_items = HashSet::new();
    let mut items = Vec::with_capacity(n_items);
    for (i, item) in requested.iter().enumerate() {
        let at = format!("requestedItems[{i}]");
        if item.id.trim().is_empty() {
            causes.push(format!("{at}.id is empty; item ids must be non-empty"));
        } else if let Err(cause) = limits::check_id(&format!("{at}.id"), &item.id) {
            causes.push(cause);
        } else if !seen_items.insert((item.item_type, item.id.as_str())) {
            causes.push(format!(
                "{at}: {} {} is listed more than once; items must be distinct",
                item.item_type.as_str(),
                item.id
            ));
        }
        if let Some(comment) = &item.comment {
            if let Err(cause) =
                limits::check_text(&format!("{at}.comment"), comment, limits::MAX_COMMENT_CHARS)
            {
                causes.push(cause);
            }
        }
        if let Some(metadata) = &item.client_metadata {
            causes.extend(limits::check_metadata(
                &format!("{at}.clientMetadata"),
                metadata,
            ));
        }
        if revoke && item.comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
            let got = match &item.comment {
                None => "it is missing".to_string(),
                Some(c) => format!("got {}", limits::shown(c)),
            };
            causes.push(format!(
                "{at}.comment is required for REVOKE_ACCESS ({} {}); {got}",
                item.item_type.as_str(),
                limits::shown_id(&item.id)
            ));
        }
        let (start_date, remove_date) = item_dates(&at, item, revoke, now, causes);
        items.push(ValidItem {
            item_type: item.item_type,
            id: item.id.clone(),
            comment: item.comment.clone().filter(|c| !c.is_empty()),
            client_metadata: item.client_metadata.clone().filter(|m| !m.is_empty()),
            start_date,
            remove_date,
        });
    }
    items
}

/// An item's `startDate` (GRANT only) and `removeDate` (not on
/// entitlements), each an RFC 3339 UTC time in the future.
fn item_dates(
    at: &str,
    item: &AccessRequestItem,
    revoke: bool,
    now: DateTime<Utc>,
    causes: &mut Vec<String>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let start_date = match &item.start_date {
        Some(s) if revoke => {
            causes.push(format!(
                "{at}.startDate {} is not allowed for REVOKE_ACCESS; a start date only applies to GRANT_ACCESS",
                limits::shown(s)
            ));
            None
        }
        Some(s) => future_utc(&format!("{at}.startDate"), s, now)
            .map_err(|c| causes.push(c))
            .ok(),
        None => None,
    };
    let remove_date = match &item.remove_date {
        Some(s) if item.item_type == ItemType::Entitlement => {
            causes.push(format!(
                "{at}.removeDate {} is not allowed on entitlements (ENTITLEMENT {}); only roles and access profiles take a removeDate",
                limits::shown(s),
                limits::shown_id(&item.id)
            ));
            None
        }
        Some(s) => future_utc(&format!("{at}.removeDate"), s, now)
            .map_err(|c| causes.push(c))
            .ok(),
        None => None,
    };
    (start_date, remove_date)
}

/// REVOKE: exactly one identity, not oneself, at most one entitlement.
/// GRANT with entitlements: at most 10 identities and 25 entitlements.
fn check_limits(body: &AccessRequest, revoke: bool, caller: &str, causes: &mut Vec<String>) {
    let entitlements = body
        .requested_items
        .iter()
        .filter(|i| i.item_type == ItemType::Entitlement)
        .count();
    let identities = body.requested_for.len();
    if revoke {
        if identities != 1 {
            causes.push(format!(
                "REVOKE_ACCESS requires exactly 1 identity in requestedFor; got {identities}"
            ));
        }
        if body.requested_for.iter().any(|id| id == caller) {
            causes.push(format!(
                "REVOKE_ACCESS cannot be requested for oneself (requestedFor contains {caller})"
            ));
        }
        if entitlements > 1 {
            causes.push(format!(
                "requestedItems has {entitlements} entitlements; REVOKE_ACCESS allows at most 1 entitlement per request"
            ));
        }
    } else if entitlements > 0 {
        if identities > MAX_IDENTITIES_WITH_ENTITLEMENTS {
            causes.push(format!(
                "requestedFor has {identities} identities; at most {MAX_IDENTITIES_WITH_ENTITLEMENTS} are allowed when entitlements are requested"
            ));
        }
        if entitlements > MAX_ENTITLEMENTS {
            causes.push(format!(
                "requestedItems has {entitlements} entitlements; at most {MAX_ENTITLEMENTS} are allowed"
            ));
        }
    }
}

/// An RFC 3339 date-time, in UTC, strictly after `now`.
fn future_utc(field: &str, value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let shown = limits::shown(value);
    let parsed = DateTime::parse_from_rfc3339(value).map_err(|_| {
        format!("{field} {shown} is not an RFC 3339 date-time (e.g. 2030-01-31T12:00:00Z)")
    })?;
    if parsed.offset().local_minus_utc() != 0 {
        return Err(format!("{field} {shown} must be in UTC (offset Z)"));
    }
    let t = parsed.with_timezone(&Utc);
    if t <= now {
        return Err(format!(
            "{field} {shown} must be in the future (now is {})",
            crate::time::format(&now)
        ));
    }
    Ok(t)
}

/// GRANT for others and every REVOKE need ORG_ADMIN or the manager of every target.
fn authorize(
    principal: &Principal,
    caller: &str,
    request: &ValidRequest,
    identities: &HashMap<String, IdentityRecord>,
) -> Result<(), ApiError> {
    if principal.is_org_admin() {
        return Ok(());
    }
    let others: Vec<&String> = request
        .requested_for
        .iter()
        .filter(|t| t.as_str() != caller)
        .collect();
    let not_managed: Vec<&str> = others
        .iter()
        .filter(|t| {
            identities
                .get(t.as_str())
                .and_then(|i| i.manager_id.as_deref())
                != Some(caller)
        })
        .map(|t| t.as_str())
        .collect();
    if not_managed.is_empty() {
        return Ok(());
    }
    let what = match request.request_type {
        AccessRequestType::RevokeAccess => "revoke access",
        _ => "request access for others",
    };
    Err(ApiError::Forbidden(format!(
        "only ORG_ADMIN or the manager of every target identity may {what}; {caller} does not manage {}",
        not_managed.join(", ")
    )))
}

fn named(identities: &HashMap<String, IdentityRecord>, id: &str) -> NamedRef {
    NamedRef {
        id: id.to_string(),
        name: identities
            .get(id)
            .map(|i| i.name.clone())
            .unwrap_or_else(|| id.to_string()),
    }
}

/// The steps of `item` when requested for `target`, in scheme order, each
/// with its owner (the target's manager for `MANAGER`). A MANAGER step is
/// skipped for an identity without a manager.
fn approvals_for(item: &CatalogItemRecord, target: &IdentityRecord) -> Vec<PlannedStep> {
    item.approval_steps
        .iter()
        .filter_map(|step| match (&step.approver, step.scheme) {
            (Some(a), _) => Some(PlannedStep {
                scheme: step.scheme,
                approver: a.clone(),
            }),
            (None, ApprovalScheme::Manager) => target.manager_id.as_ref().map(|m| PlannedStep {
                scheme: step.scheme,
                approver: Approver {
                    owner_type: OwnerType::Identity,
                    id: m.clone(),
                    name: target.manager_name.clone().unwrap_or_else(|| m.clone()),
                    member_ids: Vec::new(),
                },
            }),
            (None, _) => None,
        })
        .collect()
}

fn new_record(
    request: &ValidRequest,
    requester: &NamedRef,
    target: &IdentityRecord,
    items: &[(&ValidItem, PendingKey, Option<String>)],
    state: RequestState,
    catalog: &HashMap<(ItemType, String), CatalogItemRecord>,
    now: DateTime<Utc>,
) -> AccessRequestRecord {
    let phases = match state {
        RequestState::Executing => lifecycle::approval_phase(now),
        _ => lifecycle::completed_phases(now),
    };
    // Steps are taken in order: each item starts at its first step.
    let items = items
        .iter()
        .map(|(item, _, _)| {
            let c = &catalog[&(item.item_type, item.id.clone())];
            let (approvals, upcoming) = lifecycle::first_steps(approvals_for(c, target), now);
            RequestedItemRecord {
                account_activity_item_id: new_id(),
                item_type: item.item_type,
                item_id: item.id.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                comment: item.comment.clone(),
                client_metadata: item.client_metadata.clone(),
                start_date: item.start_date,
                remove_date: item.remove_date,
                approvals,
                upcoming,
                state: Some(state),
                phases: Some(phases.clone()),
            }
        })
        .collect();
    AccessRequestRecord {
        id: new_id(),
        requester: requester.clone(),
        requested_for: NamedRef {
            id: target.id.clone(),
            name: target.name.clone(),
        },
        request_type: request.request_type,
        state,
        created: now,
        modified: now,
        client_metadata: request.client_metadata.clone(),
        items,
        phases,
        cancellation: None,
        warnings: Vec::new(),
        version: 1,
    }
}

fn tracking(target: &str, items: &[&ValidItem], ids: Vec<String>) -> AccessRequestTracking {
    AccessRequestTracking {
        requested_for: target.to_string(),
        requested_items_details: items
            .iter()
            .map(|i| RequestedItemDetails {
                item_type: i.item_type,
                id: i.id.clone(),
            })
            .collect(),
        attributes_hash: attributes_hash(target, items) as i64,
        access_request_ids: ids,
    }
}

/// A stable 32-bit hash of what was requested (Java `String.hashCode` style,
/// so clients see the familiar signed int32 values).
fn attributes_hash(target: &str, items: &[&ValidItem]) -> i32 {
    let mut text = String::from(target);
    for i in items {
        text.push('|');
        text.push_str(i.item_type.as_str());
        text.push(':');
        text.push_str(&i.id);
        if let Some(d) = &i.remove_date {
            text.push('@');
            text.push_str(&crate::time::format(d));
        }
    }
    text.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}
