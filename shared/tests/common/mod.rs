//! Shared fixtures of the integration tests: the demo seed's ids, principals,
//! and the stores every rule is checked on — the in-process store always,
//! DynamoDB when `DYNAMODB_TEST_ENDPOINT` names a DynamoDB-compatible server
//! (required when `REQUIRE_DYNAMODB=1`, as the test command sets it).
#![allow(dead_code)]

pub mod hooked;

use std::sync::Arc;

use shared::auth::Principal;
use shared::domain::access_requests::status;
use shared::domain::access_requests::submit::submit;
use shared::error::ApiError;
use shared::models::{AccessRequest, RequestedItemStatus};
use shared::records::{AccessRequestRecord, NonEmployeeRequestRecord};
use shared::seed::{SeedFile, DEMO_SEED};
use shared::store::{DynamoStore, Store, TenantRecords};

pub const ACME: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
pub const GLOBEX: &str = "9b2c1f0e-0d4e-4f7a-8e51-0c7d2f1a9e11";

pub const ADMIN: &str = "2c9180835d191a86015d28455b4a0001";
pub const MANAGER: &str = "2c9180835d191a86015d28455b4a0002";
pub const EMPLOYEE: &str = "2c9180835d191a86015d28455b4a0003";
pub const ENGINEER: &str = "2c9180835d191a86015d28455b4a0004";
pub const OUTSIDER: &str = "2c9180835d191a86015d28455b4a0005";
pub const SOURCE_ADMIN: &str = "2c9180835d191a86015d28455b4a0006";
pub const FINANCE_GROUP: &str = "2c9180835d191a86015d28455b4a0f01";
pub const GLOBEX_ADMIN: &str = "8a8a8a8a5d191a86015d28455b4a0001";

/// Engineering Access: MANAGER + ACCESS_PROFILE_OWNER (Sam Source).
pub const AP_ENGINEERING: &str = "2c9180835d2e5168015d32f890ca1581";
/// Wiki Reader: no approval steps.
pub const AP_WIKI: &str = "2c9180835d2e5168015d32f890ca1582";
/// Break Glass: not requestable.
pub const AP_BREAK_GLASS: &str = "2c9180835d2e5168015d32f890ca1583";
/// Finance Analyst: MANAGER + GOVERNANCE_GROUP (Finance Approvers).
pub const ROLE_FINANCE: &str = "2c918086771c86df0177401efcdf0001";
/// Auditor: ROLE_OWNER (Ada Admin).
pub const ROLE_AUDITOR: &str = "2c918086771c86df0177401efcdf0002";
pub const ENT_GITHUB: &str = "779c6fd7171540bba1184e5946110001";
pub const ENT_JIRA: &str = "779c6fd7171540bba1184e5946110002";
pub const GLOBEX_ROLE: &str = "8a8a8a8a771c86df0177401efcdf0001";

/// Non-employee approval items of the demo seed.
pub const NE_ITEM_MANAGER_PENDING: &str = "2c1e388b-1e55-4b0a-ab5c-897f12040001";
pub const NE_ITEM_GROUP_NOT_READY: &str = "2c1e388b-1e55-4b0a-ab5c-897f12040002";
pub const NE_ITEM_GROUP_PENDING: &str = "2c1e388b-1e55-4b0a-ab5c-897f12040003";
pub const NE_ITEM_APPROVED: &str = "2c1e388b-1e55-4b0a-ab5c-897f12040004";

pub fn principal(tenant: &str, identity: Option<&str>, authorities: &[&str]) -> Principal {
    Principal {
        tenant_id: tenant.to_string(),
        identity_id: identity.map(str::to_string),
        user_name: identity.map(|i| format!("user-{}", &i[i.len() - 4..])),
        client_id: Some("test-client".into()),
        authorities: authorities.iter().map(|a| a.to_string()).collect(),
        scopes: Some(vec![shared::scopes::ALL.to_string()]),
    }
}

pub fn admin() -> Principal {
    principal(ACME, Some(ADMIN), &["ORG_ADMIN"])
}
pub fn manager() -> Principal {
    principal(ACME, Some(MANAGER), &["USER"])
}
pub fn employee() -> Principal {
    principal(ACME, Some(EMPLOYEE), &["USER"])
}
pub fn engineer() -> Principal {
    principal(ACME, Some(ENGINEER), &["USER"])
}
pub fn outsider() -> Principal {
    principal(ACME, Some(OUTSIDER), &["USER"])
}
pub fn api_client() -> Principal {
    principal(ACME, None, &["API"])
}

/// The DynamoDB endpoint of this test run, if any.
pub fn dynamo_endpoint() -> Option<String> {
    match std::env::var("DYNAMODB_TEST_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
    {
        Some(e) => Some(e),
        None => {
            assert!(
                std::env::var("REQUIRE_DYNAMODB").as_deref() != Ok("1"),
                "REQUIRE_DYNAMODB=1 but DYNAMODB_TEST_ENDPOINT is not set"
            );
            eprintln!(
                "note: DYNAMODB_TEST_ENDPOINT is not set; checking the in-process store only"
            );
            None
        }
    }
}

/// A fresh DynamoDB store on its own table.
pub async fn fresh_dynamo(endpoint: &str) -> DynamoStore {
    let client = shared::store::testing::local_client(endpoint, None).await;
    let table = format!("test-{}", uuid::Uuid::new_v4().simple());
    shared::store::dynamo::create_table(&client, &table)
        .await
        .expect("create table");
    DynamoStore::new(client, table)
}

/// Every store under test, each fresh and loaded with `seed`.
pub async fn stores_with(seed: &str) -> Vec<(&'static str, Store)> {
    let seed = SeedFile::from_json(seed).expect("seed parses");
    let mut stores: Vec<(&'static str, Store)> = vec![("memory", Store::memory())];
    if let Some(endpoint) = dynamo_endpoint() {
        stores.push((
            "dynamodb",
            Store::new(Arc::new(fresh_dynamo(&endpoint).await)),
        ));
    }
    for (_, store) in &stores {
        seed.load_into(store).await.expect("seed loads");
    }
    stores
}

/// The demo seed without the access requests it ships for acme (Nina's
/// requests at every kind of approval step): the rule tests start from
/// acme's directory and catalog with no request in the tenant, so that
/// what they list and count is what they submitted.
pub fn rules_seed() -> String {
    let mut seed: serde_json::Value = serde_json::from_str(DEMO_SEED).unwrap();
    for tenant in seed["tenants"].as_array_mut().unwrap() {
        if tenant["tenantId"] == ACME {
            tenant.as_object_mut().unwrap().remove("accessRequests");
        }
    }
    seed.to_string()
}

/// Every store under test, loaded with [`rules_seed`].
pub async fn stores() -> Vec<(&'static str, Store)> {
    stores_with(&rules_seed()).await
}

/// A seed with `n` identities managed by MANAGER and `n` requestable
/// entitlements approved by the manager, for limit tests (tenant ACME).
pub fn large_seed(n: usize) -> String {
    let mut seed: serde_json::Value = serde_json::from_str(&rules_seed()).unwrap();
    let acme = &mut seed["tenants"][0];
    for i in 0..n {
        acme["identities"].as_array_mut().unwrap().push(serde_json::json!({
            "id": format!("bulk-identity-{i:03}"), "name": format!("Bulk Identity {i}"), "managerId": MANAGER
        }));
        acme["catalog"].as_array_mut().unwrap().push(serde_json::json!({
            "type": "ENTITLEMENT", "id": format!("bulk-entitlement-{i:03}"), "name": format!("Bulk Entitlement {i}"),
            "requestable": true, "ownerId": SOURCE_ADMIN, "approvalSchemes": [{"scheme": "MANAGER"}]
        }));
        acme["catalog"].as_array_mut().unwrap().push(serde_json::json!({
            "type": "ACCESS_PROFILE", "id": format!("bulk-profile-{i:03}"), "name": format!("Bulk Profile {i}"),
            "requestable": true, "ownerId": SOURCE_ADMIN, "approvalSchemes": []
        }));
    }
    seed.to_string()
}

pub fn bulk_identity(i: usize) -> String {
    format!("bulk-identity-{i:03}")
}
pub fn bulk_entitlement(i: usize) -> String {
    format!("bulk-entitlement-{i:03}")
}
pub fn bulk_profile(i: usize) -> String {
    format!("bulk-profile-{i:03}")
}

/// Loads access requests into `tenant` (seeding: no conditions, claims for
/// those that execute).
pub async fn load_requests(store: &Store, tenant: &str, requests: Vec<AccessRequestRecord>) {
    store
        .load_tenant(
            tenant,
            TenantRecords {
                access_requests: requests,
                ..Default::default()
            },
        )
        .await
        .expect("requests load");
}

/// Loads non-employee requests into `tenant`.
pub async fn load_non_employee(
    store: &Store,
    tenant: &str,
    requests: Vec<NonEmployeeRequestRecord>,
) {
    store
        .load_tenant(
            tenant,
            TenantRecords {
                non_employee_requests: requests,
                ..Default::default()
            },
        )
        .await
        .expect("non-employee requests load");
}

/// The causes of a 400 (panics on any other answer).
pub fn causes(e: ApiError) -> Vec<String> {
    match e {
        ApiError::BadRequest(c) => c,
        other => panic!("expected 400, got {other:?}"),
    }
}

/// Submits `item_type`/`item` for `target` as `by` (with a comment); the new
/// request's id.
pub async fn submit_one(
    store: &Store,
    by: &Principal,
    target: &str,
    item_type: &str,
    item: &str,
) -> String {
    let body: AccessRequest = serde_json::from_value(serde_json::json!({
        "requestedFor": [target],
        "requestedItems": [{"type": item_type, "id": item, "comment": "please"}]
    }))
    .unwrap();
    submit(
        &shared::plan::Runner::new(store),
        by,
        body,
        chrono::Utc::now(),
    )
    .await
    .expect("submit")
    .new_requests[0]
        .access_request_ids[0]
        .clone()
}

/// Eve's request for Engineering Access for herself (MANAGER and
/// ACCESS_PROFILE_OWNER steps).
pub async fn eves_request(store: &Store) -> String {
    submit_one(
        store,
        &employee(),
        EMPLOYEE,
        "ACCESS_PROFILE",
        AP_ENGINEERING,
    )
    .await
}

/// The stored request `id` (which must exist).
pub async fn stored(store: &Store, tenant: &str, id: &str) -> AccessRequestRecord {
    store
        .get_requests(tenant, &[id.to_string()])
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("request {id} is stored"))
}

/// The status entries of request `id`, as an admin sees them.
pub async fn status_of(store: &Store, id: &str) -> Vec<RequestedItemStatus> {
    let q = status::parse_query(
        &[(
            "filters".to_string(),
            vec![format!("accessRequestId eq \"{id}\"")],
        )]
        .into_iter()
        .collect(),
    )
    .unwrap();
    status::list(store, &admin(), &q).await.unwrap().items
}

/// The id of the pending approval step of request `id`'s first item.
pub async fn pending_approval_of(store: &Store, tenant: &str, id: &str) -> String {
    stored(store, tenant, id).await.items[0]
        .pending_approval()
        .unwrap_or_else(|| panic!("request {id} has a pending step"))
        .approval_id
        .clone()
}

/// Approves the pending step of request `id`'s first item as `who`
/// (with a comment); the approval's id.
pub async fn approve_pending(store: &Store, who: &Principal, id: &str) -> String {
    let approval = pending_approval_of(store, &who.tenant_id, id).await;
    shared::domain::approvals::decide::approve(
        &shared::plan::Runner::new(store),
        who,
        &approval,
        &shared::models::CommentBody {
            comment: Some("ok".into()),
        },
        chrono::Utc::now(),
    )
    .await
    .unwrap_or_else(|e| panic!("approving {approval}: {e:?}"));
    approval
}

/// The identities of `tenant` in the demo seed.
pub fn seed_identities(tenant: &str) -> Vec<String> {
    let seed: serde_json::Value = serde_json::from_str(DEMO_SEED).unwrap();
    seed["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["tenantId"] == tenant)
        .flat_map(|t| t["identities"].as_array().unwrap().iter())
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// Checks that the counts kept beside the lists say what the lists hold,
/// for the tenant and for each of its demo-seed identities and `more`:
/// every list read whole (as no API call reads it) and counted.
pub async fn assert_counts_agree(store: &Store, tenant: &str, more: &[String]) {
    use shared::models::{ApprovalStatus, RequestState, WorkItemState};
    use shared::store::counts::{self, CountScope};
    use shared::store::{ApprovalList, RequestIndex};

    let mut identities = seed_identities(tenant);
    identities.extend(more.iter().cloned());
    identities.sort();
    identities.dedup();
    let mut scopes = vec![CountScope::Tenant];
    scopes.extend(identities.iter().cloned().map(CountScope::Identity));
    let read = store.read_counts(tenant, &scopes).await.unwrap();

    // Status rows, and those still executing.
    let rows = |records: &[std::sync::Arc<AccessRequestRecord>]| -> (i64, i64) {
        let all = records.iter().map(|r| r.items.len() as i64).sum();
        let executing = records
            .iter()
            .flat_map(|r| r.items.iter().map(move |i| r.item_state(i)))
            .filter(|s| *s == RequestState::Executing)
            .count() as i64;
        (all, executing)
    };
    let approvals = |listed: &[shared::store::ListedApproval]| -> [i64; 3] {
        let mut n = [0; 3];
        for l in listed {
            let status = l.entry.approval().map(|a| a.status);
            match (l.pending, status) {
                (true, _) => n[0] += 1,
                (false, Some(WorkItemState::Approved)) => n[1] += 1,
                (false, Some(WorkItemState::Rejected)) => n[2] += 1,
                _ => {}
            }
        }
        n
    };
    let kept = |id: Option<&str>, name: &str| match id {
        Some(id) => read.identity(tenant, id, name),
        None => read.tenant(tenant, name),
    };
    let check_status = |id: Option<&str>, name: &str, (all, executing): (i64, i64)| {
        assert_eq!(kept(id, name), all, "{tenant} {id:?}: count {name}");
        let name = counts::executing(name);
        assert_eq!(kept(id, &name), executing, "{tenant} {id:?}: count {name}");
    };
    let check_approvals = |id: Option<&str>, n: [i64; 3]| {
        for (name, n) in [
            counts::APPROVALS_PENDING,
            counts::APPROVALS_APPROVED,
            counts::APPROVALS_REJECTED,
        ]
        .into_iter()
        .zip(n)
        {
            assert_eq!(kept(id, name), n, "{tenant} {id:?}: count {name}");
        }
    };

    let tenant_requests = store
        .query_requests(tenant, &RequestIndex::Tenant)
        .await
        .unwrap();
    check_status(None, counts::ITEMS, rows(&tenant_requests));
    let listed = store
        .list_approvals(tenant, None, ApprovalList::All)
        .await
        .unwrap();
    check_approvals(None, approvals(&listed));

    for id in &identities {
        let by = store
            .query_requests(tenant, &RequestIndex::Requester(id.clone()))
            .await
            .unwrap();
        let for_ = store
            .query_requests(tenant, &RequestIndex::RequestedFor(id.clone()))
            .await
            .unwrap();
        let own: Vec<_> = by
            .iter()
            .filter(|r| &r.requested_for.id == id)
            .cloned()
            .collect();
        check_status(Some(id), counts::REQUESTED, rows(&by));
        check_status(Some(id), counts::FOR, rows(&for_));
        check_status(Some(id), counts::SELF, rows(&own));
        // `assigned-to` lists the requested items with a reached step the
        // identity owns or owned.
        let assigned: Vec<_> = store
            .query_requests(tenant, &RequestIndex::Assignee(id.clone()))
            .await
            .unwrap();
        let assigned_rows = assigned
            .iter()
            .flat_map(|r| r.items.iter().map(move |i| (r, i)))
            .filter(|(_, i)| i.approvals.iter().any(|a| a.involves(id)));
        assert_eq!(
            read.identity(tenant, id, counts::ASSIGNED),
            assigned_rows.count() as i64,
            "{tenant} {id}: count {}",
            counts::ASSIGNED
        );
        let listed = store
            .list_approvals(tenant, Some(id), ApprovalList::All)
            .await
            .unwrap();
        check_approvals(Some(id), approvals(&listed));
        // Each decided entry is also indexed by when it was decided.
        let decided = |prefix: &str| {
            use shared::store::item::{Index, Query};
            let list = shared::store::keys::approvals_of(tenant, id);
            let query = match prefix {
                shared::store::keys::DECISIONS => Query::index(Index::Gsi1, list),
                _ => Query::table(list),
            }
            .with_prefix(prefix);
            async move {
                let mut ids: Vec<String> = store
                    .backend()
                    .query(&query)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|i| i.key.sk.rsplit('#').next().unwrap().to_string())
                    .collect();
                ids.sort();
                ids
            }
        };
        assert_eq!(
            decided(shared::store::keys::DECIDED_APPROVALS).await,
            decided(shared::store::keys::DECISIONS).await,
            "{tenant} {id}: decided entries by reached and by decided time"
        );
        for status in ApprovalStatus::ALL {
            let requests = store
                .non_employee_request_list(tenant, id)
                .await
                .unwrap()
                .iter()
                .filter(|r| r.approval_status == status)
                .count() as i64;
            let name = counts::non_employee_requests(status);
            assert_eq!(
                read.identity(tenant, id, &name),
                requests,
                "{tenant} {id}: {name}"
            );
            let items = store
                .non_employee_approval_list(tenant, id)
                .await
                .unwrap()
                .iter()
                .filter(|v| v.item.approval_status == status)
                .count() as i64;
            let name = counts::non_employee_approvals(status);
            assert_eq!(
                read.identity(tenant, id, &name),
                items,
                "{tenant} {id}: {name}"
            );
        }
    }
}
