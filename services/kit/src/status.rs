//! Building `tonic::Status` values with `google.rpc` error details.
//!
//! Services map their typed errors to statuses in one place each, using these helpers so every
//! service words its errors the same way: the caller's bad data → INVALID_ARGUMENT with a
//! `BadRequest` listing each field; a refused state change → FAILED_PRECONDITION with a
//! `PreconditionFailure`.

use p06_domain::report::FieldViolation;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// INVALID_ARGUMENT with a `google.rpc.BadRequest` naming every offending field.
pub fn invalid_argument(message: impl Into<String>, violations: &[FieldViolation]) -> Status {
    let mut details = ErrorDetails::new();
    for v in violations {
        details.add_bad_request_violation(v.field.clone(), v.description.clone());
    }
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// INVALID_ARGUMENT for a single field.
pub fn invalid_field(field: &str, description: impl Into<String>) -> Status {
    let description = description.into();
    invalid_argument(
        format!("{field}: {description}"),
        &[FieldViolation::new(field, description)],
    )
}

/// FAILED_PRECONDITION with a `google.rpc.PreconditionFailure`.
pub fn failed_precondition(kind: &str, subject: &str, description: impl Into<String>) -> Status {
    let description = description.into();
    let mut details = ErrorDetails::new();
    details.add_precondition_failure_violation(kind, subject, description.clone());
    Status::with_error_details(Code::FailedPrecondition, description, details)
}

/// The field violations carried by a status, as `(field, description)` pairs (empty if none).
pub fn field_violations(status: &Status) -> Vec<(String, String)> {
    status
        .get_details_bad_request()
        .map(|br| {
            br.field_violations
                .into_iter()
                .map(|v| (v.field, v.description))
                .collect()
        })
        .unwrap_or_default()
}
