//! What every verification key must pass when it is loaded (at start-up and at each reload).
//!
//! jsonwebtoken accepts key material as bytes and only parses it when a token is checked: an
//! Ed25519 JWK whose `x` is shorter than 32 bytes makes its verifier slice out of bounds (a panic
//! in the request), an `x` that is not a curve point or an EC point off its curve fails every
//! token. So each key is parsed here the way the verifier will parse it — with the same
//! ed25519-dalek, p256, p384 and rsa types — and refused when that fails.
//!
//! | problem | production | development |
//! |---|---|---|
//! | malformed key (not a point, wrong length, weak Ed25519 key, RSA under 2048 bits, HMAC secret under 32 bytes) | refused: does not start / reload refused | skipped with a warning |
//! | a key whose private half is published ([`known_public_key`]) | refused | skipped with a warning |
//! | a placeholder kid ([`is_placeholder_kid`]) | refused | loaded with a warning |
//! | an HMAC secret (`.secret` file, `oct` JWK) | refused | loaded |
//!
//! Every refusal names the file and the kid.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::traits::PublicKeyParts as _;

/// Smallest RSA modulus accepted (RFC 7518 §3.3).
pub const MIN_RSA_BITS: usize = 2048;
/// Smallest HMAC secret accepted (RFC 7518 §3.2: at least the hash size of HS256).
pub const MIN_HMAC_BYTES: usize = 32;

/// The public part of a key in one canonical form, to compare keys however they were written
/// (JWK or PEM, compressed or uncompressed point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    Ed25519([u8; 32]),
    /// An uncompressed SEC1 point (`04 ‖ x ‖ y`) and its curve name (`P-256`, `P-384`, `P-521`).
    Ec {
        curve: &'static str,
        point: Vec<u8>,
    },
    /// The modulus, big-endian without leading zeros.
    Rsa {
        n: Vec<u8>,
    },
    Hmac(Vec<u8>),
}

/// A key that parsed: its canonical material and, for an EC key, the one algorithm its curve
/// allows.
#[derive(Debug)]
pub struct Checked {
    pub material: KeyMaterial,
    pub curve_alg: Option<Algorithm>,
}

/// Parses `key` as its verifier will, refusing what would fail or panic there. The message says
/// what is wrong (the caller adds the file and kid).
pub fn check_key(key: &DecodingKey) -> Result<Checked, String> {
    let raw = || match key.kind() {
        DecodingKeyKind::SecretOrDer(bytes) => Ok(bytes.as_slice()),
        DecodingKeyKind::RsaModulusExponent { .. } => Err("unexpected key form".to_owned()),
    };
    match key.family() {
        AlgorithmFamily::Ed => {
            let bytes: [u8; 32] = raw()?.try_into().map_err(|_| {
                format!(
                    "an Ed25519 public key is 32 bytes, this one is {}",
                    raw().map_or(0, <[u8]>::len)
                )
            })?;
            let point = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map_err(|_| "not a valid Ed25519 public key (not a curve point)".to_owned())?;
            if point.is_weak() {
                return Err("a weak Ed25519 key (a point of small order)".into());
            }
            Ok(Checked {
                material: KeyMaterial::Ed25519(bytes),
                curve_alg: None,
            })
        }
        AlgorithmFamily::Ec => {
            let bytes = raw()?;
            if let Ok(point) = p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes) {
                Ok(Checked {
                    material: KeyMaterial::Ec {
                        curve: "P-256",
                        point: point.to_encoded_point(false).as_bytes().to_vec(),
                    },
                    curve_alg: Some(Algorithm::ES256),
                })
            } else if let Ok(point) = p384::ecdsa::VerifyingKey::from_sec1_bytes(bytes) {
                Ok(Checked {
                    material: KeyMaterial::Ec {
                        curve: "P-384",
                        point: point.to_encoded_point(false).as_bytes().to_vec(),
                    },
                    curve_alg: Some(Algorithm::ES384),
                })
            } else {
                Err("not a valid P-256 or P-384 public key (not a point on the curve)".into())
            }
        }
        AlgorithmFamily::Rsa => {
            let public = match key.kind() {
                DecodingKeyKind::RsaModulusExponent { n, e } => rsa::RsaPublicKey::new(
                    rsa::BigUint::from_bytes_be(n),
                    rsa::BigUint::from_bytes_be(e),
                )
                .map_err(|e| e.to_string()),
                DecodingKeyKind::SecretOrDer(der) => {
                    rsa::RsaPublicKey::from_pkcs1_der(der).map_err(|e| e.to_string())
                }
            }
            .map_err(|e| format!("not a valid RSA public key: {e}"))?;
            let bits = public.n().bits();
            if bits < MIN_RSA_BITS {
                return Err(format!(
                    "an RSA key of {bits} bits; at least {MIN_RSA_BITS} are required"
                ));
            }
            Ok(Checked {
                material: KeyMaterial::Rsa {
                    n: public.n().to_bytes_be(),
                },
                curve_alg: None,
            })
        }
        AlgorithmFamily::Hmac => {
            let bytes = raw()?;
            if bytes.len() < MIN_HMAC_BYTES {
                return Err(format!(
                    "an HMAC secret of {} bytes; at least {MIN_HMAC_BYTES} are required",
                    bytes.len()
                ));
            }
            Ok(Checked {
                material: KeyMaterial::Hmac(bytes.to_vec()),
                curve_alg: None,
            })
        }
    }
}

/// A kid that marks a key nobody replaced: `REPLACE-ME`, `CHANGE-ME`, `placeholder`, `example`,
/// `dummy`, `TODO`, … (case and punctuation ignored).
pub fn is_placeholder_kid(kid: &str) -> bool {
    const INSIDE: &[&str] = &[
        "replaceme",
        "changeme",
        "placeholder",
        "example",
        "dummy",
        "fixme",
        "yourkey",
        "yourkid",
        "insertkey",
    ];
    const WORDS: &[&str] = &[
        "replace", "change", "todo", "tbd", "sample", "xxx", "xxxx", "test", "fake",
    ];
    let lower = kid.to_lowercase();
    let squashed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    INSIDE.iter().any(|p| squashed.contains(p))
        || lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| WORDS.contains(&word))
}

/// One entry of `known_public_keys.json`.
struct KnownKey {
    source: String,
    material: KeyMaterial,
}

/// The list of keys whose private halves are published, from `known_public_keys.json` (each
/// entry names its source; `deploy/validate.sh` reads the same file).
fn known_keys() -> &'static [KnownKey] {
    static KEYS: OnceLock<Vec<KnownKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let file: serde_json::Value = serde_json::from_str(include_str!("known_public_keys.json"))
            .expect("known_public_keys.json is valid JSON (a unit test holds it)");
        file["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| KnownKey {
                source: entry["source"].as_str().unwrap_or_default().to_owned(),
                material: known_material(entry)
                    .expect("every known_public_keys.json entry decodes (a unit test holds it)"),
            })
            .collect()
    })
}

fn known_material(entry: &serde_json::Value) -> Option<KeyMaterial> {
    let field = |name: &str| URL_SAFE_NO_PAD.decode(entry[name].as_str()?).ok();
    match entry["kty"].as_str()? {
        "OKP" => Some(KeyMaterial::Ed25519(field("x")?.try_into().ok()?)),
        "EC" => {
            let curve = match entry["crv"].as_str()? {
                "P-256" => "P-256",
                "P-384" => "P-384",
                "P-521" => "P-521",
                _ => return None,
            };
            let mut point = vec![0x04];
            point.extend(field("x")?);
            point.extend(field("y")?);
            Some(KeyMaterial::Ec { curve, point })
        }
        "RSA" => {
            let n = field("n")?;
            let start = n.iter().position(|b| *b != 0).unwrap_or(n.len());
            Some(KeyMaterial::Rsa {
                n: n[start..].to_vec(),
            })
        }
        "oct" => Some(KeyMaterial::Hmac(field("k")?)),
        _ => None,
    }
}

/// Where a key comes from when its private half is published (an RFC example), else `None`.
pub fn known_public_key(material: &KeyMaterial) -> Option<&'static str> {
    known_keys()
        .iter()
        .find(|k| &k.material == material)
        .map(|k| k.source.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::pkcs8::EncodePublicKey as _;
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;

    #[test]
    fn every_known_key_decodes_and_names_its_source() {
        assert_eq!(known_keys().len(), 8);
        for key in known_keys() {
            assert!(key.source.starts_with("RFC "), "{}", key.source);
        }
    }

    /// The published private halves give the listed public keys: the list is the RFCs' own keys.
    #[test]
    fn the_listed_keys_are_the_rfc_keys() {
        let d = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap();
        let ed = ed25519_dalek::SigningKey::from_bytes(&d.try_into().unwrap());
        assert!(
            known_public_key(&KeyMaterial::Ed25519(ed.verifying_key().to_bytes()))
                .unwrap()
                .contains("RFC 8037")
        );
        for (d, rfc) in [
            ("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI", "RFC 7515"),
            ("870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE", "RFC 7517"),
        ] {
            let secret = p256::SecretKey::from_slice(&URL_SAFE_NO_PAD.decode(d).unwrap()).unwrap();
            let point = p256::ecdsa::VerifyingKey::from(secret.public_key())
                .to_encoded_point(false)
                .as_bytes()
                .to_vec();
            let source = known_public_key(&KeyMaterial::Ec {
                curve: "P-256",
                point,
            })
            .unwrap();
            assert!(source.contains(rfc), "{source}");
        }
    }

    #[test]
    fn a_pem_and_a_jwk_of_the_same_key_compare_equal() {
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let from_jwk = check_key(&DecodingKey::from_ed_components(x).unwrap()).unwrap();
        let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(x).unwrap().try_into().unwrap();
        let pem = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .unwrap()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let from_pem = check_key(&DecodingKey::from_ed_pem(pem.as_bytes()).unwrap()).unwrap();
        assert_eq!(from_jwk.material, from_pem.material);
        assert!(known_public_key(&from_pem.material).is_some());
    }

    #[test]
    fn malformed_keys_are_refused_with_a_reason() {
        for (x, reason) in [
            ("AAAA", "32 bytes"),
            (&URL_SAFE_NO_PAD.encode([0u8; 40]), "32 bytes"),
            (&URL_SAFE_NO_PAD.encode([0u8; 32]), "weak"),
        ] {
            let err = check_key(&DecodingKey::from_ed_components(x).unwrap()).unwrap_err();
            assert!(err.contains(reason), "{x}: {err}");
        }
        let not_a_point = DecodingKey::from_ec_components(
            &URL_SAFE_NO_PAD.encode([1u8; 32]),
            &URL_SAFE_NO_PAD.encode([2u8; 32]),
        )
        .unwrap();
        assert!(check_key(&not_a_point).unwrap_err().contains("curve"));
        let short_rsa =
            DecodingKey::from_rsa_components(&URL_SAFE_NO_PAD.encode([0xC5u8; 128]), "AQAB")
                .unwrap();
        assert!(check_key(&short_rsa).unwrap_err().contains("1024 bits"));
        let zero_rsa = DecodingKey::from_rsa_components("AA", "AQAB").unwrap();
        assert!(check_key(&zero_rsa).is_err());
        assert!(
            check_key(&DecodingKey::from_secret(b"secret"))
                .unwrap_err()
                .contains("HMAC")
        );
    }

    #[test]
    fn placeholder_kids_are_recognised() {
        for kid in [
            "REPLACE-ME",
            "replace_me",
            "CHANGE-ME",
            "changeme",
            "placeholder",
            "example-key",
            "my-EXAMPLE",
            "TODO",
            "key-xxx",
            "test",
            "dummy1",
        ] {
            assert!(is_placeholder_kid(kid), "{kid}");
        }
        for kid in [
            "p06-2026-01",
            "2025-a",
            "sso-prod-3",
            "p06-dev",
            "contest-2025",
        ] {
            assert!(!is_placeholder_kid(kid), "{kid}");
        }
    }
}
