//! The task-force queries over a full province: every real commune of Gia Lai (edition 2024) with
//! targets, residents and several periods from all three agencies. Every figure is checked against
//! values computed here, independently, from the raw input.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use p06_auth::Agency;
use p06_domain::locality::{Edition, Level, Locality};
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    GetComplianceBoardRequest, GetConsolidatedStatusRequest, GetStatusTrendRequest,
    ListFlagsRequest, ListLocalityProgressRequest, LocalityLevel, Observation, SubmitReportRequest,
    SummarizeChildrenRequest, Target, UpsertTargetsRequest,
};
use p06_proto::common::LocalityRef;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed};
use tonic::transport::Channel;

/// Synthetic but varied figures per commune; every 11th commune never reports.
struct Commune {
    locality: Locality,
    residents: f64,
    target: f64,
    activated: [f64; 2],
    online: [f64; 2],
    reports: bool,
}

fn communes(t: &TestAggregator) -> Vec<Commune> {
    let catalog = &t.aggregator.state.catalog;
    let province = catalog.province(Edition::E2024, GIA_LAI).unwrap();
    let mut all: Vec<&Locality> = catalog
        .in_province(province.id)
        .filter(|l| l.level == Level::Commune)
        .collect();
    all.sort_by(|a, b| a.code.cmp(&b.code));
    all.into_iter()
        .enumerate()
        .map(|(i, l)| {
            let residents = 2_000.0 + ((i * 37) % 9_000) as f64;
            let first = (residents * (((i * 13) % 60) as f64 + 5.0) / 100.0).floor();
            Commune {
                locality: l.clone(),
                residents,
                target: (residents * 0.5).round(),
                activated: [first, first + ((i % 7) * 3) as f64],
                online: [(i % 9) as f64, (i % 5) as f64],
                reports: i % 11 != 0,
            }
        })
        .collect()
}

const WEEKS: [(&str, &str); 2] = [("2025-03-10", "2025-03-16"), ("2025-03-17", "2025-03-23")];

fn report(
    agency: &str,
    obligation: &str,
    week: usize,
    observations: Vec<Observation>,
) -> SubmitReportRequest {
    let mut r = police_report(&format!("{agency}-{week}"), observations);
    r.agency = agency.into();
    r.obligation = obligation.into();
    r.period = period(WEEKS[week].0, WEEKS[week].1);
    r
}

async fn load(t: &TestAggregator, data: &[Commune]) {
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let mut ingest = t.ingest().await;
    let targets = data
        .iter()
        .map(|c| Target {
            indicator_code: "vneid.l2.activated".into(),
            locality: Some(LocalityRef {
                edition: EDITION.into(),
                code: c.locality.code.clone(),
            }),
            due_date: Some(date_to_proto(date("2025-03-31"))),
            value: c.target,
            update_time: None,
        })
        .collect();
    t.catalog()
        .await
        .upsert_targets(authed(
            UpsertTargetsRequest {
                request_id: "targets".into(),
                targets,
            },
            &t.keys.admin(),
        ))
        .await
        .unwrap();
    let reporting = || data.iter().filter(|c| c.reports);
    let police = t.keys.reporter(Agency::Police);
    for (week, when) in [(0, "2025-03-18T09:00:00Z"), (1, "2025-03-26T10:00:00Z")] {
        t.clock.set(at(when));
        let mut observations: Vec<Observation> = reporting()
            .map(|c| obs("vneid.l2.activated", &c.locality.code, c.activated[week]))
            .collect();
        if week == 0 {
            // Residents only in the first week: the stock rule carries them forward.
            observations.extend(
                reporting().map(|c| obs("residents.permanent", &c.locality.code, c.residents)),
            );
        }
        ingest
            .submit_report(authed(
                report("police", "police-weekly-identity", week, observations),
                &police,
            ))
            .await
            .unwrap();
    }
    t.clock.set(at("2025-03-18T05:00:00Z"));
    let health = t.keys.reporter(Agency::Health);
    let observations = reporting()
        .map(|c| obs("bhyt.cards.integrated", &c.locality.code, c.residents / 2.0))
        .collect();
    ingest
        .submit_report(authed(
            report("health", "health-weekly", 0, observations),
            &health,
        ))
        .await
        .unwrap();
    let justice = t.keys.reporter(Agency::Justice);
    for (week, when) in [(0, "2025-03-20T10:00:00Z"), (1, "2025-03-25T09:00:00Z")] {
        t.clock.set(at(when));
        let observations = reporting()
            .map(|c| {
                obs(
                    "civil_registration.online",
                    &c.locality.code,
                    c.online[week],
                )
            })
            .collect();
        let mut request = report("justice", "justice-weekly", week, observations);
        if week == 0 {
            // "Chung chung": no assessment, hedging, no figures.
            request.narrative = Some(p06_proto::common::Narrative {
                assessment: "Cơ bản hoàn thành".into(),
                obstacles: String::new(),
                proposals: "Tiếp tục tích cực triển khai".into(),
            });
        }
        ingest
            .submit_report(authed(request, &justice))
            .await
            .unwrap();
    }
    t.clock.set(at("2025-03-28T03:00:00Z"));
    p06_aggregator::compliance::sweep_missing(&t.aggregator.state, t.clock.now())
        .await
        .unwrap();
}

use p06_domain::clock::Clock;

fn pct(a: f64, b: f64) -> f64 {
    100.0 * a / b
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

async fn client(t: &TestAggregator) -> TaskForceServiceClient<Channel> {
    TaskForceServiceClient::new(t.channel().await)
}

#[tokio::test]
async fn consolidated_status_progress_children_and_compliance_match_the_raw_input() {
    let t = TestAggregator::start().await;
    let data = communes(&t);
    assert_eq!(data.len(), 218);
    load(&t, &data).await;
    let viewer = t.keys.viewer();
    let mut tf = client(&t).await;

    // --- GetConsolidatedStatus for the province -------------------------------------------------
    let status = tf
        .get_consolidated_status(authed(
            GetConsolidatedStatusRequest {
                locality: province(GIA_LAI),
                as_of: Some(date_to_proto(date("2025-03-23"))),
                indicator_codes: vec![
                    "vneid.l2.activated".into(),
                    "civil_registration.online".into(),
                    "health_book.integrated".into(),
                ],
                compare_to: Some(date_to_proto(date("2025-03-16"))),
                lowest_count: 5,
                flow_from: None,
                known_at: None,
                pace_weeks: 0,
                omit_pace: false,
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    // Known at an instant after every report: the same answer computed from the stored revisions
    // (stocks, a flow, the change, the lowest rows, the pace) as from the live read model.
    let known = tf
        .get_consolidated_status(authed(
            GetConsolidatedStatusRequest {
                locality: province(GIA_LAI),
                as_of: Some(date_to_proto(date("2025-03-23"))),
                indicator_codes: vec![
                    "vneid.l2.activated".into(),
                    "civil_registration.online".into(),
                    "health_book.integrated".into(),
                ],
                compare_to: Some(date_to_proto(date("2025-03-16"))),
                lowest_count: 5,
                known_at: Some(p06_kit::convert::timestamp(
                    "2030-01-01T00:00:00Z".parse().unwrap(),
                )),
                ..Default::default()
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(known, status);
    let activated = &status.indicators[0];
    let reporting: Vec<&Commune> = data.iter().filter(|c| c.reports).collect();
    let value: f64 = reporting.iter().map(|c| c.activated[1]).sum();
    let before: f64 = reporting.iter().map(|c| c.activated[0]).sum();
    let target: f64 = data.iter().map(|c| c.target).sum();
    let residents: f64 = reporting.iter().map(|c| c.residents).sum();
    assert_eq!(activated.value, Some(value));
    assert_eq!(activated.target, Some(target));
    assert!(close(
        activated.percent_of_target.unwrap(),
        pct(value, target)
    ));
    assert_eq!(activated.denominator_code, "residents.permanent");
    assert_eq!(activated.denominator_value, Some(residents));
    assert!(close(
        activated.percent_of_denominator.unwrap(),
        pct(value, residents)
    ));
    assert_eq!(activated.change, Some(value - before));
    let meeting = reporting
        .iter()
        .filter(|c| c.activated[1] >= c.target)
        .count() as i32;
    assert_eq!(
        (
            activated.localities_meeting_target,
            activated.localities_with_target
        ),
        (meeting, 218)
    );
    assert_eq!(
        (
            activated.localities_reporting,
            activated.localities_expected
        ),
        (reporting.len() as i32, 218)
    );
    assert_eq!(
        activated.localities_without_data,
        (218 - reporting.len()) as i32
    );
    assert!(close(
        activated.locality_completeness,
        reporting.len() as f64 / 218.0
    ));
    assert_eq!(activated.reports_included, 1, "the latest police revision");
    assert_eq!(
        activated.oldest_as_of,
        Some(date_to_proto(date("2025-03-23")))
    );
    let mut lowest: Vec<&&Commune> = reporting.iter().collect();
    lowest.sort_by(|a, b| {
        (a.activated[1] / a.target)
            .total_cmp(&(b.activated[1] / b.target))
            .then_with(|| a.locality.code.cmp(&b.locality.code))
    });
    let expected_lowest: Vec<&str> = lowest
        .iter()
        .take(5)
        .map(|c| c.locality.code.as_str())
        .collect();
    let got_lowest: Vec<&str> = activated
        .lowest
        .iter()
        .map(|r| r.locality.as_ref().unwrap().code.as_str())
        .collect();
    assert_eq!(got_lowest, expected_lowest);
    assert_eq!(activated.lowest[0].rank, 1);

    // Flows sum over the periods; an indicator nobody reported is "no data", not zero.
    let online = &status.indicators[1];
    assert_eq!(
        online.value,
        Some(reporting.iter().map(|c| c.online[0] + c.online[1]).sum())
    );
    assert_eq!(online.reports_included, 2);
    let nothing = &status.indicators[2];
    assert_eq!((nothing.value, nothing.localities_reporting), (None, 0));

    // --- ListLocalityProgress for one district ---------------------------------------------------
    let dak_doa: Vec<&Commune> = data
        .iter()
        .filter(|c| {
            c.locality.parent_id == p06_migrations::seed::locality_id(EDITION, "district", DAK_DOA)
        })
        .collect();
    assert_eq!(dak_doa.len(), 17);
    let below_half: Vec<&&Commune> = dak_doa
        .iter()
        .filter(|c| c.reports && c.activated[1] / c.target < 0.5)
        .collect();
    let listed = tf
        .list_locality_progress(authed(
            ListLocalityProgressRequest {
                indicator_code: "vneid.l2.activated".into(),
                parent: Some(LocalityRef {
                    edition: EDITION.into(),
                    code: DAK_DOA.into(),
                }),
                level: LocalityLevel::Commune as i32,
                below_percent: Some(50.0),
                as_of: Some(date_to_proto(date("2025-03-23"))),
                ..Default::default()
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total_size as usize, below_half.len());
    for row in &listed.rows {
        let code = &row.locality.as_ref().unwrap().code;
        let c = dak_doa.iter().find(|c| &c.locality.code == code).unwrap();
        assert_eq!(
            (row.value, row.target),
            (Some(c.activated[1]), Some(c.target))
        );
        assert!(close(
            row.percent_of_denominator.unwrap(),
            pct(c.activated[1], c.residents)
        ));
    }
    let ranks: Vec<i32> = listed.rows.iter().map(|r| r.rank).collect();
    assert!(
        ranks.windows(2).all(|w| w[0] < w[1]),
        "lowest first: {ranks:?}"
    );

    // --- SummarizeChildren: per district, communes below 50 % of target -------------------------
    let summary = tf
        .summarize_children(authed(
            SummarizeChildrenRequest {
                indicator_code: "vneid.l2.activated".into(),
                parent: province(GIA_LAI),
                threshold_percent: 50.0,
                as_of: Some(date_to_proto(date("2025-03-23"))),
                known_at: None,
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summary.children.len(), 17);
    let mut by_district: HashMap<i64, (i32, i32, i32, f64)> = HashMap::new();
    for c in &data {
        let e = by_district
            .entry(c.locality.parent_id.unwrap())
            .or_default();
        e.1 += 1;
        if !c.reports {
            e.2 += 1;
        } else {
            e.3 += c.activated[1];
            if c.activated[1] / c.target < 0.5 {
                e.0 += 1;
            }
        }
    }
    for child in &summary.children {
        let code = &child
            .child
            .as_ref()
            .unwrap()
            .locality
            .as_ref()
            .unwrap()
            .code;
        let id = p06_migrations::seed::locality_id(EDITION, "district", code).unwrap();
        let (below, total, no_data, sum) = by_district[&id];
        assert_eq!(
            (child.below_threshold, child.total, child.without_data),
            (below, total, no_data),
            "district {code}"
        );
        assert_eq!(
            child.child.as_ref().unwrap().value,
            (total > no_data).then_some(sum)
        );
    }

    // --- GetComplianceBoard -----------------------------------------------------------------------
    let board = tf
        .get_compliance_board(authed(
            GetComplianceBoardRequest {
                province: province(GIA_LAI),
                from: Some(date_to_proto(date("2025-03-10"))),
                to: Some(date_to_proto(date("2025-03-23"))),
                agency: String::new(),
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    let row = |code: &str| {
        board
            .obligations
            .iter()
            .find(|o| o.obligation == code)
            .unwrap()
            .clone()
    };
    let police = row("police-weekly-identity");
    // Week 1 on time (09:00Z before the 10:00Z deadline); week 2 one day late (due Tue 25th 17:00).
    assert_eq!(
        (
            police.expected,
            police.received,
            police.on_time,
            police.late,
            police.missing
        ),
        (2, 2, 1, 1, 0)
    );
    assert_eq!(police.worst_lateness.unwrap().seconds, 86_400);
    let health = row("health-weekly");
    assert_eq!(
        (
            health.expected,
            health.received,
            health.on_time,
            health.missing
        ),
        (2, 1, 1, 1)
    );
    assert!(close(health.reporting_rate, 0.5));
    let justice = row("justice-weekly");
    // Week 1 came Thursday 20th 17:00, two days after its deadline; week 2 before its deadline.
    assert_eq!((justice.received, justice.late, justice.on_time), (2, 1, 1));
    assert_eq!(justice.mean_lateness.unwrap().seconds, 2 * 86_400);
    assert_eq!(
        row("police-monthly-regime").missing,
        1,
        "15 Feb – 14 Mar was never reported"
    );
    // Police reports miss required indicators but assess with figures: specific enough. Justice's
    // first week hedges without an assessment: vague, with its reasons.
    assert_eq!((police.vague, justice.vague), (0, 1));
    let reasons: Vec<&str> = justice
        .top_vague_reasons
        .iter()
        .map(|r| r.code.as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "HEDGING_WITHOUT_FIGURES",
            "LOCALITIES_NOT_COVERED",
            "NO_ASSESSMENT"
        ]
    );
    let open_missing = board
        .open_flags
        .iter()
        .filter(|f| f.kind == "MISSING")
        .count();
    assert!(open_missing >= 2, "health week 2 and the monthly regime");

    let flags = tf
        .list_flags(authed(
            ListFlagsRequest {
                province: province(GIA_LAI),
                kind: "MISSING".into(),
                state: "OPEN".into(),
                agency: "health".into(),
                page_size: 0,
                page_token: String::new(),
                archived: false,
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner()
        .flags;
    assert!(
        flags
            .iter()
            .any(|f| f.period.as_ref().unwrap().start == Some(date_to_proto(date("2025-03-17"))))
    );
}

#[tokio::test]
async fn watch_flags_pushes_new_flags_as_they_are_raised() {
    let t = TestAggregator::start().await;
    let mut tf = client(&t).await;
    let mut stream = tf
        .watch_flags(authed(
            p06_proto::aggregation::WatchFlagsRequest {
                province: province(GIA_LAI),
                kind: "LATE".into(),
                include_open: false,
                after: String::new(),
            },
            &t.keys.viewer(),
        ))
        .await
        .unwrap()
        .into_inner();
    // Let the watcher take its first look, then raise a LATE flag (the default clock is past the deadline).
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    t.ingest()
        .await
        .submit_report(authed(
            police_report("late", vec![obs("vneid.l2.activated", HA_DONG, 1.0)]),
            &t.keys.reporter(Agency::Police),
        ))
        .await
        .unwrap();
    let flag = tokio::time::timeout(std::time::Duration::from_secs(10), stream.message())
        .await
        .expect("a flag within 10 s")
        .unwrap()
        .unwrap();
    assert_eq!(
        (flag.kind.as_str(), flag.obligation.as_str()),
        ("LATE", "police-weekly-identity")
    );

    // A reporter may not watch; another province's viewer neither.
    let status = tf
        .watch_flags(authed(
            p06_proto::aggregation::WatchFlagsRequest {
                province: province(GIA_LAI),
                ..Default::default()
            },
            &t.keys.reporter(Agency::Police),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
}

/// `GetStatusTrend` answers, at each of its dates, what `GetConsolidatedStatus` answers for that
/// date, for the province (maintained totals), a district and a commune (its own figure), stocks
/// and flows alike; and the raw input's sums week by week.
#[tokio::test]
async fn a_status_trend_equals_the_status_at_each_of_its_dates() {
    let t = TestAggregator::start().await;
    let data = communes(&t);
    load(&t, &data).await;
    let viewer = t.keys.viewer();
    let mut tf = client(&t).await;
    let codes = ["vneid.l2.activated", "civil_registration.online"];
    let dates = ["2025-03-09", "2025-03-16", "2025-03-23"];
    let commune = data.iter().find(|c| c.reports).unwrap();
    let places = [
        province(GIA_LAI),
        Some(LocalityRef {
            edition: EDITION.into(),
            code: DAK_DOA.into(),
        }),
        Some(LocalityRef {
            edition: EDITION.into(),
            code: commune.locality.code.clone(),
        }),
    ];
    for place in &places {
        let trend = tf
            .get_status_trend(authed(
                GetStatusTrendRequest {
                    locality: place.clone(),
                    as_of: Some(date_to_proto(date("2025-03-23"))),
                    points: 3,
                    step_days: 7,
                    indicator_codes: Vec::new(),
                    flow_from: None,
                    known_at: None,
                },
                &viewer,
            ))
            .await
            .unwrap()
            .into_inner();
        let listed: Vec<&str> = trend
            .indicators
            .iter()
            .map(|i| i.indicator_code.as_str())
            .collect();
        for code in codes {
            assert!(listed.contains(&code), "{code} in {listed:?}");
        }
        for series in &trend.indicators {
            assert_eq!(series.points.len(), 3, "{}", series.indicator_code);
            for (point, day) in series.points.iter().zip(dates) {
                assert_eq!(point.as_of, Some(date_to_proto(date(day))));
                let status = tf
                    .get_consolidated_status(authed(
                        GetConsolidatedStatusRequest {
                            locality: place.clone(),
                            as_of: Some(date_to_proto(date(day))),
                            indicator_codes: vec![series.indicator_code.clone()],
                            ..Default::default()
                        },
                        &viewer,
                    ))
                    .await
                    .unwrap()
                    .into_inner();
                let s = &status.indicators[0];
                assert_eq!(
                    (
                        point.value,
                        point.target,
                        point.percent_of_target,
                        point.percent_of_denominator
                    ),
                    (
                        s.value,
                        s.target,
                        s.percent_of_target,
                        s.percent_of_denominator
                    ),
                    "{} at {day} of {place:?}",
                    series.indicator_code
                );
            }
        }
        if place == &places[0] {
            let activated = trend
                .indicators
                .iter()
                .find(|i| i.indicator_code == "vneid.l2.activated")
                .unwrap();
            let sum = |week: usize| -> f64 {
                data.iter()
                    .filter(|c| c.reports)
                    .map(|c| c.activated[week])
                    .sum()
            };
            let values: Vec<Option<f64>> = activated.points.iter().map(|p| p.value).collect();
            assert_eq!(values, vec![None, Some(sum(0)), Some(sum(1))]);
        }
    }

    // Out-of-range counts name their field; another province's viewer is refused.
    let status = tf
        .get_status_trend(authed(
            GetStatusTrendRequest {
                locality: province(GIA_LAI),
                points: 1000,
                ..Default::default()
            },
            &viewer,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("points"), "{}", status.message());
    let status = tf
        .get_status_trend(authed(
            GetStatusTrendRequest {
                locality: province(BINH_DINH),
                ..Default::default()
            },
            &viewer,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
}
