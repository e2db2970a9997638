//! SDK errors as [`StoreError`]s: a failed condition is a `Conflict` the
//! domain resolves by re-reading, throttling beyond the SDK's retries is
//! `Throttled` (answered 429), anything else `Unavailable` (answered 500).

use std::fmt::Debug;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

use crate::store::StoreError;

pub(super) const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ProvisionedThroughputExceeded",
    "ThrottlingException",
    "ThrottlingError",
    "Throttling",
    "RequestLimitExceeded",
];
const CONFLICT_CODES: &[&str] = &[
    "ConditionalCheckFailedException",
    "ConditionalCheckFailed",
    "TransactionConflictException",
    "TransactionConflict",
];

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Maps a failed call to a [`StoreError`]; `reasons` are a cancelled
/// transaction's per-item reason codes, if known.
pub(super) fn classify<E, R>(operation: &str, err: &SdkError<E, R>, reasons: &[&str]) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("Unknown");
            let message = e.message().unwrap_or("");
            let text = truncate(format!("{operation}: {code}: {message}"), 300);
            if code == "TransactionCanceledException" {
                // The reasons say which item failed and why; without them
                // (some emulators) the message lists the codes.
                let any = |codes: &[&str]| {
                    if reasons.is_empty() {
                        codes.iter().any(|c| message.contains(c))
                    } else {
                        reasons.iter().any(|r| codes.contains(r))
                    }
                };
                if any(CONFLICT_CODES) {
                    StoreError::Conflict(text)
                } else if any(THROTTLING_CODES) {
                    StoreError::Throttled(text)
                } else {
                    StoreError::Unavailable(text)
                }
            } else if CONFLICT_CODES.contains(&code) {
                StoreError::Conflict(text)
            } else if THROTTLING_CODES.contains(&code) {
                StoreError::Throttled(text)
            } else {
                StoreError::Unavailable(text)
            }
        }
        SdkError::TimeoutError(_) if crate::deadline::throttled() => StoreError::Throttled(
            format!("{operation}: throttled until the request's budget ran out"),
        ),
        SdkError::TimeoutError(_) => StoreError::Unavailable(format!(
            "{operation}: no answer within the request's budget"
        )),
        other => {
            let cause = std::error::Error::source(other)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            StoreError::Unavailable(truncate(format!("{operation}: {other}{cause}"), 300))
        }
    }
}

/// `map_err` for one operation's errors.
pub(super) fn sdk_error<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: Debug,
{
    move |err| classify(operation, &err, &[])
}

/// A failed `TransactWriteItems`, classified by its cancellation reasons.
pub(super) fn transact_error<R: Debug>(err: SdkError<TransactWriteItemsError, R>) -> StoreError {
    let reasons: Vec<&str> = match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => e
            .cancellation_reasons()
            .iter()
            .filter_map(|r| r.code())
            .collect(),
        _ => Vec::new(),
    };
    classify("TransactWriteItems", &err, &reasons)
}

/// A request the SDK's builders refused.
pub(super) fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("cannot build request: {e}"))
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::error::{ErrorMetadata, SdkError};
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    use aws_sdk_dynamodb::types::error::TransactionCanceledException;
    use aws_sdk_dynamodb::types::CancellationReason;

    use super::{classify, transact_error};
    use crate::store::StoreError;

    fn put_error(code: &str) -> StoreError {
        let meta = ErrorMetadata::builder().code(code).message("m").build();
        classify(
            "PutItem",
            &SdkError::<_, ()>::service_error(PutItemError::generic(meta), ()),
            &[],
        )
    }

    fn cancelled(reasons: &[&str], message: &str) -> StoreError {
        let meta = ErrorMetadata::builder()
            .code("TransactionCanceledException")
            .message(message)
            .build();
        let mut e = TransactionCanceledException::builder()
            .message(message)
            .meta(meta);
        for r in reasons {
            e = e.cancellation_reasons(CancellationReason::builder().code(*r).build());
        }
        let err = TransactWriteItemsError::TransactionCanceledException(e.build());
        transact_error(SdkError::<_, ()>::service_error(err, ()))
    }

    #[test]
    fn codes_map_to_store_errors() {
        assert!(matches!(
            put_error("ConditionalCheckFailedException"),
            StoreError::Conflict(_)
        ));
        assert!(matches!(
            put_error("TransactionConflictException"),
            StoreError::Conflict(_)
        ));
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
        ] {
            assert!(
                matches!(put_error(code), StoreError::Throttled(_)),
                "{code}"
            );
        }
        for code in [
            "ResourceNotFoundException",
            "ValidationException",
            "InternalServerError",
        ] {
            assert!(
                matches!(put_error(code), StoreError::Unavailable(_)),
                "{code}"
            );
        }
        let e = put_error("ValidationException");
        assert_eq!(
            e,
            StoreError::Unavailable("PutItem: ValidationException: m".into())
        );
    }

    #[test]
    fn cancelled_transactions_map_by_reason() {
        let conflict = |e: &StoreError| matches!(e, StoreError::Conflict(_));
        assert!(conflict(&cancelled(
            &["None", "ConditionalCheckFailed"],
            "x"
        )));
        assert!(conflict(&cancelled(&["TransactionConflict", "None"], "x")));
        // A failed condition wins over throttling of another item.
        assert!(conflict(&cancelled(
            &["ThrottlingError", "ConditionalCheckFailed"],
            "x"
        )));
        assert!(matches!(
            cancelled(&["None", "ThrottlingError"], "x"),
            StoreError::Throttled(_)
        ));
        assert!(matches!(
            cancelled(&["ProvisionedThroughputExceeded"], "x"),
            StoreError::Throttled(_)
        ));
        assert!(matches!(
            cancelled(&["ValidationError"], "x"),
            StoreError::Unavailable(_)
        ));
        // Without reasons, the message tells.
        assert!(conflict(&cancelled(
            &[],
            "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
        )));
        assert!(matches!(
            cancelled(&[], "no reasons"),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn transport_failures_are_unavailable() {
        let err = SdkError::<PutItemError, ()>::timeout_error("took too long");
        let e = classify("PutItem", &err, &[]);
        assert!(
            matches!(e, StoreError::Unavailable(ref m) if m.starts_with("PutItem: ")),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn a_timeout_after_throttling_is_throttling() {
        let until = tokio::time::Instant::now() + std::time::Duration::from_secs(1);
        crate::deadline::scope(Some(until), async {
            let err = SdkError::<PutItemError, ()>::timeout_error("took too long");
            assert!(matches!(
                classify("PutItem", &err, &[]),
                StoreError::Unavailable(_)
            ));
            crate::deadline::note_throttled();
            assert!(matches!(
                classify("PutItem", &err, &[]),
                StoreError::Throttled(_)
            ));
        })
        .await;
    }

    #[test]
    fn long_messages_are_cut() {
        let e = put_error(&"X".repeat(1000));
        let StoreError::Unavailable(text) = e else {
            panic!()
        };
        assert!(text.len() < 320, "{}", text.len());
    }
}
