//! Size bounds (SPEC §2, docs/decisions.md "Size bounds"), each checked on every
//! store: a field beyond its bound is a 400 naming it, and nothing is
//! stored; text that would take a request, one of its items or a row
//! showing it past its budget is refused the same way, while a decision
//! that adds no text always goes through.

mod common;

use chrono::{DateTime, SubsecRound, Utc};
use common::*;
use serde_json::{json, Value};
use shared::auth::Principal;
use shared::domain::access_requests::{cancel::cancel, close::close, submit::submit};
use shared::domain::approvals::decide;
use shared::domain::non_employee::{approve as ne_approve, create as ne_create};
use shared::error::ApiError;
use shared::limits;
use shared::models::{
    AccessRequest, CancelAccessRequest, CloseAccessRequest, CommentBody, ForwardApprovalDto,
    NonEmployeeApprovalDecision, RequestState, WorkItemState,
};
use shared::seed::SeedFile;
use shared::store::Store;

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn sam() -> Principal {
    principal(ACME, Some(SOURCE_ADMIN), &["SOURCE_ADMIN"])
}

fn request(v: Value) -> AccessRequest {
    serde_json::from_value(v).unwrap()
}

/// The one cause of a 400 that names `field` (panics otherwise).
fn cause_naming(label: &str, e: ApiError, field: &str) -> String {
    let c = causes(e);
    c.iter()
        .find(|c| c.contains(field))
        .cloned()
        .unwrap_or_else(|| panic!("{label}: no cause names {field}: {c:?}"))
}

/// Eve's requests, as the status list shows them to an admin.
async fn eves_rows(store: &Store) -> usize {
    let q = shared::domain::access_requests::status::parse_query(
        &[("requested-for".to_string(), vec![EMPLOYEE.to_string()])]
            .into_iter()
            .collect(),
    )
    .unwrap();
    shared::domain::access_requests::status::list(store, &admin(), &q)
        .await
        .unwrap()
        .total
}

#[tokio::test]
async fn submission_fields_beyond_their_bounds_are_400s_and_store_nothing() {
    let eng = |extra: Value| {
        let mut item = json!({"type": "ACCESS_PROFILE", "id": AP_ENGINEERING});
        item.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        item
    };
    let many: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("k{i}"), json!("v"))).collect();
    let too_many_targets: Vec<String> = (0..101).map(|i| format!("id-{i}")).collect();
    for (name, store) in stores().await {
        for (label, body, field, fragment) in [
            (
                "comment",
                json!({"requestedFor": [EMPLOYEE], "requestedItems": [eng(json!({"comment": "x".repeat(4001)}))]}),
                "requestedItems[0].comment",
                "4001 characters",
            ),
            (
                "control character",
                json!({"requestedFor": [EMPLOYEE], "requestedItems": [eng(json!({"comment": "a\u{0}b"}))]}),
                "requestedItems[0].comment",
                "U+0000",
            ),
            (
                "item metadata entries",
                json!({"requestedFor": [EMPLOYEE], "requestedItems": [eng(json!({"clientMetadata": many}))]}),
                "requestedItems[0].clientMetadata",
                "11 entries",
            ),
            (
                "metadata key",
                json!({"requestedFor": [EMPLOYEE], "requestedItems": [eng(json!({}))],
                       "clientMetadata": {"k".repeat(33): "v"}}),
                "clientMetadata key",
                "33 characters",
            ),
            (
                "metadata value",
                json!({"requestedFor": [EMPLOYEE], "requestedItems": [eng(json!({}))],
                       "clientMetadata": {"app": "v".repeat(129)}}),
                "clientMetadata[\"app\"]",
                "129 characters",
            ),
            (
                "targets",
                json!({"requestedFor": too_many_targets, "requestedItems": [eng(json!({}))]}),
                "requestedFor",
                "101 identities",
            ),
            (
                "target id",
                json!({"requestedFor": ["x".repeat(65)], "requestedItems": [eng(json!({}))]}),
                "requestedFor[0]",
                "not an id",
            ),
            (
                "item id",
                json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ROLE", "id": "a#b"}]}),
                "requestedItems[0].id",
                "not an id",
            ),
            (
                "date",
                json!({"requestedFor": [EMPLOYEE],
                       "requestedItems": [eng(json!({"removeDate": "9".repeat(10_000)}))]}),
                "requestedItems[0].removeDate",
                "10000 characters",
            ),
        ] {
            let e = submit(
                &shared::plan::Runner::new(&store),
                &employee(),
                request(body),
                now(),
            )
            .await
            .unwrap_err();
            let c = cause_naming(&format!("{name}: {label}"), e, field);
            assert!(c.contains(fragment), "{name}: {label}: {c}");
            assert!(
                c.len() < 400,
                "{name}: {label}: echoes at most a prefix: {c}"
            );
        }
        // 101 targets: one cause, not one per id.
        let e = submit(
            &shared::plan::Runner::new(&store),
            &admin(),
            request(json!({"requestedFor": too_many_targets, "requestedItems": [eng(json!({}))]})),
            now(),
        )
        .await
        .unwrap_err();
        assert_eq!(causes(e).len(), 1, "{name}");
        assert_eq!(eves_rows(&store).await, 0, "{name}: nothing stored");
        // At the bounds: accepted.
        let meta: serde_json::Map<String, Value> = (0..10)
            .map(|i| (format!("{i}{}", "k".repeat(31)), json!("v".repeat(128))))
            .collect();
        submit(
            &shared::plan::Runner::new(&store),
            &employee(),
            request(json!({"requestedFor": [EMPLOYEE],
                           "requestedItems": [eng(json!({"comment": "x".repeat(4000), "clientMetadata": meta}))],
                           "clientMetadata": meta})),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(eves_rows(&store).await, 1, "{name}");
    }
}

#[tokio::test]
async fn a_submission_whose_text_would_outgrow_its_budgets_is_refused_whole() {
    for (name, store) in stores_with(&large_seed(25)).await {
        // 25 items, each with 4000 four-byte characters of comment: 400 KB
        // of text in one request.
        let items: Vec<Value> = (0..25)
            .map(|i| json!({"type": "ENTITLEMENT", "id": bulk_entitlement(i), "comment": "🦀".repeat(4000)}))
            .collect();
        let e = submit(
            &shared::plan::Runner::new(&store),
            &employee(),
            request(json!({"requestedFor": [EMPLOYEE], "requestedItems": items})),
            now(),
        )
        .await
        .unwrap_err();
        let c = cause_naming(name, e, "the access request as stored");
        assert!(c.contains("bytes too many"), "{name}: {c}");
        // One item whose comment is 4000 four-byte characters: its status
        // row would be past the bound of a row.
        let e = submit(
            &shared::plan::Runner::new(&store),
            &employee(),
            request(json!({"requestedFor": [EMPLOYEE],
                           "requestedItems": [{"type": "ENTITLEMENT", "id": bulk_entitlement(0),
                                               "comment": "🦀".repeat(4000)}]})),
            now(),
        )
        .await
        .unwrap_err();
        let c = cause_naming(name, e, "requestedItems[0]");
        assert!(c.contains("bytes too many"), "{name}: {c}");
        assert_eq!(eves_rows(&store).await, 0, "{name}: nothing stored");
        // The same 25 items with shorter comments fit.
        let items: Vec<Value> = (0..25)
            .map(|i| json!({"type": "ENTITLEMENT", "id": bulk_entitlement(i), "comment": "x".repeat(1000)}))
            .collect();
        submit(
            &shared::plan::Runner::new(&store),
            &employee(),
            request(json!({"requestedFor": [EMPLOYEE], "requestedItems": items})),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

#[tokio::test]
async fn decision_comments_share_the_items_budget_and_a_decision_without_one_always_fits() {
    for (name, store) in stores().await {
        // Engineering Access: Maria's step, then Sam's; a long request comment.
        let id = submit(
            &shared::plan::Runner::new(&store),
            &employee(),
            request(json!({"requestedFor": [EMPLOYEE],
                           "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING,
                                               "comment": "x".repeat(4000)}]})),
            now(),
        )
        .await
        .unwrap()
        .new_requests[0]
            .access_request_ids[0]
            .clone();
        let step = pending_approval_of(&store, ACME, &id).await;
        let before = stored(&store, ACME, &id).await;
        let heavy = CommentBody {
            comment: Some("🦀".repeat(4000)),
        };
        for e in [
            decide::approve(
                &shared::plan::Runner::new(&store),
                &manager(),
                &step,
                &heavy,
                now(),
            )
            .await
            .unwrap_err(),
            decide::reject(
                &shared::plan::Runner::new(&store),
                &manager(),
                &step,
                &heavy,
                now(),
            )
            .await
            .unwrap_err(),
        ] {
            let c = cause_naming(name, e, "comment");
            assert!(c.contains("bytes too many"), "{name}: {c}");
        }
        assert_eq!(
            stored(&store, ACME, &id).await,
            before,
            "{name}: nothing stored"
        );
        // Most of what is left in the rows of the item, then the next
        // approver finds them full.
        decide::approve(
            &shared::plan::Runner::new(&store),
            &manager(),
            &step,
            &CommentBody {
                comment: Some("🦀".repeat(1500)),
            },
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let last = pending_approval_of(&store, ACME, &id).await;
        let before = stored(&store, ACME, &id).await;
        let e = decide::approve(
            &shared::plan::Runner::new(&store),
            &sam(),
            &last,
            &CommentBody {
                comment: Some("🦀".repeat(1500)),
            },
            now(),
        )
        .await
        .unwrap_err();
        assert!(cause_naming(name, e, "comment").contains("bytes too many"));
        assert_eq!(stored(&store, ACME, &id).await, before, "{name}");
        // Without a comment the step is decided: no request gets stuck.
        decide::approve(
            &shared::plan::Runner::new(&store),
            &sam(),
            &last,
            &CommentBody::default(),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(
            stored(&store, ACME, &id).await.state,
            RequestState::RequestCompleted,
            "{name}"
        );
    }
}

#[tokio::test]
async fn decision_cancel_and_close_texts_beyond_their_bounds_are_400s() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        let before = stored(&store, ACME, &id).await;
        let long = |n: usize| CommentBody {
            comment: Some("x".repeat(n)),
        };
        for (label, e, field, fragment) in [
            (
                "approve",
                decide::approve(
                    &shared::plan::Runner::new(&store),
                    &manager(),
                    &step,
                    &long(4001),
                    now(),
                )
                .await
                .unwrap_err(),
                "comment",
                "4001 characters",
            ),
            (
                "reject",
                decide::reject(
                    &shared::plan::Runner::new(&store),
                    &manager(),
                    &step,
                    &long(4001),
                    now(),
                )
                .await
                .unwrap_err(),
                "comment",
                "4001 characters",
            ),
            (
                "approve, control character",
                decide::approve(
                    &shared::plan::Runner::new(&store),
                    &manager(),
                    &step,
                    &CommentBody {
                        comment: Some("ok\u{1b}[2J".into()),
                    },
                    now(),
                )
                .await
                .unwrap_err(),
                "comment",
                "U+001B",
            ),
            (
                "cancel",
                cancel(
                    &shared::plan::Runner::new(&store),
                    &employee(),
                    &CancelAccessRequest {
                        account_activity_id: id.clone(),
                        comment: "x".repeat(1001),
                    },
                    now(),
                )
                .await
                .unwrap_err(),
                "comment",
                "1001 characters",
            ),
            (
                "close",
                close(
                    &shared::plan::Runner::new(&store),
                    &admin(),
                    &CloseAccessRequest {
                        access_request_ids: vec![id.clone()],
                        message: Some("x".repeat(1001)),
                        execution_status: None,
                        completion_status: None,
                    },
                    now(),
                )
                .await
                .unwrap_err(),
                "message",
                "1001 characters",
            ),
        ] {
            let c = cause_naming(&format!("{name}: {label}"), e, field);
            assert!(c.contains(fragment), "{name}: {label}: {c}");
        }
        assert_eq!(stored(&store, ACME, &id).await, before, "{name}: unchanged");
        // At its bound, the cancel's comment is taken.
        cancel(
            &shared::plan::Runner::new(&store),
            &employee(),
            &CancelAccessRequest {
                account_activity_id: id.clone(),
                comment: "é".repeat(1000),
            },
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(
            stored(&store, ACME, &id).await.state,
            RequestState::Cancelled
        );
    }
}

#[tokio::test]
async fn a_step_is_forwarded_at_most_five_times() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        // Maria → Evan → Oscar → Evan → Oscar → Evan: five forwards.
        let hops = [
            (manager(), ENGINEER),
            (engineer(), OUTSIDER),
            (outsider(), ENGINEER),
            (engineer(), OUTSIDER),
            (outsider(), ENGINEER),
        ];
        for (who, to) in &hops {
            decide::forward(
                &shared::plan::Runner::new(&store),
                who,
                &step,
                &ForwardApprovalDto {
                    new_owner_id: to.to_string(),
                    comment: "y".repeat(255),
                },
                now(),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        }
        let before = stored(&store, ACME, &id).await;
        let e = decide::forward(
            &shared::plan::Runner::new(&store),
            &engineer(),
            &step,
            &ForwardApprovalDto {
                new_owner_id: OUTSIDER.into(),
                comment: "once more".into(),
            },
            now(),
        )
        .await
        .unwrap_err();
        let c = causes(e).join("; ");
        assert!(c.contains("at most 5 times"), "{name}: {c}");
        let after = stored(&store, ACME, &id).await;
        assert_eq!(after, before, "{name}: nothing stored");
        let a = after.approval(&step).unwrap();
        assert_eq!(a.forward_history.len(), limits::MAX_FORWARDS_PER_STEP);
        assert_eq!(a.status, WorkItemState::Pending);
        // The fifth owner still decides it.
        decide::approve(
            &shared::plan::Runner::new(&store),
            &engineer(),
            &step,
            &CommentBody::default(),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

#[tokio::test]
async fn a_non_employee_request_stays_within_its_list_row() {
    for (name, store) in stores().await {
        // 16 KB of data (four-byte characters): most of a row.
        let data: serde_json::Map<String, Value> = (0..10)
            .map(|i| (format!("k{i}"), json!("🦀".repeat(400))))
            .collect();
        let created = ne_create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &json!({"accountName": "row.budget", "firstName": "Row", "lastName": "Budget",
                    "email": "row.budget@example.com", "phone": "5125550100", "manager": MANAGER,
                    "sourceId": "a0303682-5e4a-44f7-bdc2-6ce611250001", "data": data,
                    "startDate": "2026-12-14T00:00:00Z", "endDate": "2027-06-30T00:00:00Z"}),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let item = created.approval_items[0].id.clone();
        let e = ne_approve::approve(
            &shared::plan::Runner::new(&store),
            &manager(),
            &item,
            &NonEmployeeApprovalDecision {
                comment: Some("x".repeat(4000)),
            },
            now(),
        )
        .await
        .unwrap_err();
        let c = cause_naming(name, e, "comment");
        assert!(
            c.contains("as listed") && c.contains("bytes too many"),
            "{name}: {c}"
        );
        // Without a comment it is approved.
        let approved = ne_approve::approve(
            &shared::plan::Runner::new(&store),
            &manager(),
            &item,
            &NonEmployeeApprovalDecision { comment: None },
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(approved.comment, None, "{name}");
        // Ids of the wrong shape are refused before anything is read.
        let e = ne_create::create(
            &shared::plan::Runner::new(&store),
            &employee(),
            &json!({"accountName": "other", "firstName": "A", "lastName": "B",
                    "email": "a.b@example.com", "phone": "1", "manager": "jane doe",
                    "sourceId": "x".repeat(300),
                    "startDate": "2026-12-14T00:00:00Z", "endDate": "2027-06-30T00:00:00Z"}),
            now(),
        )
        .await
        .unwrap_err();
        let c = causes(e);
        assert!(c.iter().any(|c| c.starts_with("manager")), "{name}: {c:?}");
        assert!(c.iter().any(|c| c.starts_with("sourceId")), "{name}: {c:?}");
    }
}

#[test]
fn the_seed_is_held_to_the_same_bounds() {
    let mut seed: Value = serde_json::from_str(&rules_seed()).unwrap();
    let acme = &mut seed["tenants"][0];
    acme["identities"][1]["name"] = json!("n".repeat(65));
    acme["catalog"][0]["description"] = json!("d".repeat(129));
    acme["governanceGroups"][0]["id"] = json!("group#1");
    let e = SeedFile::from_json(&seed.to_string()).unwrap().tenants[0]
        .resolve()
        .unwrap_err()
        .to_string();
    for fragment in ["65 characters", "129 characters", "group#1"] {
        assert!(e.contains(fragment), "{fragment}: {e}");
    }
}
