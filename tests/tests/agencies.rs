//! The agency services end to end: each started on its own port in front of a real aggregator.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use p06_auth::{Agency, AuthLayer};
use p06_kit::host::Running;
use p06_kit::status::field_violations;
use p06_proto::aggregation::GetReportRequest;
use p06_proto::aggregation::ingest_service_server::IngestServiceServer;
use p06_proto::common::Narrative;
use p06_proto::health::health_reporting_service_client::HealthReportingServiceClient;
use p06_proto::health::{HealthFigures, SubmitHealthReportRequest};
use p06_proto::justice::justice_reporting_service_client::JusticeReportingServiceClient;
use p06_proto::justice::{CivilStatusFigures, SubmitCivilStatusReportRequest};
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed, start_agency};
use tonic::Code;
use tonic::transport::Channel;

async fn channel(running: &Running) -> Channel {
    Channel::from_shared(running.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn narrative() -> Option<Narrative> {
    Some(Narrative {
        assessment: "Đạt 73,3% chỉ tiêu.".into(),
        obstacles: "Thiếu thiết bị.".into(),
        proposals: "Tăng cường tổ lưu động.".into(),
    })
}

fn identity(request_id: &str, figures: Vec<IdentityFigures>) -> SubmitIdentityReportRequest {
    SubmitIdentityReportRequest {
        request_id: request_id.into(),
        obligation: "police-weekly-identity".into(),
        province: province(GIA_LAI),
        period: period("2025-03-10", "2025-03-16"),
        localities: figures,
        narrative: narrative(),
        ..Default::default()
    }
}

fn ha_dong_identity() -> IdentityFigures {
    IdentityFigures {
        locality_code: HA_DONG.into(),
        permanent_residents: Some(5_908),
        vneid_level2_created: Some(150),
        vneid_level2_activated: Some(109),
        signatures_initiated: Some(20),
        signatures_completed: Some(12),
        signatures_pending: Some(5),
        ..Default::default()
    }
}

fn health(request_id: &str, figures: Vec<HealthFigures>) -> SubmitHealthReportRequest {
    SubmitHealthReportRequest {
        request_id: request_id.into(),
        obligation: "health-weekly".into(),
        province: province(GIA_LAI),
        period: period("2025-03-10", "2025-03-16"),
        localities: figures,
        narrative: narrative(),
        ..Default::default()
    }
}

fn civil(request_id: &str, figures: Vec<CivilStatusFigures>) -> SubmitCivilStatusReportRequest {
    SubmitCivilStatusReportRequest {
        request_id: request_id.into(),
        obligation: "justice-weekly".into(),
        province: province(GIA_LAI),
        period: period("2025-03-10", "2025-03-16"),
        localities: figures,
        narrative: narrative(),
        ..Default::default()
    }
}

#[tokio::test]
async fn one_report_through_each_agency_service_lands_as_the_expected_observations() {
    let t = TestAggregator::start().await;
    let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let health_svc = start_agency(&t.keys, t.running.url(), Agency::Health).await;
    let justice = start_agency(&t.keys, t.running.url(), Agency::Justice).await;

    let police_token = t.keys.reporter(Agency::Police);
    let receipt = PoliceReportingServiceClient::new(channel(&police).await)
        .submit_identity_report(authed(
            identity("p-1", vec![ha_dong_identity()]),
            &police_token,
        ))
        .await
        .unwrap()
        .into_inner();
    let stored = t
        .ingest()
        .await
        .get_report(authed(
            GetReportRequest {
                name: receipt.report,
            },
            &police_token,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut got: Vec<(String, String, f64)> = stored
        .observations
        .into_iter()
        .map(|o| (o.indicator_code, o.locality_code, o.value))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let expected = [
        ("residents.permanent", 5_908.0),
        ("signature.completed", 12.0),
        ("signature.initiated", 20.0),
        ("signature.pending", 5.0),
        ("vneid.l2.activated", 109.0),
        ("vneid.l2.created", 150.0),
    ];
    assert_eq!(
        got,
        expected
            .iter()
            .map(|(c, v)| (c.to_string(), HA_DONG.to_string(), *v))
            .collect::<Vec<_>>()
    );

    let health_token = t.keys.reporter(Agency::Health);
    HealthReportingServiceClient::new(channel(&health_svc).await)
        .submit_health_report(authed(
            health(
                "h-1",
                vec![HealthFigures {
                    locality_code: HA_DONG.into(),
                    bhyt_cards_integrated: Some(3_000),
                    pension_recipients: Some(200),
                    pension_recipients_cashless: Some(150),
                    ..Default::default()
                }],
            ),
            &health_token,
        ))
        .await
        .unwrap();
    let justice_token = t.keys.reporter(Agency::Justice);
    JusticeReportingServiceClient::new(channel(&justice).await)
        .submit_civil_status_report(authed(
            civil(
                "j-1",
                vec![CivilStatusFigures {
                    locality_code: DAK_DOA.into(),
                    records_digitized: Some(4_000),
                    records_backlog: Some(9_000),
                    registrations_total: Some(40),
                    registrations_online: Some(30),
                    registrations_interlinked: Some(6),
                }],
            ),
            &justice_token,
        ))
        .await
        .unwrap();
    assert_eq!(t.report_count().await, 3);
    assert_eq!(t.figure_count().await, 6 + 3 + 5);
}

#[tokio::test]
async fn every_invariant_violation_is_refused_before_reaching_the_aggregator() {
    let t = TestAggregator::start().await;
    let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let health_svc = start_agency(&t.keys, t.running.url(), Agency::Health).await;
    let justice = start_agency(&t.keys, t.running.url(), Agency::Justice).await;
    let mut police_client = PoliceReportingServiceClient::new(channel(&police).await);
    let police_token = t.keys.reporter(Agency::Police);

    let cases = [
        (
            IdentityFigures {
                vneid_level2_activated: Some(151),
                ..ha_dong_identity()
            },
            "localities[0].vneid_level2_activated",
        ),
        (
            IdentityFigures {
                signatures_completed: Some(16),
                ..ha_dong_identity()
            },
            "localities[0].signatures_completed",
        ),
        (
            IdentityFigures {
                cccd_cards_issued: Some(-1),
                ..ha_dong_identity()
            },
            "localities[0].cccd_cards_issued",
        ),
    ];
    for (figures, field) in cases {
        let status = police_client
            .submit_identity_report(authed(identity("bad", vec![figures]), &police_token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(field_violations(&status)[0].0, field);
    }

    let status = HealthReportingServiceClient::new(channel(&health_svc).await)
        .submit_health_report(authed(
            health(
                "bad",
                vec![HealthFigures {
                    locality_code: HA_DONG.into(),
                    pension_recipients: Some(200),
                    pension_recipients_cashless: Some(201),
                    ..Default::default()
                }],
            ),
            &t.keys.reporter(Agency::Health),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        field_violations(&status)[0].0,
        "localities[0].pension_recipients_cashless"
    );

    let mut justice_client = JusticeReportingServiceClient::new(channel(&justice).await);
    let justice_token = t.keys.reporter(Agency::Justice);
    for (figures, field) in [
        (
            CivilStatusFigures {
                locality_code: DAK_DOA.into(),
                records_digitized: Some(10),
                records_backlog: Some(9),
                ..Default::default()
            },
            "localities[0].records_digitized",
        ),
        (
            CivilStatusFigures {
                locality_code: DAK_DOA.into(),
                registrations_online: Some(3),
                registrations_interlinked: Some(4),
                ..Default::default()
            },
            "localities[0].registrations_interlinked",
        ),
    ] {
        let status = justice_client
            .submit_civil_status_report(authed(civil("bad", vec![figures]), &justice_token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(field_violations(&status)[0].0, field);
    }
    assert_eq!(t.report_count().await, 0, "nothing reached the aggregator");
}

/// Lets the aggregator handle the first call completely, then loses its response (the caller sees
/// UNAVAILABLE although the report was stored).
#[derive(Clone)]
struct LoseFirstResponse<S> {
    inner: S,
    lost: Arc<AtomicBool>,
}

impl<S, B> tower::Service<http::Request<B>> for LoseFirstResponse<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let lost = self.lost.clone();
        Box::pin(async move {
            let response = inner.call(request).await?;
            if lost.swap(true, Ordering::SeqCst) {
                return Ok(response);
            }
            // Drain the handler's answer (the report is committed by now), then drop it.
            let _ = http_body_util_collect(response).await;
            Ok(tonic::Status::unavailable("connection reset (simulated)").into_http())
        })
    }
}

async fn http_body_util_collect(response: http::Response<tonic::body::Body>) {
    use http_body::Body as _;
    let mut body = response.into_body();
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        if frame.is_err() {
            break;
        }
    }
}

#[tokio::test]
async fn a_retry_after_a_lost_response_stores_one_report() {
    let t = TestAggregator::start().await;
    // An aggregator whose first response is lost on the way back.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let lost = Arc::new(AtomicBool::new(false));
    let ingest = IngestServiceServer::new(p06_aggregator::api::IngestApi::new(
        t.aggregator.state.clone(),
    ));
    let flaky = tokio::spawn(
        tonic::transport::Server::builder()
            .layer(AuthLayer::new(t.keys.authenticator.clone()))
            .layer(tower::layer::layer_fn({
                let lost = lost.clone();
                move |inner| LoseFirstResponse {
                    inner,
                    lost: lost.clone(),
                }
            }))
            .add_service(ingest)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let police = start_agency(&t.keys, format!("http://{addr}"), Agency::Police).await;
    let receipt = PoliceReportingServiceClient::new(channel(&police).await)
        .submit_identity_report(authed(
            identity("retry-1", vec![ha_dong_identity()]),
            &t.keys.reporter(Agency::Police),
        ))
        .await
        .expect("the agency service retried")
        .into_inner();
    assert!(lost.load(Ordering::SeqCst), "the first response was lost");
    assert!(receipt.replayed, "the retry found the stored report");
    assert_eq!(t.report_count().await, 1);
    flaky.abort();
}

#[tokio::test]
async fn an_unreachable_aggregator_gives_unavailable() {
    let t = TestAggregator::start().await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let police = start_agency(&t.keys, format!("http://{closed}"), Agency::Police).await;
    let status = PoliceReportingServiceClient::new(channel(&police).await)
        .submit_identity_report(authed(
            identity("down-1", vec![ha_dong_identity()]),
            &t.keys.reporter(Agency::Police),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("retry"), "{}", status.message());
}
