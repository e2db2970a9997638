//! `POST /access-requests/cancel` rules (SPEC §3, §6), each checked on every
//! store, and the cancel/close race (SPEC §6, §7: exactly one takes effect).

mod common;
mod lost_ack;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use common::*;
use serde_json::json;
use shared::auth::Principal;
use shared::domain::access_requests::close::{
    close, CloseOutcome, COMPLETED_EVENT, PROVISIONING_COMPLETED_EVENT,
};
use shared::domain::access_requests::{cancel::cancel, submit::submit};
use shared::error::ApiError;
use shared::models::{
    CancelAccessRequest, CloseAccessRequest, PhaseState, RequestState, WorkItemState,
};
use shared::store::Store;

/// Millisecond precision: what every store keeps of a timestamp.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn body(id: &str, comment: &str) -> CancelAccessRequest {
    CancelAccessRequest {
        account_activity_id: id.to_string(),
        comment: comment.to_string(),
    }
}

/// The manager approves the first step of Eve's request `id`, leaving the
/// request EXECUTING at its second step.
async fn approve_first_step(store: &Store, id: &str) {
    approve_pending(store, &manager(), id).await;
}

#[tokio::test]
async fn blank_fields_are_refused_each_with_its_own_cause() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        for (b, expected) in [
            (body("", "why"), vec!["accountActivityId"]),
            (body("   ", "why"), vec!["accountActivityId"]),
            (body(&id, ""), vec!["comment"]),
            (body(&id, " \t\n"), vec!["comment"]),
            (body("", ""), vec!["accountActivityId", "comment"]),
        ] {
            let c = causes(
                cancel(&shared::plan::Runner::new(&store), &employee(), &b, now())
                    .await
                    .unwrap_err(),
            );
            assert_eq!(c.len(), expected.len(), "{name}: {b:?} -> {c:?}");
            for (cause, field) in c.iter().zip(&expected) {
                assert!(cause.contains(field), "{name}: {b:?} -> {c:?}");
            }
        }
        assert_eq!(stored(&store, ACME, &id).await.version, 1, "{name}");
    }
}

#[test]
fn missing_fields_are_refused_at_the_edge_naming_them() {
    for (json, field) in [
        (r#"{"comment": "why"}"#, "accountActivityId"),
        (r#"{"accountActivityId": "abc"}"#, "comment"),
    ] {
        let req = lambda_http::Request::new(lambda_http::Body::from(json));
        let e = shared::http::json_body::<CancelAccessRequest>(&req).unwrap_err();
        let c = causes(e);
        assert!(c[0].contains(field), "{json} -> {c:?}");
    }
}

#[tokio::test]
async fn an_unknown_id_is_404() {
    for (name, store) in stores().await {
        let e = cancel(
            &shared::plan::Runner::new(&store),
            &admin(),
            &body("2c9180835d191a86015d28455b4affff", "why"),
            now(),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ApiError::NotFound(_)), "{name}: {e:?}");
    }
}

#[tokio::test]
async fn another_tenants_id_is_404_exactly_as_an_unknown_one() {
    for (name, store) in stores().await {
        let globex_admin = principal(GLOBEX, Some(GLOBEX_ADMIN), &["ORG_ADMIN"]);
        let theirs = submit_one(&store, &globex_admin, GLOBEX_ADMIN, "ROLE", GLOBEX_ROLE).await;
        let unknown = "0123456789abcdef0123456789abcdef";
        let e_theirs = cancel(
            &shared::plan::Runner::new(&store),
            &admin(),
            &body(&theirs, "why"),
            now(),
        )
        .await
        .unwrap_err();
        let e_unknown = cancel(
            &shared::plan::Runner::new(&store),
            &admin(),
            &body(unknown, "why"),
            now(),
        )
        .await
        .unwrap_err();
        // The same answer, but for the id it names.
        let text = |e: ApiError, id: &str| match e {
            ApiError::NotFound(m) => m.replace(id, "<id>"),
            other => panic!("{name}: expected 404, got {other:?}"),
        };
        assert_eq!(text(e_theirs, &theirs), text(e_unknown, unknown), "{name}");
        let r = stored(&store, GLOBEX, &theirs).await;
        assert_eq!((r.state, r.version), (RequestState::Executing, 1), "{name}");
    }
}

#[tokio::test]
async fn only_the_requester_or_org_admin_may_cancel() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        // Maria approves it and manages Eve, but did not submit it.
        for who in [manager(), outsider(), engineer(), api_client()] {
            let e = cancel(
                &shared::plan::Runner::new(&store),
                &who,
                &body(&id, "why"),
                now(),
            )
            .await
            .unwrap_err();
            assert!(
                matches!(e, ApiError::Forbidden(_)),
                "{name}: {who:?} -> {e:?}"
            );
        }
        // SOURCE_ADMIN is no substitute for ORG_ADMIN.
        let source_admin = principal(ACME, Some(SOURCE_ADMIN), &["SOURCE_ADMIN"]);
        let e = cancel(
            &shared::plan::Runner::new(&store),
            &source_admin,
            &body(&id, "why"),
            now(),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, ApiError::Forbidden(_)), "{name}: {e:?}");
        let r = stored(&store, ACME, &id).await;
        assert_eq!((r.state, r.version), (RequestState::Executing, 1), "{name}");
    }
}

#[tokio::test]
async fn the_requester_may_cancel_and_the_status_shows_it() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let at = now();
        cancel(
            &shared::plan::Runner::new(&store),
            &employee(),
            &body(&id, "requested by mistake"),
            at,
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));

        let r = stored(&store, ACME, &id).await;
        assert_eq!(r.state, RequestState::Cancelled, "{name}");
        assert_eq!(r.version, 2, "{name}");
        assert!(!r.cancelable(), "{name}");
        assert!(r.warnings.is_empty(), "{name}");
        let c = r.cancellation.as_ref().expect("cancellation details");
        assert_eq!(c.comment, "requested by mistake");
        assert_eq!(
            (c.owner.id.as_str(), c.owner.name.as_str()),
            (EMPLOYEE, "Eve Employee")
        );
        assert_eq!(c.modified, at, "{name}");
        // Steps are taken in order: only the first was reached.
        let approvals: Vec<_> = r.items.iter().flat_map(|i| &i.approvals).collect();
        assert_eq!(approvals.len(), 1, "{name}");
        for a in approvals {
            assert_eq!(a.status, WorkItemState::Cancelled, "{name}");
            assert_eq!(a.modified, Some(at), "{name}");
        }
        for p in &r.phases {
            assert!(p.finished.is_some(), "{name}: phase {} left open", p.name);
            assert_ne!(p.state, PhaseState::Executing, "{name}");
        }

        let items = status_of(&store, &id).await;
        assert_eq!(items.len(), 1, "{name}");
        let s = &items[0];
        assert_eq!(s.state, RequestState::Cancelled, "{name}");
        assert!(!s.cancelable, "{name}");
        let details = s.cancelled_request_details.as_ref().expect("details");
        assert_eq!(details.comment, "requested by mistake");
        assert_eq!(details.owner.id, EMPLOYEE);
        assert_eq!(details.owner.name, "Eve Employee");
        assert_eq!(details.modified, at);
        assert!(s
            .approval_details
            .iter()
            .all(|a| a.status == WorkItemState::Cancelled));
        // SDK-strict serialization of the entry.
        let v = serde_json::to_value(s).unwrap();
        assert_eq!(v["state"], "CANCELLED");
        assert_eq!(v["cancelledRequestDetails"]["owner"]["type"], "IDENTITY");

        // A cancelled request no longer holds the duplicate guard.
        let again = submit(
            &shared::plan::Runner::new(&store),
            &employee(),
            serde_json::from_value(json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING}]}))
                .unwrap(),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(again.new_requests.len(), 1, "{name}");
        assert!(again.existing_requests.is_empty(), "{name}");
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test]
async fn an_org_admin_may_cancel_anyones_request_and_is_named_owner() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let at = now();
        cancel(
            &shared::plan::Runner::new(&store),
            &admin(),
            &body(&id, "not needed"),
            at,
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let r = stored(&store, ACME, &id).await;
        assert_eq!(r.state, RequestState::Cancelled, "{name}");
        let c = r.cancellation.expect("details");
        // The caller, by the name the directory gives it.
        assert_eq!(
            (c.owner.id.as_str(), c.owner.name.as_str()),
            (ADMIN, "Ada Admin"),
            "{name}"
        );

        // An API-only ORG_ADMIN token has no identity: the owner is the client.
        let id2 = submit_one(&store, &employee(), EMPLOYEE, "ROLE", ROLE_AUDITOR).await;
        let api_admin = principal(ACME, None, &["ORG_ADMIN"]);
        cancel(
            &shared::plan::Runner::new(&store),
            &api_admin,
            &body(&id2, "cleanup"),
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let c = stored(&store, ACME, &id2)
            .await
            .cancellation
            .expect("details");
        assert!(!c.owner.id.is_empty(), "{name}: {c:?}");
        assert!(!c.owner.name.is_empty(), "{name}: {c:?}");
    }
}

#[tokio::test]
async fn a_final_request_cannot_be_cancelled_and_its_state_is_named() {
    for (name, store) in stores().await {
        let cancelled = eves_request(&store).await;
        cancel(
            &shared::plan::Runner::new(&store),
            &employee(),
            &body(&cancelled, "first"),
            now(),
        )
        .await
        .unwrap();
        let terminated = submit_one(&store, &employee(), EMPLOYEE, "ROLE", ROLE_AUDITOR).await;
        let completed_by_close =
            submit_one(&store, &employee(), EMPLOYEE, "ROLE", ROLE_FINANCE).await;
        let completed = submit_one(&store, &employee(), EMPLOYEE, "ACCESS_PROFILE", AP_WIKI).await;
        close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &CloseAccessRequest {
                access_request_ids: vec![terminated.clone()],
                message: None,
                execution_status: None,
                completion_status: None,
            },
            now(),
        )
        .await
        .unwrap();
        close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &serde_json::from_value(json!({"accessRequestIds": [completed_by_close], "executionStatus": "Completed", "completionStatus": "Incomplete"})).unwrap(),
            now(),
        )
        .await
        .unwrap();

        for (id, state) in [
            (&cancelled, "CANCELLED"),
            (&terminated, "TERMINATED"),
            (&completed_by_close, "NOT_ALL_ITEMS_PROVISIONED"),
            (&completed, "REQUEST_COMPLETED"),
        ] {
            let before = stored(&store, ACME, id).await;
            // The requester and an admin get the same answer.
            for who in [employee(), admin()] {
                let c = causes(
                    cancel(
                        &shared::plan::Runner::new(&store),
                        &who,
                        &body(id, "again"),
                        now(),
                    )
                    .await
                    .unwrap_err(),
                );
                assert_eq!(c.len(), 1, "{name}: {c:?}");
                assert!(c[0].contains(state), "{name}: {state}: {c:?}");
            }
            assert_eq!(stored(&store, ACME, id).await, before, "{name}: {state}");
        }
    }
}

#[tokio::test]
async fn once_an_approval_is_decided_cancel_is_refused() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        approve_first_step(&store, &id).await;
        let before = stored(&store, ACME, &id).await;
        assert_eq!(before.state, RequestState::Executing);
        assert!(!status_of(&store, &id).await[0].cancelable, "{name}");
        for who in [employee(), admin()] {
            let c = causes(
                cancel(
                    &shared::plan::Runner::new(&store),
                    &who,
                    &body(&id, "too late"),
                    now(),
                )
                .await
                .unwrap_err(),
            );
            assert!(
                c[0].contains("EXECUTING") && c[0].contains("APPROVED"),
                "{name}: {c:?}"
            );
        }
        assert_eq!(stored(&store, ACME, &id).await, before, "{name}");

        // A request seeded past approval (provisioning under way) is refused too.
        let mut seeded = before.clone();
        seeded.id = "seeded00000000000000000000000001".into();
        for (n, a) in seeded.items[0].approvals.iter_mut().enumerate() {
            a.approval_id = format!("seeded0000000000000000000000b00{n}");
        }
        seeded.state = RequestState::ProvisioningVerificationPending;
        load_requests(&store, ACME, vec![seeded.clone()]).await;
        let c = causes(
            cancel(
                &shared::plan::Runner::new(&store),
                &admin(),
                &body(&seeded.id, "too late"),
                now(),
            )
            .await
            .unwrap_err(),
        );
        assert!(
            c[0].contains("PROVISIONING_VERIFICATION_PENDING"),
            "{name}: {c:?}"
        );
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

// ---------------------------------------------------------------------------
// The cancel/close race
// ---------------------------------------------------------------------------

const RACED_REQUESTS: usize = 10;
const CANCELS_PER_REQUEST: usize = 4;
const CLOSE_CALLS: usize = 4;

/// What each close call asks for: its message tells its update apart.
fn close_call(k: usize, ids: &[String]) -> CloseAccessRequest {
    let (execution, completion) = [
        ("Terminated", "Failure"),
        ("Completed", "Success"),
        ("Completed", "Incomplete"),
        ("Completed", "Failure"),
    ][k % 4];
    serde_json::from_value(json!({
        "accessRequestIds": ids,
        "message": format!("close call {k}"),
        "executionStatus": execution,
        "completionStatus": completion,
    }))
    .unwrap()
}

fn close_state(k: usize) -> RequestState {
    [
        RequestState::Terminated,
        RequestState::RequestCompleted,
        RequestState::NotAllItemsProvisioned,
        RequestState::ProvisioningFailed,
    ][k % 4]
}

enum Outcome {
    Cancel {
        id: String,
        caller: String,
        result: Result<(), ApiError>,
    },
    Close {
        k: usize,
        result: Result<CloseOutcome, ApiError>,
    },
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn racing_cancels_and_closes_leave_exactly_one_final_state() {
    for (name, store) in stores().await {
        let mut ids = Vec::new();
        for i in 0..RACED_REQUESTS {
            // Alternate requesters so that both cancel authorities race.
            let (who, target) = if i % 2 == 0 {
                (employee(), EMPLOYEE)
            } else {
                (engineer(), ENGINEER)
            };
            let item = [
                AP_ENGINEERING,
                ROLE_AUDITOR,
                ROLE_FINANCE,
                ENT_GITHUB,
                ENT_JIRA,
            ][i / 2];
            let item_type = match item {
                AP_ENGINEERING => "ACCESS_PROFILE",
                ROLE_AUDITOR | ROLE_FINANCE => "ROLE",
                _ => "ENTITLEMENT",
            };
            ids.push(submit_one(&store, &who, target, item_type, item).await);
        }
        let requester: HashMap<String, Principal> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), if i % 2 == 0 { employee() } else { engineer() }))
            .collect();

        let barrier = Arc::new(tokio::sync::Barrier::new(
            RACED_REQUESTS * CANCELS_PER_REQUEST + CLOSE_CALLS,
        ));
        let mut tasks = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            // The in-process store answers at once, so whoever runs first
            // wins: holding back the cancels of half the requests lets the
            // closes win some races there too.
            let hold_back = if i < RACED_REQUESTS / 2 { 0 } else { 200 };
            for c in 0..CANCELS_PER_REQUEST {
                let (store, barrier, id) = (store.clone(), barrier.clone(), id.clone());
                let who = if c % 2 == 0 {
                    requester[&id].clone()
                } else {
                    admin()
                };
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    for _ in 0..hold_back {
                        tokio::task::yield_now().await;
                    }
                    let result = cancel(
                        &shared::plan::Runner::new(&store),
                        &who,
                        &body(&id, &format!("cancel {c}")),
                        now(),
                    )
                    .await
                    .map(|_| ());
                    Outcome::Cancel {
                        id,
                        caller: who.identity_id.unwrap(),
                        result,
                    }
                }));
            }
        }
        for k in 0..CLOSE_CALLS {
            let (store, barrier) = (store.clone(), barrier.clone());
            // Each close call names the requests in its own order.
            let mut mine = ids.clone();
            mine.rotate_left(k * 3 % RACED_REQUESTS);
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let result = close(
                    &shared::plan::Runner::new(&store),
                    &admin(),
                    &close_call(k, &mine),
                    now(),
                )
                .await
                .map(shared::plan::Settled::into_answer);
                Outcome::Close { k, result }
            }));
        }

        let mut cancel_wins: HashMap<String, Vec<String>> = HashMap::new();
        let mut cancel_losses: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        let mut close_wins: HashMap<String, Vec<usize>> = HashMap::new();
        let mut close_errored: HashMap<String, usize> = HashMap::new();
        for t in tasks {
            match t.await.unwrap() {
                Outcome::Cancel { id, caller, result } => match result {
                    Ok(()) => cancel_wins.entry(id).or_default().push(caller),
                    Err(ApiError::BadRequest(c)) => cancel_losses.entry(id).or_default().push(c),
                    Err(e) => panic!("{name}: a racing cancel answered {e:?}"),
                },
                Outcome::Close { k, result } => {
                    let o = result.unwrap_or_else(|e| panic!("{name}: close {k}: {e:?}"));
                    assert_eq!(o.closed.len() + o.errored.len(), RACED_REQUESTS, "{name}");
                    for id in o.closed {
                        close_wins.entry(id).or_default().push(k);
                    }
                    for id in o.errored {
                        *close_errored.entry(id).or_default() += 1;
                    }
                }
            }
        }

        let events = store.list_events(ACME).await.unwrap();
        let records = store.get_requests(ACME, &ids).await.unwrap();
        assert_eq!(records.len(), RACED_REQUESTS, "{name}");
        let (mut cancelled, mut closed) = (0, 0);
        for r in records {
            let id = &r.id;
            let cancels = cancel_wins.get(id).cloned().unwrap_or_default();
            let closes = close_wins.get(id).cloned().unwrap_or_default();
            assert_eq!(
                cancels.len() + closes.len(),
                1,
                "{name}: {id}: exactly one call takes effect (cancels {cancels:?}, closes {closes:?})"
            );
            assert_eq!(r.version, 2, "{name}: {id}: one write only");
            let losses = cancel_losses.get(id).cloned().unwrap_or_default();
            assert_eq!(losses.len() + cancels.len(), CANCELS_PER_REQUEST, "{name}");
            let state = r.state.as_str();
            for l in &losses {
                assert!(
                    l[0].contains(state),
                    "{name}: {id}: loser told {l:?}, state {state}"
                );
            }
            assert_eq!(
                close_errored.get(id).copied().unwrap_or(0) + closes.len(),
                CLOSE_CALLS,
                "{name}: {id}: every losing close counts it in error"
            );
            let provisioning: Vec<_> = events
                .iter()
                .filter(|e| {
                    e.name == PROVISIONING_COMPLETED_EVENT && e.access_request_ids.contains(id)
                })
                .collect();
            let approvals: Vec<_> = r.items.iter().flat_map(|i| &i.approvals).collect();
            if let [caller] = cancels.as_slice() {
                cancelled += 1;
                assert_eq!(r.state, RequestState::Cancelled, "{name}");
                assert!(
                    r.warnings.is_empty(),
                    "{name}: {id}: cancelled with close warnings"
                );
                assert_eq!(r.cancellation.as_ref().unwrap().owner.id, *caller, "{name}");
                assert!(provisioning.is_empty(), "{name}: {id}");
            } else {
                closed += 1;
                let k = closes[0];
                assert_eq!(r.state, close_state(k), "{name}: {id}");
                assert_eq!(r.warnings, vec![format!("close call {k}")], "{name}: {id}");
                assert!(
                    r.cancellation.is_none(),
                    "{name}: {id}: closed with cancel details"
                );
                assert_eq!(provisioning.len(), 1, "{name}: {id}");
            }
            assert!(
                approvals
                    .iter()
                    .all(|a| a.status == WorkItemState::Cancelled),
                "{name}: {id}: approvals {:?}",
                approvals.iter().map(|a| a.status).collect::<Vec<_>>()
            );
        }
        // Every close call recorded its outcome.
        let completed: Vec<_> = events
            .iter()
            .filter(|e| e.name == COMPLETED_EVENT)
            .collect();
        assert_eq!(completed.len(), CLOSE_CALLS, "{name}");
        let errored_in_events: usize = completed.iter().map(|e| e.errored_ids.len()).sum();
        assert_eq!(
            errored_in_events,
            close_errored.values().sum::<usize>(),
            "{name}"
        );
        eprintln!(
            "{name}: {RACED_REQUESTS} requests x {} racing calls: {cancelled} cancelled, {closed} closed",
            CANCELS_PER_REQUEST + CLOSE_CALLS
        );
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test]
async fn a_cancel_whose_answer_was_lost_still_succeeds() {
    let store = lost_ack::lost_ack_store(shared::seed::DEMO_SEED).await;
    let id = eves_request(&store).await;
    cancel(
        &shared::plan::Runner::new(&store),
        &employee(),
        &body(&id, "mistake"),
        now(),
    )
    .await
    .expect("the write landed: the caller is told so, not that it is CANCELLED");
    assert_eq!(
        store.hooks.lost.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    let r = stored(&store, ACME, &id).await;
    assert_eq!((r.state, r.version), (RequestState::Cancelled, 2));
}
