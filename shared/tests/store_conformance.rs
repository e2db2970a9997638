//! The `Store` contract, checked on both implementations: every case is an
//! `async fn case(store: &Store)` run once on `MemoryStore` (test
//! `memory::case`) and once on `DynamoStore` (test `dynamo::case`), each on a
//! table of its own.
//!
//! The DynamoDB runs need a DynamoDB-compatible server named by
//! `DYNAMODB_TEST_ENDPOINT` (`scripts/with-moto.sh` starts one and sets it).
//! Without it they print a note and pass, unless `REQUIRE_DYNAMODB=1`.
//!
//! A few DynamoDB-only tests at the end check round-trip budgets with
//! `RequestCounter`, the paging loop, and the transaction size limit.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use shared::models::{
    AccessRequestType, ApprovalScheme, ApprovalStatus, ItemType, OwnerType, PhaseState,
    RequestState, WorkItemState,
};
use shared::records::{
    AccessRequestRecord, ApprovalRecord, ApprovalStep, Approver, CatalogItemRecord, EventRecord,
    IdentityRecord, NamedRef, NonEmployeeApprovalRecord, NonEmployeeApprovalViewRecord,
    NonEmployeeRequestRecord, NonEmployeeSourceRecord, PendingClaim, PendingKey, PhaseRecord,
    PointerRecord, RequestedItemRecord, SourceRef,
};
use shared::store::item::{Condition, Index, Item, ItemStore, Key, Query, Read, Record, Write};
use shared::store::testing::{local_client, RequestCounter};
use shared::store::{
    ApprovalList, DynamoStore, Lookup, NonEmployeeLookup, RequestIndex, Store, StoreError,
    TenantRecords, MAX_TRANSACTION_ITEMS,
};

mod common;

use common::{dynamo_endpoint, load_non_employee, load_requests, ACME, GLOBEX};

// ---------------------------------------------------------------- harness

/// A DynamoDB store on a fresh table of its own.
async fn fresh_table(endpoint: &str, counter: Option<RequestCounter>) -> DynamoStore {
    let client = local_client(endpoint, counter).await;
    let table = format!("conformance-{}", uuid::Uuid::new_v4().simple());
    shared::store::dynamo::create_table(&client, &table)
        .await
        .expect("create table");
    // Creating twice is fine.
    shared::store::dynamo::create_table(&client, &table)
        .await
        .expect("create table again");
    DynamoStore::new(client, table)
}

async fn dynamo_store() -> Option<Store> {
    Some(typed(fresh_table(&dynamo_endpoint()?, None).await))
}

/// The typed store on a DynamoDB backend.
fn typed(dynamo: DynamoStore) -> Store {
    Store::new(Arc::new(dynamo))
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&super::Store::memory()).await;
                }
            )*
        }
        mod dynamo {
            $(
                #[tokio::test]
                async fn $case() {
                    if let Some(store) = super::dynamo_store().await {
                        super::$case(&store).await;
                    }
                }
            )*
        }
    };
}

conformance!(
    items_conditions_hold_or_nothing_is_written,
    items_batches_refuse_a_key_twice_and_oversize,
    items_queries_read_one_partition_in_order,
    items_query_pages_follow_bounds_direction_and_cursor,
    items_index_pages_follow_bounds_direction_and_cursor,
    items_counts_add_up_and_only_with_their_transaction,
    items_indexes_follow_rewrites_and_deletes,
    items_expired_are_invisible,
    lookup_finds_present_and_skips_absent,
    tenants_never_see_each_other,
    create_with_taken_claim_writes_nothing,
    create_with_existing_request_writes_nothing,
    claims_are_replaced_only_as_seen,
    empty_submission_is_a_no_op,
    queries_follow_each_index_in_order,
    queries_return_more_than_a_page,
    update_checks_the_version,
    update_with_event_is_all_or_nothing,
    concurrent_updates_have_one_winner,
    non_employee_requests_by_any_approval_item,
    non_employee_updates_check_the_version_and_rewrite_every_copy,
    concurrent_non_employee_updates_have_one_winner,
    non_employee_create_claims_the_account_name,
    racing_non_employee_creates_of_one_name_have_one_winner,
    non_employee_lists_follow_each_identity,
    non_employee_reject_frees_the_account_name,
    non_employee_delete_keeps_decided_history_only,
    non_employee_sources_load_and_look_up,
    events_are_listed_oldest_first,
    load_tenant_then_lookup,
    get_requests_skips_duplicates_and_unknown_ids,
    lookup_of_many_keys,
    records_round_trip_exactly,
    approvals_follow_their_request,
);

// ---------------------------------------------------------------- fixtures

fn at(ms: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap() + Duration::milliseconds(ms)
}

fn named(id: &str) -> NamedRef {
    NamedRef {
        id: id.to_string(),
        name: format!("Name of {id}"),
    }
}

fn identity(id: &str) -> IdentityRecord {
    IdentityRecord {
        id: id.to_string(),
        name: format!("Identity {id}"),
        manager_id: Some("manager".into()),
        manager_name: Some("Mona Manager".into()),
    }
}

fn person(id: &str) -> Approver {
    Approver {
        owner_type: OwnerType::Identity,
        id: id.to_string(),
        name: format!("Approver {id}"),
        member_ids: Vec::new(),
    }
}

fn group(id: &str, members: &[&str]) -> Approver {
    Approver {
        owner_type: OwnerType::GovernanceGroup,
        id: id.to_string(),
        name: format!("Group {id}"),
        member_ids: members.iter().map(|m| m.to_string()).collect(),
    }
}

fn catalog(item_type: ItemType, id: &str) -> CatalogItemRecord {
    CatalogItemRecord {
        item_type,
        id: id.to_string(),
        name: format!("{} {id}", item_type.as_str()),
        description: Some("what it grants".into()),
        requestable: true,
        approval_steps: vec![
            ApprovalStep {
                scheme: ApprovalScheme::Manager,
                approver: None,
            },
            ApprovalStep {
                scheme: ApprovalScheme::GovernanceGroup,
                approver: Some(group("approvers", &["gina", "gus"])),
            },
        ],
    }
}

/// An executing GRANT_ACCESS request for one entitlement, approved by `approvers`.
fn request(
    id: &str,
    requester: &str,
    requested_for: &str,
    created: DateTime<Utc>,
    approvers: Vec<Approver>,
) -> AccessRequestRecord {
    AccessRequestRecord {
        id: id.to_string(),
        requester: named(requester),
        requested_for: named(requested_for),
        request_type: AccessRequestType::GrantAccess,
        state: RequestState::Executing,
        created,
        modified: created,
        client_metadata: Some(BTreeMap::from([("app".to_string(), "tests".to_string())])),
        items: vec![RequestedItemRecord {
            account_activity_item_id: format!("{id}-item"),
            item_type: ItemType::Entitlement,
            item_id: format!("ent-for-{id}"),
            name: "An entitlement".into(),
            description: None,
            comment: Some("please".into()),
            client_metadata: None,
            start_date: None,
            remove_date: Some(created + Duration::days(30)),
            approvals: approvers
                .into_iter()
                .enumerate()
                .map(|(i, approver)| ApprovalRecord {
                    approval_id: format!("{id}-approval-{i}"),
                    scheme: if approver.owner_type == OwnerType::GovernanceGroup {
                        ApprovalScheme::GovernanceGroup
                    } else {
                        ApprovalScheme::Manager
                    },
                    approver,
                    current_owner: None,
                    status: WorkItemState::Pending,
                    comment: None,
                    reviewed_by: None,
                    modified: None,
                    created: None,
                    forward_history: Vec::new(),
                })
                .collect(),
            upcoming: Vec::new(),
            state: None,
            phases: None,
        }],
        phases: vec![PhaseRecord {
            name: "APPROVAL_PHASE".into(),
            state: PhaseState::Executing,
            started: created,
            finished: None,
            result: None,
        }],
        cancellation: None,
        warnings: Vec::new(),
        version: 1,
    }
}

fn simple_request(id: &str, created: DateTime<Utc>) -> AccessRequestRecord {
    request(id, "rita", "fred", created, vec![person("mona")])
}

fn pending_key(identity: &str, item: &str) -> PendingKey {
    PendingKey {
        identity_id: identity.to_string(),
        item_type: ItemType::Entitlement,
        item_id: item.to_string(),
        request_type: AccessRequestType::GrantAccess,
    }
}

fn claim(identity: &str, item: &str, request: &str, replaces: Option<&str>) -> PendingClaim {
    PendingClaim {
        key: pending_key(identity, item),
        access_request_id: request.to_string(),
        replaces: replaces.map(str::to_string),
    }
}

/// The claims a request makes (as a submission writes them).
fn claims_of(r: &AccessRequestRecord) -> Vec<PendingClaim> {
    shared::records::pending_keys(r)
        .into_iter()
        .map(|key| PendingClaim {
            key,
            access_request_id: r.id.clone(),
            replaces: None,
        })
        .collect()
}

fn non_employee(id: &str, items: &[&str]) -> NonEmployeeRequestRecord {
    let minus_five = FixedOffset::west_opt(5 * 3600).unwrap();
    NonEmployeeRequestRecord {
        id: id.to_string(),
        requester: named("rita"),
        source: SourceRef {
            id: "src-1".into(),
            name: "Contractors".into(),
            description: Some("contractors".into()),
            account_manager_ids: vec!["rita".into(), "sally".into()],
        },
        account_name: format!("account-{id}"),
        first_name: "Nora".into(),
        last_name: "Nonemployee".into(),
        email: "nora@example.com".into(),
        phone: "5125550100".into(),
        manager: "mona".into(),
        data: BTreeMap::from([("project".to_string(), "x".to_string())]),
        start_date: minus_five.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap(),
        end_date: minus_five.with_ymd_and_hms(2024, 12, 1, 0, 0, 0).unwrap(),
        approval_status: ApprovalStatus::Pending,
        completion_date: None,
        created: at(0),
        modified: at(0),
        approval_items: items
            .iter()
            .enumerate()
            .map(|(i, item)| NonEmployeeApprovalRecord {
                id: item.to_string(),
                approver: if i == 0 {
                    person("mona")
                } else {
                    group("approvers", &["gina", "gus"])
                },
                approval_order: i as f64 + 1.0,
                approval_status: if i == 0 {
                    ApprovalStatus::Pending
                } else {
                    ApprovalStatus::NotReady
                },
                comment: None,
                reviewer_id: None,
                created: at(0),
                modified: at(0),
            })
            .collect(),
        version: 1,
    }
}

fn event(id: &str, created: DateTime<Utc>) -> EventRecord {
    EventRecord {
        id: id.to_string(),
        name: "Close Identity Requests Started".into(),
        created,
        actor: Some(named("ada")),
        access_request_ids: vec!["r1".into()],
        errored_ids: Vec::new(),
        sequence: 0,
        attributes: BTreeMap::from([("reason".to_string(), "test".to_string())]),
    }
}

fn ids<R: std::borrow::Borrow<AccessRequestRecord>>(records: &[R]) -> Vec<&str> {
    records.iter().map(|r| r.borrow().id.as_str()).collect()
}

/// Records a query shared, as values to compare.
fn owned(records: Vec<Arc<AccessRequestRecord>>) -> Vec<AccessRequestRecord> {
    records.into_iter().map(Arc::unwrap_or_clone).collect()
}

fn is_conflict<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(_)))
}

/// The index of the one write of a race that succeeded; every other one
/// must have lost on its condition.
fn the_one_winner(results: &[Result<(), StoreError>]) -> usize {
    let winners: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_ok())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (i, result) in results.iter().enumerate() {
        if i != winners[0] {
            assert!(is_conflict(result), "writer {i}: {result:?}");
        }
    }
    winners[0]
}

async fn one(store: &Store, tenant: &str, id: &str) -> Option<AccessRequestRecord> {
    let mut found = store.get_requests(tenant, &[id.to_string()]).await.unwrap();
    assert!(found.len() <= 1);
    found.pop()
}

/// A successor of `r` as an update writes it.
fn next_version(r: &AccessRequestRecord, note: &str) -> AccessRequestRecord {
    let mut next = r.clone();
    next.version += 1;
    next.modified = r.modified + Duration::seconds(1);
    next.warnings.push(note.to_string());
    next
}

// ---------------------------------------------------------------- the item contract

fn pointer_item(pk: &str, sk: &str, target: &str) -> Item {
    Item::new(
        Key::new(pk, sk),
        Record::Pointer(PointerRecord {
            target: target.into(),
        }),
    )
}

fn item_keys(items: &[Item]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|i| (i.key.pk.to_string(), i.key.sk.to_string()))
        .collect()
}

async fn get_one(backend: &dyn ItemStore, pk: &str, sk: &str) -> Option<Item> {
    backend
        .get(&[Read::consistent(Key::new(pk, sk))])
        .await
        .unwrap()
        .pop()
}

async fn items_conditions_hold_or_nothing_is_written(store: &Store) {
    let backend = store.backend();
    let a = pointer_item("T#c#A", "#", "one");
    backend
        .write(vec![Write::put_if(a.clone(), Condition::Absent)])
        .await
        .unwrap();
    // Absent fails on an existing key, Exists on a missing one.
    let again = backend
        .write(vec![Write::put_if(a.clone(), Condition::Absent)])
        .await;
    assert!(is_conflict(&again), "{again:?}");
    let missing = backend
        .write(vec![Write::put_if(
            pointer_item("T#c#B", "#", "x"),
            Condition::Exists,
        )])
        .await;
    assert!(is_conflict(&missing), "{missing:?}");
    assert_eq!(get_one(&*backend, "T#c#B", "#").await, None);

    // PointsTo: only while the pointer names that target.
    let moved = pointer_item("T#c#A", "#", "two");
    let wrong = backend
        .write(vec![Write::put_if(
            moved.clone(),
            Condition::PointsTo("other".into()),
        )])
        .await;
    assert!(is_conflict(&wrong), "{wrong:?}");
    backend
        .write(vec![Write::put_if(
            moved.clone(),
            Condition::PointsTo("one".into()),
        )])
        .await
        .unwrap();
    assert_eq!(get_one(&*backend, "T#c#A", "#").await, Some(moved));

    // Version: on versioned records.
    let r = simple_request("versioned", at(0));
    let item = Item::new(
        Key::new("T#c#R", "#"),
        Record::AccessRequest(Arc::new(r.clone())),
    );
    backend.write(vec![Write::put(item)]).await.unwrap();
    let mut next = r.clone();
    next.version = 2;
    let next_item = Item::new(
        Key::new("T#c#R", "#"),
        Record::AccessRequest(Arc::new(next)),
    );
    let stale = backend
        .write(vec![Write::put_if(
            next_item.clone(),
            Condition::Version(0),
        )])
        .await;
    assert!(is_conflict(&stale), "{stale:?}");
    backend
        .write(vec![Write::put_if(
            next_item.clone(),
            Condition::Version(1),
        )])
        .await
        .unwrap();

    // One failing condition in a batch: none of its writes happen.
    let c = pointer_item("T#c#C", "#", "c");
    let batch = backend
        .write(vec![
            Write::put(c.clone()),
            Write::delete(Key::new("T#c#A", "#")),
            Write::Check {
                key: Key::new("T#c#R", "#"),
                condition: Condition::Version(1),
            },
        ])
        .await;
    assert!(is_conflict(&batch), "{batch:?}");
    assert_eq!(get_one(&*backend, "T#c#C", "#").await, None);
    assert!(get_one(&*backend, "T#c#A", "#").await.is_some());

    // The same batch with a holding check: all of it.
    backend
        .write(vec![
            Write::put(c.clone()),
            Write::delete_if(Key::new("T#c#A", "#"), Condition::Exists),
            Write::Check {
                key: Key::new("T#c#R", "#"),
                condition: Condition::Version(2),
            },
        ])
        .await
        .unwrap();
    assert_eq!(get_one(&*backend, "T#c#C", "#").await, Some(c));
    assert_eq!(get_one(&*backend, "T#c#A", "#").await, None);
    // A conditional delete of what is gone fails.
    let gone = backend
        .write(vec![Write::delete_if(
            Key::new("T#c#A", "#"),
            Condition::Exists,
        )])
        .await;
    assert!(is_conflict(&gone), "{gone:?}");
}

async fn items_batches_refuse_a_key_twice_and_oversize(store: &Store) {
    let backend = store.backend();
    let twice = backend
        .write(vec![
            Write::put(pointer_item("T#d#A", "#", "1")),
            Write::put(pointer_item("T#d#B", "#", "1")),
            Write::delete(Key::new("T#d#A", "#")),
        ])
        .await;
    assert!(
        matches!(twice, Err(StoreError::Unavailable(_))),
        "{twice:?}"
    );
    assert_eq!(get_one(&*backend, "T#d#B", "#").await, None);

    let many: Vec<Write> = (0..=MAX_TRANSACTION_ITEMS)
        .map(|i| Write::put(pointer_item(&format!("T#d#{i}"), "#", "x")))
        .collect();
    let oversize = backend.write(many).await;
    assert!(
        matches!(oversize, Err(StoreError::Unavailable(_))),
        "{oversize:?}"
    );
    assert_eq!(get_one(&*backend, "T#d#0", "#").await, None);
    let fits: Vec<Write> = (0..MAX_TRANSACTION_ITEMS)
        .map(|i| Write::put(pointer_item(&format!("T#d#{i}"), "#", "x")))
        .collect();
    backend.write(fits).await.unwrap();
    let reads: Vec<Read> = (0..MAX_TRANSACTION_ITEMS)
        .map(|i| Read::eventual(Key::new(format!("T#d#{i}"), "#")))
        .collect();
    assert_eq!(
        backend.get(&reads).await.unwrap().len(),
        MAX_TRANSACTION_ITEMS
    );
}

async fn items_queries_read_one_partition_in_order(store: &Store) {
    let backend = store.backend();
    backend
        .load(vec![
            pointer_item("T#q#P", "b#2", "x"),
            pointer_item("T#q#P", "a#1", "x"),
            pointer_item("T#q#P", "b#1", "x"),
            pointer_item("T#q#P2", "a#0", "x"),
            pointer_item("T#q#", "a#0", "x"),
        ])
        .await
        .unwrap();
    let all = backend.query(&Query::table("T#q#P")).await.unwrap();
    assert_eq!(
        item_keys(&all),
        [("T#q#P", "a#1"), ("T#q#P", "b#1"), ("T#q#P", "b#2")]
            .map(|(p, s)| (p.to_string(), s.to_string()))
    );
    let b = backend
        .query(&Query::table("T#q#P").with_prefix("b#"))
        .await
        .unwrap();
    assert_eq!(item_keys(&b).len(), 2);
    assert!(item_keys(&b).iter().all(|(_, s)| s.starts_with("b#")));
    assert!(backend
        .query(&Query::table("T#q#P").with_prefix("c"))
        .await
        .unwrap()
        .is_empty());
    assert!(backend
        .query(&Query::table("T#q#none"))
        .await
        .unwrap()
        .is_empty());
}

/// Every item of a paged query, page by page with `limit` items each,
/// and the pages' `read` totals.
async fn all_pages(
    backend: &dyn ItemStore,
    query: &Query,
    limit: usize,
) -> (Vec<Item>, usize, usize) {
    let (mut items, mut read, mut pages) = (Vec::new(), 0, 0);
    let mut after = None;
    loop {
        let page = backend
            .query_page(query, after.as_ref(), Some(limit))
            .await
            .unwrap();
        assert!(page.read <= limit, "a page reads at most its limit");
        pages += 1;
        read += page.read;
        items.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return (items, read, pages),
        }
    }
}

async fn items_query_pages_follow_bounds_direction_and_cursor(store: &Store) {
    let backend = store.backend();
    let keys: Vec<String> = (0..25).map(|i| format!("k#{i:02}")).collect();
    backend
        .load(
            keys.iter()
                .map(|k| pointer_item("T#p#P", k, "x"))
                .chain([
                    pointer_item("T#p#P", "a#0", "x"),
                    pointer_item("T#p#P", "z#0", "x"),
                    pointer_item("T#p#Q", "k#05", "x"),
                ])
                .collect(),
        )
        .await
        .unwrap();
    let sks = |items: &[Item]| {
        items
            .iter()
            .map(|i| i.key.sk.to_string())
            .collect::<Vec<_>>()
    };
    let in_range = Query::table("T#p#P").between(Some("k#03".into()), Some("k#20".into()));
    // Ascending, descending, in pages of any size: the same items, in order,
    // each read once.
    let ascending: Vec<String> = keys[3..=20].to_vec();
    for limit in [1, 4, 7, 100] {
        let (items, read, pages) = all_pages(&*backend, &in_range, limit).await;
        assert_eq!(sks(&items), ascending, "limit {limit}");
        assert_eq!(read, ascending.len(), "limit {limit}");
        assert!(
            pages <= ascending.len().div_ceil(limit) + 1,
            "limit {limit}"
        );
        let (items, _, _) = all_pages(&*backend, &in_range.clone().descending(true), limit).await;
        let mut descending = ascending.clone();
        descending.reverse();
        assert_eq!(sks(&items), descending, "limit {limit}, descending");
    }
    // One bound, a prefix, nothing in range.
    let from = Query::table("T#p#P").between(Some("k#24".into()), None);
    assert_eq!(
        sks(&all_pages(&*backend, &from, 10).await.0),
        ["k#24", "z#0"]
    );
    let to = Query::table("T#p#P").between(None, Some("a#0".into()));
    assert_eq!(sks(&all_pages(&*backend, &to, 10).await.0), ["a#0"]);
    let prefix = Query::table("T#p#P").with_prefix("k#1").descending(true);
    assert_eq!(
        sks(&all_pages(&*backend, &prefix, 3).await.0),
        (10..20).rev().map(|i| format!("k#{i}")).collect::<Vec<_>>()
    );
    let empty = Query::table("T#p#P").between(Some("k#30".into()), Some("k#40".into()));
    assert!(all_pages(&*backend, &empty, 10).await.0.is_empty());
    let reversed = Query::table("T#p#P").between(Some("k#09".into()), Some("k#01".into()));
    assert!(all_pages(&*backend, &reversed, 10).await.0.is_empty());
    // A page stops at its limit and says where to go on.
    let first = backend.query_page(&in_range, None, Some(2)).await.unwrap();
    assert_eq!(sks(&first.items), ["k#03", "k#04"]);
    assert_eq!(first.read, 2);
    let next = first.next.expect("more in range");
    let second = backend
        .query_page(&in_range, Some(&next), Some(2))
        .await
        .unwrap();
    assert_eq!(sks(&second.items), ["k#05", "k#06"]);
}

async fn items_index_pages_follow_bounds_direction_and_cursor(store: &Store) {
    let backend = store.backend();
    // Index keys with ties (two items share each index sort key): a page
    // boundary between tied items loses and repeats nothing.
    let items: Vec<Item> = (0..20)
        .map(|i| {
            pointer_item(&format!("T#x#{i:02}"), "#", "x")
                .indexed(Index::Gsi1, Key::new("T#x#LIST", format!("t#{:02}", i / 2)))
        })
        .collect();
    backend.load(items).await.unwrap();
    let pks = |items: &[Item]| {
        items
            .iter()
            .map(|i| i.key.pk.to_string())
            .collect::<Vec<_>>()
    };
    let query =
        Query::index(Index::Gsi1, "T#x#LIST").between(Some("t#02".into()), Some("t#07".into()));
    let expected: Vec<String> = (4..16).map(|i| format!("T#x#{i:02}")).collect();
    for limit in [1, 3, 5, 50] {
        let (found, read, _) = all_pages(&*backend, &query, limit).await;
        assert_eq!(pks(&found), expected, "limit {limit}");
        assert_eq!(read, expected.len(), "limit {limit}");
        let (found, _, _) = all_pages(&*backend, &query.clone().descending(true), limit).await;
        let mut reversed = pks(&found);
        reversed.reverse();
        // Descending: sort keys descend; ties keep one order (the primary key's).
        let sort_keys: Vec<String> = found
            .iter()
            .map(|i| i.index_key(Index::Gsi1).unwrap().sk.to_string())
            .collect();
        let mut sorted_desc = sort_keys.clone();
        sorted_desc.sort_by(|a, b| b.cmp(a));
        assert_eq!(sort_keys, sorted_desc, "limit {limit}, descending");
        reversed.sort();
        assert_eq!(reversed, expected, "limit {limit}, descending: each once");
    }
}

async fn items_counts_add_up_and_only_with_their_transaction(store: &Store) {
    use shared::records::Counts;
    let backend = store.backend();
    let key = Key::new("T#c#COUNTS", "#");
    let counts = |pairs: &[(&str, i64)]| -> Counts {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    let read = |backend: Arc<dyn ItemStore>| async move {
        match get_one(&*backend, "T#c#COUNTS", "#")
            .await
            .map(|i| i.record)
        {
            Some(Record::Counter(c)) => c.counts,
            None => Counts::new(),
            Some(other) => panic!("not a counter: {other:?}"),
        }
    };
    // Alone, an add creates the item and adds; later adds add.
    backend
        .write(vec![Write::Add {
            key: key.clone(),
            counts: counts(&[("a", 2), ("b", -1)]),
        }])
        .await
        .unwrap();
    backend
        .write(vec![
            Write::Add {
                key: key.clone(),
                counts: counts(&[("a", 3), ("c", 7)]),
            },
            Write::put(pointer_item("T#c#OTHER", "#", "x")),
        ])
        .await
        .unwrap();
    assert_eq!(
        read(backend.clone()).await,
        counts(&[("a", 5), ("b", -1), ("c", 7)])
    );
    // A transaction whose condition fails adds nothing.
    let failed = backend
        .write(vec![
            Write::Add {
                key: key.clone(),
                counts: counts(&[("a", 100)]),
            },
            Write::put_if(pointer_item("T#c#OTHER", "#", "y"), Condition::Absent),
        ])
        .await;
    assert!(is_conflict(&failed), "{failed:?}");
    assert_eq!(read(backend.clone()).await["a"], 5);
    // Concurrent adds lose nothing.
    let adds = (0..10).map(|_| {
        let backend = backend.clone();
        let key = key.clone();
        async move {
            backend
                .write(vec![Write::Add {
                    key,
                    counts: counts(&[("a", 1)]),
                }])
                .await
        }
    });
    for result in futures::future::join_all(adds).await {
        result.unwrap();
    }
    assert_eq!(read(backend.clone()).await["a"], 15);
}

async fn items_indexes_follow_rewrites_and_deletes(store: &Store) {
    let backend = store.backend();
    let at_index = |pk: &str, target: &str, ipk: &str, isk: &str| {
        pointer_item(pk, "#", target).indexed(Index::Gsi2, Key::new(ipk, isk))
    };
    backend
        .write(vec![
            Write::put(at_index("T#i#1", "1", "T#i#OWNER#a", "2024#1")),
            Write::put(at_index("T#i#2", "2", "T#i#OWNER#a", "2023#2")),
            Write::put(at_index("T#i#3", "3", "T#i#OWNER#b", "2024#3")),
        ])
        .await
        .unwrap();
    let owner = |who: &str| Query::index(Index::Gsi2, format!("T#i#OWNER#{who}"));
    let targets = |items: Vec<Item>| -> Vec<String> {
        items
            .iter()
            .map(|i| i.record.target().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        targets(backend.query(&owner("a")).await.unwrap()),
        ["2", "1"]
    );
    // Rewritten under another index key: it moves.
    backend
        .write(vec![Write::put(at_index(
            "T#i#1",
            "1",
            "T#i#OWNER#b",
            "2025#1",
        ))])
        .await
        .unwrap();
    assert_eq!(targets(backend.query(&owner("a")).await.unwrap()), ["2"]);
    assert_eq!(
        targets(backend.query(&owner("b")).await.unwrap()),
        ["3", "1"]
    );
    // Rewritten with no index key, or deleted: it leaves the index.
    backend
        .write(vec![
            Write::put(pointer_item("T#i#3", "#", "3")),
            Write::delete(Key::new("T#i#2", "#")),
        ])
        .await
        .unwrap();
    assert!(backend.query(&owner("a")).await.unwrap().is_empty());
    assert_eq!(targets(backend.query(&owner("b")).await.unwrap()), ["1"]);
    // Other indexes are other partitions.
    assert!(backend
        .query(&Query::index(Index::Gsi1, "T#i#OWNER#b"))
        .await
        .unwrap()
        .is_empty());
}

async fn items_expired_are_invisible(store: &Store) {
    let backend = store.backend();
    let now = Utc::now().timestamp();
    backend
        .write(vec![
            Write::put(pointer_item("T#e#P", "old", "x").expiring(now - 10)),
            Write::put(pointer_item("T#e#P", "new", "x").expiring(now + 3600)),
            Write::put(
                pointer_item("T#e#Q", "#", "x")
                    .expiring(now - 10)
                    .indexed(Index::Gsi1, Key::new("T#e#I", "1")),
            ),
        ])
        .await
        .unwrap();
    let listed = backend.query(&Query::table("T#e#P")).await.unwrap();
    assert_eq!(
        item_keys(&listed),
        [("T#e#P".to_string(), "new".to_string())]
    );
    assert_eq!(listed[0].expires_at, Some(now + 3600));
    assert_eq!(get_one(&*backend, "T#e#P", "old").await, None);
    assert!(backend
        .query(&Query::index(Index::Gsi1, "T#e#I"))
        .await
        .unwrap()
        .is_empty());
}

// ---------------------------------------------------------------- cases

async fn lookup_finds_present_and_skips_absent(store: &Store) {
    let executing = simple_request("r-executing", at(0));
    let mut finished = simple_request("r-finished", at(1));
    finished.state = RequestState::RequestCompleted;
    store
        .load_tenant(
            ACME,
            TenantRecords {
                identities: vec![identity("alice"), identity("bob")],
                catalog: vec![
                    catalog(ItemType::Role, "role-1"),
                    catalog(ItemType::Entitlement, "ent-1"),
                ],
                non_employee_requests: Vec::new(),
                non_employee_sources: Vec::new(),
                access_requests: vec![executing.clone(), finished.clone()],
            },
        )
        .await
        .unwrap();

    let live = pending_key("fred", "ent-for-r-executing");
    let finished_key = pending_key("fred", "ent-for-r-finished");
    let found = store
        .lookup(
            ACME,
            &Lookup {
                identity_ids: vec!["alice".into(), "nobody".into(), "alice".into()],
                items: vec![
                    (ItemType::Role, "role-1".into()),
                    // The same id under another type is another item.
                    (ItemType::AccessProfile, "role-1".into()),
                    (ItemType::Entitlement, "ent-1".into()),
                    (ItemType::Entitlement, "missing".into()),
                ],
                pending: vec![
                    live.clone(),
                    finished_key.clone(),
                    pending_key("alice", "ent-1"),
                ],
                requests: vec!["r-finished".into(), "r-unknown".into()],
            },
        )
        .await
        .unwrap();
    assert_eq!(found.identities.len(), 1);
    assert_eq!(found.identities["alice"], identity("alice"));
    assert_eq!(found.items.len(), 2);
    assert_eq!(
        found.items[&(ItemType::Role, "role-1".to_string())],
        catalog(ItemType::Role, "role-1")
    );
    assert_eq!(
        found.items[&(ItemType::Entitlement, "ent-1".to_string())],
        catalog(ItemType::Entitlement, "ent-1")
    );
    // Only requests that are not final hold a claim after a load.
    assert_eq!(found.pending.len(), 1);
    assert_eq!(found.pending[&live], "r-executing");
    // Requests come back whole; unknown ids are simply absent.
    assert_eq!(found.requests.len(), 1);
    assert_eq!(found.requests["r-finished"], finished);

    // Another request type is another claim.
    let mut revoke = live.clone();
    revoke.request_type = AccessRequestType::RevokeAccess;
    let found = store
        .lookup(
            ACME,
            &Lookup {
                pending: vec![revoke],
                ..Lookup::default()
            },
        )
        .await
        .unwrap();
    assert!(found.pending.is_empty());

    // An empty lookup is fine.
    assert_eq!(
        store.lookup(ACME, &Lookup::default()).await.unwrap(),
        Default::default()
    );
}

async fn tenants_never_see_each_other(store: &Store) {
    // The same ids in two tenants, with different contents.
    for (tenant, label) in [(ACME, "acme"), (GLOBEX, "globex")] {
        let mut i = identity("alice");
        i.name = format!("Alice of {label}");
        let mut c = catalog(ItemType::Role, "role-1");
        c.name = format!("Role of {label}");
        let mut r = simple_request("r1", at(0));
        r.warnings = vec![label.to_string()];
        let mut ne = non_employee("ne-1", &["ne-item-1", "ne-item-2"]);
        ne.account_name = label.to_string();
        store
            .load_tenant(
                tenant,
                TenantRecords {
                    identities: vec![i],
                    catalog: vec![c],
                    non_employee_requests: vec![ne],
                    non_employee_sources: Vec::new(),
                    access_requests: vec![r],
                },
            )
            .await
            .unwrap();
        store
            .put_event(tenant, &event(&format!("e-{label}"), at(5)))
            .await
            .unwrap();
    }
    // Records only one tenant has.
    store
        .load_tenant(
            ACME,
            TenantRecords {
                identities: vec![identity("only-acme")],
                access_requests: vec![request(
                    "r-acme",
                    "rita",
                    "fred",
                    at(1),
                    vec![group("g", &["gina"])],
                )],
                ..Default::default()
            },
        )
        .await
        .unwrap();

    for (tenant, label) in [(ACME, "acme"), (GLOBEX, "globex")] {
        let found = store
            .lookup(
                tenant,
                &Lookup {
                    identity_ids: vec!["alice".into(), "only-acme".into()],
                    items: vec![(ItemType::Role, "role-1".into())],
                    pending: vec![
                        pending_key("fred", "ent-for-r1"),
                        pending_key("fred", "ent-for-r-acme"),
                    ],
                    requests: Vec::new(),
                },
            )
            .await
            .unwrap();
        assert_eq!(found.identities["alice"].name, format!("Alice of {label}"));
        assert_eq!(
            found.items[&(ItemType::Role, "role-1".to_string())].name,
            format!("Role of {label}")
        );
        assert_eq!(found.pending[&pending_key("fred", "ent-for-r1")], "r1");
        let acme = tenant == ACME;
        assert_eq!(found.identities.contains_key("only-acme"), acme, "{label}");
        assert_eq!(
            found
                .pending
                .contains_key(&pending_key("fred", "ent-for-r-acme")),
            acme,
            "{label}"
        );

        let got = store
            .get_requests(tenant, &["r1".into(), "r-acme".into()])
            .await
            .unwrap();
        assert_eq!(got.len(), if acme { 2 } else { 1 }, "{label}");
        assert!(got
            .iter()
            .filter(|r| r.id == "r1")
            .all(|r| r.warnings == vec![label.to_string()]));

        let expected: Vec<&str> = if acme {
            vec!["r1", "r-acme"]
        } else {
            vec!["r1"]
        };
        for index in [
            RequestIndex::Tenant,
            RequestIndex::Requester("rita".into()),
            RequestIndex::RequestedFor("fred".into()),
        ] {
            let found = store.query_requests(tenant, &index).await.unwrap();
            assert_eq!(ids(&found), expected, "{label} {index:?}");
        }
        let gina = store
            .query_requests(tenant, &RequestIndex::Assignee("gina".into()))
            .await
            .unwrap();
        assert_eq!(
            ids(&gina),
            if acme { vec!["r-acme"] } else { vec![] },
            "{label}"
        );
        let mona = store
            .query_requests(tenant, &RequestIndex::Assignee("mona".into()))
            .await
            .unwrap();
        assert_eq!(ids(&mona), vec!["r1"], "{label}");

        let events = store.list_events(tenant).await.unwrap();
        assert_eq!(events.len(), 1, "{label}");
        assert_eq!(events[0].id, format!("e-{label}"));

        let ne = store
            .non_employee_request_of_item(tenant, "ne-item-2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ne.account_name, label);
    }

    // Writes in one tenant leave the other alone.
    let acme_r1 = one(store, ACME, "r1").await.unwrap();
    store
        .update_request(ACME, &next_version(&acme_r1, "acme update"), None)
        .await
        .unwrap();
    let globex_r1 = one(store, GLOBEX, "r1").await.unwrap();
    assert_eq!(globex_r1.version, 1);
    assert_eq!(globex_r1.warnings, vec!["globex".to_string()]);
    // GLOBEX's r1 is at version 1, so a version-3 write conflicts there.
    let mut acme_r1 = one(store, ACME, "r1").await.unwrap();
    acme_r1.version += 1;
    assert!(is_conflict(
        &store.update_request(GLOBEX, &acme_r1, None).await
    ));
    // A request only ACME has cannot be updated in GLOBEX.
    let r_acme = one(store, ACME, "r-acme").await.unwrap();
    assert!(is_conflict(
        &store
            .update_request(GLOBEX, &next_version(&r_acme, "x"), None)
            .await
    ));
    assert!(one(store, GLOBEX, "r-acme").await.is_none());

    let before = store
        .non_employee_request_of_item(ACME, "ne-item-1")
        .await
        .unwrap()
        .unwrap();
    let mut ne = before.clone();
    ne.version += 1;
    ne.approval_status = ApprovalStatus::Rejected;
    store
        .update_non_employee_request(ACME, &before, &ne)
        .await
        .unwrap();
    let globex_ne = store
        .non_employee_request_of_item(GLOBEX, "ne-item-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(globex_ne.approval_status, ApprovalStatus::Pending);
    assert_eq!(globex_ne.version, 1);

    // A submission in GLOBEX does not see ACME's claims and is not seen there.
    let new = simple_request("r-new", at(9));
    store
        .create_requests(
            GLOBEX,
            std::slice::from_ref(&new),
            &[claim("fred", "ent-for-r-acme", "r-new", None)],
        )
        .await
        .unwrap();
    let found = store
        .lookup(
            ACME,
            &Lookup {
                pending: vec![pending_key("fred", "ent-for-r-acme")],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        found.pending[&pending_key("fred", "ent-for-r-acme")],
        "r-acme"
    );
    assert!(one(store, ACME, "r-new").await.is_none());
    assert!(store
        .non_employee_request_of_item(GLOBEX, "unknown")
        .await
        .unwrap()
        .is_none());
    assert!(store.list_events("nobody").await.unwrap().is_empty());
    assert!(store
        .query_requests("nobody", &RequestIndex::Tenant)
        .await
        .unwrap()
        .is_empty());
}

/// Everything a tenant's queries and lookups can see of `requests` and `claims`.
async fn assert_absent(store: &Store, requests: &[AccessRequestRecord], claims: &[PendingClaim]) {
    let wanted: Vec<String> = requests.iter().map(|r| r.id.clone()).collect();
    assert!(
        store.get_requests(ACME, &wanted).await.unwrap().is_empty(),
        "requests were written"
    );
    for index in [
        RequestIndex::Tenant,
        RequestIndex::Requester("rita".into()),
        RequestIndex::RequestedFor("fred".into()),
        RequestIndex::Assignee("mona".into()),
        RequestIndex::Assignee("gina".into()),
    ] {
        let listed = store.query_requests(ACME, &index).await.unwrap();
        assert!(
            listed.iter().all(|r| !wanted.contains(&r.id)),
            "{index:?} lists a request that was not written"
        );
    }
    let found = store
        .lookup(
            ACME,
            &Lookup {
                pending: claims.iter().map(|c| c.key.clone()).collect(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for c in claims {
        assert_ne!(
            found.pending.get(&c.key),
            Some(&c.access_request_id),
            "claim was written"
        );
    }
}

async fn create_with_taken_claim_writes_nothing(store: &Store) {
    let first = simple_request("r1", at(0));
    store
        .create_requests(ACME, std::slice::from_ref(&first), &claims_of(&first))
        .await
        .unwrap();

    // A two-request submission whose last claim is already taken by r1.
    let a = request(
        "r2",
        "rita",
        "fred",
        at(1),
        vec![person("mona"), group("g", &["gina"])],
    );
    let b = request("r3", "rita", "fred", at(2), vec![person("mona")]);
    let claims = vec![
        claim("fred", "ent-for-r2", "r2", None),
        claim("fred", "ent-for-r3", "r3", None),
        claim("fred", "ent-for-r1", "r3", None),
    ];
    let result = store
        .create_requests(ACME, &[a.clone(), b.clone()], &claims)
        .await;
    assert!(is_conflict(&result), "{result:?}");
    assert_absent(store, &[a, b], &claims[..2]).await;

    // r1 and its claim are untouched.
    assert_eq!(one(store, ACME, "r1").await.unwrap(), first);
    let found = store
        .lookup(
            ACME,
            &Lookup {
                pending: vec![pending_key("fred", "ent-for-r1")],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.pending[&pending_key("fred", "ent-for-r1")], "r1");
}

async fn create_with_existing_request_writes_nothing(store: &Store) {
    let first = simple_request("r1", at(0));
    store
        .create_requests(ACME, std::slice::from_ref(&first), &[])
        .await
        .unwrap();

    let fresh = request("r2", "rita", "fred", at(1), vec![group("g", &["gina"])]);
    let mut clash = simple_request("r1", at(5));
    clash.requester = named("someone-else");
    let claims = vec![
        claim("fred", "ent-for-r2", "r2", None),
        claim("fred", "other", "r1", None),
    ];
    let result = store
        .create_requests(ACME, &[fresh.clone(), clash], &claims)
        .await;
    assert!(is_conflict(&result), "{result:?}");
    assert_absent(store, &[fresh], &claims).await;
    assert_eq!(one(store, ACME, "r1").await.unwrap(), first);
    assert!(store
        .query_requests(ACME, &RequestIndex::Requester("someone-else".into()))
        .await
        .unwrap()
        .is_empty());
}

/// The request the claim `key` names, if any.
async fn claim_of(store: &Store, key: &PendingKey) -> Option<String> {
    store
        .lookup(
            ACME,
            &Lookup {
                pending: vec![key.clone()],
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .pending
        .get(key)
        .cloned()
}

async fn claims_are_replaced_only_as_seen(store: &Store) {
    let key = pending_key("fred", "ent-1");
    let r1 = simple_request("r1", at(0));
    store
        .create_requests(ACME, &[r1], &[claim("fred", "ent-1", "r1", None)])
        .await
        .unwrap();
    assert_eq!(claim_of(store, &key).await.as_deref(), Some("r1"));

    // Claiming as if it were absent fails.
    let r2 = simple_request("r2", at(1));
    let result = store
        .create_requests(
            ACME,
            std::slice::from_ref(&r2),
            &[claim("fred", "ent-1", "r2", None)],
        )
        .await;
    assert!(is_conflict(&result), "{result:?}");
    // Replacing a claim other than the stored one fails.
    let result = store
        .create_requests(
            ACME,
            std::slice::from_ref(&r2),
            &[claim("fred", "ent-1", "r2", Some("r0"))],
        )
        .await;
    assert!(is_conflict(&result), "{result:?}");
    assert!(one(store, ACME, "r2").await.is_none());
    assert_eq!(claim_of(store, &key).await.as_deref(), Some("r1"));

    // Replacing the claim as seen succeeds.
    store
        .create_requests(ACME, &[r2], &[claim("fred", "ent-1", "r2", Some("r1"))])
        .await
        .unwrap();
    assert_eq!(claim_of(store, &key).await.as_deref(), Some("r2"));

    // A second replacement of what is no longer there fails.
    let r3 = simple_request("r3", at(2));
    let result = store
        .create_requests(
            ACME,
            std::slice::from_ref(&r3),
            &[claim("fred", "ent-1", "r3", Some("r1"))],
        )
        .await;
    assert!(is_conflict(&result), "{result:?}");
    assert!(one(store, ACME, "r3").await.is_none());
    assert_eq!(claim_of(store, &key).await.as_deref(), Some("r2"));

    // Replacing a claim that does not exist fails too.
    let result = store
        .create_requests(ACME, &[r3], &[claim("fred", "ent-never", "r3", Some("r1"))])
        .await;
    assert!(is_conflict(&result), "{result:?}");
}

async fn empty_submission_is_a_no_op(store: &Store) {
    store.create_requests(ACME, &[], &[]).await.unwrap();
    assert!(store
        .query_requests(ACME, &RequestIndex::Tenant)
        .await
        .unwrap()
        .is_empty());
    assert!(store.get_requests(ACME, &[]).await.unwrap().is_empty());
}

async fn queries_follow_each_index_in_order(store: &Store) {
    let finance = group("finance", &["gina", "gus", "rita"]);
    // Created out of order, with ties on `created` broken by id.
    let requests = [
        request("r-c", "rita", "fred", at(30), vec![person("mona")]),
        request("r-a", "rita", "rita", at(10), vec![finance.clone()]),
        request(
            "r-b",
            "sam",
            "fred",
            at(10),
            vec![person("mona"), finance.clone()],
        ),
        request("r-d", "sam", "sam", at(5), vec![]),
        request("r-e", "rita", "fred", at(20_000), vec![person("gus")]),
    ];
    // Two submissions through `create_requests`, one through `load_tenant`.
    store
        .create_requests(ACME, &requests[..2], &[])
        .await
        .unwrap();
    store
        .create_requests(ACME, &requests[2..4], &[])
        .await
        .unwrap();
    load_requests(store, ACME, requests[4..].to_vec()).await;

    let query =
        |index: RequestIndex| async move { store.query_requests(ACME, &index).await.unwrap() };
    assert_eq!(
        ids(&query(RequestIndex::Tenant).await),
        ["r-d", "r-a", "r-b", "r-c", "r-e"]
    );
    assert_eq!(
        ids(&query(RequestIndex::Requester("rita".into())).await),
        ["r-a", "r-c", "r-e"]
    );
    assert_eq!(
        ids(&query(RequestIndex::Requester("sam".into())).await),
        ["r-d", "r-b"]
    );
    assert_eq!(
        ids(&query(RequestIndex::RequestedFor("fred".into())).await),
        ["r-b", "r-c", "r-e"]
    );
    assert_eq!(
        ids(&query(RequestIndex::RequestedFor("sam".into())).await),
        ["r-d"]
    );
    assert_eq!(
        ids(&query(RequestIndex::RequestedFor("rita".into())).await),
        ["r-a"]
    );
    // Members of a governance group approver, and identity approvers.
    assert_eq!(
        ids(&query(RequestIndex::Assignee("gina".into())).await),
        ["r-a", "r-b"]
    );
    assert_eq!(
        ids(&query(RequestIndex::Assignee("gus".into())).await),
        ["r-a", "r-b", "r-e"]
    );
    assert_eq!(
        ids(&query(RequestIndex::Assignee("rita".into())).await),
        ["r-a", "r-b"]
    );
    assert_eq!(
        ids(&query(RequestIndex::Assignee("mona".into())).await),
        ["r-b", "r-c"]
    );
    // The group itself is not an identity that acts.
    assert!(query(RequestIndex::Assignee("finance".into()))
        .await
        .is_empty());
    assert!(query(RequestIndex::Assignee("nobody".into()))
        .await
        .is_empty());
    assert!(query(RequestIndex::Requester("nobody".into()))
        .await
        .is_empty());
    assert!(query(RequestIndex::RequestedFor("nobody".into()))
        .await
        .is_empty());

    // What a query returns is the stored record, updates included.
    let b = one(store, ACME, "r-b").await.unwrap();
    let b2 = next_version(&b, "updated");
    store.update_request(ACME, &b2, None).await.unwrap();
    let gina = query(RequestIndex::Assignee("gina".into())).await;
    assert_eq!(ids(&gina), ["r-a", "r-b"]);
    assert_eq!(*gina[1], b2);
    let tenant = query(RequestIndex::Tenant).await;
    assert_eq!(tenant.len(), 5);
    assert_eq!(*tenant[2], b2);
    assert_eq!(
        *query(RequestIndex::RequestedFor("fred".into())).await[0],
        b2
    );
}

/// Requests with a large comment each, > 1 MB in all: more than one DynamoDB page.
fn bulky_requests(n: usize) -> Vec<AccessRequestRecord> {
    let filler = "x".repeat(9_000);
    (0..n)
        .map(|i| {
            // Created in an order unlike the ids.
            let mut r = request(
                &format!("bulk-{i:03}"),
                if i.is_multiple_of(2) { "rita" } else { "sam" },
                "fred",
                at(((i * 7919) % n) as i64),
                vec![person("mona")],
            );
            r.items[0].description = Some(filler.clone());
            r
        })
        .collect()
}

async fn queries_return_more_than_a_page(store: &Store) {
    let requests = bulky_requests(130);
    load_requests(store, ACME, requests.clone()).await;
    let mut expected = requests.clone();
    expected.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));

    let all = store
        .query_requests(ACME, &RequestIndex::Tenant)
        .await
        .unwrap();
    assert_eq!(all.len(), 130);
    assert_eq!(owned(all), expected);
    let fred = store
        .query_requests(ACME, &RequestIndex::RequestedFor("fred".into()))
        .await
        .unwrap();
    assert_eq!(owned(fred), expected);
    let mona = store
        .query_requests(ACME, &RequestIndex::Assignee("mona".into()))
        .await
        .unwrap();
    assert_eq!(owned(mona), expected);
    let rita = store
        .query_requests(ACME, &RequestIndex::Requester("rita".into()))
        .await
        .unwrap();
    let expected_rita: Vec<_> = expected
        .iter()
        .filter(|r| r.requester.id == "rita")
        .cloned()
        .collect();
    assert_eq!(rita.len(), 65);
    assert_eq!(owned(rita), expected_rita);

    let all_ids: Vec<String> = requests.iter().map(|r| r.id.clone()).collect();
    assert_eq!(store.get_requests(ACME, &all_ids).await.unwrap().len(), 130);
}

async fn update_checks_the_version(store: &Store) {
    let r = simple_request("r1", at(0));
    store
        .create_requests(ACME, std::slice::from_ref(&r), &[])
        .await
        .unwrap();

    // Not the next version: stale, the same, or skipping one.
    for version in [0, 1, 3] {
        let mut stale = next_version(&r, "stale");
        stale.version = version;
        let result = store.update_request(ACME, &stale, None).await;
        assert!(is_conflict(&result), "version {version}: {result:?}");
    }
    assert_eq!(one(store, ACME, "r1").await.unwrap(), r);

    let r2 = next_version(&r, "second");
    store.update_request(ACME, &r2, None).await.unwrap();
    assert_eq!(one(store, ACME, "r1").await.unwrap(), r2);
    // The same write again is now stale.
    assert!(is_conflict(&store.update_request(ACME, &r2, None).await));
    let mut r3 = next_version(&r2, "third");
    r3.state = RequestState::Cancelled;
    store.update_request(ACME, &r3, None).await.unwrap();
    assert_eq!(one(store, ACME, "r1").await.unwrap(), r3);
    // Still listed once in each index.
    assert_eq!(
        owned(
            store
                .query_requests(ACME, &RequestIndex::Tenant)
                .await
                .unwrap()
        ),
        vec![r3.clone()]
    );
    assert_eq!(
        owned(
            store
                .query_requests(ACME, &RequestIndex::Requester("rita".into()))
                .await
                .unwrap()
        ),
        vec![r3.clone()]
    );

    // A request that does not exist cannot be updated (nor is it created).
    let ghost = next_version(&simple_request("ghost", at(0)), "x");
    assert!(is_conflict(&store.update_request(ACME, &ghost, None).await));
    assert!(one(store, ACME, "ghost").await.is_none());
}

async fn update_with_event_is_all_or_nothing(store: &Store) {
    let r = simple_request("r1", at(0));
    store
        .create_requests(ACME, std::slice::from_ref(&r), &[])
        .await
        .unwrap();

    let mut stale = next_version(&r, "stale");
    stale.version = 5;
    let result = store
        .update_request(ACME, &stale, Some(&event("e-failed", at(1))))
        .await;
    assert!(is_conflict(&result), "{result:?}");
    assert!(store.list_events(ACME).await.unwrap().is_empty());
    assert_eq!(one(store, ACME, "r1").await.unwrap(), r);

    let r2 = next_version(&r, "closed");
    let e = event("e-ok", at(2));
    store.update_request(ACME, &r2, Some(&e)).await.unwrap();
    assert_eq!(store.list_events(ACME).await.unwrap(), vec![e.clone()]);
    assert_eq!(one(store, ACME, "r1").await.unwrap(), r2);

    // Replaying the same update with another event changes nothing.
    let result = store
        .update_request(ACME, &r2, Some(&event("e-replay", at(3))))
        .await;
    assert!(is_conflict(&result), "{result:?}");
    assert_eq!(store.list_events(ACME).await.unwrap(), vec![e]);
}

async fn concurrent_updates_have_one_winner(store: &Store) {
    let r = simple_request("r1", at(0));
    store
        .create_requests(ACME, std::slice::from_ref(&r), &[])
        .await
        .unwrap();
    let candidates: Vec<AccessRequestRecord> = (0..20)
        .map(|i| next_version(&r, &format!("writer {i}")))
        .collect();
    let results =
        futures::future::join_all(candidates.iter().enumerate().map(|(i, c)| async move {
            // Half of them with an event, so that both write paths race.
            if i.is_multiple_of(2) {
                store.update_request(ACME, c, None).await
            } else {
                store
                    .update_request(ACME, c, Some(&event(&format!("e-{i}"), at(i as i64))))
                    .await
            }
        }))
        .await;
    let winner = the_one_winner(&results);
    assert_eq!(one(store, ACME, "r1").await.unwrap(), candidates[winner]);
    let events = store.list_events(ACME).await.unwrap();
    if winner.is_multiple_of(2) {
        assert!(events.is_empty(), "{events:?}");
    } else {
        assert_eq!(ids_of_events(&events), vec![format!("e-{winner}")]);
    }
}

fn ids_of_events(events: &[EventRecord]) -> Vec<String> {
    events.iter().map(|e| e.id.clone()).collect()
}

async fn ne_of_item(store: &Store, tenant: &str, item: &str) -> Option<NonEmployeeRequestRecord> {
    store
        .non_employee_request_of_item(tenant, item)
        .await
        .unwrap()
}

async fn ne_by_id(store: &Store, tenant: &str, id: &str) -> Option<NonEmployeeRequestRecord> {
    store.non_employee_request(tenant, id).await.unwrap()
}

/// The request holding `name` on `source`.
async fn name_holder(store: &Store, tenant: &str, source: &str, name: &str) -> Option<String> {
    let key = (source.to_string(), name.to_string());
    store
        .non_employee_lookup(
            tenant,
            &NonEmployeeLookup {
                account_names: vec![key.clone()],
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .account_holders
        .remove(&key)
}

async fn request_list(
    store: &Store,
    tenant: &str,
    identity: &str,
) -> Vec<NonEmployeeRequestRecord> {
    store
        .non_employee_request_list(tenant, identity)
        .await
        .unwrap()
}

/// `(item id, status)` of an identity's approvals list, in order.
async fn approval_list(
    store: &Store,
    tenant: &str,
    identity: &str,
) -> Vec<(String, ApprovalStatus)> {
    store
        .non_employee_approval_list(tenant, identity)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.item.id, v.item.approval_status))
        .collect()
}

fn entry(id: &str, status: ApprovalStatus) -> (String, ApprovalStatus) {
    (id.to_string(), status)
}

async fn non_employee_requests_by_any_approval_item(store: &Store) {
    let ne = non_employee("ne-1", &["item-1", "item-2", "item-3"]);
    let other = non_employee("ne-2", &["item-9"]);
    load_non_employee(store, ACME, vec![ne.clone(), other.clone()]).await;
    for item in ["item-1", "item-2", "item-3"] {
        assert_eq!(ne_of_item(store, ACME, item).await, Some(ne.clone()));
    }
    assert_eq!(ne_of_item(store, ACME, "item-9").await, Some(other.clone()));
    assert_eq!(ne_by_id(store, ACME, "ne-1").await, Some(ne.clone()));
    assert_eq!(ne_by_id(store, ACME, "ne-2").await, Some(other));
    // Request ids and item ids are not interchangeable.
    assert_eq!(ne_of_item(store, ACME, "ne-1").await, None);
    assert_eq!(ne_by_id(store, ACME, "item-1").await, None);
    assert_eq!(ne_of_item(store, ACME, "nothing").await, None);
    assert_eq!(ne_by_id(store, ACME, "nothing").await, None);
    // Seeding claims the account names of requests that hold them.
    assert_eq!(
        name_holder(store, ACME, "src-1", "account-ne-1").await,
        Some("ne-1".into())
    );
}

async fn non_employee_updates_check_the_version_and_rewrite_every_copy(store: &Store) {
    let ne = non_employee("ne-1", &["item-1", "item-2"]);
    load_non_employee(store, ACME, vec![ne.clone()]).await;
    let mut approved = ne.clone();
    approved.version = 2;
    approved.modified = at(10);
    approved.approval_items[0].approval_status = ApprovalStatus::Approved;
    approved.approval_items[0].comment = Some("yes".into());
    approved.approval_items[0].reviewer_id = Some("mona".into());
    approved.approval_items[0].modified = at(10);
    approved.approval_items[1].approval_status = ApprovalStatus::Pending;
    approved.approval_items[1].modified = at(10);

    // A stale `before` changes nothing.
    for version in [0, 2, 5] {
        let mut stale = ne.clone();
        stale.version = version;
        let mut after = approved.clone();
        after.version = version + 1;
        let result = store
            .update_non_employee_request(ACME, &stale, &after)
            .await;
        assert!(is_conflict(&result), "version {version}: {result:?}");
    }
    // Nor does an `after` that is not the next version.
    let mut skipping = approved.clone();
    skipping.version = 3;
    assert!(is_conflict(
        &store
            .update_non_employee_request(ACME, &ne, &skipping)
            .await
    ));
    assert_eq!(ne_by_id(store, ACME, "ne-1").await, Some(ne.clone()));

    store
        .update_non_employee_request(ACME, &ne, &approved)
        .await
        .unwrap();
    // Every copy shows the new version.
    assert_eq!(ne_by_id(store, ACME, "ne-1").await, Some(approved.clone()));
    for item in ["item-1", "item-2"] {
        assert_eq!(ne_of_item(store, ACME, item).await, Some(approved.clone()));
    }
    for identity in ["rita", "sally"] {
        assert_eq!(
            request_list(store, ACME, identity).await,
            vec![approved.clone()]
        );
    }
    assert_eq!(
        approval_list(store, ACME, "mona").await,
        vec![entry("item-1", ApprovalStatus::Approved)]
    );
    for member in ["gina", "gus"] {
        assert_eq!(
            approval_list(store, ACME, member).await,
            vec![entry("item-2", ApprovalStatus::Pending)]
        );
    }
    let view = store
        .non_employee_approval_list(ACME, "mona")
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        view,
        NonEmployeeApprovalViewRecord::of(&approved, &approved.approval_items[0])
    );
    // The old version again: a conflict.
    assert!(is_conflict(
        &store
            .update_non_employee_request(ACME, &ne, &approved)
            .await
    ));
    // A group's item decided by one member leaves the other members' lists.
    let mut done = approved.clone();
    done.version = 3;
    done.approval_status = ApprovalStatus::Approved;
    done.approval_items[1].approval_status = ApprovalStatus::Approved;
    done.approval_items[1].reviewer_id = Some("gina".into());
    store
        .update_non_employee_request(ACME, &approved, &done)
        .await
        .unwrap();
    assert_eq!(
        approval_list(store, ACME, "gina").await,
        vec![entry("item-2", ApprovalStatus::Approved)]
    );
    assert!(approval_list(store, ACME, "gus").await.is_empty());
    assert_eq!(
        approval_list(store, ACME, "mona").await,
        vec![entry("item-1", ApprovalStatus::Approved)]
    );
    // An unknown request cannot be updated.
    let ghost = non_employee("ghost", &["ghost-item"]);
    let mut next = ghost.clone();
    next.version = 2;
    assert!(is_conflict(
        &store.update_non_employee_request(ACME, &ghost, &next).await
    ));
    assert_eq!(ne_of_item(store, ACME, "ghost-item").await, None);
}

async fn concurrent_non_employee_updates_have_one_winner(store: &Store) {
    let ne = non_employee("ne-1", &["item-1", "item-2", "item-3"]);
    load_non_employee(store, ACME, vec![ne.clone()]).await;
    let candidates: Vec<NonEmployeeRequestRecord> = (0..20)
        .map(|i| {
            let mut c = ne.clone();
            c.version = 2;
            c.approval_status = ApprovalStatus::Rejected;
            c.approval_items[i % 3].comment = Some(format!("rejected by writer {i}"));
            c
        })
        .collect();
    let results = futures::future::join_all(
        candidates
            .iter()
            .map(|c| store.update_non_employee_request(ACME, &ne, c)),
    )
    .await;
    let winner = the_one_winner(&results);
    // Every copy shows the winner's write: never a mix.
    for item in ["item-1", "item-2", "item-3"] {
        assert_eq!(
            ne_of_item(store, ACME, item).await,
            Some(candidates[winner].clone()),
            "{item}"
        );
    }
    assert_eq!(
        request_list(store, ACME, "rita").await,
        vec![candidates[winner].clone()]
    );
}

async fn non_employee_create_claims_the_account_name(store: &Store) {
    let first = non_employee("ne-1", &["item-1", "item-2"]);
    store
        .create_non_employee_request(ACME, &first)
        .await
        .unwrap();
    assert_eq!(ne_by_id(store, ACME, "ne-1").await, Some(first.clone()));
    assert_eq!(ne_of_item(store, ACME, "item-2").await, Some(first.clone()));
    // Names compare in any case; each source has its own.
    for name in ["account-ne-1", "ACCOUNT-NE-1", "Account-Ne-1"] {
        assert_eq!(
            name_holder(store, ACME, "src-1", name).await,
            Some("ne-1".into()),
            "{name}"
        );
    }
    assert_eq!(
        name_holder(store, ACME, "src-2", "account-ne-1").await,
        None
    );
    assert_eq!(
        name_holder(store, GLOBEX, "src-1", "account-ne-1").await,
        None
    );

    // The same name on the same source: nothing of the second is written.
    let mut second = non_employee("ne-2", &["item-3"]);
    second.account_name = "Account-NE-1".into();
    assert!(is_conflict(
        &store.create_non_employee_request(ACME, &second).await
    ));
    assert_eq!(ne_by_id(store, ACME, "ne-2").await, None);
    assert_eq!(ne_of_item(store, ACME, "item-3").await, None);
    assert_eq!(request_list(store, ACME, "rita").await, vec![first.clone()]);
    assert_eq!(
        approval_list(store, ACME, "mona").await,
        vec![entry("item-1", ApprovalStatus::Pending)]
    );
    // On another source the name is free.
    second.source.id = "src-2".into();
    store
        .create_non_employee_request(ACME, &second)
        .await
        .unwrap();
    assert_eq!(
        name_holder(store, ACME, "src-2", "account-ne-1").await,
        Some("ne-2".into())
    );
    // A request id is stored once.
    let mut again = non_employee("ne-1", &["item-4"]);
    again.account_name = "fresh".into();
    assert!(is_conflict(
        &store.create_non_employee_request(ACME, &again).await
    ));
    assert_eq!(ne_of_item(store, ACME, "item-4").await, None);
    assert_eq!(name_holder(store, ACME, "src-1", "fresh").await, None);
}

async fn racing_non_employee_creates_of_one_name_have_one_winner(store: &Store) {
    let candidates: Vec<NonEmployeeRequestRecord> = (0..10)
        .map(|i| {
            let mut r = non_employee(&format!("ne-{i}"), &[&format!("item-{i}")]);
            r.account_name = if i % 2 == 0 { "contested" } else { "CONTESTED" }.into();
            r
        })
        .collect();
    let results = futures::future::join_all(
        candidates
            .iter()
            .map(|r| store.create_non_employee_request(ACME, r)),
    )
    .await;
    let winner = the_one_winner(&results);
    assert_eq!(
        name_holder(store, ACME, "src-1", "contested").await,
        Some(candidates[winner].id.clone())
    );
    assert_eq!(
        request_list(store, ACME, "rita").await,
        vec![candidates[winner].clone()]
    );
    for (i, r) in candidates.iter().enumerate() {
        let stored = ne_by_id(store, ACME, &r.id).await;
        assert_eq!(stored.is_some(), i == winner, "{}", r.id);
    }
}

async fn non_employee_lists_follow_each_identity(store: &Store) {
    let mut a = non_employee("ne-a", &["a-1", "a-2"]);
    a.created = at(20);
    let mut b = non_employee("ne-b", &["b-1"]);
    b.created = at(10);
    b.requester = named("ursula");
    b.source.id = "src-2".into();
    b.source.account_manager_ids = vec!["sally".into()];
    b.approval_items[0].approver = person("gus");
    // Items are created with their request; each list is in its rows' order.
    for r in [&mut a, &mut b] {
        let created = r.created;
        r.approval_items
            .iter_mut()
            .for_each(|i| i.created = created);
    }
    for r in [&a, &b] {
        store.create_non_employee_request(ACME, r).await.unwrap();
    }
    // Sponsors and account managers list requests, oldest first.
    assert_eq!(request_list(store, ACME, "rita").await, vec![a.clone()]);
    assert_eq!(
        request_list(store, ACME, "sally").await,
        vec![b.clone(), a.clone()]
    );
    assert_eq!(request_list(store, ACME, "ursula").await, vec![b.clone()]);
    assert!(request_list(store, ACME, "mona").await.is_empty());
    // Approvers and group members list items, oldest first.
    let pending = ApprovalStatus::Pending;
    let not_ready = ApprovalStatus::NotReady;
    assert_eq!(
        approval_list(store, ACME, "mona").await,
        vec![entry("a-1", pending)]
    );
    assert_eq!(
        approval_list(store, ACME, "gina").await,
        vec![entry("a-2", not_ready)]
    );
    assert_eq!(
        approval_list(store, ACME, "gus").await,
        vec![entry("b-1", pending), entry("a-2", not_ready)]
    );
    assert!(approval_list(store, ACME, "rita").await.is_empty());
    assert!(approval_list(store, ACME, "nobody").await.is_empty());
    assert!(request_list(store, GLOBEX, "sally").await.is_empty());
    assert!(approval_list(store, GLOBEX, "gus").await.is_empty());
}

async fn non_employee_reject_frees_the_account_name(store: &Store) {
    let r = non_employee("ne-1", &["item-1", "item-2"]);
    store.create_non_employee_request(ACME, &r).await.unwrap();
    let mut rejected = r.clone();
    rejected.version = 2;
    rejected.approval_status = ApprovalStatus::Rejected;
    rejected.approval_items[0].approval_status = ApprovalStatus::Rejected;
    rejected.approval_items[0].comment = Some("no".into());
    rejected.approval_items[0].reviewer_id = Some("ada".into());
    rejected.approval_items[1].approval_status = ApprovalStatus::Cancelled;
    store
        .update_non_employee_request(ACME, &r, &rejected)
        .await
        .unwrap();
    assert_eq!(
        name_holder(store, ACME, "src-1", &r.account_name).await,
        None
    );
    // A decided item is listed for whoever decided it, no longer for its
    // approver.
    assert_eq!(
        approval_list(store, ACME, "ada").await,
        vec![entry("item-1", ApprovalStatus::Rejected)]
    );
    assert!(approval_list(store, ACME, "mona").await.is_empty());
    assert_eq!(
        approval_list(store, ACME, "gina").await,
        vec![entry("item-2", ApprovalStatus::Cancelled)]
    );
    // The name is free again.
    let mut again = non_employee("ne-2", &["item-3"]);
    again.account_name = r.account_name.to_uppercase();
    store
        .create_non_employee_request(ACME, &again)
        .await
        .unwrap();
    assert_eq!(
        name_holder(store, ACME, "src-1", &r.account_name).await,
        Some("ne-2".into())
    );
}

async fn non_employee_delete_keeps_decided_history_only(store: &Store) {
    let r = non_employee("ne-1", &["item-1", "item-2"]);
    store.create_non_employee_request(ACME, &r).await.unwrap();
    let mut half = r.clone();
    half.version = 2;
    half.approval_items[0].approval_status = ApprovalStatus::Approved;
    half.approval_items[0].reviewer_id = Some("mona".into());
    half.approval_items[1].approval_status = ApprovalStatus::Pending;
    store
        .update_non_employee_request(ACME, &r, &half)
        .await
        .unwrap();
    // A stale version deletes nothing.
    assert!(is_conflict(
        &store.delete_non_employee_request(ACME, &r).await
    ));
    assert_eq!(ne_by_id(store, ACME, "ne-1").await, Some(half.clone()));

    store
        .delete_non_employee_request(ACME, &half)
        .await
        .unwrap();
    assert_eq!(ne_by_id(store, ACME, "ne-1").await, None);
    for item in ["item-1", "item-2"] {
        assert_eq!(ne_of_item(store, ACME, item).await, None, "{item}");
    }
    for identity in ["rita", "sally"] {
        assert!(request_list(store, ACME, identity).await.is_empty());
    }
    // The decided item stays in its approver's list; the undecided is gone.
    assert_eq!(
        approval_list(store, ACME, "mona").await,
        vec![entry("item-1", ApprovalStatus::Approved)]
    );
    assert!(approval_list(store, ACME, "gina").await.is_empty());
    assert_eq!(
        name_holder(store, ACME, "src-1", &r.account_name).await,
        None
    );
    // Nothing is left at that version to delete.
    assert!(is_conflict(
        &store.delete_non_employee_request(ACME, &half).await
    ));
}

async fn non_employee_sources_load_and_look_up(store: &Store) {
    let source = NonEmployeeSourceRecord {
        id: "src-1".into(),
        name: "Contractors".into(),
        description: None,
        account_manager_ids: vec!["rita".into()],
        approvers: vec![person("mona"), group("approvers", &["gina"])],
    };
    store
        .load_tenant(
            ACME,
            TenantRecords {
                identities: vec![identity("mona")],
                non_employee_sources: vec![source.clone()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let lookup = NonEmployeeLookup {
        sources: vec!["src-1".into(), "src-x".into()],
        identities: vec!["mona".into(), "nobody".into()],
        account_names: vec![("src-1".into(), "free".into())],
        requests: vec!["r".into()],
        approval_items: vec!["i".into()],
    };
    let found = store.non_employee_lookup(ACME, &lookup).await.unwrap();
    assert_eq!(found.sources.len(), 1);
    assert_eq!(found.sources["src-1"], source);
    assert_eq!(found.identities.keys().collect::<Vec<_>>(), vec!["mona"]);
    assert!(found.account_holders.is_empty());
    assert!(found.requests.is_empty() && found.approval_items.is_empty());
    let theirs = store.non_employee_lookup(GLOBEX, &lookup).await.unwrap();
    assert!(theirs.sources.is_empty() && theirs.identities.is_empty());
}

async fn events_are_listed_oldest_first(store: &Store) {
    let events = vec![
        event("e-3", at(3_000)),
        event("e-1", at(1)),
        EventRecord {
            sequence: 1,
            ..event("e-2b", at(2))
        },
        EventRecord {
            sequence: 1,
            ..event("e-2a", at(2))
        },
        // Same millisecond, earlier stage: first, whatever its id.
        event("e-2z", at(2)),
        event("e-0", at(-60_000)),
    ];
    for e in &events {
        store.put_event(ACME, e).await.unwrap();
    }
    store
        .put_event(GLOBEX, &event("e-globex", at(0)))
        .await
        .unwrap();
    let listed = store.list_events(ACME).await.unwrap();
    assert_eq!(
        ids_of_events(&listed),
        ["e-0", "e-1", "e-2z", "e-2a", "e-2b", "e-3"]
    );
    assert_eq!(listed[1], events[1]);
    assert_eq!(
        ids_of_events(&store.list_events(GLOBEX).await.unwrap()),
        ["e-globex"]
    );
}

async fn load_tenant_then_lookup(store: &Store) {
    let mut cancelled = request("r-cancelled", "rita", "fred", at(0), vec![person("mona")]);
    cancelled.state = RequestState::Cancelled;
    let mut verifying = request("r-verifying", "rita", "fred", at(1), vec![person("mona")]);
    verifying.state = RequestState::ProvisioningVerificationPending;
    let executing = request(
        "r-executing",
        "rita",
        "sam",
        at(2),
        vec![group("g", &["gina"])],
    );
    let records = TenantRecords {
        identities: vec![identity("alice"), identity("bob"), identity("carol")],
        catalog: vec![
            catalog(ItemType::AccessProfile, "ap-1"),
            catalog(ItemType::Role, "role-1"),
            catalog(ItemType::Entitlement, "ent-1"),
        ],
        non_employee_requests: vec![non_employee("ne-1", &["ne-item-1"])],
        non_employee_sources: Vec::new(),
        access_requests: vec![cancelled.clone(), verifying.clone(), executing.clone()],
    };
    store.load_tenant(ACME, records.clone()).await.unwrap();

    let found = store
        .lookup(
            ACME,
            &Lookup {
                identity_ids: vec!["alice".into(), "bob".into(), "carol".into()],
                items: vec![
                    (ItemType::AccessProfile, "ap-1".into()),
                    (ItemType::Role, "role-1".into()),
                    (ItemType::Entitlement, "ent-1".into()),
                ],
                pending: vec![
                    pending_key("fred", "ent-for-r-cancelled"),
                    pending_key("fred", "ent-for-r-verifying"),
                    pending_key("sam", "ent-for-r-executing"),
                ],
                requests: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(found.identities.len(), 3);
    assert_eq!(found.items.len(), 3);
    assert_eq!(
        found.pending,
        [
            (
                pending_key("fred", "ent-for-r-verifying"),
                "r-verifying".to_string()
            ),
            (
                pending_key("sam", "ent-for-r-executing"),
                "r-executing".to_string()
            ),
        ]
        .into_iter()
        .collect()
    );
    // Final requests are still listed everywhere, assignee included.
    assert_eq!(
        ids(&store
            .query_requests(ACME, &RequestIndex::Assignee("mona".into()))
            .await
            .unwrap()),
        ["r-cancelled", "r-verifying"]
    );
    assert_eq!(
        ids(&store
            .query_requests(ACME, &RequestIndex::Assignee("gina".into()))
            .await
            .unwrap()),
        ["r-executing"]
    );
    assert_eq!(
        store
            .non_employee_request_of_item(ACME, "ne-item-1")
            .await
            .unwrap(),
        Some(non_employee("ne-1", &["ne-item-1"]))
    );

    // Loading again replaces records with the same ids.
    let mut alice = identity("alice");
    alice.name = "Alice Renamed".into();
    alice.manager_id = None;
    alice.manager_name = None;
    let mut ap = catalog(ItemType::AccessProfile, "ap-1");
    ap.requestable = false;
    ap.approval_steps.clear();
    store
        .load_tenant(
            ACME,
            TenantRecords {
                identities: vec![alice.clone()],
                catalog: vec![ap.clone()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let found = store
        .lookup(
            ACME,
            &Lookup {
                identity_ids: vec!["alice".into(), "bob".into()],
                items: vec![(ItemType::AccessProfile, "ap-1".into())],
                pending: Vec::new(),
                requests: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(found.identities["alice"], alice);
    assert_eq!(found.identities["bob"], identity("bob"));
    assert_eq!(
        found.items[&(ItemType::AccessProfile, "ap-1".to_string())],
        ap
    );

    // Duplicate ids within one load: the last one wins.
    let mut first = identity("dora");
    first.name = "first".into();
    let mut last = identity("dora");
    last.name = "last".into();
    store
        .load_tenant(
            ACME,
            TenantRecords {
                identities: vec![first, last.clone()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let found = store
        .lookup(
            ACME,
            &Lookup {
                identity_ids: vec!["dora".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.identities["dora"], last);
}

async fn get_requests_skips_duplicates_and_unknown_ids(store: &Store) {
    let a = simple_request("r-a", at(0));
    let b = simple_request("r-b", at(1));
    store
        .create_requests(ACME, &[a.clone(), b.clone()], &[])
        .await
        .unwrap();
    let wanted: Vec<String> = ["r-b", "nope", "r-a", "r-b", "r-a", "also-nope"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut found = store.get_requests(ACME, &wanted).await.unwrap();
    found.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(found, vec![a, b]);
    assert!(store
        .get_requests(ACME, &["nope".to_string()])
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .get_requests(GLOBEX, &wanted)
        .await
        .unwrap()
        .is_empty());
}

/// 150 identities, 80 catalog items and 20 claims (and as many absent keys).
async fn load_many(store: &Store) -> Lookup {
    let identities: Vec<IdentityRecord> =
        (0..150).map(|i| identity(&format!("id-{i:03}"))).collect();
    let catalog_items: Vec<CatalogItemRecord> = (0..80)
        .map(|i| catalog(ItemType::Entitlement, &format!("ent-{i:03}")))
        .collect();
    let requests: Vec<AccessRequestRecord> = (0..20)
        .map(|i| simple_request(&format!("r-{i:02}"), at(i)))
        .collect();
    store
        .load_tenant(
            ACME,
            TenantRecords {
                identities,
                catalog: catalog_items,
                non_employee_requests: Vec::new(),
                non_employee_sources: Vec::new(),
                access_requests: requests,
            },
        )
        .await
        .unwrap();
    Lookup {
        identity_ids: (0..150).map(|i| format!("id-{i:03}")).collect(),
        items: (0..80)
            .map(|i| (ItemType::Entitlement, format!("ent-{i:03}")))
            .collect(),
        pending: (0..20)
            .map(|i| pending_key("fred", &format!("ent-for-r-{i:02}")))
            .collect(),
        requests: Vec::new(),
    }
}

async fn lookup_of_many_keys(store: &Store) {
    let wanted = load_many(store).await;
    let found = store.lookup(ACME, &wanted).await.unwrap();
    assert_eq!(found.identities.len(), 150);
    assert_eq!(found.items.len(), 80);
    assert_eq!(found.pending.len(), 20);
    assert_eq!(found.identities["id-149"], identity("id-149"));
    assert_eq!(found.pending[&pending_key("fred", "ent-for-r-07")], "r-07");

    // Absent keys mixed in (more than 100 of them).
    let mut mixed = wanted.clone();
    mixed
        .identity_ids
        .extend((150..300).map(|i| format!("id-{i:03}")));
    mixed
        .pending
        .extend((20..40).map(|i| pending_key("fred", &format!("ent-for-r-{i:02}"))));
    let found = store.lookup(ACME, &mixed).await.unwrap();
    assert_eq!(found.identities.len(), 150);
    assert_eq!(found.pending.len(), 20);
}

async fn records_round_trip_exactly(store: &Store) {
    // Sub-millisecond times, optional fields set and unset, empty strings.
    let mut r = request(
        "r-full",
        "rita",
        "fred",
        at(0) + Duration::nanoseconds(123_456),
        vec![person("mona"), group("g", &["gina", "gus"])],
    );
    r.items[0].description = Some(String::new());
    r.items[0].start_date = Some(at(1));
    r.items[0].client_metadata = Some(BTreeMap::from([("k".to_string(), String::new())]));
    r.items[0].approvals[0].status = WorkItemState::Approved;
    r.items[0].approvals[0].reviewed_by = Some(named("mona"));
    r.items[0].approvals[0].modified = Some(at(5));
    r.items.push(RequestedItemRecord {
        account_activity_item_id: "second".into(),
        item_type: ItemType::Role,
        item_id: "role-1".into(),
        name: "Röle ✓".into(),
        description: None,
        comment: None,
        client_metadata: None,
        start_date: None,
        remove_date: None,
        approvals: Vec::new(),
        upcoming: Vec::new(),
        state: None,
        phases: None,
    });
    r.cancellation = Some(Box::new(shared::records::CancellationRecord {
        comment: "changed my mind".into(),
        owner: named("rita"),
        modified: at(9),
    }));
    r.warnings = vec!["w1".into(), "w2".into()];
    r.client_metadata = None;
    r.version = 1;
    store
        .create_requests(ACME, std::slice::from_ref(&r), &claims_of(&r))
        .await
        .unwrap();
    assert_eq!(one(store, ACME, "r-full").await.unwrap(), r);
    assert_eq!(
        owned(
            store
                .query_requests(ACME, &RequestIndex::Assignee("gus".into()))
                .await
                .unwrap()
        ),
        vec![r.clone()]
    );

    let mut e = event("e-full", at(0) + Duration::nanoseconds(1));
    e.actor = None;
    e.errored_ids = vec!["x".into()];
    e.attributes.clear();
    store.put_event(ACME, &e).await.unwrap();
    assert_eq!(store.list_events(ACME).await.unwrap(), vec![e]);
}

// ---------------------------------------------------------------- DynamoDB only

/// The number of calls each store method costs.
#[tokio::test]
async fn dynamo_round_trip_budgets() {
    let Some(endpoint) = dynamo_endpoint() else {
        return;
    };
    let counter = RequestCounter::default();
    let dynamo = fresh_table(&endpoint, Some(counter.clone())).await;
    let store = typed(dynamo.clone());
    let wanted = load_many(&store).await;
    assert!(
        counter.count("BatchWriteItem") >= 11,
        "{:?}",
        counter.by_operation()
    );

    // 250 keys: three BatchGetItem calls, nothing else.
    counter.reset();
    let found = store.lookup(ACME, &wanted).await.unwrap();
    assert_eq!(
        found.identities.len() + found.items.len() + found.pending.len(),
        250
    );
    assert_eq!(
        counter.by_operation(),
        BTreeMap::from([("BatchGetItem".to_string(), 3)])
    );
    assert_eq!(counter.total(), 3);

    // A small lookup is one call.
    counter.reset();
    store
        .lookup(
            ACME,
            &Lookup {
                identity_ids: vec!["id-001".into()],
                items: vec![(ItemType::Entitlement, "ent-001".into())],
                pending: vec![pending_key("fred", "ent-for-r-01")],
                requests: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        counter.by_operation(),
        BTreeMap::from([("BatchGetItem".to_string(), 1)])
    );

    // A submission of three requests (with assignments, approvals and their
    // list entries) and claims: one transaction.
    let requests = vec![
        request(
            "new-1",
            "rita",
            "fred",
            at(100),
            vec![person("mona"), group("g", &["gina", "gus"])],
        ),
        request("new-2", "rita", "sam", at(100), vec![person("mona")]),
        request("new-3", "rita", "alice", at(100), vec![]),
    ];
    let claims: Vec<PendingClaim> = requests.iter().flat_map(claims_of).collect();
    // 3 requests, 4 assignments, 3 approvals with 4 list entries, 3 claims,
    // and the counts of 7 identities (rita, fred, sam, alice, mona, gina,
    // gus) and of the requests' tenant counter items.
    let shards: std::collections::BTreeSet<u32> = requests
        .iter()
        .map(|r| shared::store::keys::count_shard(&r.id))
        .collect();
    assert_eq!(
        Store::submission_writes(&requests, &claims),
        3 + 4 + 3 + 4 + 3 + 7 + shards.len()
    );
    counter.reset();
    store
        .create_requests(ACME, &requests, &claims)
        .await
        .unwrap();
    assert_eq!(
        counter.by_operation(),
        BTreeMap::from([("TransactWriteItems".to_string(), 1)])
    );

    // A failed submission is one call too.
    counter.reset();
    assert!(is_conflict(
        &store.create_requests(ACME, &requests, &claims).await
    ));
    assert_eq!(
        counter.by_operation(),
        BTreeMap::from([("TransactWriteItems".to_string(), 1)])
    );

    // Updates: one PutItem, or one transaction with an event.
    let r = store
        .get_requests(ACME, &["new-1".into()])
        .await
        .unwrap()
        .pop()
        .unwrap();
    counter.reset();
    let r2 = next_version(&r, "a");
    store.update_request(ACME, &r2, None).await.unwrap();
    assert_eq!(
        counter.by_operation(),
        BTreeMap::from([("PutItem".to_string(), 1)])
    );
    counter.reset();
    store
        .update_request(ACME, &next_version(&r2, "b"), Some(&event("e", at(1))))
        .await
        .unwrap();
    assert_eq!(
        counter.by_operation(),
        BTreeMap::from([("TransactWriteItems".to_string(), 1)])
    );

    // Queries of one page: one Query (the assignee index adds one read of
    // the requests it names: a GetItem for one, a BatchGetItem for more).
    counter.reset();
    store
        .query_requests(ACME, &RequestIndex::Requester("rita".into()))
        .await
        .unwrap();
    assert_eq!(
        counter.by_operation(),
        BTreeMap::from([("Query".to_string(), 1)])
    );
    counter.reset();
    let gina = store
        .query_requests(ACME, &RequestIndex::Assignee("gina".into()))
        .await
        .unwrap();
    assert_eq!(ids(&gina), ["new-1"]);
    assert_eq!(
        counter.by_operation(),
        BTreeMap::from([("GetItem".to_string(), 1), ("Query".to_string(), 1)])
    );
    counter.reset();
    let mona = store
        .query_requests(ACME, &RequestIndex::Assignee("mona".into()))
        .await
        .unwrap();
    assert!(mona.len() > 2, "{:?}", ids(&mona));
    assert_eq!(
        counter.by_operation(),
        BTreeMap::from([("BatchGetItem".to_string(), 1), ("Query".to_string(), 1)])
    );

    // Reject: one GetItem, one transaction.
    load_non_employee(&store, ACME, vec![non_employee("ne", &["a", "b", "c"])]).await;
    counter.reset();
    let before = store
        .non_employee_request_of_item(ACME, "b")
        .await
        .unwrap()
        .unwrap();
    let mut ne = before.clone();
    ne.version += 1;
    store
        .update_non_employee_request(ACME, &before, &ne)
        .await
        .unwrap();
    assert_eq!(
        counter.by_operation(),
        BTreeMap::from([
            ("GetItem".to_string(), 1),
            ("TransactWriteItems".to_string(), 1)
        ])
    );

    // Warm-up: nothing is sent (it opens a connection: tests/warm_up.rs),
    // and it never fails loudly.
    counter.reset();
    dynamo.warm_up().await;
    assert_eq!(counter.by_operation(), BTreeMap::new());
    DynamoStore::new(dynamo.client().clone(), "no-such-table")
        .warm_up()
        .await;
}

/// Queries follow `LastEvaluatedKey`: with 1 MB pages (bulky records) and
/// with a small page limit.
#[tokio::test]
async fn dynamo_queries_follow_every_page() {
    let Some(endpoint) = dynamo_endpoint() else {
        return;
    };
    let counter = RequestCounter::default();
    let dynamo = fresh_table(&endpoint, Some(counter.clone())).await;
    let store = typed(dynamo.clone());
    let requests = bulky_requests(130);
    load_requests(&store, ACME, requests.clone()).await;
    let mut expected = requests.clone();
    expected.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));

    counter.reset();
    assert_eq!(
        owned(
            store
                .query_requests(ACME, &RequestIndex::Tenant)
                .await
                .unwrap()
        ),
        expected
    );
    let pages = counter.count("Query");
    eprintln!("1 MB pages: {pages} Query calls for 130 requests of ~9 KB");
    assert!(
        pages >= 2,
        "a > 1 MB result took {pages} page(s): the server does not page by size"
    );

    let small =
        typed(DynamoStore::new(dynamo.client().clone(), dynamo.table()).with_query_page_limit(7));
    for index in [
        RequestIndex::Tenant,
        RequestIndex::RequestedFor("fred".into()),
        RequestIndex::Assignee("mona".into()),
    ] {
        counter.reset();
        assert_eq!(
            owned(small.query_requests(ACME, &index).await.unwrap()),
            expected,
            "{index:?}"
        );
        assert!(
            counter.count("Query") >= 130 / 7,
            "{index:?}: {:?}",
            counter.by_operation()
        );
    }
    for i in 0..10 {
        small
            .put_event(ACME, &event(&format!("e-{i}"), at(10 - i)))
            .await
            .unwrap();
    }
    let events = small.list_events(ACME).await.unwrap();
    assert_eq!(events.len(), 10);
    assert_eq!(events[0].id, "e-9");
}

/// A submission of exactly `MAX_TRANSACTION_ITEMS` writes goes through; one
/// more is refused without writing anything.
#[tokio::test]
async fn dynamo_transaction_size_limit() {
    let Some(endpoint) = dynamo_endpoint() else {
        return;
    };
    let store = typed(fresh_table(&endpoint, None).await);
    // Requests, each with one assignee, one pending approval with its one
    // list entry, and one claim (five writes), the counts of rita, fred and
    // mona and of each shard they fall in; padded with claims to exactly
    // `extra` more.
    let make = |prefix: &str, extra: usize| {
        let fits = |n: usize| {
            let requests: Vec<AccessRequestRecord> = (0..n)
                .map(|i| simple_request(&format!("{prefix}-{i:02}"), at(i as i64)))
                .collect();
            let claims: Vec<PendingClaim> = requests
                .iter()
                .map(|r| claim("fred", &format!("{}-a", r.id), &r.id, None))
                .collect();
            (requests, claims)
        };
        let n = (1..)
            .take_while(|n| {
                let (r, c) = fits(*n);
                Store::submission_writes(&r, &c) <= MAX_TRANSACTION_ITEMS
            })
            .last()
            .unwrap();
        let (requests, mut claims) = fits(n);
        let room = MAX_TRANSACTION_ITEMS - Store::submission_writes(&requests, &claims);
        for i in 0..room + extra {
            claims.push(claim("fred", &format!("pad-{i}"), &requests[0].id, None));
        }
        (requests, claims)
    };
    let (requests, claims) = make("fits", 0);
    assert_eq!(
        Store::submission_writes(&requests, &claims),
        MAX_TRANSACTION_ITEMS
    );
    store
        .create_requests(ACME, &requests, &claims)
        .await
        .unwrap();
    assert_eq!(
        store
            .query_requests(ACME, &RequestIndex::Tenant)
            .await
            .unwrap()
            .len(),
        requests.len()
    );

    let (mut requests, claims) = make("over", 1);
    assert_eq!(
        Store::submission_writes(&requests, &claims),
        MAX_TRANSACTION_ITEMS + 1
    );
    let result = store.create_requests(ACME, &requests, &claims).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    requests.truncate(1);
    assert!(store
        .get_requests(ACME, &[requests[0].id.clone()])
        .await
        .unwrap()
        .is_empty());
}

/// Errors map to `StoreError` without panicking.
#[tokio::test]
async fn dynamo_errors_are_mapped() {
    let Some(endpoint) = dynamo_endpoint() else {
        return;
    };
    let client = local_client(&endpoint, None).await;
    let missing = typed(DynamoStore::new(client, "no-such-table"));
    let result = missing
        .lookup(
            ACME,
            &Lookup {
                identity_ids: vec!["a".into()],
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    let result = missing.query_requests(ACME, &RequestIndex::Tenant).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );

    // Nothing listening: unavailable, not a panic.
    let nowhere = DynamoStore::new(local_client("http://127.0.0.1:9", None).await, "t");
    let result = typed(nowhere.clone())
        .non_employee_request_of_item(ACME, "x")
        .await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    nowhere.warm_up().await;
}

/// An approval is found by its id with its request, listed for each
/// identity that may act on it while pending and for its reviewer once
/// decided (and in the tenant's list, from GSI3), and moves between the
/// lists in the transaction that changes its request.
async fn approvals_follow_their_request(store: &Store) {
    let r = request(
        "ap-1",
        "rita",
        "fred",
        at(0),
        vec![group("g", &["gina", "gus"])],
    );
    let id = r.items[0].approvals[0].approval_id.clone();
    store
        .create_requests(ACME, std::slice::from_ref(&r), &[])
        .await
        .unwrap();
    let ids = |listed: Vec<shared::store::ListedApproval>| -> Vec<(bool, String)> {
        listed
            .into_iter()
            .map(|l| (l.pending, l.entry.approval().unwrap().approval_id.clone()))
            .collect()
    };
    let list = |owner: Option<&'static str>, which| async move {
        ids(store.list_approvals(ACME, owner, which).await.unwrap())
    };

    let read = store
        .read_approval(ACME, &id, &["gina".into()])
        .await
        .unwrap();
    assert_eq!(read.approval.as_ref().map(|a| a.request.as_ref()), Some(&r));
    for member in ["gina", "gus"] {
        assert_eq!(
            list(Some(member), ApprovalList::Pending).await,
            vec![(true, id.clone())]
        );
        assert!(list(Some(member), ApprovalList::Decided).await.is_empty());
    }
    assert!(list(Some("mona"), ApprovalList::All).await.is_empty());
    assert_eq!(
        list(None, ApprovalList::Pending).await,
        vec![(true, id.clone())]
    );

    // Gina approves: gone from both members' pending lists, decided in hers.
    let mut after = r.clone();
    after.version += 1;
    let step = &mut after.items[0].approvals[0];
    step.status = WorkItemState::Approved;
    step.reviewed_by = Some(named("gina"));
    step.modified = Some(at(5));
    store
        .transition_request(ACME, &r, &after, &[])
        .await
        .unwrap();
    for member in ["gina", "gus"] {
        assert!(list(Some(member), ApprovalList::Pending).await.is_empty());
    }
    assert_eq!(
        list(Some("gina"), ApprovalList::All).await,
        vec![(false, id.clone())]
    );
    assert!(list(Some("gus"), ApprovalList::All).await.is_empty());
    assert_eq!(
        list(None, ApprovalList::All).await,
        vec![(false, id.clone())]
    );
    let read = store.read_approval(ACME, &id, &[]).await.unwrap();
    assert_eq!(
        read.approval
            .map(|a| AccessRequestRecord::clone(&a.request)),
        Some(after.clone())
    );

    // The same change again conflicts and writes nothing.
    assert!(is_conflict(
        &store.transition_request(ACME, &r, &after, &[]).await
    ));
    assert_eq!(
        list(Some("gina"), ApprovalList::All).await,
        vec![(false, id.clone())]
    );
    // Another tenant sees none of it.
    assert!(store
        .read_approval(GLOBEX, &id, &[])
        .await
        .unwrap()
        .approval
        .is_none());
    assert!(store
        .list_approvals(GLOBEX, Some("gina"), ApprovalList::All)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .list_approvals(GLOBEX, None, ApprovalList::All)
        .await
        .unwrap()
        .is_empty());
}
