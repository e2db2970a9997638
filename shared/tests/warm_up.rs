//! The DynamoDB warm-up of a function's init: it opens the connection and
//! sends nothing; the first request then travels on that connection, and
//! later ones too (kept alive), as on DynamoDB. The same when the
//! connection opens while the client is built (`from_env_warmed_up`, what
//! a function runs), also when the predicted endpoint was the wrong one.
//!
//! One test in its own binary: it sets process environment variables.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::AttributeValue;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use shared::store::DynamoStore;
use tokio::net::TcpListener;

/// What a loopback endpoint saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    /// Requests on each connection, in the order they were accepted.
    requests_by_connection: Mutex<Vec<usize>>,
}

impl Seen {
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn requests_by_connection(&self) -> Vec<usize> {
        self.requests_by_connection.lock().unwrap().clone()
    }

    fn requests(&self) -> usize {
        self.requests_by_connection().iter().sum()
    }

    /// Waits until `n` connections were accepted (the client may finish
    /// its handshake before the listener's task has run).
    async fn until_connections(&self, n: usize) {
        for _ in 0..100 {
            if self.connections() >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
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
            seen.requests_by_connection.lock().unwrap().push(0);
            let seen = seen.clone();
            let answer = service_fn(move |_request| {
                seen.requests_by_connection.lock().unwrap()[number] += 1;
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

async fn get_item(store: &DynamoStore) {
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
    assert_eq!(
        (seen.connections(), seen.requests()),
        (0, 0),
        "building connects nothing"
    );

    store.warm_up().await;
    seen.until_connections(1).await;
    assert_eq!(
        (seen.connections(), seen.requests()),
        (1, 0),
        "one connection, nothing sent"
    );

    for n in 1..=3 {
        get_item(&store).await;
        assert_eq!(
            seen.requests_by_connection(),
            [n],
            "request {n} travelled on the connection opened ahead"
        );
    }

    // As a function's init runs it: the connection to the endpoint the
    // environment names opens while the client is built.
    let store = DynamoStore::from_env_warmed_up().await.expect("a store");
    seen.until_connections(2).await;
    assert_eq!(
        seen.requests_by_connection(),
        [3, 0],
        "one more connection, nothing sent"
    );
    get_item(&store).await;
    assert_eq!(
        seen.requests_by_connection(),
        [3, 1],
        "the first request travelled on it"
    );

    // A wrong prediction costs a connection to the predicted endpoint; the
    // one the SDK names is opened after, and the first request uses it.
    let elsewhere = Arc::new(Seen::default());
    let wrong = endpoint(elsewhere.clone()).await;
    let store = DynamoStore::from_env_warmed_up_predicting(Some(wrong.parse().unwrap()))
        .await
        .expect("a store");
    elsewhere.until_connections(1).await;
    seen.until_connections(3).await;
    assert_eq!(elsewhere.requests_by_connection(), [0]);
    assert_eq!(seen.requests_by_connection(), [3, 1, 0]);
    get_item(&store).await;
    assert_eq!(seen.requests_by_connection(), [3, 1, 1]);
    assert_eq!(
        elsewhere.requests(),
        0,
        "nothing went to the wrong endpoint"
    );
}
