//! The real `p06-aggregator` process in production mode: it refuses to start with the key the
//! manifests used to ship (the RFC 8037 example, kid REPLACE-ME), naming the file and the kid, and
//! starts with a key of its own.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use p06_tests::db::TestDb;

fn aggregator(db: &TestDb, jwks: &std::path::Path, data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_p06-aggregator"));
    command
        .env("P06_AUTH_MODE", "production")
        .env("P06_JWT_ISSUER", "https://sso.example.gov.vn/p06")
        .env("P06_JWT_KEYS", jwks)
        .env("P06_DATABASE_URL", &db.url)
        .env("P06_DATA_DIR", data_dir)
        .env("P06_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn production_refuses_the_published_rfc8037_key_and_starts_with_a_generated_one() {
    let db = TestDb::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(
        &jwks,
        r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "REPLACE-ME",
                      "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
    )
    .unwrap();
    let out = aggregator(&db, &jwks, dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it started: {stderr}");
    assert!(stderr.contains(&jwks.display().to_string()), "{stderr}");
    assert!(
        stderr.contains("REPLACE-ME") && stderr.contains("RFC 8037"),
        "{stderr}"
    );

    // The same process with a key of its own serves.
    let key = p06_auth::keygen::generate_ed25519("p06-20260101-own001").unwrap();
    std::fs::write(&jwks, p06_auth::keygen::jwks_with(None, &key.jwk).unwrap()).unwrap();
    let mut child = aggregator(&db, &jwks, dir.path()).spawn().unwrap();
    // Logs go to stderr (stdout is for what a command prints).
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let log = std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("aggregator listening") {
                let _ = tx.send(());
            }
        }
        seen
    });
    let started = Instant::now();
    let listening = rx.recv_timeout(Duration::from_secs(120)).is_ok();
    let still_running = child.try_wait().unwrap().is_none();
    let elapsed = started.elapsed();
    child.kill().unwrap();
    child.wait().unwrap();
    let seen = log.join().unwrap();
    assert!(
        listening && still_running,
        "no 'aggregator listening' after {elapsed:?}: {seen}"
    );
}
