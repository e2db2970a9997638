//! The published example payloads of every operation deserialize into the
//! models and serialize back unchanged in meaning: every field the example
//! has comes back with the same value; fields the example lacks come back
//! only as `null` (the service sends nullable fields explicitly).

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use shared::models::*;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

/// `out` carries every key of `original` with an equal value; extra keys are null.
fn assert_same_meaning(original: &Value, out: &Value, at: &str) {
    match (original, out) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let other = b.get(k).unwrap_or_else(|| panic!("{at}.{k} was dropped"));
                assert_same_meaning(v, other, &format!("{at}.{k}"));
            }
            for (k, v) in b {
                if !a.contains_key(k) {
                    assert!(v.is_null(), "{at}.{k} was added with a value: {v}");
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}: array length changed");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_same_meaning(x, y, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            assert_eq!(a.as_f64(), b.as_f64(), "{at}: number changed");
        }
        // Date-times keep their instant; the service writes milliseconds.
        (Value::String(a), Value::String(b)) if shared::time::parse(a).is_some() => {
            assert_eq!(
                shared::time::parse(a),
                shared::time::parse(b),
                "{at}: instant changed"
            );
        }
        (a, b) => assert_eq!(a, b, "{at} changed"),
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(original: &Value) -> T {
    let parsed: T = serde_json::from_value(original.clone()).expect("example deserializes");
    let out = serde_json::to_value(&parsed).unwrap();
    assert_same_meaning(original, &out, "$");
    parsed
}

#[test]
fn create_request_example_round_trips() {
    let body: AccessRequest = round_trip(&fixture("create-access-request.request.json"));
    assert_eq!(body.request_type, Some(AccessRequestType::GrantAccess));
    assert_eq!(body.requested_items[0].item_type, ItemType::AccessProfile);
}

#[test]
fn create_response_example_round_trips() {
    let r: AccessRequestResponse = round_trip(&fixture("create-access-request.response.json"));
    assert_eq!(r.existing_requests[0].attributes_hash, 2843118224);
}

#[test]
fn cancel_close_reject_request_examples_round_trip() {
    let c: CancelAccessRequest = round_trip(&fixture("cancel-access-request.request.json"));
    assert_eq!(c.account_activity_id, "2c91808568c529c60168cca6f90c1313");
    let c: CloseAccessRequest = round_trip(&fixture("close-access-request.request.json"));
    assert_eq!(c.execution_status, Some(ExecutionStatus::Terminated));
    assert_eq!(c.completion_status, Some(CompletionStatus::Failure));
    let r: NonEmployeeRejectApprovalDecision =
        round_trip(&fixture("reject-non-employee-request.request.json"));
    assert_eq!(r.comment, "approved");
}

#[test]
fn status_example_round_trips() {
    let items: Vec<RequestedItemStatus> =
        round_trip(&fixture("list-access-request-status.response.json"));
    assert_eq!(items[0].state, RequestState::Executing);
    assert_eq!(items[0].approval_details[0].scheme, ApprovalScheme::Manager);
    assert!(items[0].cancelable);
}

#[test]
fn reject_response_examples_round_trip() {
    let item: NonEmployeeApprovalItem =
        round_trip(&fixture("reject-non-employee-request.response.json"));
    assert_eq!(item.approval_status, ApprovalStatus::Approved);
    // The beta page's example writes `"comment": true`, contradicting its own
    // schema (a string): with that one value corrected it round-trips too.
    let mut beta = fixture("reject-non-employee-request.response.beta-seed.json");
    assert_eq!(beta["comment"], Value::Bool(true));
    assert!(serde_json::from_value::<NonEmployeeApprovalItem>(beta.clone()).is_err());
    beta["comment"] = Value::String("true".into());
    round_trip::<NonEmployeeApprovalItem>(&beta);
}

#[test]
fn error_example_round_trips() {
    let e: ErrorResponseDto = round_trip(&fixture("error-400.response.json"));
    assert_eq!(e.detail_code, "400.1 Bad Request Content");
}

#[test]
fn enums_reject_values_outside_their_set() {
    for (json, what) in [
        (r#"{"type":"ACCOUNT","id":"x"}"#, "item type"),
        (r#"{"type":"role","id":"x"}"#, "lower-case item type"),
    ] {
        assert!(
            serde_json::from_str::<AccessRequestItem>(json).is_err(),
            "{what} accepted"
        );
    }
    assert!(serde_json::from_str::<CloseAccessRequest>(
        r#"{"accessRequestIds":["a"],"executionStatus":"terminated"}"#
    )
    .is_err());
    assert!(serde_json::from_str::<CloseAccessRequest>(
        r#"{"accessRequestIds":["a"],"completionStatus":"SUCCESS"}"#
    )
    .is_err());
    // null means "use the default", as absence does.
    let c: CloseAccessRequest =
        serde_json::from_str(r#"{"accessRequestIds":["a"],"message":null,"executionStatus":null}"#)
            .unwrap();
    assert_eq!((c.message, c.execution_status), (None, None));
}
