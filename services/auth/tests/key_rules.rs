//! What a service refuses to trust, at start-up and at each reload: published keys, placeholder
//! kids, HMAC, no key, malformed keys. Each case goes through `authenticator_for`, the function
//! every service's start-up calls, and checks the error names the file and the kid.

mod support;

use std::path::{Path, PathBuf};

use jsonwebtoken::Algorithm;
use p06_auth::{AuthConfig, AuthError, Mode, authenticator_for};
use serde_json::json;
use support::*;

fn production(files: Vec<PathBuf>) -> AuthConfig {
    config(
        Mode::Production,
        &[Algorithm::EdDSA, Algorithm::ES256],
        files,
    )
}

fn development(files: Vec<PathBuf>) -> AuthConfig {
    config(
        Mode::Development,
        &[Algorithm::EdDSA, Algorithm::ES256],
        files,
    )
}

/// The start-up error of a service configured with `config`.
fn refused_start(config: AuthConfig, data_dir: &Path) -> String {
    match authenticator_for(config, data_dir) {
        Err(AuthError::Config(message)) => message,
        Err(other) => panic!("not a configuration error: {other}"),
        Ok(_) => panic!("the service started"),
    }
}

fn jwks_file(dir: &Path, name: &str, keys: &[serde_json::Value]) -> PathBuf {
    write(dir, name, &json!({ "keys": keys }).to_string())
}

#[test]
fn the_rfc8037_key_of_the_old_manifest_is_refused_in_production_naming_file_and_kid() {
    let dir = tempfile::tempdir().unwrap();
    // What deploy/kubernetes/secrets.yaml used to ship.
    let shipped = jwks_file(
        dir.path(),
        "jwks.json",
        &[
            json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "REPLACE-ME",
                 "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
        ],
    );
    let message = refused_start(production(vec![shipped.clone()]), dir.path());
    assert!(
        message.contains(&shipped.display().to_string()),
        "{message}"
    );
    assert!(message.contains("\"REPLACE-ME\""), "{message}");
    assert!(message.contains("RFC 8037"), "{message}");

    // Under an innocent kid, and as a PEM file, it is refused all the same.
    let rfc = TestKey::rfc8037();
    let renamed = jwks_file(dir.path(), "renamed.json", &[rfc.jwk("sso-2026")]);
    let message = refused_start(production(vec![renamed]), dir.path());
    assert!(
        message.contains("\"sso-2026\"") && message.contains("RFC 8037"),
        "{message}"
    );
    let pem = write(dir.path(), "sso-pem.pub.pem", &rfc.public_pem);
    let message = refused_start(production(vec![pem.clone()]), dir.path());
    assert!(
        message.contains(&pem.display().to_string()) && message.contains("\"sso-pem\""),
        "{message}"
    );

    // The RFC 7515 and 7517 P-256 examples too.
    for (x, y) in [
        (
            "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        ),
        (
            "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
            "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
        ),
    ] {
        let file = jwks_file(
            dir.path(),
            "ec.json",
            &[json!({"kty": "EC", "crv": "P-256", "kid": "ec-2026", "x": x, "y": y})],
        );
        let message = refused_start(production(vec![file]), dir.path());
        assert!(
            message.contains("\"ec-2026\"") && message.contains("published"),
            "{message}"
        );
    }
}

#[test]
fn in_development_a_published_key_is_skipped_so_a_forged_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (rfc, own) = (TestKey::rfc8037(), TestKey::ed25519());
    let file = jwks_file(dir.path(), "jwks.json", &[rfc.jwk("rfc"), own.jwk("own")]);
    let auth = authenticator_for(development(vec![file]), dir.path()).unwrap();
    let forged = rfc.sign(Some("rfc"), &claims());
    assert_eq!(auth.validate(&forged).unwrap_err(), AuthError::UnknownKey);
    auth.validate(&own.sign(Some("own"), &claims())).unwrap();
}

#[test]
fn placeholder_kids_hmac_and_no_key_are_refused_in_production() {
    let dir = tempfile::tempdir().unwrap();
    let key = TestKey::ed25519();
    for kid in ["REPLACE-ME", "CHANGE-ME", "placeholder", "example-2026"] {
        let file = jwks_file(dir.path(), "jwks.json", &[key.jwk(kid)]);
        let message = refused_start(production(vec![file.clone()]), dir.path());
        assert!(
            message.contains(&file.display().to_string()) && message.contains(&format!("{kid:?}")),
            "{message}"
        );
        assert!(message.contains("placeholder"), "{message}");
        // Development loads it (with a warning): local set-ups keep working.
        authenticator_for(development(vec![file]), dir.path()).unwrap();
    }
    let hs = config(
        Mode::Production,
        &[Algorithm::HS256],
        vec![write(dir.path(), "k.pem", &key.public_pem)],
    );
    assert!(refused_start(hs, dir.path()).contains("HS256"));
    let secret = write(dir.path(), "shared.secret", &"s".repeat(40));
    let message = refused_start(production(vec![secret.clone()]), dir.path());
    assert!(
        message.contains(&secret.display().to_string()) && message.contains("HMAC"),
        "{message}"
    );
    let oct = jwks_file(
        dir.path(),
        "oct.json",
        &[json!({"kty": "oct", "kid": "hs-1", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"})],
    );
    let message = refused_start(production(vec![oct]), dir.path());
    assert!(
        message.contains("\"hs-1\"") && message.contains("HMAC"),
        "{message}"
    );
    assert!(refused_start(production(vec![]), dir.path()).contains("P06_JWT_KEYS"));
    let empty = jwks_file(dir.path(), "empty.json", &[]);
    assert!(refused_start(production(vec![empty]), dir.path()).contains("no usable key"));
}

/// Keys that parse as JSON but are no keys: refused at load, never met by a request.
fn malformed_keys() -> Vec<(&'static str, serde_json::Value)> {
    let b64 = |bytes: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    vec![
        (
            "ed-short",
            json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed-short", "x": "AAAA"}),
        ),
        (
            "ed-long",
            json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed-long", "x": b64(&[7; 40])}),
        ),
        (
            "ed-weak",
            json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed-weak", "x": b64(&[0; 32])}),
        ),
        (
            "ed-not-b64",
            json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed-not-b64", "x": "!!"}),
        ),
        (
            "ec-off-curve",
            json!({"kty": "EC", "crv": "P-256", "kid": "ec-off-curve", "x": b64(&[1; 32]), "y": b64(&[2; 32])}),
        ),
        (
            "ec-short",
            json!({"kty": "EC", "crv": "P-256", "kid": "ec-short", "x": "AAAA", "y": "AAAA"}),
        ),
        (
            "rsa-1024",
            json!({"kty": "RSA", "kid": "rsa-1024", "n": b64(&[0xC5; 128]), "e": "AQAB"}),
        ),
        (
            "rsa-zero",
            json!({"kty": "RSA", "kid": "rsa-zero", "n": "AA", "e": "AQAB"}),
        ),
    ]
}

#[test]
fn a_malformed_key_stops_a_production_start_naming_file_and_kid() {
    let dir = tempfile::tempdir().unwrap();
    let good = TestKey::ed25519();
    for (kid, bad) in malformed_keys() {
        let file = jwks_file(dir.path(), "jwks.json", &[good.jwk("good"), bad]);
        let message = refused_start(production(vec![file.clone()]), dir.path());
        assert!(
            message.contains(&file.display().to_string()) && message.contains(&format!("{kid:?}")),
            "{kid}: {message}"
        );
    }
    // A P-256 JWK carrying a P-384 point: not on the curve it names.
    let p384 = p256_of_p384();
    let file = jwks_file(dir.path(), "jwks.json", &[p384]);
    assert!(refused_start(production(vec![file]), dir.path()).contains("\"mixed\""));
    // A PEM that is no key.
    let garbage = write(
        dir.path(),
        "bad-pem.pem",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    );
    assert!(refused_start(production(vec![garbage]), dir.path()).contains("\"bad-pem\""));
}

/// A JWK that says P-256 but holds a valid P-384 point.
fn p256_of_p384() -> serde_json::Value {
    use base64::Engine as _;
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    let secret = p384::SecretKey::random(&mut rand_core::OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    json!({"kty": "EC", "crv": "P-256", "kid": "mixed", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())})
}

#[test]
fn in_development_a_malformed_key_is_skipped_and_a_token_naming_it_is_refused_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = TestKey::ed25519();
    let mut keys = vec![good.jwk("good")];
    keys.extend(malformed_keys().into_iter().map(|(_, k)| k));
    let file = jwks_file(dir.path(), "jwks.json", &keys);
    let auth = authenticator_for(development(vec![file]), dir.path()).unwrap();
    assert_eq!(auth.keys().current().kids(), ["good"]);
    for (kid, _) in malformed_keys() {
        // Signed by some Ed25519 key: before the load checks, "ed-short" panicked here.
        let token = good.sign(Some(kid), &claims());
        assert_eq!(
            auth.validate(&token).unwrap_err(),
            AuthError::UnknownKey,
            "{kid}"
        );
    }
    auth.validate(&good.sign(Some("good"), &claims())).unwrap();
}

#[test]
fn a_reload_applies_the_same_rules_and_keeps_the_previous_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (current, next) = (TestKey::ed25519(), TestKey::ed25519());
    let file = jwks_file(dir.path(), "jwks.json", &[current.jwk("2026-a")]);
    let auth = authenticator_for(production(vec![file.clone()]), dir.path()).unwrap();

    let (_, broken) = malformed_keys().remove(0);
    let refused_sets = [
        vec![current.jwk("2026-a"), next.jwk("2026-b"), broken],
        vec![current.jwk("2026-a"), TestKey::rfc8037().jwk("2026-c")],
        vec![current.jwk("2026-a"), next.jwk("REPLACE-ME")],
    ];
    for (set, kid) in refused_sets
        .into_iter()
        .zip(["ed-short", "2026-c", "REPLACE-ME"])
    {
        jwks_file(dir.path(), "jwks.json", &set);
        let AuthError::Config(message) = auth.keys().reload().unwrap_err() else {
            panic!("not a configuration error");
        };
        assert!(
            message.contains(&file.display().to_string()) && message.contains(&format!("{kid:?}")),
            "{message}"
        );
        assert_eq!(
            auth.keys().current().kids(),
            ["2026-a"],
            "the previous keys stay"
        );
        auth.validate(&current.sign(Some("2026-a"), &claims()))
            .unwrap();
        assert_eq!(
            auth.validate(&next.sign(Some(kid), &claims())).unwrap_err(),
            AuthError::UnknownKey
        );
    }
    // A clean rotation goes through.
    jwks_file(
        dir.path(),
        "jwks.json",
        &[current.jwk("2026-a"), next.jwk("2026-b")],
    );
    auth.keys().reload().unwrap();
    auth.validate(&next.sign(Some("2026-b"), &claims()))
        .unwrap();
}

#[test]
fn a_generated_key_loads_in_production_and_signs_valid_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let key = p06_auth::keygen::generate_ed25519("p06-20260101-abc123").unwrap();
    let file = write(
        dir.path(),
        "jwks.json",
        &p06_auth::keygen::jwks_with(None, &key.jwk).unwrap(),
    );
    let auth = authenticator_for(production(vec![file]), dir.path()).unwrap();
    let encoding = jsonwebtoken::EncodingKey::from_ed_pem(key.private_pem.as_bytes()).unwrap();
    let token =
        p06_auth::mint_with_key(&encoding, Algorithm::EdDSA, Some(&key.kid), &claims()).unwrap();
    auth.validate(&token).unwrap();
}
