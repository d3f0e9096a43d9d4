//! Revision modes against the real aggregator (SQLite, and PostgreSQL when configured): REPLACE
//! makes a revision the whole report; AMEND carries forward every figure of the earlier revision it
//! does not name, marked with the revision that sent it, so that reads, roll-ups and the compliance
//! rules see exactly what a full report would have given them.

use p06_aggregator::store::queries::TotalsRequest;
use p06_auth::Agency;
use p06_domain::locality::Edition;
use p06_kit::status::field_violations;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    GetConsolidatedStatusRequest, GetReportRequest, Observation, Receipt, Report, RevisionMode,
    SubmitReportRequest,
};
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed, start_agency};
use tonic::Code;

/// A second commune of Gia Lai (edition 2024).
const IA_KHA: &str = "23695";

fn report(
    request_id: &str,
    mode: RevisionMode,
    figures: &[(&str, &str, f64)],
) -> SubmitReportRequest {
    SubmitReportRequest {
        mode: mode.into(),
        ..police_report(
            request_id,
            figures.iter().map(|(i, l, v)| obs(i, l, *v)).collect(),
        )
    }
}

async fn submit(t: &TestAggregator, request: SubmitReportRequest) -> Receipt {
    t.ingest()
        .await
        .submit_report(authed(request, &t.keys.reporter(Agency::Police)))
        .await
        .unwrap()
        .into_inner()
}

async fn get(t: &TestAggregator, name: &str) -> Report {
    t.ingest()
        .await
        .get_report(authed(
            GetReportRequest { name: name.into() },
            &t.keys.reporter(Agency::Police),
        ))
        .await
        .unwrap()
        .into_inner()
}

/// (indicator, locality, value, carried_from) of a stored revision, sorted.
fn figures(report: &Report) -> Vec<(String, String, f64, String)> {
    let mut out: Vec<_> = report
        .observations
        .iter()
        .map(|o: &Observation| {
            (
                o.indicator_code.clone(),
                o.locality_code.clone(),
                o.value,
                o.carried_from.clone(),
            )
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

fn figure(
    indicator: &str,
    locality: &str,
    value: f64,
    carried_from: &str,
) -> (String, String, f64, String) {
    (
        indicator.into(),
        locality.into(),
        value,
        carried_from.into(),
    )
}

/// The read model: (indicator, locality id, period end, value), sorted.
async fn latest_values(t: &TestAggregator) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let db = t.aggregator.state.store.connection();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT indicator_code, locality_id, value FROM latest_value \
             ORDER BY indicator_code, locality_id"
                .to_owned(),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r.try_get::<String>("", "indicator_code").unwrap(),
                r.try_get::<i64>("", "locality_id").unwrap(),
                r.try_get::<f64>("", "value").unwrap()
            )
        })
        .collect()
}

/// Every maintained total of Gia Lai's units with units below them, and of the country.
async fn totals(t: &TestAggregator) -> Vec<String> {
    let state = &t.aggregator.state;
    let catalog = &state.catalog;
    let p = catalog.province(Edition::E2024, GIA_LAI).unwrap();
    let mut ids: Vec<i64> = catalog
        .in_province(p.id)
        .filter(|l| catalog.has_children(l.id))
        .map(|l| l.id)
        .collect();
    ids.push(Edition::E2024.country_id());
    let codes: Vec<String> = catalog
        .indicators()
        .iter()
        .map(|i| i.code.clone())
        .collect();
    let rows = state
        .store
        .rollup_totals(
            catalog,
            &TotalsRequest {
                localities: &ids,
                indicators: &codes,
                as_of: date("2025-03-16"),
                flow_from: date("2025-01-01"),
                flows: &[],
                flow_reports_of: &ids,
            },
        )
        .await
        .unwrap();
    let mut out: Vec<String> = rows
        .into_iter()
        .filter(|(_, t)| t.units > 0)
        .map(|((id, code), t)| format!("{id} {code} {t:?}"))
        .collect();
    out.sort();
    out
}

async fn consolidated(t: &TestAggregator) -> p06_proto::aggregation::ConsolidatedStatus {
    TaskForceServiceClient::new(t.channel().await)
        .get_consolidated_status(authed(
            GetConsolidatedStatusRequest {
                locality: province(GIA_LAI),
                as_of: Some(p06_kit::convert::date_to_proto(date("2025-03-16"))),
                ..Default::default()
            },
            &t.keys.viewer(),
        ))
        .await
        .unwrap()
        .into_inner()
}

/// What a revision leaves behind: read model, roll-ups (checked equal to a rebuild), the task
/// force's consolidated status.
async fn outcome(t: &TestAggregator) -> (Vec<String>, Vec<String>, String) {
    let values = latest_values(t).await;
    let kept = totals(t).await;
    let state = &t.aggregator.state;
    let gia_lai = state.catalog.province(Edition::E2024, GIA_LAI).unwrap().id;
    state
        .store
        .rebuild_rollups(&state.catalog, gia_lai)
        .await
        .unwrap();
    assert_eq!(kept, totals(t).await, "maintained roll-ups equal a rebuild");
    (values, kept, format!("{:?}", consolidated(t).await))
}

const FIRST: &[(&str, &str, f64)] = &[
    ("residents.permanent", HA_DONG, 5_908.0),
    ("vneid.l2.created", HA_DONG, 150.0),
    ("vneid.l2.activated", HA_DONG, 109.0),
    ("vneid.l2.created", IA_KHA, 1_200.0),
    ("vneid.l2.activated", IA_KHA, 1_000.0),
];

/// The headline case: a correction of one commune's one figure. The amended series reads, rolls up
/// and is judged exactly as the same correction sent as a full REPLACE report; the carried figures
/// say which revision sent them.
#[tokio::test(flavor = "multi_thread")]
async fn an_amendment_keeps_what_it_does_not_name_exactly_as_a_full_report_would() {
    let amended = TestAggregator::start().await;
    let first = submit(&amended, report("r-1", RevisionMode::Replace, FIRST)).await;
    let correction = [("vneid.l2.activated", HA_DONG, 120.0)];
    let receipt = submit(&amended, report("r-2", RevisionMode::Amend, &correction)).await;
    assert_eq!(receipt.revision, 2);
    assert_eq!(receipt.mode(), RevisionMode::Amend);
    assert_eq!(receipt.carried_observations, 4);

    let full_copy: Vec<(&str, &str, f64)> = FIRST
        .iter()
        .map(|&(i, l, v)| {
            if (i, l) == (correction[0].0, correction[0].1) {
                (i, l, 120.0)
            } else {
                (i, l, v)
            }
        })
        .collect();
    let replaced = TestAggregator::start().await;
    submit(&replaced, report("r-1", RevisionMode::Replace, FIRST)).await;
    let full = submit(&replaced, report("r-2", RevisionMode::Replace, &full_copy)).await;
    assert_eq!(full.mode(), RevisionMode::Replace);
    assert_eq!(full.carried_observations, 0);

    // The compliance rules judged the same report: same score, reasons and flags.
    assert_eq!(receipt.specificity_score, full.specificity_score);
    assert_eq!(receipt.specificity_reasons, full.specificity_reasons);
    let kinds = |r: &Receipt| {
        r.flags
            .iter()
            .map(|f| (f.kind.clone(), f.message.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds(&receipt), kinds(&full));
    assert_eq!(receipt.timeliness, full.timeliness);
    // The payload is what was sent, mode included: one figure, not five, and not a REPLACE's hash.
    assert_ne!(receipt.payload_sha256, full.payload_sha256);

    let (values, rollups, status) = outcome(&amended).await;
    assert_eq!(values.len(), 5);
    assert_eq!((values, rollups, status), outcome(&replaced).await);

    // The stored revision holds the merged report; the audit says where each figure came from.
    let stored = get(&amended, &receipt.report).await;
    assert_eq!(
        figures(&stored),
        [
            figure("residents.permanent", HA_DONG, 5_908.0, &first.report),
            figure("vneid.l2.activated", HA_DONG, 120.0, ""),
            figure("vneid.l2.activated", IA_KHA, 1_000.0, &first.report),
            figure("vneid.l2.created", HA_DONG, 150.0, &first.report),
            figure("vneid.l2.created", IA_KHA, 1_200.0, &first.report),
        ]
    );
    assert_eq!(stored.receipt.unwrap().mode(), RevisionMode::Amend);
    // The earlier revision is untouched.
    assert_eq!(figures(&get(&amended, &first.report).await).len(), 5);
    assert_eq!(amended.carried_figure_count().await, 4);
}

/// An amendment may name a commune the earlier revision did not have: it is added, the rest kept.
#[tokio::test(flavor = "multi_thread")]
async fn an_amendment_may_add_a_commune_the_earlier_revision_did_not_name() {
    let t = TestAggregator::start().await;
    let first = submit(
        &t,
        report(
            "r-1",
            RevisionMode::Replace,
            &[("vneid.l2.activated", HA_DONG, 109.0)],
        ),
    )
    .await;
    let receipt = submit(
        &t,
        report(
            "r-2",
            RevisionMode::Amend,
            &[("vneid.l2.activated", IA_KHA, 1_000.0)],
        ),
    )
    .await;
    assert_eq!((receipt.revision, receipt.carried_observations), (2, 1));
    assert_eq!(
        figures(&get(&t, &receipt.report).await),
        [
            figure("vneid.l2.activated", HA_DONG, 109.0, &first.report),
            figure("vneid.l2.activated", IA_KHA, 1_000.0, ""),
        ]
    );
    let status = consolidated(&t).await;
    let activated = status
        .indicators
        .iter()
        .find(|i| i.indicator_code == "vneid.l2.activated")
        .unwrap();
    assert_eq!(activated.value, Some(1_109.0));
    assert_eq!(activated.localities_reporting, 2);
    outcome(&t).await;
}

/// REPLACE drops what it leaves out; an AMEND after it starts from the replacement, not from the
/// first revision; a figure carried twice names the revision that sent it.
#[tokio::test(flavor = "multi_thread")]
async fn an_amendment_after_a_replacement_carries_only_what_the_replacement_kept() {
    let t = TestAggregator::start().await;
    submit(&t, report("r-1", RevisionMode::Replace, FIRST)).await;
    let replaced = submit(
        &t,
        report(
            "r-2",
            RevisionMode::Unspecified,
            &[("vneid.l2.activated", HA_DONG, 150.0)],
        ),
    )
    .await;
    // Unset is REPLACE, and says so on the receipt.
    assert_eq!(replaced.mode(), RevisionMode::Replace);
    assert_eq!(latest_values(&t).await.len(), 1);

    let amended = submit(
        &t,
        report(
            "r-3",
            RevisionMode::Amend,
            &[("vneid.l2.created", HA_DONG, 200.0)],
        ),
    )
    .await;
    assert_eq!((amended.revision, amended.carried_observations), (3, 1));
    assert_eq!(
        figures(&get(&t, &amended.report).await),
        [
            figure("vneid.l2.activated", HA_DONG, 150.0, &replaced.report),
            figure("vneid.l2.created", HA_DONG, 200.0, ""),
        ]
    );
    let again = submit(
        &t,
        report(
            "r-4",
            RevisionMode::Amend,
            &[("vneid.l2.activated", IA_KHA, 5.0)],
        ),
    )
    .await;
    assert_eq!(
        figures(&get(&t, &again.report).await),
        [
            figure("vneid.l2.activated", HA_DONG, 150.0, &replaced.report),
            figure("vneid.l2.activated", IA_KHA, 5.0, ""),
            figure("vneid.l2.created", HA_DONG, 200.0, &amended.report),
        ]
    );
    assert_eq!(latest_values(&t).await.len(), 3);
    outcome(&t).await;
}

/// A retried amendment is answered from its receipt and writes nothing, even though the series
/// now ends with it; the same request id as a REPLACE is another payload and is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_retried_amendment_is_answered_from_its_receipt() {
    let t = TestAggregator::start().await;
    submit(&t, report("r-1", RevisionMode::Replace, FIRST)).await;
    let amend = || {
        report(
            "r-2",
            RevisionMode::Amend,
            &[("vneid.l2.activated", HA_DONG, 120.0)],
        )
    };
    let receipt = submit(&t, amend()).await;
    let (reports, observations) = (t.report_count().await, t.figure_count().await);
    let retry = submit(&t, amend()).await;
    assert!(retry.replayed);
    assert_eq!(
        (
            retry.report.as_str(),
            retry.revision,
            retry.payload_sha256.as_str()
        ),
        (receipt.report.as_str(), 2, receipt.payload_sha256.as_str())
    );
    assert_eq!(
        (retry.mode(), retry.carried_observations),
        (RevisionMode::Amend, 4)
    );
    assert_eq!(t.report_count().await, reports);
    assert_eq!(t.figure_count().await, observations);

    let status = t
        .ingest()
        .await
        .submit_report(authed(
            report(
                "r-2",
                RevisionMode::Replace,
                &[("vneid.l2.activated", HA_DONG, 120.0)],
            ),
            &t.keys.reporter(Agency::Police),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert_eq!(t.report_count().await, reports);
}

/// With nothing to amend, an AMEND is a normal first report: same figures, timeliness and
/// judgement as a REPLACE; only its payload (the mode line) differs.
#[tokio::test(flavor = "multi_thread")]
async fn an_amendment_as_first_report_is_a_normal_first_report() {
    let amended = TestAggregator::start().await;
    let a = submit(&amended, report("r-1", RevisionMode::Amend, FIRST)).await;
    let replaced = TestAggregator::start().await;
    let r = submit(&replaced, report("r-1", RevisionMode::Replace, FIRST)).await;
    assert_eq!(
        (a.revision, a.carried_observations, a.mode()),
        (1, 0, RevisionMode::Amend)
    );
    assert_eq!(
        (a.timeliness, a.specificity_score, a.flags.len()),
        (r.timeliness, r.specificity_score, r.flags.len())
    );
    assert_ne!(a.payload_sha256, r.payload_sha256);
    assert_eq!(outcome(&amended).await, outcome(&replaced).await);
    assert_eq!(amended.carried_figure_count().await, 0);
}

/// The merged figures keep the rule book: an activated count above the carried created count is
/// refused, naming the earlier revision, and nothing is stored.
#[tokio::test(flavor = "multi_thread")]
async fn an_amendment_that_breaks_a_rule_with_the_carried_figures_is_refused() {
    let t = TestAggregator::start().await;
    let first = submit(&t, report("r-1", RevisionMode::Replace, FIRST)).await;
    let status = t
        .ingest()
        .await
        .submit_report(authed(
            report(
                "r-2",
                RevisionMode::Amend,
                &[("vneid.l2.activated", HA_DONG, 160.0)],
            ),
            &t.keys.reporter(Agency::Police),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let violations = field_violations(&status);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].0, "observations");
    assert!(violations[0].1.contains(&first.report), "{violations:?}");
    assert!(
        violations[0]
            .1
            .contains("vneid.l2.activated (160) must not exceed vneid.l2.created (150)"),
        "{violations:?}"
    );
    assert_eq!(t.report_count().await, 1);
}

/// The three agency services forward the mode; their receipts say what was carried.
#[tokio::test(flavor = "multi_thread")]
async fn the_agency_services_forward_the_mode() {
    use p06_proto::health::health_reporting_service_client::HealthReportingServiceClient;
    use p06_proto::health::{HealthFigures, SubmitHealthReportRequest};
    use p06_proto::justice::justice_reporting_service_client::JusticeReportingServiceClient;
    use p06_proto::justice::{CivilStatusFigures, SubmitCivilStatusReportRequest};
    use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
    use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};
    use tonic::transport::Channel;

    let t = TestAggregator::start().await;
    let connect =
        |url: String| async move { Channel::from_shared(url).unwrap().connect().await.unwrap() };
    let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let health = start_agency(&t.keys, t.running.url(), Agency::Health).await;
    let justice = start_agency(&t.keys, t.running.url(), Agency::Justice).await;

    let mut client = PoliceReportingServiceClient::new(connect(police.url()).await);
    let token = t.keys.reporter(Agency::Police);
    let identity = |id: &str, mode: RevisionMode, localities| SubmitIdentityReportRequest {
        request_id: id.into(),
        obligation: "police-weekly-identity".into(),
        province: province(GIA_LAI),
        period: period("2025-03-10", "2025-03-16"),
        localities,
        mode: mode.into(),
        ..Default::default()
    };
    let both = vec![
        IdentityFigures {
            locality_code: HA_DONG.into(),
            vneid_level2_created: Some(150),
            vneid_level2_activated: Some(109),
            ..Default::default()
        },
        IdentityFigures {
            locality_code: IA_KHA.into(),
            vneid_level2_activated: Some(1_000),
            ..Default::default()
        },
    ];
    client
        .submit_identity_report(authed(identity("p-1", RevisionMode::Replace, both), &token))
        .await
        .unwrap();
    let one = vec![IdentityFigures {
        locality_code: HA_DONG.into(),
        vneid_level2_activated: Some(120),
        ..Default::default()
    }];
    let receipt = client
        .submit_identity_report(authed(identity("p-2", RevisionMode::Amend, one), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (receipt.mode(), receipt.carried_observations),
        (RevisionMode::Amend, 2)
    );

    let mut client = HealthReportingServiceClient::new(connect(health.url()).await);
    let token = t.keys.reporter(Agency::Health);
    let health_report =
        |id: &str, mode: RevisionMode, figures: HealthFigures| SubmitHealthReportRequest {
            request_id: id.into(),
            obligation: "health-weekly".into(),
            province: province(GIA_LAI),
            period: period("2025-03-10", "2025-03-16"),
            localities: vec![figures],
            mode: mode.into(),
            ..Default::default()
        };
    for (id, mode, figures) in [
        (
            "h-1",
            RevisionMode::Replace,
            HealthFigures {
                locality_code: HA_DONG.into(),
                bhyt_cards_integrated: Some(900),
                social_security_accounts: Some(50),
                ..Default::default()
            },
        ),
        (
            "h-2",
            RevisionMode::Amend,
            HealthFigures {
                locality_code: HA_DONG.into(),
                bhyt_cards_integrated: Some(950),
                ..Default::default()
            },
        ),
    ] {
        let receipt = client
            .submit_health_report(authed(health_report(id, mode, figures), &token))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(receipt.mode(), mode, "{id}");
        assert_eq!(receipt.carried_observations, i32::from(id == "h-2"), "{id}");
    }

    let mut client = JusticeReportingServiceClient::new(connect(justice.url()).await);
    let token = t.keys.reporter(Agency::Justice);
    let civil = |id: &str, mode: RevisionMode, figures: CivilStatusFigures| {
        SubmitCivilStatusReportRequest {
            request_id: id.into(),
            obligation: "justice-weekly".into(),
            province: province(GIA_LAI),
            period: period("2025-03-10", "2025-03-16"),
            localities: vec![figures],
            mode: mode.into(),
            ..Default::default()
        }
    };
    for (id, mode, figures) in [
        (
            "j-1",
            RevisionMode::Replace,
            CivilStatusFigures {
                locality_code: HA_DONG.into(),
                records_backlog: Some(1_000),
                records_digitized: Some(400),
                ..Default::default()
            },
        ),
        (
            "j-2",
            RevisionMode::Amend,
            CivilStatusFigures {
                locality_code: HA_DONG.into(),
                records_digitized: Some(450),
                ..Default::default()
            },
        ),
    ] {
        let receipt = client
            .submit_civil_status_report(authed(civil(id, mode, figures), &token))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(receipt.mode(), mode, "{id}");
        assert_eq!(receipt.carried_observations, i32::from(id == "j-2"), "{id}");
    }
    let _ = (police, health, justice);
}

/// Two amendments of one series at once, each naming another commune: whichever lands second is
/// merged with the first (re-merged if the first landed meanwhile), so the last revision holds both.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_amendments_each_keep_the_others_figure() {
    let t = TestAggregator::start().await;
    submit(&t, report("r-1", RevisionMode::Replace, FIRST)).await;
    let (a, b) = tokio::join!(
        submit(
            &t,
            report(
                "r-a",
                RevisionMode::Amend,
                &[("vneid.l2.activated", HA_DONG, 120.0)]
            )
        ),
        submit(
            &t,
            report(
                "r-b",
                RevisionMode::Amend,
                &[("vneid.l2.activated", IA_KHA, 1_100.0)]
            )
        ),
    );
    let mut revisions = [a.revision, b.revision];
    revisions.sort();
    assert_eq!(revisions, [2, 3]);
    let last = if a.revision == 3 { &a } else { &b };
    let values: Vec<(String, String, f64)> = figures(&get(&t, &last.report).await)
        .into_iter()
        .filter(|f| f.0 == "vneid.l2.activated")
        .map(|(i, l, v, _)| (i, l, v))
        .collect();
    assert_eq!(
        values,
        [
            ("vneid.l2.activated".into(), HA_DONG.into(), 120.0),
            ("vneid.l2.activated".into(), IA_KHA.into(), 1_100.0),
        ]
    );
    outcome(&t).await;
}
