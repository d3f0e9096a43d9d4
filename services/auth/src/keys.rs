//! Verification keys: PEM and JWKS files, selected by `kid`, reloadable without restart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::error::AuthError;

/// The kind of key an algorithm needs; a token's `alg` must match its key's family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Ec,
    Ed,
    Rsa,
    Hmac,
}

impl KeyFamily {
    pub fn of(alg: Algorithm) -> KeyFamily {
        match alg {
            Algorithm::ES256 | Algorithm::ES384 => KeyFamily::Ec,
            Algorithm::EdDSA => KeyFamily::Ed,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => KeyFamily::Hmac,
            _ => KeyFamily::Rsa,
        }
    }
}

#[derive(Clone)]
pub struct VerifyKey {
    pub key: DecodingKey,
    pub family: KeyFamily,
}

/// One generation of loaded keys, by kid.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, VerifyKey>,
}

impl KeySet {
    pub fn insert(&mut self, kid: impl Into<String>, key: VerifyKey) {
        self.keys.insert(kid.into(), key);
    }

    /// The key for a token's `kid`; a token without `kid` gets the only key, if there is one.
    pub fn select(&self, kid: Option<&str>) -> Option<&VerifyKey> {
        match kid {
            Some(kid) => self.keys.get(kid),
            None if self.keys.len() == 1 => self.keys.values().next(),
            None => None,
        }
    }

    pub fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        kids.sort();
        kids
    }

    /// Loads every file: `.json` files are JWKS (each key needs a `kid`), others PEM public keys
    /// whose kid is the file stem, or (development only) `.secret` files holding an HMAC secret.
    pub fn load(paths: &[PathBuf], allow_hmac: bool) -> Result<KeySet, AuthError> {
        let mut set = KeySet::default();
        for path in paths {
            let bytes = std::fs::read(path).map_err(|e| {
                AuthError::Config(format!("cannot read key file {}: {e}", path.display()))
            })?;
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default();
            match ext {
                "json" => load_jwks(&mut set, path, &bytes)?,
                "secret" if allow_hmac => set.insert(
                    stem(path),
                    VerifyKey {
                        key: DecodingKey::from_secret(bytes.trim_ascii()),
                        family: KeyFamily::Hmac,
                    },
                ),
                "secret" => {
                    return Err(AuthError::Config(format!(
                        "{}: HMAC secrets are refused in production",
                        path.display()
                    )));
                }
                _ => set.insert(stem(path), pem_key(path, &bytes)?),
            }
        }
        Ok(set)
    }
}

fn stem(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.split('.').next().unwrap_or(name).to_owned()
}

fn pem_key(path: &Path, pem: &[u8]) -> Result<VerifyKey, AuthError> {
    if let Ok(key) = DecodingKey::from_ed_pem(pem) {
        return Ok(VerifyKey {
            key,
            family: KeyFamily::Ed,
        });
    }
    if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        return Ok(VerifyKey {
            key,
            family: KeyFamily::Ec,
        });
    }
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok(VerifyKey {
            key,
            family: KeyFamily::Rsa,
        });
    }
    Err(AuthError::Config(format!(
        "{}: not an Ed25519, EC or RSA public key in PEM",
        path.display()
    )))
}

fn load_jwks(set: &mut KeySet, path: &Path, bytes: &[u8]) -> Result<(), AuthError> {
    let jwks: JwkSet = serde_json::from_slice(bytes)
        .map_err(|e| AuthError::Config(format!("{}: not a JWKS: {e}", path.display())))?;
    for jwk in &jwks.keys {
        let kid = jwk.common.key_id.clone().ok_or_else(|| {
            AuthError::Config(format!("{}: every JWKS key needs a kid", path.display()))
        })?;
        let family = match &jwk.algorithm {
            AlgorithmParameters::EllipticCurve(_) => KeyFamily::Ec,
            AlgorithmParameters::OctetKeyPair(_) => KeyFamily::Ed,
            AlgorithmParameters::RSA(_) => KeyFamily::Rsa,
            _ => {
                return Err(AuthError::Config(format!(
                    "{}: key {kid}: only EC, OKP (Ed25519) and RSA public keys belong in a JWKS",
                    path.display()
                )));
            }
        };
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| AuthError::Config(format!("{}: key {kid}: {e}", path.display())))?;
        set.insert(kid, VerifyKey { key, family });
    }
    Ok(())
}

/// The live key set, swapped atomically when the files change.
pub struct KeyStore {
    current: ArcSwap<KeySet>,
    paths: Vec<PathBuf>,
    allow_hmac: bool,
    stamps: std::sync::Mutex<Vec<Option<SystemTime>>>,
}

impl KeyStore {
    pub fn from_files(paths: Vec<PathBuf>, allow_hmac: bool) -> Result<Arc<Self>, AuthError> {
        let set = KeySet::load(&paths, allow_hmac)?;
        let stamps = std::sync::Mutex::new(mtimes(&paths));
        Ok(Arc::new(KeyStore {
            current: ArcSwap::from_pointee(set),
            paths,
            allow_hmac,
            stamps,
        }))
    }

    /// A fixed key set (tests, embedding).
    pub fn fixed(set: KeySet) -> Arc<Self> {
        Arc::new(KeyStore {
            current: ArcSwap::from_pointee(set),
            paths: Vec::new(),
            allow_hmac: true,
            stamps: std::sync::Mutex::new(Vec::new()),
        })
    }

    pub fn current(&self) -> arc_swap::Guard<Arc<KeySet>> {
        self.current.load()
    }

    /// Re-reads the key files. A failed reload keeps the previous keys.
    pub fn reload(&self) -> Result<(), AuthError> {
        let set = KeySet::load(&self.paths, self.allow_hmac)?;
        tracing::info!(kids = ?set.kids(), "JWT keys reloaded");
        self.current.store(Arc::new(set));
        Ok(())
    }

    /// Reloads when any key file's modification time changed since the last look.
    pub fn reload_if_changed(&self) {
        let now = mtimes(&self.paths);
        let mut seen = self.stamps.lock().expect("key stamp mutex poisoned");
        if *seen != now {
            match self.reload() {
                Ok(()) => *seen = now,
                Err(e) => {
                    tracing::warn!(error = %e, "JWT key reload failed; keeping the previous keys")
                }
            }
        }
    }

    /// Polls the key files every `every` in a background task (key rotation without restart).
    pub fn spawn_reloader(
        self: &Arc<Self>,
        every: std::time::Duration,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if self.paths.is_empty() {
            return None;
        }
        let store = Arc::clone(self);
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                store.reload_if_changed();
            }
        }))
    }
}

fn mtimes(paths: &[PathBuf]) -> Vec<Option<SystemTime>> {
    paths
        .iter()
        .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .collect()
}
