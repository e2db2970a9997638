//! `POST /beta/access-requests/close` rules (SPEC §3, §7), each checked on
//! every store; the cost of closing 500 requests (counted store calls here,
//! counted DynamoDB requests in `close_cost.rs`).

mod common;
mod lost_ack;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use common::hooked::{Call, Hooked, Hooks};
use common::*;
use serde_json::json;
use shared::domain::access_requests::close::{
    close, CloseOutcome, COMPLETED_EVENT, DEFAULT_MESSAGE, MAX_IDS, PROVISIONING_COMPLETED_EVENT,
    STARTED_EVENT, WRITE_CONCURRENCY,
};
use shared::error::ApiError;
use shared::models::{CloseAccessRequest, PhaseState, RequestState, WorkItemState};
use shared::records::{AccessRequestRecord, EventRecord};
use shared::store::{Store, StoreError};

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn body(v: serde_json::Value) -> CloseAccessRequest {
    serde_json::from_value(v).expect("test body deserializes")
}

fn ids_body(ids: &[String]) -> CloseAccessRequest {
    body(json!({ "accessRequestIds": ids }))
}

/// Four executing requests of distinct identities/items.
async fn four_requests(store: &Store) -> Vec<String> {
    vec![
        eves_request(store).await,
        submit_one(store, &employee(), EMPLOYEE, "ROLE", ROLE_FINANCE).await,
        submit_one(
            store,
            &engineer(),
            ENGINEER,
            "ACCESS_PROFILE",
            AP_ENGINEERING,
        )
        .await,
        submit_one(store, &engineer(), ENGINEER, "ENTITLEMENT", ENT_GITHUB).await,
    ]
}

async fn events_named(store: &Store, name: &str) -> Vec<EventRecord> {
    store
        .list_events(ACME)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.name == name)
        .collect()
}

#[tokio::test]
async fn between_1_and_500_ids() {
    for (name, store) in stores().await {
        for n in [0, MAX_IDS + 1] {
            let ids: Vec<String> = (0..n).map(|i| format!("{i:032x}")).collect();
            let c = causes(
                close(
                    &shared::plan::Runner::new(&store),
                    &admin(),
                    &ids_body(&ids),
                    now(),
                )
                .await
                .unwrap_err(),
            );
            assert_eq!(c.len(), 1, "{name}: {c:?}");
            assert!(
                c[0].contains("accessRequestIds")
                    && c[0].contains("500")
                    && c[0].contains(&n.to_string()),
                "{name}: {c:?}"
            );
        }
        // Nothing was recorded for the refused calls.
        assert!(
            events_named(&store, STARTED_EVENT).await.is_empty(),
            "{name}"
        );

        let mut ids: Vec<String> = (0..MAX_IDS - 1).map(|i| format!("{i:032x}")).collect();
        ids.push(eves_request(&store).await);
        let o = close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &ids_body(&ids),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(o.closed, vec![ids[MAX_IDS - 1].clone()], "{name}");
        assert_eq!(o.errored.len(), MAX_IDS - 1, "{name}");
    }
}

#[tokio::test]
async fn blank_ids_and_a_blank_message_are_refused() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let c = causes(
            close(
                &shared::plan::Runner::new(&store),
                &admin(),
                &ids_body(&[id.clone(), "".into(), "  ".into()]),
                now(),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(c.len(), 2, "{name}: {c:?}");
        assert!(c[0].contains("accessRequestIds[1]"), "{name}: {c:?}");
        assert!(c[1].contains("accessRequestIds[2]"), "{name}: {c:?}");
        let c = causes(
            close(
                &shared::plan::Runner::new(&store),
                &admin(),
                &body(json!({"accessRequestIds": [id], "message": " "})),
                now(),
            )
            .await
            .unwrap_err(),
        );
        assert!(c[0].contains("message"), "{name}: {c:?}");
        assert_eq!(stored(&store, ACME, &id).await.version, 1, "{name}");
    }
}

#[test]
fn enums_are_case_sensitive_and_null_means_default() {
    for v in [
        json!({"accessRequestIds": ["a"], "executionStatus": "terminated"}),
        json!({"accessRequestIds": ["a"], "executionStatus": "TERMINATED"}),
        json!({"accessRequestIds": ["a"], "completionStatus": "success"}),
        json!({"accessRequestIds": ["a"], "completionStatus": "Done"}),
    ] {
        let req = lambda_http::Request::new(lambda_http::Body::from(v.to_string()));
        let c = causes(shared::http::json_body::<CloseAccessRequest>(&req).unwrap_err());
        assert!(c[0].contains("Status"), "{v} -> {c:?}");
    }
    let req = lambda_http::Request::new(lambda_http::Body::from(r#"{"message": "x"}"#));
    let c = causes(shared::http::json_body::<CloseAccessRequest>(&req).unwrap_err());
    assert!(c[0].contains("accessRequestIds"), "{c:?}");
    let b = body(
        json!({"accessRequestIds": ["a"], "message": null, "executionStatus": null, "completionStatus": null}),
    );
    assert_eq!(b, ids_body(&["a".to_string()]));
}

#[tokio::test]
async fn only_org_admin_may_close() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let source_admin = principal(ACME, Some(SOURCE_ADMIN), &["SOURCE_ADMIN"]);
        for who in [
            employee(),
            manager(),
            outsider(),
            api_client(),
            source_admin,
        ] {
            let e = close(
                &shared::plan::Runner::new(&store),
                &who,
                &ids_body(std::slice::from_ref(&id)),
                now(),
            )
            .await
            .unwrap_err();
            assert!(
                matches!(e, ApiError::Forbidden(_)),
                "{name}: {who:?} -> {e:?}"
            );
        }
        assert_eq!(stored(&store, ACME, &id).await.version, 1, "{name}");
        assert!(store.list_events(ACME).await.unwrap().is_empty(), "{name}");
        // An API-only token with ORG_ADMIN may.
        let api_admin = principal(ACME, None, &["ORG_ADMIN"]);
        let o = close(
            &shared::plan::Runner::new(&store),
            &api_admin,
            &ids_body(std::slice::from_ref(&id)),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(o.closed, vec![id], "{name}");
    }
}

#[tokio::test]
async fn defaults_terminate_with_the_default_message() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let at = now();
        let o = close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &ids_body(std::slice::from_ref(&id)),
            at,
        )
        .await
        .unwrap();
        assert_eq!(
            o.into_answer(),
            CloseOutcome {
                closed: vec![id.clone()],
                errored: vec![]
            },
            "{name}"
        );
        let r = stored(&store, ACME, &id).await;
        assert_eq!(r.state, RequestState::Terminated, "{name}");
        assert_eq!(r.warnings, vec![DEFAULT_MESSAGE.to_string()], "{name}");
        assert_eq!(r.version, 2, "{name}");
        assert_eq!(r.modified, at, "{name}");
        assert!(r.cancellation.is_none(), "{name}");
        for a in r.items.iter().flat_map(|i| &i.approvals) {
            assert_eq!(a.status, WorkItemState::Cancelled, "{name}");
        }
        for p in &r.phases {
            assert_eq!(p.state, PhaseState::Cancelled, "{name}: {p:?}");
            assert!(p.finished.is_some(), "{name}");
        }
        let started = &events_named(&store, STARTED_EVENT).await[0];
        assert_eq!(started.attributes["message"], DEFAULT_MESSAGE);
        assert_eq!(started.attributes["executionStatus"], "Terminated");
        assert_eq!(started.attributes["completionStatus"], "Failure");
    }
}

#[tokio::test]
async fn each_execution_and_completion_status_leads_to_its_state() {
    let cases = [
        ("Terminated", "Failure", RequestState::Terminated),
        ("Terminated", "Success", RequestState::Terminated),
        ("Terminated", "Incomplete", RequestState::Terminated),
        ("Completed", "Success", RequestState::RequestCompleted),
        (
            "Completed",
            "Incomplete",
            RequestState::NotAllItemsProvisioned,
        ),
        ("Completed", "Failure", RequestState::ProvisioningFailed),
    ];
    for (name, store) in stores().await {
        for (execution, completion, state) in cases {
            let id = eves_request(&store).await;
            close(
                &shared::plan::Runner::new(&store),
                &admin(),
                &body(json!({"accessRequestIds": [id], "executionStatus": execution, "completionStatus": completion})),
                now(),
            )
            .await
            .unwrap();
            let r = stored(&store, ACME, &id).await;
            assert_eq!(r.state, state, "{name}: {execution}+{completion}");
            let s = &status_of(&store, &id).await[0];
            assert_eq!(s.state, state, "{name}");
            assert!(!s.cancelable, "{name}");
            // Every phase is finished; a completed close records provisioning once.
            let phases = s.access_request_phases.as_ref().unwrap();
            assert!(
                phases.iter().all(|p| p.finished.is_some()),
                "{name}: {phases:?}"
            );
            let provisioning = phases
                .iter()
                .filter(|p| p.name == "PROVISIONING_PHASE")
                .count();
            assert_eq!(
                provisioning,
                usize::from(execution == "Completed"),
                "{name}: {phases:?}"
            );
        }
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test]
async fn the_message_is_shown_as_a_warning() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &body(json!({"accessRequestIds": [id], "message": "Stuck since the source outage"})),
            now(),
        )
        .await
        .unwrap();
        let s = &status_of(&store, &id).await[0];
        let texts: Vec<&str> = s
            .error_messages
            .as_ref()
            .expect("warnings")
            .iter()
            .flatten()
            .map(|m| m.text.as_str())
            .collect();
        assert_eq!(texts, vec!["Stuck since the source outage"], "{name}");
    }
}

#[tokio::test]
async fn duplicate_ids_count_once() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let unknown = "ffffffffffffffffffffffffffffffff".to_string();
        let o = close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &ids_body(&[
                id.clone(),
                id.clone(),
                unknown.clone(),
                id.clone(),
                unknown.clone(),
            ]),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(
            o.into_answer(),
            CloseOutcome {
                closed: vec![id.clone()],
                errored: vec![unknown.clone()]
            },
            "{name}"
        );
        let r = stored(&store, ACME, &id).await;
        assert_eq!((r.version, r.warnings.len()), (2, 1), "{name}");
        assert_eq!(
            events_named(&store, PROVISIONING_COMPLETED_EVENT)
                .await
                .len(),
            1,
            "{name}"
        );
        let started = &events_named(&store, STARTED_EVENT).await[0];
        assert_eq!(
            started.access_request_ids,
            vec![id.clone(), unknown.clone()],
            "{name}"
        );
        let completed = &events_named(&store, COMPLETED_EVENT).await[0];
        assert_eq!(completed.errored_ids, vec![unknown], "{name}");
    }
}

#[tokio::test]
async fn final_requests_are_left_unchanged_and_counted_in_error() {
    for (name, store) in stores().await {
        let ids = four_requests(&store).await;
        let completed = submit_one(&store, &employee(), EMPLOYEE, "ACCESS_PROFILE", AP_WIKI).await;
        shared::domain::access_requests::cancel::cancel(
            &shared::plan::Runner::new(&store),
            &employee(),
            &shared::models::CancelAccessRequest {
                account_activity_id: ids[0].clone(),
                comment: "mistake".into(),
            },
            now(),
        )
        .await
        .unwrap();
        close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &ids_body(&ids[1..2]),
            now(),
        )
        .await
        .unwrap();
        let mut before = Vec::new();
        for id in [&ids[0], &ids[1], &completed] {
            before.push(stored(&store, ACME, id).await);
        }

        let all = vec![
            ids[0].clone(),
            ids[1].clone(),
            completed.clone(),
            ids[2].clone(),
        ];
        let o = close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &body(json!({"accessRequestIds": all, "executionStatus": "Completed", "completionStatus": "Success"})),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(o.closed, vec![ids[2].clone()], "{name}");
        assert_eq!(
            o.errored,
            vec![ids[0].clone(), ids[1].clone(), completed.clone()],
            "{name}"
        );
        for b in before {
            assert_eq!(
                stored(&store, ACME, &b.id).await,
                b,
                "{name}: final request changed"
            );
        }
        let completed = events_named(&store, COMPLETED_EVENT).await;
        assert_eq!(completed.len(), 2, "{name}");
        let last = completed
            .iter()
            .find(|e| e.access_request_ids == all)
            .unwrap();
        assert_eq!(last.errored_ids, o.errored, "{name}");
        // The request not named stays as it was.
        assert_eq!(
            stored(&store, ACME, &ids[3]).await.state,
            RequestState::Executing
        );
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test]
async fn close_works_after_the_approval_step_has_passed() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        approve_pending(&store, &manager(), &id).await;
        let r = stored(&store, ACME, &id).await;
        let mut pending = r.clone();
        pending.id = "seeded00000000000000000000000002".into();
        for (n, a) in pending.items[0].approvals.iter_mut().enumerate() {
            a.approval_id = format!("seeded0000000000000000000000a00{n}");
        }
        pending.state = RequestState::ProvisioningVerificationPending;
        pending.version = 1;
        // Approved, and provisioning under way.
        pending.phases[0].state = PhaseState::Completed;
        pending.phases[0].finished = Some(now());
        pending.phases[0].result = Some(shared::models::PhaseResult::Successful);
        pending.phases.push(shared::records::PhaseRecord {
            name: "PROVISIONING_PHASE".into(),
            state: PhaseState::Executing,
            started: now(),
            finished: None,
            result: None,
        });
        load_requests(&store, ACME, vec![pending.clone()]).await;

        let o = close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &body(json!({"accessRequestIds": [id, pending.id], "executionStatus": "Completed", "completionStatus": "Success"})),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(o.closed.len(), 2, "{name}: {o:?}");
        let after = stored(&store, ACME, &id).await;
        assert_eq!(after.state, RequestState::RequestCompleted, "{name}");
        assert_eq!(after.version, 3, "{name}");
        // The decision stands; only the undecided step is cancelled.
        let statuses: Vec<_> = after.items[0].approvals.iter().map(|a| a.status).collect();
        assert_eq!(
            statuses,
            vec![WorkItemState::Approved, WorkItemState::Cancelled],
            "{name}"
        );
        let closed = stored(&store, ACME, &pending.id).await;
        assert_eq!(closed.state, RequestState::RequestCompleted, "{name}");
        // The provisioning phase under way is the one that completes.
        let provisioning: Vec<_> = closed
            .phases
            .iter()
            .filter(|p| p.name == "PROVISIONING_PHASE")
            .collect();
        assert_eq!(provisioning.len(), 1, "{name}: {:?}", closed.phases);
        assert_eq!(provisioning[0].state, PhaseState::Completed, "{name}");
        assert_eq!(provisioning[0].started, pending.phases[1].started, "{name}");
        assert!(provisioning[0].finished.is_some(), "{name}");
        assert_eq!(
            provisioning[0].result,
            Some(shared::models::PhaseResult::Successful),
            "{name}"
        );
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test]
async fn unknown_ids_do_not_fail_the_call_and_are_listed_in_error() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let unknown = vec![
            "0000000000000000000000000000dead".to_string(),
            "not-even-an-id".to_string(),
        ];
        let o = close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &ids_body(&[unknown[0].clone(), id.clone(), unknown[1].clone()]),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(o.closed, vec![id.clone()], "{name}");
        assert_eq!(o.errored, unknown, "{name}");
        assert_eq!(
            events_named(&store, COMPLETED_EVENT).await[0].errored_ids,
            unknown,
            "{name}"
        );

        // Only unknown ids: still accepted.
        let o = close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &ids_body(&unknown),
            now(),
        )
        .await
        .unwrap();
        assert!(o.closed.is_empty(), "{name}");
        assert_eq!(o.errored, unknown, "{name}");
    }
}

#[tokio::test]
async fn another_tenants_ids_are_unknown() {
    for (name, store) in stores().await {
        let globex_admin = principal(GLOBEX, Some(GLOBEX_ADMIN), &["ORG_ADMIN"]);
        let theirs = submit_one(&store, &globex_admin, GLOBEX_ADMIN, "ROLE", GLOBEX_ROLE).await;
        let o = close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &ids_body(std::slice::from_ref(&theirs)),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(
            o.into_answer(),
            CloseOutcome {
                closed: vec![],
                errored: vec![theirs.clone()]
            },
            "{name}"
        );
        let r = stored(&store, GLOBEX, &theirs).await;
        assert_eq!((r.state, r.version), (RequestState::Executing, 1), "{name}");
        assert!(
            store.list_events(GLOBEX).await.unwrap().is_empty(),
            "{name}: events leak across tenants"
        );
    }
}

#[tokio::test]
async fn audit_and_provisioning_events_are_recorded() {
    for (name, store) in stores().await {
        let ids = four_requests(&store).await;
        let unknown = "0000000000000000000000000000beef".to_string();
        let mut asked = ids[..3].to_vec();
        asked.push(unknown.clone());
        let o = close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &body(json!({"accessRequestIds": asked, "message": "bulk close", "executionStatus": "Completed", "completionStatus": "Incomplete"})),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(o.closed, ids[..3].to_vec(), "{name}");

        let events = store.list_events(ACME).await.unwrap();
        let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
        // Oldest first: started, one per closed request, completed.
        assert_eq!(names.len(), 5, "{name}: {names:?}");
        assert_eq!(names[0], STARTED_EVENT, "{name}: {names:?}");
        assert_eq!(names[4], COMPLETED_EVENT, "{name}: {names:?}");
        assert!(
            names[1..4]
                .iter()
                .all(|n| *n == PROVISIONING_COMPLETED_EVENT),
            "{name}: {names:?}"
        );

        let started = &events[0];
        assert_eq!(started.access_request_ids, asked, "{name}");
        assert!(started.errored_ids.is_empty(), "{name}");
        assert_eq!(started.actor.as_ref().unwrap().id, ADMIN, "{name}");
        assert_eq!(started.attributes["message"], "bulk close");
        assert_eq!(started.attributes["executionStatus"], "Completed");
        assert_eq!(started.attributes["completionStatus"], "Incomplete");
        let completed = &events[4];
        assert_eq!(completed.access_request_ids, asked, "{name}");
        assert_eq!(completed.errored_ids, vec![unknown], "{name}");

        let mut provisioned: Vec<String> = events[1..4]
            .iter()
            .map(|e| {
                assert_eq!(e.access_request_ids.len(), 1, "{name}");
                assert_eq!(e.attributes["state"], "NOT_ALL_ITEMS_PROVISIONED", "{name}");
                e.access_request_ids[0].clone()
            })
            .collect();
        provisioned.sort();
        let mut expected = ids[..3].to_vec();
        expected.sort();
        assert_eq!(provisioned, expected, "{name}");
        assert!(
            events.windows(2).all(|w| w[0].created <= w[1].created),
            "{name}"
        );
    }
}

#[tokio::test]
async fn events_of_one_millisecond_still_read_in_stage_order() {
    for (name, store) in stores().await {
        let ids = four_requests(&store).await;
        // A `now` ahead of the wall clock: every event of the call carries
        // the same millisecond, so only their stage orders them.
        let ahead = now() + chrono::Duration::minutes(1);
        close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &body(json!({"accessRequestIds": ids[..2].to_vec()})),
            ahead,
        )
        .await
        .unwrap();
        let events = store.list_events(ACME).await.unwrap();
        assert!(
            events.iter().all(|e| e.created == ahead),
            "{name}: {events:?}"
        );
        let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                STARTED_EVENT,
                PROVISIONING_COMPLETED_EVENT,
                PROVISIONING_COMPLETED_EVENT,
                COMPLETED_EVENT
            ],
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn racing_closes_take_effect_once_per_request() {
    for (name, store) in stores().await {
        let ids = four_requests(&store).await;
        let barrier = Arc::new(tokio::sync::Barrier::new(8));
        let mut tasks = Vec::new();
        for k in 0..8 {
            let (store, barrier) = (store.clone(), barrier.clone());
            let mut mine = ids.clone();
            mine.rotate_left(k % 4);
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                close(
                    &shared::plan::Runner::new(&store),
                    &admin(),
                    &body(json!({"accessRequestIds": mine, "message": format!("closer {k}")})),
                    now(),
                )
                .await
                .map(|o| (k, o))
            }));
        }
        let mut winners: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut errored = 0;
        for t in tasks {
            let (k, o) = t.await.unwrap().unwrap_or_else(|e| panic!("{name}: {e:?}"));
            errored += o.errored.len();
            for id in o.into_answer().closed {
                winners.entry(id).or_default().push(k);
            }
        }
        assert_eq!(errored, 4 * 7, "{name}");
        for id in &ids {
            let w = &winners[id];
            assert_eq!(w.len(), 1, "{name}: {id} closed by {w:?}");
            let r = stored(&store, ACME, id).await;
            assert_eq!(r.version, 2, "{name}");
            assert_eq!(r.warnings, vec![format!("closer {}", w[0])], "{name}");
        }
        assert_eq!(
            events_named(&store, PROVISIONING_COMPLETED_EVENT)
                .await
                .len(),
            4,
            "{name}"
        );
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

// ---------------------------------------------------------------------------
// Cost: batched reads, bounded parallel writes
// ---------------------------------------------------------------------------

/// Counts the calls made through a store and the most conditional writes
/// ever in flight at once; the writes of one request can be made to fail.
#[derive(Default)]
struct Counting {
    calls: Mutex<BTreeMap<&'static str, usize>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Writes of this request fail with this error.
    fail: Option<(String, StoreError)>,
}

#[async_trait]
impl Hooks for Counting {
    async fn before(&self, call: &Call<'_>) -> Result<(), StoreError> {
        *self.calls.lock().unwrap().entry(call.name()).or_default() += 1;
        if let Some(r) = call.updated_request() {
            if let Some((id, e)) = &self.fail {
                if *id == r.id {
                    return Err(e.clone());
                }
            }
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            // A round trip's worth of waiting lets the others start.
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        Ok(())
    }

    async fn after(&self, call: &Call<'_>, _ok: bool) -> Result<(), StoreError> {
        if call.updated_request().is_some() {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// The demo seed on the in-process store, counted.
async fn counting_store(fail: Option<(String, StoreError)>) -> Hooked<Counting> {
    Hooked::seeded(
        shared::seed::DEMO_SEED,
        Counting {
            fail,
            ..Default::default()
        },
    )
    .await
}

/// `n` executing copies of one submitted request, with fresh ids.
pub async fn executing_copies(store: &Store, n: usize) -> Vec<String> {
    let template = stored(store, ACME, &eves_request(store).await).await;
    let records: Vec<AccessRequestRecord> = (0..n)
        .map(|i| {
            let mut r = template.clone();
            r.id = format!("bulk{i:028x}");
            r
        })
        .collect();
    load_requests(store, ACME, records.clone()).await;
    records.into_iter().map(|r| r.id).collect()
}

// Paused time: each write takes its 2 ms of the runtime's clock, which
// moves only while every task waits, so the time taken is what the writes'
// overlap makes it, whatever the machine's load.
#[tokio::test(start_paused = true)]
async fn closing_500_reads_once_and_writes_with_bounded_parallelism() {
    let store = counting_store(None).await;
    let ids = executing_copies(&store, MAX_IDS).await;
    store.hooks.calls.lock().unwrap().clear();
    let started = tokio::time::Instant::now();
    let o = close(
        &shared::plan::Runner::new(&store),
        &admin(),
        &ids_body(&ids),
        now(),
    )
    .await
    .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(o.closed.len(), MAX_IDS);
    let calls = store.hooks.calls.lock().unwrap().clone();
    let max = store.hooks.max_in_flight.load(Ordering::SeqCst);
    eprintln!("memory: close {MAX_IDS} ids: store calls {calls:?}, at most {max} writes in flight, {elapsed:?}");
    assert_eq!(calls.get("get"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("update_request"), Some(&MAX_IDS), "{calls:?}");
    assert_eq!(calls.get("put_event"), Some(&2), "{calls:?}");
    assert!(
        max > 1 && max <= WRITE_CONCURRENCY,
        "writes in flight: {max}"
    );
    // 500 writes of 2 ms each, 50 at a time: 10 rounds (20 ms), far from
    // 500 sequential ones (1 s).
    let rounds = MAX_IDS.div_ceil(WRITE_CONCURRENCY) as u32;
    assert!(
        elapsed <= std::time::Duration::from_millis(2) * rounds * 2,
        "{elapsed:?} for {rounds} rounds of 2 ms"
    );
}

#[tokio::test]
async fn a_store_failure_on_some_ids_is_recorded_and_answered() {
    for (failure, expected_status) in [
        (StoreError::Unavailable("connection reset".into()), 500),
        (
            StoreError::Throttled("ProvisionedThroughputExceeded".into()),
            429,
        ),
    ] {
        let ids = {
            let probe = counting_store(None).await;
            executing_copies(&probe, 3).await
        };
        let store = counting_store(Some((ids[1].clone(), failure.clone()))).await;
        executing_copies(&store, 3).await;
        let e = close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &ids_body(&ids),
            now(),
        )
        .await
        .unwrap_err();
        assert_eq!(e.status(), expected_status, "{failure:?} -> {e:?}");
        // The others were closed, and the trail says which one was not.
        assert_eq!(
            stored(&store, ACME, &ids[0]).await.state,
            RequestState::Terminated
        );
        assert_eq!(
            stored(&store, ACME, &ids[1]).await.state,
            RequestState::Executing
        );
        assert_eq!(
            stored(&store, ACME, &ids[2]).await.state,
            RequestState::Terminated
        );
        let completed = events_named(&store, COMPLETED_EVENT).await;
        assert_eq!(completed.len(), 1);
        assert_eq!(completed[0].errored_ids, vec![ids[1].clone()]);
        // Nothing leaks into the client's view of the error.
        let body = shared::http::error_body(
            &e,
            "0".repeat(32).as_str(),
            shared::models::LocaleOrigin::Default,
        );
        assert!(!body.to_string().contains("connection reset"), "{body}");
    }
}

/// Counts the DynamoDB request attempts in flight at once.
#[derive(Debug, Default, Clone)]
struct ConcurrencyProbe {
    in_flight: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
}

impl ConcurrencyProbe {
    fn mark(&self, delta: i32) {
        if delta > 0 {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(now, Ordering::SeqCst);
        } else {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn max_in_flight(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }

    fn reset(&self) {
        self.max.store(0, Ordering::SeqCst);
    }
}

impl aws_sdk_dynamodb::config::Intercept for ConcurrencyProbe {
    fn name(&self) -> &'static str {
        "ConcurrencyProbe"
    }

    fn read_before_transmit(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.mark(1);
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.mark(-1);
        Ok(())
    }
}

/// The figure the README quotes: what closing 500 requests costs on DynamoDB.
/// Run with `bash scripts/with-moto.sh cargo test -p shared --test close
/// closing_500_on_dynamodb -- --nocapture` to see the line it prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn closing_500_on_dynamodb_costs_few_sequential_steps() {
    use shared::store::testing::{local_client, RequestCounter};
    use shared::store::DynamoStore;

    let Some(endpoint) = dynamo_endpoint() else {
        eprintln!("skipped: closing 500 ids is measured on DynamoDB only");
        return;
    };
    let counter = RequestCounter::new();
    let probe = ConcurrencyProbe::default();
    let counted = local_client(&endpoint, Some(counter.clone())).await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        counted
            .config()
            .to_builder()
            .interceptor(probe.clone())
            .build(),
    );
    let table = format!("test-close-cost-{}", uuid::Uuid::new_v4().simple());
    shared::store::dynamo::create_table(&client, &table)
        .await
        .unwrap();
    let store = shared::store::Store::new(std::sync::Arc::new(DynamoStore::new(client, table)));
    shared::seed::SeedFile::from_json(shared::seed::DEMO_SEED)
        .unwrap()
        .load_into(&store)
        .await
        .unwrap();
    let ids = executing_copies(&store, MAX_IDS).await;

    counter.reset();
    probe.reset();
    let started = std::time::Instant::now();
    let o = close(
        &shared::plan::Runner::new(&store),
        &admin(),
        &ids_body(&ids),
        now(),
    )
    .await
    .unwrap();
    let elapsed = started.elapsed();
    if !o.errored.is_empty() {
        let found = store.get_requests(ACME, &o.errored).await.unwrap();
        panic!(
            "{} of {MAX_IDS} finished in error, e.g. {:?}; of those {} are stored, states {:?}, versions {:?}; by op {:?}",
            o.errored.len(),
            &o.errored[..o.errored.len().min(3)],
            found.len(),
            found.iter().map(|r| r.state).take(5).collect::<Vec<_>>(),
            found.iter().map(|r| r.version).take(5).collect::<Vec<_>>(),
            counter.by_operation()
        );
    }
    assert_eq!(o.closed.len(), MAX_IDS);

    let by_op = counter.by_operation();
    let total = counter.total();
    let batch_gets = counter.count("BatchGetItem");
    let transactions = counter.count("TransactWriteItems");
    let puts = counter.count("PutItem");
    // Counted conservatively: every batch read as its own step although
    // they run side by side, then the write waves, then the two audit writes.
    let waves = transactions.div_ceil(WRITE_CONCURRENCY);
    let sequential = batch_gets + waves + puts;
    let max_in_flight = probe.max_in_flight();
    // Wall time is the server's: moto serves one request at a time, so it
    // shows the request count, not the parallelism DynamoDB would give.
    println!(
        "close {MAX_IDS} ids: {total} DynamoDB requests (by op {by_op:?}), ~{sequential} sequential steps \
         ({batch_gets} batch reads + {waves} write waves of {WRITE_CONCURRENCY} + {puts} audit writes; \
         at most {max_in_flight} requests in flight), {} ms",
        elapsed.as_millis()
    );

    assert_eq!(batch_gets, MAX_IDS.div_ceil(100), "{by_op:?}");
    assert_eq!(
        transactions, MAX_IDS,
        "one conditional write (with its event) per request: {by_op:?}"
    );
    assert_eq!(puts, 2, "the started and completed audit events: {by_op:?}");
    assert_eq!(
        total,
        batch_gets + transactions + puts,
        "nothing else: {by_op:?}"
    );
    assert!(sequential <= 25, "{sequential} sequential steps");
    assert!(
        max_in_flight <= WRITE_CONCURRENCY + 2,
        "{max_in_flight} in flight"
    );
    assert!(max_in_flight > 1, "writes ran one at a time");
}

#[tokio::test]
async fn a_close_whose_answers_were_lost_still_counts_its_closes() {
    let store = lost_ack::lost_ack_store(shared::seed::DEMO_SEED).await;
    let ids = four_requests(&store).await;
    let o = close(
        &shared::plan::Runner::new(&store),
        &admin(),
        &ids_body(&ids),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(
        o.closed, ids,
        "not counted in error: they were closed by this call"
    );
    assert!(o.errored.is_empty());
    assert_eq!(
        store.hooks.lost.load(std::sync::atomic::Ordering::SeqCst),
        4
    );
    assert!(events_named(&store, COMPLETED_EVENT).await[0]
        .errored_ids
        .is_empty());
    assert_eq!(
        events_named(&store, PROVISIONING_COMPLETED_EVENT)
            .await
            .len(),
        4
    );
}
