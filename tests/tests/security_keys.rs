//! Attack tests for keys and tokens (issue 18: forgeable default keys, roles bound to agencies,
//! malformed keys, claims over their limits, streams outliving their token), against the running
//! services on SQLite — and PostgreSQL when `P06_TEST_POSTGRES_URL` is set.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use jsonwebtoken::{Algorithm, EncodingKey};
use p06_auth::claims::Audience;
use p06_auth::{Agency, AuthConfig, AuthError, Authenticator, Claims, Role, mint_with_key};
use p06_kit::host::Running;
use p06_proto::aggregation::admin_service_client::AdminServiceClient;
use p06_proto::aggregation::ingest_service_client::IngestServiceClient;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{GetComplianceBoardRequest, LockPeriodRequest, WatchFlagsRequest};
use p06_proto::police::SubmitIdentityReportRequest;
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed, start_agency};
use serde_json::json;
use tonic::Code;
use tonic::transport::Channel;

/// The RFC 8037 Appendix A.1 example key: its private half is in the RFC.
fn rfc8037() -> SigningKey {
    let d = URL_SAFE_NO_PAD
        .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
        .unwrap();
    SigningKey::from_bytes(&d.try_into().unwrap())
}

fn encoding(key: &SigningKey) -> EncodingKey {
    EncodingKey::from_ed_pem(key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap()
}

fn jwk(kid: &str, key: &SigningKey) -> serde_json::Value {
    json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
           "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes())})
}

fn write_jwks(path: &Path, keys: &[serde_json::Value]) {
    std::fs::write(path, json!({ "keys": keys }).to_string()).unwrap();
}

/// Claims of a token issued now by the development issuer, valid for `ttl_secs`.
fn claims(agency: Agency, roles: &[Role], ttl_secs: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: "p06-dev".into(),
        aud: Audience::One("p06".into()),
        sub: format!("{agency}-tester"),
        exp: now + ttl_secs,
        iat: now,
        nbf: None,
        jti: Some(uuid::Uuid::new_v4().to_string()),
        agency,
        province: GIA_LAI.into(),
        edition: EDITION.into(),
        roles: roles.to_vec(),
    }
}

/// Signs with the development key of the test aggregator — a key the services trust — so the
/// refusals below are about the claims, not the signature.
fn dev_signed(t: &TestAggregator, claims: &Claims) -> String {
    let pem = std::fs::read(t.keys.dir.path().join(p06_auth::dev::PRIVATE_FILE)).unwrap();
    mint_with_key(
        &EncodingKey::from_ed_pem(&pem).unwrap(),
        Algorithm::EdDSA,
        Some(p06_auth::dev::DEV_KID),
        claims,
    )
    .unwrap()
}

/// The authenticator a service builds from its environment (`P06_AUTH_MODE`, `P06_JWT_*`).
fn from_env(vars: &[(&str, String)], data_dir: &Path) -> Result<Arc<Authenticator>, AuthError> {
    let config = AuthConfig::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })?;
    p06_auth::authenticator_for(config, data_dir)
}

async fn serve(t: &TestAggregator, auth: Arc<Authenticator>) -> Running {
    t.aggregator
        .host(auth)
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .unwrap()
}

async fn channel(running: &Running) -> Channel {
    Channel::from_shared(running.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn submit(request_id: &str) -> p06_proto::aggregation::SubmitReportRequest {
    police_report(request_id, vec![obs("vneid.l2.activated", HA_DONG, 1.0)])
}

#[tokio::test]
async fn the_published_rfc8037_key_cannot_be_trusted_so_a_token_signed_with_it_is_refused() {
    let t = TestAggregator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    // What deploy/kubernetes/secrets.yaml shipped: the RFC 8037 key under kid REPLACE-ME.
    write_jwks(&jwks, &[jwk("REPLACE-ME", &rfc8037())]);
    let production = |keys: &Path| {
        vec![
            ("P06_AUTH_MODE", "production".to_owned()),
            ("P06_JWT_ISSUER", "p06-dev".to_owned()),
            ("P06_JWT_KEYS", keys.display().to_string()),
        ]
    };
    // Production: the service does not start, and says which file and kid.
    let Err(AuthError::Config(message)) = from_env(&production(&jwks), dir.path()) else {
        panic!("a production service started with the RFC 8037 key");
    };
    assert!(message.contains(&jwks.display().to_string()), "{message}");
    assert!(
        message.contains("\"REPLACE-ME\"") && message.contains("RFC 8037"),
        "{message}"
    );

    // Development: the key is skipped; an aggregator trusting it next to a real key refuses the
    // forged admin token and stores nothing.
    let own = SigningKey::generate(&mut rand_core::OsRng);
    write_jwks(&jwks, &[jwk("REPLACE-ME", &rfc8037()), jwk("own-1", &own)]);
    let mut vars = production(&jwks);
    vars[0].1 = "development".into();
    let running = serve(&t, from_env(&vars, dir.path()).unwrap()).await;
    let forged = mint_with_key(
        &encoding(&rfc8037()),
        Algorithm::EdDSA,
        Some("REPLACE-ME"),
        &claims(Agency::Police, &[Role::Reporter], 600),
    )
    .unwrap();
    let mut ingest = IngestServiceClient::new(channel(&running).await);
    let status = ingest
        .submit_report(authed(submit("forged"), &forged))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let genuine = mint_with_key(
        &encoding(&own),
        Algorithm::EdDSA,
        Some("own-1"),
        &claims(Agency::Police, &[Role::Reporter], 600),
    )
    .unwrap();
    ingest
        .submit_report(authed(submit("genuine"), &genuine))
        .await
        .unwrap();
    assert_eq!(
        t.report_count().await,
        1,
        "only the genuine report is stored"
    );
}

#[tokio::test]
async fn roles_of_another_agency_are_refused_by_the_aggregator_and_the_agency_services() {
    let t = TestAggregator::start().await;
    // A police token carrying taskforce-admin tries to lock a period (issue 18 point 4).
    let police_admin = dev_signed(&t, &claims(Agency::Police, &[Role::TaskforceAdmin], 600));
    let status = AdminServiceClient::new(t.channel().await)
        .lock_period(authed(
            LockPeriodRequest {
                request_id: "lock-1".into(),
                province: province(GIA_LAI),
                period: period("2025-03-10", "2025-03-16"),
                agency: "police".into(),
                obligation: String::new(),
                reason: "chốt số liệu".into(),
            },
            &police_admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("taskforce-admin"), "{status:?}");
    assert_eq!(t.count("period_lock").await, 0);

    // A health token carrying taskforce-viewer reads nothing.
    let health_viewer = dev_signed(&t, &claims(Agency::Health, &[Role::TaskforceViewer], 600));
    let status = TaskForceServiceClient::new(t.channel().await)
        .get_compliance_board(authed(
            GetComplianceBoardRequest {
                province: province(GIA_LAI),
                ..Default::default()
            },
            &health_viewer,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    // A task-force token carrying reporter submits nothing, through the police service either.
    let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let taskforce_reporter = dev_signed(&t, &claims(Agency::Taskforce, &[Role::Reporter], 600));
    let status = PoliceReportingServiceClient::new(
        Channel::from_shared(police.url())
            .unwrap()
            .connect()
            .await
            .unwrap(),
    )
    .submit_identity_report(authed(
        SubmitIdentityReportRequest {
            request_id: "tf-1".into(),
            ..Default::default()
        },
        &taskforce_reporter,
    ))
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let status = t
        .ingest()
        .await
        .submit_report(authed(submit("tf-2"), &taskforce_reporter))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(t.report_count().await, 0);
}

#[tokio::test]
async fn a_malformed_key_is_refused_at_load_and_a_token_naming_it_is_unauthenticated() {
    let t = TestAggregator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    let (good, other) = (
        SigningKey::generate(&mut rand_core::OsRng),
        SigningKey::generate(&mut rand_core::OsRng),
    );
    let broken =
        json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "broken", "x": "AAAA"});
    let token = |kid: &str, key: &SigningKey| {
        mint_with_key(
            &encoding(key),
            Algorithm::EdDSA,
            Some(kid),
            &claims(Agency::Police, &[Role::Reporter], 600),
        )
        .unwrap()
    };

    // Production: the malformed key stops the start, naming file and kid.
    write_jwks(&jwks, &[jwk("good-1", &good), broken.clone()]);
    let vars = vec![
        ("P06_AUTH_MODE", "production".to_owned()),
        ("P06_JWT_ISSUER", "p06-dev".to_owned()),
        ("P06_JWT_KEYS", jwks.display().to_string()),
    ];
    let Err(AuthError::Config(message)) = from_env(&vars, dir.path()) else {
        panic!("a production service started with a malformed key");
    };
    assert!(
        message.contains(&jwks.display().to_string()) && message.contains("\"broken\""),
        "{message}"
    );

    // A running production aggregator whose JWKS gains the malformed key at a rotation: the
    // reload is refused, the previous keys stay, and calls naming the key are UNAUTHENTICATED
    // (before the load checks they panicked and the caller got CANCELLED).
    write_jwks(&jwks, &[jwk("good-1", &good)]);
    let auth = from_env(&vars, dir.path()).unwrap();
    let running = serve(&t, auth.clone()).await;
    write_jwks(&jwks, &[jwk("good-1", &good), broken.clone()]);
    let AuthError::Config(message) = auth.keys().reload().unwrap_err() else {
        panic!("not a configuration error");
    };
    assert!(message.contains("\"broken\""), "{message}");
    let mut ingest = IngestServiceClient::new(channel(&running).await);
    for i in 0..3 {
        let status = ingest
            .submit_report(authed(submit(&format!("b-{i}")), &token("broken", &other)))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    }
    ingest
        .submit_report(authed(submit("g-1"), &token("good-1", &good)))
        .await
        .unwrap();

    // Development: the malformed key is skipped at start; the same calls are refused the same way.
    let mut dev_vars = vars.clone();
    dev_vars[0].1 = "development".into();
    let dev = serve(&t, from_env(&dev_vars, dir.path()).unwrap()).await;
    let status = IngestServiceClient::new(channel(&dev).await)
        .submit_report(authed(submit("b-dev"), &token("broken", &other)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(t.report_count().await, 1);
}

#[tokio::test]
async fn a_subject_over_200_characters_is_unauthenticated_on_every_database() {
    let t = TestAggregator::start().await;
    let with_sub = |sub: String| {
        let mut c = claims(Agency::Police, &[Role::Reporter], 600);
        c.sub = sub;
        dev_signed(&t, &c)
    };
    let (long, at_limit) = (with_sub("đ".repeat(201)), with_sub("đ".repeat(200)));
    let mut ingest = t.ingest().await;
    let status = ingest
        .submit_report(authed(submit("long-sub"), &long))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("claim sub"), "{status:?}");
    // 200 characters (400 bytes) fit the column on both databases.
    ingest
        .submit_report(authed(submit("sub-200"), &at_limit))
        .await
        .unwrap();
    assert_eq!(t.report_count().await, 1);
    assert_eq!(
        t.count_where("report", &format!("submitted_by = '{}'", "đ".repeat(200)))
            .await,
        1
    );
    // The admin path stores the subject as the lock's author: refused there too.
    let mut admin = claims(Agency::Taskforce, &[Role::TaskforceAdmin], 600);
    admin.sub = "a".repeat(201);
    let status = AdminServiceClient::new(t.channel().await)
        .lock_period(authed(
            LockPeriodRequest {
                request_id: "lock-long".into(),
                province: province(GIA_LAI),
                period: period("2025-03-10", "2025-03-16"),
                agency: "police".into(),
                obligation: String::new(),
                reason: "x".into(),
            },
            &dev_signed(&t, &admin),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(t.count("period_lock").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flag_stream_ends_unauthenticated_when_its_token_expires() {
    let t = TestAggregator::start().await;
    // The aggregator trusts the development key with a 1 s leeway.
    let dev_key: PathBuf = t.keys.dev.public_key_file().to_path_buf();
    let mut config = AuthConfig::development();
    config.key_files = vec![dev_key];
    config.leeway_secs = 1;
    let running = serve(
        &t,
        p06_auth::authenticator_for(config, t.keys.dir.path()).unwrap(),
    )
    .await;
    let mut taskforce = TaskForceServiceClient::new(channel(&running).await);

    let ttl = 4;
    let viewer = dev_signed(
        &t,
        &claims(Agency::Taskforce, &[Role::TaskforceViewer], ttl),
    );
    let opened = Instant::now();
    let mut stream = taskforce
        .watch_flags(authed(
            WatchFlagsRequest {
                province: province(GIA_LAI),
                kind: "LATE".into(),
                include_open: false,
                after: String::new(),
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    // While the token is valid the stream delivers (a late report raises a LATE flag).
    tokio::time::sleep(Duration::from_millis(700)).await;
    t.ingest()
        .await
        .submit_report(authed(submit("late"), &t.keys.reporter(Agency::Police)))
        .await
        .unwrap();
    let flag = tokio::time::timeout(Duration::from_secs(3), stream.message())
        .await
        .expect("a flag before the token expires")
        .unwrap()
        .expect("a flag");
    assert_eq!(flag.kind, "LATE");

    // Then it ends with UNAUTHENTICATED once exp + leeway has passed — not before, not 40 s later.
    let end = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("the stream ends within 10 s")
        .unwrap_err();
    let lived = opened.elapsed();
    assert_eq!(end.code(), Code::Unauthenticated, "{end:?}");
    assert!(end.message().contains("expired"), "{end:?}");
    assert!(
        lived >= Duration::from_secs(ttl as u64) && lived <= Duration::from_secs(ttl as u64 + 4),
        "the stream lived {lived:?}"
    );
    // A new call with the token is refused too: the stream and unary calls agree.
    let status = taskforce
        .get_compliance_board(authed(
            GetComplianceBoardRequest {
                province: province(GIA_LAI),
                ..Default::default()
            },
            &viewer,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}
