//! Lambda entry point: build the store and verifier once, then serve.

use lambda_http::{run, service_fn, Error};

fn main() -> Result<(), Error> {
    // Before any thread exists: it may set an environment variable.
    shared::state::prefer_ca_bundle_file();
    // One invocation at a time: a single-threaded runtime starts sooner.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve())
}

async fn serve() -> Result<(), Error> {
    shared::telemetry::init();
    let state = shared::state::AppState::from_env().await?;
    let state = &state;
    run(service_fn(move |req| async move {
        Ok::<_, Error>(cancel_access_request::handler(state, req).await)
    }))
    .await
}
