//! OAuth scopes (SPEC §3): each operation's official fragment names the
//! scopes that may call it (`security: - userAuth: [idn:...]`), and every
//! operation also accepts `sp:scopes:all`. The route table (`routes.toml`)
//! carries them per version; `build.rs` compiles them into each
//! [`Operation`](crate::routes::Operation), and
//! `scripts/check_scopes.py` checks the table against the fragments.
//!
//! A token whose `scope` claim holds neither the operation's scope (one of
//! them, where the fragment names several) nor `sp:scopes:all` is refused
//! with 403. A token without a `scope` claim is treated as `sp:scopes:all`,
//! as before scopes were checked.

/// The scope every operation accepts.
pub const ALL: &str = "sp:scopes:all";

/// The scopes of one operation under one version (`v3`, `beta`) it is served under.
pub type VersionScopes = (&'static str, &'static [&'static str]);

/// The version a request path is served under: the first of its first
/// three segments (a stage may come first, `/prod/beta/...`) that names one.
pub fn version_of(path: &str) -> Option<&'static str> {
    path.split('/').take(3).find_map(|segment| match segment {
        "v3" => Some("v3"),
        "beta" => Some("beta"),
        _ => None,
    })
}

/// The scopes that may call an operation at `path`. A path under no version
/// the operation serves (not routed so by the API) gets the strictest
/// answer: `sp:scopes:all` alone.
pub fn required(scopes: &'static [VersionScopes], path: &str) -> &'static [&'static str] {
    version_of(path)
        .and_then(|v| scopes.iter().find(|(version, _)| *version == v))
        .map(|(_, list)| *list)
        .unwrap_or(&[ALL])
}

/// Whether a token's scopes (`None`: no `scope` claim) let it call an
/// operation requiring one of `required`.
pub fn grants(token: Option<&[String]>, required: &[&str]) -> bool {
    match token {
        None => true,
        Some(held) => held
            .iter()
            .any(|s| s == ALL || required.contains(&s.as_str())),
    }
}

/// The 403 cause for a token without any of `required`: names the scope
/// that is missing, and the operation (and version) that requires it.
pub fn missing(required: &[&str], operation: &str, path: &str) -> String {
    let wanted = match required {
        [only] if *only == ALL => format!("scope {ALL}"),
        [only] => format!("scope {only} (or {ALL})"),
        several => format!("one of the scopes {} (or {ALL})", several.join(", ")),
    };
    let version = version_of(path)
        .map(|v| format!(" ({v})"))
        .unwrap_or_default();
    format!("the token's scope claim lacks {wanted}, which {operation}{version} requires")
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn of(operation: &str) -> &'static [VersionScopes] {
        crate::routes::Operation::new(operation).scopes
    }

    const APPROVE: &[VersionScopes] = of("approveAccessRequest");

    #[test]
    fn the_scope_depends_on_the_version_of_the_path() {
        assert_eq!(
            required(APPROVE, "/v3/access-request-approvals/x/approve"),
            ["idn:access-request-approvals:manage"]
        );
        // beta's fragment names no operation scope: the document's applies.
        assert_eq!(
            required(APPROVE, "/prod/beta/access-request-approvals/x/approve"),
            [ALL]
        );
        assert_eq!(required(APPROVE, "/access-request-approvals/x"), [ALL]);
        assert_eq!(
            required(of("closeAccessRequest"), "/v3/access-requests/close"),
            [ALL]
        );
    }

    #[test]
    fn a_token_needs_one_required_scope_or_all_and_no_claim_is_all() {
        let held = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let create = required(of("createAccessRequest"), "/v3/access-requests");
        assert!(grants(None, create));
        assert!(grants(Some(&held(&[ALL])), create));
        assert!(grants(
            Some(&held(&["idn:access-request-self:manage"])),
            create
        ));
        assert!(!grants(
            Some(&held(&["idn:access-request-status:read"])),
            create
        ));
        assert!(!grants(Some(&[]), create));
        assert_eq!(
            missing(create, "createAccessRequest", "/v3/access-requests"),
            "the token's scope claim lacks one of the scopes idn:access-request:manage, \
             idn:access-request-self:manage (or sp:scopes:all), which createAccessRequest (v3) requires"
        );
    }
}
