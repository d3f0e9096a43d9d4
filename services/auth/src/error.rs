//! Authentication and authorization failures, and their one mapping to gRPC statuses.
//!
//! | variant | gRPC code |
//! |---|---|
//! | every token problem (missing, malformed, algorithm, key, signature, time, iss, aud, claims, a claim over its limit, a role its agency may not hold) | `UNAUTHENTICATED` |
//! | [`AuthError::Forbidden`]: a valid token without the right to this call | `PERMISSION_DENIED` |
//! | [`AuthError::Config`]: the service itself is misconfigured | `INTERNAL` |
//!
//! Messages name the token problem only; they never depend on the request's data, so a refusal
//! does not tell whether a locality or report exists.

use tonic::Status;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The header's `alg` is not one of the configured algorithms.
    #[error("token algorithm {0} is not accepted")]
    AlgorithmNotAllowed(String),
    /// The header's `alg` does not fit the key its `kid` selects (key confusion).
    #[error("token algorithm does not match its key")]
    AlgorithmMismatch,
    /// No loaded key has the token's `kid` (or the token has none and several keys are loaded).
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
    /// A claim over its limit or malformed ([`crate::claims::limits`]).
    #[error("claim {claim}: {reason}")]
    BadClaim { claim: &'static str, reason: String },
    /// A role the token's agency may not hold ([`crate::Role::fits`]).
    #[error(
        "role {role} is not valid for agency {agency} (taskforce-viewer and taskforce-admin belong to agency taskforce; reporter and service to police, health or justice)"
    )]
    RoleNotForAgency {
        role: &'static str,
        agency: &'static str,
    },
    #[error("invalid token: {0}")]
    Invalid(String),
    /// Valid token, insufficient rights.
    #[error("{0}")]
    Forbidden(String),
    /// Startup or key-file problem; never caused by a caller.
    #[error("configuration: {0}")]
    Config(String),
}

impl AuthError {
    /// The message every authorization refusal carries.
    pub const FORBIDDEN: &'static str = "the token does not permit this call";

    pub fn forbidden() -> Self {
        AuthError::Forbidden(Self::FORBIDDEN.into())
    }

    /// The gRPC code this error maps to.
    pub fn code(&self) -> tonic::Code {
        match self {
            AuthError::Forbidden(_) => tonic::Code::PermissionDenied,
            AuthError::Config(_) => tonic::Code::Internal,
            _ => tonic::Code::Unauthenticated,
        }
    }
}

impl From<AuthError> for Status {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Forbidden(reason) => Status::permission_denied(reason),
            AuthError::Config(_) => Status::internal("authentication is misconfigured"),
            // The caller learns what is wrong with its token, nothing about keys or data.
            other => Status::unauthenticated(format!("invalid credentials: {other}")),
        }
    }
}
