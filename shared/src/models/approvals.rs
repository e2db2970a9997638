//! Access-request approvals (`/access-request-approvals/...`): the bodies of
//! approve, reject and forward, and the pending, completed and summary
//! views, as the v3 and beta fragments define them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::*;

/// `CommentDto` as a request body (approve, reject): only `comment` is
/// read; `created` and `author` are the service's to set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CommentBody {
    #[serde(default)]
    pub comment: Option<String>,
}

/// `ForwardApprovalDto`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardApprovalDto {
    pub new_owner_id: String,
    pub comment: String,
}

/// `ReassignmentType`: how an approval changed hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReassignmentType {
    ManualReassignment,
    AutomaticReassignment,
    AutoEscalation,
    SelfReviewDelegation,
}

/// `ApprovalForwardHistory`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalForwardHistory {
    pub old_approver_name: String,
    pub new_approver_name: String,
    pub comment: Option<String>,
    #[serde(with = "crate::time::millis")]
    pub modified: DateTime<Utc>,
    pub forwarder_name: Option<String>,
    pub reassignment_type: ReassignmentType,
}

/// `CompletedApprovalState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompletedApprovalState {
    Approved,
    Rejected,
}

/// `PendingApprovalAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PendingApprovalAction {
    Approved,
    Rejected,
    Forwarded,
}

/// The owner of an approval (`PendingApproval.owner`, `CompletedApproval.owner`):
/// `{type: IDENTITY, id, name}`. A governance group is named by its id and
/// name without a `type`: the schema knows only `IDENTITY`, and the SDKs
/// warn on any other value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalOwner {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ref_type: Option<IdentityType>,
    pub id: String,
    pub name: String,
}

/// `RequestableObjectReference`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestableObjectReference {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub item_type: ItemType,
}

/// `PendingApproval` (v3; beta has no `accessRequestId`). Optional fields
/// the schema does not make nullable are left out when there is no value
/// (`actionInProcess`: decisions take effect before their 202 is sent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingApproval {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_request_id: Option<String>,
    pub name: String,
    #[serde(with = "crate::time::millis")]
    pub created: DateTime<Utc>,
    #[serde(with = "crate::time::millis")]
    pub modified: DateTime<Utc>,
    #[serde(with = "crate::time::millis")]
    pub request_created: DateTime<Utc>,
    pub request_type: Option<AccessRequestType>,
    pub requester: IdentityReference,
    pub requested_for: IdentityReference,
    pub owner: ApprovalOwner,
    pub requested_object: RequestableObjectReference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_comment: Option<CommentDto>,
    pub previous_reviewers_comments: Vec<CommentDto>,
    pub forward_history: Vec<ApprovalForwardHistory>,
    pub comment_required_when_rejected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_in_process: Option<PendingApprovalAction>,
    #[serde(
        default,
        with = "crate::time::millis_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub remove_date: Option<DateTime<Utc>>,
    pub remove_date_update_requested: bool,
    #[serde(
        default,
        with = "crate::time::millis_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_remove_date: Option<DateTime<Utc>>,
    #[serde(
        default,
        with = "crate::time::millis_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_date: Option<DateTime<Utc>>,
    pub start_update_requested: bool,
    #[serde(
        default,
        with = "crate::time::millis_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_start_date: Option<DateTime<Utc>>,
    pub sod_violation_context: Option<serde_json::Value>,
    pub client_metadata: Option<ClientMetadata>,
    pub requested_accounts: Option<Vec<serde_json::Value>>,
    pub privilege_level: Option<String>,
    pub max_permitted_access_duration: Option<serde_json::Value>,
}

/// `CompletedApproval`. `reviewerComment` is left out when the reviewer
/// wrote none: the schema's `allOf: [CommentDto]` is an object, never `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedApproval {
    pub id: String,
    pub name: String,
    #[serde(with = "crate::time::millis")]
    pub created: DateTime<Utc>,
    #[serde(with = "crate::time::millis")]
    pub modified: DateTime<Utc>,
    #[serde(with = "crate::time::millis")]
    pub request_created: DateTime<Utc>,
    pub request_type: Option<AccessRequestType>,
    pub requester: IdentityReference,
    pub requested_for: IdentityReference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<IdentityReference>,
    pub owner: ApprovalOwner,
    pub requested_object: RequestableObjectReference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_comment: Option<CommentDto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer_comment: Option<CommentDto>,
    pub previous_reviewers_comments: Vec<CommentDto>,
    pub forward_history: Vec<ApprovalForwardHistory>,
    pub comment_required_when_rejected: bool,
    pub state: CompletedApprovalState,
    #[serde(default, with = "crate::time::millis_opt")]
    pub remove_date: Option<DateTime<Utc>>,
    pub remove_date_update_requested: bool,
    #[serde(default, with = "crate::time::millis_opt")]
    pub current_remove_date: Option<DateTime<Utc>>,
    #[serde(
        default,
        with = "crate::time::millis_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_date: Option<DateTime<Utc>>,
    pub start_update_requested: bool,
    #[serde(
        default,
        with = "crate::time::millis_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_start_date: Option<DateTime<Utc>>,
    pub sod_violation_context: Option<serde_json::Value>,
    pub pre_approval_trigger_result: Option<serde_json::Value>,
    pub client_metadata: ClientMetadata,
    pub requested_accounts: Option<Vec<serde_json::Value>>,
    pub privilege_level: Option<String>,
    pub max_permitted_access_duration: Option<serde_json::Value>,
}

/// `ApprovalSummary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApprovalSummary {
    pub pending: i32,
    pub approved: i32,
    pub rejected: i32,
}
