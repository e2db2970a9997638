//! Lambda entry point: this crate's handler on the shared runtime set-up.

fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(get_access_request_approval_summary::handler)
}
