//! The floor the cold-start harness (`bench/coldstart.py`) compares every
//! function with: a bare `lambda_http` function, built with the workspace's
//! dependency versions and release profile, that answers `{}` to anything.

use lambda_http::{run, service_fn, Body, Error, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_req| async {
        Ok::<_, Error>(Response::new(Body::from("{}")))
    }))
    .await
}
