//! Shared test material: real keys generated per run, claims, token builders.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p06_auth::claims::Audience;
use p06_auth::keys::KeyStore;
use p06_auth::{Agency, AuthConfig, Authenticator, Claims, Mode, Role};
use tonic::metadata::MetadataMap;

pub const ISSUER: &str = "https://idp.p06.example";
pub const AUDIENCE: &str = "p06";

/// A signing key with its public half in PEM.
pub struct TestKey {
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub public_pem: String,
    /// The public JWK parameters, for keys `Jwk::from_encoding_key` cannot derive (Ed25519).
    pub jwk: Option<serde_json::Value>,
}

impl TestKey {
    pub fn ed25519() -> Self {
        Self::ed25519_from(ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng))
    }

    /// The RFC 8037 Appendix A.1 example key, whose private half is published: what an attacker
    /// signs with when a deployment trusts its public half.
    pub fn rfc8037() -> Self {
        let d = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap();
        Self::ed25519_from(ed25519_dalek::SigningKey::from_bytes(
            &d.try_into().unwrap(),
        ))
    }

    fn ed25519_from(key: ed25519_dalek::SigningKey) -> Self {
        let private = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        TestKey {
            alg: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_pem(private.as_bytes()).unwrap(),
            public_pem: key
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
            jwk: Some(serde_json::json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
            })),
        }
    }

    pub fn p256() -> Self {
        let key = p256::SecretKey::random(&mut rand_core::OsRng);
        let private = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        TestKey {
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_pem(private.as_bytes()).unwrap(),
            public_pem: key.public_key().to_public_key_pem(LineEnding::LF).unwrap(),
            jwk: None,
        }
    }

    /// RSA generation is slow in debug builds: one key per test binary.
    pub fn rsa() -> &'static TestKey {
        static KEY: OnceLock<TestKey> = OnceLock::new();
        KEY.get_or_init(|| {
            let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
            let private = key.to_pkcs8_pem(LineEnding::LF).unwrap();
            TestKey {
                alg: Algorithm::RS256,
                encoding: EncodingKey::from_rsa_pem(private.as_bytes()).unwrap(),
                public_pem: rsa::RsaPublicKey::from(&key)
                    .to_public_key_pem(LineEnding::LF)
                    .unwrap(),
                jwk: None,
            }
        })
    }

    /// Signs any JSON-serializable payload with this key.
    pub fn sign(&self, kid: Option<&str>, payload: &impl serde::Serialize) -> String {
        let mut header = Header::new(self.alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, payload, &self.encoding).unwrap()
    }

    /// A JWKS entry for this key.
    pub fn jwk(&self, kid: &str) -> serde_json::Value {
        let mut jwk = match &self.jwk {
            Some(jwk) => jwk.clone(),
            None => serde_json::to_value(
                jsonwebtoken::jwk::Jwk::from_encoding_key(&self.encoding, self.alg).unwrap(),
            )
            .unwrap(),
        };
        jwk["kid"] = kid.into();
        jwk
    }
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid claims of a police reporter of province 64 (edition 2024).
pub fn claims() -> Claims {
    Claims {
        iss: ISSUER.into(),
        aud: Audience::One(AUDIENCE.into()),
        sub: "officer-17".into(),
        exp: now() + 600,
        iat: now(),
        nbf: None,
        jti: Some("jti-test-1".into()),
        agency: Agency::Police,
        province: "64".into(),
        edition: "2024".into(),
        roles: vec![Role::Reporter],
    }
}

pub fn claims_of(agency: Agency, roles: &[Role]) -> Claims {
    Claims {
        agency,
        roles: roles.to_vec(),
        ..claims()
    }
}

/// `claims()` as JSON with `field` removed.
pub fn claims_without(field: &str) -> serde_json::Value {
    let mut value = serde_json::to_value(claims()).unwrap();
    value.as_object_mut().unwrap().remove(field);
    value
}

/// A token from arbitrary JSON parts, with the given (possibly empty) signature.
pub fn handmade(
    header: serde_json::Value,
    payload: &impl serde::Serialize,
    signature: &str,
) -> String {
    format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(serde_json::to_string(payload).unwrap())
    )
}

/// Request metadata carrying `authorization: Bearer <token>`.
pub fn bearer(token: &str) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    metadata.insert("authorization", format!("Bearer {token}").parse().unwrap());
    metadata
}

/// Three keys on disk (`ed-1.pem`, `ec-1.pem`, `rsa-1.pem`) and a production authenticator
/// trusting them with EdDSA, ES256 and RS256.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub ed: TestKey,
    pub ec: TestKey,
    pub rsa: &'static TestKey,
    pub auth: Arc<Authenticator>,
}

impl Fixture {
    pub fn new() -> Self {
        Self::with(
            Mode::Production,
            &[Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256],
        )
    }

    pub fn with(mode: Mode, algorithms: &[Algorithm]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (ed, ec, rsa) = (TestKey::ed25519(), TestKey::p256(), TestKey::rsa());
        let files = vec![
            write(dir.path(), "ed-1.pem", &ed.public_pem),
            write(dir.path(), "ec-1.pem", &ec.public_pem),
            write(dir.path(), "rsa-1.pem", &rsa.public_pem),
        ];
        let auth = authenticator(mode, algorithms, files);
        Fixture {
            dir,
            ed,
            ec,
            rsa,
            auth,
        }
    }
}

pub fn config(mode: Mode, algorithms: &[Algorithm], files: Vec<PathBuf>) -> AuthConfig {
    AuthConfig {
        mode,
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        algorithms: algorithms.to_vec(),
        key_files: files,
        ..AuthConfig::development()
    }
}

pub fn authenticator(
    mode: Mode,
    algorithms: &[Algorithm],
    files: Vec<PathBuf>,
) -> Arc<Authenticator> {
    let config = config(mode, algorithms, files);
    let keys = KeyStore::from_files(config.key_files.clone(), mode).unwrap();
    Arc::new(Authenticator::new(config, keys).unwrap())
}

pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}
