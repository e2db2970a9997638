//! Reading non-employee requests (SPEC §11): `GET /non-employee-requests`
//! (the requests an identity sponsored or that are on sources it manages),
//! `GET /non-employee-requests/{id}` and
//! `GET /non-employee-requests/summary/{requestedFor}`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::{may_read, path_id, request_model, subject, unknown_request};
use crate::auth::Principal;
use crate::domain::collection::filter::{
    Expr, FieldSpec, FieldValue, FilterSchema, Op, Row, ValueKind,
};
use crate::domain::collection::plan::{counted, in_any_order, in_key_order, Total, SORT_BUDGET};
use crate::domain::collection::sorters::{order, SortKey};
use crate::domain::collection::{matches, Page, Paging, Params};
use crate::error::ApiError;
use crate::models::{ApprovalStatus, NonEmployeeRequest, NonEmployeeRequestSummary};
use crate::records::NonEmployeeRequestRecord;
use crate::store::counts::{self, CountScope};
use crate::store::Store;

/// The filterable fields, as the fragment lists them: `sourceId` with `eq`.
pub const SOURCE_ID: FieldSpec = FieldSpec {
    name: "sourceId",
    kind: ValueKind::Text,
    ops: &[Op::Eq],
};
pub const FILTERS: FilterSchema = FilterSchema {
    fields: &[SOURCE_ID],
};
/// The sortable fields, as the fragment lists them.
pub const SORTERS: &[&str] = &[
    "created",
    "approvalStatus",
    "firstName",
    "lastName",
    "email",
    "phone",
    "accountName",
    "startDate",
    "endDate",
];

/// A parsed list query; `requested_for` is still as given.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub requested_for: String,
    pub paging: Paging,
    pub filters: Option<Expr>,
    pub sorters: Vec<SortKey>,
}

/// One page of requests and the total before paging.
pub type RequestPage = Page<NonEmployeeRequest>;

/// Parses the list's query string parameters; `requested-for` is required.
pub fn parse_list(params: &BTreeMap<String, Vec<String>>) -> Result<ListQuery, ApiError> {
    let mut p = Params::new(params);
    let requested_for = p.identity("requested-for");
    if params.get("requested-for").is_none_or(Vec::is_empty) {
        p.cause("requested-for is required: give an identity id or me");
    }
    let paging = p.paging();
    let filters = p.filters(&FILTERS);
    let sorters = p.sorters(SORTERS);
    p.finish()?;
    Ok(ListQuery {
        requested_for: requested_for.unwrap_or_default(),
        paging,
        filters,
        sorters,
    })
}

/// A request as the filters see it.
struct RequestRow<'a>(&'a NonEmployeeRequestRecord);

impl Row for RequestRow<'_> {
    fn value(&self, field: &str) -> Option<FieldValue<'_>> {
        match field {
            "sourceId" => Some(FieldValue::Text(&self.0.source.id)),
            _ => None,
        }
    }
}

fn text_order(a: &str, b: &str) -> Ordering {
    a.to_lowercase().cmp(&b.to_lowercase())
}

/// Orders by the sorters, then by id so that pages are stable.
fn compare(
    keys: &[SortKey],
    a: &NonEmployeeRequestRecord,
    b: &NonEmployeeRequestRecord,
) -> Ordering {
    order(
        keys,
        a,
        b,
        |field, a, b| match field {
            "created" => a.created.cmp(&b.created),
            "approvalStatus" => a.approval_status.as_str().cmp(b.approval_status.as_str()),
            "firstName" => text_order(&a.first_name, &b.first_name),
            "lastName" => text_order(&a.last_name, &b.last_name),
            "email" => text_order(&a.email, &b.email),
            "phone" => text_order(&a.phone, &b.phone),
            "accountName" => text_order(&a.account_name, &b.account_name),
            "startDate" => a.start_date.cmp(&b.start_date),
            "endDate" => a.end_date.cmp(&b.end_date),
            _ => Ordering::Equal,
        },
        |a, b| a.id.cmp(&b.id),
    )
}

/// How to narrow the requests list past its budget.
const NARROW: &str = "sort by created (the list's own order), or lower the offset";

/// The requests of the identity the query names, read in key order (newest
/// first by default) as far as the page needs.
pub async fn list(
    store: &Store,
    principal: &Principal,
    query: &ListQuery,
) -> Result<RequestPage, ApiError> {
    let identity = subject(principal, &query.requested_for)?;
    let tenant = principal.tenant_id.as_str();
    let key_order = query.sorters.first().filter(|s| s.field == "created");
    let total = match (query.paging.count, &query.filters) {
        (false, _) => Total::Skip,
        (true, Some(_)) => Total::Count,
        (true, None) => Total::Counted(async {
            let read = store
                .read_counts(tenant, &[CountScope::Identity(identity.clone())])
                .await?;
            Ok(counted(
                ApprovalStatus::ALL
                    .iter()
                    .map(|s| read.identity(tenant, &identity, &counts::non_employee_requests(*s)))
                    .sum(),
            ))
        }),
    };
    let expected = match key_order {
        Some(_) => query.paging.offset.saturating_add(query.paging.limit) + 1,
        None => SORT_BUDGET,
    };
    let mut rows = store.non_employee_request_stream(
        tenant,
        &identity,
        key_order.is_some_and(|s| s.descending),
        expected,
    );
    let expand = |r: NonEmployeeRequestRecord, rows: &mut Vec<NonEmployeeRequestRecord>| {
        if matches(query.filters.as_ref(), &RequestRow(&r)) {
            rows.push(r);
        }
    };
    let order =
        |a: &NonEmployeeRequestRecord, b: &NonEmployeeRequestRecord| compare(&query.sorters, a, b);
    let page = match key_order {
        Some(_) => in_key_order(&mut rows, expand, order, &query.paging, total, NARROW).await?,
        None => in_any_order(&mut rows, expand, order, &query.paging, NARROW).await?,
    };
    Ok(page.map(|r| Some(request_model(&r))))
}

/// Request `id`: for ORG_ADMIN, and for those who list it or one of its
/// approval items.
pub async fn get(
    store: &Store,
    principal: &Principal,
    id: &str,
) -> Result<NonEmployeeRequest, ApiError> {
    let id = path_id("id", id)?;
    let record = store
        .non_employee_request(&principal.tenant_id, id)
        .await?
        .ok_or_else(|| unknown_request(id))?;
    if !may_read(principal, &record) {
        return Err(ApiError::Forbidden(format!(
            "only ORG_ADMIN, its sponsor, the account managers of its source and its approvers may read non-employee request {id}"
        )));
    }
    Ok(request_model(&record))
}

/// Counts by status of the requests `requested_for` lists, as kept beside
/// the list. Each approved request made a non-employee record
/// (`nonEmployeeCount`).
pub async fn summary(
    store: &Store,
    principal: &Principal,
    requested_for: &str,
) -> Result<NonEmployeeRequestSummary, ApiError> {
    let identity = subject(principal, requested_for)?;
    let tenant = principal.tenant_id.as_str();
    let read = store
        .read_counts(tenant, &[CountScope::Identity(identity.clone())])
        .await?;
    let count = |status| {
        read.identity(tenant, &identity, &counts::non_employee_requests(status))
            .max(0) as u64
    };
    let approved = count(ApprovalStatus::Approved);
    Ok(NonEmployeeRequestSummary {
        approved,
        rejected: count(ApprovalStatus::Rejected),
        pending: count(ApprovalStatus::Pending),
        non_employee_count: approved,
    })
}
