//! `POST /non-employee-requests` (SPEC §11): validate the body (one cause per
//! problem), read the source, the manager, the sponsor and the account
//! name's holder in one batch, decide, and store the request with its
//! approval items and its hold on the account name in one transaction. The
//! hold is a guard item written only if absent, so of two racing creates
//! of one name on one source exactly one is stored.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use super::request_model;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::models::{ApprovalStatus, NonEmployeeRequest};
use crate::plan::{Plan, Runner, Settled, Step};
use crate::records::{
    new_id, request_status, NamedRef, NonEmployeeApprovalRecord, NonEmployeeRequestRecord,
};
use crate::store::{writes, NonEmployeeFound, NonEmployeeLookup, MAX_TRANSACTION_ITEMS};

/// Longest value of each text field, in characters.
pub const MAX_TEXT_CHARS: usize = 255;
/// Most custom attributes in `data`.
pub const MAX_DATA_ENTRIES: usize = 10;
/// Longest custom attribute value, in characters.
pub const MAX_DATA_VALUE_CHARS: usize = 4000;
/// What the full copies of one request may weigh together (bytes), well
/// within the 4 MB one DynamoDB transaction may carry.
pub const MAX_COPIES_BYTES: usize = 3_000_000;

/// About what one copy of `r` weighs as an item: its text, and a generous
/// allowance for attribute names, numbers and dates.
fn stored_bytes(r: &NonEmployeeRequestRecord) -> usize {
    let text = [
        &r.id,
        &r.requester.id,
        &r.requester.name,
        &r.source.id,
        &r.source.name,
        &r.account_name,
        &r.first_name,
        &r.last_name,
        &r.email,
        &r.phone,
        &r.manager,
    ]
    .iter()
    .map(|s| s.len())
    .sum::<usize>()
        + r.source.description.as_ref().map_or(0, String::len)
        + r.source
            .account_manager_ids
            .iter()
            .map(String::len)
            .sum::<usize>();
    let data: usize = r.data.iter().map(|(k, v)| k.len() + v.len() + 8).sum();
    let items: usize = r
        .approval_items
        .iter()
        .map(|i| {
            400 + i.id.len()
                + i.approver.id.len()
                + i.approver.name.len()
                + i.approver.member_ids.iter().map(String::len).sum::<usize>()
        })
        .sum();
    1000 + text + data + items
}

/// A valid `NonEmployeeRequestBody`, its text trimmed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    pub account_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub manager: String,
    pub source_id: String,
    pub data: BTreeMap<String, String>,
    pub start_date: DateTime<FixedOffset>,
    pub end_date: DateTime<FixedOffset>,
}

/// What [`parse_body`] could read of a body, with a cause per problem.
struct Fields<'a> {
    body: &'a Map<String, Value>,
    causes: Vec<String>,
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Fields<'_> {
    /// A required string field, trimmed: absent, null or blank is "required".
    fn text(&mut self, name: &str) -> Option<String> {
        match self.body.get(name) {
            None | Some(Value::Null) => {
                self.causes.push(format!("{name} is required"));
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.causes.push(format!("{name} is required"));
                None
            }
            Some(Value::String(s)) => {
                let s = s.trim();
                let chars = s.chars().count();
                if chars > MAX_TEXT_CHARS {
                    self.causes.push(format!(
                        "{name} is {chars} characters long; at most {MAX_TEXT_CHARS} are allowed"
                    ));
                    return None;
                }
                Some(s.to_string())
            }
            Some(other) => {
                self.causes
                    .push(format!("{name} must be a string; got {}", json_type(other)));
                None
            }
        }
    }

    fn date(&mut self, name: &str) -> Option<DateTime<FixedOffset>> {
        let text = match self.body.get(name) {
            None | Some(Value::Null) => {
                self.causes.push(format!("{name} is required"));
                return None;
            }
            Some(Value::String(s)) => s.trim(),
            Some(other) => {
                self.causes.push(format!(
                    "{name} must be a date-time string; got {}",
                    json_type(other)
                ));
                return None;
            }
        };
        let parsed = parse_date(text);
        if parsed.is_none() {
            let shown: String = text.chars().take(64).collect();
            self.causes.push(format!(
                "{name} {shown:?} is not a date-time; give an ISO 8601 date-time such as 2026-03-24T00:00:00-05:00"
            ));
        }
        parsed
    }

    fn data(&mut self) -> BTreeMap<String, String> {
        let mut data = BTreeMap::new();
        let object = match self.body.get("data") {
            None | Some(Value::Null) => return data,
            Some(Value::Object(o)) => o,
            Some(other) => {
                self.causes.push(format!(
                    "data must be an object of string values; got {}",
                    json_type(other)
                ));
                return data;
            }
        };
        if object.len() > MAX_DATA_ENTRIES {
            self.causes.push(format!(
                "data has {} entries; at most {MAX_DATA_ENTRIES} custom attributes are allowed",
                object.len()
            ));
        }
        for (key, value) in object {
            let shown: String = key.chars().take(64).collect();
            if key.trim().is_empty() || key.chars().count() > MAX_TEXT_CHARS {
                self.causes.push(format!(
                    "data key {shown:?} must have 1 to {MAX_TEXT_CHARS} characters"
                ));
                continue;
            }
            match value {
                Value::String(v) if v.chars().count() > MAX_DATA_VALUE_CHARS => {
                    self.causes.push(format!(
                        "data.{shown} is {} characters long; at most {MAX_DATA_VALUE_CHARS} are allowed",
                        v.chars().count()
                    ))
                }
                Value::String(v) => {
                    data.insert(key.clone(), v.clone());
                }
                other => self.causes.push(format!(
                    "data.{shown} must be a string; got {}",
                    json_type(other)
                )),
            }
        }
        data
    }
}

/// An ISO 8601 date-time: RFC 3339 (its offset kept), or without an offset
/// (UTC), or a date alone (midnight UTC).
pub fn parse_date(text: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t);
    }
    let utc = FixedOffset::east_opt(0)?;
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc().with_timezone(&utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().with_timezone(&utc))
}

/// A plausible email address: `local@domain`, no blanks, a dotted domain of
/// letters, digits and hyphens.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && !local.contains('@')
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// Checks a `NonEmployeeRequestBody` field by field: every problem is one
/// cause (unknown fields are ignored).
pub fn parse_body(body: &Value) -> Result<NewRequest, ApiError> {
    let Value::Object(object) = body else {
        return Err(ApiError::bad_request(format!(
            "request body must be a JSON object (NonEmployeeRequestBody); got {}",
            json_type(body)
        )));
    };
    let mut f = Fields {
        body: object,
        causes: Vec::new(),
    };
    let account_name = f.text("accountName");
    let first_name = f.text("firstName");
    let last_name = f.text("lastName");
    let email = f.text("email");
    if let Some(e) = &email {
        if !is_email(e) {
            f.causes
                .push(format!("email {e:?} is not an email address"));
        }
    }
    let phone = f.text("phone");
    let manager = f.text("manager");
    let source_id = f.text("sourceId");
    // References are looked up by key: ids of another shape are refused first.
    for (field, value) in [("manager", &manager), ("sourceId", &source_id)] {
        if let Some(Err(cause)) = value.as_deref().map(|v| crate::limits::check_id(field, v)) {
            f.causes.push(cause);
        }
    }
    let data = f.data();
    let start_date = f.date("startDate");
    let end_date = f.date("endDate");
    if let (Some(start), Some(end)) = (start_date, end_date) {
        if start >= end {
            f.causes.push(format!(
                "startDate ({}) must be before endDate ({})",
                crate::models::offset_millis::format(&start),
                crate::models::offset_millis::format(&end)
            ));
        }
    }
    match (
        account_name,
        first_name,
        last_name,
        email,
        phone,
        manager,
        source_id,
        start_date,
        end_date,
    ) {
        (
            Some(account_name),
            Some(first_name),
            Some(last_name),
            Some(email),
            Some(phone),
            Some(manager),
            Some(source_id),
            Some(start_date),
            Some(end_date),
        ) if f.causes.is_empty() => Ok(NewRequest {
            account_name,
            first_name,
            last_name,
            email,
            phone,
            manager,
            source_id,
            data,
            start_date,
            end_date,
        }),
        _ => Err(ApiError::BadRequest(f.causes)),
    }
}

/// Creates the request `body` describes, sponsored by `principal`.
pub async fn create(
    runner: &Runner,
    principal: &Principal,
    body: &Value,
    now: DateTime<Utc>,
) -> Result<Settled<NonEmployeeRequest>, ApiError> {
    let new = parse_body(body)?;
    let tenant = principal.tenant_id.as_str();
    let account = (new.source_id.clone(), new.account_name.clone());
    // One batch: the source, the manager, the sponsor's directory entry and
    // whoever holds the account name (read consistently).
    let lookup = NonEmployeeLookup {
        sources: vec![new.source_id.clone()],
        identities: std::iter::once(new.manager.clone())
            .chain(principal.identity_id.clone())
            .collect(),
        account_names: vec![account.clone()],
        ..Default::default()
    };
    let lookup = &lookup;
    let (new, account) = (&new, &account);
    runner
        .run(|lost: Option<NonEmployeeRequestRecord>| async move {
            let found = runner
                .store()
                .non_employee_lookup(tenant, lookup)
                .await
                .map_err(ApiError::from)?;
            // The previous attempt's write landed although its answer was lost:
            // the name is held by the request it wrote.
            if let Some(lost) = lost {
                if found.account_holders.get(account) == Some(&lost.id) {
                    return Ok(Step::Answer(request_model(&lost)));
                }
            }
            let record = decide(principal, new, &found, now)?;
            Ok(Step::Write(Plan {
                writes: writes::non_employee_creation(tenant, &record),
                answer: request_model(&record),
                mark: record,
            }))
        })
        .await
}

/// The request to store, or why there is none: unknown references (400),
/// authority (403), a taken account name (400.1.409).
fn decide(
    principal: &Principal,
    new: &NewRequest,
    found: &NonEmployeeFound,
    now: DateTime<Utc>,
) -> Result<NonEmployeeRequestRecord, ApiError> {
    let source = found.sources.get(&new.source_id);
    let mut causes = Vec::new();
    if source.is_none() {
        causes.push(format!(
            "sourceId {} is not a non-employee source of the tenant",
            new.source_id
        ));
    }
    if !found.identities.contains_key(&new.manager) {
        causes.push(format!(
            "manager {} is not an identity of the tenant",
            new.manager
        ));
    }
    let Some(source) = source.filter(|_| causes.is_empty()) else {
        return Err(ApiError::BadRequest(causes));
    };
    let Some(me) = principal.identity_id.as_deref() else {
        return Err(ApiError::Forbidden(
            "a token without a user context cannot sponsor a non-employee request".into(),
        ));
    };
    if !principal.is_org_admin() && !source.is_account_manager(me) {
        return Err(ApiError::Forbidden(format!(
            "only ORG_ADMIN or an account manager of source {} ({}) may request non-employee accounts on it",
            source.name, source.id
        )));
    }
    if found
        .account_holders
        .contains_key(&(new.source_id.clone(), new.account_name.clone()))
    {
        return Err(ApiError::Conflict(vec![format!(
            "Unable to create Non-Employee because the accountName \"{}\" is already being used.",
            new.account_name
        )]));
    }
    let requester = NamedRef {
        id: me.to_string(),
        name: found
            .identities
            .get(me)
            .map(|i| i.name.clone())
            .or_else(|| principal.user_name.clone())
            .unwrap_or_else(|| me.to_string()),
    };
    let approval_items: Vec<NonEmployeeApprovalRecord> = source
        .approvers
        .iter()
        .enumerate()
        .map(|(position, approver)| NonEmployeeApprovalRecord {
            id: new_id(),
            approver: approver.clone(),
            approval_order: (position + 1) as f64,
            approval_status: if position == 0 {
                ApprovalStatus::Pending
            } else {
                ApprovalStatus::NotReady
            },
            comment: None,
            reviewer_id: None,
            created: now,
            modified: now,
        })
        .collect();
    // A source without approvers approves at once.
    let approval_status = request_status(&approval_items);
    let record = NonEmployeeRequestRecord {
        id: new_id(),
        requester,
        source: source.reference(),
        account_name: new.account_name.clone(),
        first_name: new.first_name.clone(),
        last_name: new.last_name.clone(),
        email: new.email.clone(),
        phone: new.phone.clone(),
        manager: new.manager.clone(),
        data: new.data.clone(),
        start_date: new.start_date,
        end_date: new.end_date,
        approval_status,
        completion_date: (approval_status == ApprovalStatus::Approved).then_some(now),
        created: now,
        modified: now,
        approval_items,
        version: 1,
    };
    // Any later change rewrites every copy in one transaction.
    let writes = crate::store::Store::non_employee_request_writes(&record);
    if writes > MAX_TRANSACTION_ITEMS {
        return Err(ApiError::bad_request(format!(
            "source {} has {} approvers and {} account managers: a request on it takes {writes} writes, \
             more than the {} one transaction may hold",
            source.id,
            source.approvers.len(),
            source.account_manager_ids.len(),
            MAX_TRANSACTION_ITEMS
        )));
    }
    super::check_row(&record, "the request's fields and data")?;
    let copies = 1 + record.approval_items.len() + record.listed_for().len();
    let bytes = stored_bytes(&record) * copies;
    if bytes > MAX_COPIES_BYTES {
        return Err(ApiError::bad_request(format!(
            "the request is stored {copies} times (under its id, each approval item and each account manager); \
             at about {bytes} bytes in all it exceeds {MAX_COPIES_BYTES}: send less data"
        )));
    }
    Ok(record)
}
