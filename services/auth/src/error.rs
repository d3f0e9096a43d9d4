//! Authentication and authorization failures, and their one mapping to gRPC statuses.

use tonic::Status;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("token algorithm {0} is not accepted")]
    AlgorithmNotAllowed(String),
    #[error("token algorithm does not match its key")]
    AlgorithmMismatch,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("invalid signature")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("wrong issuer")]
    WrongIssuer,
    #[error("wrong audience")]
    WrongAudience,
    #[error("missing claim {0}")]
    MissingClaim(String),
    #[error("invalid token: {0}")]
    Invalid(String),
    /// Valid token, insufficient rights.
    #[error("{0}")]
    Forbidden(String),
    #[error("configuration: {0}")]
    Config(String),
}

impl From<AuthError> for Status {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Forbidden(reason) => Status::permission_denied(reason),
            AuthError::Config(_) => Status::internal("authentication is misconfigured"),
            // One message for every token problem: the caller learns nothing about keys or data.
            other => Status::unauthenticated(format!("invalid credentials: {other}")),
        }
    }
}
