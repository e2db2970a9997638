//! Non-employee requests and their approval items (`/non-employee-requests`,
//! `/non-employee-approvals`). No field of these schemas is nullable: an
//! optional one without a value is left out, never `null`.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::*;

/// Non-employee `ApprovalStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalStatus {
    Approved,
    Rejected,
    Pending,
    NotReady,
    Cancelled,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Pending => "PENDING",
            Self::NotReady => "NOT_READY",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Not yet decided: such items are cancelled when their request is rejected.
    pub fn is_undecided(self) -> bool {
        matches!(self, Self::Pending | Self::NotReady)
    }

    pub const ALL: [ApprovalStatus; 5] = [
        Self::Approved,
        Self::Rejected,
        Self::Pending,
        Self::NotReady,
        Self::Cancelled,
    ];

    /// The status named `name`, in any case.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }
}

/// `NonEmployeeRejectApprovalDecision`: body of the reject operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeRejectApprovalDecision {
    pub comment: String,
}

/// `{type, id}` reference of a non-employee approval item (`IdentityReferenceWithId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceWithId {
    #[serde(rename = "type")]
    pub ref_type: OwnerType,
    pub id: String,
}

/// `NonEmployeeRequestLite`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NonEmployeeRequestLite {
    pub id: String,
    pub requester: IdentityReference,
}

/// `NonEmployeeApprovalItem`: the 200 body of reject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeApprovalItem {
    pub id: String,
    pub approver: ReferenceWithId,
    pub account_name: String,
    pub approval_status: ApprovalStatus,
    pub approval_order: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(with = "crate::time::millis")]
    pub modified: DateTime<Utc>,
    #[serde(with = "crate::time::millis")]
    pub created: DateTime<Utc>,
    pub non_employee_request: NonEmployeeRequestLite,
}

/// `NonEmployeeApprovalDecision`: body of the approve operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NonEmployeeApprovalDecision {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `NonEmployeeSourceLite`: the source a request was made on. The source's
/// one id is both its `id` and its `sourceId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeSourceLite {
    pub id: String,
    pub source_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `NonEmployeeSourceLiteWithSchemaAttributes` (the approval item detail's
/// source). The sources have no schema attributes of their own here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeSourceLiteWithSchemaAttributes {
    pub id: String,
    pub source_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub schema_attributes: Vec<serde_json::Value>,
}

/// `NonEmployeeApprovalItemBase`: an approval item inside a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeApprovalItemBase {
    pub id: String,
    pub approver: ReferenceWithId,
    pub account_name: String,
    pub approval_status: ApprovalStatus,
    pub approval_order: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(with = "crate::time::millis")]
    pub modified: DateTime<Utc>,
    #[serde(with = "crate::time::millis")]
    pub created: DateTime<Utc>,
}

/// `NonEmployeeRequest`: the body of create, get and each list entry. The
/// top-level `sourceId`, `name` and `description` are its source's (the
/// schema composes `NonEmployeeSourceLite` into it); `id` is the request's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeRequest {
    pub id: String,
    pub source_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub account_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub manager: String,
    pub non_employee_source: NonEmployeeSourceLite,
    pub data: BTreeMap<String, String>,
    pub approval_items: Vec<NonEmployeeApprovalItemBase>,
    pub approval_status: ApprovalStatus,
    /// The sponsor's comment: the create body has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Set when the last approval item is approved.
    #[serde(
        default,
        with = "crate::time::millis_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub completion_date: Option<DateTime<Utc>>,
    #[serde(with = "offset_millis")]
    pub start_date: DateTime<FixedOffset>,
    #[serde(with = "offset_millis")]
    pub end_date: DateTime<FixedOffset>,
    #[serde(with = "crate::time::millis")]
    pub modified: DateTime<Utc>,
    #[serde(with = "crate::time::millis")]
    pub created: DateTime<Utc>,
}

/// `NonEmployeeRequestWithoutApprovalItem`: the request inside an approval
/// item's detail; its start and end are dates (`format: date`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeRequestWithoutApprovalItem {
    pub id: String,
    pub requester: IdentityReference,
    pub account_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub manager: String,
    pub non_employee_source: NonEmployeeSourceLiteWithSchemaAttributes,
    pub data: BTreeMap<String, String>,
    pub approval_status: ApprovalStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(
        default,
        with = "crate::time::millis_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub completion_date: Option<DateTime<Utc>>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    #[serde(with = "crate::time::millis")]
    pub modified: DateTime<Utc>,
    #[serde(with = "crate::time::millis")]
    pub created: DateTime<Utc>,
}

/// The request of an approval item's detail: in full, or (`include-detail`
/// false) only its id and requester.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ApprovalItemRequest {
    Detail(Box<NonEmployeeRequestWithoutApprovalItem>),
    Lite(NonEmployeeRequestLite),
}

/// `NonEmployeeApprovalItemDetail`: the body of get approval item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeApprovalItemDetail {
    pub id: String,
    pub approver: ReferenceWithId,
    pub account_name: String,
    pub approval_status: ApprovalStatus,
    pub approval_order: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(with = "crate::time::millis")]
    pub modified: DateTime<Utc>,
    #[serde(with = "crate::time::millis")]
    pub created: DateTime<Utc>,
    pub non_employee_request: ApprovalItemRequest,
}

/// `NonEmployeeRequestSummary`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeRequestSummary {
    pub approved: u64,
    pub rejected: u64,
    pub pending: u64,
    pub non_employee_count: u64,
}

/// `NonEmployeeApprovalSummary`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeApprovalSummary {
    pub approved: u64,
    pub pending: u64,
    pub rejected: u64,
}

/// Serde adapter for a date-time kept with its own offset, written at
/// millisecond precision (`2026-12-01T00:00:00.000-05:00`; `Z` for UTC).
pub mod offset_millis {
    use chrono::{DateTime, FixedOffset, SecondsFormat};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn format(t: &DateTime<FixedOffset>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    pub fn serialize<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map_err(|_| D::Error::custom(format!("not an RFC 3339 date-time: {s}")))
    }
}
