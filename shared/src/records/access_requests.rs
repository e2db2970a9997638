//! Access requests: one stored record per identity request, holding its
//! requested items and their approval steps, and the duplicate guards.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Approver, NamedRef};
use crate::models::{
    AccessRequestType, ApprovalScheme, ClientMetadata, ItemType, PhaseResult, PhaseState,
    RequestState, WorkItemState,
};

/// The phase names of `accessRequestPhases`.
pub const APPROVAL_PHASE: &str = "APPROVAL_PHASE";
pub const PROVISIONING_PHASE: &str = "PROVISIONING_PHASE";

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

/// The duplicate guards a request holds while it executes.
pub fn pending_keys(record: &AccessRequestRecord) -> Vec<PendingKey> {
    record
        .items
        .iter()
        .map(|i| PendingKey {
            identity_id: record.requested_for.id.clone(),
            item_type: i.item_type,
            item_id: i.item_id.clone(),
            request_type: record.request_type,
        })
        .collect()
}
