//! A path parameter that was not UTF-8 once percent-decoded, at the Lambda
//! edge. API Gateway hands a function its path parameters as JSON strings,
//! so bytes that are not UTF-8 cannot reach a handler as such: a REST API
//! passes the parameter still percent-encoded (`%FF`), and a gateway that
//! decoded it could only pass the replacement character. Either way every
//! function with a path parameter answers a client error in the SailPoint
//! envelope, never a 5xx or plain text. (The local server, which decodes
//! paths itself, is tested in `local/src/main.rs`.)

use std::path::Path;

use serde_json::Value;
use shared::seed::DEMO_SEED;
use shared::state::AppState;

/// What a parameter that was `%FF` on the wire can arrive as.
const ARRIVALS: [&str; 3] = ["%FF", "\u{FFFD}", "abc%C3%28def"];

/// A route's first smoke fixture (a success) with every path parameter
/// replaced by `value`.
fn event_with_parameters(route: &local_api::Route, value: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(route.function)
        .join(format!("{}.json", route.smoke[0]));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let resource = event["resource"]
        .as_str()
        .expect("a REST event")
        .to_string();
    let mut concrete = resource.clone();
    let parameters = event["pathParameters"]
        .as_object_mut()
        .expect("path parameters");
    for (name, parameter) in parameters.iter_mut() {
        concrete = concrete.replace(&format!("{{{name}}}"), value);
        *parameter = Value::from(value);
    }
    event["path"] = Value::from(concrete.clone());
    event["requestContext"]["path"] = Value::from(format!("/prod{concrete}"));
    event
}

fn is_error_envelope(body: &Value) -> bool {
    let messages = |v: &Value| {
        v.as_array().is_some_and(|items| {
            items
                .iter()
                .all(|m| m["locale"].is_string() && m["text"].is_string())
        })
    };
    body.as_object().is_some_and(|o| {
        o.len() == 4
            && o["detailCode"].is_string()
            && o["trackingId"].is_string()
            && messages(&o["messages"])
            && messages(&o["causes"])
    })
}

#[tokio::test]
async fn a_path_parameter_that_was_not_utf8_gets_the_error_envelope() {
    let routes: Vec<_> = local_api::routes()
        .iter()
        .filter(|r| r.path.contains('{'))
        .collect();
    assert!(!routes.is_empty());
    for route in routes {
        for value in ARRIVALS {
            let state = AppState::local(DEMO_SEED).await.unwrap();
            let event = event_with_parameters(route, value);
            let request = lambda_http::request::from_str(&event.to_string()).unwrap();
            let response = local_api::call(route.function, &state, request)
                .await
                .unwrap();
            let body: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
            assert!(
                (400..500).contains(&response.status) && is_error_envelope(&body),
                "{} with {value:?}: {} {}",
                route.function,
                response.status,
                response.body
            );
        }
    }
}
