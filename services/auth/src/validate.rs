//! Turning a bearer token into a [`Principal`].
//!
//! The order of the checks, each refusal being `UNAUTHENTICATED`:
//! 1. `authorization: Bearer <jwt>` present (scheme case-insensitive), token at most 8 KiB;
//! 2. header: parses (`alg: none` and unknown algorithms do not), `typ` absent or `JWT`, no `crit`;
//! 3. `alg` is one of the configured algorithms;
//! 4. a key is selected by `kid` (without `kid`: only when exactly one key is loaded);
//! 5. `alg` fits that key (same family, and the key's pinned algorithm if any) — key confusion;
//! 6. signature, then `exp` (required), `nbf` (when present), `iss`, `aud`, `sub` (all required),
//!    with the configured leeway; then the P06 claims (`agency`, `province`, `edition`, `roles`):
//!    present, within their limits, free of control characters, and every role allowed for the
//!    agency ([`Claims::check`]).
//!
//! A token that passed is remembered (by its SHA-256) until it expires or the key set changes, so
//! the next calls with the same token skip steps 2–6 (`verified.rs`).

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Validation, decode, decode_header};
use tonic::metadata::MetadataMap;

use crate::claims::{Claims, Principal};
use crate::config::AuthConfig;
use crate::error::AuthError;
use crate::keys::{KeySet, KeyStore};
use crate::verified::{DEFAULT_CAPACITY, Verified};

/// Longest token looked at; anything longer is refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Validates tokens against the configured algorithms, issuer, audience and keys.
pub struct Authenticator {
    config: AuthConfig,
    keys: Arc<KeyStore>,
    /// Tokens that passed every check, until they expire or the keys change (`verified.rs`).
    verified: Verified,
}

impl Authenticator {
    /// Checks `config` ([`AuthConfig::check`]) and refuses HMAC keys in production.
    pub fn new(config: AuthConfig, keys: Arc<KeyStore>) -> Result<Self, AuthError> {
        config.check()?;
        Ok(Self {
            config,
            keys,
            verified: Verified::new(DEFAULT_CAPACITY),
        })
    }

    pub fn keys(&self) -> &Arc<KeyStore> {
        &self.keys
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The principal of the request's `authorization: Bearer …` metadata.
    pub fn authenticate(&self, metadata: &MetadataMap) -> Result<Principal, AuthError> {
        self.authenticate_headers(metadata.as_ref())
    }

    /// The same, on raw HTTP headers (used by the tower layer).
    pub fn authenticate_headers(&self, headers: &http::HeaderMap) -> Result<Principal, AuthError> {
        let token =
            bearer(headers).inspect_err(|e| tracing::info!(reason = %e, "request refused"))?;
        self.validate(token)
    }

    /// Validates one compact JWT. Refusals are logged with the token's `jti` (read without trusting
    /// it), never with the token.
    pub fn validate(&self, token: &str) -> Result<Principal, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            let e = AuthError::Malformed("token too long".into());
            tracing::info!(reason = %e, "token refused");
            return Err(e);
        }
        // One key set for the whole check, and for what is remembered of it.
        let keys = self.keys.current();
        let now = chrono::Utc::now().timestamp();
        let digest = Verified::digest(token);
        if let Some(principal) = self.verified.get(&digest, &keys, now) {
            return Ok(principal);
        }
        let result = self.validate_inner(token, &keys);
        match &result {
            Ok(principal) => self.verified.put(digest, &keys, principal, now),
            Err(e) => {
                tracing::info!(reason = %e, token_id = %token_id(token).as_deref().unwrap_or("-"), "token refused");
            }
        }
        result
    }

    fn validate_inner(&self, token: &str, keys: &KeySet) -> Result<Principal, AuthError> {
        // `alg: none` and unknown algorithms fail to parse here.
        let header = decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
        if header
            .typ
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("JWT"))
        {
            return Err(AuthError::Malformed("typ must be JWT".into()));
        }
        if header.crit.is_some() {
            // RFC 7515 §4.1.11: extensions we do not understand make the token invalid.
            return Err(AuthError::Malformed("unsupported critical header".into()));
        }
        if !self.config.algorithms.contains(&header.alg) {
            return Err(AuthError::AlgorithmNotAllowed(format!("{:?}", header.alg)));
        }
        let key = keys
            .select(header.kid.as_deref())
            .ok_or(AuthError::UnknownKey)?;
        if !key.accepts(header.alg) {
            return Err(AuthError::AlgorithmMismatch);
        }
        // Decoded as JSON first, so jsonwebtoken checks the registered claims (and reports a
        // missing one as such) before the P06 claims are read.
        let data = decode::<serde_json::Value>(token, &key.key, &self.validation(header.alg))
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                ErrorKind::InvalidAudience => AuthError::WrongAudience,
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::InvalidAlgorithm => AuthError::AlgorithmMismatch,
                ErrorKind::MissingRequiredClaim(c) => AuthError::MissingClaim(c.clone()),
                ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                    AuthError::Malformed(e.to_string())
                }
                _ => AuthError::Invalid(e.to_string()),
            })?;
        let claims: Claims = serde_json::from_value(data.claims)
            .map_err(|e| AuthError::Invalid(format!("claims: {e}")))?;
        claims.check()?;
        let leeway = i64::try_from(self.config.leeway_secs).unwrap_or(i64::MAX);
        let mut principal = Principal::from(claims);
        principal.valid_until = principal.valid_until.saturating_add(leeway);
        Ok(principal)
    }

    fn validation(&self, alg: jsonwebtoken::Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = self.config.leeway_secs;
        validation
    }
}

/// The token of an `authorization: Bearer <jwt>` header.
fn bearer(headers: &http::HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::Missing)?;
    if values.next().is_some() {
        return Err(AuthError::Malformed("several authorization headers".into()));
    }
    let value = value
        .to_str()
        .map_err(|_| AuthError::Malformed("non-ASCII authorization header".into()))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| AuthError::Malformed("expected the Bearer scheme".into()))?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(AuthError::Malformed("expected the Bearer scheme".into()));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token)
}

/// The `jti` of a token, read without validating it, for logging only: at most 64 visible ASCII
/// characters, so a forged token cannot inject into the logs.
pub(crate) fn token_id(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    if payload.len() > MAX_TOKEN_BYTES {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let jti: String = value
        .get("jti")?
        .as_str()?
        .chars()
        .filter(char::is_ascii_graphic)
        .take(64)
        .collect();
    (!jti.is_empty()).then_some(jti)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn the_bearer_scheme_is_required_and_case_insensitive() {
        assert_eq!(bearer(&http::HeaderMap::new()), Err(AuthError::Missing));
        assert_eq!(bearer(&headers("bearer a.b.c")), Ok("a.b.c"));
        assert_eq!(bearer(&headers("BEARER  a.b.c ")), Ok("a.b.c"));
        assert!(matches!(
            bearer(&headers("Basic dXNlcg==")),
            Err(AuthError::Malformed(_))
        ));
        assert!(matches!(
            bearer(&headers("a.b.c")),
            Err(AuthError::Malformed(_))
        ));
        assert_eq!(
            bearer(&headers("Bearer ")),
            Err(AuthError::Malformed("expected the Bearer scheme".into()))
        );
    }

    #[test]
    fn the_logged_token_id_is_sanitized() {
        use base64::Engine as _;
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!("{}.{}.sig", enc("{}"), enc(r#"{"jti":"abc\n\u001b[31mX"}"#));
        assert_eq!(token_id(&token).as_deref(), Some("abc[31mX"));
        assert_eq!(token_id("garbage"), None);
    }
}
