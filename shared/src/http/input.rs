//! What each endpoint takes from its request, as a typed input: its path
//! parameter, its query, its body, the API version it was called under.
//! The edge decodes the input (after authentication and the id-shape
//! checks, before the operation), so a request it cannot decode is a 400 in
//! the SailPoint envelope that reads and writes nothing, and the domain
//! takes typed values only. The grammar of each query (filters, sorters,
//! paging) is the domain's; it is applied here.

use lambda_http::Request;
use serde::de::DeserializeOwned;

use super::{json_body, path_param, query_params, Operation};
use crate::domain::access_requests::status::{self, StatusQuery};
use crate::domain::approvals::lists::{self, SummaryQuery};
use crate::domain::approvals::ApiVersion;
use crate::domain::collection::Params;
use crate::domain::non_employee::{approvals, requests};
use crate::error::ApiError;
use crate::models::CommentBody;

/// A value an endpoint decodes from its request.
pub trait Input: Sized {
    fn decode(req: &Request, op: &Operation) -> Result<Self, ApiError>;
}

/// The JSON body, required.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> Input for Body<T> {
    fn decode(req: &Request, _: &Operation) -> Result<Self, ApiError> {
        json_body(req).map(Body)
    }
}

/// The JSON body, or its default when there is none (no bytes, or only
/// blanks): for a body whose every field is optional.
#[derive(Debug)]
pub struct OptionalBody<T>(pub T);

impl<T: DeserializeOwned + Default> Input for OptionalBody<T> {
    fn decode(req: &Request, _: &Operation) -> Result<Self, ApiError> {
        if req.body().as_ref().iter().all(u8::is_ascii_whitespace) {
            Ok(OptionalBody(T::default()))
        } else {
            json_body(req).map(OptionalBody)
        }
    }
}

/// The route's path parameter (`{id}`, `{approvalId}`, `{requestedFor}`:
/// every route has at most one), its shape already checked at the edge.
#[derive(Debug)]
pub struct PathId(pub String);

impl Input for PathId {
    fn decode(req: &Request, op: &Operation) -> Result<Self, ApiError> {
        let name = path_parameter_name(op.path)
            .ok_or_else(|| ApiError::Internal(format!("{} has no path parameter", op.operation)))?;
        path_param(req, name)
            .map(PathId)
            .ok_or_else(|| ApiError::bad_request(format!("path parameter {name} is required")))
    }
}

/// The name between the braces of a route path (`/x/{id}/approve` → `id`).
fn path_parameter_name(path: &str) -> Option<&str> {
    let start = path.find('{')? + 1;
    let end = start + path[start..].find('}')?;
    Some(&path[start..end])
}

/// Nothing from the request.
impl Input for () {
    fn decode(_: &Request, _: &Operation) -> Result<Self, ApiError> {
        Ok(())
    }
}

impl Input for ApiVersion {
    fn decode(req: &Request, _: &Operation) -> Result<Self, ApiError> {
        Ok(ApiVersion::from_path(req.uri().path()))
    }
}

impl<A: Input, B: Input> Input for (A, B) {
    fn decode(req: &Request, op: &Operation) -> Result<Self, ApiError> {
        Ok((A::decode(req, op)?, B::decode(req, op)?))
    }
}

/// An approval's comment: optional in v3 (no body at all, or `null`), the
/// body required in beta.
#[derive(Debug)]
pub struct ApprovalComment(pub CommentBody);

impl Input for ApprovalComment {
    fn decode(req: &Request, op: &Operation) -> Result<Self, ApiError> {
        Ok(ApprovalComment(match ApiVersion::decode(req, op)? {
            ApiVersion::V3 if req.body().iter().all(u8::is_ascii_whitespace) => {
                CommentBody::default()
            }
            ApiVersion::V3 => json_body::<Option<CommentBody>>(req)?.unwrap_or_default(),
            ApiVersion::Beta => json_body(req)?,
        }))
    }
}

impl Input for StatusQuery {
    fn decode(req: &Request, _: &Operation) -> Result<Self, ApiError> {
        status::parse_query(&query_params(req))
    }
}

impl Input for SummaryQuery {
    fn decode(req: &Request, _: &Operation) -> Result<Self, ApiError> {
        lists::parse_summary(&query_params(req))
    }
}

/// The query of the completed approvals list.
#[derive(Debug)]
pub struct CompletedQuery(pub lists::ListQuery);

impl Input for CompletedQuery {
    fn decode(req: &Request, _: &Operation) -> Result<Self, ApiError> {
        lists::parse_list(&query_params(req), &lists::COMPLETED_FILTERS).map(CompletedQuery)
    }
}

/// The query of the pending approvals list, whose filters (and answer)
/// differ by version.
#[derive(Debug)]
pub struct PendingQuery {
    pub version: ApiVersion,
    pub query: lists::ListQuery,
}

impl Input for PendingQuery {
    fn decode(req: &Request, op: &Operation) -> Result<Self, ApiError> {
        let version = ApiVersion::decode(req, op)?;
        let query = lists::parse_list(&query_params(req), lists::pending_filters(version))?;
        Ok(PendingQuery { version, query })
    }
}

impl Input for requests::ListQuery {
    fn decode(req: &Request, _: &Operation) -> Result<Self, ApiError> {
        requests::parse_list(&query_params(req))
    }
}

impl Input for approvals::ListQuery {
    fn decode(req: &Request, _: &Operation) -> Result<Self, ApiError> {
        approvals::parse_list(&query_params(req))
    }
}

/// `include-detail` (default true) of a non-employee approval item.
#[derive(Debug)]
pub struct IncludeDetail(pub bool);

impl Input for IncludeDetail {
    fn decode(req: &Request, _: &Operation) -> Result<Self, ApiError> {
        let params = query_params(req);
        let mut p = Params::new(&params);
        let include = p.flag("include-detail", true);
        p.finish()?;
        Ok(IncludeDetail(include))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_parameter_is_named_by_the_route() {
        assert_eq!(
            path_parameter_name("/access-request-approvals/{approvalId}/approve"),
            Some("approvalId")
        );
        assert_eq!(
            path_parameter_name("/non-employee-requests/summary/{requestedFor}"),
            Some("requestedFor")
        );
        assert_eq!(path_parameter_name("/access-requests"), None);
    }
}
