//! The Lambda entry point every function's `main` calls with its handler.
//!
//! Events arrive as API Gateway proxy requests (REST payload 1.0 or HTTP API
//! payload 2.0, which `lambda_http` turns into one `Request`); answers leave
//! as the proxy format of the same payload version, written by
//! [`ApiResponse::to_proxy`] so that header names keep their spelling.

use std::future::Future;

use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{service_fn, Error, Request, RequestExt};

use crate::http::ApiResponse;
use crate::state::AppState;

/// Builds the state once (store, token verifier) from the environment, then
/// serves invocations with `handler` until the runtime stops the process.
///
/// A current-thread runtime: Lambda sends one invocation at a time, and a
/// single-threaded runtime starts sooner (no worker threads to spawn).
pub fn run<H, F>(handler: H) -> Result<(), Error>
where
    H: Fn(&'static AppState, Request) -> F,
    F: Future<Output = ApiResponse> + Send,
{
    crate::heap::keep_freed_memory();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            crate::telemetry::init();
            // Lives as long as the process: every invocation borrows it.
            let state: &'static AppState = Box::leak(Box::new(AppState::from_env().await?));
            lambda_runtime::run(service_fn(|event: LambdaEvent<LambdaRequest>| {
                let origin = event.payload.request_origin();
                let request = Request::from(event.payload).with_lambda_context(event.context);
                let response = handler(state, request);
                async move { Ok::<_, Error>(response.await.to_proxy(&origin)) }
            }))
            .await
        })
}
