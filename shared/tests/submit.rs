//! `POST /access-requests` rules (SPEC §3, §4), each checked on every store.

mod common;

use chrono::{Duration, Utc};
use common::*;
use serde_json::json;
use shared::domain::{status, submit::submit};
use shared::error::ApiError;
use shared::models::{AccessRequest, RequestState};

fn body(v: serde_json::Value) -> AccessRequest {
    serde_json::from_value(v).expect("test body deserializes")
}

fn causes(e: ApiError) -> Vec<String> {
    match e {
        ApiError::BadRequest(c) => c,
        other => panic!("expected 400, got {other:?}"),
    }
}

#[tokio::test]
async fn a_user_requests_for_themself_and_tracks_it() {
    for (name, store) in stores().await {
        let now = Utc::now();
        let r = submit(
            &*store,
            &employee(),
            body(json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING, "comment": "need it"}]})),
            now,
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(r.new_requests.len(), 1, "{name}");
        assert!(r.existing_requests.is_empty(), "{name}");
        let id = r.new_requests[0].access_request_ids[0].clone();
        assert_eq!(r.new_requests[0].requested_for, EMPLOYEE);

        let q = status::parse_query(
            &[("requested-for".to_string(), vec!["me".to_string()])]
                .into_iter()
                .collect(),
        )
        .unwrap();
        let page = status::list(&*store, &employee(), &q).await.unwrap();
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
        assert_eq!(
            approvers,
            vec![
                ("Manager".into(), "Maria Manager".into()),
                ("AccessProfileOwner".into(), "Sam Source".into())
            ]
        );

        // The same request again is reported as existing, not duplicated.
        let again = submit(
            &*store,
            &employee(),
            body(json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_ENGINEERING}]})),
            now,
        )
        .await
        .unwrap();
        assert!(again.new_requests.is_empty(), "{name}");
        assert_eq!(
            again.existing_requests[0].access_request_ids,
            vec![id.clone()]
        );
    }
}

#[tokio::test]
async fn an_item_without_approval_steps_completes_at_once() {
    for (name, store) in stores().await {
        let r = submit(&*store, &employee(), body(json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ACCESS_PROFILE", "id": AP_WIKI}]})), Utc::now())
            .await
            .unwrap();
        let q = status::parse_query(&Default::default()).unwrap();
        let page = status::list(&*store, &employee(), &q).await.unwrap();
        assert_eq!(
            page.items[0].access_request_id, r.new_requests[0].access_request_ids[0],
            "{name}"
        );
        assert_eq!(
            page.items[0].state,
            RequestState::RequestCompleted,
            "{name}"
        );
        assert!(!page.items[0].cancelable);
    }
}

#[tokio::test]
async fn remove_date_rules() {
    for (name, store) in stores().await {
        let now = Utc::now();
        let cases = [
            (json!(""), "not an RFC 3339"),
            (json!("tomorrow"), "not an RFC 3339"),
            (
                json!((now - Duration::days(1)).to_rfc3339()),
                "must be in the future",
            ),
            (json!("2999-01-01T00:00:00+02:00"), "must be in UTC"),
        ];
        for (value, expected) in cases {
            let e = submit(
                &*store,
                &employee(),
                body(json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ROLE", "id": ROLE_AUDITOR, "removeDate": value}]})),
                now,
            )
            .await
            .unwrap_err();
            let c = causes(e);
            assert!(
                c[0].contains("requestedItems[0].removeDate") && c[0].contains(expected),
                "{name}: {value} -> {c:?}"
            );
        }
        let e = submit(
            &*store,
            &employee(),
            body(json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ENTITLEMENT", "id": ENT_JIRA, "removeDate": "2999-01-01T00:00:00Z"}]})),
            now,
        )
        .await
        .unwrap_err();
        assert!(
            causes(e)[0].contains("not allowed on entitlements"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn api_only_tokens_cannot_submit() {
    for (_, store) in stores().await {
        let e = submit(&*store, &api_client(), body(json!({"requestedFor": [EMPLOYEE], "requestedItems": [{"type": "ROLE", "id": ROLE_AUDITOR}]})), Utc::now())
            .await
            .unwrap_err();
        assert!(matches!(e, ApiError::Forbidden(_)));
    }
}
