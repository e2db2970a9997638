//! Request and response bodies, field for field as the official OpenAPI
//! fragments define them (`v3` and `beta` share these shapes): what every
//! area uses here, each API area's own in its module.
//!
//! Request types are lenient where the API is (unknown fields are ignored) and
//! strict where it is not (enums, required fields). Response types write an
//! empty field as `null` only where its schema says `nullable: true` (next to
//! a `type`), so clients see the keys the real service sends; any other
//! optional field is left out when it has no value (`tests/spec` checks every
//! response against the fragments).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub mod access_requests;
pub mod approvals;
pub mod non_employee;

pub use access_requests::*;
pub use approvals::*;
pub use non_employee::*;

/// Arbitrary string key-value pairs a client attaches to a request.
pub type ClientMetadata = BTreeMap<String, String>;

/// Type of a requestable catalog item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemType {
    AccessProfile,
    Role,
    Entitlement,
}

impl ItemType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessProfile => "ACCESS_PROFILE",
            Self::Role => "ROLE",
            Self::Entitlement => "ENTITLEMENT",
        }
    }
}

/// `ApprovalScheme`: who is responsible for an approval step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalScheme {
    AppOwner,
    SourceOwner,
    Manager,
    RoleOwner,
    AccessProfileOwner,
    EntitlementOwner,
    GovernanceGroup,
}

/// Owner kinds an approval step or non-employee approval item can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OwnerType {
    Identity,
    GovernanceGroup,
}

/// Reference type that is always `IDENTITY` (requester, requestedFor, owner ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IdentityType {
    #[default]
    Identity,
}

/// `LocaleOrigin` of an error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LocaleOrigin {
    Default,
    Request,
}

/// `ErrorMessageDto`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMessageDto {
    pub locale: Option<String>,
    pub locale_origin: Option<LocaleOrigin>,
    pub text: String,
}

/// `ErrorResponseDto`: the body of every 400, 403, 404 and 500.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorResponseDto {
    pub detail_code: String,
    pub tracking_id: String,
    pub messages: Vec<ErrorMessageDto>,
    #[serde(default)]
    pub causes: Vec<ErrorMessageDto>,
}

/// A `{type: IDENTITY, id, name}` reference (requester, requestedFor, owner,
/// reviewer, comment author).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityReference {
    #[serde(rename = "type", default)]
    pub ref_type: IdentityType,
    pub id: String,
    pub name: String,
}

/// A `{type: IDENTITY | GOVERNANCE_GROUP, id, name}` reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerReference {
    #[serde(rename = "type")]
    pub ref_type: OwnerType,
    pub id: String,
    pub name: String,
}

/// `CommentDto`: the requester's comment on an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentDto {
    pub comment: Option<String>,
    #[serde(with = "crate::time::millis")]
    pub created: DateTime<Utc>,
    pub author: IdentityReference,
}
