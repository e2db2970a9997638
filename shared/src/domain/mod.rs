//! Domain rules: validation, authority, the request lifecycle and the list
//! queries, one module per API area, and the collection parameters they
//! share. Plain Rust: no Lambda or AWS SDK types.

pub mod access_requests;
pub mod approvals;
pub mod collection;
pub mod non_employee;
