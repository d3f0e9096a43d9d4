//! Development keys and tokens: `p06 up` generates an Ed25519 key pair in its data directory on first
//! start (never committed), signs development tokens with it, and every service started in
//! development mode without configured keys trusts its public half.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sha2::{Digest, Sha256};

use crate::claims::{Agency, Audience, Claims, Role};
use crate::config::{AuthConfig, DEV_ISSUER, Mode};
use crate::error::AuthError;
use crate::keys::KeyStore;
use crate::validate::Authenticator;

/// The private key file (PKCS#8 PEM, mode 0600) in the data directory.
pub const PRIVATE_FILE: &str = "dev-jwt-ed25519.key.pem";

/// The public key file (SPKI PEM); its stem is the kid of development tokens.
pub const PUBLIC_FILE: &str = "p06-dev.pem";

/// The kid of development tokens: fixed, so tokens survive restarts and every service started on
/// the same data directory selects the same key (a regenerated key then fails as a bad signature).
pub const DEV_KID: &str = "p06-dev";

/// The development signing key of a data directory.
pub struct DevKeys {
    encoding: EncodingKey,
    public_path: PathBuf,
    fingerprint: String,
}

impl DevKeys {
    /// Loads the Ed25519 key pair from `dir`, generating it on first use: the private key is
    /// created exclusively with mode 0600 (two processes starting at once end up with the same
    /// key), the public key is (re)derived from it whenever missing or different.
    pub fn load_or_create(dir: &Path) -> Result<Self, AuthError> {
        let private_path = dir.join(PRIVATE_FILE);
        let public_path = dir.join(PUBLIC_FILE);
        let io = |e: std::io::Error| {
            AuthError::Config(format!("development key in {}: {e}", dir.display()))
        };
        let encode_err = |e: &dyn std::fmt::Display| {
            AuthError::Config(format!("development key in {}: {e}", dir.display()))
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let private_pem = match std::fs::read_to_string(&private_path) {
            Ok(pem) => pem,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SigningKey::generate(&mut rand_core::OsRng);
                let pem = key
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|e| encode_err(&e))?;
                match write_private(&private_path, pem.as_bytes()) {
                    Ok(()) => {
                        tracing::info!(path = %private_path.display(), "development JWT key generated");
                        pem.to_string()
                    }
                    // Another process won the race: use its key.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        std::fs::read_to_string(&private_path).map_err(io)?
                    }
                    Err(e) => return Err(io(e)),
                }
            }
            Err(e) => return Err(io(e)),
        };
        warn_if_exposed(&private_path);
        let key = SigningKey::from_pkcs8_pem(&private_pem).map_err(|e| encode_err(&e))?;
        let public_pem = key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| encode_err(&e))?;
        if std::fs::read_to_string(&public_path).ok().as_deref() != Some(public_pem.as_str()) {
            // Write then rename, so a key reloader never reads half a file.
            let tmp = dir.join(format!(".{PUBLIC_FILE}.tmp"));
            std::fs::write(&tmp, &public_pem).map_err(io)?;
            std::fs::rename(&tmp, &public_path).map_err(io)?;
        }
        let encoding =
            EncodingKey::from_ed_pem(private_pem.as_bytes()).map_err(|e| encode_err(&e))?;
        let spki = key
            .verifying_key()
            .to_public_key_der()
            .map_err(|e| encode_err(&e))?;
        Ok(Self {
            encoding,
            public_path,
            fingerprint: hex::encode(&Sha256::digest(spki.as_bytes())[..8]),
        })
    }

    /// The kid development tokens carry.
    pub fn kid(&self) -> &'static str {
        DEV_KID
    }

    /// The public key file services verify development tokens with.
    pub fn public_key_file(&self) -> &Path {
        &self.public_path
    }

    /// Mints a development token (EdDSA, kid [`DEV_KID`], issuer `p06-dev`, audience `p06`,
    /// a fresh `jti`, lifetime `grant.ttl`). Claims the services would refuse ([`Claims::check`]:
    /// a role its agency may not hold, a claim over its limit) are refused here.
    pub fn mint(&self, grant: &Grant) -> Result<String, AuthError> {
        if grant.ttl <= chrono::Duration::zero() {
            return Err(AuthError::Config(
                "a token lifetime must be positive".into(),
            ));
        }
        // The services would refuse it: say why now instead of minting a useless token.
        let claims = grant.claims(DEV_ISSUER);
        claims.check()?;
        mint_with_key(&self.encoding, Algorithm::EdDSA, Some(DEV_KID), &claims)
    }

    /// An authenticator in development mode trusting this key.
    pub fn authenticator(&self) -> Result<Arc<Authenticator>, AuthError> {
        let mut config = AuthConfig::development();
        config.key_files = vec![self.public_path.clone()];
        let keys = KeyStore::from_files(config.key_files.clone(), Mode::Development)?;
        Ok(Arc::new(Authenticator::new(config, keys)?))
    }

    /// A fingerprint of the public key (first 8 bytes of the SHA-256 of its SPKI DER), for display.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// Logs a warning when the private key is readable by group or others.
fn warn_if_exposed(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "development JWT key is readable by others: chmod 600");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?
        .write_all(bytes)
}

/// What a development token grants (the parameters of `p06 token`).
#[derive(Debug, Clone)]
pub struct Grant {
    pub subject: String,
    pub agency: Agency,
    pub edition: String,
    pub province: String,
    pub roles: Vec<Role>,
    pub ttl: chrono::Duration,
}

impl Grant {
    /// One role, subject `<agency>-<role>`, 8 hours.
    pub fn new(agency: Agency, edition: &str, province: &str, role: Role) -> Self {
        Grant {
            subject: format!("{}-{}", agency.as_str(), role.as_str()),
            agency,
            edition: edition.into(),
            province: province.into(),
            roles: vec![role],
            ttl: chrono::Duration::hours(8),
        }
    }

    /// Lifetime of the token (default 8 h).
    pub fn with_ttl(mut self, ttl: chrono::Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Replaces the roles.
    pub fn with_roles(mut self, roles: impl IntoIterator<Item = Role>) -> Self {
        self.roles = roles.into_iter().collect();
        self
    }

    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }

    /// The claims of a token issued now by `issuer` for audience `p06`.
    pub fn claims(&self, issuer: &str) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iss: issuer.into(),
            aud: Audience::One(crate::config::DEFAULT_AUDIENCE.into()),
            sub: self.subject.clone(),
            exp: now + self.ttl.num_seconds(),
            iat: now,
            nbf: None,
            jti: Some(uuid::Uuid::new_v4().to_string()),
            agency: self.agency,
            province: self.province.clone(),
            edition: self.edition.clone(),
            roles: self.roles.clone(),
        }
    }
}

/// Signs `claims` with any key (tests, tools). The header carries `alg`, `typ: JWT` and `kid`.
pub fn mint_with_key(
    key: &EncodingKey,
    alg: Algorithm,
    kid: Option<&str>,
    claims: &Claims,
) -> Result<String, AuthError> {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key)
        .map_err(|e| AuthError::Config(format!("sign token: {e}")))
}

/// The authenticator a service runs with: the configured keys, or — in development mode with none
/// configured — the development key of `data_dir` (created if missing). Starts the key reloader
/// ([`KeyStore::spawn_reloader`], every `config.reload_every`) when called inside a tokio runtime.
pub fn authenticator_for(
    config: AuthConfig,
    data_dir: &Path,
) -> Result<Arc<Authenticator>, AuthError> {
    if config.key_files.is_empty() && config.mode == Mode::Development {
        let dev = DevKeys::load_or_create(data_dir)?;
        let mut config = config;
        config.key_files = vec![dev.public_key_file().to_path_buf()];
        return authenticator_for(config, data_dir);
    }
    config.check()?;
    let keys = KeyStore::from_files(config.key_files.clone(), config.mode)?;
    let every = config.reload_every;
    let authenticator = Arc::new(Authenticator::new(config, keys)?);
    authenticator.keys().spawn_reloader(every);
    Ok(authenticator)
}
