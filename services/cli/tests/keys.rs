//! `p06 keys generate` and `p06 token` as an operator runs them: the generated JWKS is what a
//! production service loads, the private key is the owner's only, and a token whose role does not
//! fit its agency is not minted.

use std::process::Command;

use p06_auth::keys::KeyStore;

fn p06(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_p06"))
        .args(args)
        .output()
        .expect("run p06")
}

#[test]
fn keys_generate_writes_a_key_pair_and_a_jwks_that_production_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("keys");
    let out = p06(&[
        "keys",
        "generate",
        "--out",
        out_dir.to_str().unwrap(),
        "--kid",
        "p06-2026-a",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let jwks = out_dir.join("jwks.json");
    assert!(
        stdout.contains(&format!(
            "kubectl create secret generic p06-jwt-keys --from-file=jwks.json={} -n p06",
            jwks.display()
        )),
        "{stdout}"
    );
    let private = out_dir.join("p06-2026-a.key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the private key is the owner's only");
    }
    assert!(
        std::fs::read_to_string(&private)
            .unwrap()
            .contains("PRIVATE KEY")
    );
    assert!(!std::fs::read_to_string(&jwks).unwrap().contains("\"d\""));
    let keys = KeyStore::from_files(vec![jwks.clone()], p06_auth::Mode::Production).unwrap();
    assert_eq!(keys.current().kids(), ["p06-2026-a"]);

    // Rotation: the next key is added to the JWKS in force.
    let out = p06(&[
        "keys",
        "generate",
        "--out",
        out_dir.to_str().unwrap(),
        "--kid",
        "p06-2026-b",
        "--add-to",
        jwks.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = KeyStore::from_files(vec![jwks.clone()], p06_auth::Mode::Production).unwrap();
    assert_eq!(keys.current().kids(), ["p06-2026-a", "p06-2026-b"]);

    // Nothing is overwritten, and a placeholder kid is refused.
    let again = p06(&["keys", "generate", "--out", out_dir.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--add-to"));
    let placeholder = p06(&[
        "keys",
        "generate",
        "--out",
        dir.path().join("p").to_str().unwrap(),
        "--kid",
        "REPLACE-ME",
    ]);
    assert!(!placeholder.status.success());
    assert!(String::from_utf8_lossy(&placeholder.stderr).contains("placeholder"));
}

#[test]
fn token_refuses_a_role_its_agency_may_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    // The key `p06 up` makes (`p06 token` never makes one).
    p06_auth::DevKeys::load_or_create(dir.path()).unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let out = p06(&[
        "token",
        "--agency",
        "police",
        "--province",
        "64",
        "--role",
        "taskforce-admin",
        "--data-dir",
        data_dir,
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("taskforce-admin is not valid for agency police"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no token printed");
    let ok = p06(&[
        "token",
        "--agency",
        "taskforce",
        "--province",
        "64",
        "--role",
        "taskforce-admin",
        "--data-dir",
        data_dir,
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}
