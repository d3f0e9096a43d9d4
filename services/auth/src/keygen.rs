//! Production signing keys: what `p06 keys generate` writes.
//!
//! An Ed25519 key pair under a fresh kid: the private key (PKCS#8 PEM, for the identity provider
//! that signs tokens; never given to a P06 service), the public key (SPKI PEM) and a JWKS holding
//! the public key — what the services trust, mounted from the `p06-jwt-keys` secret. For a
//! rotation the new key is added to the JWKS in force ([`jwks_with`]); the old one is removed once
//! no token signed with it is still valid.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};

use crate::error::AuthError;
use crate::key_check::is_placeholder_kid;

/// Longest kid accepted.
pub const MAX_KID: usize = 64;

/// A new key pair and its JWK.
pub struct GeneratedKey {
    pub kid: String,
    /// PKCS#8 PEM of the private key.
    pub private_pem: String,
    /// SPKI PEM of the public key.
    pub public_pem: String,
    /// The public JWK: `kty` OKP, `crv` Ed25519, `alg` EdDSA, `use` sig, `kid`, `x`.
    pub jwk: serde_json::Value,
}

/// A kid for a key generated today: `p06-YYYYMMDD-` and 6 random hex digits.
pub fn default_kid() -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "p06-{}-{}",
        chrono::Utc::now().format("%Y%m%d"),
        &random[..6]
    )
}

/// Refuses a kid the services would refuse or that does not fit a file name: 1 to 64 ASCII
/// letters, digits, `.`, `_` or `-`, and no placeholder ([`is_placeholder_kid`]).
pub fn check_kid(kid: &str) -> Result<(), AuthError> {
    if kid.is_empty()
        || kid.len() > MAX_KID
        || !kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        || kid.starts_with('.')
    {
        return Err(AuthError::Config(format!(
            "kid {kid:?}: use 1 to {MAX_KID} ASCII letters, digits, '.', '_' or '-'"
        )));
    }
    if is_placeholder_kid(kid) {
        return Err(AuthError::Config(format!(
            "kid {kid:?} looks like a placeholder; production services refuse it"
        )));
    }
    Ok(())
}

/// Generates an Ed25519 key pair under `kid` (checked with [`check_kid`]).
pub fn generate_ed25519(kid: &str) -> Result<GeneratedKey, AuthError> {
    check_kid(kid)?;
    let encode = |e: &dyn std::fmt::Display| AuthError::Config(format!("encode key: {e}"));
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let private_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| encode(&e))?
        .to_string();
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| encode(&e))?;
    let jwk = serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
    });
    Ok(GeneratedKey {
        kid: kid.to_owned(),
        private_pem,
        public_pem,
        jwk,
    })
}

/// A JWKS with `jwk` added to the keys of `existing` (a JWKS file's content), for a rotation; a
/// kid already present is refused. Without `existing`, a JWKS of `jwk` alone.
pub fn jwks_with(existing: Option<&[u8]>, jwk: &serde_json::Value) -> Result<String, AuthError> {
    let mut keys: Vec<serde_json::Value> = match existing {
        Some(bytes) => {
            let jwks: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|e| AuthError::Config(format!("not a JWKS: {e}")))?;
            jwks["keys"]
                .as_array()
                .cloned()
                .ok_or_else(|| AuthError::Config("not a JWKS: no \"keys\" list".into()))?
        }
        None => Vec::new(),
    };
    if let Some(private) = keys.iter().find(|k| k.get("d").is_some()) {
        return Err(AuthError::Config(format!(
            "the JWKS holds a private key (kid {}): a JWKS given to the services must hold public keys only",
            private["kid"]
        )));
    }
    if keys.iter().any(|k| k["kid"] == jwk["kid"]) {
        return Err(AuthError::Config(format!(
            "kid {} is already in the JWKS",
            jwk["kid"]
        )));
    }
    keys.push(jwk.clone());
    let mut text = serde_json::to_string_pretty(&serde_json::json!({ "keys": keys }))
        .map_err(|e| AuthError::Config(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

/// Writes a private key readable by its owner only (mode 0600 on Unix), refusing to overwrite.
pub fn write_private_key(path: &Path, pem: &str) -> std::io::Result<()> {
    crate::dev::write_private(path, pem.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kids_are_checked() {
        check_kid(&default_kid()).unwrap();
        check_kid("sso-2026.a_1").unwrap();
        for bad in ["", "REPLACE-ME", "a/b", "..", "has space", &"k".repeat(65)] {
            assert!(check_kid(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_rotation_adds_the_new_key_and_refuses_a_duplicate_or_a_private_key() {
        let old = generate_ed25519("p06-old").unwrap();
        let new = generate_ed25519("p06-new").unwrap();
        let first = jwks_with(None, &old.jwk).unwrap();
        let both: serde_json::Value =
            serde_json::from_str(&jwks_with(Some(first.as_bytes()), &new.jwk).unwrap()).unwrap();
        assert_eq!(both["keys"].as_array().unwrap().len(), 2);
        assert!(jwks_with(Some(first.as_bytes()), &old.jwk).is_err());
        let mut private = old.jwk.clone();
        private["d"] = "secret".into();
        let leaked = serde_json::json!({ "keys": [private] }).to_string();
        assert!(jwks_with(Some(leaked.as_bytes()), &new.jwk).is_err());
    }
}
