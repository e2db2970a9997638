//! Access requests: submit, cancel, close and status.

pub mod cancel;
pub mod close;
pub mod status;
pub mod submit;
