//! Non-employee requests and approvals (SPEC §11): every rule of create,
//! approve, delete and the reads, each checked on every store (the
//! in-process one, and DynamoDB when the test command provides it), the
//! races among them, and decisions whose answer was lost.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use common::hooked::{Call, Hooked, Hooks};
use common::*;
use serde_json::{json, Value};
use shared::auth::Principal;
use shared::domain::non_employee::{approvals, approve, create, delete, reject, requests};
use shared::error::ApiError;
use shared::models::{
    ApprovalItemRequest, ApprovalStatus, NonEmployeeApprovalDecision, NonEmployeeApprovalSummary,
    NonEmployeeRejectApprovalDecision, NonEmployeeRequest, NonEmployeeRequestSummary, OwnerType,
};
use shared::seed::DEMO_SEED;
use shared::store::{Store, StoreError};

/// The demo seed's sources: Contractors (account managers Maria and Eve;
/// approvers Maria, then the Finance Approvers group of Maria and Sam),
/// Finance Temps (Maria; the group) and Lab Visitors (Eve; Sam).
const CONTRACTORS: &str = "a0303682-5e4a-44f7-bdc2-6ce611250001";
const FINANCE_TEMPS: &str = "a0303682-5e4a-44f7-bdc2-6ce611250002";
const LAB_VISITORS: &str = "a0303682-5e4a-44f7-bdc2-6ce611250003";
/// The demo seed's requests: contractor.one (Contractors, pending at
/// Maria), contractor.two (Finance Temps, pending at the group),
/// contractor.three (Lab Visitors, approved by Sam).
const REQUEST_ONE: &str = "ac110005-7156-1150-8171-5b292e3e0001";
const REQUEST_TWO: &str = "ac110005-7156-1150-8171-5b292e3e0002";
const REQUEST_THREE: &str = "ac110005-7156-1150-8171-5b292e3e0003";

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn sam() -> Principal {
    principal(ACME, Some(SOURCE_ADMIN), &["SOURCE_ADMIN"])
}

/// A valid body for `source`, with `changes` applied (`null` removes a field).
fn body(account: &str, source: &str, changes: Value) -> Value {
    let mut b = json!({
        "accountName": account,
        "firstName": "Dana",
        "lastName": "Scully",
        "email": "dana.scully@example.com",
        "phone": "5125550142",
        "manager": MANAGER,
        "sourceId": source,
        "data": {"project": "X"},
        "startDate": "2026-12-14T00:00:00Z",
        "endDate": "2027-06-30T00:00:00Z"
    });
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            b.as_object_mut().unwrap().remove(k);
        } else {
            b[k] = v.clone();
        }
    }
    b
}

/// Eve (an account manager of Contractors) sponsors `account` there.
async fn sponsor(store: &Store, account: &str) -> NonEmployeeRequest {
    create::create(
        &shared::plan::Runner::new(store),
        &employee(),
        &body(account, CONTRACTORS, json!({})),
        now(),
    )
    .await
    .unwrap_or_else(|e| panic!("creating {account}: {e:?}"))
    .into_answer()
}

fn approval(comment: Option<&str>) -> NonEmployeeApprovalDecision {
    NonEmployeeApprovalDecision {
        comment: comment.map(str::to_string),
    }
}

fn rejection(comment: &str) -> NonEmployeeRejectApprovalDecision {
    NonEmployeeRejectApprovalDecision {
        comment: comment.to_string(),
    }
}

async fn read(store: &Store, who: &Principal, id: &str) -> Result<NonEmployeeRequest, ApiError> {
    requests::get(store, who, id).await
}

fn statuses(r: &NonEmployeeRequest) -> Vec<ApprovalStatus> {
    r.approval_items.iter().map(|i| i.approval_status).collect()
}

fn params(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut map = std::collections::BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k.to_string())
            .or_insert_with(Vec::new)
            .push(v.to_string());
    }
    map
}

/// The account names of `who`'s requests list under these parameters.
async fn request_names(store: &Store, who: &Principal, pairs: &[(&str, &str)]) -> Vec<String> {
    let q = requests::parse_list(&params(pairs)).unwrap();
    requests::list(store, who, &q)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.account_name)
        .collect()
}

/// `(item id, status)` of `who`'s approvals list under these parameters.
async fn approval_ids(
    store: &Store,
    who: &Principal,
    pairs: &[(&str, &str)],
) -> Vec<(String, ApprovalStatus)> {
    let q = approvals::parse_list(&params(pairs)).unwrap();
    approvals::list(store, who, &q)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| (i.id, i.approval_status))
        .collect()
}

fn is_forbidden<T: std::fmt::Debug>(r: &Result<T, ApiError>) -> bool {
    matches!(r, Err(ApiError::Forbidden(_)))
}

fn is_not_found<T: std::fmt::Debug>(r: &Result<T, ApiError>) -> bool {
    matches!(r, Err(ApiError::NotFound(_)))
}

fn conflict_causes<T: std::fmt::Debug>(r: Result<T, ApiError>) -> Vec<String> {
    match r {
        Err(ApiError::Conflict(c)) => c,
        other => panic!("expected 400.1.409, got {other:?}"),
    }
}

// ------------------------------------------------------------------ create

#[tokio::test]
async fn create_names_every_missing_field_once() {
    for (name, store) in stores().await {
        let e = create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &json!({}),
            now(),
        )
        .await
        .unwrap_err();
        assert_eq!(
            causes(e),
            [
                "accountName",
                "firstName",
                "lastName",
                "email",
                "phone",
                "manager",
                "sourceId",
                "startDate",
                "endDate"
            ]
            .map(|f| format!("{f} is required")),
            "{name}"
        );
        // The fragment's own example: both missing, one cause each.
        let e = create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &body(
                "x",
                CONTRACTORS,
                json!({"firstName": null, "accountName": null}),
            ),
            now(),
        )
        .await
        .unwrap_err();
        assert_eq!(
            causes(e),
            ["accountName is required", "firstName is required"],
            "{name}"
        );
        // Blank, null and the wrong type.
        let e = create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &body(
                " ",
                CONTRACTORS,
                json!({"lastName": null, "phone": 5125550142_u64, "manager": ["m"], "endDate": 7}),
            ),
            now(),
        )
        .await
        .unwrap_err();
        let c = causes(e);
        assert_eq!(c.len(), 5, "{name}: {c:?}");
        assert_eq!(c[0], "accountName is required");
        assert_eq!(c[1], "lastName is required");
        assert!(c[2].starts_with("phone must be a string"), "{c:?}");
        assert!(c[3].starts_with("manager must be a string"), "{c:?}");
        assert!(
            c[4].starts_with("endDate must be a date-time string"),
            "{c:?}"
        );
        // Not an object at all.
        let e = create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &json!(["x"]),
            now(),
        )
        .await
        .unwrap_err();
        assert!(causes(e)[0].contains("JSON object"), "{name}");
        assert!(store
            .non_employee_request_list(ACME, EMPLOYEE)
            .await
            .unwrap()
            .iter()
            .all(|r| r.account_name != "x"));
    }
}

#[tokio::test]
async fn create_checks_the_email_the_dates_and_the_data() {
    for (name, store) in stores().await {
        let refused = [
            (json!({"email": "dana.example.com"}), "email \"dana.example.com\" is not an email address"),
            (json!({"email": "dana@example"}), "email \"dana@example\" is not an email address"),
            (json!({"email": "da na@example.com"}), "is not an email address"),
            (
                json!({"startDate": "2027-06-30T00:00:00Z", "endDate": "2026-12-14T00:00:00Z"}),
                "startDate (2027-06-30T00:00:00.000Z) must be before endDate (2026-12-14T00:00:00.000Z)",
            ),
            (
                json!({"startDate": "2027-01-01T05:00:00Z", "endDate": "2027-01-01T00:00:00-05:00"}),
                "must be before endDate",
            ),
            (json!({"startDate": "soon"}), "startDate \"soon\" is not a date-time"),
            (json!({"endDate": "2027-02-30"}), "endDate \"2027-02-30\" is not a date-time"),
            (
                json!({"data": (0..11).map(|i| (format!("k{i}"), json!("v"))).collect::<serde_json::Map<_, _>>()}),
                "data has 11 entries; at most 10 custom attributes are allowed",
            ),
            (json!({"data": {"n": 1}}), "data.n must be a string; got a number"),
            (json!({"data": "x"}), "data must be an object of string values; got a string"),
            (
                json!({"firstName": "x".repeat(256)}),
                "firstName is 256 characters long; at most 255 are allowed",
            ),
        ];
        for (changes, cause) in refused {
            let e = create::create(
                &shared::plan::Runner::new(&store),
                &employee(),
                &body("dana.scully", CONTRACTORS, changes.clone()),
                now(),
            )
            .await
            .unwrap_err();
            let c = causes(e);
            assert_eq!(c.len(), 1, "{name}: {changes}: {c:?}");
            assert!(c[0].contains(cause), "{name}: {changes}: {c:?}");
        }
        // Every problem at once: one cause each.
        let e = create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &body(
                "dana.scully",
                CONTRACTORS,
                json!({"email": "nope", "startDate": "2028-01-01", "endDate": "2027-01-01", "data": {"n": 1}}),
            ),
            now(),
        )
        .await
        .unwrap_err();
        assert_eq!(causes(e).len(), 3, "{name}");

        // ISO 8601 as clients write it: with an offset (kept), without one
        // (UTC), a date alone; 10 custom attributes are fine.
        let r = create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &body(
                "dana.scully",
                CONTRACTORS,
                json!({
                    "startDate": "2026-12-14T08:30:00-05:00",
                    "endDate": "2027-06-30",
                    "data": (0..10).map(|i| (format!("k{i}"), json!("v"))).collect::<serde_json::Map<_, _>>()
                }),
            ),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["startDate"], "2026-12-14T08:30:00.000-05:00", "{name}");
        assert_eq!(v["endDate"], "2027-06-30T00:00:00.000Z", "{name}");
        assert_eq!(r.data.len(), 10);
        let naive = create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &body(
                "fox.mulder",
                CONTRACTORS,
                json!({"startDate": "2026-12-14T09:00:00", "endDate": "2026-12-15T09:00:00.250"}),
            ),
            now(),
        )
        .await
        .unwrap();
        let v = serde_json::to_value(&naive).unwrap();
        assert_eq!(v["startDate"], "2026-12-14T09:00:00.000Z");
        assert_eq!(v["endDate"], "2026-12-15T09:00:00.250Z");
    }
}

#[tokio::test]
async fn create_needs_a_source_and_a_manager_of_the_tenant() {
    for (name, store) in stores().await {
        let e = create::create(
            &shared::plan::Runner::new(&store),
            &admin(),
            &body(
                "x",
                "no-such-source",
                json!({"manager": "no-such-identity"}),
            ),
            now(),
        )
        .await
        .unwrap_err();
        assert_eq!(
            causes(e),
            [
                "sourceId no-such-source is not a non-employee source of the tenant",
                "manager no-such-identity is not an identity of the tenant"
            ],
            "{name}"
        );
        // Another tenant's source and identity are as unknown.
        let globex_admin = principal(GLOBEX, Some(GLOBEX_ADMIN), &["ORG_ADMIN"]);
        let e = create::create(
            &shared::plan::Runner::new(&store),
            &globex_admin,
            &body("x", CONTRACTORS, json!({})),
            now(),
        )
        .await
        .unwrap_err();
        assert_eq!(causes(e).len(), 2, "{name}");
    }
}

#[tokio::test]
async fn only_org_admin_or_an_account_manager_of_the_source_may_create() {
    for (name, store) in stores().await {
        // Account managers on their sources, ORG_ADMIN anywhere.
        for (who, source, account) in [
            (employee(), CONTRACTORS, "by.eve"),
            (manager(), CONTRACTORS, "by.maria"),
            (employee(), LAB_VISITORS, "by.eve.lab"),
            (admin(), FINANCE_TEMPS, "by.ada"),
        ] {
            create::create(
                &shared::plan::Runner::new(&store),
                &who,
                &body(account, source, json!({})),
                now(),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {account}: {e:?}"));
        }
        for (label, who, source) in [
            (
                "an account manager of another source",
                employee(),
                FINANCE_TEMPS,
            ),
            ("an approver who manages no source", sam(), CONTRACTORS),
            ("an outsider", outsider(), CONTRACTORS),
            (
                "an ORG_ADMIN token without a user",
                principal(ACME, None, &["ORG_ADMIN"]),
                CONTRACTORS,
            ),
            ("an API token", api_client(), CONTRACTORS),
        ] {
            let r = create::create(
                &shared::plan::Runner::new(&store),
                &who,
                &body("refused", source, json!({})),
                now(),
            )
            .await;
            assert!(is_forbidden(&r), "{name}: {label}: {r:?}");
        }
        assert_eq!(
            store
                .non_employee_request_list(ACME, ADMIN)
                .await
                .unwrap()
                .len(),
            1,
            "{name}: only Ada's own request lists for her"
        );
    }
}

#[tokio::test]
async fn create_stores_the_request_and_its_items_in_order() {
    for (name, store) in stores().await {
        let at = now();
        let r = create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &body("dana.scully", CONTRACTORS, json!({})),
            at,
        )
        .await
        .unwrap();
        assert_eq!(r.approval_status, ApprovalStatus::Pending, "{name}");
        assert_eq!(
            statuses(&r),
            [ApprovalStatus::Pending, ApprovalStatus::NotReady]
        );
        assert_eq!(r.approval_items[0].approver.id, MANAGER);
        assert_eq!(
            r.approval_items[1].approver.ref_type,
            OwnerType::GovernanceGroup
        );
        assert_eq!(r.approval_items[1].approver.id, FINANCE_GROUP);
        assert_eq!(
            r.approval_items
                .iter()
                .map(|i| i.approval_order)
                .collect::<Vec<_>>(),
            [1.0, 2.0]
        );
        assert_eq!((r.created, r.modified), (at, at));
        assert_eq!(r.completion_date, None);
        assert_eq!(r.non_employee_source.id, CONTRACTORS);
        assert_eq!(r.source_id, CONTRACTORS);
        assert_eq!(r.name, "Contractors");
        // What create answered is what is stored.
        assert_eq!(
            read(&store, &employee(), &r.id).await.unwrap(),
            *r,
            "{name}"
        );
        let detail = approvals::get(&store, &manager(), &r.approval_items[0].id, true)
            .await
            .unwrap();
        let ApprovalItemRequest::Detail(d) = detail.non_employee_request else {
            panic!("no detail")
        };
        assert_eq!(d.requester.id, EMPLOYEE);
        assert_eq!(d.requester.name, "Eve Employee");
        assert_eq!(d.start_date.to_string(), "2026-12-14");
        // The approver's list has it pending; the group's members not ready.
        let first = (r.approval_items[0].id.clone(), ApprovalStatus::Pending);
        let second = (r.approval_items[1].id.clone(), ApprovalStatus::NotReady);
        assert!(approval_ids(&store, &manager(), &[]).await.contains(&first));
        assert!(approval_ids(&store, &manager(), &[])
            .await
            .contains(&second));
        assert_eq!(
            approval_ids(&store, &sam(), &[]).await.first(),
            Some(&second),
            "{name}: newest first"
        );
        // Sponsor and account managers list it.
        for who in [employee(), manager()] {
            assert!(request_names(&store, &who, &[("requested-for", "me")])
                .await
                .contains(&"dana.scully".to_string()));
        }
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test]
async fn a_source_without_approvers_approves_at_once() {
    let mut seed: Value = serde_json::from_str(DEMO_SEED).unwrap();
    seed["tenants"][0]["nonEmployeeSources"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "no-approvers", "name": "Interns", "accountManagerIds": [EMPLOYEE]}));
    for (name, store) in stores_with(&seed.to_string()).await {
        let at = now();
        let r = create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &body("intern", "no-approvers", json!({})),
            at,
        )
        .await
        .unwrap();
        assert_eq!(r.approval_status, ApprovalStatus::Approved, "{name}");
        assert_eq!(r.completion_date, Some(at));
        assert!(r.approval_items.is_empty());
    }
}

#[tokio::test]
async fn a_taken_account_name_is_a_reference_conflict() {
    for (name, store) in stores().await {
        // Pending (contractor.one) and approved (contractor.three) requests
        // hold their names, in any case.
        for (account, source) in [
            ("contractor.one", CONTRACTORS),
            ("Contractor.ONE", CONTRACTORS),
            ("contractor.three", LAB_VISITORS),
        ] {
            let r = create::create(
                &shared::plan::Runner::new(&store),
                &admin(),
                &body(account, source, json!({})),
                now(),
            )
            .await;
            assert_eq!(
                conflict_causes(r),
                [format!(
                    "Unable to create Non-Employee because the accountName \"{account}\" is already being used."
                )],
                "{name}"
            );
        }
        // On another source the name is free.
        create::create(
            &shared::plan::Runner::new(&store),
            &admin(),
            &body("contractor.one", FINANCE_TEMPS, json!({})),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        // A name just taken is taken.
        sponsor(&store, "dana.scully").await;
        let r = create::create(
            &shared::plan::Runner::new(&store),
            &manager(),
            &body("DANA.SCULLY", CONTRACTORS, json!({})),
            now(),
        )
        .await;
        conflict_causes(r);
    }
}

#[tokio::test]
async fn a_rejected_or_deleted_request_frees_its_account_name() {
    for (name, store) in stores().await {
        // Rejecting contractor.one frees its name.
        reject::reject(
            &shared::plan::Runner::new(&store),
            &manager(),
            NE_ITEM_MANAGER_PENDING,
            &rejection("no"),
            now(),
        )
        .await
        .unwrap();
        sponsor(&store, "contractor.one").await;
        // Deleting an approved request frees its name.
        delete::delete(&shared::plan::Runner::new(&store), &admin(), REQUEST_THREE)
            .await
            .unwrap();
        create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &body("contractor.three", LAB_VISITORS, json!({})),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        // Deleting a rejected request leaves the name to its new holder.
        let rejected = sponsor(&store, "rejected.then.reused").await;
        reject::reject(
            &shared::plan::Runner::new(&store),
            &manager(),
            &rejected.approval_items[0].id,
            &rejection("no"),
            now(),
        )
        .await
        .unwrap();
        sponsor(&store, "rejected.then.reused").await;
        delete::delete(&shared::plan::Runner::new(&store), &admin(), &rejected.id)
            .await
            .unwrap();
        conflict_causes(
            create::create(
                &shared::plan::Runner::new(&store),
                &employee(),
                &body("rejected.then.reused", CONTRACTORS, json!({})),
                now(),
            )
            .await,
        );
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn racing_creates_of_one_account_name_store_one() {
    for (name, store) in stores().await {
        let racers = 8;
        let barrier = Arc::new(tokio::sync::Barrier::new(racers));
        let mut tasks = Vec::new();
        for k in 0..racers {
            let (store, barrier) = (store.clone(), barrier.clone());
            let who = if k % 2 == 0 { employee() } else { manager() };
            let account = if k % 3 == 0 {
                "Raced.Name"
            } else {
                "raced.name"
            };
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                create::create(
                    &shared::plan::Runner::new(&store),
                    &who,
                    &body(
                        account,
                        CONTRACTORS,
                        json!({"firstName": format!("Racer {k}")}),
                    ),
                    now(),
                )
                .await
            }));
        }
        let mut won = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                Ok(r) => won.push(r),
                Err(ApiError::Conflict(c)) => assert!(c[0].contains("already being used"), "{c:?}"),
                Err(e) => panic!("{name}: a racing create answered {e:?}"),
            }
        }
        assert_eq!(won.len(), 1, "{name}");
        let stored: Vec<_> = store
            .non_employee_request_list(ACME, MANAGER)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.account_name.eq_ignore_ascii_case("raced.name"))
            .collect();
        assert_eq!(stored.len(), 1, "{name}");
        assert_eq!(stored[0].id, won[0].id, "{name}");
        assert_eq!(stored[0].first_name, won[0].first_name, "{name}");
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

// ----------------------------------------------------------------- approve

#[tokio::test]
async fn approving_advances_the_order_and_completes_the_request() {
    for (name, store) in stores().await {
        let r = sponsor(&store, "dana.scully").await;
        let (first, second) = (&r.approval_items[0].id, &r.approval_items[1].id);
        let at = now();
        let item = approve::approve(
            &shared::plan::Runner::new(&store),
            &manager(),
            first,
            &approval(Some("ok")),
            at,
        )
        .await
        .unwrap();
        assert_eq!(item.approval_status, ApprovalStatus::Approved, "{name}");
        assert_eq!(item.comment.as_deref(), Some("ok"));
        assert_eq!(item.modified, at);
        assert_eq!(item.non_employee_request.id, r.id);
        assert_eq!(item.non_employee_request.requester.id, EMPLOYEE);
        let after = read(&store, &employee(), &r.id).await.unwrap();
        assert_eq!(
            statuses(&after),
            [ApprovalStatus::Approved, ApprovalStatus::Pending]
        );
        assert_eq!(after.approval_status, ApprovalStatus::Pending);
        assert_eq!(after.completion_date, None);
        assert_eq!(after.approval_items[1].modified, at);
        // The group's pending item is now in its members' pending lists.
        let pending = [("filters", "approvalStatus eq \"PENDING\"")];
        assert!(approval_ids(&store, &sam(), &pending)
            .await
            .contains(&(second.clone(), ApprovalStatus::Pending)));

        // A member of the group approves the last item: the request is done.
        let done_at = now();
        approve::approve(
            &shared::plan::Runner::new(&store),
            &sam(),
            second,
            &approval(None),
            done_at,
        )
        .await
        .unwrap();
        let done = read(&store, &employee(), &r.id).await.unwrap();
        assert_eq!(done.approval_status, ApprovalStatus::Approved, "{name}");
        assert_eq!(done.completion_date, Some(done_at));
        assert_eq!(done.modified, done_at);
        assert_eq!(
            statuses(&done),
            [ApprovalStatus::Approved, ApprovalStatus::Approved]
        );
        assert_eq!(done.approval_items[1].comment, None);
        // The group's item is now Sam's decision: listed for him, no longer
        // for the other members; the first stays Maria's.
        let second_approved = (second.clone(), ApprovalStatus::Approved);
        assert!(approval_ids(&store, &sam(), &[])
            .await
            .contains(&second_approved));
        let marias = approval_ids(&store, &manager(), &[]).await;
        assert!(!marias.iter().any(|(id, _)| id == second), "{name}");
        assert!(marias.contains(&(first.clone(), ApprovalStatus::Approved)));
        // An approved request keeps its name.
        conflict_causes(
            create::create(
                &shared::plan::Runner::new(&store),
                &admin(),
                &body("dana.scully", CONTRACTORS, json!({})),
                now(),
            )
            .await,
        );
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test]
async fn only_the_approver_a_group_member_or_org_admin_may_approve() {
    for (name, store) in stores().await {
        for (label, who, item) in [
            ("the sponsor", employee(), NE_ITEM_MANAGER_PENDING),
            ("SOURCE_ADMIN", sam(), NE_ITEM_MANAGER_PENDING),
            (
                "SOURCE_SUBADMIN",
                principal(ACME, Some(OUTSIDER), &["SOURCE_SUBADMIN"]),
                NE_ITEM_GROUP_PENDING,
            ),
            ("an outsider", outsider(), NE_ITEM_GROUP_PENDING),
            ("an API token", api_client(), NE_ITEM_MANAGER_PENDING),
        ] {
            let r = approve::approve(
                &shared::plan::Runner::new(&store),
                &who,
                item,
                &approval(None),
                now(),
            )
            .await;
            assert!(is_forbidden(&r), "{name}: {label}: {r:?}");
        }
        let untouched = read(&store, &admin(), REQUEST_ONE).await.unwrap();
        assert_eq!(
            untouched.approval_items[0].approval_status,
            ApprovalStatus::Pending
        );
        for (label, who, item) in [
            ("the approver", manager(), NE_ITEM_MANAGER_PENDING),
            ("a member of the group", sam(), NE_ITEM_GROUP_PENDING),
        ] {
            approve::approve(
                &shared::plan::Runner::new(&store),
                &who,
                item,
                &approval(None),
                now(),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {label}: {e:?}"));
        }
        // ORG_ADMIN, even as an API token: the next item of contractor.one.
        approve::approve(
            &shared::plan::Runner::new(&store),
            &principal(ACME, None, &["ORG_ADMIN"]),
            NE_ITEM_GROUP_NOT_READY,
            &approval(Some("for the group")),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let done = read(&store, &admin(), REQUEST_ONE).await.unwrap();
        assert_eq!(done.approval_status, ApprovalStatus::Approved, "{name}");
    }
}

#[tokio::test]
async fn only_pending_items_can_be_decided_and_the_status_is_named() {
    for (name, store) in stores().await {
        let r = sponsor(&store, "dana.scully").await;
        let (first, second) = (
            r.approval_items[0].id.clone(),
            r.approval_items[1].id.clone(),
        );
        let check = |item: String, status: &'static str| {
            let store = store.clone();
            async move {
                let a = approve::approve(
                    &shared::plan::Runner::new(&store),
                    &admin(),
                    &item,
                    &approval(None),
                    now(),
                )
                .await;
                let c = causes(a.unwrap_err());
                assert_eq!(
                    c,
                    [format!(
                        "non-employee approval item {item} is {status}; only PENDING items can be approved"
                    )]
                );
                let j = reject::reject(
                    &shared::plan::Runner::new(&store),
                    &admin(),
                    &item,
                    &rejection("no"),
                    now(),
                )
                .await;
                assert!(causes(j.unwrap_err())[0].contains(status));
            }
        };
        check(second.clone(), "NOT_READY").await;
        check(NE_ITEM_APPROVED.to_string(), "APPROVED").await;
        reject::reject(
            &shared::plan::Runner::new(&store),
            &manager(),
            &first,
            &rejection("no"),
            now(),
        )
        .await
        .unwrap();
        check(first, "REJECTED").await;
        check(second, "CANCELLED").await;
        let after = read(&store, &admin(), &r.id).await.unwrap();
        assert_eq!(after.approval_status, ApprovalStatus::Rejected, "{name}");
    }
}

#[tokio::test]
async fn an_approve_comment_is_optional_and_at_most_4000_characters() {
    for (name, store) in stores().await {
        let long = "x".repeat(4001);
        let e = approve::approve(
            &shared::plan::Runner::new(&store),
            &manager(),
            NE_ITEM_MANAGER_PENDING,
            &approval(Some(&long)),
            now(),
        )
        .await
        .unwrap_err();
        assert_eq!(
            causes(e),
            ["comment is 4001 characters long; at most 4000 are allowed"],
            "{name}"
        );
        let longest = "日".repeat(4000);
        let item = approve::approve(
            &shared::plan::Runner::new(&store),
            &manager(),
            NE_ITEM_MANAGER_PENDING,
            &approval(Some(&longest)),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(item.comment.as_deref(), Some(longest.as_str()), "{name}");
        let item = approve::approve(
            &shared::plan::Runner::new(&store),
            &sam(),
            NE_ITEM_GROUP_PENDING,
            &approval(None),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(item.comment, None, "{name}");
    }
}

#[tokio::test]
async fn unknown_and_other_tenants_ids_are_404_alike() {
    let globex_admin = principal(GLOBEX, Some(GLOBEX_ADMIN), &["ORG_ADMIN"]);
    for (name, store) in stores().await {
        for who in [admin(), globex_admin.clone()] {
            let unknown = if who.tenant_id == ACME {
                "no-such-id"
            } else {
                NE_ITEM_MANAGER_PENDING
            };
            let r = approve::approve(
                &shared::plan::Runner::new(&store),
                &who,
                unknown,
                &approval(None),
                now(),
            )
            .await;
            assert!(is_not_found(&r), "{name}: {r:?}");
            let r = approvals::get(&store, &who, unknown, true).await;
            assert!(is_not_found(&r), "{name}: {r:?}");
            let request = if who.tenant_id == ACME {
                "no-such-id"
            } else {
                REQUEST_ONE
            };
            assert!(is_not_found(&read(&store, &who, request).await), "{name}");
            let r = delete::delete(&shared::plan::Runner::new(&store), &who, request).await;
            assert!(is_not_found(&r), "{name}: {r:?}");
        }
        assert_eq!(
            read(&store, &admin(), REQUEST_ONE)
                .await
                .unwrap()
                .approval_status,
            ApprovalStatus::Pending
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn racing_approvals_and_rejections_of_one_item_have_one_winner() {
    for (name, store) in stores().await {
        let r = sponsor(&store, "dana.scully").await;
        let item = r.approval_items[0].id.clone();
        let racers = 8;
        let barrier = Arc::new(tokio::sync::Barrier::new(racers));
        let mut tasks = Vec::new();
        for k in 0..racers {
            let (store, barrier, item) = (store.clone(), barrier.clone(), item.clone());
            let who = if k % 2 == 0 { manager() } else { admin() };
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let comment = format!("racer {k}");
                if k % 2 == 0 {
                    approve::approve(
                        &shared::plan::Runner::new(&store),
                        &who,
                        &item,
                        &approval(Some(&comment)),
                        now(),
                    )
                    .await
                } else {
                    reject::reject(
                        &shared::plan::Runner::new(&store),
                        &who,
                        &item,
                        &rejection(&comment),
                        now(),
                    )
                    .await
                }
            }));
        }
        let mut won = Vec::new();
        let mut lost = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                Ok(item) => won.push(item),
                Err(ApiError::BadRequest(c)) => lost.push(c),
                Err(e) => panic!("{name}: a racing decision answered {e:?}"),
            }
        }
        assert_eq!(won.len(), 1, "{name}");
        let winner = &won[0];
        let status = winner.approval_status.as_str();
        for c in &lost {
            assert!(c[0].contains(&format!("is {status};")), "{name}: {c:?}");
        }
        let stored = read(&store, &admin(), &r.id).await.unwrap();
        assert_eq!(stored.approval_items[0].comment, winner.comment, "{name}");
        let expected = match winner.approval_status {
            ApprovalStatus::Approved => [ApprovalStatus::Approved, ApprovalStatus::Pending],
            _ => [ApprovalStatus::Rejected, ApprovalStatus::Cancelled],
        };
        assert_eq!(statuses(&stored), expected, "{name}");
        let version = store
            .non_employee_request(ACME, &r.id)
            .await
            .unwrap()
            .unwrap()
            .version;
        assert_eq!(version, 2, "{name}: one write only");
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

// ------------------------------------------------------------------ delete

#[tokio::test]
async fn only_org_admin_may_delete() {
    for (name, store) in stores().await {
        for who in [employee(), manager(), sam(), api_client()] {
            let r = delete::delete(&shared::plan::Runner::new(&store), &who, REQUEST_ONE).await;
            assert!(is_forbidden(&r), "{name}: {r:?}");
        }
        assert!(read(&store, &admin(), REQUEST_ONE).await.is_ok());
        delete::delete(
            &shared::plan::Runner::new(&store),
            &principal(ACME, None, &["ORG_ADMIN"]),
            REQUEST_ONE,
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

#[tokio::test]
async fn delete_removes_the_request_and_its_undecided_items() {
    for (name, store) in stores().await {
        let r = sponsor(&store, "dana.scully").await;
        let (first, second) = (
            r.approval_items[0].id.clone(),
            r.approval_items[1].id.clone(),
        );
        approve::approve(
            &shared::plan::Runner::new(&store),
            &manager(),
            &first,
            &approval(Some("ok")),
            now(),
        )
        .await
        .unwrap();
        delete::delete(&shared::plan::Runner::new(&store), &admin(), &r.id)
            .await
            .unwrap();

        assert!(is_not_found(&read(&store, &admin(), &r.id).await), "{name}");
        assert!(is_not_found(
            &delete::delete(&shared::plan::Runner::new(&store), &admin(), &r.id).await
        ));
        for item in [&first, &second] {
            assert!(is_not_found(
                &approvals::get(&store, &admin(), item, true).await
            ));
        }
        let decide = approve::approve(
            &shared::plan::Runner::new(&store),
            &sam(),
            &second,
            &approval(None),
            now(),
        )
        .await;
        assert!(is_not_found(&decide), "{name}: {decide:?}");
        // The decided item's history stays with its approver; the undecided
        // one is gone from the group members' lists.
        assert!(approval_ids(&store, &manager(), &[])
            .await
            .contains(&(first.clone(), ApprovalStatus::Approved)));
        assert!(!approval_ids(&store, &sam(), &[])
            .await
            .iter()
            .any(|(id, _)| *id == second));
        for who in [employee(), manager()] {
            assert!(!request_names(&store, &who, &[("requested-for", "me")])
                .await
                .contains(&"dana.scully".to_string()));
        }
        // Its name is free again.
        sponsor(&store, "dana.scully").await;
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

// ------------------------------------------------------ lost answers

/// Loses the answers of the writes `name` names (they land, yet answer a
/// failed condition, as a retried attempt whose first try had landed does).
struct LoseAnswersOf {
    name: &'static str,
    lost: AtomicUsize,
}

#[async_trait]
impl Hooks for LoseAnswersOf {
    async fn after(&self, call: &Call<'_>, ok: bool) -> Result<(), StoreError> {
        if ok && call.name() == self.name {
            self.lost.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::Conflict("condition failed (retried)".into()));
        }
        Ok(())
    }
}

async fn losing(name: &'static str) -> Hooked<LoseAnswersOf> {
    Hooked::seeded(
        DEMO_SEED,
        LoseAnswersOf {
            name,
            lost: AtomicUsize::new(0),
        },
    )
    .await
}

#[tokio::test]
async fn writes_whose_answer_was_lost_are_recognised() {
    let store = losing("create_non_employee_request").await;
    let r = create::create(
        &shared::plan::Runner::new(&store),
        &employee(),
        &body("dana.scully", CONTRACTORS, json!({})),
        now(),
    )
    .await
    .expect("the create landed: the sponsor is told so, not that the name is taken");
    assert_eq!(store.hooks.lost.load(Ordering::SeqCst), 1);
    assert_eq!(read(&store, &employee(), &r.id).await.unwrap(), *r);

    let store = losing("update_non_employee_request").await;
    let item = approve::approve(
        &shared::plan::Runner::new(&store),
        &manager(),
        NE_ITEM_MANAGER_PENDING,
        &approval(None),
        now(),
    )
    .await
    .expect("the approval landed: not reported as APPROVED already");
    assert_eq!(item.approval_status, ApprovalStatus::Approved);
    assert_eq!(store.hooks.lost.load(Ordering::SeqCst), 1);
    let stored = store
        .non_employee_request(ACME, REQUEST_ONE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 2);

    let store = losing("delete_non_employee_request").await;
    delete::delete(&shared::plan::Runner::new(&store), &admin(), REQUEST_TWO)
        .await
        .expect("the delete landed: not reported as unknown");
    assert_eq!(store.hooks.lost.load(Ordering::SeqCst), 1);
    assert!(store
        .non_employee_request(ACME, REQUEST_TWO)
        .await
        .unwrap()
        .is_none());
}

// ------------------------------------------------------------------- reads

#[tokio::test]
async fn requested_for_is_me_or_an_id_and_only_org_admin_names_others() {
    for (name, store) in stores().await {
        // Missing (requests list only), blank, or `me` without a user: 400.
        let e = requests::parse_list(&params(&[])).unwrap_err();
        assert!(causes(e)[0].contains("requested-for is required"), "{name}");
        let e = requests::parse_list(&params(&[("requested-for", " ")])).unwrap_err();
        assert!(causes(e)[0].contains("requested-for"), "{name}");
        let twice = params(&[("requested-for", "me"), ("requested-for", MANAGER)]);
        let c = causes(requests::parse_list(&twice).unwrap_err());
        assert_eq!(c.len(), 1, "{name}: {c:?}");
        assert!(c[0].contains("given 2 times"), "{name}: {c:?}");
        for summary_of in [" ", "me"] {
            let r = requests::summary(&store, &api_client(), summary_of).await;
            assert!(matches!(r, Err(ApiError::BadRequest(_))), "{name}: {r:?}");
        }
        // Anyone for themselves (`me`, `ME` or their id); ORG_ADMIN for anyone.
        for (who, me) in [(employee(), EMPLOYEE), (manager(), MANAGER)] {
            for value in ["me", "ME", me] {
                let q = requests::parse_list(&params(&[("requested-for", value)])).unwrap();
                requests::list(&store, &who, &q).await.unwrap();
                let q = approvals::parse_list(&params(&[("requested-for", value)])).unwrap();
                approvals::list(&store, &who, &q).await.unwrap();
                requests::summary(&store, &who, value).await.unwrap();
                approvals::summary(&store, &who, value).await.unwrap();
            }
        }
        // Others: 403 for everyone but ORG_ADMIN.
        for who in [
            employee(),
            sam(),
            principal(ACME, Some(OUTSIDER), &["SOURCE_SUBADMIN"]),
        ] {
            let q = requests::parse_list(&params(&[("requested-for", MANAGER)])).unwrap();
            assert!(
                is_forbidden(&requests::list(&store, &who, &q).await),
                "{name}"
            );
            let q = approvals::parse_list(&params(&[("requested-for", MANAGER)])).unwrap();
            assert!(
                is_forbidden(&approvals::list(&store, &who, &q).await),
                "{name}"
            );
            assert!(is_forbidden(
                &requests::summary(&store, &who, MANAGER).await
            ));
            assert!(is_forbidden(
                &approvals::summary(&store, &who, MANAGER).await
            ));
        }
        assert_eq!(
            request_names(
                &store,
                &admin(),
                &[("requested-for", MANAGER), ("sorters", "accountName")]
            )
            .await,
            ["contractor.one", "contractor.two"],
            "{name}"
        );
        // Without requested-for, the approvals list is the caller's.
        assert_eq!(
            approval_ids(&store, &sam(), &[]).await,
            approval_ids(&store, &sam(), &[("requested-for", "me")]).await
        );
    }
}

#[tokio::test]
async fn requests_lists_hold_sponsored_requests_and_those_on_managed_sources() {
    for (name, store) in stores().await {
        // Eve manages Contractors and Lab Visitors, and sponsored contractor.three.
        assert_eq!(
            request_names(&store, &employee(), &[("requested-for", "me")]).await,
            ["contractor.three", "contractor.one"],
            "{name}: newest first"
        );
        // Sam approves, sponsors and manages nothing.
        assert!(request_names(&store, &sam(), &[("requested-for", "me")])
            .await
            .is_empty());
        // Ada sponsors on a source she does not manage: she lists it, and so
        // do its account managers.
        create::create(
            &shared::plan::Runner::new(&store),
            &admin(),
            &body("ada.pick", LAB_VISITORS, json!({})),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(
            request_names(&store, &admin(), &[("requested-for", "me")]).await,
            ["ada.pick"]
        );
        assert_eq!(
            request_names(&store, &employee(), &[("requested-for", "me")]).await[0],
            "ada.pick"
        );
    }
}

#[tokio::test]
async fn requests_filter_by_source_and_sort_as_the_fragment_lists() {
    for (name, store) in stores().await {
        let me = ("requested-for", "me");
        for (i, (account, first, last)) in [("b.one", "Zed", "Able"), ("a.two", "Amy", "Zulu")]
            .iter()
            .enumerate()
        {
            create::create(
                &shared::plan::Runner::new(&store),
                &manager(),
                &body(
                    account,
                    CONTRACTORS,
                    json!({"firstName": first, "lastName": last, "email": format!("{account}@x.example.com"),
                           "phone": format!("55500{i}"), "startDate": format!("2027-0{}-01", 3 - i),
                           "endDate": format!("2027-1{i}-01")}),
                ),
                now() + chrono::Duration::milliseconds(10 * i as i64),
            )
            .await
            .unwrap();
        }
        let filter = format!("sourceId eq \"{FINANCE_TEMPS}\"");
        assert_eq!(
            request_names(&store, &manager(), &[me, ("filters", &filter)]).await,
            ["contractor.two"],
            "{name}"
        );
        let upper = format!("sourceId eq \"{}\"", CONTRACTORS.to_uppercase());
        assert_eq!(
            request_names(
                &store,
                &manager(),
                &[me, ("filters", &upper), ("sorters", "accountName")]
            )
            .await,
            ["a.two", "b.one", "contractor.one"],
            "{name}: ids compare in any case"
        );
        let sorted = |sorters: &'static str| {
            let store = store.clone();
            async move {
                request_names(
                    &store,
                    &manager(),
                    &[
                        me,
                        ("filters", &format!("sourceId eq \"{CONTRACTORS}\"")),
                        ("sorters", sorters),
                    ],
                )
                .await
            }
        };
        assert_eq!(
            sorted("firstName").await,
            ["a.two", "contractor.one", "b.one"]
        );
        assert_eq!(
            sorted("-lastName").await,
            ["a.two", "contractor.one", "b.one"]
        );
        assert_eq!(sorted("email").await, ["a.two", "b.one", "contractor.one"]);
        assert_eq!(sorted("phone").await, ["contractor.one", "b.one", "a.two"]);
        assert_eq!(
            sorted("startDate").await,
            ["contractor.one", "a.two", "b.one"]
        );
        assert_eq!(
            sorted("-endDate").await,
            ["a.two", "b.one", "contractor.one"]
        );
        assert_eq!(
            sorted("created").await,
            ["contractor.one", "b.one", "a.two"]
        );
        assert_eq!(
            sorted("-created").await,
            ["a.two", "b.one", "contractor.one"]
        );
        reject::reject(
            &shared::plan::Runner::new(&store),
            &manager(),
            NE_ITEM_MANAGER_PENDING,
            &rejection("no"),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(
            sorted("approvalStatus,-accountName").await,
            ["b.one", "a.two", "contractor.one"],
            "{name}: PENDING before REJECTED"
        );
        // Anything the fragment does not list: 400 naming it.
        for (param, value, needle) in [
            (
                "filters",
                "accountName eq \"a.two\"",
                "'accountName' is not filterable",
            ),
            ("filters", "sourceId ne \"x\"", "operator 'ne'"),
            ("filters", "sourceId in (\"x\")", "operator 'in'"),
            ("filters", "sourceId eq", "filters"),
            ("sorters", "modified", "field 'modified'"),
            ("sorters", "name", "field 'name'"),
        ] {
            let e = requests::parse_list(&params(&[me, (param, value)])).unwrap_err();
            let c = causes(e);
            assert!(c[0].contains(needle), "{name}: {value}: {c:?}");
        }
    }
}

#[tokio::test]
async fn approvals_filter_by_status_in_any_case_and_sort_by_created_or_modified() {
    for (name, store) in stores().await {
        let r = sponsor(&store, "dana.scully").await;
        approve::approve(
            &shared::plan::Runner::new(&store),
            &manager(),
            &r.approval_items[0].id,
            &approval(None),
            now(),
        )
        .await
        .unwrap();
        let pending = approval_ids(
            &store,
            &manager(),
            &[("filters", "approvalStatus eq \"PENDING\"")],
        )
        .await;
        for value in ["pending", "Pending", "PENDING"] {
            let f = format!("approvalStatus eq \"{value}\"");
            assert_eq!(
                approval_ids(&store, &manager(), &[("filters", &f)]).await,
                pending,
                "{name}: {value}"
            );
        }
        assert!(pending.iter().all(|(_, s)| *s == ApprovalStatus::Pending));
        // Maria: her approved item, the group's pending one of the new
        // request, and the seed's three.
        assert_eq!(pending.len(), 3, "{name}: {pending:?}");
        assert_eq!(
            approval_ids(
                &store,
                &manager(),
                &[("filters", "approvalStatus eq \"approved\"")]
            )
            .await,
            [(r.approval_items[0].id.clone(), ApprovalStatus::Approved)]
        );
        let f = "approvalStatus eq \"APPROVED\" or approvalStatus eq \"NOT_READY\"";
        assert_eq!(
            approval_ids(&store, &manager(), &[("filters", f)])
                .await
                .len(),
            2
        );
        // Sorted by modified: the two items just changed come last (oldest first).
        let by_modified = approval_ids(&store, &manager(), &[("sorters", "modified")]).await;
        let ids: Vec<&str> = by_modified.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(ids.len(), 5);
        assert!(
            ids[3..].contains(&r.approval_items[0].id.as_str()),
            "{ids:?}"
        );
        assert!(
            ids[3..].contains(&r.approval_items[1].id.as_str()),
            "{ids:?}"
        );
        let by_created = approval_ids(&store, &manager(), &[("sorters", "created")]).await;
        assert_eq!(
            by_created[0].0, NE_ITEM_MANAGER_PENDING,
            "{name}: oldest first, ties by id"
        );
        for (param, value, needle) in [
            (
                "filters",
                "approvalStatus eq \"DONE\"",
                "\"DONE\" is not one of",
            ),
            ("filters", "approvalStatus ne \"PENDING\"", "operator 'ne'"),
            (
                "filters",
                "created gt 2026-01-01T00:00:00Z",
                "'created' is not filterable",
            ),
            ("sorters", "approvalStatus", "field 'approvalStatus'"),
        ] {
            let c = causes(approvals::parse_list(&params(&[(param, value)])).unwrap_err());
            assert!(c[0].contains(needle), "{name}: {value}: {c:?}");
        }
    }
}

#[tokio::test]
async fn lists_page_and_count() {
    for (name, store) in stores().await {
        for i in 0..5 {
            sponsor(&store, &format!("paged.{i}")).await;
        }
        let all = request_names(
            &store,
            &employee(),
            &[("requested-for", "me"), ("sorters", "accountName")],
        )
        .await;
        assert_eq!(all.len(), 7, "{name}");
        let mut paged = Vec::new();
        for offset in (0..7).step_by(3) {
            let offset = offset.to_string();
            let q = requests::parse_list(&params(&[
                ("requested-for", "me"),
                ("sorters", "accountName"),
                ("limit", "3"),
                ("offset", &offset),
                ("count", "true"),
            ]))
            .unwrap();
            assert!(q.paging.count);
            let page = requests::list(&store, &employee(), &q).await.unwrap();
            assert_eq!(page.total, 7, "{name}");
            paged.extend(page.items.into_iter().map(|r| r.account_name));
        }
        assert_eq!(paged, all, "{name}");
        let q = approvals::parse_list(&params(&[("limit", "0"), ("count", "true")])).unwrap();
        let page = approvals::list(&store, &manager(), &q).await.unwrap();
        assert!(page.items.is_empty());
        assert_eq!(
            page.total, 13,
            "{name}: the seed's 3, and both items of each new request"
        );
        for (k, v) in [
            ("limit", "251"),
            ("offset", "-1"),
            ("count", "yes"),
            ("limit", "x"),
        ] {
            let c = causes(approvals::parse_list(&params(&[(k, v)])).unwrap_err());
            assert!(c[0].contains(k), "{name}: {c:?}");
        }
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test]
async fn who_may_read_a_request_or_an_approval_item() {
    for (name, store) in stores().await {
        // contractor.one: sponsored by Maria on Contractors (managers Maria,
        // Eve); approvers Maria and the group (Maria, Sam).
        for (label, who) in [
            ("the sponsor", manager()),
            ("an account manager", employee()),
            ("a member of an approving group", sam()),
            ("ORG_ADMIN", admin()),
        ] {
            read(&store, &who, REQUEST_ONE)
                .await
                .unwrap_or_else(|e| panic!("{name}: {label}: {e:?}"));
            approvals::get(&store, &who, NE_ITEM_GROUP_NOT_READY, true)
                .await
                .unwrap_or_else(|e| panic!("{name}: {label}: {e:?}"));
        }
        for who in [outsider(), engineer(), api_client()] {
            assert!(
                is_forbidden(&read(&store, &who, REQUEST_ONE).await),
                "{name}"
            );
            let r = approvals::get(&store, &who, NE_ITEM_MANAGER_PENDING, true).await;
            assert!(is_forbidden(&r), "{name}");
        }
        // Eve manages neither Finance Temps nor approves there.
        assert!(is_forbidden(&read(&store, &employee(), REQUEST_TWO).await));
        // Whoever decided an item may read it.
        approve::approve(
            &shared::plan::Runner::new(&store),
            &admin(),
            NE_ITEM_GROUP_PENDING,
            &approval(None),
            now(),
        )
        .await
        .unwrap();
        approvals::get(&store, &admin(), NE_ITEM_GROUP_PENDING, false)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_approval_item_comes_with_its_request_unless_asked_not_to() {
    for (name, store) in stores().await {
        let full = approvals::get(&store, &manager(), NE_ITEM_MANAGER_PENDING, true)
            .await
            .unwrap();
        let v = serde_json::to_value(&full).unwrap();
        assert_eq!(v["nonEmployeeRequest"]["id"], REQUEST_ONE, "{name}");
        assert_eq!(v["nonEmployeeRequest"]["firstName"], "Connor");
        assert_eq!(v["nonEmployeeRequest"]["startDate"], "2026-12-01");
        assert_eq!(
            v["nonEmployeeRequest"]["nonEmployeeSource"]["name"],
            "Contractors"
        );
        assert_eq!(
            v["nonEmployeeRequest"]["requester"]["name"],
            "Maria Manager"
        );
        assert!(v["nonEmployeeRequest"].get("approvalItems").is_none());
        let lite = approvals::get(&store, &manager(), NE_ITEM_MANAGER_PENDING, false)
            .await
            .unwrap();
        let v = serde_json::to_value(&lite).unwrap();
        assert_eq!(
            v["nonEmployeeRequest"],
            json!({"id": REQUEST_ONE, "requester": {"type": "IDENTITY", "id": MANAGER, "name": "Maria Manager"}}),
            "{name}"
        );
        assert_eq!(v["approvalStatus"], "PENDING");
        assert_eq!(v["approver"], json!({"type": "IDENTITY", "id": MANAGER}));
    }
}

#[tokio::test]
async fn summaries_count_by_status_over_the_listed_sets() {
    for (name, store) in stores().await {
        assert_eq!(
            requests::summary(&store, &employee(), "me").await.unwrap(),
            NonEmployeeRequestSummary {
                approved: 1,
                rejected: 0,
                pending: 1,
                non_employee_count: 1
            },
            "{name}"
        );
        assert_eq!(
            approvals::summary(&store, &sam(), "me").await.unwrap(),
            NonEmployeeApprovalSummary {
                approved: 1,
                pending: 1,
                rejected: 0
            },
            "{name}: NOT_READY items are not counted"
        );
        let r = sponsor(&store, "dana.scully").await;
        approve::approve(
            &shared::plan::Runner::new(&store),
            &manager(),
            &r.approval_items[0].id,
            &approval(None),
            now(),
        )
        .await
        .unwrap();
        reject::reject(
            &shared::plan::Runner::new(&store),
            &manager(),
            NE_ITEM_MANAGER_PENDING,
            &rejection("no"),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(
            requests::summary(&store, &employee(), "me").await.unwrap(),
            NonEmployeeRequestSummary {
                approved: 1,
                rejected: 1,
                pending: 1,
                non_employee_count: 1
            },
            "{name}"
        );
        assert_eq!(
            approvals::summary(&store, &manager(), "me").await.unwrap(),
            NonEmployeeApprovalSummary {
                approved: 1,
                pending: 2,
                rejected: 1
            },
            "{name}: the group's item of the new request and of contractor.two"
        );
        // The admin's view of Maria is Maria's.
        assert_eq!(
            approvals::summary(&store, &admin(), MANAGER).await.unwrap(),
            approvals::summary(&store, &manager(), "me").await.unwrap()
        );
        // The summary counts what the list holds.
        let listed = approval_ids(&store, &manager(), &[]).await;
        let count = |s: ApprovalStatus| listed.iter().filter(|(_, x)| *x == s).count() as u64;
        assert_eq!(count(ApprovalStatus::Pending), 2);
        assert_eq!(count(ApprovalStatus::Approved), 1);
        assert_eq!(count(ApprovalStatus::Rejected), 1);
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test]
async fn a_request_too_big_to_list_or_store_atomically_is_refused() {
    // A source with 21 account managers and one approver: 23 copies of
    // each request (its own, its item's, one per manager).
    let mut seed: Value = serde_json::from_str(&large_seed(20)).unwrap();
    let managers: Vec<String> = (0..20)
        .map(bulk_identity)
        .chain([EMPLOYEE.to_string()])
        .collect();
    seed["tenants"][0]["nonEmployeeSources"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"id": "crowded", "name": "Crowded", "accountManagerIds": managers,
                     "approvers": [{"type": "IDENTITY", "id": MANAGER}]}),
        );
    // Ten values of 4000 four-byte characters each: 160 KB in every copy,
    // and in every row of a list page of 250.
    let heavy: serde_json::Map<String, Value> = (0..10)
        .map(|i| (format!("k{i}"), json!("🦀".repeat(4000))))
        .collect();
    // Ten values of 400: 16 KB.
    let moderate: serde_json::Map<String, Value> = (0..10)
        .map(|i| (format!("k{i}"), json!("🦀".repeat(400))))
        .collect();
    for (name, store) in stores_with(&seed.to_string()).await {
        for source in ["crowded", CONTRACTORS] {
            let e = create::create(
                &shared::plan::Runner::new(&store),
                &employee(),
                &body("heavy", source, json!({"data": heavy})),
                now(),
            )
            .await
            .unwrap_err();
            let c = causes(e);
            assert!(
                c[0].contains("fields and data") && c[0].contains("as listed"),
                "{name}: {c:?}"
            );
        }
        for source in ["crowded", CONTRACTORS] {
            create::create(
                &shared::plan::Runner::new(&store),
                &employee(),
                &body(
                    &format!("moderate-{source}"),
                    source,
                    json!({"data": moderate}),
                ),
                now(),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        }
        // Nothing of the heavy one was stored: its name is free.
        create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &body("heavy", "crowded", json!({})),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}
