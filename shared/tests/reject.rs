//! `POST /non-employee-approvals/{id}/reject` rules (SPEC §3, §8), each
//! checked on every store, and racing rejects of one request's items.

mod common;
mod lost_ack;

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use common::*;
use shared::auth::Principal;
use shared::domain::non_employee::reject::{approval_item, reject, MAX_COMMENT_CHARS};
use shared::error::ApiError;
use shared::models::{ApprovalStatus, NonEmployeeRejectApprovalDecision, OwnerType};
use shared::records::NonEmployeeRequestRecord;
use shared::seed::DEMO_SEED;
use shared::store::Store;

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn comment(c: &str) -> NonEmployeeRejectApprovalDecision {
    NonEmployeeRejectApprovalDecision {
        comment: c.to_string(),
    }
}

async fn request_of(store: &Store, tenant: &str, item: &str) -> NonEmployeeRequestRecord {
    store
        .non_employee_request_of_item(tenant, item)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("item {item} is stored"))
}

/// A request with one item in each state a sibling can be in.
const MIXED_REQUEST: &str = "ac110005-7156-1150-8171-5b292e3e00a0";
const MIXED_APPROVED: &str = "2c1e388b-1e55-4b0a-ab5c-897f120400a1";
const MIXED_PENDING: &str = "2c1e388b-1e55-4b0a-ab5c-897f120400a2";
const MIXED_NOT_READY: &str = "2c1e388b-1e55-4b0a-ab5c-897f120400a3";
const MIXED_PENDING_2: &str = "2c1e388b-1e55-4b0a-ab5c-897f120400a4";
/// A request that was rejected already, and one whose only item was cancelled.
const REJECTED_ITEM: &str = "2c1e388b-1e55-4b0a-ab5c-897f120400b1";
const CANCELLED_SIBLING: &str = "2c1e388b-1e55-4b0a-ab5c-897f120400b2";

/// A source whose approvers decide in four orders (tenant ACME).
const MIXED_SOURCE: &str = "a0303682-5e4a-44f7-bdc2-6ce6112500a0";
/// A source with two identity approvers.
const TWO_STEP_SOURCE: &str = "a0303682-5e4a-44f7-bdc2-6ce6112500b0";

/// A seed request on `source` with these items.
fn seed_request(
    id: &str,
    source: &str,
    account: &str,
    created: &str,
    items: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "id": id, "sourceId": source, "requesterId": MANAGER, "accountName": account,
        "firstName": "Mixed", "lastName": "Contractor", "email": format!("{account}@example.com"),
        "phone": "5125550100", "manager": MANAGER,
        "startDate": "2026-12-01T00:00:00Z", "endDate": "2027-06-01T00:00:00Z",
        "created": created, "approvalItems": items
    })
}

/// The demo seed plus the requests above (tenant ACME). The mixed request
/// has two PENDING items at once (a seed may hold any state).
fn mixed_seed() -> String {
    let mut seed: serde_json::Value = serde_json::from_str(DEMO_SEED).unwrap();
    let acme = &mut seed["tenants"][0];
    let sources = acme["nonEmployeeSources"].as_array_mut().unwrap();
    sources.push(serde_json::json!({
        "id": MIXED_SOURCE, "name": "Mixed", "accountManagerIds": [MANAGER],
        "approvers": [
            {"type": "IDENTITY", "id": SOURCE_ADMIN},
            {"type": "IDENTITY", "id": MANAGER},
            {"type": "GOVERNANCE_GROUP", "id": FINANCE_GROUP},
            {"type": "IDENTITY", "id": ADMIN}
        ]
    }));
    sources.push(serde_json::json!({
        "id": TWO_STEP_SOURCE, "name": "Two steps", "accountManagerIds": [MANAGER],
        "approvers": [{"type": "IDENTITY", "id": MANAGER}, {"type": "IDENTITY", "id": MANAGER}]
    }));
    let requests = acme["nonEmployeeRequests"].as_array_mut().unwrap();
    requests.push(seed_request(
        MIXED_REQUEST,
        MIXED_SOURCE,
        "contractor.mixed",
        "2026-11-04T09:00:00Z",
        serde_json::json!([
            {"id": MIXED_APPROVED, "approvalStatus": "APPROVED", "comment": "fine by me", "modified": "2026-11-04T10:00:00Z"},
            {"id": MIXED_PENDING, "approvalStatus": "PENDING"},
            {"id": MIXED_PENDING_2, "approvalStatus": "PENDING"},
            {"id": MIXED_NOT_READY, "approvalStatus": "NOT_READY"}
        ]),
    ));
    requests.push(seed_request(
        "ac110005-7156-1150-8171-5b292e3e00b0",
        TWO_STEP_SOURCE,
        "contractor.done",
        "2026-11-05T09:00:00Z",
        serde_json::json!([
            {"id": REJECTED_ITEM, "approvalStatus": "REJECTED", "comment": "no", "modified": "2026-11-05T10:00:00Z"},
            {"id": CANCELLED_SIBLING, "approvalStatus": "CANCELLED", "modified": "2026-11-05T10:00:00Z"}
        ]),
    ));
    seed.to_string()
}

#[tokio::test]
async fn the_comment_must_have_1_to_4000_characters() {
    for (name, store) in stores().await {
        let before = request_of(&store, ACME, NE_ITEM_MANAGER_PENDING).await;
        for c in [
            String::new(),
            " ".into(),
            "\n\t ".into(),
            "x".repeat(MAX_COMMENT_CHARS + 1),
            "é".repeat(MAX_COMMENT_CHARS + 1),
        ] {
            let e = reject(
                &shared::plan::Runner::new(&store),
                &manager(),
                NE_ITEM_MANAGER_PENDING,
                &comment(&c),
                now(),
            )
            .await
            .unwrap_err();
            let causes = causes(e);
            assert!(causes[0].contains("comment"), "{name}: {causes:?}");
            if c.chars().count() > MAX_COMMENT_CHARS {
                assert!(
                    causes[0].contains("4000") && causes[0].contains("4001"),
                    "{name}: {causes:?}"
                );
            }
        }
        assert_eq!(
            request_of(&store, ACME, NE_ITEM_MANAGER_PENDING).await,
            before,
            "{name}"
        );

        // 4000 characters of 3 bytes each (12000 bytes) are fine: characters count.
        let long = "日".repeat(MAX_COMMENT_CHARS);
        let item = reject(
            &shared::plan::Runner::new(&store),
            &manager(),
            NE_ITEM_MANAGER_PENDING,
            &comment(&long),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(item.comment.as_deref(), Some(long.as_str()), "{name}");
        // Stored intact.
        let r = request_of(&store, ACME, NE_ITEM_MANAGER_PENDING).await;
        assert_eq!(
            r.item(NE_ITEM_MANAGER_PENDING).unwrap().comment.as_deref(),
            Some(long.as_str())
        );
    }
}

#[test]
fn a_missing_comment_is_refused_at_the_edge_naming_it() {
    let req = lambda_http::Request::new(lambda_http::Body::from("{}"));
    let c = causes(shared::http::json_body::<NonEmployeeRejectApprovalDecision>(&req).unwrap_err());
    assert!(c[0].contains("comment"), "{c:?}");
}

#[tokio::test]
async fn unknown_and_other_tenants_items_are_404_alike() {
    for (name, store) in stores().await {
        let unknown = "2c1e388b-1e55-4b0a-ab5c-00000000ffff";
        let e = reject(
            &shared::plan::Runner::new(&store),
            &admin(),
            unknown,
            &comment("no"),
            now(),
        )
        .await
        .unwrap_err();
        let ApiError::NotFound(unknown_text) = e else {
            panic!("{name}: expected 404, got {e:?}");
        };
        // Globex's administrator asks about an Acme item.
        let globex_admin = principal(GLOBEX, Some(GLOBEX_ADMIN), &["ORG_ADMIN"]);
        let e = reject(
            &shared::plan::Runner::new(&store),
            &globex_admin,
            NE_ITEM_MANAGER_PENDING,
            &comment("no"),
            now(),
        )
        .await
        .unwrap_err();
        let ApiError::NotFound(theirs_text) = e else {
            panic!("{name}: expected 404, got {e:?}");
        };
        assert_eq!(
            theirs_text.replace(NE_ITEM_MANAGER_PENDING, "<id>"),
            unknown_text.replace(unknown, "<id>"),
            "{name}"
        );
        let r = request_of(&store, ACME, NE_ITEM_MANAGER_PENDING).await;
        assert_eq!(r.approval_status, ApprovalStatus::Pending, "{name}");
    }
}

#[tokio::test]
async fn only_pending_items_can_be_rejected_and_the_status_is_named() {
    for (name, store) in stores_with(&mixed_seed()).await {
        for (item, status) in [
            (NE_ITEM_GROUP_NOT_READY, "NOT_READY"),
            (NE_ITEM_APPROVED, "APPROVED"),
            (REJECTED_ITEM, "REJECTED"),
            (CANCELLED_SIBLING, "CANCELLED"),
        ] {
            let before = request_of(&store, ACME, item).await;
            let c = causes(
                reject(
                    &shared::plan::Runner::new(&store),
                    &admin(),
                    item,
                    &comment("no"),
                    now(),
                )
                .await
                .unwrap_err(),
            );
            assert!(
                c[0].contains(status) && c[0].contains(item),
                "{name}: {c:?}"
            );
            assert_eq!(request_of(&store, ACME, item).await, before, "{name}");
        }
    }
}

/// Who may reject: (label, principal, item).
fn allowed() -> Vec<(&'static str, Principal, &'static str)> {
    vec![
        ("the identity approver", manager(), NE_ITEM_MANAGER_PENDING),
        (
            "a member of the approving group",
            manager(),
            NE_ITEM_GROUP_PENDING,
        ),
        (
            "another member of the approving group",
            principal(ACME, Some(SOURCE_ADMIN), &["USER"]),
            NE_ITEM_GROUP_PENDING,
        ),
        ("ORG_ADMIN", admin(), NE_ITEM_MANAGER_PENDING),
        (
            "an API token with ORG_ADMIN",
            principal(ACME, None, &["ORG_ADMIN"]),
            NE_ITEM_GROUP_PENDING,
        ),
        (
            "SOURCE_ADMIN",
            principal(ACME, Some(OUTSIDER), &["SOURCE_ADMIN"]),
            NE_ITEM_MANAGER_PENDING,
        ),
        (
            "SOURCE_SUBADMIN",
            principal(ACME, Some(OUTSIDER), &["SOURCE_SUBADMIN"]),
            NE_ITEM_GROUP_PENDING,
        ),
        (
            "an API token with SOURCE_SUBADMIN",
            principal(ACME, None, &["SOURCE_SUBADMIN"]),
            NE_ITEM_MANAGER_PENDING,
        ),
    ]
}

#[tokio::test]
async fn the_approver_a_group_member_and_source_or_org_admins_may_reject() {
    for (label, who, item) in allowed() {
        for (name, store) in stores().await {
            let r = reject(
                &shared::plan::Runner::new(&store),
                &who,
                item,
                &comment(&format!("rejected by {label}")),
                now(),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {label}: {e:?}"));
            assert_eq!(
                r.approval_status,
                ApprovalStatus::Rejected,
                "{name}: {label}"
            );
        }
    }
}

#[tokio::test]
async fn anyone_else_is_refused() {
    for (name, store) in stores().await {
        let refused = [
            (
                "the requester of the non-employee request",
                employee(),
                NE_ITEM_APPROVED,
            ),
            ("an employee", employee(), NE_ITEM_MANAGER_PENDING),
            (
                "the requester's colleague",
                engineer(),
                NE_ITEM_GROUP_PENDING,
            ),
            ("an outsider", outsider(), NE_ITEM_MANAGER_PENDING),
            ("an API token", api_client(), NE_ITEM_MANAGER_PENDING),
            (
                "an API token with other authorities",
                principal(ACME, None, &["HELPDESK", "API"]),
                NE_ITEM_GROUP_PENDING,
            ),
            (
                "a similarly named authority",
                principal(ACME, Some(OUTSIDER), &["source_admin", "ORG_ADMIN_READ"]),
                NE_ITEM_MANAGER_PENDING,
            ),
            (
                "the approver of another item",
                principal(ACME, Some(SOURCE_ADMIN), &["USER"]),
                NE_ITEM_MANAGER_PENDING,
            ),
        ];
        for (label, who, item) in refused {
            let before = request_of(&store, ACME, item).await;
            let e = reject(
                &shared::plan::Runner::new(&store),
                &who,
                item,
                &comment("no"),
                now(),
            )
            .await
            .unwrap_err();
            assert!(
                matches!(e, ApiError::Forbidden(_)),
                "{name}: {label}: {e:?}"
            );
            assert_eq!(
                request_of(&store, ACME, item).await,
                before,
                "{name}: {label}"
            );
        }
    }
}

#[tokio::test]
async fn rejecting_an_item_rejects_its_request_and_cancels_undecided_siblings() {
    for (name, store) in stores_with(&mixed_seed()).await {
        let before = request_of(&store, ACME, MIXED_PENDING).await;
        let at = now();
        let item = reject(
            &shared::plan::Runner::new(&store),
            &manager(),
            MIXED_PENDING,
            &comment("not this contractor"),
            at,
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));

        let after = request_of(&store, ACME, MIXED_PENDING).await;
        assert_eq!(after.version, before.version + 1, "{name}");
        assert_eq!(after.approval_status, ApprovalStatus::Rejected, "{name}");
        assert_eq!(after.modified, at, "{name}");
        let status = |id: &str| after.item(id).unwrap().approval_status;
        assert_eq!(status(MIXED_PENDING), ApprovalStatus::Rejected, "{name}");
        assert_eq!(status(MIXED_PENDING_2), ApprovalStatus::Cancelled, "{name}");
        assert_eq!(status(MIXED_NOT_READY), ApprovalStatus::Cancelled, "{name}");
        // The decided item is untouched.
        assert_eq!(
            after.item(MIXED_APPROVED),
            before.item(MIXED_APPROVED),
            "{name}"
        );
        let rejected = after.item(MIXED_PENDING).unwrap();
        assert_eq!(rejected.comment.as_deref(), Some("not this contractor"));
        assert_eq!(rejected.modified, at, "{name}");
        assert!(rejected.modified > before.item(MIXED_PENDING).unwrap().modified);
        for sibling in [MIXED_PENDING_2, MIXED_NOT_READY] {
            assert_eq!(after.item(sibling).unwrap().modified, at, "{name}");
            assert_eq!(after.item(sibling).unwrap().comment, None, "{name}");
        }

        // The response is the updated item.
        assert_eq!(
            Some(item.clone().into_answer()),
            approval_item(&after, MIXED_PENDING),
            "{name}"
        );
        assert_eq!(item.id, MIXED_PENDING);
        assert_eq!(item.approver.ref_type, OwnerType::Identity);
        assert_eq!(item.approver.id, MANAGER);
        assert_eq!(item.account_name, "contractor.mixed");
        assert_eq!(item.approval_order, 2.0);
        assert_eq!(item.non_employee_request.id, MIXED_REQUEST);
        assert_eq!(item.non_employee_request.requester.id, MANAGER);
        assert_eq!(item.non_employee_request.requester.name, "Maria Manager");
        let v = serde_json::to_value(&item).unwrap();
        assert_eq!(v["approvalStatus"], "REJECTED");
        assert_eq!(v["comment"], "not this contractor");
        assert_eq!(v["modified"], shared::time::format(&at));
        assert_eq!(v["nonEmployeeRequest"]["requester"]["type"], "IDENTITY");

        // The demo request: its NOT_READY group step is cancelled too.
        reject(
            &shared::plan::Runner::new(&store),
            &manager(),
            NE_ITEM_MANAGER_PENDING,
            &comment("no"),
            now(),
        )
        .await
        .unwrap();
        let demo = request_of(&store, ACME, NE_ITEM_GROUP_NOT_READY).await;
        assert_eq!(
            demo.item(NE_ITEM_GROUP_NOT_READY).unwrap().approval_status,
            ApprovalStatus::Cancelled
        );
        assert_eq!(demo.approval_status, ApprovalStatus::Rejected);
        // Other requests are untouched.
        let other = request_of(&store, ACME, NE_ITEM_GROUP_PENDING).await;
        assert_eq!(other.version, 1, "{name}");
        assert_eq!(other.approval_status, ApprovalStatus::Pending, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn racing_rejects_of_one_item_succeed_once() {
    for (name, store) in stores().await {
        let racers = 8;
        let barrier = Arc::new(tokio::sync::Barrier::new(racers));
        let mut tasks = Vec::new();
        for k in 0..racers {
            let (store, barrier) = (store.clone(), barrier.clone());
            let who = [
                manager(),
                admin(),
                principal(ACME, Some(SOURCE_ADMIN), &["SOURCE_ADMIN"]),
            ][k % 3]
                .clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                reject(
                    &shared::plan::Runner::new(&store),
                    &who,
                    NE_ITEM_MANAGER_PENDING,
                    &comment(&format!("racer {k}")),
                    now(),
                )
                .await
            }));
        }
        let mut won = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                Ok(item) => won.push(item),
                Err(ApiError::BadRequest(c)) => assert!(c[0].contains("REJECTED"), "{name}: {c:?}"),
                Err(e) => panic!("{name}: a racing reject answered {e:?}"),
            }
        }
        assert_eq!(won.len(), 1, "{name}");
        let r = request_of(&store, ACME, NE_ITEM_MANAGER_PENDING).await;
        assert_eq!(r.version, 2, "{name}: one write only");
        let item = r.item(NE_ITEM_MANAGER_PENDING).unwrap();
        assert_eq!(
            item.comment, won[0].comment,
            "{name}: the stored comment is the winner's"
        );
        assert_eq!(
            r.item(NE_ITEM_GROUP_NOT_READY).unwrap().approval_status,
            ApprovalStatus::Cancelled
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn racing_rejects_of_sibling_items_succeed_once() {
    for (name, store) in stores_with(&mixed_seed()).await {
        let racers = 8;
        let barrier = Arc::new(tokio::sync::Barrier::new(racers));
        let mut tasks = Vec::new();
        for k in 0..racers {
            let (store, barrier) = (store.clone(), barrier.clone());
            let item = if k % 2 == 0 {
                MIXED_PENDING
            } else {
                MIXED_PENDING_2
            };
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let r = reject(
                    &shared::plan::Runner::new(&store),
                    &admin(),
                    item,
                    &comment(&format!("racer {k}")),
                    now(),
                )
                .await;
                (item, r)
            }));
        }
        let mut won = Vec::new();
        let mut lost = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                (item, Ok(r)) => won.push((item, r)),
                (item, Err(ApiError::BadRequest(c))) => lost.push((item, c)),
                (_, Err(e)) => panic!("{name}: a racing reject answered {e:?}"),
            }
        }
        assert_eq!(won.len(), 1, "{name}");
        let winner = won[0].0;
        for (item, c) in &lost {
            let expected = if *item == winner {
                "REJECTED"
            } else {
                "CANCELLED"
            };
            assert!(c[0].contains(expected), "{name}: {item}: {c:?}");
        }
        let r = request_of(&store, ACME, MIXED_PENDING).await;
        assert_eq!(r.version, 2, "{name}");
        let statuses: Vec<_> = [
            MIXED_APPROVED,
            MIXED_PENDING,
            MIXED_PENDING_2,
            MIXED_NOT_READY,
        ]
        .iter()
        .map(|id| (*id, r.item(id).unwrap().approval_status))
        .collect();
        for (id, s) in statuses {
            let expected = match id {
                MIXED_APPROVED => ApprovalStatus::Approved,
                _ if id == winner => ApprovalStatus::Rejected,
                _ => ApprovalStatus::Cancelled,
            };
            assert_eq!(s, expected, "{name}: {id}");
        }
    }
}

#[tokio::test]
async fn a_reject_whose_answer_was_lost_still_succeeds() {
    let store = lost_ack::lost_ack_store(DEMO_SEED).await;
    let item = reject(
        &shared::plan::Runner::new(&store),
        &manager(),
        NE_ITEM_MANAGER_PENDING,
        &comment("no"),
        now(),
    )
    .await
    .expect("the write landed: the caller is told so, not that it is REJECTED");
    assert_eq!(item.approval_status, ApprovalStatus::Rejected);
    assert_eq!(
        store.hooks.lost.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(
        request_of(&store, ACME, NE_ITEM_MANAGER_PENDING)
            .await
            .version,
        2
    );
}
