//! The Lambda entry point every function's `main` calls with its handler.

use std::future::Future;

use lambda_http::{service_fn, Body, Error, Request, Response};

use crate::state::AppState;

/// Builds the state once (store, token verifier) from the environment, then
/// serves invocations with `handler` until the runtime stops the process.
///
/// A current-thread runtime: Lambda sends one invocation at a time, and a
/// single-threaded runtime starts sooner (no worker threads to spawn).
pub fn run<H, F>(handler: H) -> Result<(), Error>
where
    H: Fn(&'static AppState, Request) -> F,
    F: Future<Output = Response<Body>> + Send,
{
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            crate::telemetry::init();
            // Lives as long as the process: every invocation borrows it.
            let state: &'static AppState = Box::leak(Box::new(AppState::from_env().await?));
            lambda_http::run(service_fn(|req| {
                let response = handler(state, req);
                async move { Ok::<_, Error>(response.await) }
            }))
            .await
        })
}
