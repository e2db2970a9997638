//! Non-employee requests and their approval items.

pub mod reject;
