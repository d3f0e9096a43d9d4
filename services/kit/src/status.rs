//! Building `tonic::Status` values with `google.rpc` error details.
//!
//! Services map their typed errors to statuses in one place each, using these helpers so every
//! service words its errors the same way: the caller's bad data → INVALID_ARGUMENT with a
//! `BadRequest` listing each field; a refused state change → FAILED_PRECONDITION with a
//! `PreconditionFailure`.
//!
//! Details travel in one HTTP/2 trailer (`grpc-status-details-bin`, base64) next to
//! `grpc-message`, and HTTP/2 peers refuse header blocks past 16 KiB by default: a status that
//! listed 50,000 violations, or echoed a 20 KB input, would reach the caller as RESOURCE_EXHAUSTED
//! or a broken stream instead of INVALID_ARGUMENT. So every status built here is bounded: at most
//! [`MAX_FIELD_VIOLATIONS`] violations within [`VIOLATIONS_BUDGET_BYTES`], then one `…` violation
//! counting the rest; each field name and description cut on a character boundary; the message
//! cut to [`MAX_MESSAGE_CHARS`]. The encoded details stay under [`MAX_DETAILS_BYTES`].

use p06_domain::report::FieldViolation;
use p06_domain::text::truncate;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// At most this many field violations are listed; the rest are counted in one more.
pub const MAX_FIELD_VIOLATIONS: usize = 100;
/// The listed violations' encoded size stays within this many bytes.
pub const VIOLATIONS_BUDGET_BYTES: usize = 4_500;
/// At most this many characters of a field name.
pub const MAX_FIELD_CHARS: usize = 120;
/// At most this many characters of a violation's description.
pub const MAX_DESCRIPTION_CHARS: usize = 300;
/// At most this many characters of a status message.
pub const MAX_MESSAGE_CHARS: usize = 300;
/// Bound of the encoded `google.rpc.Status` details (before base64, which adds a third).
pub const MAX_DETAILS_BYTES: usize = 6_000;
/// The field of the violation that counts the ones not listed.
pub const MORE_FIELD: &str = "…";

/// A status message cut to [`MAX_MESSAGE_CHARS`].
pub fn bounded_message(message: impl Into<String>) -> String {
    let message = message.into();
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        message
    } else {
        truncate(&message, MAX_MESSAGE_CHARS)
    }
}

/// The violations a status lists: each cut to size, at most [`MAX_FIELD_VIOLATIONS`] within
/// [`VIOLATIONS_BUDGET_BYTES`], then one `…` violation saying how many more there are.
pub fn bounded_violations(violations: &[FieldViolation]) -> Vec<FieldViolation> {
    let mut listed = Vec::with_capacity(violations.len().min(MAX_FIELD_VIOLATIONS + 1));
    let mut bytes = 0;
    for v in violations {
        let field = truncate(&v.field, MAX_FIELD_CHARS);
        let description = truncate(&v.description, MAX_DESCRIPTION_CHARS);
        // Tag and length prefixes of the field, the description and the violation itself.
        let size = field.len() + description.len() + 9;
        if listed.len() == MAX_FIELD_VIOLATIONS || bytes + size > VIOLATIONS_BUDGET_BYTES {
            break;
        }
        bytes += size;
        listed.push(FieldViolation { field, description });
    }
    let more = violations.len() - listed.len();
    if more > 0 {
        listed.push(FieldViolation::new(
            MORE_FIELD,
            format!("… and {more} more not listed (fix the ones above and resubmit)"),
        ));
    }
    listed
}

/// INVALID_ARGUMENT with a `google.rpc.BadRequest` naming the offending fields (bounded, see the
/// module docs).
pub fn invalid_argument(message: impl Into<String>, violations: &[FieldViolation]) -> Status {
    let mut details = ErrorDetails::new();
    for v in bounded_violations(violations) {
        details.add_bad_request_violation(v.field, v.description);
    }
    Status::with_error_details(Code::InvalidArgument, bounded_message(message), details)
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
    let description = bounded_message(description);
    let mut details = ErrorDetails::new();
    details.add_precondition_failure_violation(
        kind,
        truncate(subject, MAX_FIELD_CHARS),
        description.clone(),
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the `grpc-status-details-bin` trailer value (unpadded base64).
    fn trailer_bytes(status: &Status) -> usize {
        status.details().len().div_ceil(3) * 4
    }

    #[test]
    fn a_few_violations_pass_unchanged() {
        let violations = vec![
            FieldViolation::new("observations[0].value", "value -1 is negative"),
            FieldViolation::new("period.end", "ends before it starts"),
        ];
        let status = invalid_argument("2 problems", &violations);
        let listed = field_violations(&status);
        assert_eq!(listed.len(), 2);
        assert_eq!(
            listed[1],
            ("period.end".into(), "ends before it starts".into())
        );
    }

    #[test]
    fn many_violations_are_capped_with_a_count_of_the_rest() {
        let violations: Vec<_> = (0..50_000)
            .map(|i| {
                FieldViolation::new(
                    format!("observations[{i}].locality_code"),
                    "\"99999\" is not a locality of province 64 in edition 2024",
                )
            })
            .collect();
        let status = invalid_argument("50000 problems in the request, see details", &violations);
        let listed = field_violations(&status);
        assert!(listed.len() <= MAX_FIELD_VIOLATIONS + 1);
        let (field, last) = listed.last().unwrap();
        assert_eq!(field, MORE_FIELD);
        assert!(
            last.contains(&format!("and {} more", 50_000 - (listed.len() - 1))),
            "{last}"
        );
        assert!(status.details().len() <= MAX_DETAILS_BYTES);
        assert!(trailer_bytes(&status) < 8 * 1024);

        let short: Vec<_> = (0..150)
            .map(|i| FieldViolation::new(format!("f{i}"), "bad"))
            .collect();
        let listed = field_violations(&invalid_argument("m", &short));
        assert_eq!(listed.len(), MAX_FIELD_VIOLATIONS + 1);
        assert!(listed[100].1.contains("and 50 more"));
    }

    #[test]
    fn huge_fields_descriptions_and_messages_are_cut_on_character_boundaries() {
        let huge = "đ".repeat(20_000);
        let violations: Vec<_> = (0..200)
            .map(|_| FieldViolation::new(huge.clone(), huge.clone()))
            .collect();
        let status = invalid_argument(huge.clone(), &violations);
        assert!(status.message().chars().count() <= MAX_MESSAGE_CHARS + 1);
        assert!(status.message().ends_with('…'));
        let listed = field_violations(&status);
        assert!(listed.len() < 200);
        assert!(listed[0].0.chars().count() <= MAX_FIELD_CHARS + 1);
        assert!(listed[0].1.chars().count() <= MAX_DESCRIPTION_CHARS + 1);
        assert!(
            status.details().len() <= MAX_DETAILS_BYTES,
            "{}",
            status.details().len()
        );
        assert!(trailer_bytes(&status) < 8 * 1024);

        let status = failed_precondition("LOCKED", &huge, huge.clone());
        assert!(status.details().len() <= MAX_DETAILS_BYTES);
    }
}
