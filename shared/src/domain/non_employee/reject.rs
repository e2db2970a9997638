//! `POST /non-employee-approvals/{id}/reject` (SPEC §8): the item, its
//! non-employee request and the request's undecided items change together,
//! and the request's account name is free again.

use chrono::{DateTime, Utc};

use super::decision::{check_comment_length, decide, Verdict};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::models::{NonEmployeeApprovalItem, NonEmployeeRejectApprovalDecision};
use crate::plan::{Runner, Settled};

pub use super::decision::rejected;
pub use super::{approval_item, MAX_COMMENT_CHARS};

/// Rejects approval item `id` with the decision's comment.
pub async fn reject(
    runner: &Runner,
    principal: &Principal,
    id: &str,
    body: &NonEmployeeRejectApprovalDecision,
    now: DateTime<Utc>,
) -> Result<Settled<NonEmployeeApprovalItem>, ApiError> {
    if body.comment.trim().is_empty() {
        return Err(ApiError::bad_request(format!(
            "comment is required: give 1 to {MAX_COMMENT_CHARS} characters, not only blanks"
        )));
    }
    check_comment_length(&body.comment)?;
    decide(
        runner,
        principal,
        id,
        Verdict::Reject,
        Some(&body.comment),
        now,
    )
    .await
}
