//! TLS between the services (p06_kit::tls): the aggregator and the police service serve TLS only,
//! with certificates from a throwaway CA in cert-manager's layout (tls.crt, tls.key, ca.crt); a
//! report travels caller → police → aggregator over TLS, and a plaintext client is refused.

use std::path::Path;
use std::sync::Arc;

use p06_aggregator::{Aggregator, AggregatorConfig};
use p06_auth::Agency;
use p06_domain::clock::ManualClock;
use p06_kit::forward::{AggregatorClient, ForwardConfig};
use p06_kit::host::{Running, ServiceHost};
use p06_kit::tls::TlsSettings;
use p06_proto::common::Narrative;
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};
use p06_tests::db::TestDb;
use p06_tests::fixtures::*;
use p06_tests::services::{Keys, authed, default_now, unthrottled};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tonic::transport::Channel;

/// A CA and a certificate for `localhost` signed by it, written as a cert-manager Secret would be.
fn throwaway_ca(dir: &Path) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    std::fs::write(dir.join("tls.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("tls.key"), key.serialize_pem()).unwrap();
    std::fs::write(dir.join("ca.crt"), ca_cert.pem()).unwrap();
}

fn https(running: &Running) -> String {
    format!("https://localhost:{}", running.addr.port())
}

fn report() -> SubmitIdentityReportRequest {
    SubmitIdentityReportRequest {
        request_id: "tls-1".into(),
        obligation: "police-weekly-identity".into(),
        province: province(GIA_LAI),
        period: period("2025-03-10", "2025-03-16"),
        localities: vec![IdentityFigures {
            locality_code: HA_DONG.into(),
            permanent_residents: Some(5_908),
            vneid_level2_created: Some(150),
            vneid_level2_activated: Some(109),
            ..Default::default()
        }],
        narrative: Some(Narrative {
            assessment: "Đạt 73,3% chỉ tiêu.".into(),
            obstacles: "Thiếu thiết bị.".into(),
            proposals: "Tăng cường tổ lưu động.".into(),
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_report_crosses_tls_end_to_end_and_plaintext_is_refused() {
    let certs = tempfile::tempdir().unwrap();
    throwaway_ca(certs.path());
    let tls = TlsSettings {
        dir: Some(certs.path().to_path_buf()),
        ca: None,
    };

    let db = TestDb::fresh().await;
    let keys = Keys::new();
    let clock = ManualClock::new(default_now());
    let config = AggregatorConfig::for_database(db.url.clone());
    let aggregator = Aggregator::build_with_clock(&config, Arc::new(clock))
        .await
        .expect("aggregator starts");
    let aggregator_running = aggregator
        .host(keys.authenticator.clone())
        .with_limits(unthrottled())
        .with_tls(tls.server().unwrap())
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();

    let forward =
        AggregatorClient::with_tls(ForwardConfig::new(https(&aggregator_running)), &tls).unwrap();
    let police = ServiceHost::new(keys.authenticator.clone())
        .with_tls(tls.server().unwrap())
        .with_service(p06_police::PoliceApi::new(forward).into_server())
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();

    // Over TLS, trusting the throwaway CA: the report is forwarded and stored.
    let channel = tls
        .endpoint(&https(&police))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let receipt = PoliceReportingServiceClient::new(channel)
        .submit_identity_report(authed(report(), &keys.reporter(Agency::Police)))
        .await
        .expect("a report over TLS")
        .into_inner();
    assert!(!receipt.report.is_empty(), "{receipt:?}");

    // Plaintext to a TLS-only server: no gRPC answer, whichever step fails.
    for running in [&aggregator_running, &police] {
        let url = format!("http://127.0.0.1:{}", running.addr.port());
        let refused = match Channel::from_shared(url.clone()).unwrap().connect().await {
            Err(e) => format!("connect: {e}"),
            Ok(channel) => {
                let answer = PoliceReportingServiceClient::new(channel)
                    .submit_identity_report(authed(report(), &keys.reporter(Agency::Police)))
                    .await;
                match answer {
                    Ok(receipt) => panic!("{url}: a plaintext call was answered: {receipt:?}"),
                    Err(status) => format!("{:?}: {}", status.code(), status.message()),
                }
            }
        };
        println!("{url} plaintext: {refused}");
    }

    // An https client that trusts another CA is refused by the handshake.
    let other = tempfile::tempdir().unwrap();
    throwaway_ca(other.path());
    let stranger = TlsSettings {
        dir: None,
        ca: Some(other.path().join("ca.crt")),
    };
    let err = stranger
        .endpoint(&https(&aggregator_running))
        .unwrap()
        .connect()
        .await
        .expect_err("a certificate from an unknown CA is refused");
    println!("unknown CA: {err:?}");

    police.shutdown().await.unwrap();
    aggregator_running.shutdown().await.unwrap();
}

/// With TLS on the gRPC port, probes that cannot speak TLS (Kubernetes' gRPC probes) read health
/// from a plaintext port that serves `grpc.health.v1` and nothing else.
#[tokio::test]
async fn the_plaintext_health_port_answers_health_and_nothing_else() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

    let certs = tempfile::tempdir().unwrap();
    throwaway_ca(certs.path());
    let tls = TlsSettings {
        dir: Some(certs.path().to_path_buf()),
        ca: None,
    };
    let keys = Keys::new();
    let health_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let health_port = health_listener.local_addr().unwrap().port();
    let forward = AggregatorClient::new(ForwardConfig::new("http://127.0.0.1:9")).unwrap();
    let police = ServiceHost::new(keys.authenticator.clone())
        .with_tls(tls.server().unwrap())
        .with_health_listener(Some(health_listener))
        .with_service(p06_police::PoliceApi::new(forward).into_server())
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();

    let channel = Channel::from_shared(format!("http://127.0.0.1:{health_port}"))
        .unwrap()
        .connect()
        .await
        .expect("the health port speaks plaintext");
    let mut health = HealthClient::new(channel.clone());
    for name in [
        "liveness",
        "readiness",
        "p06.police.v1.PoliceReportingService",
    ] {
        let answer = health
            .check(HealthCheckRequest {
                service: name.into(),
            })
            .await
            .unwrap_or_else(|s| panic!("{name}: {s:?}"))
            .into_inner();
        assert_eq!(answer.status(), ServingStatus::Serving, "{name}");
    }
    // The police API is not on the health port, whatever the token.
    let status = PoliceReportingServiceClient::new(channel)
        .submit_identity_report(authed(report(), &keys.reporter(Agency::Police)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unimplemented, "{status:?}");

    police.shutdown().await.unwrap();
}
