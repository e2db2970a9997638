//! Reading non-employee approval items (SPEC §11): `GET
//! /non-employee-approvals` (the items an identity may decide or decided),
//! `GET /non-employee-approvals/{id}` and
//! `GET /non-employee-approvals/summary/{requestedFor}`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::{approval_detail, may_read, path_id, subject, unknown_item, view_item};
use crate::auth::Principal;
use crate::domain::collection::filter::{
    Expr, FieldSpec, FieldValue, FilterSchema, Op, Row, Value, ValueKind,
};
use crate::domain::collection::plan::{counted, in_any_order, in_key_order, Total, SORT_BUDGET};
use crate::domain::collection::sorters::{order, SortKey};
use crate::domain::collection::{matches, Page, Paging, Params};
use crate::error::ApiError;
use crate::models::{
    ApprovalStatus, NonEmployeeApprovalItem, NonEmployeeApprovalItemDetail,
    NonEmployeeApprovalSummary,
};
use crate::records::NonEmployeeApprovalViewRecord;
use crate::store::counts::{self, CountScope};
use crate::store::Store;

/// The filterable fields, as the fragment lists them: `approvalStatus` with
/// `eq` (values compared case-insensitively).
pub const APPROVAL_STATUS: FieldSpec = FieldSpec {
    name: "approvalStatus",
    kind: ValueKind::Text,
    ops: &[Op::Eq],
};
pub const FILTERS: FilterSchema = FilterSchema {
    fields: &[APPROVAL_STATUS],
};
/// The sortable fields, as the fragment lists them.
pub const SORTERS: &[&str] = &["created", "modified"];

/// A parsed list query; `requested_for` is still as given (default `me`).
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub requested_for: String,
    pub paging: Paging,
    pub filters: Option<Expr>,
    pub sorters: Vec<SortKey>,
}

/// One page of approval items and the total before paging.
pub type ApprovalPage = Page<NonEmployeeApprovalItem>;

/// The `approvalStatus` values a filter compares with that are no status.
fn unknown_statuses(expr: &Expr, into: &mut Vec<String>) {
    match expr {
        Expr::Cmp {
            value: Value::Str(v),
            ..
        } if ApprovalStatus::from_name(v).is_none() => into.push(v.clone()),
        Expr::And(a, b) | Expr::Or(a, b) => {
            unknown_statuses(a, into);
            unknown_statuses(b, into);
        }
        Expr::Not(e) => unknown_statuses(e, into),
        _ => {}
    }
}

/// Parses the list's query string parameters.
pub fn parse_list(params: &BTreeMap<String, Vec<String>>) -> Result<ListQuery, ApiError> {
    let mut p = Params::new(params);
    let requested_for = p.identity("requested-for");
    let paging = p.paging();
    let filters = p.filters(&FILTERS);
    if let Some(f) = &filters {
        let mut unknown = Vec::new();
        unknown_statuses(f, &mut unknown);
        for v in unknown {
            p.cause(format!(
                "filters: approvalStatus {v:?} is not one of {}",
                ApprovalStatus::ALL.map(ApprovalStatus::as_str).join(", ")
            ));
        }
    }
    let sorters = p.sorters(SORTERS);
    p.finish()?;
    Ok(ListQuery {
        requested_for: requested_for.unwrap_or_else(|| "me".into()),
        paging,
        filters,
        sorters,
    })
}

/// An approvals list entry as the filters see it.
struct ApprovalRow<'a>(&'a NonEmployeeApprovalViewRecord);

impl Row for ApprovalRow<'_> {
    fn value(&self, field: &str) -> Option<FieldValue<'_>> {
        match field {
            "approvalStatus" => Some(FieldValue::Text(self.0.item.approval_status.as_str())),
            _ => None,
        }
    }
}

/// Orders by the sorters, then by id so that pages are stable.
fn compare(
    keys: &[SortKey],
    a: &NonEmployeeApprovalViewRecord,
    b: &NonEmployeeApprovalViewRecord,
) -> Ordering {
    order(
        keys,
        a,
        b,
        |field, a, b| match field {
            "created" => a.item.created.cmp(&b.item.created),
            "modified" => a.item.modified.cmp(&b.item.modified),
            _ => Ordering::Equal,
        },
        |a, b| a.item.id.cmp(&b.item.id),
    )
}

/// How to narrow the approvals list past its budget.
const NARROW: &str = "sort by created (the list's own order), or lower the offset";

/// A status alone, as the filters see it: the list's one filterable field
/// is `approvalStatus`, so a filter's total is the sum of the counts of
/// the statuses it matches.
struct StatusRow(ApprovalStatus);

impl Row for StatusRow {
    fn value(&self, field: &str) -> Option<FieldValue<'_>> {
        match field {
            "approvalStatus" => Some(FieldValue::Text(self.0.as_str())),
            _ => None,
        }
    }
}

/// The approval items of the identity the query names, read in key order
/// (newest first by default) as far as the page needs.
pub async fn list(
    store: &Store,
    principal: &Principal,
    query: &ListQuery,
) -> Result<ApprovalPage, ApiError> {
    let identity = subject(principal, &query.requested_for)?;
    let tenant = principal.tenant_id.as_str();
    let key_order = query.sorters.first().filter(|s| s.field == "created");
    let total = if query.paging.count {
        Total::Counted(async {
            let read = store
                .read_counts(tenant, &[CountScope::Identity(identity.clone())])
                .await?;
            Ok(counted(
                ApprovalStatus::ALL
                    .iter()
                    .filter(|s| matches(query.filters.as_ref(), &StatusRow(**s)))
                    .map(|s| read.identity(tenant, &identity, &counts::non_employee_approvals(*s)))
                    .sum(),
            ))
        })
    } else {
        Total::Skip
    };
    let expected = match key_order {
        Some(_) => query.paging.offset.saturating_add(query.paging.limit) + 1,
        None => SORT_BUDGET,
    };
    let mut rows = store.non_employee_approval_stream(
        tenant,
        &identity,
        key_order.is_some_and(|s| s.descending),
        expected,
    );
    let expand = |v: NonEmployeeApprovalViewRecord,
                  rows: &mut Vec<NonEmployeeApprovalViewRecord>| {
        if matches(query.filters.as_ref(), &ApprovalRow(&v)) {
            rows.push(v);
        }
    };
    let order = |a: &NonEmployeeApprovalViewRecord, b: &NonEmployeeApprovalViewRecord| {
        compare(&query.sorters, a, b)
    };
    let page = match key_order {
        Some(_) => in_key_order(&mut rows, expand, order, &query.paging, total, NARROW).await?,
        None => in_any_order(&mut rows, expand, order, &query.paging, NARROW).await?,
    };
    Ok(page.map(|v| Some(view_item(&v))))
}

/// Approval item `id` with its request (`include_detail`) or only the
/// request's id and requester: for ORG_ADMIN and those who may read the
/// request.
pub async fn get(
    store: &Store,
    principal: &Principal,
    id: &str,
    include_detail: bool,
) -> Result<NonEmployeeApprovalItemDetail, ApiError> {
    let id = path_id("id", id)?;
    let request = store
        .non_employee_request_of_item(&principal.tenant_id, id)
        .await?
        .ok_or_else(|| unknown_item(id))?;
    if !may_read(principal, &request) {
        return Err(ApiError::Forbidden(format!(
            "only ORG_ADMIN, its approvers and those who may read its request may read non-employee approval item {id}"
        )));
    }
    approval_detail(&request, id, include_detail).ok_or_else(|| unknown_item(id))
}

/// Counts by status of the approval items `requested_for` lists, as kept
/// beside the list.
pub async fn summary(
    store: &Store,
    principal: &Principal,
    requested_for: &str,
) -> Result<NonEmployeeApprovalSummary, ApiError> {
    let identity = subject(principal, requested_for)?;
    let tenant = principal.tenant_id.as_str();
    let read = store
        .read_counts(tenant, &[CountScope::Identity(identity.clone())])
        .await?;
    let count = |status| {
        read.identity(tenant, &identity, &counts::non_employee_approvals(status))
            .max(0) as u64
    };
    Ok(NonEmployeeApprovalSummary {
        approved: count(ApprovalStatus::Approved),
        pending: count(ApprovalStatus::Pending),
        rejected: count(ApprovalStatus::Rejected),
    })
}
