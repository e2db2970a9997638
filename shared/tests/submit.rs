//! `POST /access-requests` rules (SPEC §3, §4), each checked on every store:
//! the in-process one always, DynamoDB when `DYNAMODB_TEST_ENDPOINT` is set.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use common::hooked::{Call, Hooked, Hooks};
use common::*;
use serde_json::{json, Value};
use shared::auth::Principal;
use shared::domain::access_requests::{cancel::cancel, status, submit::submit};
use shared::error::ApiError;
use shared::models::{
    AccessRequest, AccessRequestResponse, CancelAccessRequest, ItemType, RequestState,
    RequestedItemStatus,
};
use shared::store::{Store, StoreError};

/// Millisecond precision: what every store keeps of a timestamp.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn body(v: Value) -> AccessRequest {
    serde_json::from_value(v).expect("test body deserializes")
}

async fn submit_json(
    store: &Store,
    who: &Principal,
    v: Value,
) -> Result<AccessRequestResponse, ApiError> {
    submit(&shared::plan::Runner::new(store), who, body(v), now())
        .await
        .map(shared::plan::Settled::into_answer)
}

/// The 400's causes, asserting that one of them contains every fragment.
fn assert_cause(label: &str, result: Result<AccessRequestResponse, ApiError>, fragments: &[&str]) {
    let causes = match result {
        Err(ApiError::BadRequest(c)) => c,
        other => panic!("{label}: expected 400, got {other:?}"),
    };
    assert!(
        causes
            .iter()
            .any(|c| fragments.iter().all(|f| c.contains(f))),
        "{label}: no cause contains all of {fragments:?}; causes: {causes:#?}"
    );
}

fn forbidden(label: &str, result: Result<AccessRequestResponse, ApiError>) -> String {
    match result {
        Err(ApiError::Forbidden(cause)) => cause,
        other => panic!("{label}: expected 403, got {other:?}"),
    }
}

/// Every requested item of the tenant, as ORG_ADMIN sees it.
async fn everything(store: &Store, who: &Principal) -> Vec<RequestedItemStatus> {
    let q = status::parse_query(&Default::default()).unwrap();
    let page = status::list(store, who, &q).await.unwrap();
    assert_eq!(page.total, page.items.len(), "more than one page");
    page.items
}

fn item(item_type: &str, id: &str) -> Value {
    json!({"type": item_type, "id": id})
}

fn revoke(target: &str, items: Value) -> Value {
    json!({"requestedFor": [target], "requestType": "REVOKE_ACCESS", "requestedItems": items})
}

// ---------------------------------------------------------------- the happy path

#[tokio::test]
async fn a_user_requests_for_themself_and_tracks_it() {
    for (name, store) in stores().await {
        let r = submit_json(
            &store,
            &employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING, "comment": "need it"}]}),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(r.new_requests.len(), 1, "{name}");
        assert!(r.existing_requests.is_empty(), "{name}");
        let tracking = &r.new_requests[0];
        assert_eq!(tracking.requested_for, EMPLOYEE);
        assert_eq!(tracking.access_request_ids.len(), 1);
        assert_eq!(tracking.requested_items_details.len(), 1);
        assert_eq!(
            tracking.requested_items_details[0].item_type,
            ItemType::AccessProfile
        );
        assert_eq!(tracking.requested_items_details[0].id, AP_ENGINEERING);
        let id = tracking.access_request_ids[0].clone();

        let q = status::parse_query(
            &[("requested-for".to_string(), vec!["me".to_string()])]
                .into_iter()
                .collect(),
        )
        .unwrap();
        let page = status::list(&store, &employee(), &q).await.unwrap();
        assert_eq!(page.total, 1, "{name}");
        let item = &page.items[0];
        assert_eq!(item.access_request_id, id);
        assert_eq!(item.state, RequestState::Executing);
        assert!(item.cancelable);
        assert_eq!(item.name.as_deref(), Some("Engineering Access"));
        assert_eq!(item.requester.name, "Eve Employee");
        let approvers: Vec<_> = item
            .approval_details
            .iter()
            .map(|a| (format!("{:?}", a.scheme), a.original_owner.name.clone()))
            .collect();
        // Steps are taken in order: the first is pending, the owner's comes
        // once the manager has approved.
        assert_eq!(approvers, vec![("Manager".into(), "Maria Manager".into())]);
    }
}

// ---------------------------------------------------------------- validation (SPEC §4)

/// One row per rule: who submits, what, and the text the user must read.
struct Case {
    rule: &'static str,
    who: Principal,
    body: Value,
    expect: Vec<String>,
}

fn case(rule: &'static str, who: Principal, body: Value, expect: &[&str]) -> Case {
    Case {
        rule,
        who,
        body,
        expect: expect.iter().map(|s| s.to_string()).collect(),
    }
}

fn validation_cases(now: DateTime<Utc>) -> Vec<Case> {
    let future = "2999-01-01T00:00:00Z";
    let past = (now - Duration::days(1)).to_rfc3339();
    let unknown_identity = "2c9180835d191a86015d28455b4a9999";
    let unknown_role = "2c918086771c86df0177401efcdf9999";
    let eleven: Vec<String> = (0..11).map(bulk_identity).collect();
    let bulk_profiles: Vec<Value> = (0..26)
        .map(|i| item("ACCESS_PROFILE", &bulk_profile(i)))
        .collect();
    let bulk_entitlements: Vec<Value> = (0..26)
        .map(|i| item("ENTITLEMENT", &bulk_entitlement(i)))
        .collect();
    let auditor = |extra: Value| {
        let mut i = item("ROLE", ROLE_AUDITOR);
        i.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        i
    };
    let comment = "no longer needed";
    vec![
        case(
            "requestedFor is empty",
            employee(),
            json!({"requestedFor": [], "requestedItems": [item("ROLE", ROLE_AUDITOR)]}),
            &["requestedFor must contain at least 1 identity id; got 0"],
        ),
        case(
            "requestedFor has an empty id",
            employee(),
            json!({"requestedFor": [" "], "requestedItems": [item("ROLE", ROLE_AUDITOR)]}),
            &["requestedFor[0] is empty"],
        ),
        case(
            "requestedFor ids are not distinct",
            manager(),
            json!({"requestedFor": [EMPLOYEE, EMPLOYEE], "requestedItems": [item("ROLE", ROLE_AUDITOR)]}),
            &[&format!("requestedFor[1]: identity {EMPLOYEE} is listed more than once; ids must be distinct")],
        ),
        case(
            "requestedFor names an unknown identity",
            employee(),
            json!({"requestedFor": [unknown_identity], "requestedItems": [item("ROLE", ROLE_AUDITOR)]}),
            &[&format!("requestedFor[0]: identity {unknown_identity} was not found in the tenant")],
        ),
        case(
            "requestedFor names another tenant's identity",
            admin(),
            json!({"requestedFor": [GLOBEX_ADMIN], "requestedItems": [item("ROLE", ROLE_AUDITOR)]}),
            &[&format!("requestedFor[0]: identity {GLOBEX_ADMIN} was not found in the tenant")],
        ),
        case(
            "requestedItems is empty",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": []}),
            &["requestedItems must contain between 1 and 25 items; got 0"],
        ),
        case(
            "requestedItems has 26 items",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": bulk_profiles}),
            &["requestedItems must contain between 1 and 25 items; got 26"],
        ),
        case(
            "requestedItems has 26 entitlements",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": bulk_entitlements}),
            &["requestedItems has 26 entitlements; at most 25 are allowed"],
        ),
        case(
            "requestedItems lists an item twice",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [item("ROLE", ROLE_AUDITOR), item("ROLE", ROLE_AUDITOR)]}),
            &[&format!("requestedItems[1]: ROLE {ROLE_AUDITOR} is listed more than once; items must be distinct")],
        ),
        case(
            "an item is not in the catalog",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [item("ROLE", unknown_role)]}),
            &[&format!("requestedItems[0]: ROLE {unknown_role} was not found in the catalog")],
        ),
        case(
            "an item is requested with the wrong type",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [item("ROLE", AP_WIKI)]}),
            &[&format!(
                "requestedItems[0]: ROLE {AP_WIKI} was not found in the catalog; {AP_WIKI} has type ACCESS_PROFILE, not ROLE"
            )],
        ),
        case(
            "another tenant's item",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [item("ROLE", GLOBEX_ROLE)]}),
            &[&format!("requestedItems[0]: ROLE {GLOBEX_ROLE} was not found in the catalog")],
        ),
        case(
            "an item is not requestable",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [item("ACCESS_PROFILE", AP_BREAK_GLASS)]}),
            &[&format!("requestedItems[0]: ACCESS_PROFILE {AP_BREAK_GLASS} (Break Glass) is not requestable")],
        ),
        case(
            "GRANT of an entitlement for 11 identities",
            admin(),
            json!({"requestedFor": eleven, "requestedItems": [item("ENTITLEMENT", ENT_JIRA)]}),
            &["requestedFor has 11 identities; at most 10 are allowed when entitlements are requested"],
        ),
        case(
            "REVOKE for 2 identities",
            manager(),
            json!({"requestedFor": [EMPLOYEE, ENGINEER], "requestType": "REVOKE_ACCESS",
                   "requestedItems": [auditor(json!({"comment": comment}))]}),
            &["REVOKE_ACCESS requires exactly 1 identity in requestedFor; got 2"],
        ),
        case(
            "REVOKE for oneself",
            manager(),
            revoke(MANAGER, json!([auditor(json!({"comment": comment}))])),
            &[&format!("REVOKE_ACCESS cannot be requested for oneself (requestedFor contains {MANAGER})")],
        ),
        case(
            "REVOKE without a comment",
            manager(),
            revoke(EMPLOYEE, json!([item("ROLE", ROLE_AUDITOR)])),
            &[&format!("requestedItems[0].comment is required for REVOKE_ACCESS (ROLE {ROLE_AUDITOR}); it is missing")],
        ),
        case(
            "REVOKE with a blank comment",
            manager(),
            revoke(EMPLOYEE, json!([auditor(json!({"comment": "  "}))])),
            &["requestedItems[0].comment is required for REVOKE_ACCESS", "got \"  \""],
        ),
        case(
            "REVOKE of 2 entitlements",
            manager(),
            revoke(EMPLOYEE, json!([
                {"type": "ENTITLEMENT", "id": ENT_JIRA, "comment": comment},
                {"type": "ENTITLEMENT", "id": ENT_GITHUB, "comment": comment}
            ])),
            &["requestedItems has 2 entitlements; REVOKE_ACCESS allows at most 1 entitlement per request"],
        ),
        case(
            "REVOKE with a startDate",
            manager(),
            revoke(EMPLOYEE, json!([auditor(json!({"comment": comment, "startDate": future}))])),
            &[&format!("requestedItems[0].startDate \"{future}\" is not allowed for REVOKE_ACCESS")],
        ),
        case(
            "startDate in the past",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [auditor(json!({"startDate": past}))]}),
            &["requestedItems[0].startDate", &past, "must be in the future"],
        ),
        case(
            "removeDate is empty",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [auditor(json!({"removeDate": ""}))]}),
            &["requestedItems[0].removeDate \"\" is not an RFC 3339 date-time (e.g. 2030-01-31T12:00:00Z)"],
        ),
        case(
            "removeDate is not a date",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [auditor(json!({"removeDate": "tomorrow"}))]}),
            &["requestedItems[0].removeDate \"tomorrow\" is not an RFC 3339 date-time"],
        ),
        case(
            "removeDate has no time",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [auditor(json!({"removeDate": "2999-01-01"}))]}),
            &["requestedItems[0].removeDate \"2999-01-01\" is not an RFC 3339 date-time"],
        ),
        case(
            "removeDate is in the past",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [auditor(json!({"removeDate": past}))]}),
            &[&format!("requestedItems[0].removeDate {past:?} must be in the future (now is ")],
        ),
        case(
            "removeDate is now",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [auditor(json!({"removeDate": now.to_rfc3339()}))]}),
            &["requestedItems[0].removeDate", "must be in the future"],
        ),
        case(
            "removeDate is not in UTC",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [auditor(json!({"removeDate": "2999-01-01T00:00:00+02:00"}))]}),
            &["requestedItems[0].removeDate \"2999-01-01T00:00:00+02:00\" must be in UTC (offset Z)"],
        ),
        case(
            "removeDate on an entitlement",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ENTITLEMENT", "id": ENT_JIRA, "removeDate": future}]}),
            &[&format!("requestedItems[0].removeDate \"{future}\" is not allowed on entitlements (ENTITLEMENT {ENT_JIRA})")],
        ),
        case(
            "MODIFY_ACCESS",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestType": "MODIFY_ACCESS", "requestedItems": [item("ROLE", ROLE_AUDITOR)]}),
            &["requestType: MODIFY_ACCESS is not supported; use GRANT_ACCESS or REVOKE_ACCESS"],
        ),
        case(
            "requestedForWithRequestedItems",
            employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [item("ROLE", ROLE_AUDITOR)],
                   "requestedForWithRequestedItems": [{"identityId": EMPLOYEE, "requestedItems": []}]}),
            &["requestedForWithRequestedItems is not supported: use requestedFor and requestedItems"],
        ),
    ]
}

#[tokio::test]
async fn every_broken_rule_is_a_400_naming_field_value_and_limit_and_stores_nothing() {
    for (name, store) in stores_with(&large_seed(26)).await {
        for c in validation_cases(now()) {
            let label = format!("{name}: {}", c.rule);
            let expect: Vec<&str> = c.expect.iter().map(String::as_str).collect();
            assert_cause(&label, submit_json(&store, &c.who, c.body).await, &expect);
        }
        assert!(
            everything(&store, &admin()).await.is_empty(),
            "{name}: a refused submission stored something"
        );
    }
}

#[tokio::test]
async fn each_problem_found_is_its_own_cause() {
    for (name, store) in stores().await {
        // Two problems found without the store.
        let c = causes(
            submit_json(
                &store,
                &employee(),
                json!({"requestedFor": [], "requestedItems": [{"type": "ROLE", "id": ROLE_AUDITOR, "removeDate": ""}]}),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(c.len(), 2, "{name}: {c:?}");
        // Directory and catalog problems together.
        let c = causes(
            submit_json(
                &store,
                &admin(),
                json!({"requestedFor": [EMPLOYEE, "nobody"], "requestedItems": [
                    item("ROLE", "no-such-role"), item("ACCESS_PROFILE", AP_BREAK_GLASS), item("ROLE", ROLE_AUDITOR)
                ]}),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(c.len(), 3, "{name}: {c:?}");
        assert!(c[0].contains("requestedFor[1]: identity nobody was not found"));
        assert!(c
            .iter()
            .any(|c| c.contains("requestedItems[0]: ROLE no-such-role")));
        assert!(c
            .iter()
            .any(|c| c.contains("requestedItems[1]") && c.contains("is not requestable")));
    }
}

#[tokio::test]
async fn limits_hold_exactly_at_their_bounds() {
    for (name, store) in stores_with(&large_seed(25)).await {
        // 25 entitlements for one identity.
        let items: Vec<Value> = (0..25)
            .map(|i| item("ENTITLEMENT", &bulk_entitlement(i)))
            .collect();
        let r = submit_json(
            &store,
            &employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": items}),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: 25 entitlements: {e:?}"));
        assert_eq!(r.new_requests[0].requested_items_details.len(), 25);

        // An entitlement for 10 identities.
        let ten: Vec<String> = (0..10).map(bulk_identity).collect();
        let r = submit_json(
            &store,
            &manager(),
            json!({"requestedFor": ten, "requestedItems": [item("ENTITLEMENT", ENT_JIRA)]}),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: 10 identities: {e:?}"));
        assert_eq!(r.new_requests.len(), 10, "{name}");

        // Without entitlements there is no identity limit (SPEC §4).
        let eleven: Vec<String> = (0..11).map(bulk_identity).collect();
        let r = submit_json(
            &store,
            &admin(),
            json!({"requestedFor": eleven, "requestedItems": [item("ROLE", ROLE_AUDITOR)]}),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: 11 identities, no entitlement: {e:?}"));
        assert_eq!(r.new_requests.len(), 11, "{name}");
        // One access request per target identity, with distinct ids.
        let mut ids: Vec<&String> = r
            .new_requests
            .iter()
            .flat_map(|t| &t.access_request_ids)
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 11, "{name}");

        // One REVOKE of one entitlement is fine.
        submit_json(
            &store,
            &manager(),
            revoke(
                EMPLOYEE,
                json!([{"type": "ENTITLEMENT", "id": ENT_JIRA, "comment": "gone"}]),
            ),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: revoke one entitlement: {e:?}"));
    }
}

#[tokio::test]
async fn a_submission_too_large_for_one_transaction_is_refused_whole() {
    for (name, store) in stores_with(&large_seed(10)).await {
        // 10 identities × 10 entitlements with a MANAGER step: 10 requests,
        // 10 assignments, 100 first steps with one list entry each, 100
        // duplicate guards, and the counts of 12 identities (the 10, the
        // requester, the manager) and of the requests' tenant counter items
        // (their ids are random: 1 to 10 of them): 333 to 342 writes, more than one
        // atomic write holds.
        let ten: Vec<String> = (0..10).map(bulk_identity).collect();
        let items: Vec<Value> = (0..10)
            .map(|i| item("ENTITLEMENT", &bulk_entitlement(i)))
            .collect();
        let result = submit_json(
            &store,
            &admin(),
            json!({"requestedFor": ten, "requestedItems": items}),
        )
        .await;
        let cause = causes(result.unwrap_err()).join(" ");
        let needed: usize = cause
            .split("10 identities × 10 items need ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{name}: {cause}"));
        assert!((333..=342).contains(&needed), "{name}: {cause}");
        assert!(
            cause.contains("at most 100 can be written atomically"),
            "{name}: {cause}"
        );
        assert!(everything(&store, &admin()).await.is_empty(), "{name}");
    }
}

#[tokio::test]
async fn remove_date_in_the_future_is_stored_and_shown() {
    for (name, store) in stores().await {
        let remove = "2999-01-31T12:00:00Z";
        let r = submit_json(
            &store,
            &employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ROLE", "id": ROLE_AUDITOR, "removeDate": remove}]}),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let items = everything(&store, &admin()).await;
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0].access_request_id,
            r.new_requests[0].access_request_ids[0]
        );
        let shown = serde_json::to_value(&items[0]).unwrap();
        assert_eq!(shown["removeDate"], "2999-01-31T12:00:00.000Z", "{name}");
        assert_eq!(
            shown["approvalDetails"][0]["removeDate"], "2999-01-31T12:00:00.000Z",
            "{name}"
        );
    }
}

// ---------------------------------------------------------------- authority (SPEC §3)

#[tokio::test]
async fn who_may_request_for_whom() {
    let grant = |targets: &[&str]| json!({"requestedFor": targets, "requestedItems": [item("ROLE", ROLE_AUDITOR)]});
    let revoke_auditor = |target: &str| {
        revoke(
            target,
            json!([{"type": "ROLE", "id": ROLE_AUDITOR, "comment": "moved teams"}]),
        )
    };
    for (name, store) in stores().await {
        let allowed = [
            ("self grant", employee(), grant(&[EMPLOYEE])),
            ("manager for a report", manager(), grant(&[EMPLOYEE])),
            (
                "manager for themself and reports",
                manager(),
                grant(&[MANAGER, ENGINEER]),
            ),
            ("admin for anyone", admin(), grant(&[OUTSIDER, MANAGER])),
            (
                "manager revokes from a report",
                manager(),
                revoke_auditor(ENGINEER),
            ),
            (
                "admin revokes from anyone",
                admin(),
                revoke_auditor(OUTSIDER),
            ),
        ];
        for (rule, who, b) in allowed {
            submit_json(&store, &who, b)
                .await
                .unwrap_or_else(|e| panic!("{name}: {rule}: {e:?}"));
        }
        let stored = everything(&store, &admin()).await.len();

        let refused = [
            (
                "non-manager for another",
                employee(),
                grant(&[ENGINEER]),
                ENGINEER,
            ),
            (
                "non-manager for self and another",
                employee(),
                grant(&[EMPLOYEE, ENGINEER]),
                ENGINEER,
            ),
            (
                "manager for a report and a non-report",
                manager(),
                grant(&[EMPLOYEE, OUTSIDER]),
                OUTSIDER,
            ),
            (
                "manager's manager is not their manager",
                admin_less_manager(),
                grant(&[EMPLOYEE]),
                EMPLOYEE,
            ),
            (
                "non-manager revokes",
                employee(),
                revoke_auditor(ENGINEER),
                ENGINEER,
            ),
            (
                "manager revokes from a non-report",
                manager(),
                revoke_auditor(OUTSIDER),
                OUTSIDER,
            ),
        ];
        for (rule, who, b, target) in refused {
            let cause = forbidden(
                &format!("{name}: {rule}"),
                submit_json(&store, &who, b).await,
            );
            assert!(
                cause.contains("only ORG_ADMIN or the manager of every target identity may")
                    && cause.contains(&format!("does not manage {target}")),
                "{name}: {rule}: {cause}"
            );
        }
        assert_eq!(
            everything(&store, &admin()).await.len(),
            stored,
            "{name}: a refused submission stored something"
        );
    }
}

/// Ada without ORG_ADMIN: she manages Maria, but Maria's reports are not hers.
fn admin_less_manager() -> Principal {
    principal(ACME, Some(ADMIN), &["USER"])
}

#[tokio::test]
async fn tokens_without_a_user_cannot_submit() {
    for (name, store) in stores().await {
        for who in [api_client(), principal(ACME, None, &["ORG_ADMIN"])] {
            let cause = forbidden(
                name,
                submit_json(&store, &who, json!({"requestedFor": [EMPLOYEE], "requestedItems": [item("ROLE", ROLE_AUDITOR)]})).await,
            );
            assert!(
                cause.contains("API tokens cannot submit access requests"),
                "{cause}"
            );
        }
    }
}

// ---------------------------------------------------------------- duplicates and lifecycle

#[tokio::test]
async fn an_identical_pending_request_is_reported_as_existing() {
    for (name, store) in stores().await {
        let first = submit_json(
            &store,
            &employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING, "comment": "need it"}]}),
        )
        .await
        .unwrap();
        let id = first.new_requests[0].access_request_ids[0].clone();

        // Same identity, item and type (comment and metadata do not matter).
        let again = submit_json(
            &store,
            &employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING}],
                   "clientMetadata": {"retry": "1"}}),
        )
        .await
        .unwrap();
        assert!(again.new_requests.is_empty(), "{name}");
        assert_eq!(again.existing_requests.len(), 1, "{name}");
        let existing = &again.existing_requests[0];
        assert_eq!(existing.requested_for, EMPLOYEE);
        assert_eq!(existing.access_request_ids, vec![id.clone()]);
        assert_eq!(
            existing.requested_items_details,
            first.new_requests[0].requested_items_details
        );
        assert_eq!(
            existing.attributes_hash,
            first.new_requests[0].attributes_hash
        );

        // The manager asking for the same on Eve's behalf finds it too,
        // and gets a new request for Evan beside it.
        let both = submit_json(
            &store,
            &manager(),
            json!({"requestedFor": [EMPLOYEE, ENGINEER], "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING}]}),
        )
        .await
        .unwrap();
        assert_eq!(both.existing_requests.len(), 1, "{name}");
        assert_eq!(both.existing_requests[0].requested_for, EMPLOYEE);
        assert_eq!(
            both.existing_requests[0].access_request_ids,
            vec![id.clone()]
        );
        assert_eq!(both.new_requests.len(), 1, "{name}");
        assert_eq!(both.new_requests[0].requested_for, ENGINEER);

        // Part existing, part new: each item is reported where it belongs.
        let mixed = submit_json(
            &store,
            &employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [
                {"type": "ACCESS_PROFILE", "id": AP_ENGINEERING}, {"type": "ROLE", "id": ROLE_AUDITOR}
            ]}),
        )
        .await
        .unwrap();
        assert_eq!(mixed.existing_requests.len(), 1, "{name}");
        assert_eq!(
            mixed.existing_requests[0].requested_items_details[0].id,
            AP_ENGINEERING
        );
        assert_eq!(mixed.existing_requests[0].requested_items_details.len(), 1);
        assert_eq!(mixed.new_requests.len(), 1, "{name}");
        assert_eq!(mixed.new_requests[0].requested_items_details.len(), 1);
        assert_eq!(
            mixed.new_requests[0].requested_items_details[0].id,
            ROLE_AUDITOR
        );
        assert_ne!(mixed.new_requests[0].access_request_ids, vec![id.clone()]);

        // A REVOKE of the same item is a different request type: not a duplicate.
        let r = submit_json(
            &store,
            &manager(),
            revoke(
                EMPLOYEE,
                json!([{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING, "comment": "c"}]),
            ),
        )
        .await
        .unwrap();
        assert_eq!(r.new_requests.len(), 1, "{name}");
        assert!(r.existing_requests.is_empty(), "{name}");

        // Nothing was stored twice: Eve has one Engineering Access GRANT.
        let items = everything(&store, &admin()).await;
        let grants = items
            .iter()
            .filter(|i| {
                i.requested_for.id == EMPLOYEE
                    && i.name.as_deref() == Some("Engineering Access")
                    && i.request_type == Some(shared::models::AccessRequestType::GrantAccess)
            })
            .count();
        assert_eq!(grants, 1, "{name}");
    }
}

#[tokio::test]
async fn after_cancel_the_same_request_is_new_again() {
    for (name, store) in stores().await {
        let b = json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING}]});
        let first = submit_json(&store, &employee(), b.clone()).await.unwrap();
        let id = first.new_requests[0].access_request_ids[0].clone();
        cancel(
            &shared::plan::Runner::new(&store),
            &employee(),
            &CancelAccessRequest {
                account_activity_id: id.clone(),
                comment: "changed my mind".into(),
            },
            now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: cancel: {e:?}"));

        let second = submit_json(&store, &employee(), b.clone()).await.unwrap();
        assert!(second.existing_requests.is_empty(), "{name}: {second:?}");
        let new_id = second.new_requests[0].access_request_ids[0].clone();
        assert_ne!(new_id, id, "{name}");
        // ... and the new one guards against duplicates in turn.
        let third = submit_json(&store, &employee(), b).await.unwrap();
        assert_eq!(
            third.existing_requests[0].access_request_ids,
            vec![new_id],
            "{name}"
        );
    }
}

#[tokio::test]
async fn items_without_approval_steps_complete_at_once_and_never_block() {
    for (name, store) in stores().await {
        let b = json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_WIKI}]});
        let first = submit_json(&store, &employee(), b.clone()).await.unwrap();
        let second = submit_json(&store, &employee(), b).await.unwrap();
        assert!(second.existing_requests.is_empty(), "{name}");
        assert_eq!(second.new_requests.len(), 1, "{name}");
        assert_ne!(
            first.new_requests[0].access_request_ids,
            second.new_requests[0].access_request_ids
        );
        let items = everything(&store, &employee()).await;
        assert_eq!(items.len(), 2, "{name}");
        for i in &items {
            assert_eq!(i.state, RequestState::RequestCompleted, "{name}");
            assert!(!i.cancelable, "{name}");
            assert!(i.approval_details.is_empty(), "{name}");
        }
    }
}

#[tokio::test]
async fn a_submission_mixing_gated_and_ungated_items_tracks_both_requests() {
    for (name, store) in stores().await {
        let r = submit_json(
            &store,
            &employee(),
            json!({"requestedFor": [EMPLOYEE], "requestedItems": [
                {"type": "ACCESS_PROFILE", "id": AP_WIKI}, {"type": "ACCESS_PROFILE", "id": AP_ENGINEERING}
            ]}),
        )
        .await
        .unwrap();
        assert_eq!(r.new_requests.len(), 1, "{name}");
        let ids = &r.new_requests[0].access_request_ids;
        assert_eq!(
            ids.len(),
            2,
            "{name}: one executing request and one completed"
        );
        assert_eq!(r.new_requests[0].requested_items_details.len(), 2);
        let items = everything(&store, &employee()).await;
        let state_of = |item_name: &str| {
            let i = items
                .iter()
                .find(|i| i.name.as_deref() == Some(item_name))
                .unwrap();
            assert!(ids.contains(&i.access_request_id), "{name}");
            i.state
        };
        assert_eq!(state_of("Wiki Reader"), RequestState::RequestCompleted);
        assert_eq!(state_of("Engineering Access"), RequestState::Executing);
    }
}

/// Holds every lookup for a while before answering, so that concurrent
/// submissions all read before any of them writes: the race at its widest.
struct SlowReads;

#[async_trait]
impl Hooks for SlowReads {
    async fn after(&self, call: &Call<'_>, _ok: bool) -> Result<(), StoreError> {
        if let Call::Get(_) = call {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_identical_submissions_store_exactly_one_request() {
    const TASKS: usize = 10;
    for (name, store) in stores().await {
        for (how, store) in [
            ("as they come", store.clone()),
            ("all reading first", Hooked::new(&store, SlowReads).store),
        ] {
            // Each round asks for a different item, so it starts from nothing.
            let role = if how == "as they come" {
                ROLE_FINANCE
            } else {
                ROLE_AUDITOR
            };
            let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let store = store.clone();
                    let barrier = barrier.clone();
                    tokio::spawn(async move {
                        barrier.wait().await;
                        submit_json(
                            &store,
                            &employee(),
                            json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ROLE", "id": role}]}),
                        )
                        .await
                    })
                })
                .collect();
            let results: Vec<AccessRequestResponse> = futures::future::join_all(tasks)
                .await
                .into_iter()
                .map(|r| {
                    r.expect("task")
                        .unwrap_or_else(|e| panic!("{name}, {how}: {e:?}"))
                })
                .collect();

            let new: Vec<&String> = results
                .iter()
                .flat_map(|r| &r.new_requests)
                .flat_map(|t| &t.access_request_ids)
                .collect();
            assert_eq!(
                new.len(),
                1,
                "{name}, {how}: exactly one submission is new: {results:#?}"
            );
            let winner = new[0].clone();
            for r in &results {
                if r.new_requests.is_empty() {
                    assert_eq!(r.existing_requests.len(), 1, "{name}, {how}");
                    assert_eq!(
                        r.existing_requests[0].access_request_ids,
                        vec![winner.clone()],
                        "{name}, {how}"
                    );
                }
            }
            let stored: Vec<RequestedItemStatus> = everything(&store, &admin())
                .await
                .into_iter()
                .filter(|i| {
                    i.name.as_deref()
                        == Some(if how == "as they come" {
                            "Finance Analyst"
                        } else {
                            "Auditor"
                        })
                })
                .collect();
            assert_eq!(stored.len(), 1, "{name}, {how}: {stored:#?}");
            assert_eq!(stored[0].access_request_id, winner, "{name}, {how}");
        }
    }
}

#[tokio::test]
async fn client_metadata_and_comments_are_kept() {
    for (name, store) in stores().await {
        submit_json(
            &store,
            &manager(),
            json!({"requestedFor": [EMPLOYEE], "clientMetadata": {"app": "portal", "ticket": "T-1"},
                   "requestedItems": [{"type": "ROLE", "id": ROLE_AUDITOR, "comment": "audit season",
                                       "clientMetadata": {"ticket": "T-2", "line": "1"}}]}),
        )
        .await
        .unwrap();
        let items = everything(&store, &admin()).await;
        let i = &items[0];
        let metadata = i.client_metadata.clone().unwrap_or_default();
        assert_eq!(
            metadata.into_iter().collect::<Vec<_>>(),
            vec![
                ("app".to_string(), "portal".to_string()),
                ("line".to_string(), "1".to_string()),
                ("ticket".to_string(), "T-2".to_string())
            ],
            "{name}: request-level merged with item-level, the item winning"
        );
        let comment = i.requester_comment.as_ref().unwrap();
        assert_eq!(comment.comment.as_deref(), Some("audit season"));
        assert_eq!(comment.author.id, MANAGER);
        assert_eq!(i.requester.name, "Maria Manager");
        assert_eq!(i.requested_for.name, "Eve Employee");
    }
}

/// Lands the first submission's write, then answers it `Conflict`: the
/// store client retried an attempt whose answer was lost, and the retry
/// failed on the conditions the first attempt had just satisfied.
#[derive(Default)]
struct LoseFirstCreateAnswer {
    lost: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Hooks for LoseFirstCreateAnswer {
    async fn after(&self, call: &Call<'_>, ok: bool) -> Result<(), StoreError> {
        if ok
            && call.name() == "create_requests"
            && !self.lost.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(StoreError::Conflict(
                "condition failed (retried attempt)".into(),
            ));
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_submission_whose_write_answer_was_lost_is_stored_once_and_answered_new() {
    for (name, inner) in stores().await {
        // Wiki Reader completes at once (one record, no claim); Engineering
        // Access executes (its request, assignments and claims).
        for (label, item_type, id) in [
            ("no approval step", "ACCESS_PROFILE", AP_WIKI),
            ("approval steps", "ACCESS_PROFILE", AP_ENGINEERING),
        ] {
            let store = Hooked::new(&inner, LoseFirstCreateAnswer::default());
            let before = everything(&store, &admin()).await.len();
            let response = submit_json(
                &store,
                &employee(),
                json!({"requestedFor": [EMPLOYEE], "requestedItems": [item(item_type, id)]}),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}, {label}: {e:?}"));
            assert!(store.hooks.lost.load(std::sync::atomic::Ordering::SeqCst));
            assert!(
                response.existing_requests.is_empty(),
                "{name}, {label}: its own request reported as existing: {response:?}"
            );
            let ids = &response.new_requests[0].access_request_ids;
            assert_eq!(ids.len(), 1, "{name}, {label}: {response:?}");
            let after = everything(&store, &admin()).await;
            assert_eq!(
                after.len(),
                before + 1,
                "{name}, {label}: stored once, not again"
            );
            assert!(after.iter().any(|s| s.access_request_id == ids[0]));
        }
    }
}
