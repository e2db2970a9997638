//! Non-employee requests with their approval items.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Approver, NamedRef};
use crate::models::ApprovalStatus;

/// One approval item of a non-employee request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeApprovalRecord {
    pub id: String,
    pub approver: Approver,
    pub approval_order: f64,
    pub approval_status: ApprovalStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// A non-employee account request with all of its approval items; rejecting
/// one item changes the request and its siblings in one write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeRequestRecord {
    pub id: String,
    pub requester: NamedRef,
    pub account_name: String,
    pub approval_status: ApprovalStatus,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub approval_items: Vec<NonEmployeeApprovalRecord>,
    pub version: u64,
}

impl NonEmployeeRequestRecord {
    pub fn item(&self, id: &str) -> Option<&NonEmployeeApprovalRecord> {
        self.approval_items.iter().find(|i| i.id == id)
    }
}
