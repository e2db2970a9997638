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
use crate::domain::collection::plan::{
    counted, in_any_order, in_key_order, Total, READ_BUDGET, SORT_BUDGET,
};
use crate::domain::collection::sorters::{order, SortKey};
use crate::domain::collection::{matches, Page, Paging, Params};
use crate::error::ApiError;
use crate::models::{ApprovalSummary, CompletedApproval, PendingApproval, WorkItemState};
use crate::records::ApprovalEntryRecord;
use crate::store::counts::{self, CountScope};
use crate::store::scan::MAX_SCAN_PAGE;
use crate::store::{ApprovalOwner, ApprovalPart, Store};

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

/// How to narrow an approval list past its budget.
const NARROW: &str = "name an owner (owner-id), or bound created or modified in filters, \
                      or lower the offset";

/// One page of a part of `owner`'s list (`None`: the tenant's): in key
/// order when the first sorter is the part's key time (`key_field`), its
/// range bounded by the filters on that field; otherwise read whole and
/// sorted. The counts named `count_names` give the total when the query
/// has no filters.
#[allow(clippy::too_many_arguments)]
async fn page(
    store: &Store,
    tenant: &str,
    owner: Option<&str>,
    part: ApprovalPart,
    key_field: &str,
    query: &ListQuery,
    count_names: &[&str],
) -> Result<Page<ApprovalEntryRecord>, ApiError> {
    let owner = match owner {
        Some(id) => ApprovalOwner::Identity(id),
        None => ApprovalOwner::Tenant,
    };
    let key_order = query.sorters.first().filter(|s| s.field == key_field);
    let range = query
        .filters
        .as_ref()
        .map_or((None, None), |f| f.time_range(key_field));
    let expected = match key_order {
        Some(_) => query.paging.offset.saturating_add(query.paging.limit) + 1,
        None => SORT_BUDGET,
    };
    let total = match (query.paging.count, query.filters.is_some()) {
        (false, _) => Total::Skip,
        (true, true) => Total::Count,
        (true, false) => Total::Counted(async {
            let scope = match owner {
                ApprovalOwner::Identity(id) => CountScope::Identity(id.to_string()),
                ApprovalOwner::Tenant => CountScope::Tenant,
            };
            let read = store.read_counts(tenant, &[scope]).await?;
            Ok(counted(
                count_names
                    .iter()
                    .map(|name| match owner {
                        ApprovalOwner::Identity(id) => read.identity(tenant, id, name),
                        ApprovalOwner::Tenant => read.tenant(tenant, name),
                    })
                    .sum(),
            ))
        }),
    };
    let mut rows = store.approval_stream(
        tenant,
        owner,
        part,
        range,
        key_order.is_some_and(|s| s.descending),
        expected,
    );
    let expand = |e: ApprovalEntryRecord, rows: &mut Vec<ApprovalEntryRecord>| {
        if e.approval().is_some() && matches(query.filters.as_ref(), &EntryRow(&e)) {
            rows.push(e);
        }
    };
    let order = |a: &ApprovalEntryRecord, b: &ApprovalEntryRecord| compare(&query.sorters, a, b);
    Ok(match key_order {
        Some(_) => in_key_order(&mut rows, expand, order, &query.paging, total, NARROW).await?,
        None => in_any_order(&mut rows, expand, order, &query.paging, NARROW).await?,
    })
}

/// The pending approvals the query names, as `principal` may see them.
pub async fn pending(
    store: &Store,
    principal: &Principal,
    query: &ListQuery,
    version: ApiVersion,
) -> Result<Page<PendingApproval>, ApiError> {
    let owner = owner(principal, query.owner_id.as_deref())?;
    let page = page(
        store,
        &principal.tenant_id,
        owner.as_deref(),
        ApprovalPart::Pending,
        "created",
        query,
        &[counts::APPROVALS_PENDING],
    )
    .await?;
    Ok(page.map(|e| render::pending(&e, version)))
}

/// The completed (approved or rejected) approvals the query names: by when
/// they were reached, or (sorted by `modified` first) by when decided.
pub async fn completed(
    store: &Store,
    principal: &Principal,
    query: &ListQuery,
) -> Result<Page<CompletedApproval>, ApiError> {
    let owner = owner(principal, query.owner_id.as_deref())?;
    let (part, key_field) = match query.sorters.first() {
        Some(s) if s.field == "modified" => (ApprovalPart::Decisions, "modified"),
        _ => (ApprovalPart::Decided, "created"),
    };
    let page = page(
        store,
        &principal.tenant_id,
        owner.as_deref(),
        part,
        key_field,
        query,
        &[counts::APPROVALS_APPROVED, counts::APPROVALS_REJECTED],
    )
    .await?;
    Ok(page.map(|e| render::completed(&e)))
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
/// `from-date`), approved and rejected (decided at or after it): the
/// counts kept beside the lists, or, from a date, the entries of the lists
/// since then.
pub async fn summary(
    store: &Store,
    principal: &Principal,
    query: &SummaryQuery,
) -> Result<ApprovalSummary, ApiError> {
    let owner = owner(principal, query.owner_id.as_deref())?;
    let tenant = principal.tenant_id.as_str();
    let owner = match &owner {
        Some(id) => ApprovalOwner::Identity(id),
        None => ApprovalOwner::Tenant,
    };
    let Some(from) = query.from_date else {
        let scope = match owner {
            ApprovalOwner::Identity(id) => CountScope::Identity(id.to_string()),
            ApprovalOwner::Tenant => CountScope::Tenant,
        };
        let read = store.read_counts(tenant, &[scope]).await?;
        let count = |name: &str| -> i32 {
            let n = match owner {
                ApprovalOwner::Identity(id) => read.identity(tenant, id, name),
                ApprovalOwner::Tenant => read.tenant(tenant, name),
            };
            n.clamp(0, i64::from(i32::MAX)) as i32
        };
        return Ok(ApprovalSummary {
            pending: count(counts::APPROVALS_PENDING),
            approved: count(counts::APPROVALS_APPROVED),
            rejected: count(counts::APPROVALS_REJECTED),
        });
    };
    let mut summary = ApprovalSummary::default();
    let range = (Some(from), None);
    for part in [ApprovalPart::Pending, ApprovalPart::Decisions] {
        let mut rows = store.approval_stream(tenant, owner, part, range, false, MAX_SCAN_PAGE);
        while let Some((_, entry)) = rows.next().await? {
            if rows.read() > READ_BUDGET {
                return Err(ApiError::bad_request(format!(
                    "from-date {} reaches back over more than {READ_BUDGET} approvals; \
                     give a later from-date, or name an owner (owner-id)",
                    crate::time::format(&from)
                )));
            }
            let row = EntryRow(&entry);
            let Some(a) = entry.approval() else {
                continue;
            };
            let pending = part == ApprovalPart::Pending;
            let at = if pending {
                row.created()
            } else {
                row.modified()
            };
            if at.is_none_or(|t| t < from) {
                continue;
            }
            let counter = match (pending, a.status) {
                (true, _) => &mut summary.pending,
                (false, WorkItemState::Approved) => &mut summary.approved,
                (false, WorkItemState::Rejected) => &mut summary.rejected,
                _ => continue,
            };
            *counter = counter.saturating_add(1);
        }
    }
    Ok(summary)
}
