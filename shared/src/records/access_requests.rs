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

/// One approval step of one requested item, from the moment it is reached:
/// the one source of truth for the step, from which the status view and the
/// approval views (pending, completed) are all rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRecord {
    pub approval_id: String,
    pub scheme: ApprovalScheme,
    /// The original owner: an identity or a governance group.
    pub approver: Approver,
    /// Set once the step is forwarded: the identity that owns it now
    /// (boxed: most steps are never forwarded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_owner: Option<Box<Approver>>,
    pub status: WorkItemState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<NamedRef>,
    /// The last change: the decision, or the last forward.
    #[serde(
        default,
        with = "crate::time::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub modified: Option<DateTime<Utc>>,
    /// When the step was reached (absent on records written before steps
    /// were taken in order: the request's creation).
    #[serde(
        default,
        with = "crate::time::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forward_history: Vec<ForwardRecord>,
}

impl ApprovalRecord {
    /// A step reached at `now`, pending with its owner.
    pub fn reached(approval_id: String, step: &PlannedStep, now: DateTime<Utc>) -> Self {
        Self {
            approval_id,
            scheme: step.scheme,
            approver: step.approver.clone(),
            current_owner: None,
            status: WorkItemState::Pending,
            comment: None,
            reviewed_by: None,
            modified: None,
            created: Some(now),
            forward_history: Vec::new(),
        }
    }

    /// Who owns the step now: the identity it was forwarded to, or its
    /// original owner.
    pub fn owner(&self) -> &Approver {
        self.current_owner.as_deref().unwrap_or(&self.approver)
    }

    /// Whether `identity_id` may decide the step: its owner, or a member of
    /// the governance group that owns it.
    pub fn may_act(&self, identity_id: &str) -> bool {
        self.owner().may_act(identity_id)
    }

    /// The identities listing an approval: while pending, each that may act on
    /// it (every member of its governance group); once decided, its reviewer,
    /// and its owner when an identity other than the reviewer (an ORG_ADMIN
    /// decided for them).
    pub fn listed_for(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        let mut add = |id: &str| {
            if !ids.iter().any(|i| i == id) {
                ids.push(id.to_string());
            }
        };
        if self.is_pending() {
            self.owner().acting_identities().into_iter().for_each(add);
        } else if self.is_decided() {
            if let Some(reviewer) = &self.reviewed_by {
                add(&reviewer.id);
            }
            let owner = self.owner();
            if owner.owner_type == crate::models::OwnerType::Identity {
                add(&owner.id);
            }
        }
        ids
    }

    /// The identities the step concerns: those that may act for its
    /// original owner or its owner now (an identity may come twice). The
    /// `assigned-to` lists and their counts both read it.
    pub fn involved(&self) -> impl Iterator<Item = &str> {
        [&self.approver, self.owner()]
            .into_iter()
            .flat_map(Approver::acting_identities)
    }

    /// Whether the step concerns `identity_id`: it owns or owned the step.
    pub fn involves(&self, identity_id: &str) -> bool {
        self.involved().any(|id| id == identity_id)
    }

    /// When the step was reached, given the request's creation time.
    pub fn created_or(&self, request_created: DateTime<Utc>) -> DateTime<Utc> {
        self.created.unwrap_or(request_created)
    }

    pub fn is_pending(&self) -> bool {
        self.status == WorkItemState::Pending
    }

    /// Whether an approver decided it (approved or rejected).
    pub fn is_decided(&self) -> bool {
        matches!(
            self.status,
            WorkItemState::Approved | WorkItemState::Rejected
        )
    }
}

/// A step not reached yet, with its owner resolved at submission (the
/// target identity's manager for `MANAGER`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedStep {
    pub scheme: ApprovalScheme,
    pub approver: Approver,
}

/// One forward of a step: from whom, to whom, by whom, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardRecord {
    pub old_owner: NamedRef,
    pub new_owner: NamedRef,
    pub forwarder: NamedRef,
    pub comment: String,
    #[serde(with = "crate::time::rfc3339")]
    pub modified: DateTime<Utc>,
}

/// A phase of the request's life (`APPROVAL_PHASE`, `PROVISIONING_PHASE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseRecord {
    /// [`APPROVAL_PHASE`] or [`PROVISIONING_PHASE`], not copied per record.
    #[serde(deserialize_with = "phase_name")]
    pub name: std::borrow::Cow<'static, str>,
    pub state: PhaseState,
    #[serde(with = "crate::time::rfc3339")]
    pub started: DateTime<Utc>,
    #[serde(
        default,
        with = "crate::time::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub finished: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<PhaseResult>,
}

/// A phase's name: one of the known names without a copy, anything else
/// as read.
fn phase_name<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<std::borrow::Cow<'static, str>, D::Error> {
    let name = String::deserialize(d)?;
    Ok(match name.as_str() {
        APPROVAL_PHASE => APPROVAL_PHASE.into(),
        PROVISIONING_PHASE => PROVISIONING_PHASE.into(),
        _ => name.into(),
    })
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
    #[serde(
        default,
        with = "crate::time::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_date: Option<DateTime<Utc>>,
    #[serde(
        default,
        with = "crate::time::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub remove_date: Option<DateTime<Utc>>,
    /// The steps reached so far, in scheme order; only the last can be pending.
    #[serde(default)]
    pub approvals: Vec<ApprovalRecord>,
    /// The steps still to come, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upcoming: Vec<PlannedStep>,
    /// The item's own state (absent on records written before items had
    /// one: the request's state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RequestState>,
    /// The item's own phases (absent: the request's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Vec<PhaseRecord>>,
}

impl RequestedItemRecord {
    /// The pending step, if any.
    pub fn pending_approval(&self) -> Option<&ApprovalRecord> {
        self.approvals.iter().find(|a| a.is_pending())
    }
}

/// Details written by a cancel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancellationRecord {
    pub comment: String,
    pub owner: NamedRef,
    #[serde(with = "crate::time::rfc3339")]
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
    #[serde(with = "crate::time::rfc3339")]
    pub created: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    pub modified: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<ClientMetadata>,
    pub items: Vec<RequestedItemRecord>,
    #[serde(default)]
    pub phases: Vec<PhaseRecord>,
    /// Boxed: few requests are cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<Box<CancellationRecord>>,
    /// Messages shown as warnings on the items (a close's `message`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Incremented by every write; the condition of every update.
    pub version: u64,
}

impl AccessRequestRecord {
    /// Gives back the spare room of its lists: a record read from JSON has
    /// its vectors grown as they were read (room for four items where it
    /// holds one), which a store that keeps many of them should not hold.
    pub fn shrink_to_fit(&mut self) {
        for item in &mut self.items {
            item.approvals.shrink_to_fit();
            for approval in &mut item.approvals {
                approval.forward_history.shrink_to_fit();
            }
            item.upcoming.shrink_to_fit();
            if let Some(phases) = &mut item.phases {
                phases.shrink_to_fit();
            }
        }
        self.items.shrink_to_fit();
        self.phases.shrink_to_fit();
        self.warnings.shrink_to_fit();
    }

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

    /// The state of one of its items: the item's own, or (on records written
    /// before items had one) the request's.
    pub fn item_state(&self, item: &RequestedItemRecord) -> RequestState {
        item.state.unwrap_or(self.state)
    }

    /// The phases of one of its items: the item's own, or the request's.
    pub fn item_phases<'a>(&'a self, item: &'a RequestedItemRecord) -> &'a [PhaseRecord] {
        item.phases.as_deref().unwrap_or(&self.phases)
    }

    /// Gives every item its own state and phases (copied from the request
    /// where a record written before items had them lacks them), so that
    /// a transition can change one item without the others.
    pub fn materialize_items(&mut self) {
        for item in &mut self.items {
            item.state.get_or_insert(self.state);
            if item.phases.is_none() {
                item.phases = Some(self.phases.clone());
            }
        }
    }

    /// The (item, step) positions of an approval.
    pub fn find_approval(&self, approval_id: &str) -> Option<(usize, usize)> {
        self.items.iter().enumerate().find_map(|(i, item)| {
            item.approvals
                .iter()
                .position(|a| a.approval_id == approval_id)
                .map(|j| (i, j))
        })
    }

    /// The approval with this id.
    pub fn approval(&self, approval_id: &str) -> Option<&ApprovalRecord> {
        self.find_approval(approval_id)
            .map(|(i, j)| &self.items[i].approvals[j])
    }

    /// Every pending step, with its item.
    pub fn pending_approvals(
        &self,
    ) -> impl Iterator<Item = (&RequestedItemRecord, &ApprovalRecord)> {
        self.items.iter().flat_map(|item| {
            item.approvals
                .iter()
                .filter(|a| a.is_pending())
                .map(move |a| (item, a))
        })
    }

    /// Identities whose `assigned-to` listing shows this request: everyone who
    /// may act on one of its approval steps, reached or to come, or to whom
    /// one was forwarded.
    pub fn assignees(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .items
            .iter()
            .flat_map(|i| {
                i.approvals
                    .iter()
                    .flat_map(|a| {
                        let mut owners = vec![&a.approver];
                        owners.extend(a.current_owner.as_deref());
                        owners
                    })
                    .chain(i.upcoming.iter().map(|s| &s.approver))
            })
            .flat_map(|a| a.acting_identities())
            .map(str::to_string)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Whether this request holds the duplicate guard `key`: it executes,
    /// and the item the key names is still executing in it.
    pub fn holds_claim(&self, key: &PendingKey) -> bool {
        !self.state.is_final()
            && key.identity_id == self.requested_for.id
            && key.request_type == self.request_type
            && self.items.iter().any(|i| {
                i.item_type == key.item_type
                    && i.item_id == key.item_id
                    && !self.item_state(i).is_final()
            })
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

/// The duplicate guards a request holds: those of its items that still
/// execute, while it does.
pub fn pending_keys(record: &AccessRequestRecord) -> Vec<PendingKey> {
    if record.state.is_final() {
        return Vec::new();
    }
    record
        .items
        .iter()
        .filter(|i| !record.item_state(i).is_final())
        .map(|i| PendingKey {
            identity_id: record.requested_for.id.clone(),
            item_type: i.item_type,
            item_id: i.item_id.clone(),
            request_type: record.request_type,
        })
        .collect()
}
