//! Times each step of a function's start-up path in a fresh process, in the
//! order `main`, `AppState::from_env` and the first store call run them, to
//! see where init and the first request go:
//!
//!     cargo build --release -p bench-warm --example init_steps
//!     for i in $(seq 15); do TABLE_NAME=t AWS_REGION=us-east-1 \
//!         AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x JWT_HS256_SECRET=s \
//!         target/release/examples/init_steps; done
//!
//! Prints one JSON line of microseconds per step. Each step is a one-off cost
//! (the SDK caches what it builds for its first client), so only a fresh
//! process measures it; `client_new_again` shows what is left once cached.

use std::time::Instant;

fn main() {
    let mut steps: Vec<(&str, u128)> = Vec::new();
    let t = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    steps.push(("tokio_runtime", t.elapsed().as_micros()));
    rt.block_on(async {
        let t = Instant::now();
        shared::telemetry::init();
        steps.push(("telemetry_init", t.elapsed().as_micros()));

        let t = Instant::now();
        let config = shared::auth::AuthConfig::from_env();
        let auth = shared::auth::Authenticator::new(&config);
        steps.push(("auth_from_env", t.elapsed().as_micros()));
        drop(auth);

        // As DynamoStore::from_env builds it (which the first request runs).
        let t = Instant::now();
        let https = shared::store::dynamo::https_client();
        let mut loader =
            aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https.clone());
        if shared::store::dynamo::env_credentials_present() {
            loader = loader.credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            );
        }
        let sdk = loader.load().await;
        steps.push(("aws_config_load", t.elapsed().as_micros()));

        let t = Instant::now();
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        steps.push(("client_new", t.elapsed().as_micros()));

        let t = Instant::now();
        let again = aws_sdk_dynamodb::Client::new(&sdk);
        steps.push(("client_new_again", t.elapsed().as_micros()));
        drop(again);

        if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some() {
            let table = std::env::var("TABLE_NAME").unwrap_or_default();
            let store = shared::store::DynamoStore::new(client, table).with_https_client(https);
            let t = Instant::now();
            store.warm_up().await;
            steps.push(("warm_up", t.elapsed().as_micros()));
        }
    });
    let fields: Vec<String> = steps
        .iter()
        .map(|(name, us)| format!("\"{name}\":{us}"))
        .collect();
    println!("{{{}}}", fields.join(","));
}
