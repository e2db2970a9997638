//! A tenant's history, made up: many decided access requests and
//! non-employee requests, each like one the API would have stored, for
//! the tests and benchmarks that show a list costs its page, not the
//! history of its partition. Test support only (`test-support`).

use chrono::{DateTime, Duration, FixedOffset, Utc};

use crate::models::{
    AccessRequestType, ApprovalScheme, ApprovalStatus, ItemType, OwnerType, PhaseResult,
    PhaseState, RequestState, WorkItemState,
};
use crate::records::{
    AccessRequestRecord, ApprovalRecord, Approver, NamedRef, NonEmployeeApprovalRecord,
    NonEmployeeRequestRecord, PhaseRecord, RequestedItemRecord, SourceRef, APPROVAL_PHASE,
    PROVISIONING_PHASE,
};

/// What the made-up requests are about.
#[derive(Debug, Clone)]
pub struct History {
    /// Who submits the requests, for themselves, in turn.
    pub users: Vec<NamedRef>,
    /// Who approved every request's one step (its role's owner).
    pub approver: NamedRef,
    /// The role every request asks for: `(id, name)`.
    pub role: (String, String),
    /// The first request's creation; each next one is a second later.
    pub start: DateTime<Utc>,
}

impl History {
    /// The `i`th access request: for (and by) a user, its one step
    /// (`ROLE_OWNER`) approved by the approver a minute after it was
    /// submitted, completed.
    pub fn access_request(&self, i: usize) -> AccessRequestRecord {
        let user = &self.users[i % self.users.len()];
        let created = self.start + Duration::seconds(i as i64);
        let decided = created + Duration::minutes(1);
        let phases = vec![
            PhaseRecord {
                name: APPROVAL_PHASE.into(),
                state: PhaseState::Completed,
                started: created,
                finished: Some(decided),
                result: Some(PhaseResult::Successful),
            },
            PhaseRecord {
                name: PROVISIONING_PHASE.into(),
                state: PhaseState::Completed,
                started: decided,
                finished: Some(decided),
                result: Some(PhaseResult::Successful),
            },
        ];
        AccessRequestRecord {
            id: format!("{:032x}", 0xa000_0000_0000_u64 + i as u64),
            requester: user.clone(),
            requested_for: user.clone(),
            request_type: AccessRequestType::GrantAccess,
            state: RequestState::RequestCompleted,
            created,
            modified: decided,
            client_metadata: None,
            items: vec![RequestedItemRecord {
                account_activity_item_id: format!("{:032x}", 0xb000_0000_0000_u64 + i as u64),
                item_type: ItemType::Role,
                item_id: self.role.0.clone(),
                name: self.role.1.clone(),
                description: Some("Made up for a history.".into()),
                comment: Some(format!("request {i} of a history")),
                client_metadata: None,
                start_date: None,
                remove_date: None,
                approvals: vec![ApprovalRecord {
                    approval_id: format!("{:032x}", 0xc000_0000_0000_u64 + i as u64),
                    scheme: ApprovalScheme::RoleOwner,
                    approver: Approver {
                        owner_type: OwnerType::Identity,
                        id: self.approver.id.clone(),
                        name: self.approver.name.clone(),
                        member_ids: Vec::new(),
                    },
                    current_owner: None,
                    status: WorkItemState::Approved,
                    comment: Some("approved".into()),
                    reviewed_by: Some(self.approver.clone()),
                    modified: Some(decided),
                    created: Some(created),
                    forward_history: Vec::new(),
                }],
                upcoming: Vec::new(),
                state: Some(RequestState::RequestCompleted),
                phases: Some(phases.clone()),
            }],
            phases,
            cancellation: None,
            warnings: Vec::new(),
            version: 2,
        }
    }

    /// The `i`th non-employee request: sponsored by a user on `source`
    /// (which lists it for its account managers too), its one item
    /// approved by the approver, approved.
    pub fn non_employee_request(&self, i: usize, source: &SourceRef) -> NonEmployeeRequestRecord {
        let user = &self.users[i % self.users.len()];
        let created = self.start + Duration::seconds(i as i64);
        let decided = created + Duration::minutes(1);
        let utc = FixedOffset::east_opt(0).expect("UTC is an offset");
        NonEmployeeRequestRecord {
            id: format!("{:032x}", 0xd000_0000_0000_u64 + i as u64),
            requester: user.clone(),
            source: source.clone(),
            account_name: format!("history.{i}"),
            first_name: "Hugo".into(),
            last_name: format!("History{i}"),
            email: format!("history.{i}@example.com"),
            phone: "5125550100".into(),
            manager: user.id.clone(),
            data: Default::default(),
            start_date: (created + Duration::days(7)).with_timezone(&utc),
            end_date: (created + Duration::days(180)).with_timezone(&utc),
            approval_status: ApprovalStatus::Approved,
            completion_date: Some(decided),
            created,
            modified: decided,
            approval_items: vec![NonEmployeeApprovalRecord {
                id: format!("{:032x}", 0xe000_0000_0000_u64 + i as u64),
                approver: Approver {
                    owner_type: OwnerType::Identity,
                    id: self.approver.id.clone(),
                    name: self.approver.name.clone(),
                    member_ids: Vec::new(),
                },
                approval_order: 1.0,
                approval_status: ApprovalStatus::Approved,
                comment: Some("approved".into()),
                reviewer_id: Some(self.approver.id.clone()),
                created,
                modified: decided,
            }],
            version: 2,
        }
    }
}
