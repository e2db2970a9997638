//! DynamoDB round-trip budgets of each operation, counted by an SDK
//! interceptor, and the scale bound of status: one identity's listing reads
//! the same whether the table holds none or 10,000 unrelated requests, and
//! takes at most 1.2x the time. DynamoDB only (the in-process store has no
//! round trips).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use common::*;
use serde_json::json;
use shared::domain::access_requests::{cancel, status, submit};
use shared::domain::approvals::{decide, lists, ApiVersion};
use shared::domain::non_employee::{approvals, approve, create, delete, reject, requests};
use shared::history::{List, ListCall};
use shared::models::{NonEmployeeApprovalDecision, NonEmployeeRejectApprovalDecision};
use shared::records::NamedRef;
use shared::seed::SeedFile;
use shared::store::testing::{local_client, RequestCounter};
use shared::store::{DynamoStore, Store};

/// A seeded table, and a second store on it whose requests are counted.
async fn counted_store() -> Option<(Store, Store, RequestCounter)> {
    counted_store_with(&rules_seed()).await
}

/// [`counted_store`] loaded with `seed`.
async fn counted_store_with(seed: &str) -> Option<(Store, Store, RequestCounter)> {
    let endpoint = dynamo_endpoint()?;
    let dynamo = fresh_dynamo(&endpoint).await;
    let counter = RequestCounter::new();
    let counted = DynamoStore::new(
        local_client(&endpoint, Some(counter.clone())).await,
        dynamo.table(),
    );
    let plain = Store::new(Arc::new(dynamo));
    SeedFile::from_json(seed)
        .unwrap()
        .load_into(&plain)
        .await
        .unwrap();
    Some((plain, Store::new(Arc::new(counted)), counter))
}

fn ops(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn query(pairs: &[(&str, &str)]) -> status::StatusQuery {
    status::parse_query(
        &pairs
            .iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
            .collect(),
    )
    .unwrap()
}

#[tokio::test]
async fn submit_costs_one_batch_read_and_one_transaction() {
    let Some((_, store, counter)) = counted_store().await else {
        return;
    };
    let body = serde_json::from_value(json!({
        "requestedFor": [EMPLOYEE],
        "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING, "comment": "typical"}]
    }))
    .unwrap();
    counter.reset();
    let r = submit::submit(
        &shared::plan::Runner::new(&store),
        &employee(),
        body,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(r.new_requests.len(), 1);
    assert_eq!(
        counter.by_operation(),
        ops(&[("BatchGetItem", 1), ("TransactWriteItems", 1)])
    );
}

#[tokio::test]
async fn a_status_page_costs_one_query_per_partition() {
    let Some((_, store, counter)) = counted_store().await else {
        return;
    };
    for (who, item) in [(employee(), AP_ENGINEERING), (engineer(), ROLE_AUDITOR)] {
        let me = who.identity_id.clone().unwrap();
        let body = serde_json::from_value(json!({"requestedFor": [me], "requestedItems": [{"type": if item == AP_ENGINEERING {"ACCESS_PROFILE"} else {"ROLE"}, "id": item}]})).unwrap();
        submit::submit(&shared::plan::Runner::new(&store), &who, body, Utc::now())
            .await
            .unwrap();
    }
    let shards = shared::store::keys::SHARDS as usize;
    let cases = [
        (
            employee(),
            query(&[("requested-for", "me")]),
            ops(&[("Query", 1)]),
        ),
        // The total is the identity's counts: one more read, at once.
        (
            employee(),
            query(&[("requested-by", "me"), ("count", "true")]),
            ops(&[("GetItem", 1), ("Query", 1)]),
        ),
        // No identity parameter: requester index and target index.
        (employee(), query(&[]), ops(&[("Query", 2)])),
        // The tenant's list: a query per shard, and its counts (256 counter
        // items: three batch reads, at once).
        (
            admin(),
            query(&[("count", "true"), ("sorters", "-created"), ("limit", "250")]),
            ops(&[("BatchGetItem", 3), ("Query", shards)]),
        ),
        // The assignee index holds references: one query, then one read of
        // the records (a GetItem: the manager is assigned one request).
        (
            manager(),
            query(&[("assigned-to", "me")]),
            ops(&[("GetItem", 1), ("Query", 1)]),
        ),
    ];
    for (who, q, expected) in cases {
        counter.reset();
        let page = status::list(&store, &who, &q).await.unwrap();
        assert!(page.total > 0, "{q:?} found nothing");
        assert_eq!(counter.by_operation(), expected, "{q:?}");
    }
}

#[tokio::test]
async fn cancel_and_reject_cost_at_most_two_requests() {
    let Some((_, store, counter)) = counted_store().await else {
        return;
    };
    for who in [employee(), admin()] {
        let body = serde_json::from_value(json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ROLE", "id": ROLE_AUDITOR}]})).unwrap();
        let id = submit::submit(
            &shared::plan::Runner::new(&store),
            &employee(),
            body,
            Utc::now(),
        )
        .await
        .unwrap()
        .new_requests[0]
            .access_request_ids[0]
            .clone();
        counter.reset();
        let c = shared::models::CancelAccessRequest {
            account_activity_id: id,
            comment: "not needed".into(),
        };
        cancel::cancel(&shared::plan::Runner::new(&store), &who, &c, Utc::now())
            .await
            .unwrap();
        // The request and its pending approval, which leaves its approver's list.
        assert_eq!(
            counter.by_operation(),
            ops(&[("BatchGetItem", 1), ("TransactWriteItems", 1)]),
            "cancel by {:?}",
            who.identity_id
        );
    }
    counter.reset();
    let decision = NonEmployeeRejectApprovalDecision {
        comment: "no".into(),
    };
    reject::reject(
        &shared::plan::Runner::new(&store),
        &manager(),
        NE_ITEM_MANAGER_PENDING,
        &decision,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        counter.by_operation(),
        ops(&[("GetItem", 1), ("TransactWriteItems", 1)])
    );
}

/// Non-employee requests: a create is one batch read and one transaction, a
/// decision one read and one transaction, every list page one Query (and
/// one read of the counts for its total), every summary one read.
#[tokio::test]
async fn non_employee_writes_cost_one_read_and_one_transaction_and_reads_one_request() {
    let Some((_, store, counter)) = counted_store().await else {
        return;
    };
    let body = json!({
        "accountName": "dana.scully", "firstName": "Dana", "lastName": "Scully",
        "email": "dana.scully@example.com", "phone": "5125550142", "manager": MANAGER,
        "sourceId": "a0303682-5e4a-44f7-bdc2-6ce611250001",
        "startDate": "2026-12-14T00:00:00Z", "endDate": "2027-06-30T00:00:00Z"
    });
    counter.reset();
    let r = create::create(
        &shared::plan::Runner::new(&store),
        &employee(),
        &body,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        counter.by_operation(),
        ops(&[("BatchGetItem", 1), ("TransactWriteItems", 1)]),
        "create"
    );
    let (first, second) = (&r.approval_items[0].id, &r.approval_items[1].id);
    let sam = principal(ACME, Some(SOURCE_ADMIN), &["SOURCE_ADMIN"]);
    let decision = ops(&[("GetItem", 1), ("TransactWriteItems", 1)]);
    counter.reset();
    approve::approve(
        &shared::plan::Runner::new(&store),
        &manager(),
        first,
        &NonEmployeeApprovalDecision::default(),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(counter.by_operation(), decision, "approve");
    counter.reset();
    let no = NonEmployeeRejectApprovalDecision {
        comment: "no".into(),
    };
    reject::reject(
        &shared::plan::Runner::new(&store),
        &sam,
        second,
        &no,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(counter.by_operation(), decision, "reject");

    // A page with its total: one Query, and one read of the counts.
    let page_and_counts = ops(&[("GetItem", 1), ("Query", 1)]);
    let q = requests::parse_list(
        &[("requested-for", "me"), ("count", "true"), ("limit", "10")]
            .iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
            .collect(),
    )
    .unwrap();
    counter.reset();
    let page = requests::list(&store, &employee(), &q).await.unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(counter.by_operation(), page_and_counts, "requests page");
    let q = approvals::parse_list(
        &[
            ("filters", "approvalStatus eq \"PENDING\""),
            ("count", "true"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
        .collect(),
    )
    .unwrap();
    counter.reset();
    let page = approvals::list(&store, &manager(), &q).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(counter.by_operation(), page_and_counts, "approvals page");
    // A summary is the counts alone.
    counter.reset();
    requests::summary(&store, &employee(), "me").await.unwrap();
    assert_eq!(
        counter.by_operation(),
        ops(&[("GetItem", 1)]),
        "requests summary"
    );
    counter.reset();
    approvals::summary(&store, &manager(), "me").await.unwrap();
    assert_eq!(
        counter.by_operation(),
        ops(&[("GetItem", 1)]),
        "approvals summary"
    );

    let one_get = ops(&[("GetItem", 1)]);
    counter.reset();
    requests::get(&store, &employee(), &r.id).await.unwrap();
    assert_eq!(counter.by_operation(), one_get, "get request");
    counter.reset();
    approvals::get(&store, &manager(), first, true)
        .await
        .unwrap();
    assert_eq!(counter.by_operation(), one_get, "get approval item");
    counter.reset();
    delete::delete(&shared::plan::Runner::new(&store), &admin(), &r.id)
        .await
        .unwrap();
    assert_eq!(counter.by_operation(), decision, "delete");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

// ---------------------------------------------------------------- history

/// The history sizes a first page's cost is compared at.
const SMALL_HISTORY: usize = 1_000;
const LARGE_HISTORY: usize = 10_000;

/// A table holding the rules seed and `n` decided access requests (Eve's,
/// for herself, each approved by the admin) and `n` approved non-employee
/// requests (Eve's, approved by the admin): every list of Eve and of the
/// admin, and the tenant's, holds `n` rows of history. Returns a store
/// whose calls are counted.
async fn table_with_history(n: usize) -> Option<(Store, RequestCounter)> {
    let (plain, counted, counter) = counted_store().await?;
    let history = shared::history::History {
        users: vec![NamedRef {
            id: EMPLOYEE.into(),
            name: "Eve Employee".into(),
        }],
        approver: NamedRef {
            id: ADMIN.into(),
            name: "Ada Admin".into(),
        },
        role: (ROLE_AUDITOR.into(), "Auditor".into()),
        start: Utc::now() - chrono::Duration::days(400),
    };
    load_requests(
        &plain,
        ACME,
        (0..n).map(|i| history.access_request(i)).collect(),
    )
    .await;
    let source = shared::records::SourceRef {
        id: "history-source".into(),
        name: "History".into(),
        description: None,
        account_manager_ids: Vec::new(),
    };
    load_non_employee(
        &plain,
        ACME,
        (0..n)
            .map(|i| history.non_employee_request(i, &source))
            .collect(),
    )
    .await;
    Some((counted, counter))
}

/// The partitions a list page reads.
#[derive(Clone, Copy, Debug)]
enum Partitions {
    /// None: a summary reads counts alone.
    None,
    /// None: a tenant's summary reads its counts alone, which are spread
    /// over many counter items (as many as its changes happened to use).
    TenantCounts,
    One,
    /// An identity's two request indexes, which hold the same requests
    /// when they are its own: each read as far as the page needs.
    Both,
    /// The tenant's shards, each read for its share of the page.
    Shards,
}

impl Partitions {
    /// What a first page may read: its rows and one more to see where they
    /// end, a page of look-ahead from each partition it reads, and the
    /// counts (one item per identity, at most one per counter shard of the
    /// tenant). A partition's pages double in size as it is read on, so a
    /// shard that supplies `r` of a tenant's rows reads at most its first
    /// page or twice `r + 1`.
    fn read_bound(self, need: usize) -> usize {
        let shards = shared::store::keys::SHARDS as usize;
        let look_ahead = match self {
            Partitions::None | Partitions::TenantCounts => 0,
            Partitions::One => need + 1,
            Partitions::Both => 2 * (need + 1),
            Partitions::Shards => shards * (need.div_ceil(shards) + 1) + 2 * (need + 1 + shards),
        };
        need + 1 + look_ahead + shared::store::keys::COUNT_SHARDS as usize
    }

    /// Whether what it reads depends only on the page: a tenant's rows and
    /// counts come from whichever shards its newest changes fell in.
    fn same_whatever_the_history(self) -> bool {
        !matches!(self, Partitions::Shards | Partitions::TenantCounts)
    }
}

/// Every list route's first page in its default order (and the completed
/// approvals by decision time, which has a key of its own), with its total
/// and without, and each summary: `(call, partitions it reads, rows it
/// asks for)`. Nothing in the history is pending, so pending pages are
/// empty; every other page is full.
fn first_pages() -> Vec<(ListCall, Partitions, usize)> {
    use List::*;
    use Partitions::{Both, One, Shards};
    let (admin, eve) = (admin(), employee());
    let call = ListCall::new;
    const PAGE: &[(&str, &str)] = &[("limit", "25")];
    const PAGE_COUNTED: &[(&str, &str)] = &[("limit", "25"), ("count", "true")];
    vec![
        (call(Status, &eve, PAGE), Both, 25),
        (call(Status, &eve, PAGE_COUNTED), Both, 25),
        (
            call(Status, &eve, &[("limit", "25"), ("requested-for", "me")]),
            One,
            25,
        ),
        (
            call(
                Status,
                &admin,
                &[
                    ("limit", "25"),
                    ("requested-by", EMPLOYEE),
                    ("count", "true"),
                ],
            ),
            One,
            25,
        ),
        (call(Status, &admin, PAGE), Shards, 25),
        (call(Status, &admin, PAGE_COUNTED), Shards, 25),
        (
            call(Status, &admin, &[("limit", "25"), ("assigned-to", "me")]),
            One,
            25,
        ),
        (
            call(
                Status,
                &admin,
                &[("limit", "25"), ("assigned-to", "me"), ("count", "true")],
            ),
            One,
            25,
        ),
        (
            call(
                Status,
                &admin,
                &[("limit", "250"), ("requested-for", EMPLOYEE)],
            ),
            One,
            250,
        ),
        (
            call(
                PendingApprovals,
                &admin,
                &[("limit", "25"), ("owner-id", "me"), ("count", "true")],
            ),
            One,
            25,
        ),
        (call(PendingApprovals, &admin, PAGE_COUNTED), Shards, 25),
        (
            call(
                CompletedApprovals,
                &admin,
                &[("limit", "25"), ("owner-id", "me"), ("count", "true")],
            ),
            One,
            25,
        ),
        (
            call(
                CompletedApprovals,
                &admin,
                &[
                    ("limit", "25"),
                    ("owner-id", "me"),
                    ("sorters", "-modified"),
                ],
            ),
            One,
            25,
        ),
        (call(CompletedApprovals, &admin, PAGE_COUNTED), Shards, 25),
        (
            call(ApprovalSummary, &admin, &[("owner-id", "me")]),
            Partitions::None,
            0,
        ),
        (
            call(ApprovalSummary, &admin, &[]),
            Partitions::TenantCounts,
            0,
        ),
        (
            call(
                NonEmployeeRequests,
                &eve,
                &[("requested-for", "me"), ("limit", "25"), ("count", "true")],
            ),
            One,
            25,
        ),
        (call(NonEmployeeApprovals, &admin, PAGE_COUNTED), One, 25),
        (
            call(NonEmployeeRequestSummary, &eve, &[]),
            Partitions::None,
            0,
        ),
        (
            call(NonEmployeeApprovalSummary, &admin, &[]),
            Partitions::None,
            0,
        ),
    ]
}

/// The first page of every list costs its page, not the history of its
/// partitions: it reads the same items with 1,000 and with 10,000 requests
/// in the history, and no more than the page and a page of look-ahead per
/// partition it merges.
#[tokio::test]
async fn a_first_page_reads_its_page_not_the_history() {
    let Some((small, small_counter)) = table_with_history(SMALL_HISTORY).await else {
        return;
    };
    let Some((large, large_counter)) = table_with_history(LARGE_HISTORY).await else {
        return;
    };
    for (call, partitions, need) in first_pages() {
        let what = format!(
            "{:?} as {:?} {:?}",
            call.list, call.caller.identity_id, call.params
        );
        let mut read = Vec::new();
        for (store, counter) in [(&small, &small_counter), (&large, &large_counter)] {
            counter.reset();
            let rows = call.call(store).await.unwrap();
            let expected = match call.list {
                List::PendingApprovals => 0,
                List::ApprovalSummary
                | List::NonEmployeeRequestSummary
                | List::NonEmployeeApprovalSummary => 1,
                _ => need,
            };
            assert_eq!(rows, expected, "{what}");
            read.push((counter.items_read(), counter.by_operation()));
        }
        println!(
            "{what}: {} items read with {SMALL_HISTORY} requests of history, {} with {LARGE_HISTORY}",
            read[0].0, read[1].0
        );
        if partitions.same_whatever_the_history() {
            assert_eq!(
                read[0], read[1],
                "{what}: the same reads whatever the history"
            );
        }
        let bound = partitions.read_bound(need);
        for (n, (items, _)) in [SMALL_HISTORY, LARGE_HISTORY].iter().zip(&read) {
            assert!(
                *items <= bound,
                "{what}: {items} items read with {n} requests of history, more than {bound}"
            );
        }
    }
}

// ---------------------------------------------------------------- approvals

fn list_query(pairs: &[(&str, &str)], version: ApiVersion) -> lists::ListQuery {
    lists::parse_list(
        &pairs
            .iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
            .collect(),
        lists::pending_filters(version),
    )
    .unwrap()
}

fn no_comment() -> shared::models::CommentBody {
    shared::models::CommentBody {
        comment: Some("round trips".into()),
    }
}

fn forward_to(id: &str) -> shared::models::ForwardApprovalDto {
    shared::models::ForwardApprovalDto {
        new_owner_id: id.into(),
        comment: "round trips".into(),
    }
}

#[tokio::test]
async fn a_decision_costs_one_read_and_one_transaction() {
    let Some((plain, store, counter)) = counted_store().await else {
        return;
    };
    // Eve's Finance Analyst: Maria's step, then the Finance Approvers group.
    let id = submit_one(&plain, &employee(), EMPLOYEE, "ROLE", ROLE_FINANCE).await;
    let first = pending_approval_of(&plain, ACME, &id).await;
    let one_of_each = ops(&[("BatchGetItem", 1), ("TransactWriteItems", 1)]);

    counter.reset();
    decide::forward(
        &shared::plan::Runner::new(&store),
        &manager(),
        &first,
        &forward_to(ENGINEER),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(counter.by_operation(), one_of_each, "forward");
    counter.reset();
    decide::approve(
        &shared::plan::Runner::new(&store),
        &engineer(),
        &first,
        &no_comment(),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        counter.by_operation(),
        one_of_each,
        "approve, reaching the group step"
    );
    let group_step = pending_approval_of(&plain, ACME, &id).await;
    counter.reset();
    decide::reject(
        &shared::plan::Runner::new(&store),
        &source_admin_principal(),
        &group_step,
        &no_comment(),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        counter.by_operation(),
        one_of_each,
        "reject of a group step"
    );
    // Refused: the one read, nothing written.
    counter.reset();
    decide::approve(
        &shared::plan::Runner::new(&store),
        &manager(),
        &group_step,
        &no_comment(),
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        counter.by_operation(),
        ops(&[("BatchGetItem", 1)]),
        "refused"
    );
    // A token without an identity reads the approval alone: one GetItem.
    let other = submit_one(&plain, &employee(), EMPLOYEE, "ROLE", ROLE_AUDITOR).await;
    let step = pending_approval_of(&plain, ACME, &other).await;
    counter.reset();
    let api_admin = principal(ACME, None, &["ORG_ADMIN"]);
    decide::approve(
        &shared::plan::Runner::new(&store),
        &api_admin,
        &step,
        &no_comment(),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        counter.by_operation(),
        ops(&[("GetItem", 1), ("TransactWriteItems", 1)]),
        "API-only ORG_ADMIN"
    );
}

fn source_admin_principal() -> shared::auth::Principal {
    principal(ACME, Some(SOURCE_ADMIN), &["SOURCE_ADMIN"])
}

#[tokio::test]
async fn an_approval_list_page_costs_one_query_per_partition() {
    let Some((plain, store, counter)) = counted_store().await else {
        return;
    };
    // Maria: a manager step of her own and, as a Finance Approvers member,
    // a group step; Sam: the group step and an owner step.
    let own = eves_request(&plain).await;
    approve_pending(&plain, &manager(), &own).await;
    let group = submit_one(&plain, &engineer(), ENGINEER, "ROLE", ROLE_FINANCE).await;
    approve_pending(&plain, &manager(), &group).await;
    submit_one(&plain, &employee(), EMPLOYEE, "ENTITLEMENT", ENT_JIRA).await;
    let shards = shared::store::keys::SHARDS as usize;
    for (who, pending, queries, counts) in [
        (manager(), 2, 1, ("GetItem", 1)),
        (source_admin_principal(), 2, 1, ("GetItem", 1)),
        // The tenant's list: a query per shard (GSI3), its counts (256
        // counter items) in three batch reads at once.
        (admin(), 3, shards, ("BatchGetItem", 3)),
    ] {
        counter.reset();
        let q = list_query(&[("count", "true"), ("limit", "250")], ApiVersion::V3);
        let page = lists::pending(&store, &who, &q, ApiVersion::V3)
            .await
            .unwrap();
        assert_eq!(page.total, pending, "{:?}", who.identity_id);
        assert_eq!(
            counter.by_operation(),
            ops(&[counts, ("Query", queries)]),
            "pending {:?}",
            who.identity_id
        );
        counter.reset();
        lists::completed(&store, &who, &list_query(&[], ApiVersion::V3))
            .await
            .unwrap();
        assert_eq!(
            counter.by_operation(),
            ops(&[("Query", queries)]),
            "completed"
        );
        counter.reset();
        let q = lists::parse_summary(&Default::default()).unwrap();
        lists::summary(&store, &who, &q).await.unwrap();
        assert_eq!(counter.by_operation(), ops(&[counts]), "summary");
    }
}

/// The fan-out decision, measured: a member's pending list is one Query of
/// their own partition, where a design listing group steps under the group
/// would need one more Query per group (in parallel); the price is paid in
/// writes, one list entry per member where a group step is reached and
/// where it ends. Prints medians; asserts only what the design promises.
#[tokio::test]
async fn fan_out_costs_writes_and_saves_queries() {
    const MEMBERS: usize = 30;
    let mut seed: serde_json::Value = serde_json::from_str(&rules_seed()).unwrap();
    let acme = &mut seed["tenants"][0];
    let ids: Vec<String> = (0..MEMBERS).map(|i| format!("member-{i:03}")).collect();
    for id in &ids {
        acme["identities"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": id, "name": id, "managerId": MANAGER}));
    }
    acme["governanceGroups"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "big-group", "name": "Big Group", "memberIds": ids}));
    for (id, scheme) in [
        ("solo-role", json!({"scheme": "ROLE_OWNER"})),
        (
            "group-role",
            json!({"scheme": "GOVERNANCE_GROUP", "approverId": "big-group"}),
        ),
    ] {
        acme["catalog"].as_array_mut().unwrap().push(json!({
            "type": "ROLE", "id": id, "name": id, "requestable": true, "ownerId": "member-000",
            "approvalSchemes": [scheme]
        }));
    }
    let Some((plain, store, counter)) = counted_store_with(&seed.to_string()).await else {
        return;
    };
    let member = principal(ACME, Some("member-000"), &["USER"]);
    let rounds = 9;
    let (mut solo, mut grouped) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        let target = bulk_target(&plain, i).await;
        for (role, into) in [("solo-role", &mut solo), ("group-role", &mut grouped)] {
            let id = submit_one(&plain, &admin(), &target, "ROLE", role).await;
            let step = pending_approval_of(&plain, ACME, &id).await;
            counter.reset();
            let started = Instant::now();
            decide::approve(
                &shared::plan::Runner::new(&store),
                &member,
                &step,
                &no_comment(),
                Utc::now(),
            )
            .await
            .unwrap();
            into.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(counter.count("TransactWriteItems"), 1);
        }
    }
    // Leave some pending in the member's list.
    for i in 0..5 {
        let target = bulk_target(&plain, rounds + i).await;
        submit_one(&plain, &admin(), &target, "ROLE", "group-role").await;
    }
    let q = list_query(&[("count", "true")], ApiVersion::V3);
    let (mut one, mut per_group) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        counter.reset();
        let started = Instant::now();
        let page = lists::pending(&store, &member, &q, ApiVersion::V3)
            .await
            .unwrap();
        one.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(page.total, 5);
        assert_eq!(counter.by_operation(), ops(&[("GetItem", 1), ("Query", 1)]));
        // The alternative: the member's partition and the group's, in parallel.
        let backend = store.backend();
        let started = Instant::now();
        let own = shared::store::item::Query::table(shared::store::keys::approvals_of(
            ACME,
            "member-000",
        ));
        let group =
            shared::store::item::Query::table(shared::store::keys::approvals_of(ACME, "big-group"));
        let (a, b) = futures::join!(backend.query(&own), backend.query(&group));
        a.unwrap();
        b.unwrap();
        per_group.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "decision, identity step: {:.1} ms; group step of {MEMBERS} members ({} more writes): {:.1} ms (medians of {rounds})",
        median(solo),
        2 * (MEMBERS - 1),
        median(grouped)
    );
    println!(
        "pending list of a group member: one Query {:.1} ms; a Query per group (1 group, in parallel) {:.1} ms (medians of 15)",
        median(one),
        median(per_group)
    );
}

/// A fresh identity of the tenant for each request of the measurement.
async fn bulk_target(store: &Store, i: usize) -> String {
    let id = format!("target-{i:03}");
    store
        .load_tenant(
            ACME,
            shared::store::TenantRecords {
                identities: vec![shared::records::IdentityRecord {
                    id: id.clone(),
                    name: id.clone(),
                    manager_id: None,
                    manager_name: None,
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    id
}
