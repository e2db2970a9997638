//! The route table (`routes.toml`, the one list of every endpoint) and the
//! functions by name: what the local server routes to, and what the fixture
//! replay and the warm benches call, through the very handlers the Lambda
//! functions run.

use std::sync::OnceLock;

use lambda_http::Request;
use serde::Deserialize;
use shared::http::ApiResponse;
use shared::state::AppState;

/// The route table's text.
pub const ROUTES_TOML: &str = include_str!("../../routes.toml");

/// One endpoint: one Lambda function.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The operation id of the API.
    pub operation: String,
    /// The crate under `functions/`, its folder under `events/`, its
    /// template resource's `Binary:`.
    pub function: String,
    pub method: String,
    /// After the version prefix, with `{name}` path parameters.
    pub path: String,
    /// `v3`, `beta`.
    pub versions: Vec<String>,
    /// Per version: the OAuth scopes that may call it (the edge enforces
    /// them; `shared/build.rs` compiles them into the functions).
    pub scopes: std::collections::BTreeMap<String, Vec<String>>,
    /// Fixtures the tests of the real binaries invoke; the first a success.
    pub smoke: Vec<String>,
    /// The DynamoDB IAM actions its code calls (`GetItem`, ...), which the
    /// template grants it and nothing more.
    pub dynamodb_actions: Vec<String>,
    /// The table's indexes it queries (`GSI1`, ...), whose ARNs the
    /// template grants it.
    pub dynamodb_indexes: Vec<String>,
}

impl Route {
    /// The full paths it is served at, one per version.
    pub fn paths(&self) -> impl Iterator<Item = String> + '_ {
        self.versions.iter().map(|v| format!("/{v}{}", self.path))
    }

    /// The template's logical id of its function: the crate name in
    /// PascalCase + `Function`.
    pub fn logical_id(&self) -> String {
        let mut id: String = self
            .function
            .split('-')
            .map(|part| {
                let mut chars = part.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect();
        id.push_str("Function");
        id
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteTable {
    route: Vec<Route>,
}

/// Every route, in table order.
pub fn routes() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        toml::from_str::<RouteTable>(ROUTES_TOML)
            .unwrap_or_else(|e| panic!("routes.toml: {e}"))
            .route
    })
}

/// The route of a function.
pub fn route(function: &str) -> Option<&'static Route> {
    routes().iter().find(|r| r.function == function)
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

handlers! {
    "create-access-request" => create_access_request,
    "cancel-access-request" => cancel_access_request,
    "close-access-request" => close_access_request,
    "list-access-request-status" => list_access_request_status,
    "reject-non-employee-request" => reject_non_employee_request,
    "create-non-employee-request" => create_non_employee_request,
    "list-non-employee-requests" => list_non_employee_requests,
    "get-non-employee-request" => get_non_employee_request,
    "delete-non-employee-request" => delete_non_employee_request,
    "get-non-employee-request-summary" => get_non_employee_request_summary,
    "list-non-employee-approvals" => list_non_employee_approvals,
    "get-non-employee-approval" => get_non_employee_approval,
    "approve-non-employee-request" => approve_non_employee_request,
    "get-non-employee-approval-summary" => get_non_employee_approval_summary,
    "list-pending-approvals" => list_pending_approvals,
    "list-completed-approvals" => list_completed_approvals,
    "approve-access-request" => approve_access_request,
    "reject-access-request" => reject_access_request,
    "forward-access-request" => forward_access_request,
    "get-access-request-approval-summary" => get_access_request_approval_summary,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_handler_and_every_handler_a_route() {
        let routed: Vec<&str> = routes().iter().map(|r| r.function.as_str()).collect();
        for f in &routed {
            assert!(
                FUNCTIONS.contains(f),
                "routes.toml names {f}: add its line to handlers! in local/src/lib.rs"
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

    #[test]
    fn routes_are_well_formed() {
        for r in routes() {
            assert!(
                matches!(r.method.as_str(), "GET" | "POST" | "DELETE"),
                "{r:?}"
            );
            assert!(r.path.starts_with('/'), "{r:?}");
            assert!(!r.versions.is_empty(), "{r:?}");
            assert!(r.versions.iter().all(|v| v == "v3" || v == "beta"), "{r:?}");
            assert!(!r.smoke.is_empty(), "{r:?}: smoke fixtures");
            let scoped: Vec<&String> = r.scopes.keys().collect();
            let mut versions: Vec<&String> = r.versions.iter().collect();
            versions.sort();
            assert_eq!(scoped, versions, "{r:?}: scopes per version served");
            assert!(r.scopes.values().all(|s| !s.is_empty()), "{r:?}");
        }
        assert_eq!(
            route("create-access-request").unwrap().logical_id(),
            "CreateAccessRequestFunction"
        );
    }
}
