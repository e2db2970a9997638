//! `GET /access-request-approvals/pending`, `/completed` and
//! `/approval-summary` (SPEC §10): the `owner-id` rules, the collection
//! parameters with each fragment's filters and sorters, and one Query of
//! the owner's (or the tenant's) approval list.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{render, ApiVersion};
use crate::auth::Principal;
use crate::domain::collection::filter::{
    Expr, FieldSpec, FieldValue, FilterSchema, Op, Row, ValueKind,
};
use crate::domain::collection::sorters::{order, SortKey};
use crate::domain::collection::{matches, select, Page, Paging, Params};
use crate::error::ApiError;
use crate::models::{ApprovalSummary, CompletedApproval, PendingApproval, WorkItemState};
use crate::records::ApprovalEntryRecord;
use crate::store::{ApprovalList, ListedApproval, Store};

const fn field(name: &'static str, kind: ValueKind, ops: &'static [Op]) -> FieldSpec {
    FieldSpec { name, kind, ops }
}

const EQ_IN: &[Op] = &[Op::Eq, Op::In];
const TIME_PENDING: &[Op] = &[Op::Gt, Op::Lt, Op::Ge, Op::Le, Op::Eq, Op::In];
const TEXT_COMPLETED: &[Op] = &[
    Op::Eq,
    Op::In,
    Op::Ge,
    Op::Gt,
    Op::Le,
    Op::Lt,
    Op::Ne,
    Op::IsNull,
    Op::Sw,
];
const TIME_COMPLETED: &[Op] = &[
    Op::Gt,
    Op::Lt,
    Op::Ge,
    Op::Le,
    Op::Eq,
    Op::In,
    Op::Ne,
    Op::Sw,
];

/// v3 `listPendingApprovals`: its fragment's fields and operators.
pub const V3_PENDING_FILTERS: FilterSchema = FilterSchema {
    fields: &[
        field("id", ValueKind::Text, EQ_IN),
        field("requestedFor.id", ValueKind::Text, EQ_IN),
        field("modified", ValueKind::DateTime, TIME_PENDING),
        field("accessRequestId", ValueKind::Text, EQ_IN),
        field("created", ValueKind::DateTime, TIME_PENDING),
    ],
};
/// beta `listPendingApprovals`: no `accessRequestId`, no `created`.
pub const BETA_PENDING_FILTERS: FilterSchema = FilterSchema {
    fields: &[
        field("id", ValueKind::Text, EQ_IN),
        field("requestedFor.id", ValueKind::Text, EQ_IN),
        field("modified", ValueKind::DateTime, TIME_PENDING),
    ],
};
/// `listCompletedApprovals`, v3 and beta alike.
pub const COMPLETED_FILTERS: FilterSchema = FilterSchema {
    fields: &[
        field("id", ValueKind::Text, TEXT_COMPLETED),
        field("requestedFor.id", ValueKind::Text, TEXT_COMPLETED),
        field("modified", ValueKind::DateTime, TIME_COMPLETED),
    ],
};
/// The sortable fields of both lists.
pub const SORTERS: &[&str] = &["created", "modified"];

/// A parsed list query; `owner_id` as given (`me` resolved by the listing).
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub owner_id: Option<String>,
    pub paging: Paging,
    pub filters: Option<Expr>,
    pub sorters: Vec<SortKey>,
}

/// Parses a pending or completed list's query string against `schema`.
pub fn parse_list(
    params: &BTreeMap<String, Vec<String>>,
    schema: &'static FilterSchema,
) -> Result<ListQuery, ApiError> {
    let mut p = Params::new(params);
    let owner_id = p.identity("owner-id");
    let paging = p.paging();
    let filters = p.filters(schema);
    let sorters = p.sorters(SORTERS);
    p.finish()?;
    Ok(ListQuery {
        owner_id,
        paging,
        filters,
        sorters,
    })
}

/// The pending list's schema in `version`.
pub fn pending_filters(version: ApiVersion) -> &'static FilterSchema {
    match version {
        ApiVersion::V3 => &V3_PENDING_FILTERS,
        ApiVersion::Beta => &BETA_PENDING_FILTERS,
    }
}

/// Whose approvals a caller lists (`None`: the tenant's): ORG_ADMIN anyone's
/// or, without `owner-id`, the whole tenant's; anyone else only their own.
pub fn owner(principal: &Principal, owner_id: Option<&str>) -> Result<Option<String>, ApiError> {
    let named = match owner_id {
        Some(v) if v.eq_ignore_ascii_case("me") => match &principal.identity_id {
            Some(me) => Some(me.clone()),
            None => {
                return Err(ApiError::bad_request(
                    "owner-id=me needs a token with a user context",
                ))
            }
        },
        Some(v) => Some(v.to_string()),
        None => None,
    };
    if principal.is_org_admin() {
        return Ok(named);
    }
    match (named, &principal.identity_id) {
        (Some(id), _) if principal.is(&id) => Ok(Some(id)),
        (Some(other), _) => Err(ApiError::Forbidden(format!(
            "only ORG_ADMIN may list the approvals of another identity ({other}); use owner-id=me"
        ))),
        (None, Some(me)) => Ok(Some(me.clone())),
        (None, None) => Err(ApiError::Forbidden(
            "a token without a user context must be ORG_ADMIN to list approvals".into(),
        )),
    }
}

/// One entry as the filters see it.
struct EntryRow<'a>(&'a ApprovalEntryRecord);

impl EntryRow<'_> {
    fn created(&self) -> Option<DateTime<Utc>> {
        self.0
            .approval()
            .map(|a| a.created_or(self.0.request_created))
    }

    fn modified(&self) -> Option<DateTime<Utc>> {
        self.0.approval().map(|a| {
            a.modified
                .unwrap_or_else(|| a.created_or(self.0.request_created))
        })
    }

    fn id(&self) -> &str {
        self.0.approval().map_or("", |a| a.approval_id.as_str())
    }
}

impl Row for EntryRow<'_> {
    fn value(&self, field: &str) -> Option<FieldValue<'_>> {
        match field {
            "id" => self.0.approval().map(|a| FieldValue::Text(&a.approval_id)),
            "requestedFor.id" => Some(FieldValue::Text(&self.0.requested_for.id)),
            "accessRequestId" => Some(FieldValue::Text(&self.0.access_request_id)),
            "created" => self.created().map(FieldValue::DateTime),
            "modified" => self.modified().map(FieldValue::DateTime),
            _ => None,
        }
    }
}

/// Orders by the sorters, then by approval id so that pages are stable.
fn compare(keys: &[SortKey], a: &ApprovalEntryRecord, b: &ApprovalEntryRecord) -> Ordering {
    order(
        keys,
        &EntryRow(a),
        &EntryRow(b),
        |field, a, b| match field {
            "created" => a.created().cmp(&b.created()),
            "modified" => a.modified().cmp(&b.modified()),
            _ => Ordering::Equal,
        },
        |a, b| a.id().cmp(b.id()),
    )
}

/// Filters, sorts and pages the entries of one list.
fn page(query: &ListQuery, entries: Vec<ListedApproval>) -> Page<ApprovalEntryRecord> {
    select(
        entries
            .into_iter()
            .map(|l| l.entry)
            .filter(|e| e.approval().is_some()),
        |e| matches(query.filters.as_ref(), &EntryRow(e)),
        |a, b| compare(&query.sorters, a, b),
        &query.paging,
    )
}

/// The pending approvals the query names, as `principal` may see them.
pub async fn pending(
    store: &Store,
    principal: &Principal,
    query: &ListQuery,
    version: ApiVersion,
) -> Result<Page<PendingApproval>, ApiError> {
    let owner = owner(principal, query.owner_id.as_deref())?;
    let entries = store
        .list_approvals(
            &principal.tenant_id,
            owner.as_deref(),
            ApprovalList::Pending,
        )
        .await?;
    Ok(page(query, entries).map(|e| render::pending(&e, version)))
}

/// The completed (approved or rejected) approvals the query names.
pub async fn completed(
    store: &Store,
    principal: &Principal,
    query: &ListQuery,
) -> Result<Page<CompletedApproval>, ApiError> {
    let owner = owner(principal, query.owner_id.as_deref())?;
    let entries = store
        .list_approvals(
            &principal.tenant_id,
            owner.as_deref(),
            ApprovalList::Decided,
        )
        .await?;
    Ok(page(query, entries).map(|e| render::completed(&e)))
}

/// A parsed summary query.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryQuery {
    pub owner_id: Option<String>,
    pub from_date: Option<DateTime<Utc>>,
}

/// Parses `owner-id` and `from-date` (RFC 3339).
pub fn parse_summary(params: &BTreeMap<String, Vec<String>>) -> Result<SummaryQuery, ApiError> {
    let mut p = Params::new(params);
    let owner_id = p.identity("owner-id");
    let from_date = match p.single("from-date") {
        None => None,
        Some(v) => match crate::time::parse(v.trim()) {
            Some(t) => Some(t),
            None => {
                p.cause(format!(
                    "from-date {v:?} is not an ISO-8601 (RFC 3339) date-time, e.g. 2020-03-19T19:59:11Z"
                ));
                None
            }
        },
    };
    p.finish()?;
    Ok(SummaryQuery {
        owner_id,
        from_date,
    })
}

/// How many of the owner's approvals are pending (reached at or after
/// `from-date`), approved and rejected (decided at or after it): one Query.
pub async fn summary(
    store: &Store,
    principal: &Principal,
    query: &SummaryQuery,
) -> Result<ApprovalSummary, ApiError> {
    let owner = owner(principal, query.owner_id.as_deref())?;
    let entries = store
        .list_approvals(&principal.tenant_id, owner.as_deref(), ApprovalList::All)
        .await?;
    let mut summary = ApprovalSummary::default();
    for listed in &entries {
        let row = EntryRow(&listed.entry);
        let Some(a) = listed.entry.approval() else {
            continue;
        };
        let at = if listed.pending {
            row.created()
        } else {
            row.modified()
        };
        if query
            .from_date
            .is_some_and(|from| at.is_none_or(|t| t < from))
        {
            continue;
        }
        let counter = match (listed.pending, a.status) {
            (true, _) => &mut summary.pending,
            (false, WorkItemState::Approved) => &mut summary.approved,
            (false, WorkItemState::Rejected) => &mut summary.rejected,
            _ => continue,
        };
        *counter = counter.saturating_add(1);
    }
    Ok(summary)
}
