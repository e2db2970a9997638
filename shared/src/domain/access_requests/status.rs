//! `GET /access-request-status` (SPEC §5): query parameters, authority, the
//! index each query reads, filters, sorters, paging and the response items.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use crate::auth::Principal;
use crate::domain::approvals::render;
use crate::domain::collection::filter::{
    Expr, FieldSpec, FieldValue, FilterSchema, Op, Row, Value, ValueKind,
};
use crate::domain::collection::plan::{
    counted, in_any_order, in_key_order, Listed, Total, SORT_BUDGET,
};
use crate::domain::collection::sorters::{order, SortKey};
use crate::domain::collection::{matches, Page, Paging, Params};
use crate::error::ApiError;
use crate::models::{RequestState, RequestedItemStatus};
use crate::records::{AccessRequestRecord, RequestedItemRecord};
use crate::store::counts::{self, CountScope};
use crate::store::{RequestIndex, Store};

/// The filterable fields of the status endpoint, with their operators as
/// its API page lists them.
pub const ACCESS_REQUEST_ID: FieldSpec = FieldSpec {
    name: "accessRequestId",
    kind: ValueKind::Text,
    ops: &[
        Op::Eq,
        Op::Ne,
        Op::Gt,
        Op::Ge,
        Op::Lt,
        Op::Le,
        Op::In,
        Op::Sw,
    ],
};
/// The API page lists no `lt` for this field; mirror it rather than guess.
pub const ACCOUNT_ACTIVITY_ITEM_ID: FieldSpec = FieldSpec {
    name: "accountActivityItemId",
    kind: ValueKind::Text,
    ops: &[Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Le, Op::In, Op::Sw],
};
pub const CREATED: FieldSpec = FieldSpec {
    name: "created",
    kind: ValueKind::DateTime,
    ops: &[Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Lt, Op::Le],
};
pub const FILTERS: FilterSchema = FilterSchema {
    fields: &[ACCESS_REQUEST_ID, ACCOUNT_ACTIVITY_ITEM_ID, CREATED],
};
/// The sortable fields.
pub const SORTERS: &[&str] = &["created", "modified", "accountActivityItemId", "name"];

/// A parsed, validated status query; identity parameters are still as given
/// (`me` is resolved against the caller by [`list`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusQuery {
    pub requested_for: Option<String>,
    pub requested_by: Option<String>,
    pub regarding_identity: Option<String>,
    pub assigned_to: Option<String>,
    pub paging: Paging,
    pub filters: Option<Expr>,
    pub sorters: Vec<SortKey>,
    pub executing_only: bool,
}

/// One page of results.
pub type StatusPage = Page<RequestedItemStatus>;

/// Parses the query string parameters (each name with all its values).
pub fn parse_query(params: &BTreeMap<String, Vec<String>>) -> Result<StatusQuery, ApiError> {
    let mut p = Params::new(params);
    let requested_for = p.identity("requested-for");
    let requested_by = p.identity("requested-by");
    let regarding_identity = p.identity("regarding-identity");
    let assigned_to = p.identity("assigned-to");
    if let Some(regarding) = &regarding_identity {
        for (name, value) in [
            ("requested-for", &requested_for),
            ("requested-by", &requested_by),
        ] {
            if let Some(value) = value {
                p.cause(format!(
                    "regarding-identity ({regarding}) cannot be combined with {name} ({value}); \
                     regarding-identity already covers requests by and for that identity"
                ));
            }
        }
    }
    let paging = p.paging();
    let executing_only = match p.single("request-state").as_deref() {
        None => false,
        Some("EXECUTING") => true,
        Some(v) => {
            p.cause(format!(
                "request-state must be EXECUTING (the only supported value); got {v:?}"
            ));
            false
        }
    };
    let filters = p.filters(&FILTERS);
    let sorters = p.sorters(SORTERS);
    p.finish()?;
    Ok(StatusQuery {
        requested_for,
        requested_by,
        regarding_identity,
        assigned_to,
        paging,
        filters,
        sorters,
        executing_only,
    })
}

/// Answers a status query for `principal`.
pub async fn list(
    store: &Store,
    principal: &Principal,
    query: &StatusQuery,
) -> Result<StatusPage, ApiError> {
    let resolve = |param: &str, value: &Option<String>| -> Result<Option<String>, ApiError> {
        match value.as_deref() {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("me") => {
                principal.identity_id.clone().map(Some).ok_or_else(|| {
                    ApiError::bad_request(format!("{param}=me needs a token with a user context"))
                })
            }
            Some(v) => Ok(Some(v.to_string())),
        }
    };
    let requested_for = resolve("requested-for", &query.requested_for)?;
    let requested_by = resolve("requested-by", &query.requested_by)?;
    let mut regarding = resolve("regarding-identity", &query.regarding_identity)?;
    let assigned_to = resolve("assigned-to", &query.assigned_to)?;

    // Anyone may ask about themselves; ORG_ADMIN about anyone.
    if !principal.is_org_admin() {
        let named = [&requested_for, &requested_by, &regarding, &assigned_to];
        if let Some(other) = named
            .iter()
            .filter_map(|v| v.as_deref())
            .find(|id| !principal.is(id))
        {
            return Err(ApiError::Forbidden(format!(
                "only ORG_ADMIN may list the access requests of other identities ({other})"
            )));
        }
        if named.iter().all(|v| v.is_none()) {
            match &principal.identity_id {
                Some(me) => regarding = Some(me.clone()),
                None => {
                    return Err(ApiError::Forbidden(
                        "a token without a user context must be ORG_ADMIN to list access request status".into(),
                    ))
                }
            }
        }
    }

    let tenant = principal.tenant_id.as_str();
    // The narrowest index answers; the other conditions filter its rows.
    let (index, by_index) = if let Some(r) = &regarding {
        (
            RequestIndex::Regarding(r.clone()),
            Counted::Regarding(r.clone()),
        )
    } else if let Some(f) = &requested_for {
        let counted = match requested_by {
            None => Counted::For(f.clone()),
            Some(_) => Counted::No,
        };
        (RequestIndex::RequestedFor(f.clone()), counted)
    } else if let Some(b) = &requested_by {
        (
            RequestIndex::Requester(b.clone()),
            Counted::Requested(b.clone()),
        )
    } else if let Some(a) = &assigned_to {
        (
            RequestIndex::Assignee(a.clone()),
            Counted::Assigned(a.clone()),
        )
    } else {
        (RequestIndex::Tenant, Counted::Tenant)
    };
    // With another identity parameter beside the index's, or filters, the
    // counts do not say how many rows match: the rest of the range is read.
    let counted = match (&assigned_to, &query.filters, &index) {
        (Some(_), None, RequestIndex::Assignee(_)) if !query.executing_only => by_index,
        (None, None, _) => by_index,
        _ => Counted::No,
    };
    let created = query
        .filters
        .as_ref()
        .map_or((None, None), |f| f.time_range(CREATED.name));
    let key_order = query.sorters.first().filter(|s| s.field == CREATED.name);
    let descending = key_order.is_some_and(|s| s.descending);
    let need = query.paging.offset.saturating_add(query.paging.limit);

    let expand = |r: Arc<AccessRequestRecord>, rows: &mut Vec<StatusRow>| {
        if requested_for
            .as_ref()
            .is_some_and(|f| &r.requested_for.id != f)
            || requested_by.as_ref().is_some_and(|b| &r.requester.id != b)
        {
            return;
        }
        for (i, item) in r.items.iter().enumerate() {
            let keep = (!query.executing_only || r.item_state(item) == RequestState::Executing)
                // `assigned-to` is about approval work items, which belong
                // to one requested item: a request's other items are not
                // the approver's.
                && assigned_to
                    .as_deref()
                    .is_none_or(|a| item.approvals.iter().any(|ap| ap.involves(a)))
                && matches(query.filters.as_ref(), &ItemRow(&r, item));
            if keep {
                rows.push(StatusRow(r.clone(), i));
            }
        }
    };
    let order = |a: &StatusRow, b: &StatusRow| compare(&query.sorters, &a.row(), &b.row());

    let total = if query.paging.count {
        counted.total(store, tenant, query.executing_only)
    } else {
        Total::Skip
    };
    let source = async {
        let ids = match &index {
            RequestIndex::Tenant => query.filters.as_ref().and_then(request_id_bound),
            _ => None,
        };
        if let Some(ids) = ids {
            // `accessRequestId eq/in` names the requests: read them by key
            // rather than the tenant's list. The filter still applies.
            let records = store.read_requests(tenant, &ids).await?;
            let read = records.len();
            let keyed = records
                .into_iter()
                .map(|r| (crate::time::format(&r.created), r))
                .collect();
            return Ok::<_, ApiError>(Paged::Listed(Listed::new(keyed, descending, read)));
        }
        let expected = if key_order.is_some() {
            need + 1
        } else {
            SORT_BUDGET
        };
        Ok(Paged::Stream(Box::new(store.request_stream(
            tenant, &index, created, descending, expected,
        ))))
    };
    let source = source.await?;
    let narrow = "name an identity (requested-for, requested-by or regarding-identity), \
                  or bound created in filters (created gt/ge/lt/le), or lower the offset";
    let page = match (source, key_order) {
        (Paged::Listed(mut listed), Some(_)) => {
            in_key_order(&mut listed, expand, order, &query.paging, total, narrow).await?
        }
        (Paged::Listed(mut listed), None) => {
            in_any_order(&mut listed, expand, order, &query.paging, narrow).await?
        }
        (Paged::Stream(mut stream), Some(_)) => {
            in_key_order(&mut *stream, expand, order, &query.paging, total, narrow).await?
        }
        (Paged::Stream(mut stream), None) => {
            let narrow = "sort by created (the list's own order), or name an identity \
                          (requested-for, requested-by or regarding-identity), \
                          or bound created in filters (created gt/ge/lt/le)";
            in_any_order(&mut *stream, expand, order, &query.paging, narrow).await?
        }
    };
    Ok(page.map(|row| Some(render::item_status(&row.0, &row.0.items[row.1]))))
}

/// Where a status page's rows come from.
enum Paged<'s> {
    Stream(Box<crate::store::RequestStream<'s>>),
    Listed(Listed<Arc<AccessRequestRecord>>),
}

/// One row of the status list: a requested item of a request.
struct StatusRow(Arc<AccessRequestRecord>, usize);

impl StatusRow {
    fn row(&self) -> (&AccessRequestRecord, &RequestedItemRecord) {
        (&self.0, &self.0.items[self.1])
    }
}

/// Which counts give the total of an unfiltered status list.
enum Counted {
    /// Requests by or for an identity: by + for - for itself (in both).
    Regarding(String),
    For(String),
    Requested(String),
    Assigned(String),
    Tenant,
    /// None: the total is counted by reading.
    No,
}

impl Counted {
    /// How the total is known: from the counts (read when the page is), or
    /// by reading on.
    fn total<'a>(
        &'a self,
        store: &'a Store,
        tenant: &'a str,
        executing: bool,
    ) -> Total<impl Future<Output = Result<usize, ApiError>> + Send + 'a> {
        let scope = match self {
            Counted::No => return Total::Count,
            Counted::Tenant => CountScope::Tenant,
            Counted::Regarding(id)
            | Counted::For(id)
            | Counted::Requested(id)
            | Counted::Assigned(id) => CountScope::Identity(id.clone()),
        };
        Total::Counted(async move {
            let name = |n: &str| {
                if executing {
                    counts::executing(n)
                } else {
                    n.to_string()
                }
            };
            let read = store.read_counts(tenant, &[scope]).await?;
            Ok(counted(match self {
                Counted::Regarding(id) => {
                    read.identity(tenant, id, &name(counts::REQUESTED))
                        + read.identity(tenant, id, &name(counts::FOR))
                        - read.identity(tenant, id, &name(counts::SELF))
                }
                Counted::For(id) => read.identity(tenant, id, &name(counts::FOR)),
                Counted::Requested(id) => read.identity(tenant, id, &name(counts::REQUESTED)),
                Counted::Assigned(id) => read.identity(tenant, id, &name(counts::ASSIGNED)),
                Counted::Tenant => read.tenant(tenant, &name(counts::ITEMS)),
                Counted::No => 0,
            }))
        })
    }
}

/// One requested item of a request, as the filters see it.
struct ItemRow<'a>(&'a AccessRequestRecord, &'a RequestedItemRecord);

impl Row for ItemRow<'_> {
    fn value(&self, field: &str) -> Option<FieldValue<'_>> {
        match field {
            "accessRequestId" => Some(FieldValue::Text(&self.0.id)),
            "accountActivityItemId" => Some(FieldValue::Text(&self.1.account_activity_item_id)),
            "created" => Some(FieldValue::DateTime(self.0.created)),
            _ => None,
        }
    }
}

/// The access request ids outside which `expr` cannot match, when the filter
/// pins them (`accessRequestId eq` / `in`, and-ed with anything or or-ed with
/// another such bound). Ids compare case-insensitively while keys are exact:
/// each id is looked up as written and in lowercase, the form every id this
/// service generates has.
fn request_id_bound(expr: &Expr) -> Option<Vec<String>> {
    /// Beyond this many keys a tenant read is no dearer than the lookups.
    const MAX_IDS: usize = 200;
    fn bound(expr: &Expr) -> Option<Vec<String>> {
        match expr {
            Expr::Cmp {
                field,
                op: Op::Eq,
                value: Value::Str(id),
            } if field.name == ACCESS_REQUEST_ID.name => Some(vec![id.clone()]),
            Expr::Cmp {
                field,
                op: Op::In,
                value: Value::List(ids),
            } if field.name == ACCESS_REQUEST_ID.name => Some(ids.clone()),
            Expr::And(a, b) => match (bound(a), bound(b)) {
                (Some(a), Some(b)) => Some(if a.len() <= b.len() { a } else { b }),
                (a, b) => a.or(b),
            },
            Expr::Or(a, b) => {
                let mut ids = bound(a)?;
                ids.extend(bound(b)?);
                Some(ids)
            }
            _ => None,
        }
    }
    let mut ids: Vec<String> = bound(expr)?
        .into_iter()
        .flat_map(|id| {
            let lower = id.to_lowercase();
            [id, lower]
        })
        .collect();
    ids.sort();
    ids.dedup();
    (ids.len() <= MAX_IDS).then_some(ids)
}

/// Orders by the sorters, then by `accountActivityItemId` so pages are stable.
fn compare(
    keys: &[SortKey],
    a: &(&AccessRequestRecord, &RequestedItemRecord),
    b: &(&AccessRequestRecord, &RequestedItemRecord),
) -> Ordering {
    order(
        keys,
        a,
        b,
        |field, a, b| match field {
            "created" => a.0.created.cmp(&b.0.created),
            "modified" => a.0.modified.cmp(&b.0.modified),
            "accountActivityItemId" => {
                a.1.account_activity_item_id
                    .cmp(&b.1.account_activity_item_id)
            }
            "name" => a.1.name.to_lowercase().cmp(&b.1.name.to_lowercase()),
            _ => Ordering::Equal,
        },
        |a, b| {
            a.1.account_activity_item_id
                .cmp(&b.1.account_activity_item_id)
        },
    )
}
