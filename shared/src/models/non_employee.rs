//! Non-employee requests and their approval items (`/non-employee-requests`,
//! `/non-employee-approvals`).

use chrono::{DateTime, Utc};
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
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(with = "crate::time::millis")]
    pub modified: DateTime<Utc>,
    #[serde(with = "crate::time::millis")]
    pub created: DateTime<Utc>,
    pub non_employee_request: NonEmployeeRequestLite,
}
