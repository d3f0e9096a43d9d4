//! Turning a bearer token into a [`Principal`].

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Validation, decode, decode_header};
use tonic::metadata::MetadataMap;

use crate::claims::{Claims, Principal};
use crate::config::AuthConfig;
use crate::error::AuthError;
use crate::keys::{KeyFamily, KeyStore};

/// Validates tokens against the configured algorithms, issuer, audience and keys.
pub struct Authenticator {
    config: AuthConfig,
    keys: Arc<KeyStore>,
}

impl Authenticator {
    pub fn new(config: AuthConfig, keys: Arc<KeyStore>) -> Result<Self, AuthError> {
        config.check()?;
        Ok(Self { config, keys })
    }

    pub fn keys(&self) -> &Arc<KeyStore> {
        &self.keys
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The principal of the request's `authorization: Bearer …` token.
    pub fn authenticate(&self, metadata: &MetadataMap) -> Result<Principal, AuthError> {
        let value = metadata.get("authorization").ok_or(AuthError::Missing)?;
        let value = value
            .to_str()
            .map_err(|_| AuthError::Malformed("non-ASCII header".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| AuthError::Malformed("expected the Bearer scheme".into()))?;
        self.validate(token.trim())
    }

    /// Validates one compact JWT.
    pub fn validate(&self, token: &str) -> Result<Principal, AuthError> {
        let result = self.validate_inner(token);
        if let Err(e) = &result {
            tracing::info!(reason = %e, token_id = token_id(token).as_deref().unwrap_or("-"), "token refused");
        }
        result
    }

    fn validate_inner(&self, token: &str) -> Result<Principal, AuthError> {
        // `alg: none` and unknown algorithms fail to parse here.
        let header = decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
        if header
            .typ
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("JWT"))
        {
            return Err(AuthError::Malformed("typ must be JWT".into()));
        }
        if !self.config.algorithms.contains(&header.alg) {
            return Err(AuthError::AlgorithmNotAllowed(format!("{:?}", header.alg)));
        }
        let keys = self.keys.current();
        let key = keys
            .select(header.kid.as_deref())
            .ok_or(AuthError::UnknownKey)?;
        if KeyFamily::of(header.alg) != key.family {
            return Err(AuthError::AlgorithmMismatch);
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.config.leeway_secs;
        let data = decode::<Claims>(token, &key.key, &validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
            ErrorKind::InvalidAudience => AuthError::WrongAudience,
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::MissingRequiredClaim(c) => AuthError::MissingClaim(c.clone()),
            _ => AuthError::Invalid(e.to_string()),
        })?;
        if data.claims.sub.trim().is_empty() {
            return Err(AuthError::MissingClaim("sub".into()));
        }
        Ok(data.claims.into())
    }
}

/// The `jti` of a token, read without validating it, for logging only.
fn token_id(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value
        .get("jti")?
        .as_str()
        .map(|s| s.chars().take(64).collect())
}
