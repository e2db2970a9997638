//! What the store keeps: the tenant's directory and catalog (from the seed),
//! access requests with their requested items, non-employee requests, and
//! audit events. These are storage shapes, not API shapes: `domain` turns
//! them into the response models.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::models::{
    AccessRequestType, ApprovalScheme, ApprovalStatus, ClientMetadata, ItemType, OwnerType,
    PhaseResult, PhaseState, RequestState, WorkItemState,
};

/// An identity of the tenant's directory. The manager's name is copied in by
/// the seed loader so that one read gives everything a submission needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRecord {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_name: Option<String>,
}

/// Who decides an approval step: an identity or a governance group (whose
/// members are copied in, so that submissions need no further read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approver {
    #[serde(rename = "type")]
    pub owner_type: OwnerType,
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_ids: Vec<String>,
}

impl Approver {
    /// Identities that may act on this approver's work items.
    pub fn acting_identities(&self) -> Vec<&str> {
        match self.owner_type {
            OwnerType::Identity => vec![self.id.as_str()],
            OwnerType::GovernanceGroup => self.member_ids.iter().map(String::as_str).collect(),
        }
    }

    pub fn may_act(&self, identity_id: &str) -> bool {
        self.acting_identities().contains(&identity_id)
    }
}

/// One approval step a catalog item requires. `approver` is resolved by the
/// seed loader for every scheme except `MANAGER`, whose approver depends on
/// the identity the access is requested for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalStep {
    pub scheme: ApprovalScheme,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<Approver>,
}

/// A requestable (or not) access profile, role or entitlement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogItemRecord {
    #[serde(rename = "type")]
    pub item_type: ItemType,
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub requestable: bool,
    #[serde(default)]
    pub approval_steps: Vec<ApprovalStep>,
}

/// A reference to an identity with its display name at the time of writing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

/// One approval step of one requested item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRecord {
    pub approval_id: String,
    pub scheme: ApprovalScheme,
    pub approver: Approver,
    pub status: WorkItemState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<NamedRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<DateTime<Utc>>,
}

/// A phase of the request's life (`APPROVAL_PHASE`, `PROVISIONING_PHASE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseRecord {
    pub name: String,
    pub state: PhaseState,
    pub started: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<PhaseResult>,
}

/// One requested item (`accountActivityItemId`) of an access request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedItemRecord {
    pub account_activity_item_id: String,
    #[serde(rename = "type")]
    pub item_type: ItemType,
    pub item_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<ClientMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub approvals: Vec<ApprovalRecord>,
}

/// Details written by a cancel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancellationRecord {
    pub comment: String,
    pub owner: NamedRef,
    pub modified: DateTime<Utc>,
}

/// An identity request (`accessRequestId`, a.k.a. account activity id): one
/// per target identity of a submission, with its requested items. It is one
/// stored record, so every transition is one conditional write on `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequestRecord {
    pub id: String,
    pub requester: NamedRef,
    pub requested_for: NamedRef,
    pub request_type: AccessRequestType,
    pub state: RequestState,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<ClientMetadata>,
    pub items: Vec<RequestedItemRecord>,
    #[serde(default)]
    pub phases: Vec<PhaseRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<CancellationRecord>,
    /// Messages shown as warnings on the items (a close's `message`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Incremented by every write; the condition of every update.
    pub version: u64,
}

impl AccessRequestRecord {
    /// Cancelable exactly while executing and no approval decision was made.
    pub fn cancelable(&self) -> bool {
        self.state == RequestState::Executing && !self.any_approval_decided()
    }

    pub fn any_approval_decided(&self) -> bool {
        self.items
            .iter()
            .flat_map(|i| &i.approvals)
            .any(|a| a.status != WorkItemState::Pending)
    }

    /// Identities whose `assigned-to` listing shows this request: everyone who
    /// may act on one of its approval steps.
    pub fn assignees(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .items
            .iter()
            .flat_map(|i| &i.approvals)
            .flat_map(|a| a.approver.acting_identities())
            .map(str::to_string)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// The duplicate guard of one (identity, item, request type): it names the
/// request that last claimed it. A claim is live while that request is
/// still executing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingKey {
    pub identity_id: String,
    #[serde(rename = "type")]
    pub item_type: ItemType,
    pub item_id: String,
    pub request_type: AccessRequestType,
}

/// A claim to write with a submission: `replaces` is the stale claim seen at
/// read time (its request no longer executing), if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingClaim {
    pub key: PendingKey,
    pub access_request_id: String,
    pub replaces: Option<String>,
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

impl EventRecord {
    /// The order events are listed in: time, then stage, then id.
    pub fn chronological_order(&self) -> (DateTime<Utc>, u32, &str) {
        (self.created, self.sequence, self.id.as_str())
    }
}

impl NonEmployeeRequestRecord {
    pub fn item(&self, id: &str) -> Option<&NonEmployeeApprovalRecord> {
        self.approval_items.iter().find(|i| i.id == id)
    }
}

/// An audit or trigger event (`Close Identity Requests Started`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    pub id: String,
    pub name: String,
    pub created: DateTime<Utc>,
    /// Orders events stamped in the same millisecond (the precision they
    /// are stored at): the stage of the call that recorded them, e.g. a
    /// close's started (0), provisioning (1) and completed (2) events.
    #[serde(default)]
    pub sequence: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<NamedRef>,
    /// The requests the event is about.
    #[serde(default)]
    pub access_request_ids: Vec<String>,
    /// For `Close Identity Requests Completed`: the ids that finished in error.
    #[serde(default)]
    pub errored_ids: Vec<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}
