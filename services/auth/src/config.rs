//! Authentication settings, from `P06_*` environment variables.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `P06_AUTH_MODE` | `development` | `production` refuses HS* algorithms and `.secret` keys, and needs `P06_JWT_KEYS` |
//! | `P06_JWT_ISSUER` | `p06-dev` | required `iss` |
//! | `P06_JWT_AUDIENCE` | `p06` | required `aud` (one of the token's audiences) |
//! | `P06_JWT_ALGORITHMS` | `EdDSA,ES256` | accepted `alg` values, e.g. `ES256,EdDSA,RS256` |
//! | `P06_JWT_KEYS` | — | comma list of PEM public keys and JWKS `.json` files ([`crate::keys`]); unset in development: the data directory's development key |
//! | `P06_JWT_LEEWAY_SECS` | `30` | clock skew allowed on `exp` and `nbf`, at most 300 |
//! | `P06_JWT_RELOAD_SECS` | `30` | how often key files are checked for changes; `0` disables reloading |
//!
//! An empty variable counts as unset.

use std::path::PathBuf;
use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::error::AuthError;

/// Development allows HS256 and the generated development key; production refuses both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Development,
    Production,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub mode: Mode,
    pub issuer: String,
    pub audience: String,
    /// Accepted `alg` values; anything else is refused before a key is looked at.
    pub algorithms: Vec<Algorithm>,
    /// PEM public keys (kid = file stem) and JWKS files (`.json`). Empty in development means the
    /// development key of the data directory.
    pub key_files: Vec<PathBuf>,
    pub leeway_secs: u64,
    /// How often key files are checked for changes.
    pub reload_every: Duration,
}

/// Issuer of development tokens.
pub const DEV_ISSUER: &str = "p06-dev";
/// Audience of every P06 service.
pub const DEFAULT_AUDIENCE: &str = "p06";

impl AuthConfig {
    /// Development defaults: EdDSA and ES256, issuer `p06-dev`, audience `p06`, 30 s leeway.
    pub fn development() -> Self {
        AuthConfig {
            mode: Mode::Development,
            issuer: DEV_ISSUER.into(),
            audience: DEFAULT_AUDIENCE.into(),
            algorithms: vec![Algorithm::EdDSA, Algorithm::ES256],
            key_files: Vec::new(),
            leeway_secs: 30,
            reload_every: Duration::from_secs(30),
        }
    }

    /// Reads `P06_AUTH_MODE` (development | production), `P06_JWT_ISSUER`, `P06_JWT_AUDIENCE`,
    /// `P06_JWT_ALGORITHMS` (comma list), `P06_JWT_KEYS` (comma list of files),
    /// `P06_JWT_LEEWAY_SECS`, `P06_JWT_RELOAD_SECS`; unset ones keep the development defaults.
    pub fn from_env() -> Result<Self, AuthError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Self::from_env`] with another source of variables (tests, config files).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, AuthError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let mut config = Self::development();
        if let Some(mode) = get("P06_AUTH_MODE") {
            config.mode = match mode.trim() {
                "development" => Mode::Development,
                "production" => Mode::Production,
                other => {
                    return Err(AuthError::Config(format!(
                        "P06_AUTH_MODE={other}: development or production"
                    )));
                }
            };
        }
        if let Some(v) = get("P06_JWT_ISSUER") {
            config.issuer = v.trim().to_owned();
        }
        if let Some(v) = get("P06_JWT_AUDIENCE") {
            config.audience = v.trim().to_owned();
        }
        if let Some(v) = get("P06_JWT_ALGORITHMS") {
            config.algorithms = v
                .split(',')
                .filter(|a| !a.trim().is_empty())
                .map(|a| {
                    a.trim()
                        .parse::<Algorithm>()
                        .map_err(|_| AuthError::Config(format!("unknown algorithm {a:?}")))
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = get("P06_JWT_KEYS") {
            config.key_files = v
                .split(',')
                .filter(|p| !p.trim().is_empty())
                .map(|p| PathBuf::from(p.trim()))
                .collect();
        }
        let number = |name: &str, default: u64| -> Result<u64, AuthError> {
            get(name).map_or(Ok(default), |v| {
                v.trim()
                    .parse()
                    .map_err(|_| AuthError::Config(format!("{name}={v} is not a number")))
            })
        };
        config.leeway_secs = number("P06_JWT_LEEWAY_SECS", config.leeway_secs)?;
        config.reload_every = Duration::from_secs(number(
            "P06_JWT_RELOAD_SECS",
            config.reload_every.as_secs(),
        )?);
        config.check()?;
        Ok(config)
    }

    /// Refuses configurations RFC 8725 warns against: no pinned algorithm, HS* in production,
    /// production without key files, no issuer or audience, a leeway above 5 minutes.
    pub fn check(&self) -> Result<(), AuthError> {
        if self.algorithms.is_empty() {
            return Err(AuthError::Config("no JWT algorithm configured".into()));
        }
        if self.issuer.is_empty() || self.audience.is_empty() {
            return Err(AuthError::Config(
                "the JWT issuer and audience must be set".into(),
            ));
        }
        if self.mode == Mode::Production {
            if let Some(hs) = self
                .algorithms
                .iter()
                .find(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
            {
                return Err(AuthError::Config(format!(
                    "{hs:?} (shared secret) is refused in production mode"
                )));
            }
            if self.key_files.is_empty() {
                return Err(AuthError::Config(
                    "production mode needs P06_JWT_KEYS".into(),
                ));
            }
        }
        if self.leeway_secs > 300 {
            return Err(AuthError::Config(
                "a leeway above 300 s is not accepted".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hs256_is_refused_in_production() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let err = AuthConfig::from_lookup(env(&[
            ("P06_AUTH_MODE", "production"),
            ("P06_JWT_ALGORITHMS", "HS256"),
            ("P06_JWT_KEYS", "/k.pem"),
        ]))
        .unwrap_err();
        assert!(matches!(err, AuthError::Config(m) if m.contains("refused in production")));
        let ok = AuthConfig::from_lookup(env(&[("P06_JWT_ALGORITHMS", "HS256, EdDSA")])).unwrap();
        assert_eq!(ok.algorithms, [Algorithm::HS256, Algorithm::EdDSA]);
    }
}
