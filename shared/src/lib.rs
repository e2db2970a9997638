//! The crate every access-request function shares: API models, the error
//! envelope, authentication, domain rules, storage, and the Lambda edge.

pub mod auth;
pub mod deadline;
pub mod domain;
pub mod error;
pub mod heap;
#[cfg(feature = "test-support")]
pub mod history;
pub mod http;
pub(crate) mod idempotency;
pub mod lambda;
pub mod limits;
pub mod models;
pub mod plan;
pub mod records;
pub(crate) mod retry;
pub mod routes;
pub mod scopes;
pub mod seed;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod time;
