//! Approvals as the approval endpoints read them. The steps themselves live
//! in their access request (`ApprovalRecord`, the one source of truth);
//! these are the copies written beside it in the same transactions: each
//! approval's own record, which a decision reads in one request, and the
//! entries of the lists that show it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AccessRequestRecord, ApprovalRecord, NamedRef, RequestedItemRecord};
use crate::models::{AccessRequestType, ClientMetadata};

/// An approval, found by its id: the access request it belongs to. While
/// the approval is pending this is the request as it is now (every change
/// of the request rewrites it); the change that ends the approval (a
/// decision, a cancel, a close) leaves it as it was then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalItemRecord {
    pub approval_id: String,
    /// Shared with the request's own item written in the same change.
    pub request: std::sync::Arc<AccessRequestRecord>,
}

impl ApprovalItemRecord {
    /// The approval itself, within its request.
    pub fn approval(&self) -> Option<&ApprovalRecord> {
        self.request.approval(&self.approval_id)
    }
}

/// An approval list entry as a store keeps it: as DynamoDB returns it, or
/// (in process, as written) the request it shows as of the change that
/// wrote it — shared with that request's own item — and the step's place,
/// the entry being made from them when it is read. Entries are most of what
/// a long history holds; this keeps one copy of each request version.
#[derive(Debug, Clone)]
pub enum StoredEntry {
    Entry(std::sync::Arc<ApprovalEntryRecord>),
    Step {
        request: std::sync::Arc<AccessRequestRecord>,
        item: usize,
        step: usize,
    },
}

impl StoredEntry {
    /// The entry it stands for.
    pub fn entry(&self) -> ApprovalEntryRecord {
        match self {
            StoredEntry::Entry(e) => ApprovalEntryRecord::clone(e),
            StoredEntry::Step {
                request,
                item,
                step,
            } => ApprovalEntryRecord::of(request, *item, *step),
        }
    }
}

impl PartialEq for StoredEntry {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                StoredEntry::Step {
                    request: a,
                    item: i,
                    step: s,
                },
                StoredEntry::Step {
                    request: b,
                    item: j,
                    step: t,
                },
            ) if std::sync::Arc::ptr_eq(a, b) && (i, s) == (j, t) => true,
            _ => self.entry() == other.entry(),
        }
    }
}

/// One entry of an approver's list, pending or decided: the approval as of
/// its last change, with what the lists show of its request and item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalEntryRecord {
    pub access_request_id: String,
    pub requester: NamedRef,
    pub requested_for: NamedRef,
    pub request_type: AccessRequestType,
    #[serde(with = "crate::time::rfc3339")]
    pub request_created: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<ClientMetadata>,
    /// The requested item with its steps up to and including this approval,
    /// which is the last of them.
    pub item: RequestedItemRecord,
}

impl ApprovalEntryRecord {
    /// The entry of step `step` of item `item` of `request`.
    pub fn of(request: &AccessRequestRecord, item: usize, step: usize) -> Self {
        let source = &request.items[item];
        // Field by field: cloning the whole item would copy the steps,
        // phases and plan that the entry leaves out.
        let item = RequestedItemRecord {
            account_activity_item_id: source.account_activity_item_id.clone(),
            item_type: source.item_type,
            item_id: source.item_id.clone(),
            name: source.name.clone(),
            description: source.description.clone(),
            comment: source.comment.clone(),
            client_metadata: source.client_metadata.clone(),
            start_date: source.start_date,
            remove_date: source.remove_date,
            approvals: source.approvals[..=step].to_vec(),
            upcoming: Vec::new(),
            state: None,
            phases: None,
        };
        Self {
            access_request_id: request.id.clone(),
            requester: request.requester.clone(),
            requested_for: request.requested_for.clone(),
            request_type: request.request_type,
            request_created: request.created,
            client_metadata: request.client_metadata.clone(),
            item,
        }
    }

    /// The approval the entry shows (`None` only for a corrupt entry).
    pub fn approval(&self) -> Option<&ApprovalRecord> {
        self.item.approvals.last()
    }

    /// The steps of the item decided before this one.
    pub fn previous(&self) -> &[ApprovalRecord] {
        let n = self.item.approvals.len();
        &self.item.approvals[..n.saturating_sub(1)]
    }
}
