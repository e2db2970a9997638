//! Access-request approvals (SPEC §5, §10), each rule checked on every
//! store: steps taken in order, decisions (approve, reject, forward) with
//! their authority and state rules, the approver's lists and summary, and
//! the races of decisions with each other and with cancel and close.

mod common;
mod lost_ack;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use common::hooked::{Call, Hooked, Hooks};
use common::*;
use serde_json::json;
use shared::auth::Principal;
use shared::domain::access_requests::cancel::cancel;
use shared::domain::access_requests::close::close;
use shared::domain::approvals::decide::{self, DECISION_EVENT};
use shared::domain::approvals::{lists, ApiVersion};
use shared::error::ApiError;
use shared::models::{
    ApprovalScheme, CancelAccessRequest, CommentBody, CompletedApprovalState, ForwardApprovalDto,
    OwnerType, PhaseResult, PhaseState, RequestState, WorkItemState,
};
use shared::records::EventRecord;
use shared::seed::DEMO_SEED;
use shared::store::{Store, StoreError};

// ---------------------------------------------------------------- helpers

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn source_admin() -> Principal {
    principal(ACME, Some(SOURCE_ADMIN), &["SOURCE_ADMIN"])
}

fn globex_admin() -> Principal {
    principal(GLOBEX, Some(GLOBEX_ADMIN), &["ORG_ADMIN"])
}

fn comment(text: &str) -> CommentBody {
    CommentBody {
        comment: Some(text.to_string()),
    }
}

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k.to_string()).or_default().push(v.to_string());
    }
    map
}

async fn approve(store: &Store, who: &Principal, id: &str, text: &str) -> Result<(), ApiError> {
    decide::approve(
        &shared::plan::Runner::new(store),
        who,
        id,
        &comment(text),
        now(),
    )
    .await
    .map(|_| ())
}

async fn reject(store: &Store, who: &Principal, id: &str, text: &str) -> Result<(), ApiError> {
    decide::reject(
        &shared::plan::Runner::new(store),
        who,
        id,
        &comment(text),
        now(),
    )
    .await
    .map(|_| ())
}

async fn forward(
    store: &Store,
    who: &Principal,
    id: &str,
    to: &str,
    text: &str,
) -> Result<(), ApiError> {
    let body = ForwardApprovalDto {
        new_owner_id: to.to_string(),
        comment: text.to_string(),
    };
    decide::forward(&shared::plan::Runner::new(store), who, id, &body, now())
        .await
        .map(|_| ())
}

/// A pending list page as `who` asks for it (v3).
async fn pending_page(
    store: &Store,
    who: &Principal,
    pairs: &[(&str, &str)],
    version: ApiVersion,
) -> Result<shared::domain::collection::Page<shared::models::PendingApproval>, ApiError> {
    let q = lists::parse_list(&params(pairs), lists::pending_filters(version))?;
    lists::pending(store, who, &q, version).await
}

/// The approval ids of `who`'s own pending list (`owner-id=me`).
async fn my_pending(store: &Store, who: &Principal) -> Vec<String> {
    pending_page(store, who, &[("owner-id", "me")], ApiVersion::V3)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|p| p.id)
        .collect()
}

async fn completed_page(
    store: &Store,
    who: &Principal,
    pairs: &[(&str, &str)],
) -> Result<shared::domain::collection::Page<shared::models::CompletedApproval>, ApiError> {
    let q = lists::parse_list(&params(pairs), &lists::COMPLETED_FILTERS)?;
    lists::completed(store, who, &q).await
}

async fn my_completed(store: &Store, who: &Principal) -> Vec<String> {
    completed_page(store, who, &[("owner-id", "me")])
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.id)
        .collect()
}

async fn summary_of(
    store: &Store,
    who: &Principal,
    pairs: &[(&str, &str)],
) -> Result<shared::models::ApprovalSummary, ApiError> {
    let q = lists::parse_summary(&params(pairs))?;
    lists::summary(store, who, &q).await
}

fn status_code(e: &ApiError) -> u16 {
    e.status()
}

fn cause(e: ApiError) -> String {
    match e {
        ApiError::BadRequest(c) => c.join("; "),
        other => panic!("expected 400, got {other:?}"),
    }
}

async fn decision_events(store: &Store) -> Vec<EventRecord> {
    store
        .list_events(ACME)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.name == DECISION_EVENT)
        .collect()
}

/// Eve's Finance Analyst (MANAGER, then the Finance Approvers group of
/// Maria and Sam), its manager step approved: the group step's id.
async fn at_group_step(store: &Store, who: &Principal, target: &str) -> (String, String) {
    let id = submit_one(store, who, target, "ROLE", ROLE_FINANCE).await;
    approve_pending(store, &manager(), &id).await;
    let group_step = pending_approval_of(store, ACME, &id).await;
    (id, group_step)
}

// ---------------------------------------------------------------- steps in order

#[tokio::test]
async fn steps_are_taken_in_order_and_the_last_approval_completes_the_item() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let r = stored(&store, ACME, &id).await;
        let item = &r.items[0];
        assert_eq!(
            item.approvals.len(),
            1,
            "{name}: only the first step is reached"
        );
        assert_eq!(item.approvals[0].scheme, ApprovalScheme::Manager);
        assert_eq!(item.upcoming.len(), 1, "{name}");
        let first = item.approvals[0].approval_id.clone();

        // The first step is the manager's alone to see.
        assert_eq!(my_pending(&store, &manager()).await, vec![first.clone()]);
        assert!(
            my_pending(&store, &source_admin()).await.is_empty(),
            "{name}"
        );
        let s = &status_of(&store, &id).await[0];
        assert_eq!(s.approval_ids.as_deref(), Some(&[first.clone()][..]));
        assert!(s.cancelable, "{name}");

        let decided_at = now();
        decide::approve(
            &shared::plan::Runner::new(&store),
            &manager(),
            &first,
            &comment("Go ahead."),
            decided_at,
        )
        .await
        .unwrap();

        // The next step is reached, for its owner; the first is decided.
        let r = stored(&store, ACME, &id).await;
        let item = &r.items[0];
        assert_eq!(r.state, RequestState::Executing, "{name}");
        assert_eq!(item.approvals.len(), 2, "{name}");
        assert!(item.upcoming.is_empty(), "{name}");
        let done = &item.approvals[0];
        assert_eq!(done.status, WorkItemState::Approved);
        assert_eq!(done.comment.as_deref(), Some("Go ahead."));
        assert_eq!(done.modified, Some(decided_at));
        assert_eq!(
            done.reviewed_by.as_ref().map(|r| r.id.as_str()),
            Some(MANAGER)
        );
        let second = item.approvals[1].clone();
        assert_eq!(second.scheme, ApprovalScheme::AccessProfileOwner);
        assert_eq!(second.status, WorkItemState::Pending);
        assert_eq!(second.created, Some(decided_at));

        assert!(my_pending(&store, &manager()).await.is_empty(), "{name}");
        assert_eq!(my_completed(&store, &manager()).await, vec![first.clone()]);
        let sams = pending_page(&store, &source_admin(), &[], ApiVersion::V3)
            .await
            .unwrap()
            .items;
        assert_eq!(sams.len(), 1, "{name}");
        let p = &sams[0];
        assert_eq!(p.id, second.approval_id);
        assert_eq!(p.access_request_id.as_deref(), Some(id.as_str()));
        assert_eq!(p.name, "Engineering Access");
        assert_eq!(p.owner.id, SOURCE_ADMIN);
        assert_eq!(p.requested_for.id, EMPLOYEE);
        assert_eq!(p.created, decided_at);
        assert_eq!(p.previous_reviewers_comments.len(), 1, "{name}");
        assert_eq!(
            p.previous_reviewers_comments[0].comment.as_deref(),
            Some("Go ahead.")
        );

        // The status shows every change; no longer cancelable.
        let s = &status_of(&store, &id).await[0];
        assert!(!s.cancelable, "{name}: a decision was made");
        assert_eq!(s.state, RequestState::Executing);
        let details: Vec<_> = s
            .approval_details
            .iter()
            .map(|a| (a.scheme, a.status, a.comment.clone(), a.modified))
            .collect();
        assert_eq!(
            details,
            vec![
                (
                    ApprovalScheme::Manager,
                    WorkItemState::Approved,
                    Some("Go ahead.".to_string()),
                    Some(decided_at)
                ),
                (
                    ApprovalScheme::AccessProfileOwner,
                    WorkItemState::Pending,
                    None,
                    None
                ),
            ],
            "{name}"
        );
        assert_eq!(
            s.approval_details[0]
                .current_owner
                .as_ref()
                .map(|o| o.id.as_str()),
            Some(MANAGER)
        );
        assert_eq!(s.approval_ids.as_ref().map(Vec::len), Some(2));

        // The last approval completes the item: granted, both phases done.
        approve(&store, &source_admin(), &second.approval_id, "Fine.")
            .await
            .unwrap();
        let s = &status_of(&store, &id).await[0];
        assert_eq!(s.state, RequestState::RequestCompleted, "{name}");
        assert!(!s.cancelable);
        assert!(s
            .approval_details
            .iter()
            .all(|a| a.status == WorkItemState::Approved));
        let phases: Vec<_> = s
            .access_request_phases
            .clone()
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.state, p.result, p.finished.is_some()))
            .collect();
        assert_eq!(
            phases,
            vec![
                (
                    "APPROVAL_PHASE".to_string(),
                    PhaseState::Completed,
                    Some(PhaseResult::Successful),
                    true
                ),
                (
                    "PROVISIONING_PHASE".to_string(),
                    PhaseState::Completed,
                    Some(PhaseResult::Successful),
                    true
                ),
            ],
            "{name}"
        );
        assert_eq!(
            stored(&store, ACME, &id).await.state,
            RequestState::RequestCompleted
        );
        assert!(my_pending(&store, &source_admin()).await.is_empty());
        assert_eq!(
            my_completed(&store, &source_admin()).await,
            vec![second.approval_id.clone()]
        );

        // Granted: a new request for the same item is not a duplicate.
        let again = submit_one(
            &store,
            &employee(),
            EMPLOYEE,
            "ACCESS_PROFILE",
            AP_ENGINEERING,
        )
        .await;
        assert_ne!(again, id, "{name}");
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test]
async fn a_rejection_ends_the_item_and_no_later_step_is_reached() {
    for (name, store) in stores().await {
        let id = submit_one(&store, &employee(), EMPLOYEE, "ROLE", ROLE_FINANCE).await;
        let first = pending_approval_of(&store, ACME, &id).await;
        reject(&store, &manager(), &first, "Not this quarter.")
            .await
            .unwrap();
        let r = stored(&store, ACME, &id).await;
        assert_eq!(r.state, RequestState::Rejected, "{name}");
        assert_eq!(r.items[0].approvals.len(), 1, "{name}: no group step");
        assert!(r.items[0].upcoming.is_empty(), "{name}");
        let s = &status_of(&store, &id).await[0];
        assert_eq!(s.state, RequestState::Rejected);
        assert!(!s.cancelable);
        assert_eq!(s.approval_details[0].status, WorkItemState::Rejected);
        assert_eq!(
            s.approval_details[0].comment.as_deref(),
            Some("Not this quarter.")
        );
        let phases: Vec<_> = s
            .access_request_phases
            .clone()
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.state, p.result))
            .collect();
        assert_eq!(
            phases,
            vec![
                (
                    "APPROVAL_PHASE".to_string(),
                    PhaseState::Completed,
                    Some(PhaseResult::Failed)
                ),
                (
                    "PROVISIONING_PHASE".to_string(),
                    PhaseState::NotExecuted,
                    None
                ),
            ],
            "{name}"
        );
        // Listed as rejected for the manager; nothing pending for the group.
        let done = completed_page(&store, &manager(), &[]).await.unwrap().items;
        assert_eq!(done.len(), 1, "{name}");
        assert_eq!(done[0].state, CompletedApprovalState::Rejected);
        assert_eq!(
            done[0]
                .reviewer_comment
                .as_ref()
                .and_then(|c| c.comment.as_deref()),
            Some("Not this quarter.")
        );
        assert!(
            my_pending(&store, &source_admin()).await.is_empty(),
            "{name}"
        );
        // A rejected request no longer holds its duplicate guard.
        let again = submit_one(&store, &employee(), EMPLOYEE, "ROLE", ROLE_FINANCE).await;
        assert_ne!(again, id, "{name}");
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test]
async fn items_of_one_request_are_decided_independently() {
    for (name, store) in stores().await {
        // Maria for Evan: Jira User (MANAGER) and Auditor (ROLE_OWNER Ada).
        let body = serde_json::from_value(json!({
            "requestedFor": [ENGINEER],
            "requestedItems": [{"type": "ENTITLEMENT", "id": ENT_JIRA}, {"type": "ROLE", "id": ROLE_AUDITOR}]
        }))
        .unwrap();
        let id = shared::domain::access_requests::submit::submit(
            &shared::plan::Runner::new(&store),
            &manager(),
            body,
            now(),
        )
        .await
        .unwrap()
        .new_requests[0]
            .access_request_ids[0]
            .clone();
        let r = stored(&store, ACME, &id).await;
        let jira = r.items[0].approvals[0].approval_id.clone();
        let auditor = r.items[1].approvals[0].approval_id.clone();
        reject(&store, &manager(), &jira, "No licence left.")
            .await
            .unwrap();
        let r = stored(&store, ACME, &id).await;
        assert_eq!(
            r.state,
            RequestState::Executing,
            "{name}: one item still executes"
        );
        let states: Vec<_> = status_of(&store, &id)
            .await
            .into_iter()
            .map(|s| (s.name.unwrap(), s.state))
            .collect();
        assert!(states.contains(&("Jira User".to_string(), RequestState::Rejected)));
        assert!(states.contains(&("Auditor".to_string(), RequestState::Executing)));
        approve(&store, &admin(), &auditor, "Yes.").await.unwrap();
        let r = stored(&store, ACME, &id).await;
        assert_eq!(r.state, RequestState::RequestCompleted, "{name}");
        let states: Vec<_> = status_of(&store, &id)
            .await
            .into_iter()
            .map(|s| (s.name.unwrap(), s.state))
            .collect();
        assert!(states.contains(&("Jira User".to_string(), RequestState::Rejected)));
        assert!(states.contains(&("Auditor".to_string(), RequestState::RequestCompleted)));
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

// ---------------------------------------------------------------- governance groups

#[tokio::test]
async fn any_member_of_a_governance_group_may_decide_its_step() {
    for (name, store) in stores().await {
        for member in [manager(), source_admin()] {
            let (id, step) = at_group_step(&store, &employee(), EMPLOYEE).await;
            // Listed for each member, with the group as its owner.
            for who in [manager(), source_admin()] {
                let page = pending_page(&store, &who, &[], ApiVersion::V3)
                    .await
                    .unwrap();
                let p = page.items.iter().find(|p| p.id == step).expect("listed");
                assert_eq!(p.owner.id, FINANCE_GROUP, "{name}");
                assert_eq!(p.owner.ref_type, None, "{name}: no type for a group");
            }
            // Not a member: 403.
            for who in [employee(), engineer(), outsider()] {
                let e = approve(&store, &who, &step, "me too").await.unwrap_err();
                assert_eq!(status_code(&e), 403, "{name}: {e:?}");
            }
            approve(&store, &member, &step, "Finance agrees.")
                .await
                .unwrap();
            // Gone from both members' lists at once; decided by the one.
            for who in [manager(), source_admin()] {
                assert!(!my_pending(&store, &who).await.contains(&step), "{name}");
            }
            let r = stored(&store, ACME, &id).await;
            let a = r.approval(&step).unwrap();
            assert_eq!(
                a.reviewed_by.as_ref().map(|r| r.id.clone()),
                member.identity_id.clone()
            );
            assert_eq!(r.state, RequestState::RequestCompleted, "{name}");
            assert!(my_completed(&store, &member).await.contains(&step));
            // The other member has nothing to decide any more.
            let other = if member.identity_id.as_deref() == Some(MANAGER) {
                source_admin()
            } else {
                manager()
            };
            let e = reject(&store, &other, &step, "late").await.unwrap_err();
            assert!(cause(e).contains("APPROVED"), "{name}");
            // Status: the group's step, decided by the member.
            let s = &status_of(&store, &id).await[0];
            let group = &s.approval_details[1];
            assert_eq!(group.original_owner.ref_type, OwnerType::GovernanceGroup);
            assert_eq!(
                group.current_owner.as_ref().map(|o| o.id.clone()),
                member.identity_id.clone()
            );
            // Let the next round submit the same item again.
            assert_eq!(s.state, RequestState::RequestCompleted);
        }
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

// ---------------------------------------------------------------- forward

#[tokio::test]
async fn a_forward_moves_the_approval_between_owners_lists_at_once() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        let at = now();
        let body = ForwardApprovalDto {
            new_owner_id: ENGINEER.into(),
            comment: "Evan covers for me.".into(),
        };
        decide::forward(
            &shared::plan::Runner::new(&store),
            &manager(),
            &step,
            &body,
            at,
        )
        .await
        .unwrap();

        assert!(my_pending(&store, &manager()).await.is_empty(), "{name}");
        let evans = pending_page(&store, &engineer(), &[], ApiVersion::V3)
            .await
            .unwrap()
            .items;
        assert_eq!(evans.len(), 1, "{name}");
        let p = &evans[0];
        assert_eq!(p.id, step);
        assert_eq!(p.owner.id, ENGINEER);
        assert_eq!(p.modified, at);
        assert_eq!(p.forward_history.len(), 1);
        let h = &p.forward_history[0];
        assert_eq!(h.old_approver_name, "Maria Manager");
        assert_eq!(h.new_approver_name, "Evan Engineer");
        assert_eq!(h.forwarder_name.as_deref(), Some("Maria Manager"));
        assert_eq!(h.comment.as_deref(), Some("Evan covers for me."));
        assert_eq!(h.modified, at);
        assert_eq!(
            serde_json::to_value(h).unwrap()["reassignmentType"],
            "MANUAL_REASSIGNMENT"
        );

        // Still pending, still cancelable: a forward decides nothing.
        let s = &status_of(&store, &id).await[0];
        let a = &s.approval_details[0];
        assert_eq!(a.status, WorkItemState::Pending, "{name}");
        assert!(a.forwarded);
        assert_eq!(a.original_owner.id, MANAGER);
        assert_eq!(
            a.current_owner.as_ref().map(|o| o.id.as_str()),
            Some(ENGINEER)
        );
        assert_eq!(a.modified, Some(at));
        assert!(s.cancelable, "{name}");
        // The new owner sees it in assigned-to too.
        let q =
            shared::domain::access_requests::status::parse_query(&params(&[("assigned-to", "me")]))
                .unwrap();
        let assigned = shared::domain::access_requests::status::list(&store, &engineer(), &q)
            .await
            .unwrap();
        assert_eq!(assigned.total, 1, "{name}");

        // The old owner may no longer act; the new one may.
        let e = approve(&store, &manager(), &step, "mine?")
            .await
            .unwrap_err();
        assert_eq!(status_code(&e), 403, "{name}");
        approve(&store, &engineer(), &step, "Approved for Maria.")
            .await
            .unwrap();
        let r = stored(&store, ACME, &id).await;
        assert_eq!(r.items[0].approvals.len(), 2, "{name}");
        let done = completed_page(&store, &engineer(), &[])
            .await
            .unwrap()
            .items;
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].owner.id, ENGINEER);
        assert_eq!(done[0].forward_history.len(), 1);
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

#[tokio::test]
async fn forward_needs_an_identity_of_the_tenant_other_than_the_owner() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        let before = stored(&store, ACME, &id).await;
        let long = "x".repeat(256);
        for (to, text, fragment) in [
            (MANAGER, "to myself", "already owns"),
            (
                EMPLOYEE,
                "to Eve herself",
                "never forwarded to the identity it is requested for",
            ),
            ("nobody-at-all", "who?", "not an identity of the tenant"),
            (GLOBEX_ADMIN, "elsewhere", "not an identity of the tenant"),
            ("", "empty", "newOwnerId is required"),
            (ENGINEER, "", "comment is required"),
            (ENGINEER, long.as_str(), "256 characters"),
            (long.as_str(), "long id", "newOwnerId is 256 characters"),
        ] {
            let e = forward(&store, &manager(), &step, to, text)
                .await
                .unwrap_err();
            let c = cause(e);
            assert!(c.contains(fragment), "{name}: {to} {text}: {c}");
        }
        // 255 characters is fine.
        forward(&store, &manager(), &step, ENGINEER, &"y".repeat(255))
            .await
            .unwrap();
        assert_eq!(stored(&store, ACME, &id).await.version, before.version + 1);
        // A group step may go to one of its members.
        let (_, group_step) = at_group_step(&store, &engineer(), ENGINEER).await;
        forward(&store, &manager(), &group_step, SOURCE_ADMIN, "yours")
            .await
            .unwrap();
        assert!(my_pending(&store, &source_admin())
            .await
            .contains(&group_step));
        assert!(!my_pending(&store, &manager()).await.contains(&group_step));
    }
}

// ---------------------------------------------------------------- no self-approval

#[tokio::test]
async fn no_step_is_forwarded_to_the_identity_it_is_requested_for() {
    for (name, store) in stores().await {
        // Eve's manager step, and her Finance Analyst's group step.
        let id = eves_request(&store).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        let (group_id, group_step) = at_group_step(&store, &employee(), EMPLOYEE).await;
        for (request, step, who) in [
            (&id, &step, manager()),
            (&id, &step, admin()),
            (&group_id, &group_step, source_admin()),
        ] {
            let before = stored(&store, ACME, request).await;
            let e = forward(&store, &who, step, EMPLOYEE, "Eve can decide")
                .await
                .unwrap_err();
            assert_eq!(status_code(&e), 400, "{name}: {e:?}");
            let c = cause(e);
            assert!(
                c.contains("never forwarded to the identity it is requested for"),
                "{name}: {c}"
            );
            // Nothing changed: not forwarded, not in Eve's list.
            assert_eq!(stored(&store, ACME, request).await, before, "{name}");
        }
        assert!(my_pending(&store, &employee()).await.is_empty(), "{name}");
        assert!(decision_events(&store)
            .await
            .iter()
            .all(|e| { e.attributes.get("newOwnerId").map(String::as_str) != Some(EMPLOYEE) }));
    }
}

#[tokio::test]
async fn the_requested_for_identity_cannot_decide_its_step_as_a_group_member() {
    for (name, store) in stores().await {
        // Maria asks Finance Analyst for herself: Ada (her manager), then
        // the Finance Approvers group, of which she is a member.
        let id = submit_one(&store, &manager(), MANAGER, "ROLE", ROLE_FINANCE).await;
        approve_pending(&store, &admin(), &id).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        let before = stored(&store, ACME, &id).await;
        assert_eq!(
            before.approval(&step).unwrap().approver.id,
            FINANCE_GROUP,
            "{name}"
        );
        for e in [
            approve(&store, &manager(), &step, "me").await.unwrap_err(),
            reject(&store, &manager(), &step, "me").await.unwrap_err(),
            forward(&store, &manager(), &step, ENGINEER, "to a friend")
                .await
                .unwrap_err(),
        ] {
            assert_eq!(status_code(&e), 403, "{name}: {e:?}");
            assert!(e.to_string().contains("cannot decide it"), "{name}: {e}");
        }
        assert_eq!(stored(&store, ACME, &id).await, before, "{name}");
        // Sam, the other member, decides it.
        approve(&store, &source_admin(), &step, "Finance agrees.")
            .await
            .unwrap();
        let r = stored(&store, ACME, &id).await;
        assert_eq!(r.state, RequestState::RequestCompleted, "{name}");
        assert_eq!(
            r.approval(&step)
                .unwrap()
                .reviewed_by
                .as_ref()
                .map(|n| n.id.as_str()),
            Some(SOURCE_ADMIN)
        );
        // A group member deciding someone else's step is unaffected.
        let (_, others) = at_group_step(&store, &employee(), EMPLOYEE).await;
        approve(&store, &manager(), &others, "For Eve.")
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_step_stored_as_forwarded_to_the_requested_for_identity_is_not_theirs_to_decide() {
    for (name, store) in stores().await {
        // A record written before forwards to the requested-for identity
        // were refused: Eve's manager step forwarded to Eve.
        let id = eves_request(&store).await;
        let before = stored(&store, ACME, &id).await;
        let mut after = before.clone();
        after.version += 1;
        after.items[0].approvals[0].current_owner = Some(Box::new(shared::records::Approver {
            owner_type: OwnerType::Identity,
            id: EMPLOYEE.into(),
            name: "Eve Employee".into(),
            member_ids: Vec::new(),
        }));
        store
            .transition_request(ACME, &before, &after, &[])
            .await
            .unwrap();
        let step = after.items[0].approvals[0].approval_id.clone();
        let e = approve(&store, &employee(), &step, "mine")
            .await
            .unwrap_err();
        assert_eq!(status_code(&e), 403, "{name}: {e:?}");
        assert_eq!(stored(&store, ACME, &id).await, after, "{name}");
        // ORG_ADMIN forwards it back to Maria, who decides.
        forward(&store, &admin(), &step, MANAGER, "back to the manager")
            .await
            .unwrap();
        approve(&store, &manager(), &step, "ok").await.unwrap();
    }
}

// ---------------------------------------------------------------- authority and state

#[tokio::test]
async fn only_the_owner_a_group_member_or_org_admin_may_decide() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        for who in [
            employee(),
            engineer(),
            source_admin(),
            api_client(),
            principal(ACME, Some(SOURCE_ADMIN), &["SOURCE_SUBADMIN"]),
        ] {
            for e in [
                approve(&store, &who, &step, "x").await.unwrap_err(),
                reject(&store, &who, &step, "x").await.unwrap_err(),
                forward(&store, &who, &step, OUTSIDER, "x")
                    .await
                    .unwrap_err(),
            ] {
                assert_eq!(status_code(&e), 403, "{name}: {who:?}: {e:?}");
            }
        }
        assert_eq!(stored(&store, ACME, &id).await.version, 1, "{name}");
        // ORG_ADMIN may, with or without an identity.
        approve(&store, &admin(), &step, "As admin.").await.unwrap();
        let r = stored(&store, ACME, &id).await;
        let next = r.items[0].approvals[1].approval_id.clone();
        let api_admin = principal(ACME, None, &["ORG_ADMIN"]);
        reject(&store, &api_admin, &next, "As the API.")
            .await
            .unwrap();
        let r = stored(&store, ACME, &id).await;
        assert_eq!(r.state, RequestState::Rejected, "{name}");
        assert_eq!(
            r.items[0].approvals[1]
                .reviewed_by
                .as_ref()
                .map(|n| n.id.as_str()),
            Some("test-client")
        );
        // An admin's decision is listed for the reviewer and the owner.
        assert!(my_completed(&store, &admin()).await.contains(&step));
        assert!(my_completed(&store, &manager()).await.contains(&step));
    }
}

#[tokio::test]
async fn unknown_and_other_tenants_approvals_are_404_alike() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let ours = pending_approval_of(&store, ACME, &id).await;
        let theirs_request =
            submit_one(&store, &globex_admin(), GLOBEX_ADMIN, "ROLE", GLOBEX_ROLE).await;
        let theirs = pending_approval_of(&store, GLOBEX, &theirs_request).await;
        let unknown = "0123456789abcdef0123456789abcdef";
        let text = |e: ApiError, id: &str| match e {
            ApiError::NotFound(m) => m.replace(id, "<id>"),
            other => panic!("{name}: expected 404, got {other:?}"),
        };
        let a = text(
            approve(&store, &admin(), &theirs, "x").await.unwrap_err(),
            &theirs,
        );
        let b = text(
            approve(&store, &admin(), unknown, "x").await.unwrap_err(),
            unknown,
        );
        assert_eq!(a, b, "{name}");
        let c = text(
            reject(&store, &globex_admin(), &ours, "x")
                .await
                .unwrap_err(),
            &ours,
        );
        assert_eq!(c, b, "{name}");
        assert_eq!(stored(&store, GLOBEX, &theirs_request).await.version, 1);
    }
}

#[tokio::test]
async fn a_step_no_longer_pending_is_400_naming_its_status() {
    for (name, store) in stores().await {
        // Decided.
        let id = submit_one(&store, &employee(), EMPLOYEE, "ROLE", ROLE_AUDITOR).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        approve(&store, &admin(), &step, "ok").await.unwrap();
        for e in [
            approve(&store, &admin(), &step, "again").await.unwrap_err(),
            reject(&store, &admin(), &step, "no").await.unwrap_err(),
            forward(&store, &admin(), &step, MANAGER, "yours")
                .await
                .unwrap_err(),
        ] {
            let c = cause(e);
            assert!(
                c.contains("APPROVED") && c.contains("REQUEST_COMPLETED"),
                "{name}: {c}"
            );
        }
        // Cancelled with its request.
        let id = eves_request(&store).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        cancel(
            &shared::plan::Runner::new(&store),
            &employee(),
            &CancelAccessRequest {
                account_activity_id: id.clone(),
                comment: "never mind".into(),
            },
            now(),
        )
        .await
        .unwrap();
        let c = cause(approve(&store, &manager(), &step, "x").await.unwrap_err());
        assert!(c.contains("is CANCELLED (access request"), "{name}: {c}");
        // Closed with its request.
        let id = submit_one(&store, &employee(), EMPLOYEE, "ENTITLEMENT", ENT_JIRA).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &serde_json::from_value(json!({"accessRequestIds": [id]})).unwrap(),
            now(),
        )
        .await
        .unwrap();
        let c = cause(reject(&store, &manager(), &step, "x").await.unwrap_err());
        assert!(
            c.contains("CANCELLED") && c.contains("TERMINATED"),
            "{name}: {c}"
        );
    }
}

#[tokio::test]
async fn reject_needs_a_comment_approve_does_not() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        for body in [CommentBody::default(), comment(""), comment(" \t")] {
            let e = decide::reject(
                &shared::plan::Runner::new(&store),
                &manager(),
                &step,
                &body,
                now(),
            )
            .await
            .unwrap_err();
            assert!(cause(e).contains("comment is required"), "{name}");
        }
        decide::approve(
            &shared::plan::Runner::new(&store),
            &manager(),
            &step,
            &CommentBody::default(),
            now(),
        )
        .await
        .unwrap();
        let a = stored(&store, ACME, &id).await.items[0].approvals[0].clone();
        assert_eq!(a.status, WorkItemState::Approved, "{name}");
        assert_eq!(a.comment, None);
    }
}

// ---------------------------------------------------------------- cancel and close

#[tokio::test]
async fn cancel_and_close_take_pending_approvals_off_the_lists() {
    for (name, store) in stores().await {
        let cancelled = eves_request(&store).await;
        let closed = submit_one(&store, &employee(), EMPLOYEE, "ENTITLEMENT", ENT_JIRA).await;
        let (at_group, group_step) = at_group_step(&store, &engineer(), ENGINEER).await;
        assert_eq!(my_pending(&store, &manager()).await.len(), 3, "{name}");
        assert_eq!(
            my_pending(&store, &source_admin()).await,
            vec![group_step.clone()]
        );

        cancel(
            &shared::plan::Runner::new(&store),
            &employee(),
            &CancelAccessRequest {
                account_activity_id: cancelled.clone(),
                comment: "not needed".into(),
            },
            now(),
        )
        .await
        .unwrap();
        close(
            &shared::plan::Runner::new(&store),
            &admin(),
            &serde_json::from_value(json!({"accessRequestIds": [closed, at_group]})).unwrap(),
            now(),
        )
        .await
        .unwrap();
        assert!(my_pending(&store, &manager()).await.is_empty(), "{name}");
        assert!(
            my_pending(&store, &source_admin()).await.is_empty(),
            "{name}"
        );
        let tenant = pending_page(&store, &admin(), &[], ApiVersion::V3)
            .await
            .unwrap();
        assert_eq!(tenant.total, 0, "{name}");
        // The decided manager step of the closed request stays decided.
        let r = stored(&store, ACME, &at_group).await;
        let statuses: Vec<_> = r.items[0].approvals.iter().map(|a| a.status).collect();
        assert_eq!(
            statuses,
            vec![WorkItemState::Approved, WorkItemState::Cancelled],
            "{name}"
        );
        assert_eq!(my_completed(&store, &manager()).await.len(), 1, "{name}");
        let s = summary_of(&store, &manager(), &[]).await.unwrap();
        assert_eq!((s.pending, s.approved, s.rejected), (0, 1, 0), "{name}");
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

// ---------------------------------------------------------------- audit

#[tokio::test]
async fn every_decision_records_an_audit_event_with_the_change() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let first = pending_approval_of(&store, ACME, &id).await;
        forward(&store, &manager(), &first, ENGINEER, "Evan, please.")
            .await
            .unwrap();
        approve(&store, &engineer(), &first, "Done.").await.unwrap();
        let second = pending_approval_of(&store, ACME, &id).await;
        reject(&store, &source_admin(), &second, "No.")
            .await
            .unwrap();
        // Refused decisions record nothing.
        let _ = approve(&store, &manager(), &second, "late")
            .await
            .unwrap_err();
        // Events of one millisecond have no order among themselves: compare
        // them by when and what.
        let mut events = decision_events(&store).await;
        let rank = |d: &str| {
            ["FORWARDED", "APPROVED", "DENIED"]
                .iter()
                .position(|x| *x == d)
        };
        events.sort_by_key(|e| (e.created, rank(&e.attributes["decision"])));
        let seen: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    e.attributes["approvalId"].clone(),
                    e.attributes["decision"].clone(),
                    e.attributes.get("comment").cloned(),
                    e.actor.as_ref().map(|a| a.id.clone()),
                    e.access_request_ids.clone(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    first.clone(),
                    "FORWARDED".to_string(),
                    Some("Evan, please.".to_string()),
                    Some(MANAGER.to_string()),
                    vec![id.clone()]
                ),
                (
                    first.clone(),
                    "APPROVED".to_string(),
                    Some("Done.".to_string()),
                    Some(ENGINEER.to_string()),
                    vec![id.clone()]
                ),
                (
                    second.clone(),
                    "DENIED".to_string(),
                    Some("No.".to_string()),
                    Some(SOURCE_ADMIN.to_string()),
                    vec![id.clone()]
                ),
            ],
            "{name}"
        );
        assert_eq!(events[0].attributes["newOwnerId"], ENGINEER);
        assert_eq!(events[1].actor.as_ref().unwrap().name, "Evan Engineer");
    }
}

// ---------------------------------------------------------------- lists and summary

#[tokio::test]
async fn owner_id_rules() {
    for (name, store) in stores().await {
        let id = eves_request(&store).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        let ids =
            |p: shared::domain::collection::Page<shared::models::PendingApproval>| -> Vec<String> {
                p.items.into_iter().map(|a| a.id).collect()
            };
        // Anyone: me, their own id, or nothing (their own).
        for pairs in [
            vec![("owner-id", "me")],
            vec![("owner-id", MANAGER)],
            vec![],
        ] {
            let p = pending_page(&store, &manager(), &pairs, ApiVersion::V3)
                .await
                .unwrap();
            assert_eq!(ids(p), vec![step.clone()], "{name}: {pairs:?}");
        }
        // Not another identity's.
        for who in [employee(), source_admin()] {
            let e = pending_page(&store, &who, &[("owner-id", MANAGER)], ApiVersion::V3)
                .await
                .unwrap_err();
            assert_eq!(status_code(&e), 403, "{name}");
            let e = completed_page(&store, &who, &[("owner-id", MANAGER)])
                .await
                .unwrap_err();
            assert_eq!(status_code(&e), 403, "{name}");
            let e = summary_of(&store, &who, &[("owner-id", MANAGER)])
                .await
                .unwrap_err();
            assert_eq!(status_code(&e), 403, "{name}");
        }
        // ORG_ADMIN: anyone's, or the whole tenant's.
        let p = pending_page(&store, &admin(), &[("owner-id", MANAGER)], ApiVersion::V3)
            .await
            .unwrap();
        assert_eq!(ids(p), vec![step.clone()], "{name}");
        let p = pending_page(&store, &admin(), &[], ApiVersion::V3)
            .await
            .unwrap();
        assert_eq!(ids(p), vec![step.clone()], "{name}");
        let p = pending_page(&store, &admin(), &[("owner-id", "me")], ApiVersion::V3)
            .await
            .unwrap();
        assert!(p.items.is_empty(), "{name}");
        // Without a user context: ORG_ADMIN only, and not `me`.
        let api_admin = principal(ACME, None, &["ORG_ADMIN"]);
        assert_eq!(
            pending_page(&store, &api_admin, &[], ApiVersion::V3)
                .await
                .unwrap()
                .total,
            1
        );
        let e = pending_page(&store, &api_admin, &[("owner-id", "me")], ApiVersion::V3)
            .await
            .unwrap_err();
        assert_eq!(status_code(&e), 400, "{name}");
        let e = pending_page(&store, &api_client(), &[], ApiVersion::V3)
            .await
            .unwrap_err();
        assert_eq!(status_code(&e), 403, "{name}");
        // Another tenant's admin sees none of it.
        let p = pending_page(
            &store,
            &globex_admin(),
            &[("owner-id", MANAGER)],
            ApiVersion::V3,
        )
        .await
        .unwrap();
        assert!(p.items.is_empty(), "{name}");
        assert!(pending_page(&store, &globex_admin(), &[], ApiVersion::V3)
            .await
            .unwrap()
            .items
            .is_empty());
    }
}

#[tokio::test]
async fn lists_filter_sort_and_page_as_each_fragment_says() {
    for (name, store) in stores_with(&large_seed(12)).await {
        // Twelve requests a few milliseconds apart, each pending at Maria.
        let mut requests = Vec::new();
        for i in 0..12 {
            let body = serde_json::from_value(json!({
                "requestedFor": [bulk_identity(i)],
                "requestedItems": [{"type": "ENTITLEMENT", "id": bulk_entitlement(i)}]
            }))
            .unwrap();
            let at = now() - Duration::minutes(60 - i as i64);
            let r = shared::domain::access_requests::submit::submit(
                &shared::plan::Runner::new(&store),
                &manager(),
                body,
                at,
            )
            .await
            .unwrap();
            requests.push(r.new_requests[0].access_request_ids[0].clone());
        }
        let steps: Vec<String> = {
            let mut v = Vec::new();
            for r in &requests {
                v.push(pending_approval_of(&store, ACME, r).await);
            }
            v
        };
        let all = pending_page(&store, &manager(), &[("count", "true")], ApiVersion::V3)
            .await
            .unwrap();
        assert_eq!(all.total, 12, "{name}");
        // Default: newest first.
        let newest_first: Vec<String> = steps.iter().rev().cloned().collect();
        assert_eq!(
            all.items.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
            newest_first,
            "{name}"
        );
        // Pages of five concatenate to the whole, with the total on each.
        let mut paged = Vec::new();
        for offset in [0, 5, 10] {
            let off = offset.to_string();
            let p = pending_page(
                &store,
                &manager(),
                &[
                    ("limit", "5"),
                    ("offset", off.as_str()),
                    ("sorters", "created"),
                    ("count", "true"),
                ],
                ApiVersion::V3,
            )
            .await
            .unwrap();
            assert_eq!(p.total, 12);
            paged.extend(p.items.into_iter().map(|p| p.id));
        }
        assert_eq!(paged, steps, "{name}");

        // v3 filters: id, requestedFor.id, accessRequestId (eq, in), created, modified.
        let two = format!(
            "accessRequestId in (\"{}\",\"{}\")",
            requests[3], requests[4]
        );
        let cutoff = shared::time::format(&(now() - Duration::seconds(50 * 60 + 30)));
        let cases: Vec<(String, usize)> = vec![
            (two.clone(), 2),
            (format!("id eq \"{}\"", steps[0].to_uppercase()), 1),
            (format!("requestedFor.id eq \"{}\"", bulk_identity(7)), 1),
            (format!("created ge {cutoff}"), 2),
            (format!("modified lt {cutoff} and not ({two})"), 8),
        ];
        for (filter, n) in cases {
            let p = pending_page(&store, &manager(), &[("filters", &filter)], ApiVersion::V3)
                .await
                .unwrap_or_else(|e| panic!("{name}: {filter}: {e:?}"));
            assert_eq!(p.items.len(), n, "{name}: {filter}");
        }
        // beta: no accessRequestId, no created; operators outside the list refused.
        for filter in [
            two.as_str(),
            "created gt 2020-01-01T00:00:00Z",
            "id sw \"2c\"",
            "id ne \"x\"",
        ] {
            let e = pending_page(&store, &manager(), &[("filters", filter)], ApiVersion::Beta)
                .await
                .unwrap_err();
            assert_eq!(status_code(&e), 400, "{name}: {filter}");
        }
        let beta = pending_page(&store, &manager(), &[], ApiVersion::Beta)
            .await
            .unwrap();
        assert!(beta.items.iter().all(|p| p.access_request_id.is_none()));
        for bad in [
            ("limit", "251"),
            ("offset", "-1"),
            ("sorters", "name"),
            ("count", "maybe"),
        ] {
            let e = pending_page(&store, &manager(), &[bad], ApiVersion::V3)
                .await
                .unwrap_err();
            assert_eq!(status_code(&e), 400, "{name}: {bad:?}");
        }

        // Decide four: two approved, one rejected, one forwarded.
        approve(&store, &manager(), &steps[0], "a").await.unwrap();
        approve(&store, &manager(), &steps[1], "b").await.unwrap();
        reject(&store, &manager(), &steps[2], "c").await.unwrap();
        forward(&store, &manager(), &steps[3], ENGINEER, "d")
            .await
            .unwrap();
        let done = completed_page(
            &store,
            &manager(),
            &[("count", "true"), ("sorters", "modified")],
        )
        .await
        .unwrap();
        assert_eq!(done.total, 3, "{name}");
        let mut decided: Vec<String> = done.items.iter().map(|c| c.id.clone()).collect();
        decided.sort();
        let mut expected = steps[..3].to_vec();
        expected.sort();
        assert_eq!(decided, expected, "{name}");
        // Completed filters: isnull, sw and ne on id, requestedFor.id and modified.
        for (filter, n) in [
            ("id isnull".to_string(), 0),
            ("not id isnull".to_string(), 3),
            (format!("id ne \"{}\"", steps[0]), 2),
            (format!("id sw \"{}\"", &steps[1][..20]), 1),
            (
                format!(
                    "requestedFor.id in (\"{}\",\"{}\")",
                    bulk_identity(0),
                    bulk_identity(2)
                ),
                2,
            ),
            (
                format!("modified sw \"{}\"", &shared::time::format(&now())[..10]),
                3,
            ),
        ] {
            let p = completed_page(&store, &manager(), &[("filters", &filter)])
                .await
                .unwrap_or_else(|e| panic!("{name}: {filter}: {e:?}"));
            assert_eq!(p.items.len(), n, "{name}: {filter}");
        }
        let e = completed_page(&store, &manager(), &[("filters", &two)])
            .await
            .unwrap_err();
        assert_eq!(
            status_code(&e),
            400,
            "{name}: accessRequestId is pending-only"
        );
    }
}

#[tokio::test]
async fn ties_break_on_the_approval_id_so_pages_are_stable() {
    for (name, store) in stores_with(&large_seed(6)).await {
        // One submission: six requests reached in the same millisecond.
        let targets: Vec<String> = (0..6).map(bulk_identity).collect();
        let body = serde_json::from_value(json!({
            "requestedFor": targets,
            "requestedItems": [{"type": "ROLE", "id": ROLE_AUDITOR}]
        }))
        .unwrap();
        shared::domain::access_requests::submit::submit(
            &shared::plan::Runner::new(&store),
            &manager(),
            body,
            now(),
        )
        .await
        .unwrap();
        let all = pending_page(&store, &admin(), &[("sorters", "-created")], ApiVersion::V3)
            .await
            .unwrap();
        let ids: Vec<String> = all.items.iter().map(|p| p.id.clone()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "{name}: equal times order by id");
        let mut paged = Vec::new();
        for offset in 0..6 {
            let off = offset.to_string();
            let p = pending_page(
                &store,
                &admin(),
                &[
                    ("limit", "1"),
                    ("offset", &off),
                    ("sorters", "-created,modified"),
                ],
                ApiVersion::V3,
            )
            .await
            .unwrap();
            paged.extend(p.items.into_iter().map(|p| p.id));
        }
        assert_eq!(paged, ids, "{name}");
    }
}

#[tokio::test]
async fn the_summary_counts_the_owners_approvals() {
    for (name, store) in stores().await {
        let a = eves_request(&store).await;
        let b = submit_one(&store, &engineer(), ENGINEER, "ENTITLEMENT", ENT_JIRA).await;
        let (_, _group) = at_group_step(&store, &employee(), EMPLOYEE).await;
        let c = submit_one(&store, &employee(), EMPLOYEE, "ENTITLEMENT", ENT_GITHUB).await;
        reject(
            &store,
            &manager(),
            &pending_approval_of(&store, ACME, &b).await,
            "no",
        )
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let mark = now();
        approve_pending(&store, &manager(), &a).await;
        // Maria: pending c's manager step and the group step; approved the
        // group request's manager step and a's; rejected b's.
        let s = summary_of(&store, &manager(), &[("owner-id", "me")])
            .await
            .unwrap();
        assert_eq!((s.pending, s.approved, s.rejected), (2, 2, 1), "{name}");
        // From a date: pendings reached and decisions made at or after it.
        let from = shared::time::format(&mark);
        let s = summary_of(&store, &manager(), &[("from-date", &from)])
            .await
            .unwrap();
        assert_eq!((s.pending, s.approved, s.rejected), (0, 1, 0), "{name}");
        // Sam: the group step and a's owner step.
        let s = summary_of(&store, &source_admin(), &[]).await.unwrap();
        assert_eq!((s.pending, s.approved, s.rejected), (2, 0, 0), "{name}");
        // The tenant, for ORG_ADMIN: each approval once.
        let s = summary_of(&store, &admin(), &[]).await.unwrap();
        assert_eq!((s.pending, s.approved, s.rejected), (3, 2, 1), "{name}");
        let _ = c;
        for bad in ["yesterday", "2026-13-01T00:00:00Z", ""] {
            let e = summary_of(&store, &manager(), &[("from-date", bad)])
                .await
                .unwrap_err();
            assert_eq!(status_code(&e), 400, "{name}: {bad:?}");
        }
        assert_counts_agree(&store, ACME, &[]).await;
    }
}

// ---------------------------------------------------------------- transactions

/// Counts backend calls by kind.
#[derive(Default)]
struct CountCalls {
    gets: AtomicUsize,
    queries: AtomicUsize,
    writes: AtomicUsize,
    write_items: AtomicUsize,
}

#[async_trait]
impl Hooks for CountCalls {
    async fn before(&self, call: &Call<'_>) -> Result<(), StoreError> {
        match call {
            Call::Get(_) => self.gets.fetch_add(1, Ordering::SeqCst),
            Call::Query(_) => self.queries.fetch_add(1, Ordering::SeqCst),
            Call::Write(w) => {
                self.write_items.fetch_add(w.len(), Ordering::SeqCst);
                self.writes.fetch_add(1, Ordering::SeqCst)
            }
            Call::Load => 0,
        };
        Ok(())
    }
}

impl CountCalls {
    fn take(&self) -> (usize, usize, usize) {
        (
            self.gets.swap(0, Ordering::SeqCst),
            self.queries.swap(0, Ordering::SeqCst),
            self.writes.swap(0, Ordering::SeqCst),
        )
    }
}

#[tokio::test]
async fn a_decision_is_one_read_and_one_transaction_a_list_one_query_per_partition() {
    for (name, store) in stores().await {
        let counted = Hooked::new(&store, CountCalls::default());
        let (_, group_step) = at_group_step(&counted, &employee(), EMPLOYEE).await;
        let id = eves_request(&counted).await;
        let step = pending_approval_of(&counted, ACME, &id).await;
        counted.hooks.take();
        forward(&counted, &manager(), &step, ENGINEER, "yours")
            .await
            .unwrap();
        assert_eq!(counted.hooks.take(), (1, 0, 1), "{name}: forward");
        approve(&counted, &engineer(), &step, "ok").await.unwrap();
        assert_eq!(counted.hooks.take(), (1, 0, 1), "{name}: approve");
        reject(&counted, &source_admin(), &group_step, "no")
            .await
            .unwrap();
        assert_eq!(
            counted.hooks.take(),
            (1, 0, 1),
            "{name}: reject of a group step"
        );
        // Refused before writing: one read, no write.
        let _ = approve(&counted, &manager(), &group_step, "late")
            .await
            .unwrap_err();
        assert_eq!(counted.hooks.take(), (1, 0, 0), "{name}: refused");
        // A list page, a member of a governance group or not: one query of
        // the identity's list, and with its total one read of its counts;
        // a summary is that read alone. The tenant's list (ORG_ADMIN
        // without owner-id) is a query per shard, merged.
        let shards = shared::store::keys::SHARDS as usize;
        for (who, queries) in [(manager(), 1), (source_admin(), 1), (admin(), shards)] {
            pending_page(&counted, &who, &[("count", "true")], ApiVersion::V3)
                .await
                .unwrap();
            assert_eq!(
                counted.hooks.take(),
                (1, queries, 0),
                "{name}: pending list"
            );
            completed_page(&counted, &who, &[]).await.unwrap();
            assert_eq!(
                counted.hooks.take(),
                (0, queries, 0),
                "{name}: completed list"
            );
            summary_of(&counted, &who, &[]).await.unwrap();
            assert_eq!(counted.hooks.take(), (1, 0, 0), "{name}: summary");
        }
    }
}

#[tokio::test]
async fn large_governance_groups_are_bounded_by_the_transaction_limit() {
    // A role whose steps are: optionally one step of a "lead" group of
    // `lead` members, then `steps` steps of one group of `members`.
    let seed_with_groups = |lead: Option<usize>, members: usize, steps: usize| {
        let mut seed: serde_json::Value = serde_json::from_str(&rules_seed()).unwrap();
        let acme = &mut seed["tenants"][0];
        let mut group = |id: &str, prefix: &str, n: usize| {
            let ids: Vec<String> = (0..n).map(|i| format!("{prefix}-{i:03}")).collect();
            for id in &ids {
                acme["identities"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"id": id, "name": format!("Member {id}"), "managerId": MANAGER}));
            }
            acme["governanceGroups"]
                .as_array_mut()
                .unwrap()
                .push(json!({"id": id, "name": id, "memberIds": ids}));
        };
        group("big-group", "member", members);
        let mut schemes = Vec::new();
        if let Some(n) = lead {
            group("lead-group", "lead", n);
            schemes.push(json!({"scheme": "GOVERNANCE_GROUP", "approverId": "lead-group"}));
        }
        schemes.extend(
            (0..steps).map(|_| json!({"scheme": "GOVERNANCE_GROUP", "approverId": "big-group"})),
        );
        acme["catalog"].as_array_mut().unwrap().push(json!({
            "type": "ROLE", "id": "big-role", "name": "Big Role", "requestable": true,
            "ownerId": ADMIN, "approvalSchemes": schemes
        }));
        seed.to_string()
    };
    // Submitting writes the request, an assignment per member, the first
    // step with an entry per member, a claim, and the counts of each
    // member, of the requester and of the tenant shard: 5 + 3 × members.
    // Deciding a step before another of the same group changes no member's
    // count. After a one-member lead step, deciding it writes the request,
    // the event, the step, its entry's removal, the decided entries, the
    // next step and an entry per member, and the counts of the lead, of
    // each member, of the reviewer, the owner, the requester, the target
    // and the tenant shard, which the bound puts at 13 + 2 × members.
    // Both at most 100.
    for (lead, members, steps, refusal) in [
        (None, 31, 2, None),
        (None, 32, 2, Some("need 101 stored records")),
        (None, 32, 1, Some("need 101 stored records")),
        (Some(1), 43, 1, None),
        (Some(1), 44, 1, Some("could later need")),
    ] {
        for (name, store) in stores_with(&seed_with_groups(lead, members, steps)).await {
            let case = format!("{name}: {lead:?} then {members} × {steps}");
            let body = serde_json::from_value(json!({
                "requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ROLE", "id": "big-role"}]
            }))
            .unwrap();
            let result = shared::domain::access_requests::submit::submit(
                &shared::plan::Runner::new(&store),
                &employee(),
                body,
                now(),
            )
            .await;
            if let Some(fragment) = refusal {
                let c = cause(result.unwrap_err());
                assert!(c.contains(fragment), "{case}: {c}");
                continue;
            }
            let id = result.unwrap().new_requests[0].access_request_ids[0].clone();
            if lead.is_some() {
                let step = pending_approval_of(&store, ACME, &id).await;
                let lead = principal(ACME, Some("lead-000"), &["USER"]);
                approve(&store, &lead, &step, "yes").await.unwrap();
            }
            let member = principal(ACME, Some(&format!("member-{:03}", members - 1)), &["USER"]);
            for _ in 0..steps {
                let step = pending_approval_of(&store, ACME, &id).await;
                assert!(my_pending(&store, &member).await.contains(&step), "{case}");
                approve(&store, &member, &step, "yes").await.unwrap();
            }
            assert_eq!(
                stored(&store, ACME, &id).await.state,
                RequestState::RequestCompleted,
                "{case}"
            );
            assert!(my_pending(&store, &member).await.is_empty(), "{case}");
        }
    }
}

// ---------------------------------------------------------------- lost answers

#[tokio::test]
async fn a_decision_whose_answer_was_lost_recognises_its_own_write() {
    for (name, store) in stores().await {
        let lossy = Hooked::new(&store, lost_ack::LoseWriteAnswers::default());
        let id = eves_request(&store).await;
        let step = pending_approval_of(&store, ACME, &id).await;
        // Each write lands but answers as a lost race; the retry reads its
        // own decision and reports success instead of "already APPROVED".
        forward(&lossy, &manager(), &step, ENGINEER, "yours")
            .await
            .unwrap();
        approve(&lossy, &engineer(), &step, "ok").await.unwrap();
        let next = pending_approval_of(&store, ACME, &id).await;
        reject(&lossy, &source_admin(), &next, "no").await.unwrap();
        assert_eq!(lossy.hooks.lost.load(Ordering::SeqCst), 3, "{name}");
        // Each took effect once.
        let r = stored(&store, ACME, &id).await;
        assert_eq!(r.version, 4, "{name}");
        assert_eq!(r.state, RequestState::Rejected);
        assert_eq!(r.items[0].approvals[0].forward_history.len(), 1);
        assert_eq!(decision_events(&store).await.len(), 3, "{name}");
        // Someone else's decision is not mistaken for one's own.
        let (_, group_step) = at_group_step(&store, &engineer(), ENGINEER).await;
        approve(&store, &source_admin(), &group_step, "mine")
            .await
            .unwrap();
        let c = cause(
            approve(&lossy, &manager(), &group_step, "also mine")
                .await
                .unwrap_err(),
        );
        assert!(c.contains("APPROVED"), "{name}: {c}");
    }
}

// ---------------------------------------------------------------- races

const ROUNDS: usize = 4;

/// Runs `f` on the store in a task of its own.
async fn spawned<T, F, Fut>(store: &Store, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce(Store) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    tokio::spawn(f(store.clone())).await.expect("task ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_group_members_exactly_one_decides() {
    for (name, store) in stores().await {
        for round in 0..ROUNDS {
            let (id, step) = at_group_step(&store, &employee(), EMPLOYEE).await;
            // On threads of their own, so that reads and writes interleave.
            let (a, b) = tokio::join!(
                spawned(&store, {
                    let step = step.clone();
                    move |s| async move { approve(&s, &manager(), &step, "Maria says yes").await }
                }),
                spawned(&store, {
                    let step = step.clone();
                    move |s| async move { reject(&s, &source_admin(), &step, "Sam says no").await }
                }),
            );
            let r = stored(&store, ACME, &id).await;
            let status = r.approval(&step).unwrap().status;
            match (a, b) {
                (Ok(()), Err(e)) => {
                    assert_eq!(status, WorkItemState::Approved, "{name} {round}");
                    assert!(cause(e).contains("APPROVED"), "{name} {round}");
                }
                (Err(e), Ok(())) => {
                    assert_eq!(status, WorkItemState::Rejected, "{name} {round}");
                    assert!(cause(e).contains("REJECTED"), "{name} {round}");
                }
                other => panic!("{name} {round}: exactly one must win: {other:?}"),
            }
            let events: Vec<_> = decision_events(&store)
                .await
                .into_iter()
                .filter(|e| e.attributes["approvalId"] == step)
                .collect();
            assert_eq!(events.len(), 1, "{name} {round}: one decision recorded");
            // Nothing left in either member's list.
            assert!(!my_pending(&store, &manager()).await.contains(&step));
            assert!(!my_pending(&store, &source_admin()).await.contains(&step));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_decision_racing_a_cancel_or_close_exactly_one_takes_effect() {
    for (name, store) in stores().await {
        for round in 0..ROUNDS {
            // Approve against cancel.
            let id = eves_request(&store).await;
            let step = pending_approval_of(&store, ACME, &id).await;
            let body = CancelAccessRequest {
                account_activity_id: id.clone(),
                comment: "racing".into(),
            };
            let (approved, cancelled) = tokio::join!(
                spawned(&store, {
                    let step = step.clone();
                    move |s| async move { approve(&s, &manager(), &step, "racing").await }
                }),
                spawned(&store, move |s| async move {
                    cancel(&shared::plan::Runner::new(&s), &employee(), &body, now())
                        .await
                        .map(|_| ())
                }),
            );
            let r = stored(&store, ACME, &id).await;
            match (approved, cancelled) {
                (Ok(()), Err(e)) => {
                    assert_eq!(r.state, RequestState::Executing, "{name} {round}");
                    assert_eq!(r.approval(&step).unwrap().status, WorkItemState::Approved);
                    let c = cause(e);
                    assert!(c.contains("EXECUTING") && c.contains("APPROVED"), "{c}");
                }
                (Err(e), Ok(())) => {
                    assert_eq!(r.state, RequestState::Cancelled, "{name} {round}");
                    assert_eq!(r.approval(&step).unwrap().status, WorkItemState::Cancelled);
                    assert!(cause(e).contains("CANCELLED"), "{name} {round}");
                }
                other => panic!("{name} {round}: exactly one must win: {other:?}"),
            }
            // Clear the way for the next round's submission.
            if r.state == RequestState::Executing {
                close(
                    &shared::plan::Runner::new(&store),
                    &admin(),
                    &serde_json::from_value(json!({"accessRequestIds": [id]})).unwrap(),
                    now(),
                )
                .await
                .unwrap();
            }

            // Approve (the only step) against close.
            let id = submit_one(&store, &employee(), EMPLOYEE, "ROLE", ROLE_AUDITOR).await;
            let step = pending_approval_of(&store, ACME, &id).await;
            let close_body: shared::models::CloseAccessRequest =
                serde_json::from_value(json!({"accessRequestIds": [id]})).unwrap();
            let (approved, closed) = tokio::join!(
                spawned(&store, {
                    let step = step.clone();
                    move |s| async move { approve(&s, &admin(), &step, "racing").await }
                }),
                spawned(&store, move |s| async move {
                    close(&shared::plan::Runner::new(&s), &admin(), &close_body, now()).await
                }),
            );
            let closed = closed.unwrap();
            let r = stored(&store, ACME, &id).await;
            match approved {
                Ok(()) => {
                    assert_eq!(r.state, RequestState::RequestCompleted, "{name} {round}");
                    assert_eq!(closed.errored, vec![id.clone()], "{name} {round}");
                    assert_eq!(r.approval(&step).unwrap().status, WorkItemState::Approved);
                }
                Err(e) => {
                    assert_eq!(r.state, RequestState::Terminated, "{name} {round}");
                    assert_eq!(closed.closed, vec![id.clone()], "{name} {round}");
                    assert_eq!(r.approval(&step).unwrap().status, WorkItemState::Cancelled);
                    let c = cause(e);
                    assert!(c.contains("CANCELLED") && c.contains("TERMINATED"), "{c}");
                }
            }
            assert!(!my_pending(&store, &admin()).await.contains(&step));
        }
    }
}

// ---------------------------------------------------------------- the demo seed

#[tokio::test]
async fn the_demo_seed_waits_at_every_kind_of_step() {
    for (name, store) in stores_with(DEMO_SEED).await {
        const NINA: &str = "2c9180835d191a86015d28455b4a0007";
        let pending = pending_page(&store, &admin(), &[], ApiVersion::V3)
            .await
            .unwrap();
        let mut schemes: Vec<(ApprovalScheme, bool)> = Vec::new();
        for p in &pending.items {
            assert_eq!(p.requested_for.id, NINA, "{name}");
            let r = stored(&store, ACME, p.access_request_id.as_deref().unwrap()).await;
            let a = r.approval(&p.id).unwrap();
            schemes.push((a.scheme, !a.forward_history.is_empty()));
        }
        schemes.sort_by_key(|s| format!("{s:?}"));
        assert_eq!(
            schemes,
            vec![
                (ApprovalScheme::AccessProfileOwner, false),
                (ApprovalScheme::GovernanceGroup, false),
                (ApprovalScheme::Manager, false),
                (ApprovalScheme::Manager, true),
            ],
            "{name}"
        );
        let done = completed_page(&store, &admin(), &[]).await.unwrap().items;
        let states: Vec<_> = done.iter().map(|c| c.state).collect();
        assert!(states.contains(&CompletedApprovalState::Approved), "{name}");
        assert!(states.contains(&CompletedApprovalState::Rejected), "{name}");
        // Each seeded pending step can be decided right away.
        for p in &pending.items {
            approve(&store, &admin(), &p.id, "seeded").await.unwrap();
        }
        assert_counts_agree(&store, ACME, &[]).await;
    }
}
