//! Non-employee sources (tenant data from the seed) and the requests
//! sponsored on them, with their approval items.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use super::{Approver, NamedRef};
use crate::models::ApprovalStatus;

/// A non-employee source: who may sponsor requests on it (its account
/// managers) and who approves them, in order. Group approvers carry their
/// members, so a request written from the source needs no further read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeSourceRecord {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub account_manager_ids: Vec<String>,
    /// In approval order: the first approves first.
    #[serde(default)]
    pub approvers: Vec<Approver>,
}

impl NonEmployeeSourceRecord {
    pub fn is_account_manager(&self, identity_id: &str) -> bool {
        self.account_manager_ids.iter().any(|m| m == identity_id)
    }

    /// What a request keeps of its source.
    pub fn reference(&self) -> SourceRef {
        SourceRef {
            id: self.id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            account_manager_ids: self.account_manager_ids.clone(),
        }
    }
}

/// A request's source as it was when the request was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceRef {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub account_manager_ids: Vec<String>,
}

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
    /// Who approved or rejected it (the approver, a group member, or an
    /// administrator acting for them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer_id: Option<String>,
    #[serde(with = "crate::time::rfc3339")]
    pub created: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    pub modified: DateTime<Utc>,
}

impl NonEmployeeApprovalRecord {
    /// Identities that may decide it or decided it: those that may read it.
    pub fn involved(&self) -> BTreeSet<&str> {
        let mut ids: BTreeSet<&str> = self.approver.acting_identities().into_iter().collect();
        ids.extend(self.reviewer_id.as_deref());
        ids
    }

    /// Identities whose approvals list holds it: while undecided (or
    /// cancelled), those who may decide it — the approver, or each member of
    /// its group; once decided, whoever decided it (its approver when the
    /// decision names nobody).
    pub fn listed_for(&self) -> BTreeSet<&str> {
        match (self.is_decided(), self.reviewer_id.as_deref()) {
            (true, Some(reviewer)) => BTreeSet::from([reviewer]),
            _ => self.approver.acting_identities().into_iter().collect(),
        }
    }

    /// Approved or rejected: its history outlives the request.
    pub fn is_decided(&self) -> bool {
        matches!(
            self.approval_status,
            ApprovalStatus::Approved | ApprovalStatus::Rejected
        )
    }
}

/// A non-employee account request with all of its approval items. It is
/// stored whole under the request's key and under each item's key (so a
/// decision on an item reads everything it changes in one GetItem), and
/// into the list of each identity that may see it; every copy is written in
/// the same transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeRequestRecord {
    pub id: String,
    pub requester: NamedRef,
    pub source: SourceRef,
    pub account_name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub manager: String,
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    /// As the sponsor wrote them (their offset is kept).
    pub start_date: DateTime<FixedOffset>,
    pub end_date: DateTime<FixedOffset>,
    pub approval_status: ApprovalStatus,
    /// When the last approval item was approved.
    #[serde(
        default,
        with = "crate::time::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub completion_date: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::rfc3339")]
    pub created: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    pub modified: DateTime<Utc>,
    pub approval_items: Vec<NonEmployeeApprovalRecord>,
    pub version: u64,
}

/// The status a non-employee request's items give it: rejected once any
/// item is, approved once all are (at once without any), pending otherwise.
pub fn request_status(items: &[NonEmployeeApprovalRecord]) -> ApprovalStatus {
    if items
        .iter()
        .any(|i| i.approval_status == ApprovalStatus::Rejected)
    {
        ApprovalStatus::Rejected
    } else if items
        .iter()
        .all(|i| i.approval_status == ApprovalStatus::Approved)
    {
        ApprovalStatus::Approved
    } else {
        ApprovalStatus::Pending
    }
}

impl NonEmployeeRequestRecord {
    pub fn item(&self, id: &str) -> Option<&NonEmployeeApprovalRecord> {
        self.approval_items.iter().find(|i| i.id == id)
    }

    /// Identities whose requests list holds this request: the sponsor and
    /// the source's account managers.
    pub fn listed_for(&self) -> BTreeSet<&str> {
        let mut ids: BTreeSet<&str> = self
            .source
            .account_manager_ids
            .iter()
            .map(String::as_str)
            .collect();
        ids.insert(self.requester.id.as_str());
        ids
    }

    /// Whether `identity_id` may read the request: it lists the request, or
    /// may decide or decided one of its items.
    pub fn visible_to(&self, identity_id: &str) -> bool {
        self.listed_for().contains(identity_id)
            || self
                .approval_items
                .iter()
                .any(|i| i.involved().contains(identity_id))
    }

    /// Whether the request holds its account name on the source: every
    /// request does until it is rejected (or deleted).
    pub fn holds_account_name(&self) -> bool {
        self.approval_status != ApprovalStatus::Rejected
    }
}

/// One entry of an identity's approvals list: an approval item with what
/// its list entry shows of the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonEmployeeApprovalViewRecord {
    pub request_id: String,
    pub requester: NamedRef,
    pub account_name: String,
    pub item: NonEmployeeApprovalRecord,
}

impl NonEmployeeApprovalViewRecord {
    pub fn of(request: &NonEmployeeRequestRecord, item: &NonEmployeeApprovalRecord) -> Self {
        Self {
            request_id: request.id.clone(),
            requester: request.requester.clone(),
            account_name: request.account_name.clone(),
            item: item.clone(),
        }
    }
}
