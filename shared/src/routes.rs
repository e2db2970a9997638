//! The route model: every endpoint, one row of `routes.toml` each, which
//! `build.rs` compiles in as [`ROUTES`]. A function names its operation id
//! and gets the rest of its row as an [`Operation`] (the status of its
//! success, whether it honours `Idempotency-Key`, its OAuth scopes); the
//! local server routes by the same rows, and the fixture replay, the IAM
//! check and the benches read them. The scripts (template, fixtures, README)
//! read the file itself.

use crate::scopes::VersionScopes;

/// One endpoint: one Lambda function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The operation id of the API.
    pub operation: &'static str,
    /// The crate under `functions/`, its folder under `events/`, its
    /// template resource's `Binary:`.
    pub function: &'static str,
    pub method: &'static str,
    /// After the version prefix, with `{name}` path parameters.
    pub path: &'static str,
    /// The status of its success.
    pub status: u16,
    /// Whether its answer is stored under an `Idempotency-Key`.
    pub idempotent: bool,
    /// `v3`, `beta`.
    pub versions: &'static [&'static str],
    /// Per version served: the OAuth scopes that may call it.
    pub scopes: &'static [VersionScopes],
    /// Fixtures the tests of the real binaries invoke; the first a success.
    pub smoke: &'static [&'static str],
    /// The DynamoDB IAM actions its code calls (`GetItem`, ...), which the
    /// template grants it and nothing more.
    pub dynamodb_actions: &'static [&'static str],
    /// The table's indexes it queries (`GSI1`, ...), whose ARNs the
    /// template grants it.
    pub dynamodb_indexes: &'static [&'static str],
}

include!(concat!(env!("OUT_DIR"), "/routes.rs"));

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

/// The route of a function (its crate name).
pub fn route(function: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.function == function)
}

/// What the edge knows of an operation: its row of routes.toml.
pub type Operation = Route;

impl Route {
    /// The row of operation `name`. Evaluated in a `const` (every
    /// function's `OPERATION`), a name missing from routes.toml fails the
    /// build.
    pub const fn new(name: &str) -> Self {
        let mut i = 0;
        while i < ROUTES.len() {
            if str_eq(ROUTES[i].operation, name) {
                return ROUTES[i];
            }
            i += 1;
        }
        panic!("the operation has no row in routes.toml")
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_well_formed() {
        assert_eq!(ROUTES.len(), 20);
        for r in ROUTES {
            assert!(matches!(r.method, "GET" | "POST" | "DELETE"), "{r:?}");
            assert!(r.path.starts_with('/'), "{r:?}");
            assert!(!r.versions.is_empty(), "{r:?}");
            assert!(
                r.versions.iter().all(|v| matches!(*v, "v3" | "beta")),
                "{r:?}"
            );
            assert!(!r.smoke.is_empty(), "{r:?}: smoke fixtures");
            let scoped: Vec<&str> = r.scopes.iter().map(|(v, _)| *v).collect();
            assert_eq!(scoped, r.versions, "{r:?}: scopes per version served");
            assert!(r.scopes.iter().all(|(_, s)| !s.is_empty()), "{r:?}");
            assert!(matches!(r.status, 200 | 202 | 204), "{r:?}");
            // Only a state-changing POST stores its answer under a key.
            assert_eq!(r.idempotent, r.method == "POST", "{r:?}");
        }
        assert_eq!(
            route("create-access-request").unwrap().logical_id(),
            "CreateAccessRequestFunction"
        );
        let mut functions: Vec<&str> = ROUTES.iter().map(|r| r.function).collect();
        functions.sort();
        functions.dedup();
        assert_eq!(functions.len(), ROUTES.len(), "a function is routed twice");
        let cancel = Operation::new("cancelAccessRequest");
        assert_eq!((cancel.status, cancel.idempotent), (202, true));
        let delete = Operation::new("deleteNonEmployeeRequest");
        assert_eq!((delete.status, delete.idempotent), (204, false));
    }
}
