//! Verification keys: PEM and JWKS files, selected by `kid`, reloadable without restart.
//!
//! Files (`P06_JWT_KEYS`, several at once):
//! - `*.json`: a JWKS (RFC 7517). Every key needs a `kid`; EC (P-256/P-384), OKP (Ed25519) and RSA
//!   public keys only; a key with `"use": "enc"` is refused; a key's `alg`, when given, pins it to
//!   that one algorithm (an EC key is also pinned by its curve).
//! - `*.secret` (development only): an HMAC secret; its kid is the file name up to the first dot.
//! - anything else: one PEM public key (Ed25519, EC or RSA, SPKI `BEGIN PUBLIC KEY`, or RSA PKCS#1);
//!   its kid is the file name up to the first dot (`2025-a.pub.pem` → `2025-a`).
//!
//! A kid defined twice across the files is a configuration error, and so is a set of files that
//! yields no key at all: both are refused at startup, and on reload they keep the previous keys.
//!
//! Rotation: [`KeyStore::spawn_reloader`] polls the files' modification times and sizes and reloads
//! on change; [`KeyStore::reload`] does it on demand. The new set replaces the old one atomically
//! (`ArcSwap`), so a request validates against one consistent generation of keys. A failed reload
//! (unreadable file, half-written JWKS) logs a warning, keeps the old keys and is retried at the
//! next poll.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

use crate::error::AuthError;

/// One verification key.
#[derive(Clone)]
pub struct VerifyKey {
    pub key: DecodingKey,
    /// When set, the only algorithm this key verifies (from a JWK's `alg` or an EC curve).
    pub alg: Option<Algorithm>,
}

impl VerifyKey {
    pub fn new(key: DecodingKey) -> Self {
        VerifyKey { key, alg: None }
    }

    pub fn family(&self) -> AlgorithmFamily {
        self.key.family()
    }

    /// Whether a token with header `alg` may be checked with this key: same family (an HS256
    /// token never meets an EC/Ed/RSA public key) and, if the key is pinned, that very algorithm.
    pub fn accepts(&self, alg: Algorithm) -> bool {
        alg.family() == self.family() && self.alg.is_none_or(|pinned| pinned == alg)
    }
}

/// One generation of loaded keys, by kid.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, VerifyKey>,
}

impl KeySet {
    /// Adds a key; a kid already present is refused.
    pub fn insert(&mut self, kid: impl Into<String>, key: VerifyKey) -> Result<(), AuthError> {
        let kid = kid.into();
        if kid.is_empty() {
            return Err(AuthError::Config("empty kid".into()));
        }
        if self.keys.contains_key(&kid) {
            return Err(AuthError::Config(format!("kid {kid:?} is defined twice")));
        }
        self.keys.insert(kid, key);
        Ok(())
    }

    /// The key for a token's `kid`. A token without `kid` gets the only key when exactly one is
    /// loaded, and nothing otherwise.
    pub fn select(&self, kid: Option<&str>) -> Option<&VerifyKey> {
        match kid {
            Some(kid) => self.keys.get(kid),
            None if self.keys.len() == 1 => self.keys.values().next(),
            None => None,
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The loaded kids, sorted (for logs).
    pub fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        kids
    }

    /// Loads every file (see the module docs). `allow_hmac` admits `.secret` files and `oct`
    /// JWKS keys; production passes `false`.
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
            let in_file = |e: AuthError| match e {
                AuthError::Config(m) => AuthError::Config(format!("{}: {m}", path.display())),
                other => other,
            };
            match ext {
                "json" => load_jwks(&mut set, &bytes, allow_hmac).map_err(in_file)?,
                "secret" if allow_hmac => set
                    .insert(
                        stem(path),
                        VerifyKey::new(DecodingKey::from_secret(bytes.trim_ascii())),
                    )
                    .map_err(in_file)?,
                "secret" => {
                    return Err(in_file(AuthError::Config(
                        "HMAC secrets are refused in production".into(),
                    )));
                }
                _ => set
                    .insert(stem(path), pem_key(&bytes).map_err(in_file)?)
                    .map_err(in_file)?,
            }
        }
        if set.is_empty() && !paths.is_empty() {
            return Err(AuthError::Config("the key files hold no key".into()));
        }
        Ok(set)
    }
}

/// The kid of a single-key file: its name up to the first dot.
fn stem(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.split('.').next().unwrap_or(name).to_owned()
}

fn pem_key(pem: &[u8]) -> Result<VerifyKey, AuthError> {
    // Each constructor checks the PEM's key type, so at most one of them succeeds.
    DecodingKey::from_ed_pem(pem)
        .or_else(|_| DecodingKey::from_ec_pem(pem))
        .or_else(|_| DecodingKey::from_rsa_pem(pem))
        .map(VerifyKey::new)
        .map_err(|_| AuthError::Config("not an Ed25519, EC or RSA public key in PEM".into()))
}

fn load_jwks(set: &mut KeySet, bytes: &[u8], allow_hmac: bool) -> Result<(), AuthError> {
    let jwks: JwkSet =
        serde_json::from_slice(bytes).map_err(|e| AuthError::Config(format!("not a JWKS: {e}")))?;
    for jwk in &jwks.keys {
        let kid = jwk
            .common
            .key_id
            .clone()
            .ok_or_else(|| AuthError::Config("every JWKS key needs a kid".into()))?;
        let key =
            jwk_key(jwk, allow_hmac).map_err(|e| AuthError::Config(format!("key {kid:?}: {e}")))?;
        set.insert(kid, key)?;
    }
    Ok(())
}

fn jwk_key(jwk: &Jwk, allow_hmac: bool) -> Result<VerifyKey, String> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return Err("an encryption key (use=enc) cannot verify signatures".into());
    }
    let curve_alg = match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => return Err("EC keys must be on P-256 or P-384".into()),
        },
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => None,
        AlgorithmParameters::OctetKeyPair(_) => return Err("OKP keys must be Ed25519".into()),
        AlgorithmParameters::RSA(_) => None,
        AlgorithmParameters::OctetKey(_) if allow_hmac => None,
        AlgorithmParameters::OctetKey(_) => {
            return Err("HMAC secrets are refused in production".into());
        }
        _ => return Err("unsupported key type".into()),
    };
    let declared = jwk
        .common
        .key_algorithm
        .map(|a| Algorithm::try_from(a).map_err(|_| format!("{a} is not a signature algorithm")))
        .transpose()?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let alg = match (declared, curve_alg) {
        (Some(a), Some(c)) if a != c => return Err(format!("alg {a:?} does not fit the curve")),
        (Some(a), _) if a.family() != key.family() => {
            return Err(format!("alg {a:?} does not fit the key type"));
        }
        (a, c) => a.or(c),
    };
    Ok(VerifyKey { key, alg })
}

/// What is watched of each key file: modification time and size.
type Stamp = Option<(SystemTime, u64)>;

fn stamps(paths: &[PathBuf]) -> Vec<Stamp> {
    paths
        .iter()
        .map(|p| {
            let meta = std::fs::metadata(p).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        })
        .collect()
}

/// The live key set, swapped atomically when the files change.
pub struct KeyStore {
    current: ArcSwap<KeySet>,
    paths: Vec<PathBuf>,
    allow_hmac: bool,
    seen: Mutex<Vec<Stamp>>,
}

impl KeyStore {
    /// Loads `paths` (see the module docs); any problem is a startup error.
    pub fn from_files(paths: Vec<PathBuf>, allow_hmac: bool) -> Result<Arc<Self>, AuthError> {
        let seen = stamps(&paths);
        let set = KeySet::load(&paths, allow_hmac)?;
        tracing::info!(kids = ?set.kids(), "JWT keys loaded");
        Ok(Arc::new(KeyStore {
            current: ArcSwap::from_pointee(set),
            paths,
            allow_hmac,
            seen: Mutex::new(seen),
        }))
    }

    /// A fixed key set, never reloaded (tests, embedding).
    pub fn fixed(set: KeySet) -> Arc<Self> {
        Arc::new(KeyStore {
            current: ArcSwap::from_pointee(set),
            paths: Vec::new(),
            allow_hmac: true,
            seen: Mutex::new(Vec::new()),
        })
    }

    /// The keys in force now.
    pub fn current(&self) -> arc_swap::Guard<Arc<KeySet>> {
        self.current.load()
    }

    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Re-reads the key files now. On error the previous keys stay in force.
    pub fn reload(&self) -> Result<(), AuthError> {
        let now = stamps(&self.paths);
        let set = KeySet::load(&self.paths, self.allow_hmac)?;
        tracing::info!(kids = ?set.kids(), "JWT keys reloaded");
        self.current.store(Arc::new(set));
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = now;
        Ok(())
    }

    /// Reloads when a key file's modification time or size changed since the last successful
    /// load; a failure is logged and keeps the previous keys. Returns whether new keys are in force.
    pub fn reload_if_changed(&self) -> bool {
        let now = stamps(&self.paths);
        if *self.seen.lock().unwrap_or_else(|p| p.into_inner()) == now {
            return false;
        }
        match self.reload() {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "JWT key reload failed; keeping the previous keys");
                false
            }
        }
    }

    /// Polls the key files every `every` in a background tokio task and reloads on change (key
    /// rotation without restart). The task ends when the store is dropped. Returns `None` when
    /// there is nothing to watch or no tokio runtime is running.
    pub fn spawn_reloader(
        self: &Arc<Self>,
        every: Duration,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if self.paths.is_empty() || every.is_zero() {
            return None;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no tokio runtime: JWT keys will not be reloaded");
            return None;
        };
        let store: Weak<KeyStore> = Arc::downgrade(self);
        Some(runtime.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await; // the first tick is immediate; the keys were just loaded
            loop {
                tick.tick().await;
                let Some(store) = store.upgrade() else { return };
                // File reads are small; keep them off the async workers anyway.
                let _ = tokio::task::spawn_blocking(move || store.reload_if_changed()).await;
            }
        }))
    }
}
