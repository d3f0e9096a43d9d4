//! Token validation against real keys: every refusal asserts the exact error and gRPC code.

mod support;

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p06_auth::claims::Audience;
use p06_auth::keys::KeyStore;
use p06_auth::{Agency, AuthConfig, AuthError, Authenticator, DevKeys, Grant, Mode, Role};
use serde_json::json;
use support::*;
use tonic::Code;
use tonic::metadata::MetadataMap;

/// Authenticates `token` and returns the refusal, checking it maps to UNAUTHENTICATED.
fn refused(auth: &Authenticator, token: &str) -> AuthError {
    let err = auth.authenticate(&bearer(token)).unwrap_err();
    assert_eq!(
        tonic::Status::from(err.clone()).code(),
        Code::Unauthenticated,
        "{err}"
    );
    err
}

#[test]
fn a_valid_token_yields_its_principal() {
    let f = Fixture::new();
    for (key, kid) in [(&f.ed, "ed-1"), (&f.ec, "ec-1"), (f.rsa, "rsa-1")] {
        let principal = f
            .auth
            .authenticate(&bearer(&key.sign(Some(kid), &claims())))
            .unwrap();
        assert_eq!(principal.subject, "officer-17");
        assert_eq!(principal.agency, Agency::Police);
        assert_eq!(
            (principal.edition.as_str(), principal.province.as_str()),
            ("2024", "64")
        );
        assert_eq!(principal.roles, [Role::Reporter]);
        assert_eq!(principal.token_id.as_deref(), Some("jti-test-1"));
        assert!(principal.may_report_for(Agency::Police, "2024", "64"));
        assert!(!principal.may_report_for(Agency::Health, "2024", "64"));
        assert!(
            !principal.may_report_for(Agency::Police, "2025", "64"),
            "codes are per edition"
        );
        assert!(
            principal.may_read_province("2024", "64") && !principal.may_read_province("2024", "52")
        );
    }
}

#[test]
fn no_token_is_unauthenticated() {
    let f = Fixture::new();
    let err = f.auth.authenticate(&MetadataMap::new()).unwrap_err();
    assert_eq!(err, AuthError::Missing);
    assert_eq!(tonic::Status::from(err).code(), Code::Unauthenticated);
}

#[test]
fn malformed_tokens_are_unauthenticated() {
    let f = Fixture::new();
    for token in ["not-a-jwt", "a.b", "a.b.c", "...."] {
        assert!(
            matches!(refused(&f.auth, token), AuthError::Malformed(_)),
            "{token}"
        );
    }
    // Garbage payload and signature under a known key.
    let token = format!("{}.%%%.x", URL_SAFE(r#"{"alg":"ES256","kid":"ec-1"}"#));
    refused(&f.auth, &token);
    // Not the Bearer scheme.
    let mut basic = MetadataMap::new();
    basic.insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
    let err = f.auth.authenticate(&basic).unwrap_err();
    assert!(matches!(err, AuthError::Malformed(_)));
    assert_eq!(tonic::Status::from(err).code(), Code::Unauthenticated);
    // A payload that is not JSON, correctly signed.
    let header = URL_SAFE(r#"{"alg":"EdDSA","typ":"JWT","kid":"ed-1"}"#);
    let payload = URL_SAFE("not json");
    let input = format!("{header}.{payload}");
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &f.ed.encoding, Algorithm::EdDSA).unwrap();
    assert!(matches!(
        refused(&f.auth, &format!("{input}.{signature}")),
        AuthError::Malformed(_)
    ));
    // Far too long.
    let long = format!("{}.{}.x", "a".repeat(10_000), "b");
    assert_eq!(
        refused(&f.auth, &long),
        AuthError::Malformed("token too long".into())
    );
}

#[allow(non_snake_case)]
fn URL_SAFE(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[test]
fn alg_none_is_refused() {
    let f = Fixture::new();
    for header in [
        json!({"alg": "none", "typ": "JWT"}),
        json!({"alg": "none", "typ": "JWT", "kid": "ed-1"}),
        json!({"alg": "None", "kid": "ed-1"}),
    ] {
        for signature in ["", "AAAA"] {
            let token = handmade(header.clone(), &claims(), signature);
            assert!(
                matches!(refused(&f.auth, &token), AuthError::Malformed(_)),
                "{header}"
            );
        }
    }
}

#[test]
fn hs256_signed_with_a_public_key_is_refused_key_confusion() {
    // Even with HS256 allowed (development), an HMAC token never meets an asymmetric key.
    let f = Fixture::with(
        Mode::Development,
        &[
            Algorithm::HS256,
            Algorithm::EdDSA,
            Algorithm::ES256,
            Algorithm::RS256,
        ],
    );
    for (key, kid) in [(&f.ec, "ec-1"), (f.rsa, "rsa-1"), (&f.ed, "ed-1")] {
        let forger = EncodingKey::from_secret(key.public_pem.as_bytes());
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.into());
        let token = jsonwebtoken::encode(&header, &claims(), &forger).unwrap();
        assert_eq!(
            refused(&f.auth, &token),
            AuthError::AlgorithmMismatch,
            "{kid}"
        );
    }
    // And with the production configuration the algorithm is not even accepted.
    let f = Fixture::new();
    let forger = EncodingKey::from_secret(f.ec.public_pem.as_bytes());
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("ec-1".into());
    let token = jsonwebtoken::encode(&header, &claims(), &forger).unwrap();
    assert_eq!(
        refused(&f.auth, &token),
        AuthError::AlgorithmNotAllowed("HS256".into())
    );
}

#[test]
fn an_algorithm_of_another_family_than_the_key_is_refused() {
    let f = Fixture::new();
    // An ES256 token presented under the Ed25519 key's kid.
    let token = f.ec.sign(Some("ed-1"), &claims());
    assert_eq!(refused(&f.auth, &token), AuthError::AlgorithmMismatch);
    // An algorithm not configured.
    let f = Fixture::with(Mode::Production, &[Algorithm::EdDSA, Algorithm::ES256]);
    let token = f.rsa.sign(Some("rsa-1"), &claims());
    assert_eq!(
        refused(&f.auth, &token),
        AuthError::AlgorithmNotAllowed("RS256".into())
    );
}

#[test]
fn a_wrong_signature_is_refused() {
    let f = Fixture::new();
    let impostor = TestKey::ed25519();
    assert_eq!(
        refused(&f.auth, &impostor.sign(Some("ed-1"), &claims())),
        AuthError::BadSignature
    );
    let impostor = TestKey::p256();
    assert_eq!(
        refused(&f.auth, &impostor.sign(Some("ec-1"), &claims())),
        AuthError::BadSignature
    );
    // A valid token with its payload swapped for another one (privilege escalation attempt).
    let token = f.ed.sign(Some("ed-1"), &claims());
    let admin = handmade(
        json!({}),
        &claims_of(Agency::Taskforce, &[Role::TaskforceAdmin]),
        "",
    );
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        admin.split('.').nth(1).unwrap(),
        parts[2]
    );
    assert_eq!(refused(&f.auth, &forged), AuthError::BadSignature);
}

#[test]
fn expiry_is_required_and_checked_with_the_leeway() {
    let f = Fixture::new();
    let leeway = AuthConfig::development().leeway_secs as i64;
    assert_eq!(leeway, 30);
    let expired = p06_auth::Claims {
        exp: now() - leeway - 60,
        ..claims()
    };
    assert_eq!(
        refused(&f.auth, &f.ed.sign(Some("ed-1"), &expired)),
        AuthError::Expired
    );
    let within_leeway = p06_auth::Claims {
        exp: now() - 5,
        ..claims()
    };
    f.auth
        .authenticate(&bearer(&f.ed.sign(Some("ed-1"), &within_leeway)))
        .unwrap();
    let token = f.ed.sign(Some("ed-1"), &claims_without("exp"));
    assert_eq!(
        refused(&f.auth, &token),
        AuthError::MissingClaim("exp".into())
    );
}

#[test]
fn a_token_that_passed_is_refused_once_it_expires() {
    // Verified tokens are remembered (validate.rs): the memory must end at `exp` plus the leeway.
    let f = Fixture::new();
    let leeway = AuthConfig::development().leeway_secs as i64;
    let closing = p06_auth::Claims {
        exp: now() - leeway + 2,
        ..claims()
    };
    let token = f.ed.sign(Some("ed-1"), &closing);
    f.auth.authenticate(&bearer(&token)).unwrap();
    f.auth.authenticate(&bearer(&token)).unwrap();
    std::thread::sleep(Duration::from_millis(3_100));
    assert_eq!(refused(&f.auth, &token), AuthError::Expired);
}

#[test]
fn a_token_not_yet_valid_is_refused() {
    let f = Fixture::new();
    let early = p06_auth::Claims {
        nbf: Some(now() + 120),
        ..claims()
    };
    assert_eq!(
        refused(&f.auth, &f.ed.sign(Some("ed-1"), &early)),
        AuthError::NotYetValid
    );
    let skewed = p06_auth::Claims {
        nbf: Some(now() + 5),
        ..claims()
    };
    f.auth
        .authenticate(&bearer(&f.ed.sign(Some("ed-1"), &skewed)))
        .unwrap();
}

#[test]
fn issuer_and_audience_must_match() {
    let f = Fixture::new();
    let wrong_iss = p06_auth::Claims {
        iss: "p06-dev".into(),
        ..claims()
    };
    assert_eq!(
        refused(&f.auth, &f.ed.sign(Some("ed-1"), &wrong_iss)),
        AuthError::WrongIssuer
    );
    let wrong_aud = p06_auth::Claims {
        aud: Audience::One("another-system".into()),
        ..claims()
    };
    assert_eq!(
        refused(&f.auth, &f.ed.sign(Some("ed-1"), &wrong_aud)),
        AuthError::WrongAudience
    );
    let many = p06_auth::Claims {
        aud: Audience::Many(vec!["other".into(), AUDIENCE.into()]),
        ..claims()
    };
    f.auth
        .authenticate(&bearer(&f.ed.sign(Some("ed-1"), &many)))
        .unwrap();
}

#[test]
fn aud_iss_and_sub_are_required() {
    let f = Fixture::new();
    for claim in ["aud", "iss", "sub"] {
        let token = f.ed.sign(Some("ed-1"), &claims_without(claim));
        assert_eq!(
            refused(&f.auth, &token),
            AuthError::MissingClaim(claim.into()),
            "{claim}"
        );
    }
    let blank = p06_auth::Claims {
        sub: " ".into(),
        ..claims()
    };
    assert_eq!(
        refused(&f.auth, &f.ed.sign(Some("ed-1"), &blank)),
        AuthError::MissingClaim("sub".into())
    );
}

#[test]
fn p06_claims_must_be_present_and_known() {
    let f = Fixture::new();
    for claim in ["agency", "province", "edition", "roles", "iat"] {
        let token = f.ed.sign(Some("ed-1"), &claims_without(claim));
        assert!(
            matches!(refused(&f.auth, &token), AuthError::Invalid(_)),
            "{claim}"
        );
    }
    let mut unknown = serde_json::to_value(claims()).unwrap();
    unknown["agency"] = json!("army");
    refused(&f.auth, &f.ed.sign(Some("ed-1"), &unknown));
    let mut unknown = serde_json::to_value(claims()).unwrap();
    unknown["roles"] = json!(["root"]);
    refused(&f.auth, &f.ed.sign(Some("ed-1"), &unknown));
    let no_roles = p06_auth::Claims {
        roles: vec![],
        ..claims()
    };
    assert_eq!(
        refused(&f.auth, &f.ed.sign(Some("ed-1"), &no_roles)),
        AuthError::MissingClaim("roles".into())
    );
}

#[test]
fn keys_are_selected_by_kid() {
    let f = Fixture::new();
    assert_eq!(
        refused(&f.auth, &f.ed.sign(Some("ed-9"), &claims())),
        AuthError::UnknownKey
    );
    // Without kid and several keys loaded: refused.
    assert_eq!(
        refused(&f.auth, &f.ed.sign(None, &claims())),
        AuthError::UnknownKey
    );
    // Without kid and exactly one key loaded: that key.
    let dir = tempfile::tempdir().unwrap();
    let only = write(dir.path(), "solo.pem", &f.ed.public_pem);
    let auth = authenticator(Mode::Production, &[Algorithm::EdDSA], vec![only]);
    auth.authenticate(&bearer(&f.ed.sign(None, &claims())))
        .unwrap();
    assert_eq!(
        refused(&auth, &TestKey::ed25519().sign(None, &claims())),
        AuthError::BadSignature
    );
}

#[test]
fn typ_must_be_jwt_when_present_and_crit_is_refused() {
    let f = Fixture::new();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("ed-1".into());
    header.typ = None;
    let untyped = jsonwebtoken::encode(&header, &claims(), &f.ed.encoding).unwrap();
    f.auth.authenticate(&bearer(&untyped)).unwrap();
    header.typ = Some("at+jwt".into());
    let typed = jsonwebtoken::encode(&header, &claims(), &f.ed.encoding).unwrap();
    assert_eq!(
        refused(&f.auth, &typed),
        AuthError::Malformed("typ must be JWT".into())
    );
    header.typ = Some("JWT".into());
    header.crit = Some(vec!["exp".into()]);
    let critical = jsonwebtoken::encode(&header, &claims(), &f.ed.encoding).unwrap();
    assert!(matches!(
        refused(&f.auth, &critical),
        AuthError::Malformed(_)
    ));
}

fn jwks(entries: &[(&TestKey, &str)]) -> String {
    let keys: Vec<_> = entries.iter().map(|(key, kid)| key.jwk(kid)).collect();
    json!({ "keys": keys }).to_string()
}

#[test]
fn jwks_files_and_pem_files_load_together_and_pin_algorithms() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (TestKey::p256(), TestKey::ed25519(), TestKey::ed25519());
    let files = vec![
        write(
            dir.path(),
            "keys.json",
            &jwks(&[(&a, "jw-ec"), (&b, "jw-ed")]),
        ),
        write(dir.path(), "standalone.pub.pem", &c.public_pem),
    ];
    let auth = authenticator(
        Mode::Production,
        &[Algorithm::EdDSA, Algorithm::ES256, Algorithm::ES384],
        files.clone(),
    );
    assert_eq!(
        auth.keys().current().kids(),
        ["jw-ec", "jw-ed", "standalone"]
    );
    for (key, kid) in [(&a, "jw-ec"), (&b, "jw-ed"), (&c, "standalone")] {
        auth.authenticate(&bearer(&key.sign(Some(kid), &claims())))
            .unwrap();
    }
    // The P-256 JWK is pinned to ES256: an ES384 header is refused before any crypto.
    let token = handmade(json!({"alg": "ES384", "kid": "jw-ec"}), &claims(), "AAAA");
    assert_eq!(refused(&auth, &token), AuthError::AlgorithmMismatch);

    // A kid defined twice is a configuration error.
    let twice = write(dir.path(), "jw-ed.pem", &c.public_pem);
    let err = KeyStore::from_files(vec![files[0].clone(), twice], Mode::Production)
        .err()
        .unwrap();
    assert!(
        matches!(&err, AuthError::Config(m) if m.contains("twice")),
        "{err}"
    );
    // A JWKS key without kid, an encryption key, an HMAC key in production: refused.
    let mut no_kid = a.jwk("x");
    no_kid.as_object_mut().unwrap().remove("kid");
    let mut enc = a.jwk("x");
    enc["use"] = json!("enc");
    let oct = json!({"kty": "oct", "k": "c2VjcmV0", "kid": "x"});
    for bad in [no_kid, enc, oct] {
        let path = write(
            dir.path(),
            "bad.json",
            &json!({ "keys": [bad] }).to_string(),
        );
        assert!(
            matches!(
                KeyStore::from_files(vec![path], Mode::Production),
                Err(AuthError::Config(_))
            ),
            "{bad}"
        );
    }
    let empty = write(dir.path(), "empty.json", r#"{"keys": []}"#);
    assert!(KeyStore::from_files(vec![empty], Mode::Production).is_err());
    let garbage = write(
        dir.path(),
        "garbage.pem",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    );
    assert!(KeyStore::from_files(vec![garbage], Mode::Production).is_err());
    assert!(KeyStore::from_files(vec![dir.path().join("missing.pem")], Mode::Production).is_err());
}

#[test]
fn a_rotated_key_is_accepted_after_reload_and_the_retired_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (TestKey::p256(), TestKey::p256());
    let path = write(dir.path(), "keys.json", &jwks(&[(&old, "2025-a")]));
    let auth = authenticator(Mode::Production, &[Algorithm::ES256], vec![path.clone()]);
    // One token, used before, during and after the rotation: having passed once (and being
    // remembered as verified) does not let it outlive its key.
    let old_token = old.sign(Some("2025-a"), &claims());
    auth.authenticate(&bearer(&old_token)).unwrap();
    auth.authenticate(&bearer(&old_token)).unwrap();
    assert_eq!(
        refused(&auth, &new.sign(Some("2025-b"), &claims())),
        AuthError::UnknownKey
    );

    // Overlap: both keys published.
    write(
        dir.path(),
        "keys.json",
        &jwks(&[(&old, "2025-a"), (&new, "2025-b")]),
    );
    auth.keys().reload().unwrap();
    auth.authenticate(&bearer(&old_token)).unwrap();
    auth.authenticate(&bearer(&new.sign(Some("2025-b"), &claims())))
        .unwrap();

    // Retirement.
    write(dir.path(), "keys.json", &jwks(&[(&new, "2025-b")]));
    auth.keys().reload().unwrap();
    auth.authenticate(&bearer(&new.sign(Some("2025-b"), &claims())))
        .unwrap();
    assert_eq!(refused(&auth, &old_token), AuthError::UnknownKey);
    assert_eq!(
        refused(&auth, &old.sign(Some("2025-a"), &claims())),
        AuthError::UnknownKey
    );
}

#[test]
fn a_failed_reload_keeps_the_previous_keys() {
    let dir = tempfile::tempdir().unwrap();
    let key = TestKey::ed25519();
    let path = write(dir.path(), "keys.json", &jwks(&[(&key, "k1")]));
    let auth = authenticator(Mode::Production, &[Algorithm::EdDSA], vec![path.clone()]);
    assert!(!auth.keys().reload_if_changed(), "nothing changed");
    write(dir.path(), "keys.json", r#"{"keys": [ {"kty": "#);
    assert!(auth.keys().reload().is_err());
    assert!(!auth.keys().reload_if_changed());
    auth.authenticate(&bearer(&key.sign(Some("k1"), &claims())))
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(!auth.keys().reload_if_changed());
    auth.authenticate(&bearer(&key.sign(Some("k1"), &claims())))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_reloader_picks_up_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (TestKey::ed25519(), TestKey::ed25519());
    let path = write(dir.path(), "current.pem", &old.public_pem);
    let auth = authenticator(Mode::Production, &[Algorithm::EdDSA], vec![path.clone()]);
    let task = auth
        .keys()
        .spawn_reloader(Duration::from_millis(20))
        .unwrap();
    write(dir.path(), "current.pem", &new.public_pem);
    let token = new.sign(Some("current"), &claims());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while auth.authenticate(&bearer(&token)).is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new key was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        refused(&auth, &old.sign(Some("current"), &claims())),
        AuthError::BadSignature
    );
    // The task ends with the store.
    drop(auth);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}

#[test]
fn hs256_is_refused_in_production_mode() {
    let env = |pairs: Vec<(&'static str, &'static str)>| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    for algorithms in ["HS256", "ES256,HS256", "HS512"] {
        let err = AuthConfig::from_lookup(env(vec![
            ("P06_AUTH_MODE", "production"),
            ("P06_JWT_ALGORITHMS", algorithms),
            ("P06_JWT_KEYS", "/etc/p06/keys.json"),
        ]))
        .unwrap_err();
        assert!(
            matches!(&err, AuthError::Config(m) if m.contains("refused in production")),
            "{err}"
        );
    }
    // Built by hand, the authenticator refuses it too.
    let dir = tempfile::tempdir().unwrap();
    let secret = write(
        dir.path(),
        "shared.secret",
        "0123456789abcdef0123456789abcdef",
    );
    let mut config = config(Mode::Production, &[Algorithm::HS256], vec![secret.clone()]);
    let store = KeyStore::from_files(vec![], Mode::Development).unwrap();
    assert!(matches!(
        Authenticator::new(config.clone(), store),
        Err(AuthError::Config(_))
    ));
    // An HMAC secret file is refused in production, admitted in development.
    assert!(matches!(
        KeyStore::from_files(vec![secret.clone()], Mode::Production),
        Err(AuthError::Config(_))
    ));
    config.mode = Mode::Development;
    let store = KeyStore::from_files(vec![secret], Mode::Development).unwrap();
    let auth = Authenticator::new(config, store).unwrap();
    let hs = EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
    let token = p06_auth::mint_with_key(&hs, Algorithm::HS256, Some("shared"), &claims()).unwrap();
    auth.authenticate(&bearer(&token)).unwrap();
    // Production also needs key files.
    let err = AuthConfig::from_lookup(env(vec![("P06_AUTH_MODE", "production")])).unwrap_err();
    assert!(matches!(err, AuthError::Config(_)));
}

#[test]
fn configuration_from_the_environment() {
    let defaults = AuthConfig::from_lookup(|_| None).unwrap();
    assert_eq!(defaults.mode, Mode::Development);
    assert_eq!(
        (defaults.issuer.as_str(), defaults.audience.as_str()),
        ("p06-dev", "p06")
    );
    assert_eq!(defaults.algorithms, [Algorithm::EdDSA, Algorithm::ES256]);
    assert_eq!(
        (defaults.leeway_secs, defaults.reload_every),
        (30, Duration::from_secs(30))
    );
    assert!(defaults.key_files.is_empty());

    let vars = [
        ("P06_AUTH_MODE", "production"),
        ("P06_JWT_ISSUER", "https://idp.example"),
        ("P06_JWT_AUDIENCE", "p06-prod"),
        ("P06_JWT_ALGORITHMS", " ES256 , EdDSA,RS256"),
        ("P06_JWT_KEYS", "/k/a.pem, /k/jwks.json"),
        ("P06_JWT_LEEWAY_SECS", "10"),
        ("P06_JWT_RELOAD_SECS", "5"),
        ("P06_UNRELATED", ""),
    ];
    let lookup = |name: &str| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    let c = AuthConfig::from_lookup(lookup).unwrap();
    assert_eq!(c.mode, Mode::Production);
    assert_eq!(
        (c.issuer.as_str(), c.audience.as_str()),
        ("https://idp.example", "p06-prod")
    );
    assert_eq!(
        c.algorithms,
        [Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256]
    );
    assert_eq!(
        c.key_files,
        [std::path::PathBuf::from("/k/a.pem"), "/k/jwks.json".into()]
    );
    assert_eq!(
        (c.leeway_secs, c.reload_every),
        (10, Duration::from_secs(5))
    );

    for (name, value) in [
        ("P06_AUTH_MODE", "prod"),
        ("P06_JWT_ALGORITHMS", "none"),
        ("P06_JWT_ALGORITHMS", "ES257"),
        ("P06_JWT_LEEWAY_SECS", "3600"),
        ("P06_JWT_RELOAD_SECS", "soon"),
    ] {
        let lookup = |n: &str| (n == name).then(|| value.to_string());
        assert!(
            matches!(AuthConfig::from_lookup(lookup), Err(AuthError::Config(_))),
            "{name}={value}"
        );
    }
}

#[test]
fn development_keys_are_created_once_and_mint_valid_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let keys = DevKeys::load_or_create(&data).unwrap();
    let again = DevKeys::load_or_create(&data).unwrap();
    assert_eq!(keys.fingerprint(), again.fingerprint(), "the key is kept");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join(p06_auth::dev::PRIVATE_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A deleted public half is re-derived from the private key, not regenerated.
    std::fs::remove_file(keys.public_key_file()).unwrap();
    assert_eq!(
        DevKeys::load_or_create(&data).unwrap().fingerprint(),
        keys.fingerprint()
    );

    let grant = Grant::new(Agency::Health, "2025", "52", Role::Reporter)
        .with_ttl(chrono::Duration::hours(8))
        .with_subject("nurse-1");
    let token = keys.mint(&grant).unwrap();
    let principal = again
        .authenticator()
        .unwrap()
        .authenticate(&bearer(&token))
        .unwrap();
    assert_eq!(principal.subject, "nurse-1");
    assert_eq!(principal.agency, Agency::Health);
    assert_eq!(
        (principal.edition.as_str(), principal.province.as_str()),
        ("2025", "52")
    );
    assert!(principal.token_id.is_some());
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(
        (header.alg, header.kid.as_deref()),
        (Algorithm::EdDSA, Some(keys.kid()))
    );

    // The services' own constructor, development mode without keys, trusts the same key.
    let auth = p06_auth::authenticator_for(AuthConfig::development(), &data).unwrap();
    auth.authenticate(&bearer(&token)).unwrap();

    assert!(
        keys.mint(&grant.clone().with_ttl(chrono::Duration::zero()))
            .is_err()
    );
    let expired = keys
        .mint(&grant.with_ttl(chrono::Duration::seconds(1)))
        .unwrap();
    let claims: serde_json::Value =
        jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(&expired)
            .unwrap()
            .claims;
    assert!(claims["exp"].as_i64().unwrap() <= now() + 1);
    // Another data directory's key is not trusted.
    let other = DevKeys::load_or_create(&dir.path().join("other")).unwrap();
    assert_eq!(
        refused(
            &auth,
            &other
                .mint(&Grant::new(Agency::Police, "2024", "64", Role::Reporter))
                .unwrap()
        ),
        AuthError::BadSignature
    );
}

#[test]
fn refusals_map_to_the_right_grpc_codes() {
    let unauthenticated = [
        AuthError::Missing,
        AuthError::Malformed("x".into()),
        AuthError::AlgorithmNotAllowed("HS256".into()),
        AuthError::AlgorithmMismatch,
        AuthError::UnknownKey,
        AuthError::BadSignature,
        AuthError::Expired,
        AuthError::NotYetValid,
        AuthError::WrongIssuer,
        AuthError::WrongAudience,
        AuthError::MissingClaim("aud".into()),
        AuthError::Invalid("x".into()),
    ];
    for e in unauthenticated {
        assert_eq!(e.code(), Code::Unauthenticated);
        assert_eq!(tonic::Status::from(e).code(), Code::Unauthenticated);
    }
    assert_eq!(
        tonic::Status::from(AuthError::forbidden()).code(),
        Code::PermissionDenied
    );
    let internal = tonic::Status::from(AuthError::Config("/secret/path.pem: bad".into()));
    assert_eq!(internal.code(), Code::Internal);
    assert!(
        !internal.message().contains("/secret"),
        "configuration details stay in the logs"
    );
}
