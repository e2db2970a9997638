//! What the store keeps: the tenant's directory and catalog (from the seed),
//! audit events and references here; each API area's records in its own
//! module. These are storage shapes, not API shapes: `domain` turns them
//! into the response models.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::models::{ApprovalScheme, ItemType, OwnerType};

pub mod access_requests;
pub mod approvals;
pub mod non_employee;

pub use access_requests::*;
pub use approvals::*;
pub use non_employee::*;

/// A new 32-hex-character id, the shape SailPoint ids have.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The first answer to a request that carried an `Idempotency-Key`: a
/// repeat of the same request with the same key is answered with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    /// What the request was (operation, method, path and body), hashed: the
    /// same key with anything else is refused.
    pub fingerprint: String,
    pub status: u16,
    pub body: String,
    #[serde(with = "crate::time::rfc3339")]
    pub created: DateTime<Utc>,
}

/// Named counts: how many rows a list holds, by the name of the list.
pub type Counts = BTreeMap<String, i64>;

/// The sizes of the lists of one scope (an identity's lists, a tenant
/// shard's): kept in the transaction of every change of a list, so that a
/// list's total is read, not counted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CounterRecord {
    pub counts: Counts,
}

impl CounterRecord {
    pub fn get(&self, name: &str) -> i64 {
        self.counts.get(name).copied().unwrap_or(0)
    }
}

/// A reference to another record: a duplicate guard names the request that
/// claims it, an assignment the request to list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointerRecord {
    pub target: String,
}

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

impl EventRecord {
    /// The order events are listed in: time, then stage, then id.
    pub fn chronological_order(&self) -> (DateTime<Utc>, u32, &str) {
        (self.created, self.sequence, self.id.as_str())
    }
}

/// An audit or trigger event (`Close Identity Requests Started`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    pub id: String,
    pub name: String,
    #[serde(with = "crate::time::rfc3339")]
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
