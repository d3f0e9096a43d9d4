//! Development keys and tokens: `p06 up` generates an Ed25519 key pair in its data directory on first
//! start (never committed), signs development tokens with it, and every service started in
//! development mode without configured keys trusts its public half.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sha2::{Digest, Sha256};

use crate::claims::{Agency, Audience, Claims, Role};
use crate::config::{AuthConfig, DEV_ISSUER, Mode};
use crate::error::AuthError;
use crate::keys::KeyStore;
use crate::validate::Authenticator;

const PRIVATE_FILE: &str = "dev-jwt-ed25519.key.pem";

/// The public key file; its stem is the kid of development tokens.
pub const PUBLIC_FILE: &str = "p06-dev.pem";
const DEV_KID: &str = "p06-dev";

/// The development signing key of a data directory.
pub struct DevKeys {
    encoding: EncodingKey,
    public_path: PathBuf,
}

impl DevKeys {
    /// Loads the key pair from `dir`, generating it on first use (private key mode 0600).
    pub fn load_or_create(dir: &Path) -> Result<Self, AuthError> {
        let private_path = dir.join(PRIVATE_FILE);
        let public_path = dir.join(PUBLIC_FILE);
        let io = |e: std::io::Error| {
            AuthError::Config(format!("development key in {}: {e}", dir.display()))
        };
        if !private_path.exists() || !public_path.exists() {
            std::fs::create_dir_all(dir).map_err(io)?;
            let key = SigningKey::generate(&mut rand_core::OsRng);
            let private_pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| AuthError::Config(format!("encode development key: {e}")))?;
            let public_pem = key
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| AuthError::Config(format!("encode development key: {e}")))?;
            write_private(&private_path, private_pem.as_bytes()).map_err(io)?;
            std::fs::write(&public_path, public_pem).map_err(io)?;
        }
        let private_pem = std::fs::read(&private_path).map_err(io)?;
        let encoding = EncodingKey::from_ed_pem(&private_pem)
            .map_err(|e| AuthError::Config(format!("{}: {e}", private_path.display())))?;
        Ok(Self {
            encoding,
            public_path,
        })
    }

    /// The public key file services verify development tokens with.
    pub fn public_key_file(&self) -> &Path {
        &self.public_path
    }

    /// Mints a development token.
    pub fn mint(&self, grant: &Grant) -> Result<String, AuthError> {
        mint_with_key(
            &self.encoding,
            Algorithm::EdDSA,
            Some(DEV_KID),
            &grant.claims(DEV_ISSUER),
        )
    }

    /// An authenticator in development mode trusting this key.
    pub fn authenticator(&self) -> Result<Arc<Authenticator>, AuthError> {
        let mut config = AuthConfig::development();
        config.key_files = vec![self.public_path.clone()];
        let keys = KeyStore::from_files(config.key_files.clone(), true)?;
        Ok(Arc::new(Authenticator::new(config, keys)?))
    }

    /// A fingerprint of the public key, for display.
    pub fn fingerprint(&self) -> String {
        let pem = std::fs::read(&self.public_path).unwrap_or_default();
        hex::encode(&Sha256::digest(&pem)[..8])
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// What a development token grants.
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

/// Signs `claims` with any key (tests, tools).
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
/// configured — the development key of `data_dir` (created if missing). Starts the key reloader.
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
    let keys = KeyStore::from_files(config.key_files.clone(), config.mode == Mode::Development)?;
    keys.spawn_reloader(config.reload_every);
    Ok(Arc::new(Authenticator::new(config, keys)?))
}
