//! The DynamoDB warm-up of a function's init: it opens the connection and
//! sends nothing; the first request then travels on that connection, and
//! later ones too (kept alive), as on DynamoDB.
//!
//! One test in its own binary: it sets process environment variables.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use shared::store::DynamoStore;
use tokio::net::TcpListener;

/// What the loopback endpoint saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    requests: AtomicUsize,
    /// Requests that arrived on the first connection.
    on_first_connection: AtomicUsize,
}

/// An HTTP/1.1 endpoint (hyper's server) answering every request `{}` (an
/// empty GetItem result) and keeping its connections alive, as DynamoDB
/// does.
async fn endpoint(seen: Arc<Seen>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let number = seen.connections.fetch_add(1, Ordering::SeqCst);
            let seen = seen.clone();
            let answer = service_fn(move |_request| {
                seen.requests.fetch_add(1, Ordering::SeqCst);
                if number == 0 {
                    seen.on_first_connection.fetch_add(1, Ordering::SeqCst);
                }
                async {
                    hyper::Response::builder()
                        .header("content-type", "application/x-amz-json-1.0")
                        .body("{}".to_string())
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(socket), answer));
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn the_warm_up_opens_the_connection_the_first_request_uses() {
    let seen = Arc::new(Seen::default());
    let url = endpoint(seen.clone()).await;
    for (name, value) in [
        ("TABLE_NAME", "warm-up-test"),
        ("AWS_ACCESS_KEY_ID", "warm-up"),
        ("AWS_SECRET_ACCESS_KEY", "warm-up"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ENDPOINT_URL_DYNAMODB", url.as_str()),
        ("AWS_CONFIG_FILE", "/nonexistent/aws-config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        ),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        std::env::set_var(name, value);
    }
    let store = DynamoStore::from_env().await.expect("a store");
    let connections = || seen.connections.load(Ordering::SeqCst);
    let requests = || seen.requests.load(Ordering::SeqCst);
    assert_eq!(
        (connections(), requests()),
        (0, 0),
        "building connects nothing"
    );

    store.warm_up().await;
    // The connection is open (the listener has accepted it) and idle.
    for _ in 0..100 {
        if connections() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        (connections(), requests()),
        (1, 0),
        "one connection, nothing sent"
    );

    for n in 1..=3 {
        let answer = store
            .client()
            .get_item()
            .table_name(store.table())
            .key("pk", AttributeValue::S("a".into()))
            .key("sk", AttributeValue::S("b".into()))
            .send()
            .await
            .expect("the endpoint answers");
        assert!(answer.item().is_none());
        assert_eq!(
            connections(),
            1,
            "request {n} opened no connection of its own"
        );
        assert_eq!(seen.on_first_connection.load(Ordering::SeqCst), n);
    }
}
