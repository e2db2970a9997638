//! Domain rules: validation, authority, the request lifecycle and status
//! queries. Plain Rust: no Lambda or AWS SDK types.

pub mod cancel;
pub mod close;
pub mod filter;
pub mod reject;
pub mod status;
pub mod submit;
