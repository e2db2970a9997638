//! What a function does at start-up with DynamoDB configured: a clear
//! start-up error when no region can be found; otherwise it starts, with
//! the warm-up (the default) contacting the endpoint during start-up or
//! without a connection (`DYNAMODB_WARMUP=false`: the client is built by the
//! first store call), and an unreachable endpoint is a store error on the
//! request, not a crash.
//!
//! One test in its own binary: it sets process environment variables.

use shared::state::store_from_env;
use shared::store::StoreError;

/// A loopback port nothing listens on.
fn closed_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn starts_without_a_connection_and_needs_a_region() {
    let endpoint = closed_endpoint();
    for (name, value) in [
        ("TABLE_NAME", "startup-test"),
        ("AWS_ACCESS_KEY_ID", "startup"),
        ("AWS_SECRET_ACCESS_KEY", "startup"),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
        ("AWS_MAX_ATTEMPTS", "1"),
        // No profile files: the region can only come from the environment.
        ("AWS_CONFIG_FILE", "/nonexistent/aws-config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        ),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        std::env::set_var(name, value);
    }
    for name in ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"] {
        std::env::remove_var(name);
    }
    std::env::set_var("DYNAMODB_WARMUP", "false");

    // Without a region the start fails, saying what is missing.
    let error = store_from_env("{}")
        .await
        .err()
        .expect("no region: the start fails");
    assert!(error.to_string().contains("AWS_REGION"), "{error}");

    // With one, the function starts although the endpoint is unreachable...
    std::env::set_var("AWS_REGION", "eu-west-1");
    let store = store_from_env("{}")
        .await
        .expect("starts without a connection");

    // ...and the first store call reports the endpoint as unavailable.
    let result = store.list_events("acme").await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );

    // The warm-up (the default) contacts it during start-up and logs the
    // failure without stopping the start.
    std::env::remove_var("DYNAMODB_WARMUP");
    let store = store_from_env("{}")
        .await
        .expect("a failed warm-up still starts");
    assert!(matches!(
        store.list_events("acme").await,
        Err(StoreError::Unavailable(_))
    ));
}
