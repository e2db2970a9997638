//! The five functions by name: what the local server routes to, and what
//! the fixture replay and the warm benches call, through the very handlers
//! the Lambda functions run.

use lambda_http::{Body, Request, Response};
use shared::state::AppState;

/// One of the functions of `template.yaml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Create,
    Cancel,
    Close,
    Status,
    Reject,
}

impl Function {
    pub const ALL: [Function; 5] = [
        Function::Create,
        Function::Cancel,
        Function::Close,
        Function::Status,
        Function::Reject,
    ];

    /// Its crate name, also its directory under `functions/` and `events/`
    /// and its `Binary:` in the template.
    pub fn name(self) -> &'static str {
        match self {
            Function::Create => "create-access-request",
            Function::Cancel => "cancel-access-request",
            Function::Close => "close-access-request",
            Function::Status => "list-access-request-status",
            Function::Reject => "reject-non-employee-request",
        }
    }

    /// The function with this crate name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Its handler's answer to `req`.
    pub async fn handle(self, state: &AppState, req: Request) -> Response<Body> {
        match self {
            Function::Create => create_access_request::handler(state, req).await,
            Function::Cancel => cancel_access_request::handler(state, req).await,
            Function::Close => close_access_request::handler(state, req).await,
            Function::Status => list_access_request_status::handler(state, req).await,
            Function::Reject => reject_non_employee_request::handler(state, req).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Function::ALL {
            assert_eq!(Function::from_name(f.name()), Some(f));
        }
        assert_eq!(Function::from_name("no-such-function"), None);
    }
}
