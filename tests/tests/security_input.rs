//! Attacks on what data may enter: the domain's rule book where reports enter the aggregator, error
//! details bounded so the error itself survives, and text both databases can store. Each case runs
//! against the real services on the database the environment selects (SQLite, or PostgreSQL with
//! `P06_TEST_POSTGRES_URL`), asserts the exact status and that nothing was written.

use p06_auth::Agency;
use p06_kit::host::Running;
use p06_kit::status::{MAX_DETAILS_BYTES, MAX_FIELD_VIOLATIONS, MORE_FIELD, field_violations};
use p06_proto::aggregation::admin_service_client::AdminServiceClient;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    ListFlagsRequest, ListTargetsRequest, LockPeriodRequest, Observation, SubmitReportRequest,
    Target, UpsertObligationRequest, UpsertTargetsRequest, WatchFlagsRequest,
};
use p06_proto::common::{LocalityRef, Narrative};
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed, start_agency};
use tonic::transport::Channel;
use tonic::{Code, Status};

async fn channel(running: &Running) -> Channel {
    Channel::from_shared(running.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn identity(request_id: &str, figures: Vec<IdentityFigures>) -> SubmitIdentityReportRequest {
    SubmitIdentityReportRequest {
        request_id: request_id.into(),
        obligation: "police-weekly-identity".into(),
        province: province(GIA_LAI),
        period: period("2025-03-10", "2025-03-16"),
        localities: figures,
        narrative: police_report("x", vec![]).narrative,
        ..Default::default()
    }
}

/// An agency's report straight to the aggregator, as a reporter of that agency would send it.
fn agency_report(
    agency: &str,
    obligation: &str,
    observations: Vec<Observation>,
) -> SubmitReportRequest {
    SubmitReportRequest {
        agency: agency.into(),
        obligation: obligation.into(),
        ..police_report(&uuid::Uuid::new_v4().to_string(), observations)
    }
}

/// Refused as INVALID_ARGUMENT with bounded details: at most 100 violations plus one counting the
/// `total - listed` others, and a `grpc-status-details-bin` trailer far below the 16 KiB header
/// limit of HTTP/2 peers.
fn assert_bounded(status: &Status, total: usize, what: &str) {
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "{what}: {}",
        status.message()
    );
    let violations = field_violations(status);
    assert!(
        violations.len() <= MAX_FIELD_VIOLATIONS + 1,
        "{what}: {} violations",
        violations.len()
    );
    let (field, description) = violations.last().unwrap();
    assert_eq!(field, MORE_FIELD, "{what}");
    let listed = violations.len() - 1;
    assert!(
        description.contains(&format!("and {} more", total - listed)),
        "{what}: {description}"
    );
    assert_bounded_size(status, what);
}

fn assert_bounded_size(status: &Status, what: &str) {
    assert!(
        status.details().len() <= MAX_DETAILS_BYTES,
        "{what}: {} bytes of details",
        status.details().len()
    );
    // base64 in the trailer, and the message once more in `grpc-message`.
    assert!(
        status.details().len().div_ceil(3) * 4 + status.message().len() * 3 < 12 * 1024,
        "{what}"
    );
}

#[tokio::test]
async fn a_direct_report_breaking_the_rule_book_is_refused_and_stores_nothing() {
    let t = TestAggregator::start().await;
    let police = t.keys.reporter(Agency::Police);
    let mut ingest = t.ingest().await;

    // A police reporter bypasses the police service: level-2 activated 500 > created 5.
    let request = police_report(
        "direct-500",
        vec![
            obs("vneid.l2.created", HA_DONG, 5.0),
            obs("vneid.l2.activated", HA_DONG, 500.0),
        ],
    );
    let status = ingest
        .submit_report(authed(request, &police))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(
        field_violations(&status),
        [(
            "observations[1].value".to_string(),
            format!(
                "in locality {HA_DONG}, vneid.l2.activated (500) must not exceed vneid.l2.created (5)"
            )
        )]
    );
    assert_eq!(t.report_count().await, 0);
    assert_eq!(t.figure_count().await, 0);

    // Every relation of the rule book, each agency reporting its own indicators.
    type Case = (Agency, &'static str, &'static str, Vec<(&'static str, f64)>);
    let cases: [Case; 7] = [
        (
            Agency::Police,
            "police",
            "police-weekly-identity",
            vec![
                ("signature.initiated", 10.0),
                ("signature.completed", 6.0),
                ("signature.pending", 5.0),
            ],
        ),
        (
            Agency::Police,
            "police",
            "police-weekly-identity",
            vec![("vneid.l2.created", 0.0), ("vneid.l2.activated", 1.0)],
        ),
        (
            Agency::Health,
            "health",
            "health-weekly",
            vec![
                ("pension.recipients", 200.0),
                ("pension.cashless.recipients", 201.0),
            ],
        ),
        (
            Agency::Health,
            "health",
            "health-weekly",
            vec![
                ("facilities.total", 3.0),
                ("facilities.accepting_cccd", 4.0),
            ],
        ),
        (
            Agency::Justice,
            "justice",
            "justice-weekly",
            vec![
                ("civil_status.backlog", 10.0),
                ("civil_status.digitized", 11.0),
            ],
        ),
        (
            Agency::Justice,
            "justice",
            "justice-weekly",
            vec![
                ("civil_registration.online", 4.0),
                ("civil_registration.interlinked", 5.0),
            ],
        ),
        (
            Agency::Justice,
            "justice",
            "justice-weekly",
            vec![
                ("civil_registration.total", 40.0),
                ("civil_registration.online", 41.0),
            ],
        ),
    ];
    for (agency, name, obligation, figures) in cases {
        let observations = figures
            .iter()
            .map(|(code, value)| obs(code, HA_DONG, *value))
            .collect();
        let status = ingest
            .submit_report(authed(
                agency_report(name, obligation, observations),
                &t.keys.reporter(agency),
            ))
            .await
            .unwrap_err();
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{figures:?}: {status:?}"
        );
        let violations = field_violations(&status);
        assert_eq!(violations.len(), 1, "{figures:?}: {violations:?}");
        assert_eq!(violations[0].0, "observations[1].value", "{figures:?}");
        assert!(
            violations[0].1.contains("must not exceed"),
            "{figures:?}: {violations:?}"
        );
    }
    // The same figures within their bounds are stored.
    ingest
        .submit_report(authed(
            police_report(
                "direct-ok",
                vec![
                    obs("vneid.l2.created", HA_DONG, 500.0),
                    obs("vneid.l2.activated", HA_DONG, 500.0),
                ],
            ),
            &police,
        ))
        .await
        .unwrap();
    assert_eq!(t.report_count().await, 1);
}

#[tokio::test]
async fn the_police_service_refuses_the_same_breach_in_the_same_words() {
    let t = TestAggregator::start().await;
    let police_svc = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let token = t.keys.reporter(Agency::Police);

    let direct = t
        .ingest()
        .await
        .submit_report(authed(
            police_report(
                "direct",
                vec![
                    obs("vneid.l2.created", HA_DONG, 5.0),
                    obs("vneid.l2.activated", HA_DONG, 500.0),
                ],
            ),
            &token,
        ))
        .await
        .unwrap_err();
    let through = PoliceReportingServiceClient::new(channel(&police_svc).await)
        .submit_identity_report(authed(
            identity(
                "through",
                vec![IdentityFigures {
                    locality_code: HA_DONG.into(),
                    vneid_level2_created: Some(5),
                    vneid_level2_activated: Some(500),
                    ..Default::default()
                }],
            ),
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(through.code(), Code::InvalidArgument, "{through:?}");
    let (direct, through) = (field_violations(&direct), field_violations(&through));
    assert_eq!(through.len(), 1);
    // Each path names the field of its own request, in identical words.
    assert_eq!(through[0].0, "localities[0].vneid_level2_activated");
    assert_eq!(direct[0].0, "observations[1].value");
    assert_eq!(through[0].1, direct[0].1);
    assert_eq!(t.report_count().await, 0);
}

/// 150 observations of communes that do not exist.
fn invalid_communes(n: usize) -> Vec<Observation> {
    (0..n)
        .map(|i| obs("vneid.l2.activated", &format!("9{i:04}"), 1.0))
        .collect()
}

#[tokio::test]
async fn many_invalid_communes_give_bounded_details_directly_and_through_the_police_service() {
    let t = TestAggregator::start().await;
    let police_svc = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let token = t.keys.reporter(Agency::Police);
    let mut ingest = t.ingest().await;
    let mut police = PoliceReportingServiceClient::new(channel(&police_svc).await);

    let status = ingest
        .submit_report(authed(
            police_report("communes", invalid_communes(150)),
            &token,
        ))
        .await
        .unwrap_err();
    assert_bounded(&status, 150, "150 communes, direct");
    let first = &field_violations(&status)[0];
    assert_eq!(first.0, "observations[0].locality_code");
    assert!(
        first.1.starts_with("\"90000\" is not a locality"),
        "{first:?}"
    );

    let figures = (0..150)
        .map(|i| IdentityFigures {
            locality_code: format!("9{i:04}"),
            vneid_level2_activated: Some(1),
            ..Default::default()
        })
        .collect();
    let through = police
        .submit_identity_report(authed(identity("communes", figures), &token))
        .await
        .unwrap_err();
    assert_bounded(&through, 150, "150 communes, through police");
    // Passed through intact: the aggregator's own violations.
    assert_eq!(field_violations(&through), field_violations(&status));
    assert_eq!(t.report_count().await, 0);
}

#[tokio::test]
async fn one_huge_locality_code_is_echoed_as_a_short_prefix() {
    let t = TestAggregator::start().await;
    let police_svc = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let token = t.keys.reporter(Agency::Police);
    let huge = "9".repeat(20 * 1024);

    let direct = t
        .ingest()
        .await
        .submit_report(authed(
            police_report("huge", vec![obs("vneid.l2.activated", &huge, 1.0)]),
            &token,
        ))
        .await
        .unwrap_err();
    let through = PoliceReportingServiceClient::new(channel(&police_svc).await)
        .submit_identity_report(authed(
            identity(
                "huge",
                vec![IdentityFigures {
                    locality_code: huge.clone(),
                    vneid_level2_activated: Some(1),
                    ..Default::default()
                }],
            ),
            &token,
        ))
        .await
        .unwrap_err();
    for (status, what) in [(&direct, "direct"), (&through, "through police")] {
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{what}: {}",
            status.message()
        );
        assert_bounded_size(status, what);
        let violations = field_violations(status);
        assert_eq!(violations.len(), 1, "{what}");
        assert_eq!(violations[0].0, "observations[0].locality_code");
        assert!(
            violations[0]
                .1
                .starts_with(&format!("\"{}…\" is not a locality", "9".repeat(40))),
            "{what}: {}",
            violations[0].1
        );
        assert!(status.message().len() < 400, "{what}");
    }
    assert_eq!(t.report_count().await, 0);
}

#[tokio::test]
async fn fifty_thousand_bad_observations_give_bounded_details() {
    let t = TestAggregator::start().await;
    let police_svc = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let token = t.keys.reporter(Agency::Police);
    let n = p06_domain::report::MAX_OBSERVATIONS;

    // Unknown localities, each a violation of the aggregator.
    let direct = t
        .ingest()
        .await
        .submit_report(authed(police_report("50k", invalid_communes(n)), &token))
        .await
        .unwrap_err();
    assert_bounded(&direct, n, "50,000 unknown localities, direct");

    let figures = |value: i64| -> Vec<IdentityFigures> {
        (0..n)
            .map(|i| IdentityFigures {
                locality_code: format!("9{i:05}"),
                vneid_level2_activated: Some(value),
                ..Default::default()
            })
            .collect()
    };
    let mut police = PoliceReportingServiceClient::new(channel(&police_svc).await);
    // Forwarded, refused by the aggregator, passed through.
    let through = police
        .submit_identity_report(authed(identity("50k", figures(1)), &token))
        .await
        .unwrap_err();
    assert_bounded(&through, n, "50,000 unknown localities, through police");
    // Refused by the police service itself (negative counts).
    let own = police
        .submit_identity_report(authed(identity("50k-neg", figures(-1)), &token))
        .await
        .unwrap_err();
    assert_bounded(&own, n, "50,000 negative counts, police");
    assert_eq!(t.report_count().await, 0);
}

#[tokio::test]
async fn a_nul_in_a_narrative_is_invalid_argument_naming_the_field() {
    let t = TestAggregator::start().await;
    let police_svc = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let token = t.keys.reporter(Agency::Police);
    let mut ingest = t.ingest().await;

    for field in ["assessment", "obstacles", "proposals"] {
        let mut narrative = Narrative {
            assessment: "Đạt 40,8 %.\nTốt.".into(),
            obstacles: "Thiếu\tthiết bị.\r\n".into(),
            proposals: "Bổ sung.".into(),
        };
        let text = match field {
            "assessment" => &mut narrative.assessment,
            "obstacles" => &mut narrative.obstacles,
            _ => &mut narrative.proposals,
        };
        text.push('\0');
        let mut request = police_report(
            &format!("nul-{field}"),
            vec![obs("vneid.l2.activated", HA_DONG, 1.0)],
        );
        request.narrative = Some(narrative.clone());
        let status = ingest
            .submit_report(authed(request, &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        let violations = field_violations(&status);
        assert_eq!(violations[0].0, format!("narrative.{field}"));
        assert!(violations[0].1.contains("U+0000"), "{violations:?}");

        let mut report = identity(
            &format!("nul-{field}"),
            vec![IdentityFigures {
                locality_code: HA_DONG.into(),
                vneid_level2_activated: Some(1),
                ..Default::default()
            }],
        );
        report.narrative = Some(narrative);
        let through = PoliceReportingServiceClient::new(channel(&police_svc).await)
            .submit_identity_report(authed(report, &token))
            .await
            .unwrap_err();
        assert_eq!(
            through.code(),
            Code::InvalidArgument,
            "{field}: {through:?}"
        );
        assert_eq!(
            field_violations(&through)[0].0,
            format!("narrative.{field}")
        );
    }
    // Other control characters too; tab, line feed and carriage return are text.
    let mut request = police_report("esc", vec![obs("vneid.l2.activated", HA_DONG, 1.0)]);
    request.narrative.as_mut().unwrap().proposals = "\u{1b}[31mĐỏ".into();
    let status = ingest
        .submit_report(authed(request, &token))
        .await
        .unwrap_err();
    assert_eq!(field_violations(&status)[0].0, "narrative.proposals");
    // A NUL in the obligation code would reach a query.
    let mut request = police_report("nul-obl", vec![obs("vneid.l2.activated", HA_DONG, 1.0)]);
    request.obligation = "police-weekly\0".into();
    let status = ingest
        .submit_report(authed(request, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(field_violations(&status)[0].0, "obligation");
    assert_eq!(t.report_count().await, 0);

    let mut request = police_report("fine", vec![obs("vneid.l2.activated", HA_DONG, 1.0)]);
    request.narrative.as_mut().unwrap().assessment = "Đạt 40,8 %.\n\tTốt.\r\n".into();
    ingest.submit_report(authed(request, &token)).await.unwrap();
    assert_eq!(t.report_count().await, 1);
}

/// The code and the fields named by a refusal.
fn code_of<T>(result: Result<T, Status>) -> (Code, Vec<String>) {
    let Err(status) = result else {
        panic!("the call must be refused")
    };
    let fields = field_violations(&status)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    (status.code(), fields)
}

#[tokio::test]
async fn control_characters_and_overlong_text_in_admin_and_query_inputs_are_invalid_argument() {
    let t = TestAggregator::start().await;
    let admin = t.keys.admin();
    let viewer = t.keys.viewer();
    let channel = t.channel().await;
    let mut catalog = t.catalog().await;
    let mut admin_client = AdminServiceClient::new(channel.clone());
    let mut taskforce = TaskForceServiceClient::new(channel);
    let invalid = |field: &str| (Code::InvalidArgument, vec![field.to_string()]);

    let target = Target {
        indicator_code: "vneid.l2.activated".into(),
        locality: Some(LocalityRef {
            edition: EDITION.into(),
            code: HA_DONG.into(),
        }),
        due_date: Some(p06_kit::convert::date_to_proto(date("2025-06-30"))),
        value: 2_068.0,
        update_time: None,
    };
    for request_id in ["t\0-1".to_string(), "x".repeat(129)] {
        let r = catalog
            .upsert_targets(authed(
                UpsertTargetsRequest {
                    request_id,
                    targets: vec![target.clone()],
                },
                &admin,
            ))
            .await;
        assert_eq!(code_of(r), invalid("request_id"));
    }
    let r = catalog
        .list_targets(authed(
            ListTargetsRequest {
                province: province(GIA_LAI),
                indicator_code: "vneid\0".into(),
                ..Default::default()
            },
            &viewer,
        ))
        .await;
    assert_eq!(code_of(r), invalid("indicator_code"));
    for (kind, state, field) in [("VAGUE\0", "", "kind"), ("", "OPEN\0", "state")] {
        let r = taskforce
            .list_flags(authed(
                ListFlagsRequest {
                    province: province(GIA_LAI),
                    kind: kind.into(),
                    state: state.into(),
                    ..Default::default()
                },
                &viewer,
            ))
            .await;
        assert_eq!(code_of(r), invalid(field));
    }
    let r = taskforce
        .watch_flags(authed(
            WatchFlagsRequest {
                province: province(GIA_LAI),
                kind: "LATE\0".into(),
                ..Default::default()
            },
            &viewer,
        ))
        .await;
    assert_eq!(code_of(r.map(|_| ())), invalid("kind"));
    for (reason, obligation, field) in [
        ("Họp\0", "", "reason"),
        ("Họp", "police-weekly-identity\0", "obligation"),
    ] {
        let r = admin_client
            .lock_period(authed(
                LockPeriodRequest {
                    request_id: "lock-1".into(),
                    province: province(GIA_LAI),
                    period: period("2025-03-10", "2025-03-16"),
                    agency: String::new(),
                    obligation: obligation.into(),
                    reason: reason.into(),
                },
                &admin,
            ))
            .await;
        assert_eq!(code_of(r), invalid(field));
    }
    let spec = |code: &str, name: &str| {
        serde_json::json!({
            "code": code,
            "agency": "police",
            "name": name,
            "indicators": ["vneid.l2.activated"],
            "level": "commune",
            "provinces": [format!("{EDITION}/{GIA_LAI}")],
            "cadence": {"kind": "weekly", "first_weekday": "mon"},
            "deadline": {"days": 2, "count": "working", "at": "17:00:00"},
        })
        .to_string()
    };
    for (code, name, field) in [
        ("police-nul\0", "Báo cáo", "code"),
        ("police-nul", "Báo cáo\0", "name"),
    ] {
        let r = admin_client
            .upsert_obligation(authed(
                UpsertObligationRequest {
                    request_id: "obl-1".into(),
                    spec_json: spec(code, name),
                },
                &admin,
            ))
            .await;
        let (code, fields) = code_of(r);
        assert_eq!(code, Code::InvalidArgument, "{field}: {fields:?}");
        assert!(fields.contains(&field.to_string()), "{field}: {fields:?}");
    }
    assert_eq!(t.count("target").await, 0);
    assert_eq!(t.count("period_lock").await, 0);
    assert_eq!(t.count_where("obligation", "code = 'police-nul'").await, 0);
}
