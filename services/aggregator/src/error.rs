//! The aggregator's error type and its one mapping to gRPC statuses. Every status is bounded in
//! size (at most 100 field violations, short echoes, short messages: `p06_kit::status`).

use p06_domain::admin::Refusal;
use p06_domain::report::{FieldViolation, Rejection};
use p06_kit::status::bounded_message;
use sea_orm::{DbErr, RuntimeErr, SqlErr};
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    Invalid {
        message: String,
        violations: Vec<FieldViolation>,
    },
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{description}")]
    FailedPrecondition {
        kind: &'static str,
        subject: String,
        description: String,
    },
    /// The database cannot be reached; the caller may retry.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Two writers raced for the same key; the operation may be retried at once.
    #[error("write conflict: {0}")]
    Conflict(String),
    /// The revision an amendment was merged with is no longer the latest of its series; the
    /// amendment must be merged again.
    #[error("{0}")]
    Superseded(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(violations: Vec<FieldViolation>) -> Self {
        let message = match violations.as_slice() {
            [one] => format!("{}: {}", one.field, one.description),
            many => format!("{} problems in the request, see details", many.len()),
        };
        Error::Invalid {
            message,
            violations,
        }
    }

    pub fn invalid_field(field: &str, description: impl Into<String>) -> Self {
        Self::invalid(vec![FieldViolation::new(field, description)])
    }
}

impl From<Rejection> for Error {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::Invalid(violations) => Error::invalid(violations),
            Rejection::NotPermitted(message) => Error::PermissionDenied(message),
        }
    }
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(violation) => Error::invalid(vec![violation]),
            other => Error::PermissionDenied(other.to_string()),
        }
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(what)) = err.sql_err() {
            return Error::Conflict(what);
        }
        if is_unavailable(&err) {
            return Error::Unavailable(err.to_string());
        }
        Error::Internal(err.to_string())
    }
}

/// Whether a database error means "cannot reach the database" rather than a bad statement.
fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx_unavailable = |e: &Sqlx| {
        matches!(
            e,
            Sqlx::Io(_)
                | Sqlx::PoolTimedOut
                | Sqlx::PoolClosed
                | Sqlx::Tls(_)
                | Sqlx::WorkerCrashed
        ) || matches!(e, Sqlx::Database(db) if db.code().as_deref() == Some("57P01"))
    };
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            sqlx_unavailable(e)
        }
        _ => false,
    }
}

impl From<Error> for Status {
    fn from(err: Error) -> Self {
        match err {
            Error::Invalid {
                message,
                violations,
            } => p06_kit::status::invalid_argument(message, &violations),
            // Messages may quote the caller's input: bounded like every detail (see
            // `p06_kit::status`), so the trailer never outgrows the peer's header limit.
            Error::PermissionDenied(m) => Status::permission_denied(bounded_message(m)),
            Error::NotFound(m) => Status::not_found(bounded_message(m)),
            Error::AlreadyExists(m) => Status::already_exists(bounded_message(m)),
            Error::FailedPrecondition {
                kind,
                subject,
                description,
            } => p06_kit::status::failed_precondition(kind, &subject, description),
            Error::Unavailable(m) => {
                tracing::warn!(error = %m, "database unavailable");
                Status::unavailable("storage is unavailable; retry later")
            }
            Error::Conflict(m) => {
                tracing::warn!(error = %m, "write conflict persisted after retries");
                Status::aborted("concurrent write conflict; retry")
            }
            Error::Superseded(m) => Status::aborted(bounded_message(format!(
                "{m}; retry the amendment with the same request_id"
            ))),
            Error::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                Status::internal("internal error")
            }
        }
    }
}
