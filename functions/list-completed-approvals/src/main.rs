//! Lambda entry point: this crate's handler on the shared runtime set-up.

fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(list_completed_approvals::handler)
}
