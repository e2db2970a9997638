//! `POST /non-employee-approvals/{id}/approve` (SPEC §11): the item becomes
//! APPROVED, the next order's items PENDING, and after the last item the
//! request APPROVED with its completion date.

use chrono::{DateTime, Utc};

use super::decision::{check_comment_length, decide, Verdict};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::models::{NonEmployeeApprovalDecision, NonEmployeeApprovalItem};
use crate::plan::{Runner, Settled};

pub use super::decision::approved;

/// Approves approval item `id`, with the decision's optional comment.
pub async fn approve(
    runner: &Runner,
    principal: &Principal,
    id: &str,
    body: &NonEmployeeApprovalDecision,
    now: DateTime<Utc>,
) -> Result<Settled<NonEmployeeApprovalItem>, ApiError> {
    if let Some(comment) = &body.comment {
        check_comment_length(comment)?;
    }
    decide(
        runner,
        principal,
        id,
        Verdict::Approve,
        body.comment.as_deref(),
        now,
    )
    .await
}
