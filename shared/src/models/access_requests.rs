//! Access requests: submit, cancel, close and status (`/access-requests`,
//! `/access-request-status`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::*;

/// `AccessRequestType`. `MODIFY_ACCESS` is accepted on input only so that it can
/// be refused with a precise message; it is never emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessRequestType {
    GrantAccess,
    RevokeAccess,
    ModifyAccess,
}

impl AccessRequestType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GrantAccess => "GRANT_ACCESS",
            Self::RevokeAccess => "REVOKE_ACCESS",
            Self::ModifyAccess => "MODIFY_ACCESS",
        }
    }
}

/// `RequestedItemStatusRequestState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestState {
    Executing,
    RequestCompleted,
    Cancelled,
    Terminated,
    ProvisioningVerificationPending,
    Rejected,
    ProvisioningFailed,
    NotAllItemsProvisioned,
    Error,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Executing => "EXECUTING",
            Self::RequestCompleted => "REQUEST_COMPLETED",
            Self::Cancelled => "CANCELLED",
            Self::Terminated => "TERMINATED",
            Self::ProvisioningVerificationPending => "PROVISIONING_VERIFICATION_PENDING",
            Self::Rejected => "REJECTED",
            Self::ProvisioningFailed => "PROVISIONING_FAILED",
            Self::NotAllItemsProvisioned => "NOT_ALL_ITEMS_PROVISIONED",
            Self::Error => "ERROR",
        }
    }

    /// A final state never changes again; close counts such requests in error.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            Self::Executing | Self::ProvisioningVerificationPending
        )
    }
}

/// `ManualWorkItemState`: the status of one approval step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkItemState {
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
    Archived,
}

/// `AccessRequestPhases.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PhaseState {
    Pending,
    Executing,
    Completed,
    Cancelled,
    NotExecuted,
}

/// `AccessRequestPhases.result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PhaseResult {
    Successful,
    Failed,
}

/// Close `executionStatus`, case-sensitive as the spec writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ExecutionStatus {
    #[default]
    Terminated,
    Completed,
}

/// Close `completionStatus`, case-sensitive as the spec writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CompletionStatus {
    Success,
    Incomplete,
    #[default]
    Failure,
}

/// `AccessRequest`: body of `POST /access-requests`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequest {
    pub requested_for: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_type: Option<AccessRequestType>,
    pub requested_items: Vec<AccessRequestItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<ClientMetadata>,
    /// Alternate submit shape; refused with a clear cause (docs/decisions.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_for_with_requested_items: Option<serde_json::Value>,
}

/// `AccessRequestItem`. Dates stay strings here so that validation, not
/// deserialization, reports a precise cause for a bad value (`""` included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequestItem {
    #[serde(rename = "type")]
    pub item_type: ItemType,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<ClientMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_identity: Option<String>,
}

/// The `{}` body of a 202 that has nothing more to say (cancel, close).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Accepted {}

/// `CancelAccessRequest`: body of `POST /access-requests/cancel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelAccessRequest {
    pub account_activity_id: String,
    pub comment: String,
}

/// `CloseAccessRequest`: body of `POST /beta/access-requests/close`.
/// `null` for an optional field means its default, as absence does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseAccessRequest {
    pub access_request_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_status: Option<ExecutionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_status: Option<CompletionStatus>,
}

/// `AccessRequestResponse`: the 202 body of a submission.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequestResponse {
    pub new_requests: Vec<AccessRequestTracking>,
    pub existing_requests: Vec<AccessRequestTracking>,
}

/// `AccessRequestTracking`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequestTracking {
    pub requested_for: String,
    pub requested_items_details: Vec<RequestedItemDetails>,
    pub attributes_hash: i64,
    pub access_request_ids: Vec<String>,
}

/// `RequestedItemDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedItemDetails {
    #[serde(rename = "type")]
    pub item_type: ItemType,
    pub id: String,
}

/// `CancelledRequestDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelledRequestDetails {
    pub comment: String,
    pub owner: IdentityReference,
    #[serde(with = "crate::time::millis")]
    pub modified: DateTime<Utc>,
}

/// `ApprovalStatusDto`: one approval step of a requested item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalStatusDto {
    pub approval_id: Option<String>,
    #[serde(default)]
    pub forwarded: bool,
    pub original_owner: OwnerReference,
    /// Absent while a governance group (not one identity) holds the step:
    /// the schema's `allOf: [AccessItemReviewedBy]` is an object, never `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_owner: Option<IdentityReference>,
    /// Who decided the step (present in the published example, not in the
    /// schema; only sent once someone has reviewed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<IdentityReference>,
    #[serde(default, with = "crate::time::millis_opt")]
    pub modified: Option<DateTime<Utc>>,
    pub status: WorkItemState,
    pub scheme: ApprovalScheme,
    pub error_messages: Option<Vec<ErrorMessageDto>>,
    pub comment: Option<String>,
    #[serde(default, with = "crate::time::millis_opt")]
    pub remove_date: Option<DateTime<Utc>>,
}

/// `AccessRequestPhases`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRequestPhase {
    #[serde(with = "crate::time::millis")]
    pub started: DateTime<Utc>,
    #[serde(default, with = "crate::time::millis_opt")]
    pub finished: Option<DateTime<Utc>>,
    pub name: String,
    pub state: PhaseState,
    pub result: Option<PhaseResult>,
    pub phase_reference: Option<String>,
}

/// `RequestedItemStatus`: one entry of `GET /access-request-status`. The
/// object fields the schema writes as `allOf: [$ref, {nullable: true}]`
/// (`cancelledRequestDetails`, `requesterComment`, `sodViolationContext`,
/// `provisioningDetails`, `preApprovalTriggerDetails`) are left out when
/// empty: the referenced object's type rejects `null` under OpenAPI 3.0.3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedItemStatus {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub item_type: Option<ItemType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_request_details: Option<CancelledRequestDetails>,
    pub error_messages: Option<Vec<Vec<ErrorMessageDto>>>,
    pub state: RequestState,
    #[serde(default)]
    pub approval_details: Vec<ApprovalStatusDto>,
    pub approval_ids: Option<Vec<String>>,
    pub manual_work_item_details: Option<Vec<serde_json::Value>>,
    pub account_activity_item_id: String,
    pub request_type: Option<AccessRequestType>,
    #[serde(default, with = "crate::time::millis_opt")]
    pub modified: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::millis")]
    pub created: DateTime<Utc>,
    pub requester: IdentityReference,
    pub requested_for: IdentityReference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_comment: Option<CommentDto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sod_violation_context: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_details: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_approval_trigger_details: Option<serde_json::Value>,
    pub access_request_phases: Option<Vec<AccessRequestPhase>>,
    pub description: Option<String>,
    #[serde(default, with = "crate::time::millis_opt")]
    pub start_date: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::time::millis_opt")]
    pub remove_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub cancelable: bool,
    pub access_request_id: String,
    pub client_metadata: Option<ClientMetadata>,
    pub requested_accounts: Option<Vec<serde_json::Value>>,
    pub privilege_level: Option<String>,
}
