//! One submission from an agency system through the police service to the aggregator and its
//! database work is ONE trace, continuing the agency system's own `traceparent`.

use opentelemetry::trace::{SpanId, SpanKind};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use p06_auth::Agency;
use p06_proto::common::Narrative;
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed, start_agency};
use tonic::transport::Channel;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const NARRATIVE: &str = "Nội dung tường thuật không được ghi vào span";

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn find<'a>(spans: &'a [SpanData], name: &str, kind: SpanKind) -> &'a SpanData {
    spans
        .iter()
        .find(|s| s.name == name && s.span_kind == kind)
        .unwrap_or_else(|| {
            panic!(
                "no {kind:?} span {name}: {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        })
}

/// Whether `ancestor` is on `span`'s parent chain.
fn descends_from(spans: &[SpanData], span: &SpanData, ancestor: SpanId) -> bool {
    let mut parent = span.parent_span_id;
    while parent != SpanId::INVALID {
        if parent == ancestor {
            return true;
        }
        match spans.iter().find(|s| s.span_context.span_id() == parent) {
            Some(p) => parent = p.parent_span_id,
            None => return false,
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn one_submission_is_one_trace_across_the_hops() {
    let exporter = InMemorySpanExporter::default();
    let _telemetry = p06_telemetry::init_with_exporter("p06-test", exporter.clone()).unwrap();
    let t = TestAggregator::start().await;
    let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;

    let mut request = authed(
        SubmitIdentityReportRequest {
            request_id: "traced-1".into(),
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
                assessment: NARRATIVE.into(),
                obstacles: String::new(),
                proposals: String::new(),
            }),
            ..Default::default()
        },
        &t.keys.reporter(Agency::Police),
    );
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-{CALLER_SPAN}-01").parse().unwrap(),
    );
    let channel = Channel::from_shared(police.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    PoliceReportingServiceClient::new(channel)
        .submit_identity_report(request)
        .await
        .unwrap();
    // Spans end as the futures complete; give the server side a moment to close its span.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let all = exporter.get_finished_spans().unwrap();
    let spans: Vec<SpanData> = all
        .into_iter()
        .filter(|s| s.span_context.trace_id().to_string() == TRACE_ID)
        .collect();

    let police_server = find(
        &spans,
        "p06.police.v1.PoliceReportingService/SubmitIdentityReport",
        SpanKind::Server,
    );
    assert_eq!(
        police_server.parent_span_id.to_string(),
        CALLER_SPAN,
        "the agency system's traceparent is honoured"
    );
    let client = find(
        &spans,
        "p06.aggregation.v1.IngestService/SubmitReport",
        SpanKind::Client,
    );
    assert!(descends_from(
        &spans,
        client,
        police_server.span_context.span_id()
    ));
    let aggregator_server = find(
        &spans,
        "p06.aggregation.v1.IngestService/SubmitReport",
        SpanKind::Server,
    );
    assert_eq!(
        aggregator_server.parent_span_id,
        client.span_context.span_id()
    );
    assert_eq!(
        attribute(aggregator_server, "rpc.grpc.status_code").as_deref(),
        Some("0")
    );

    let handler = find(&spans, "submit_report", SpanKind::Internal);
    assert!(descends_from(
        &spans,
        handler,
        aggregator_server.span_context.span_id()
    ));
    for (key, value) in [
        ("agency", "police"),
        ("province", "2024/64"),
        ("obligation", "police-weekly-identity"),
        ("period", "2025-03-10..2025-03-16"),
        ("revision", "1"),
        ("observations", "3"),
        ("timeliness", "LATE"),
    ] {
        assert_eq!(attribute(handler, key).as_deref(), Some(value), "{key}");
    }
    assert!(
        attribute(handler, "report").is_some() && attribute(handler, "specificity_score").is_some()
    );
    for name in ["validate", "compliance.evaluate", "store.insert_report"] {
        let span = find(&spans, name, SpanKind::Internal);
        assert!(
            descends_from(&spans, span, handler.span_context.span_id()),
            "{name} under the handler"
        );
    }
    let store = find(&spans, "store.insert_report", SpanKind::Internal);
    assert!(attribute(store, "statements").is_some_and(|n| n.parse::<u32>().unwrap() > 0));

    // No token and no narrative text in any span.
    for span in &spans {
        for kv in &span.attributes {
            let value = kv.value.to_string();
            assert!(
                !value.contains("Bearer") && !value.contains("eyJ") && !value.contains(NARRATIVE),
                "{}: {value}",
                kv.key
            );
        }
    }
}
