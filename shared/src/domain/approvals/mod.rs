//! Access-request approvals (SPEC §10): the steps of a requested item taken
//! in order (`lifecycle`), the decisions on them (`decide`), the approver's
//! lists and summary (`lists`), how a request's items and approvals are
//! shown (`render`), and what a request can grow to over its steps
//! (`budget`). `access_requests` builds on these; nothing here on it.

pub mod budget;
pub mod decide;
pub mod lifecycle;
pub mod lists;
pub mod render;

/// The API version a call came in on: the fragments differ (beta's approve
/// requires a body, its pending list filters on fewer fields, its
/// `PendingApproval` has no `accessRequestId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V3,
    Beta,
}

impl ApiVersion {
    /// The version of a request path (`/beta/...`, or with a stage in front
    /// `/prod/beta/...`); anything else is v3.
    pub fn from_path(path: &str) -> Self {
        if path.split('/').take(3).any(|segment| segment == "beta") {
            ApiVersion::Beta
        } else {
            ApiVersion::V3
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ApiVersion;

    #[test]
    fn the_version_is_the_first_path_segment_after_any_stage() {
        for (path, version) in [
            ("/v3/access-request-approvals/pending", ApiVersion::V3),
            ("/beta/access-request-approvals/pending", ApiVersion::Beta),
            (
                "/prod/beta/access-request-approvals/x/approve",
                ApiVersion::Beta,
            ),
            (
                "/prod/v3/access-request-approvals/beta/approve",
                ApiVersion::V3,
            ),
        ] {
            assert_eq!(ApiVersion::from_path(path), version, "{path}");
        }
    }
}
