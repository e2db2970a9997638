//! The functions by name, with the route table (`shared::routes`, compiled
//! from `routes.toml`): what the local server routes to, and what the fixture
//! replay and the warm benches call, through the very handlers the Lambda
//! functions run.

use lambda_http::Request;
use shared::http::ApiResponse;
use shared::state::AppState;

pub use shared::routes::{route, Route};

/// Every route, in table order.
pub fn routes() -> &'static [Route] {
    shared::routes::ROUTES
}

/// The function crates' handlers by crate name: one line per function.
macro_rules! handlers {
    ($($name:literal => $krate:ident,)*) => {
        /// The function names that have a handler here.
        pub const FUNCTIONS: &[&str] = &[$($name),*];

        /// The answer of `function`'s handler to `req`; `None` for a name
        /// without a handler. Each handler's future is boxed: unboxed, a
        /// debug build gives every arm's its own stack slot in one frame.
        pub async fn call(function: &str, state: &AppState, req: Request) -> Option<ApiResponse> {
            Some(match function {
                $($name => Box::pin($krate::handler(state, req)).await,)*
                _ => return None,
            })
        }
    };
}

// One line per row of routes.toml (`build.rs`).
include!(concat!(env!("OUT_DIR"), "/handlers.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_handler_and_every_handler_a_route() {
        let routed: Vec<&str> = routes().iter().map(|r| r.function).collect();
        for f in &routed {
            assert!(
                FUNCTIONS.contains(f),
                "routes.toml names {f}, which has no handler"
            );
        }
        for f in FUNCTIONS {
            assert!(routed.contains(f), "{f} has a handler but no route");
        }
        let mut unique = routed.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), routed.len(), "a function is routed twice");
    }
}
