//! IngestService against the real aggregator: receipts, idempotency, revisions and every refusal.

use p06_auth::Agency;
use p06_domain::report::payload_sha256;
use p06_kit::status::field_violations;
use p06_proto::aggregation::{GetReportRequest, Observation, SubmitReportRequest};
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed, default_now};
use tonic::Code;

fn sample() -> Vec<Observation> {
    vec![
        obs("residents.permanent", HA_DONG, 5_908.0),
        obs("vneid.l2.activated", HA_DONG, 109.0),
        obs("vneid.l2.activated", DAK_DOA, 20_000.0),
    ]
}

#[tokio::test]
async fn a_report_is_stored_with_a_verifiable_receipt() {
    let t = TestAggregator::start().await;
    let token = t.keys.reporter(Agency::Police);
    let receipt = t
        .ingest()
        .await
        .submit_report(authed(police_report("r-1", sample()), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(receipt.revision, 1);
    assert!(!receipt.replayed);
    assert_eq!(
        receipt.receive_time.unwrap().seconds,
        default_now().timestamp()
    );

    // The hash is the SHA-256 of the canonical payload, recomputable from what was sent.
    let report = t
        .ingest()
        .await
        .get_report(authed(
            GetReportRequest {
                name: receipt.report.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.observations.len(), 3);
    assert_eq!(report.submitted_by, "police-reporter");
    let valid = p06_domain::report::ValidReport {
        request_id: "r-1".into(),
        agency: "police".into(),
        obligation: "police-weekly-identity".into(),
        edition: p06_domain::locality::Edition::E2024,
        province: t
            .aggregator
            .state
            .catalog
            .province(p06_domain::locality::Edition::E2024, GIA_LAI)
            .unwrap()
            .clone(),
        period_start: date("2025-03-10"),
        period_end: date("2025-03-16"),
        observations: report
            .observations
            .iter()
            .map(|o| p06_domain::report::ValidObservation {
                indicator_code: o.indicator_code.clone(),
                locality_id: 0,
                locality_code: o.locality_code.clone(),
                value: o.value,
                carried_from: None,
            })
            .collect(),
        narrative: {
            let n = report.narrative.clone().unwrap();
            p06_domain::report::Narrative {
                assessment: n.assessment,
                obstacles: n.obstacles,
                proposals: n.proposals,
            }
        },
        mode: p06_domain::report::RevisionMode::Replace,
    };
    assert_eq!(receipt.payload_sha256, payload_sha256(&valid));
    assert_eq!(t.figure_count().await, 3);
}

#[tokio::test]
async fn a_repeated_request_id_returns_the_stored_receipt_and_writes_nothing() {
    let t = TestAggregator::start().await;
    let token = t.keys.reporter(Agency::Police);
    let mut client = t.ingest().await;
    let first = client
        .submit_report(authed(police_report("r-1", sample()), &token))
        .await
        .unwrap()
        .into_inner();
    t.clock.advance(chrono::Duration::minutes(5));
    // Same payload, observations in another order: the same report.
    let mut reordered = sample();
    reordered.reverse();
    let again = client
        .submit_report(authed(police_report("r-1", reordered), &token))
        .await
        .unwrap()
        .into_inner();
    assert!(again.replayed);
    assert_eq!(
        (
            again.report.as_str(),
            again.revision,
            &again.receive_time,
            &again.payload_sha256
        ),
        (
            first.report.as_str(),
            first.revision,
            &first.receive_time,
            &first.payload_sha256
        )
    );
    assert_eq!(t.report_count().await, 1);
    assert_eq!(t.figure_count().await, 3);

    let mut changed = sample();
    changed[1].value = 110.0;
    let status = client
        .submit_report(authed(police_report("r-1", changed), &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(t.report_count().await, 1);
}

#[tokio::test]
async fn an_amendment_is_a_new_revision_and_the_old_one_stays_readable() {
    let t = TestAggregator::start().await;
    let token = t.keys.reporter(Agency::Police);
    let mut client = t.ingest().await;
    let first = client
        .submit_report(authed(police_report("r-1", sample()), &token))
        .await
        .unwrap()
        .into_inner();
    let mut amended = sample();
    amended[1].value = 150.0;
    let second = client
        .submit_report(authed(police_report("r-2", amended), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((first.revision, second.revision), (1, 2));
    assert_ne!(first.report, second.report);

    let old = client
        .get_report(authed(
            GetReportRequest {
                name: first.report.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    let value = |r: &p06_proto::aggregation::Report| {
        r.observations
            .iter()
            .find(|o| o.indicator_code == "vneid.l2.activated" && o.locality_code == HA_DONG)
            .unwrap()
            .value
    };
    assert_eq!(value(&old), 109.0);
    assert_eq!(old.receipt.unwrap().revision, 1);
    let new = client
        .get_report(authed(
            GetReportRequest {
                name: second.report,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(value(&new), 150.0);
    assert_eq!(t.report_count().await, 2);
    // The read model holds the newest revision only.
    assert_eq!(t.count("latest_value").await, 3);
}

/// A revision replaces its predecessor: a commune it leaves out has no figure of that period any
/// more (here no earlier one either, so no data), in the read model and in the task-force totals.
#[tokio::test]
async fn a_revision_naming_one_commune_drops_the_others_figures_of_that_period() {
    use p06_proto::aggregation::GetConsolidatedStatusRequest;
    use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;

    let t = TestAggregator::start().await;
    let token = t.keys.reporter(Agency::Police);
    let mut client = t.ingest().await;
    let both = vec![
        obs("vneid.l2.activated", HA_DONG, 109.0),
        obs("vneid.l2.activated", "23695", 1_000.0),
    ];
    client
        .submit_report(authed(police_report("both", both), &token))
        .await
        .unwrap();
    let only_ha_dong = vec![obs("vneid.l2.activated", HA_DONG, 150.0)];
    let second = client
        .submit_report(authed(police_report("one", only_ha_dong), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.revision, 2);
    assert_eq!(t.count("latest_value").await, 1);
    let status = TaskForceServiceClient::new(t.channel().await)
        .get_consolidated_status(authed(
            GetConsolidatedStatusRequest {
                locality: province(GIA_LAI),
                as_of: Some(p06_kit::convert::date_to_proto(date("2025-03-16"))),
                indicator_codes: vec!["vneid.l2.activated".into()],
                ..Default::default()
            },
            &t.keys.viewer(),
        ))
        .await
        .unwrap()
        .into_inner();
    let indicator = &status.indicators[0];
    assert_eq!(indicator.value, Some(150.0));
    assert_eq!(indicator.localities_reporting, 1);
}

/// Every bad input: the exact code, the offending field named, nothing stored.
#[tokio::test]
async fn bad_input_is_refused_field_by_field_and_changes_nothing() {
    let t = TestAggregator::start().await;
    let token = t.keys.reporter(Agency::Police);
    let mut client = t.ingest().await;
    type Edit = fn(&mut SubmitReportRequest);
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "unknown indicator",
            |r| r.observations[0].indicator_code = "vneid.l9".into(),
            "observations[0].indicator_code",
        ),
        (
            "unknown locality",
            |r| r.observations[0].locality_code = "99999".into(),
            "observations[0].locality_code",
        ),
        (
            "locality of another province",
            |r| r.observations[0].locality_code = "21550".into(),
            "observations[0].locality_code",
        ),
        (
            "negative value",
            |r| r.observations[0].value = -1.0,
            "observations[0].value",
        ),
        (
            "NaN",
            |r| r.observations[0].value = f64::NAN,
            "observations[0].value",
        ),
        (
            "infinite",
            |r| r.observations[0].value = f64::INFINITY,
            "observations[0].value",
        ),
        (
            "duplicate pair",
            |r| r.observations.push(r.observations[0].clone()),
            "observations[3]",
        ),
        ("empty report", |r| r.observations.clear(), "observations"),
        (
            "end before start",
            |r| r.period = period("2025-03-16", "2025-03-10"),
            "period.end",
        ),
        (
            "starts in the future",
            |r| r.period = period("2025-03-24", "2025-03-30"),
            "period.start",
        ),
        ("no period", |r| r.period = None, "period.start"),
        (
            "missing request id",
            |r| r.request_id = String::new(),
            "request_id",
        ),
        (
            "unknown edition",
            |r| r.province.as_mut().unwrap().edition = "1999".into(),
            "province.edition",
        ),
    ];
    for (name, edit, field) in cases {
        let mut request = police_report(&format!("bad-{name}"), sample());
        edit(&mut request);
        // The edition case changes the province the token must match; use a matching token.
        let status = client
            .submit_report(authed(request, &token))
            .await
            .unwrap_err();
        if name == "unknown edition" {
            assert_eq!(status.code(), Code::PermissionDenied, "{name}");
            continue;
        }
        assert_eq!(status.code(), Code::InvalidArgument, "{name}: {status:?}");
        let fields: Vec<String> = field_violations(&status)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert!(fields.contains(&field.to_string()), "{name}: {fields:?}");
    }
    assert_eq!(t.report_count().await, 0);
    assert_eq!(t.figure_count().await, 0);
}

#[tokio::test]
async fn a_report_outside_its_editions_interval_names_the_edition_in_force() {
    let t = TestAggregator::start().await;
    t.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-03-12T10:00:00+07:00")
            .unwrap()
            .into(),
    );
    let token = t.keys.reporter(Agency::Police);
    let mut request = police_report("edition-2024-in-2026", sample());
    request.period = period("2026-03-02", "2026-03-08");
    let status = t
        .ingest()
        .await
        .submit_report(authed(request, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let violations = field_violations(&status);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].0, "province.edition");
    assert!(
        violations[0].1.contains("edition 2025 is in force"),
        "{}",
        violations[0].1
    );
    assert_eq!(t.report_count().await, 0);
}

#[tokio::test]
async fn percentages_above_100_are_refused() {
    let t = TestAggregator::start().await;
    let token = t.keys.reporter(Agency::Health);
    let mut request = police_report(
        "pct",
        vec![obs("pension.cashless.urban_share", GIA_LAI, 100.5)],
    );
    request.agency = "health".into();
    request.obligation = "health-weekly".into();
    let status = t
        .ingest()
        .await
        .submit_report(authed(request.clone(), &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&status)[0].0, "observations[0].value");
    request.observations[0].value = 87.5;
    t.ingest()
        .await
        .submit_report(authed(request, &token))
        .await
        .unwrap();
    assert_eq!(t.report_count().await, 1);
}

#[tokio::test]
async fn an_oversized_report_is_refused_with_the_documented_limit() {
    let t = TestAggregator::start().await;
    let token = t.keys.reporter(Agency::Police);
    let observations = (0..50_001)
        .map(|i| obs("vneid.l2.activated", &format!("{i:05}"), 1.0))
        .collect();
    let status = t
        .ingest()
        .await
        .submit_report(authed(police_report("big", observations), &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let violations = field_violations(&status);
    assert_eq!(violations[0].0, "observations");
    assert!(violations[0].1.contains("50000"), "{violations:?}");
    assert_eq!(t.report_count().await, 0);
}

#[tokio::test]
async fn another_agencys_indicator_is_permission_denied() {
    let t = TestAggregator::start().await;
    let token = t.keys.reporter(Agency::Police);
    let request = police_report("foreign", vec![obs("bhyt.cards.integrated", HA_DONG, 10.0)]);
    let status = t
        .ingest()
        .await
        .submit_report(authed(request, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(t.report_count().await, 0);
}
