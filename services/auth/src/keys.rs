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
//! Every key is parsed as its verifier will parse it and checked against the keys whose private
//! halves are published and against placeholder kids ([`crate::key_check`]): in production a
//! refused key stops the start (or the reload), with its file and kid in the error; in
//! development a malformed or published key is skipped with a warning. No request ever meets a
//! key that could not be parsed.
//!
//! A kid defined twice across the files is a configuration error, and so is a set of files that
//! yields no key at all: both are refused at startup, and on reload they keep the previous keys.
//!
//! Rotation: [`KeyStore::spawn_reloader`] polls the files' modification times and sizes and reloads
//! on change; [`KeyStore::reload`] does it on demand. The new set replaces the old one atomically
//! (`ArcSwap`), so a request validates against one consistent generation of keys. A failed reload
//! (unreadable file, half-written JWKS, a refused key) logs a warning naming the file and kid,
//! keeps the old keys and is retried at the next poll.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

use crate::config::Mode;
use crate::error::AuthError;
use crate::key_check::{KeyMaterial, check_key, is_placeholder_kid, known_public_key};

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

    /// Loads every file (see the module docs), checking every key as [`crate::key_check`] says:
    /// in production any refused key fails the whole load, naming its file and kid; in
    /// development a malformed or published key is skipped with a warning.
    pub fn load(paths: &[PathBuf], mode: Mode) -> Result<KeySet, AuthError> {
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
            let entries = match ext {
                "json" => jwks_entries(&bytes, mode).map_err(in_file)?,
                "secret" => vec![(stem(path), secret_key(bytes.trim_ascii(), mode))],
                _ => vec![(stem(path), pem_key(&bytes))],
            };
            for (kid, key) in entries {
                if let Some(key) = admit(path, &kid, key, mode)? {
                    set.insert(kid, key).map_err(in_file)?;
                }
            }
        }
        if set.is_empty() && !paths.is_empty() {
            return Err(AuthError::Config("the key files hold no usable key".into()));
        }
        Ok(set)
    }
}

/// A parsed key and its canonical public material.
type Parsed = Result<(VerifyKey, KeyMaterial), String>;

/// Applies the rules of [`crate::key_check`] to one key of `path`: `Ok(None)` when it is skipped
/// (development), an error naming the file and kid when it is refused.
fn admit(path: &Path, kid: &str, key: Parsed, mode: Mode) -> Result<Option<VerifyKey>, AuthError> {
    let file = path.display().to_string();
    let refused = |reason: String| AuthError::Config(format!("{file}: key {kid:?}: {reason}"));
    let (key, material) = match key {
        Ok(parsed) => parsed,
        Err(reason) if mode == Mode::Production => return Err(refused(reason)),
        Err(reason) => {
            tracing::warn!(file, kid, reason, "JWT key skipped: not usable");
            return Ok(None);
        }
    };
    if let Some(source) = known_public_key(&material) {
        let reason = format!("this is the {source}: its private key is published");
        if mode == Mode::Production {
            return Err(refused(reason));
        }
        tracing::warn!(
            file,
            kid,
            reason,
            "JWT key skipped: anyone can sign with it"
        );
        return Ok(None);
    }
    if is_placeholder_kid(kid) {
        if mode == Mode::Production {
            return Err(refused(
                "a placeholder kid: generate a key with `p06 keys generate` and publish it under its own kid".into(),
            ));
        }
        tracing::warn!(
            file,
            kid,
            "JWT key with a placeholder kid (refused in production)"
        );
    }
    Ok(Some(key))
}

/// The kid of a single-key file: its name up to the first dot.
fn stem(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.split('.').next().unwrap_or(name).to_owned()
}

fn secret_key(secret: &[u8], mode: Mode) -> Parsed {
    if mode == Mode::Production {
        return Err("HMAC secrets are refused in production".into());
    }
    let key = DecodingKey::from_secret(secret);
    let checked = check_key(&key)?;
    Ok((VerifyKey::new(key), checked.material))
}

fn pem_key(pem: &[u8]) -> Parsed {
    // Each constructor checks the PEM's key type, so at most one of them succeeds.
    let key = DecodingKey::from_ed_pem(pem)
        .or_else(|_| DecodingKey::from_ec_pem(pem))
        .or_else(|_| DecodingKey::from_rsa_pem(pem))
        .map_err(|_| "not an Ed25519, EC or RSA public key in PEM".to_owned())?;
    let checked = check_key(&key)?;
    // An EC key verifies only the algorithm of its curve.
    let key = VerifyKey {
        key,
        alg: checked.curve_alg,
    };
    Ok((key, checked.material))
}

/// The keys of a JWKS file with their kids. A key without kid or a file that is not a JWKS fails
/// the file; a key that does not parse is returned as an error for [`admit`] to judge.
fn jwks_entries(bytes: &[u8], mode: Mode) -> Result<Vec<(String, Parsed)>, AuthError> {
    let jwks: JwkSet =
        serde_json::from_slice(bytes).map_err(|e| AuthError::Config(format!("not a JWKS: {e}")))?;
    jwks.keys
        .iter()
        .map(|jwk| {
            let kid = jwk
                .common
                .key_id
                .clone()
                .ok_or_else(|| AuthError::Config("every JWKS key needs a kid".into()))?;
            Ok((kid, jwk_key(jwk, mode)))
        })
        .collect()
}

fn jwk_key(jwk: &Jwk, mode: Mode) -> Parsed {
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
        AlgorithmParameters::OctetKey(_) if mode == Mode::Development => None,
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
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("not a valid key: {e}"))?;
    let checked = check_key(&key)?;
    if checked.curve_alg != curve_alg {
        return Err("the point is not on the curve the JWK names".into());
    }
    let alg = match (declared, curve_alg) {
        (Some(a), Some(c)) if a != c => return Err(format!("alg {a:?} does not fit the curve")),
        (Some(a), _) if a.family() != key.family() => {
            return Err(format!("alg {a:?} does not fit the key type"));
        }
        (a, c) => a.or(c),
    };
    Ok((VerifyKey { key, alg }, checked.material))
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
    mode: Mode,
    seen: Mutex<Vec<Stamp>>,
}

impl KeyStore {
    /// Loads `paths` (see the module docs); any problem is a startup error.
    pub fn from_files(paths: Vec<PathBuf>, mode: Mode) -> Result<Arc<Self>, AuthError> {
        let seen = stamps(&paths);
        let set = KeySet::load(&paths, mode)?;
        tracing::info!(kids = ?set.kids(), "JWT keys loaded");
        Ok(Arc::new(KeyStore {
            current: ArcSwap::from_pointee(set),
            paths,
            mode,
            seen: Mutex::new(seen),
        }))
    }

    /// A fixed key set, never reloaded (tests, embedding).
    pub fn fixed(set: KeySet) -> Arc<Self> {
        Arc::new(KeyStore {
            current: ArcSwap::from_pointee(set),
            paths: Vec::new(),
            mode: Mode::Development,
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
        let set = KeySet::load(&self.paths, self.mode)?;
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
