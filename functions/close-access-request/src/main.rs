//! Lambda entry point: build the store and verifier once, then serve.

use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = shared::state::AppState::from_env().await?;
    let state = &state;
    run(service_fn(move |req| async move {
        Ok::<_, Error>(close_access_request::handler(state, req).await)
    }))
    .await
}
