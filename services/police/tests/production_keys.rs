//! The real `p06-police` process in production mode refuses to start with the key the manifests
//! used to ship (the RFC 8037 example, kid REPLACE-ME), naming the file and the kid — the agency
//! services start through the same key rules as the aggregator.

#[test]
fn production_refuses_the_published_rfc8037_key() {
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(
        &jwks,
        r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "REPLACE-ME",
                      "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_p06-police"))
        .env("P06_AUTH_MODE", "production")
        .env("P06_JWT_KEYS", &jwks)
        .env("P06_DATA_DIR", dir.path())
        .env("P06_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it started: {stderr}");
    assert!(stderr.contains(&jwks.display().to_string()), "{stderr}");
    assert!(
        stderr.contains("REPLACE-ME") && stderr.contains("RFC 8037"),
        "{stderr}"
    );
}
