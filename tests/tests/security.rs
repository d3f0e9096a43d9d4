//! Authentication and authorization against the running services. Every case asserts the exact
//! status code and that nothing was written.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use jsonwebtoken::{Algorithm, EncodingKey};
use p06_auth::claims::Audience;
use p06_auth::keys::KeyStore;
use p06_auth::{Agency, AuthConfig, Authenticator, Claims, Role, mint_with_key};
use p06_proto::aggregation::ingest_service_client::IngestServiceClient;
use p06_proto::aggregation::{ListTargetsRequest, UpsertTargetsRequest};
use p06_proto::police::SubmitIdentityReportRequest;
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed, start_agency};
use tonic::Code;
use tonic::transport::Channel;

const DEV_PRIVATE: &str = "dev-jwt-ed25519.key.pem";
const DEV_PUBLIC: &str = "p06-dev.pem";

fn claims() -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: "p06-dev".into(),
        aud: Audience::One("p06".into()),
        sub: "tester".into(),
        exp: now + 600,
        iat: now,
        nbf: None,
        jti: Some("test-jti".into()),
        agency: Agency::Police,
        province: GIA_LAI.into(),
        edition: EDITION.into(),
        roles: vec![Role::Reporter],
    }
}

fn dev_key(t: &TestAggregator) -> EncodingKey {
    EncodingKey::from_ed_pem(&std::fs::read(t.keys.dir.path().join(DEV_PRIVATE)).unwrap()).unwrap()
}

fn sign(t: &TestAggregator, claims: &Claims) -> String {
    mint_with_key(&dev_key(t), Algorithm::EdDSA, Some("p06-dev"), claims).unwrap()
}

/// A token from arbitrary JSON parts, signed by nobody.
fn unsigned(header: serde_json::Value, payload: serde_json::Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

async fn submit_with(t: &TestAggregator, token: Option<&str>) -> tonic::Status {
    let request = police_report(
        &uuid::Uuid::new_v4().to_string(),
        vec![obs("vneid.l2.activated", HA_DONG, 1.0)],
    );
    let mut client = t.ingest().await;
    let result = match token {
        Some(token) => client.submit_report(authed(request, token)).await,
        None => client.submit_report(request).await,
    };
    result.expect_err("the call must be refused")
}

#[tokio::test]
async fn bad_tokens_are_unauthenticated_and_write_nothing() {
    let t = TestAggregator::start().await;
    let public_pem = std::fs::read(t.keys.dir.path().join(DEV_PUBLIC)).unwrap();
    let now = chrono::Utc::now().timestamp();
    let payload = serde_json::to_value(claims()).unwrap();

    let mut expired = claims();
    expired.exp = now - 3_600;
    expired.iat = now - 7_200;
    let mut not_yet = claims();
    not_yet.nbf = Some(now + 3_600);
    let mut wrong_iss = claims();
    wrong_iss.iss = "someone-else".into();
    let mut wrong_aud = claims();
    wrong_aud.aud = Audience::One("another-system".into());
    let mut no_aud = serde_json::to_value(claims()).unwrap();
    no_aud.as_object_mut().unwrap().remove("aud");
    let mut no_iss = serde_json::to_value(claims()).unwrap();
    no_iss.as_object_mut().unwrap().remove("iss");
    let other_key = SigningKey::generate(&mut rand_core::OsRng);
    let other_pem = other_key.to_pkcs8_pem(LineEnding::LF).unwrap();
    let other = EncodingKey::from_ed_pem(other_pem.as_bytes()).unwrap();
    let sign_json = |value: &serde_json::Value| {
        let mut header = jsonwebtoken::Header::new(Algorithm::EdDSA);
        header.kid = Some("p06-dev".into());
        jsonwebtoken::encode(&header, value, &dev_key(&t)).unwrap()
    };

    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("malformed", Some("not.a.jwt".into())),
        (
            "alg none",
            Some(unsigned(
                serde_json::json!({"alg": "none", "typ": "JWT"}),
                payload.clone(),
                "",
            )),
        ),
        (
            "HS256 signed with the public key (key confusion)",
            Some(
                mint_with_key(
                    &EncodingKey::from_secret(&public_pem),
                    Algorithm::HS256,
                    Some("p06-dev"),
                    &claims(),
                )
                .unwrap(),
            ),
        ),
        (
            "wrong signature",
            Some(mint_with_key(&other, Algorithm::EdDSA, Some("p06-dev"), &claims()).unwrap()),
        ),
        ("expired", Some(sign(&t, &expired))),
        ("not yet valid", Some(sign(&t, &not_yet))),
        ("wrong issuer", Some(sign(&t, &wrong_iss))),
        ("wrong audience", Some(sign(&t, &wrong_aud))),
        ("missing aud", Some(sign_json(&no_aud))),
        ("missing iss", Some(sign_json(&no_iss))),
        (
            "unknown kid",
            Some(
                mint_with_key(
                    &dev_key(&t),
                    Algorithm::EdDSA,
                    Some("retired-2024"),
                    &claims(),
                )
                .unwrap(),
            ),
        ),
    ];
    for (name, token) in cases {
        let status = submit_with(&t, token.as_deref()).await;
        assert_eq!(status.code(), Code::Unauthenticated, "{name}: {status:?}");
    }
    // A well-formed token passes, so the refusals above are about the tokens.
    let ok = sign(&t, &claims());
    t.ingest()
        .await
        .submit_report(authed(
            police_report("ok", vec![obs("vneid.l2.activated", HA_DONG, 1.0)]),
            &ok,
        ))
        .await
        .unwrap();
    assert_eq!(t.report_count().await, 1);
}

#[tokio::test]
async fn tokens_reach_only_their_own_agency_province_and_role() {
    let t = TestAggregator::start().await;
    let health = start_agency(&t.keys, t.running.url(), Agency::Health).await;
    let police_token = t.keys.reporter(Agency::Police);

    // Police token on the health service.
    let channel = Channel::from_shared(health.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let status =
        p06_proto::health::health_reporting_service_client::HealthReportingServiceClient::new(
            channel,
        )
        .submit_health_report(authed(
            p06_proto::health::SubmitHealthReportRequest {
                request_id: "x".into(),
                obligation: "health-weekly".into(),
                province: province(GIA_LAI),
                period: period("2025-03-10", "2025-03-16"),
                localities: vec![],
                narrative: None,
                ..Default::default()
            },
            &police_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // Police token submitting a health indicator straight to the aggregator.
    let mut ingest = t.ingest().await;
    let status = ingest
        .submit_report(authed(
            police_report("h", vec![obs("bhyt.cards.integrated", HA_DONG, 1.0)]),
            &police_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    // Police token claiming to be health.
    let mut as_health = police_report(
        "as-health",
        vec![obs("bhyt.cards.integrated", HA_DONG, 1.0)],
    );
    as_health.agency = "health".into();
    assert_eq!(
        ingest
            .submit_report(authed(as_health, &police_token))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );

    // Province A's token writing and reading province B.
    let binh_dinh = t.keys.token(Agency::Police, BINH_DINH, Role::Reporter);
    let status = ingest
        .submit_report(authed(
            police_report("b", vec![obs("vneid.l2.activated", HA_DONG, 1.0)]),
            &binh_dinh,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let mut catalog = t.catalog().await;
    let status = catalog
        .list_targets(authed(
            ListTargetsRequest {
                province: province(GIA_LAI),
                ..Default::default()
            },
            &t.keys
                .token(Agency::Taskforce, BINH_DINH, Role::TaskforceViewer),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // Viewer calling an admin call.
    let status = catalog
        .upsert_targets(authed(
            UpsertTargetsRequest {
                request_id: "v".into(),
                targets: vec![],
            },
            &t.keys.viewer(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // A reporter reads only its own agency's receipts.
    let receipt = ingest
        .submit_report(authed(
            police_report("mine", vec![obs("vneid.l2.activated", HA_DONG, 1.0)]),
            &police_token,
        ))
        .await
        .unwrap()
        .into_inner();
    let status = ingest
        .get_report(authed(
            p06_proto::aggregation::GetReportRequest {
                name: receipt.report.clone(),
            },
            &t.keys.reporter(Agency::Justice),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::NotFound,
        "another agency's receipt looks missing"
    );
    assert_eq!(t.report_count().await, 1);
}

#[tokio::test]
async fn a_police_reporter_cannot_call_task_force_queries() {
    let t = TestAggregator::start().await;
    // TaskForceService is in the table for task-force roles only; a reporter is refused before any
    // handler runs (here no TaskForceService is even mounted — the layer answers first).
    let channel = Channel::from_shared(t.running.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let mut request = authed((), &t.keys.reporter(Agency::Police));
    request
        .metadata_mut()
        .insert("content-type", "application/grpc".parse().unwrap());
    let status = grpc
        .unary::<(), (), _>(
            request,
            "/p06.aggregation.v1.TaskForceService/GetConsolidatedStatus"
                .parse()
                .unwrap(),
            EmptyCodec,
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

/// A codec for the raw call above: the request has no body worth encoding.
#[derive(Default, Clone)]
struct EmptyCodec;

impl tonic::codec::Codec for EmptyCodec {
    type Encode = ();
    type Decode = ();
    type Encoder = EmptyCodec;
    type Decoder = EmptyCodec;
    fn encoder(&mut self) -> Self::Encoder {
        EmptyCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        EmptyCodec
    }
}

impl tonic::codec::Encoder for EmptyCodec {
    type Item = ();
    type Error = tonic::Status;
    fn encode(&mut self, _: (), _: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), tonic::Status> {
        Ok(())
    }
}

impl tonic::codec::Decoder for EmptyCodec {
    type Item = ();
    type Error = tonic::Status;
    fn decode(&mut self, _: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<()>, tonic::Status> {
        Ok(Some(()))
    }
}

fn jwks(keys: &[(&str, &SigningKey)]) -> String {
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .map(|(kid, key)| {
            serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
            })
        })
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}

#[tokio::test]
async fn a_rotated_key_is_accepted_after_reload_and_the_retired_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let jwks_path = dir.path().join("keys.json");
    let old = SigningKey::generate(&mut rand_core::OsRng);
    let new = SigningKey::generate(&mut rand_core::OsRng);
    std::fs::write(&jwks_path, jwks(&[("2025-a", &old)])).unwrap();
    let mut config = AuthConfig::development();
    config.mode = p06_auth::Mode::Production;
    config.key_files = vec![jwks_path.clone()];
    config.issuer = "p06-dev".into();
    let store = KeyStore::from_files(config.key_files.clone(), p06_auth::Mode::Production).unwrap();
    let authenticator = Arc::new(Authenticator::new(config, store.clone()).unwrap());

    let t = TestAggregator::start().await;
    let running = t
        .aggregator
        .host(authenticator)
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let mut client = IngestServiceClient::new(
        Channel::from_shared(running.url())
            .unwrap()
            .connect()
            .await
            .unwrap(),
    );
    let token = |kid: &str, key: &SigningKey| {
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        mint_with_key(
            &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
            Algorithm::EdDSA,
            Some(kid),
            &claims(),
        )
        .unwrap()
    };
    let submit =
        |request_id: &str| police_report(request_id, vec![obs("vneid.l2.activated", HA_DONG, 1.0)]);

    client
        .submit_report(authed(submit("old-1"), &token("2025-a", &old)))
        .await
        .unwrap();
    let status = client
        .submit_report(authed(submit("new-0"), &token("2025-b", &new)))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::Unauthenticated,
        "the new key is not known before rotation"
    );

    std::fs::write(&jwks_path, jwks(&[("2025-b", &new)])).unwrap();
    store.reload().unwrap();
    client
        .submit_report(authed(submit("new-1"), &token("2025-b", &new)))
        .await
        .unwrap();
    let status = client
        .submit_report(authed(submit("old-2"), &token("2025-a", &old)))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::Unauthenticated,
        "the retired key is refused"
    );
    assert_eq!(t.report_count().await, 2);
}

#[tokio::test]
async fn police_service_refuses_a_viewer_token() {
    let t = TestAggregator::start().await;
    let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let channel = Channel::from_shared(police.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let status = PoliceReportingServiceClient::new(channel)
        .submit_identity_report(authed(
            SubmitIdentityReportRequest {
                request_id: "v".into(),
                ..Default::default()
            },
            &t.keys.viewer(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(t.report_count().await, 0);
}
